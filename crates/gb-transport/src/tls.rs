//! [`TlsConfig`]: which certificates the HTTP client trusts, which rustls crypto provider it
//! uses, and how a failed handshake becomes a typed [`TlsFailure`].
//!
//! * Roots: the webpki (Mozilla) roots by default; plus any private CA given as PEM or DER;
//!   plus, with the `native-roots` feature, the platform's trust store. The webpki roots can be
//!   left out to trust a private CA only.
//! * Crypto provider, chosen by cargo feature and always passed explicitly (so a second provider
//!   enabled elsewhere in the build cannot make rustls panic): `aws-lc-rs` when that feature is
//!   on, else `ring` (the default), else the process-wide default provider.
//! * Anything else (client certificates, pinning, a custom verifier): hand over a whole
//!   `rustls::ClientConfig` with [`TlsConfig::with_client_config`].

use alloc::borrow::ToOwned as _;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;
use rustls::{CertificateError, ClientConfig, RootCertStore};

use crate::error::{ErrorKind, TlsFailure, TransportError};

/// What the HTTP client trusts. The default trusts the webpki (Mozilla) roots.
///
/// ```no_run
/// use gb_transport::tls::TlsConfig;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // Trust the company CA on top of the public roots; the PEM is checked here.
/// let tls = TlsConfig::new().with_root_pem(std::fs::read("/etc/company-ca.pem")?)?;
/// // An empty or malformed PEM is a typed `Config` error, never a panic.
/// assert!(TlsConfig::new().with_root_pem("").is_err());
/// # let _ = tls;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct TlsConfig {
    webpki_roots: bool,
    native_roots: bool,
    extra_roots: Vec<CertificateDer<'static>>,
    custom: Option<Arc<ClientConfig>>,
}

impl Default for TlsConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConfig")
            .field("webpki_roots", &self.webpki_roots)
            .field("native_roots", &self.native_roots)
            .field("extra_roots", &self.extra_roots.len())
            .field("custom_client_config", &self.custom.is_some())
            .finish()
    }
}

fn config_error(message: &'static str) -> TransportError {
    TransportError::new(ErrorKind::Config, message)
}

impl TlsConfig {
    /// Trusts the webpki (Mozilla) roots only.
    pub fn new() -> Self {
        Self {
            webpki_roots: true,
            native_roots: false,
            extra_roots: Vec::new(),
            custom: None,
        }
    }

    /// Also trusts every certificate in `pem` (one or more `BEGIN CERTIFICATE` blocks), e.g. a
    /// private CA for a self-hosted GrowthBook.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] if `pem` holds no certificate, a malformed block, or a certificate
    /// that cannot be a trust anchor.
    pub fn with_root_pem(mut self, pem: impl AsRef<[u8]>) -> Result<Self, TransportError> {
        let mut found = 0_usize;
        for cert in CertificateDer::pem_slice_iter(pem.as_ref()) {
            let cert = cert.map_err(|_| config_error("malformed PEM certificate"))?;
            self = self.with_root_der(cert.as_ref().to_owned())?;
            found += 1;
        }
        if found == 0 {
            return Err(config_error("PEM holds no certificate"));
        }
        Ok(self)
    }

    /// Also trusts one DER-encoded certificate.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] if it cannot be parsed as a trust anchor.
    pub fn with_root_der(mut self, der: Vec<u8>) -> Result<Self, TransportError> {
        let cert = CertificateDer::from(der);
        RootCertStore::empty()
            .add(cert.clone())
            .map_err(|e| config_error("certificate cannot be a trust anchor").with_source(e))?;
        self.extra_roots.push(cert);
        Ok(self)
    }

    /// Leaves out the webpki (Mozilla) roots: only the roots added here (and the platform's,
    /// with [`with_native_roots`](Self::with_native_roots)) are trusted.
    pub fn without_webpki_roots(mut self) -> Self {
        self.webpki_roots = false;
        self
    }

    /// Also trusts the platform's certificate store (Linux: the system bundle or
    /// `SSL_CERT_FILE` / `SSL_CERT_DIR`; macOS keychain; Windows store), loaded when the client
    /// is built. Needs the `native-roots` feature.
    #[cfg(feature = "native-roots")]
    pub fn with_native_roots(mut self) -> Self {
        self.native_roots = true;
        self
    }

    /// Uses this rustls configuration as is, for anything the options above do not cover
    /// (client certificates, pinning, a custom verifier, another crypto provider). Root options
    /// are then ignored. The client speaks HTTP/1.1: leave `alpn_protocols` empty or
    /// `["http/1.1"]`.
    pub fn with_client_config(config: Arc<ClientConfig>) -> Self {
        Self {
            custom: Some(config),
            ..Self::new()
        }
    }

    /// The certificates added with [`with_root_pem`](Self::with_root_pem) or
    /// [`with_root_der`](Self::with_root_der).
    pub fn extra_roots(&self) -> &[CertificateDer<'static>] {
        &self.extra_roots
    }

    /// Builds the rustls client configuration.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] if no crypto provider is available, the platform store cannot be
    /// read, or no root at all would be trusted.
    pub fn client_config(&self) -> Result<Arc<ClientConfig>, TransportError> {
        if let Some(custom) = &self.custom {
            return Ok(Arc::clone(custom));
        }
        let mut roots = RootCertStore::empty();
        if self.webpki_roots {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        }
        if self.native_roots {
            add_native_roots(&mut roots)?;
        }
        for cert in &self.extra_roots {
            roots
                .add(cert.clone())
                .map_err(|e| config_error("certificate cannot be a trust anchor").with_source(e))?;
        }
        if roots.is_empty() {
            return Err(config_error("no trusted root certificate configured"));
        }
        let mut config = ClientConfig::builder_with_provider(crypto_provider()?)
            .with_safe_default_protocol_versions()
            .map_err(|e| config_error("TLS setup failed").with_source(e))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = alloc::vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

#[cfg(feature = "native-roots")]
fn add_native_roots(roots: &mut RootCertStore) -> Result<(), TransportError> {
    let loaded = rustls_native_certs::load_native_certs();
    let (added, _ignored) = roots.add_parsable_certificates(loaded.certs);
    if added == 0 {
        let mut err = config_error("the platform certificate store has no usable root");
        if let Some(first) = loaded.errors.into_iter().next() {
            err = err.with_source(first);
        }
        return Err(err);
    }
    Ok(())
}

#[cfg(not(feature = "native-roots"))]
#[expect(
    clippy::unnecessary_wraps,
    reason = "same signature as the native-roots build"
)]
fn add_native_roots(_roots: &mut RootCertStore) -> Result<(), TransportError> {
    Ok(())
}

/// The rustls crypto provider the client uses: `aws-lc-rs` if that feature is on, else `ring`
/// if that feature is on (the default), else the process-wide default provider.
///
/// # Errors
/// [`ErrorKind::Config`] when neither feature is on and no process default is installed.
pub fn crypto_provider() -> Result<Arc<rustls::crypto::CryptoProvider>, TransportError> {
    #[cfg(feature = "aws-lc-rs")]
    {
        Ok(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
    }
    #[cfg(all(feature = "ring", not(feature = "aws-lc-rs")))]
    {
        Ok(Arc::new(rustls::crypto::ring::default_provider()))
    }
    #[cfg(not(any(feature = "ring", feature = "aws-lc-rs")))]
    {
        rustls::crypto::CryptoProvider::get_default()
            .cloned()
            .ok_or_else(|| {
                config_error(
                    "no rustls crypto provider: enable the `ring` or `aws-lc-rs` feature or install a process default",
                )
            })
    }
}

/// The reason for a rustls error seen during a handshake.
pub(crate) fn failure_of(err: &rustls::Error) -> TlsFailure {
    match err {
        rustls::Error::InvalidCertificate(cert) => match cert {
            CertificateError::UnknownIssuer => TlsFailure::UnknownIssuer,
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                TlsFailure::Expired
            }
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                TlsFailure::NotYetValid
            }
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                TlsFailure::WrongHostName
            }
            CertificateError::Revoked => TlsFailure::Revoked,
            _ => TlsFailure::BadCertificate,
        },
        _ => TlsFailure::Handshake,
    }
}

/// Maps an I/O error from a TLS handshake (tokio-rustls wraps the rustls error in it).
pub(crate) fn handshake_error(err: std::io::Error) -> TransportError {
    let failure = err
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        .map_or(TlsFailure::Handshake, failure_of);
    TransportError::tls(failure).with_source(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_pem_is_a_typed_error() {
        let err = TlsConfig::new().with_root_pem("").expect_err("empty");
        assert_eq!(err.kind(), ErrorKind::Config);
        let err = TlsConfig::new()
            .with_root_pem("-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n")
            .expect_err("malformed");
        assert_eq!(err.kind(), ErrorKind::Config);
        let err = TlsConfig::new()
            .with_root_der(b"not a certificate".to_vec())
            .expect_err("not DER");
        assert_eq!(err.kind(), ErrorKind::Config);
    }

    #[test]
    fn no_roots_at_all_is_a_typed_error() {
        let err = TlsConfig::new()
            .without_webpki_roots()
            .client_config()
            .expect_err("nothing trusted");
        assert_eq!(err.kind(), ErrorKind::Config);
        assert!(TlsConfig::new().client_config().is_ok());
    }

    #[cfg(feature = "native-roots")]
    #[test]
    fn the_platform_store_loads_or_is_a_typed_error() {
        // The machine's store may be empty (a minimal container): never a panic either way.
        match TlsConfig::new()
            .without_webpki_roots()
            .with_native_roots()
            .client_config()
        {
            Ok(config) => assert_eq!(config.alpn_protocols, [b"http/1.1".to_vec()]),
            Err(err) => assert_eq!(err.kind(), ErrorKind::Config),
        }
    }

    #[test]
    fn certificate_errors_are_classified() {
        let cases = [
            (CertificateError::UnknownIssuer, TlsFailure::UnknownIssuer),
            (CertificateError::Expired, TlsFailure::Expired),
            (CertificateError::NotValidYet, TlsFailure::NotYetValid),
            (CertificateError::NotValidForName, TlsFailure::WrongHostName),
            (CertificateError::Revoked, TlsFailure::Revoked),
            (CertificateError::BadSignature, TlsFailure::BadCertificate),
        ];
        for (cert, expected) in cases {
            let err = rustls::Error::InvalidCertificate(cert);
            assert_eq!(failure_of(&err), expected);
            let io = std::io::Error::new(std::io::ErrorKind::InvalidData, err);
            assert_eq!(handshake_error(io).tls_failure(), Some(expected));
        }
        let io = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
        assert_eq!(
            handshake_error(io).tls_failure(),
            Some(TlsFailure::Handshake)
        );
    }
}
