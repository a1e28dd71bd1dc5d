//! The HTTP client's connector: a byte stream to the host (TCP, or a [`Dial`] hook), through a
//! proxy's `CONNECT` tunnel when [`ProxyConfig`] routes the host there, then TLS for `https`.
//!
//! The whole connection (TCP, tunnel and TLS handshake) is bounded by the connect timeout, and
//! every failure is a typed [`TransportError`]: [`ErrorKind::Connect`], [`ErrorKind::Timeout`],
//! [`ErrorKind::Proxy`] with a [`ProxyFailure`], or [`ErrorKind::Tls`] with a
//! [`TlsFailure`](crate::TlsFailure).

use alloc::boxed::Box;
use alloc::string::String;
use alloc::sync::Arc;
use core::fmt;
use core::pin::Pin;
use core::task::{Context, Poll};
use core::time::Duration;
use std::io;

use http::Uri;
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::rt::TokioIo;
use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite};
use tower_service::Service;

use crate::BoxFuture;
use crate::error::{ErrorKind, ProxyFailure, TransportError};
use crate::proxy::{ProxyConfig, ProxyRoutes};
use crate::tls::{self, TlsConfig};
use crate::tunnel;

/// A byte stream the client can speak HTTP (or TLS) over.
pub trait IoStream: AsyncRead + AsyncWrite + Send + Unpin + 'static {}

impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> IoStream for T {}

/// A boxed [`IoStream`].
pub type BoxedIo = Box<dyn IoStream>;

/// A connector hook: opens the byte stream to `host:port` in place of a TCP connection (a Unix
/// socket, a service-mesh sidecar, custom DNS, a SOCKS client, ...).
///
/// It is called for the proxy's address when a proxy applies, else for the destination's; the
/// `CONNECT` tunnel and TLS are layered on top of what it returns. Its time counts against the
/// connect timeout; an error becomes an [`ErrorKind::Connect`] error.
pub trait Dial: Send + Sync + fmt::Debug {
    /// Opens a stream to `host` (a name or an IP, without brackets) and `port`.
    fn dial(&self, host: &str, port: u16) -> BoxFuture<'static, io::Result<BoxedIo>>;
}

/// How the client reaches servers: trust, proxy and the connector hook. The default trusts the
/// webpki roots, honours the proxy environment variables and dials TCP.
#[derive(Clone, Debug, Default)]
pub struct NetworkConfig {
    /// Which certificates are trusted, and the crypto provider.
    pub tls: TlsConfig,
    /// Which proxy, if any (default: the environment).
    pub proxy: ProxyConfig,
    /// Opens the byte stream instead of TCP (default: TCP with `TCP_NODELAY`).
    pub dialer: Option<Arc<dyn Dial>>,
}

/// The connector of [`HyperClient`](crate::HyperClient): cheap to clone.
#[derive(Clone)]
pub struct Connector {
    inner: Arc<Inner>,
}

struct Inner {
    base: Base,
    tls: Arc<ClientConfig>,
    proxy: Option<ProxyRoutes>,
    timeout: Duration,
}

impl fmt::Debug for Connector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connector")
            .field("base", &self.inner.base)
            .field("proxy", &self.inner.proxy)
            .field("timeout", &self.inner.timeout)
            .finish_non_exhaustive()
    }
}

impl Connector {
    /// Builds the connector: TLS configuration, proxy rules (reading the environment if the
    /// config defers to it), and TCP settings.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] for an unusable TLS or proxy configuration.
    pub fn new(network: &NetworkConfig, connect_timeout: Duration) -> Result<Self, TransportError> {
        let base = match &network.dialer {
            Some(dialer) => Base::Hook(Arc::clone(dialer)),
            None => {
                let mut http = HttpConnector::new();
                http.enforce_http(false);
                http.set_connect_timeout(Some(connect_timeout));
                http.set_nodelay(true);
                Base::Tcp(http)
            }
        };
        Ok(Self {
            inner: Arc::new(Inner {
                base,
                tls: network.tls.client_config()?,
                proxy: network.proxy.routes()?,
                timeout: connect_timeout,
            }),
        })
    }
}

impl Service<Uri> for Connector {
    type Response = Conn;
    type Error = TransportError;
    type Future = BoxFuture<'static, Result<Conn, TransportError>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        let inner = Arc::clone(&self.inner);
        Box::pin(async move {
            let limit = inner.timeout;
            tokio::time::timeout(limit, inner.connect(dst))
                .await
                .unwrap_or_else(|_| {
                    Err(TransportError::new(
                        ErrorKind::Timeout,
                        alloc::format!("no connection within {limit:?}"),
                    ))
                })
        })
    }
}

impl Inner {
    async fn connect(&self, dst: Uri) -> Result<Conn, TransportError> {
        let https = match dst.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            _ => {
                return Err(TransportError::new(
                    ErrorKind::Config,
                    "URL scheme must be http or https",
                ));
            }
        };
        let host = dst
            .host()
            .ok_or_else(|| TransportError::new(ErrorKind::Config, "URL has no host"))?;
        let port = dst.port_u16().unwrap_or(if https { 443 } else { 80 });
        let route = self.proxy.as_ref().and_then(|p| p.route(&dst));
        let proxied = route.is_some();
        let stream = match route {
            Some(route) => {
                let (proxy_host, proxy_port) = host_port(&route.proxy);
                tracing::debug!(%host, port, "connecting through a proxy tunnel");
                let stream =
                    self.base.open(&proxy_host, proxy_port).await.map_err(|e| {
                        TransportError::proxy(ProxyFailure::Unreachable).with_source(e)
                    })?;
                tunnel::connect(stream, host, port, route.auth.as_ref()).await?
            }
            None => self.base.open(&bare_host(host), port).await?,
        };
        let stream = if https {
            let name = ServerName::try_from(host.trim_start_matches('[').trim_end_matches(']'))
                .map_err(|_| TransportError::new(ErrorKind::Config, "invalid TLS server name"))?
                .to_owned();
            let tls = tokio_rustls::TlsConnector::from(Arc::clone(&self.tls))
                .connect(name, stream)
                .await
                .map_err(tls::handshake_error)?;
            Box::new(tls) as BoxedIo
        } else {
            stream
        };
        Ok(Conn {
            io: TokioIo::new(stream),
            proxied,
        })
    }
}

/// A URL host without IPv6 brackets.
fn bare_host(host: &str) -> String {
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned()
}

/// The host (without brackets) and port of a proxy URL (default port 80).
fn host_port(uri: &Uri) -> (String, u16) {
    (
        bare_host(uri.host().unwrap_or_default()),
        uri.port_u16().unwrap_or(80),
    )
}

/// The stream opener under the tunnel and TLS: TCP, or the [`Dial`] hook.
#[derive(Clone)]
enum Base {
    Tcp(HttpConnector),
    Hook(Arc<dyn Dial>),
}

impl fmt::Debug for Base {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Tcp(_) => f.write_str("Tcp"),
            Self::Hook(dialer) => f.debug_tuple("Hook").field(dialer).finish(),
        }
    }
}

/// Whether an I/O timeout is anywhere in `err`'s source chain.
pub(crate) fn timed_out(err: &(dyn core::error::Error + 'static)) -> bool {
    let mut source = Some(err);
    while let Some(current) = source {
        if current
            .downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::TimedOut)
        {
            return true;
        }
        source = current.source();
    }
    false
}

fn connect_error(
    what: String,
    err: impl core::error::Error + Send + Sync + 'static,
) -> TransportError {
    let kind = if timed_out(&err) {
        ErrorKind::Timeout
    } else {
        ErrorKind::Connect
    };
    TransportError::new(kind, what).with_source(err)
}

impl Base {
    /// Opens a stream to `host:port` (`host` without brackets).
    async fn open(&self, host: &str, port: u16) -> Result<BoxedIo, TransportError> {
        let what = alloc::format!("cannot connect to {host}:{port}");
        match self {
            Self::Tcp(http) => {
                let host = if host.contains(':') {
                    alloc::format!("[{host}]")
                } else {
                    host.to_owned()
                };
                let uri: Uri = alloc::format!("http://{host}:{port}/")
                    .parse()
                    .map_err(|_| TransportError::new(ErrorKind::Config, "invalid host"))?;
                let tcp = http
                    .clone()
                    .call(uri)
                    .await
                    .map_err(|e| connect_error(what, e))?;
                Ok(Box::new(tcp.into_inner()))
            }
            Self::Hook(dialer) => dialer
                .dial(host, port)
                .await
                .map_err(|e| connect_error(what, e)),
        }
    }
}

/// An open connection (plain, tunnelled, and/or TLS) as hyper's client sees it.
pub struct Conn {
    io: TokioIo<BoxedIo>,
    proxied: bool,
}

impl fmt::Debug for Conn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Conn")
            .field("proxied", &self.proxied)
            .finish_non_exhaustive()
    }
}

impl Connection for Conn {
    fn connected(&self) -> Connected {
        // Tunnelled connections speak to the origin: requests stay in origin form, so this is
        // not reported as a forwarding proxy.
        Connected::new()
    }
}

impl Read for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl Write for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }
}
