//! [`Redis`]: a connection, its circuit breaker and its timeout, the way every store here
//! talks to Redis.

use core::fmt;
use core::future::Future;
use core::time::Duration;

use redis::{RedisError, RedisResult};

use crate::breaker::{Admission, CircuitBreaker};
use crate::conn::RedisConn;

/// Why a guarded call failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum Failure {
    /// The breaker is open (Redis was unreachable recently); nothing was sent.
    Open,
    /// No answer within the timeout (the breaker is now open).
    Timeout(Duration),
    /// Redis answered with an error, or the connection failed (then the breaker is open).
    Redis(RedisError),
}

impl Failure {
    /// Whether this failure means Redis is unreachable (open breaker, timeout, connection
    /// error), as opposed to an error answer from a reachable server.
    pub fn is_outage(&self) -> bool {
        match self {
            Self::Open | Self::Timeout(_) => true,
            Self::Redis(e) => is_outage(e),
        }
    }

    /// Whether it ran out of time (the timeout, or the connection's own timeout).
    pub fn is_timeout(&self) -> bool {
        match self {
            Self::Timeout(_) => true,
            Self::Redis(e) => e.is_timeout(),
            Self::Open => false,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Open => {
                f.write_str("Redis unavailable (circuit open; failing fast until a probe succeeds)")
            }
            Self::Timeout(t) => write!(f, "Redis did not answer within {t:?}"),
            Self::Redis(_) => f.write_str("Redis command failed"),
        }
    }
}

impl core::error::Error for Failure {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Redis(e) => Some(e),
            Self::Open | Self::Timeout(_) => None,
        }
    }
}

/// Whether `e` means the server is unreachable (timeout, refused, dropped or broken
/// connection, cluster down) rather than an error answer.
pub fn is_outage(e: &RedisError) -> bool {
    e.is_timeout()
        || e.is_io_error()
        || e.is_connection_dropped()
        || e.is_connection_refusal()
        || e.is_cluster_error()
}

/// A connection with its [`CircuitBreaker`] and a per-call timeout. Cheap to clone; clones
/// share the connection and the breaker.
///
/// [`run`](Self::run) bounds each call by the timeout. A timeout or connection failure opens
/// the breaker; while open, calls return [`Failure::Open`] at once (no waiting), and one
/// background `PING` per probe interval (on every primary of a cluster) closes it once Redis
/// answers again. Needs a tokio runtime for the probe; without one the probe waits for the next
/// call made inside a runtime.
#[derive(Clone, Debug)]
pub struct Redis {
    conn: RedisConn,
    breaker: CircuitBreaker,
    timeout: Duration,
}

impl Redis {
    /// Guards `conn` with a fresh breaker ([`crate::DEFAULT_PROBE_INTERVAL`]); every call is
    /// bounded by `timeout` (at least 1 ms).
    pub fn new(conn: impl Into<RedisConn>, timeout: Duration) -> Self {
        Self {
            conn: conn.into(),
            breaker: CircuitBreaker::default(),
            timeout: timeout.max(Duration::from_millis(1)),
        }
    }

    /// Uses `breaker` (e.g. one shared with another store on the same Redis).
    #[must_use]
    pub fn with_breaker(mut self, breaker: CircuitBreaker) -> Self {
        self.breaker = breaker;
        self
    }

    /// The connection (unguarded: for commands you bound yourself).
    pub fn conn(&self) -> &RedisConn {
        &self.conn
    }

    /// The breaker.
    pub fn breaker(&self) -> &CircuitBreaker {
        &self.breaker
    }

    /// The per-call timeout.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Runs `call` on a clone of the connection, bounded by the timeout, through the breaker.
    ///
    /// # Errors
    /// [`Failure::Open`] at once while the breaker is open; [`Failure::Timeout`] or
    /// [`Failure::Redis`] otherwise.
    pub async fn run<T, F, Fut>(&self, call: F) -> Result<T, Failure>
    where
        F: FnOnce(RedisConn) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        if let Admission::Open { probe } = self.breaker.admit() {
            if probe {
                self.spawn_probe();
            }
            return Err(Failure::Open);
        }
        match tokio::time::timeout(self.timeout, call(self.conn.clone())).await {
            Ok(Ok(v)) => {
                self.breaker.record_success();
                Ok(v)
            }
            Ok(Err(e)) => {
                if is_outage(&e) {
                    self.breaker.record_outage();
                } else {
                    // The server answered: it is reachable.
                    self.breaker.record_success();
                }
                Err(Failure::Redis(e))
            }
            Err(_) => {
                self.breaker.record_outage();
                Err(Failure::Timeout(self.timeout))
            }
        }
    }

    /// Sends one `PING` (bounded by the timeout) and reports it to the breaker, on the current
    /// tokio runtime in the background.
    fn spawn_probe(&self) {
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            self.breaker.probe_finished(false);
            return;
        };
        let this = self.clone();
        handle.spawn(async move {
            let mut conn = this.conn.clone();
            let cmd = redis::cmd("PING");
            let ping = cmd.query_async::<()>(&mut conn);
            let ok = matches!(tokio::time::timeout(this.timeout, ping).await, Ok(Ok(())));
            this.breaker.probe_finished(ok);
        });
    }
}
