#![doc = include_str!("../README.md")]

extern crate alloc;

mod breaker;
mod client;
mod conn;

pub use breaker::{Admission, CircuitBreaker, DEFAULT_PROBE_INTERVAL};
pub use client::{Failure, Redis, is_outage};
pub use conn::{RedisConn, Target, connect_to};

use core::fmt;
use core::time::Duration;

pub use redis;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, RedisError};

#[cfg(feature = "test-util")]
pub mod testing;

/// Why a connection could not be set up.
#[derive(Debug)]
#[non_exhaustive]
pub enum ConnectError {
    /// The URL is not a Redis URL.
    InvalidUrl(RedisError),
    /// No connection within the timeout.
    Timeout(Duration),
    /// The server refused or failed the connection.
    Connect(RedisError),
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidUrl(_) => f.write_str("invalid Redis URL"),
            Self::Timeout(t) => write!(f, "connecting to Redis timed out after {t:?}"),
            Self::Connect(_) => f.write_str("connecting to Redis failed"),
        }
    }
}

impl core::error::Error for ConnectError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::InvalidUrl(e) | Self::Connect(e) => Some(e),
            Self::Timeout(_) => None,
        }
    }
}

impl ConnectError {
    /// Whether the attempt ran out of time (the timeout, or the connection's own timeout).
    pub fn is_timeout(&self) -> bool {
        match self {
            Self::Timeout(_) => true,
            Self::Connect(e) => e.is_timeout(),
            Self::InvalidUrl(_) => false,
        }
    }
}

/// The connection-manager settings every store here uses: connect and response timeouts of
/// `timeout`, one quick reconnect attempt (50 ms up to `timeout`). A call waits at most
/// `timeout` anyway, and the next call starts a fresh attempt.
pub fn manager_config(timeout: Duration) -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_connection_timeout(Some(timeout))
        .set_response_timeout(Some(timeout))
        .set_number_of_retries(1)
        .set_min_delay(Duration::from_millis(50))
        .set_max_delay(timeout)
}

/// Opens `url` (`redis://host:port/db`) and waits at most `timeout` for the first connection.
/// The manager multiplexes one connection (share it by cloning) and reconnects in the
/// background after a failure. Needs a tokio runtime with the time driver.
///
/// # Errors
/// [`ConnectError`] for a bad URL, a timeout or a refused connection.
pub async fn connect(url: &str, timeout: Duration) -> Result<ConnectionManager, ConnectError> {
    let client = Client::open(url).map_err(ConnectError::InvalidUrl)?;
    tokio::time::timeout(
        timeout,
        ConnectionManager::new_with_config(client, manager_config(timeout)),
    )
    .await
    .map_err(|_| ConnectError::Timeout(timeout))?
    .map_err(ConnectError::Connect)
}

/// A manager that connects on first use: never waits or fails on the server now. Must be
/// called within a tokio runtime.
///
/// # Errors
/// The `redis` crate's error if the manager cannot be created.
pub fn connect_lazy(client: Client, timeout: Duration) -> Result<ConnectionManager, RedisError> {
    ConnectionManager::new_lazy_with_config(client, manager_config(timeout))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_bad_url_is_typed_and_nothing_listening_times_out_or_fails() {
        let err = connect("http://nope", Duration::from_millis(200))
            .await
            .expect_err("not a redis URL");
        assert!(matches!(err, ConnectError::InvalidUrl(_)), "{err}");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or(1);
        let started = std::time::Instant::now();
        let err = connect(
            &format!("redis://127.0.0.1:{port}/"),
            Duration::from_millis(300),
        )
        .await
        .expect_err("nothing listens");
        assert!(
            matches!(err, ConnectError::Connect(_) | ConnectError::Timeout(_)),
            "{err}"
        );
        assert!(started.elapsed() < Duration::from_secs(3));
    }
}
