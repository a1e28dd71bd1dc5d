//! The crate's error type: one message per level, the cause kept as a typed source.

use alloc::string::String;
use alloc::sync::Arc;
use core::fmt;

use gb_transport::TransportError;

/// The underlying error of an [`Error`] (an `io::Error`, a `serde_json::Error`, …), shared so
/// that [`Error`] stays `Clone`. Reach it with [`core::error::Error::source`] and downcast.
pub type Source = Arc<dyn core::error::Error + Send + Sync + 'static>;

/// What went wrong. Messages never contain a decryption key, a full client key or plaintext.
///
/// Each level says only what failed at that level; its cause is returned by
/// [`source`](core::error::Error::source), never repeated in the message. Print a whole chain
/// by walking `source()` (as `anyhow`'s `{:#}` does).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Error {
    /// The builder's options are unusable together (e.g. remote evaluation with a decryption key).
    Config(String),
    /// The background runtime of [`build_blocking`](crate::GrowthBookBuilder::build_blocking),
    /// or the temporary one of [`UserContext::prepare_blocking`](crate::UserContext::prepare_blocking),
    /// could not start.
    Runtime(Source),
    /// The call needs a tokio runtime and none is running: call it inside one, or use the
    /// blocking variant ([`GrowthBookBuilder::build_blocking`](crate::GrowthBookBuilder::build_blocking),
    /// [`UserContext::prepare_blocking`](crate::UserContext::prepare_blocking)).
    NoRuntime,
    /// A blocking call was made on a thread that runs a tokio runtime (it would block the
    /// runtime): use the async variant there.
    InsideRuntime,
    /// Fetching, streaming, validating or decrypting a payload failed (the cause is the source).
    Transport(TransportError),
    /// A local payload could not be read or is not a JSON object with `features`; `what` says
    /// which payload, `source` (if any) why.
    Payload {
        /// Which payload, or what is wrong with it.
        what: String,
        /// The cause (e.g. an `io::Error` or a `serde_json::Error`).
        source: Option<Source>,
    },
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

    /// A payload error caused by `source`.
    pub(crate) fn payload(
        what: impl Into<String>,
        source: impl core::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self::Payload {
            what: what.into(),
            source: Some(Arc::new(source)),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Config(m) => write!(f, "invalid GrowthBook configuration: {m}"),
            Self::Runtime(_) => f.write_str("cannot start a tokio runtime"),
            Self::NoRuntime => f.write_str(
                "no tokio runtime is running: call this inside one, or use its blocking variant",
            ),
            Self::InsideRuntime => f.write_str(
                "a blocking call was made inside a tokio runtime: use the async variant",
            ),
            Self::Transport(_) => f.write_str("loading the GrowthBook features failed"),
            Self::Payload { what, .. } => write!(f, "invalid payload: {what}"),
            Self::Closed => f.write_str("the GrowthBook client is closed"),
        }
    }
}

impl core::error::Error for Error {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Transport(e) => Some(e),
            Self::Runtime(e) => Some(&**e),
            Self::Payload { source, .. } => source
                .as_deref()
                .map(|e| e as &(dyn core::error::Error + 'static)),
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
