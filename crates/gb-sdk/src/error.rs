//! The crate's error type.

use alloc::string::String;
use core::fmt;

use gb_transport::TransportError;

/// What went wrong. Messages never contain a decryption key, a full client key or plaintext.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Error {
    /// The builder's options are unusable together (e.g. remote evaluation with a decryption key).
    Config(String),
    /// The client needs a tokio runtime to start its background tasks and none is running; use
    /// [`GrowthBookBuilder::build_blocking`](crate::GrowthBookBuilder::build_blocking) instead.
    NoRuntime,
    /// Fetching, streaming, validating or decrypting a payload failed.
    Transport(TransportError),
    /// A local payload is not a JSON object.
    Payload(String),
    /// A feature cache could not be read or written.
    Cache(String),
    /// The sticky-bucket service failed.
    Sticky(String),
    /// The client is closed.
    Closed,
}

impl Error {
    /// The transport error, for [`Error::Transport`].
    pub fn transport(&self) -> Option<&TransportError> {
        match self {
            Self::Transport(e) => Some(e),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Config(m) => write!(f, "invalid GrowthBook configuration: {m}"),
            Self::NoRuntime => f.write_str(
                "no tokio runtime is running: call build() inside one, or use build_blocking()",
            ),
            Self::Transport(e) => write!(f, "{e}"),
            Self::Payload(m) => write!(f, "invalid payload: {m}"),
            Self::Cache(m) => write!(f, "feature cache: {m}"),
            Self::Sticky(m) => write!(f, "sticky-bucket service: {m}"),
            Self::Closed => f.write_str("the GrowthBook client is closed"),
        }
    }
}

impl core::error::Error for Error {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Transport(e) => Some(e),
            _ => None,
        }
    }
}

impl From<TransportError> for Error {
    fn from(e: TransportError) -> Self {
        Self::Transport(e)
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T> = core::result::Result<T, Error>;
