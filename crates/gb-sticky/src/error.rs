//! The one error type every store returns.

use alloc::borrow::Cow;
use alloc::boxed::Box;
use core::error::Error;
use core::fmt;

/// A boxed, thread-safe error from a store's backend (I/O, Redis, JSON).
pub type BoxError = Box<dyn Error + Send + Sync + 'static>;

/// What went wrong, coarse enough to decide how to react.
///
/// Whatever the kind, a failed lookup means "no sticky buckets known": the caller evaluates with
/// empty documents, i.e. plain hashing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StickyErrorKind {
    /// The backend failed: connection refused or lost, protocol or server error.
    Backend,
    /// The operation did not finish within the store's configured timeout.
    Timeout,
    /// A document is larger than the store accepts (Redis `max_doc_bytes`, a 4 KiB cookie).
    TooLarge,
    /// A document could not be serialized.
    Encode,
    /// The store's configuration is unusable (a bad URL, a cookie attribute with `;` in it).
    InvalidConfig,
    /// The backend is unreachable and the store is failing fast (the Redis store's circuit
    /// breaker is open, or this call just hit the outage). A lookup was not attempted; the
    /// documents of a save were queued and are written, in order, when the backend is back.
    Unavailable,
    /// Documents were not saved and will not be: the store's bounded queue of writes waiting
    /// for an unreachable backend was full.
    Dropped,
}

impl fmt::Display for StickyErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Backend => "backend error",
            Self::Timeout => "timed out",
            Self::TooLarge => "document too large",
            Self::Encode => "encoding error",
            Self::InvalidConfig => "invalid configuration",
            Self::Unavailable => "backend unavailable",
            Self::Dropped => "documents dropped",
        })
    }
}

/// An error from a sticky-bucket store: a [`StickyErrorKind`], a message, and the backend's own
/// error as [`Error::source`] when there is one.
#[derive(Debug)]
pub struct StickyError {
    kind: StickyErrorKind,
    message: Cow<'static, str>,
    source: Option<BoxError>,
}

impl StickyError {
    /// An error of `kind` with a message and no source.
    pub fn new(kind: StickyErrorKind, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// An error of `kind` wrapping the backend's error.
    pub fn with_source(
        kind: StickyErrorKind,
        message: impl Into<Cow<'static, str>>,
        source: impl Into<BoxError>,
    ) -> Self {
        Self {
            kind,
            message: message.into(),
            source: Some(source.into()),
        }
    }

    /// A [`StickyErrorKind::Backend`] error wrapping `source`; for your own adapters.
    pub fn backend(source: impl Into<BoxError>) -> Self {
        Self::with_source(
            StickyErrorKind::Backend,
            "sticky-bucket store failed",
            source,
        )
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> StickyErrorKind {
        self.kind
    }

    /// Whether the operation timed out.
    pub fn is_timeout(&self) -> bool {
        self.kind == StickyErrorKind::Timeout
    }

    /// The human-readable message (without the source).
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for StickyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sticky bucketing: {}: {}", self.kind, self.message)
    }
}

impl Error for StickyError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_source() {
        let inner = StickyError::new(StickyErrorKind::Encode, "inner");
        let e = StickyError::with_source(StickyErrorKind::Backend, "outer", inner);
        assert_eq!(e.kind(), StickyErrorKind::Backend);
        assert!(!e.is_timeout());
        assert_eq!(e.message(), "outer");
        assert_eq!(e.to_string(), "sticky bucketing: backend error: outer");
        let src = e.source().map(ToString::to_string);
        assert_eq!(
            src.as_deref(),
            Some("sticky bucketing: encoding error: inner")
        );
    }
}
