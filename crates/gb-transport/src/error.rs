//! Error types: [`TransportError`] (opaque, hyper-style) and [`DecryptError`].
//!
//! No error message, `Display` or `Debug` output ever contains a decryption key, a full client key
//! or decrypted plaintext.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::sync::Arc;
use core::fmt;
use core::time::Duration;

/// Why decrypting a payload (or one of its sections) failed.
///
/// The messages name the failing step only: never the key, never the plaintext.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecryptError {
    /// The key is not base64, or does not decode to 16 bytes (AES-128).
    InvalidKey,
    /// The input is not `base64(iv).base64(ciphertext)` (no `.` delimiter, or more than one).
    InvalidFormat,
    /// The IV is not base64 or does not decode to 16 bytes.
    InvalidIv,
    /// The ciphertext is not base64, is empty, or is not a whole number of 16-byte blocks.
    InvalidCiphertext,
    /// The PKCS#7 padding is wrong after decryption: almost always a wrong key.
    BadPadding,
    /// The plaintext is not valid UTF-8 (a wrong key can also cause this).
    InvalidUtf8,
    /// A decrypted section is not valid JSON of the expected type.
    InvalidJson,
    /// The payload has encrypted sections but no decryption key was configured.
    MissingKey,
    /// A payload section (`encryptedFeatures`, ...) is not a string or failed to decrypt.
    Section {
        /// The JSON key of the failing section, e.g. `"encryptedFeatures"`.
        section: &'static str,
        /// The underlying failure.
        source: Box<DecryptError>,
    },
}

impl fmt::Display for DecryptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidKey => f.write_str("decryption key is not 16 bytes of base64"),
            Self::InvalidFormat => {
                f.write_str("encrypted value is not `base64(iv).base64(ciphertext)`")
            }
            Self::InvalidIv => f.write_str("IV is not 16 bytes of base64"),
            Self::InvalidCiphertext => {
                f.write_str("ciphertext is not base64 or not a whole number of AES blocks")
            }
            Self::BadPadding => {
                f.write_str("bad padding after decryption (wrong key or corrupt data)")
            }
            Self::InvalidUtf8 => {
                f.write_str("decrypted bytes are not UTF-8 (wrong key or corrupt data)")
            }
            Self::InvalidJson => {
                f.write_str("decrypted section is not valid JSON of the expected type")
            }
            Self::MissingKey => {
                f.write_str("payload is encrypted but no decryption key is configured")
            }
            Self::Section { section, .. } => write!(f, "failed to decrypt `{section}`"),
        }
    }
}

impl core::error::Error for DecryptError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Section { source, .. } => Some(&**source),
            _ => None,
        }
    }
}

/// The category of a [`TransportError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The configuration is unusable (bad host URL, bad header name or value, TLS setup).
    Config,
    /// The TCP or TLS connection could not be established.
    Connect,
    /// The connect timeout, the request timeout or the stream idle timeout expired.
    Timeout,
    /// The server answered with a non-success status ([`TransportError::status`] has it).
    Status,
    /// The connection broke while reading the body or the stream.
    Body,
    /// The body (or a decompressed body, or one SSE line or event) exceeded its size cap.
    TooLarge,
    /// The body is not JSON (HTML, truncated JSON, unsupported content encoding, ...).
    NotJson,
    /// The body is JSON but not a usable payload (`{}`, no `features` object, not an object).
    InvalidPayload,
    /// The payload could not be decrypted ([`DecryptError`] is the source).
    Decrypt,
    /// The event stream broke its protocol (a bad `features` event, for instance).
    Protocol,
    /// The TLS handshake failed ([`TransportError::tls_failure`] says why).
    Tls,
    /// The proxy could not be reached or refused the tunnel
    /// ([`TransportError::proxy_failure`] says why).
    Proxy,
}

impl ErrorKind {
    fn describe(self) -> &'static str {
        match self {
            Self::Config => "invalid configuration",
            Self::Connect => "connection failed",
            Self::Timeout => "timed out",
            Self::Status => "unexpected HTTP status",
            Self::Body => "connection broke while reading the body",
            Self::TooLarge => "body exceeds the size cap",
            Self::NotJson => "body is not JSON",
            Self::InvalidPayload => "body is not a valid GrowthBook payload",
            Self::Decrypt => "payload decryption failed",
            Self::Protocol => "event stream protocol error",
            Self::Tls => "TLS handshake failed",
            Self::Proxy => "proxy failed",
        }
    }
}

/// Why a TLS handshake failed: the detail of an [`ErrorKind::Tls`] error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TlsFailure {
    /// The server's certificate does not chain to a trusted root (a private CA not added with
    /// `TlsConfig::with_root_pem`, or a self-signed certificate).
    UnknownIssuer,
    /// The server's certificate (or one in its chain) has expired.
    Expired,
    /// The server's certificate is not valid yet (check the clock).
    NotYetValid,
    /// The server's certificate is not valid for the host name in the URL.
    WrongHostName,
    /// The server's certificate has been revoked.
    Revoked,
    /// The server's certificate was rejected for another reason (bad signature, bad encoding,
    /// wrong purpose, ...).
    BadCertificate,
    /// The handshake failed without a certificate verdict (no common protocol version or cipher
    /// suite, an alert from the server, the connection closed mid-handshake, ...).
    Handshake,
}

impl fmt::Display for TlsFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::UnknownIssuer => "certificate is not signed by a trusted CA",
            Self::Expired => "certificate has expired",
            Self::NotYetValid => "certificate is not valid yet",
            Self::WrongHostName => "certificate is not valid for this host name",
            Self::Revoked => "certificate has been revoked",
            Self::BadCertificate => "certificate was rejected",
            Self::Handshake => "handshake failed",
        })
    }
}

/// Why a proxy failed: the detail of an [`ErrorKind::Proxy`] error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProxyFailure {
    /// No TCP connection to the proxy itself.
    Unreachable,
    /// The proxy answered `407 Proxy Authentication Required` (missing or wrong credentials).
    AuthRequired,
    /// The proxy answered the `CONNECT` with another non-200 status, or closed the connection.
    Refused,
    /// The proxy's answer was not HTTP, or its headers were too long.
    BadResponse,
}

impl fmt::Display for ProxyFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Unreachable => "cannot connect to the proxy",
            Self::AuthRequired => "proxy requires authentication (407)",
            Self::Refused => "proxy refused the tunnel",
            Self::BadResponse => "proxy sent an invalid response",
        })
    }
}

/// The typed detail of a network failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Detail {
    Tls(TlsFailure),
    Proxy(ProxyFailure),
}

type Source = Arc<dyn core::error::Error + Send + Sync + 'static>;

/// An error from fetching, streaming or validating a payload.
///
/// Opaque on purpose: inspect it with [`kind`](Self::kind), [`is_timeout`](Self::is_timeout),
/// [`status`](Self::status) and [`retry_after`](Self::retry_after). It is cheap to clone.
#[derive(Clone)]
pub struct TransportError {
    kind: ErrorKind,
    status: Option<u16>,
    retry_after: Option<Duration>,
    message: Option<String>,
    detail: Option<Detail>,
    source: Option<Source>,
}

impl TransportError {
    /// A new error of `kind` with a short context message (must not contain secrets).
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            status: None,
            retry_after: None,
            message: Some(message.into()),
            detail: None,
            source: None,
        }
    }

    /// A new error of `kind` with no message.
    pub fn from_kind(kind: ErrorKind) -> Self {
        Self {
            kind,
            status: None,
            retry_after: None,
            message: None,
            detail: None,
            source: None,
        }
    }

    /// An [`ErrorKind::Status`] error for the HTTP `status` code.
    pub fn status_code(status: u16) -> Self {
        Self {
            status: Some(status),
            ..Self::from_kind(ErrorKind::Status)
        }
    }

    /// An [`ErrorKind::Tls`] error with its reason.
    pub fn tls(failure: TlsFailure) -> Self {
        Self {
            detail: Some(Detail::Tls(failure)),
            ..Self::from_kind(ErrorKind::Tls)
        }
    }

    /// An [`ErrorKind::Proxy`] error with its reason.
    pub fn proxy(failure: ProxyFailure) -> Self {
        Self {
            detail: Some(Detail::Proxy(failure)),
            ..Self::from_kind(ErrorKind::Proxy)
        }
    }

    /// Attaches an underlying cause (must not carry secrets in its `Display`).
    #[must_use]
    pub fn with_source(mut self, source: impl core::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Arc::new(source));
        self
    }

    /// Sets the HTTP status code.
    #[must_use]
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    /// Attaches a server-requested delay (`Retry-After`).
    #[must_use]
    pub fn with_retry_after(mut self, delay: Duration) -> Self {
        self.retry_after = Some(delay);
        self
    }

    /// The category of this error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// Whether a connect, request or idle timeout expired.
    pub fn is_timeout(&self) -> bool {
        self.kind == ErrorKind::Timeout
    }

    /// Whether the server rejected the credentials (401 or 403).
    pub fn is_auth(&self) -> bool {
        matches!(self.status, Some(401 | 403))
    }

    /// The HTTP status code, for [`ErrorKind::Status`] errors.
    pub fn status(&self) -> Option<u16> {
        self.status
    }

    /// The delay the server asked for with `Retry-After` (seconds form only), if any.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }

    /// Why the TLS handshake failed, for [`ErrorKind::Tls`] errors.
    pub fn tls_failure(&self) -> Option<TlsFailure> {
        match self.detail {
            Some(Detail::Tls(failure)) => Some(failure),
            _ => None,
        }
    }

    /// Why the proxy failed, for [`ErrorKind::Proxy`] errors.
    pub fn proxy_failure(&self) -> Option<ProxyFailure> {
        match self.detail {
            Some(Detail::Proxy(failure)) => Some(failure),
            _ => None,
        }
    }

    /// The decryption failure, for [`ErrorKind::Decrypt`] errors.
    pub fn decrypt_error(&self) -> Option<&DecryptError> {
        self.source
            .as_deref()
            .and_then(|s| s.downcast_ref::<DecryptError>())
    }
}

impl fmt::Debug for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("TransportError");
        d.field("kind", &self.kind);
        if let Some(status) = self.status {
            d.field("status", &status);
        }
        if let Some(delay) = self.retry_after {
            d.field("retry_after", &delay);
        }
        if let Some(detail) = &self.detail {
            d.field("detail", detail);
        }
        if let Some(message) = &self.message {
            d.field("message", message);
        }
        if let Some(source) = &self.source {
            d.field("source", &format_args!("{source}"));
        }
        d.finish()
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind.describe())?;
        if let Some(status) = self.status {
            write!(f, " {status}")?;
        }
        match self.detail {
            Some(Detail::Tls(failure)) => write!(f, ": {failure}")?,
            Some(Detail::Proxy(failure)) => write!(f, ": {failure}")?,
            None => {}
        }
        if let Some(message) = &self.message {
            write!(f, ": {message}")?;
        }
        // The cause is `source()`, not repeated here: print the chain to see it.
        Ok(())
    }
}

impl core::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|s| s as &(dyn core::error::Error + 'static))
    }
}

impl From<DecryptError> for TransportError {
    fn from(err: DecryptError) -> Self {
        Self::from_kind(ErrorKind::Decrypt).with_source(err)
    }
}
