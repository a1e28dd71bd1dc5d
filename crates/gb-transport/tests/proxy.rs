//! Proxies: a CONNECT proxy written here on 127.0.0.1 sees the tunnel (https end to end with a
//! private CA, and plain http), `NO_PROXY` bypasses it, a refusing or unreachable proxy is a
//! typed error, and basic-auth credentials reach it. The environment is injected with
//! `ProxyConfig::from_env_with`; the process environment is never read or changed.
#![allow(clippy::unwrap_used)]

extern crate alloc;

mod pki;

use alloc::sync::Arc;
use core::time::Duration;
use std::io;
use std::sync::Mutex;

use gb_transport::connect::BoxedIo;
use gb_transport::{
    BoxFuture, Dial, ErrorKind, FeatureSource, HttpConfig, HyperTransport, ProxyConfig,
    ProxyFailure, TlsConfig, TransportError,
};
use pki::{Ca, Kind, TlsServer};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

fn payload() -> Value {
    json!({"features": {"v": {"defaultValue": 1}}})
}

async fn bounded<T>(secs: u64, f: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(secs), f)
        .await
        .expect("test exceeded its time bound")
}

/// What the test proxy does with a `CONNECT`.
#[derive(Clone)]
enum Policy {
    /// Opens the tunnel (`gb.test` means 127.0.0.1).
    Allow,
    /// Answers with this status and closes.
    Refuse(u16),
    /// Opens the tunnel only with this `Proxy-Authorization`, else 407.
    RequireAuth(&'static str),
    /// Reads the request and never answers.
    Silent,
}

/// One `CONNECT` the proxy received.
#[derive(Debug, Clone)]
struct Seen {
    target: String,
    auth: Option<String>,
}

struct Proxy {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Proxy {
    async fn start(policy: Policy) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let log = Arc::clone(&seen);
        tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    return;
                };
                tokio::spawn(tunnel(client, policy.clone(), Arc::clone(&log)));
            }
        });
        Self { url, seen }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

/// Reads one CONNECT request head (at most 8 KiB) and applies `policy`.
async fn tunnel(mut client: TcpStream, policy: Policy, log: Arc<Mutex<Vec<Seen>>>) {
    let mut head = Vec::new();
    let mut buf = [0_u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 8192 {
        match client.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let mut lines = head.split("\r\n");
    let request = lines.next().unwrap_or_default();
    let Some(target) = request
        .strip_prefix("CONNECT ")
        .and_then(|r| r.strip_suffix(" HTTP/1.1"))
    else {
        let _ = client.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n").await;
        return;
    };
    let auth = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(name, _)| name.eq_ignore_ascii_case("proxy-authorization"))
        .map(|(_, value)| value.trim().to_owned());
    log.lock().unwrap().push(Seen {
        target: target.to_owned(),
        auth: auth.clone(),
    });
    match policy {
        Policy::Refuse(code) => {
            let reply = format!("HTTP/1.1 {code} No\r\ncontent-length: 0\r\n\r\n");
            let _ = client.write_all(reply.as_bytes()).await;
            return;
        }
        Policy::RequireAuth(expected) if auth.as_deref() != Some(expected) => {
            let _ = client
                .write_all(b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n")
                .await;
            return;
        }
        Policy::Silent => {
            // Hold the connection open (bounded: the test's own time bound ends it).
            tokio::time::sleep(Duration::from_secs(30)).await;
            return;
        }
        Policy::Allow | Policy::RequireAuth(_) => {}
    }
    let target = target.replace("gb.test:", "127.0.0.1:");
    let Ok(mut upstream) = TcpStream::connect(target).await else {
        let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n").await;
        return;
    };
    if client
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .await
        .is_ok()
    {
        let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
    }
}

/// A dialer hook that resolves `gb.test` to 127.0.0.1 and logs every dial.
#[derive(Debug, Default)]
struct TestDialer {
    dialed: Mutex<Vec<String>>,
}

impl Dial for TestDialer {
    fn dial(&self, host: &str, port: u16) -> BoxFuture<'static, io::Result<BoxedIo>> {
        self.dialed.lock().unwrap().push(format!("{host}:{port}"));
        let host = if host == "gb.test" { "127.0.0.1" } else { host }.to_owned();
        Box::pin(async move {
            let tcp = TcpStream::connect((host.as_str(), port)).await?;
            Ok(Box::new(tcp) as BoxedIo)
        })
    }
}

fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
    move |name| {
        vars.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    }
}

fn source(
    url: &str,
    proxy: ProxyConfig,
    tls: TlsConfig,
    dialer: Option<Arc<TestDialer>>,
) -> FeatureSource {
    let mut config = HttpConfig::new("sdk-proxy-1").api_host(url);
    config.connect_timeout = Duration::from_secs(2);
    config.request_timeout = Duration::from_secs(3);
    config.network.proxy = proxy;
    config.network.tls = tls;
    config.network.dialer = dialer.map(|d| d as Arc<dyn Dial>);
    FeatureSource::new(Arc::new(HyperTransport::new(config).unwrap()))
}

async fn https_server(ca: &Ca) -> TlsServer {
    TlsServer::start(&ca.leaf(Kind::Good), payload()).await
}

fn trusting(ca: &Ca) -> TlsConfig {
    TlsConfig::new().with_root_pem(&ca.pem).unwrap()
}

async fn fetch_error(source: FeatureSource) -> TransportError {
    match source.fetch().await {
        Ok(fetched) => panic!("expected a proxy error, got {fetched:?}"),
        Err(err) => err,
    }
}

#[tokio::test]
async fn a_connect_proxy_sees_the_tunnel_and_tls_runs_through_it() {
    bounded(20, async {
        let ca = Ca::new("CA");
        let server = https_server(&ca).await;
        let proxy = Proxy::start(Policy::Allow).await;
        // `gb.test` only resolves at the proxy: the request cannot have gone around it.
        let url = format!("https://gb.test:{}", server.addr.port());
        let from_env = ProxyConfig::from_env_with(env(&[("https_proxy", &proxy.url)]));
        for config in [ProxyConfig::url(&proxy.url), from_env] {
            let fetched = source(&url, config, trusting(&ca), None)
                .fetch()
                .await
                .unwrap();
            assert_eq!(fetched.payload.value()["features"]["v"]["defaultValue"], 1);
        }
        let seen = proxy.seen();
        assert_eq!(seen.len(), 2, "{seen:?}");
        assert!(
            seen.iter()
                .all(|s| s.target == format!("gb.test:{}", server.addr.port()))
        );
        assert!(seen.iter().all(|s| s.auth.is_none()));
        assert_eq!(server.served(), 2);
    })
    .await;
}

#[tokio::test]
async fn plain_http_goes_through_the_tunnel_too() {
    bounded(20, async {
        let origin = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = origin.local_addr().unwrap().port();
        tokio::spawn(async move {
            let Ok((mut conn, _)) = origin.accept().await else {
                return;
            };
            let mut buf = vec![0_u8; 4096];
            let n = conn.read(&mut buf).await.unwrap_or(0);
            // Through a tunnel the request stays in origin form.
            assert!(String::from_utf8_lossy(&buf[..n]).starts_with("GET /api/features/"));
            let body = payload().to_string();
            let reply = format!(
                "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = conn.write_all(reply.as_bytes()).await;
        });
        let proxy = Proxy::start(Policy::Allow).await;
        let url = format!("http://gb.test:{port}");
        let fetched = source(&url, ProxyConfig::url(&proxy.url), TlsConfig::new(), None)
            .fetch()
            .await
            .unwrap();
        assert_eq!(fetched.payload.value()["features"]["v"]["defaultValue"], 1);
        assert_eq!(proxy.seen().len(), 1);
    })
    .await;
}

#[tokio::test]
async fn no_proxy_bypasses_the_proxy() {
    bounded(20, async {
        let ca = Ca::new("CA");
        let server = https_server(&ca).await;
        let proxy = Proxy::start(Policy::Allow).await;
        let url = format!("https://gb.test:{}", server.addr.port());
        // From the (injected) environment: NO_PROXY names the host; the dialer hook resolves it.
        let config = ProxyConfig::from_env_with(env(&[
            ("HTTPS_PROXY", &proxy.url),
            ("NO_PROXY", "example.com, .test"),
        ]));
        let dialer = Arc::new(TestDialer::default());
        source(&url, config, trusting(&ca), Some(Arc::clone(&dialer)))
            .fetch()
            .await
            .unwrap();
        assert_eq!(
            *dialer.dialed.lock().unwrap(),
            [format!("gb.test:{}", server.addr.port())]
        );
        // Explicitly configured, with an IP in the list.
        let config = ProxyConfig::url(&proxy.url).no_proxy("10.0.0.0/8, 127.0.0.1");
        source(&server.url(), config, trusting(&ca), None)
            .fetch()
            .await
            .unwrap();
        assert!(proxy.seen().is_empty(), "the proxy saw {:?}", proxy.seen());
        assert_eq!(server.served(), 2);

        // Without NO_PROXY the same dialer is asked for the proxy, not the host.
        let config = ProxyConfig::from_env_with(env(&[("HTTPS_PROXY", &proxy.url)]));
        let dialer = Arc::new(TestDialer::default());
        source(&url, config, trusting(&ca), Some(Arc::clone(&dialer)))
            .fetch()
            .await
            .unwrap();
        assert_eq!(
            *dialer.dialed.lock().unwrap(),
            [proxy.url.trim_start_matches("http://").to_owned()]
        );
        assert_eq!(proxy.seen().len(), 1);
    })
    .await;
}

#[tokio::test]
async fn a_refusing_or_unreachable_proxy_is_a_clear_error() {
    bounded(20, async {
        let ca = Ca::new("CA");
        let server = https_server(&ca).await;
        let url = format!("https://gb.test:{}", server.addr.port());
        for code in [403_u16, 502] {
            let proxy = Proxy::start(Policy::Refuse(code)).await;
            let err = fetch_error(source(
                &url,
                ProxyConfig::url(&proxy.url),
                trusting(&ca),
                None,
            ))
            .await;
            assert_eq!(err.kind(), ErrorKind::Proxy, "{err}");
            assert_eq!(err.proxy_failure(), Some(ProxyFailure::Refused));
            assert_eq!(err.status(), Some(code));
            assert!(
                err.to_string().contains("proxy refused the tunnel"),
                "{err}"
            );
        }
        // Nothing listens on the proxy's port any more.
        let gone = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let gone_url = format!("http://{}", gone.local_addr().unwrap());
        drop(gone);
        let err = fetch_error(source(
            &url,
            ProxyConfig::url(&gone_url),
            trusting(&ca),
            None,
        ))
        .await;
        assert_eq!(
            err.proxy_failure(),
            Some(ProxyFailure::Unreachable),
            "{err}"
        );
        assert!(
            err.to_string().contains("cannot connect to the proxy"),
            "{err}"
        );
        assert_eq!(server.served(), 0);
    })
    .await;
}

#[tokio::test]
async fn basic_auth_reaches_the_proxy() {
    bounded(20, async {
        let ca = Ca::new("CA");
        let server = https_server(&ca).await;
        let url = format!("https://gb.test:{}", server.addr.port());
        // base64("svc:open sesame")
        let expected = "Basic c3ZjOm9wZW4gc2VzYW1l";
        let proxy = Proxy::start(Policy::RequireAuth(expected)).await;

        let err = fetch_error(source(
            &url,
            ProxyConfig::url(&proxy.url),
            trusting(&ca),
            None,
        ))
        .await;
        assert_eq!(
            err.proxy_failure(),
            Some(ProxyFailure::AuthRequired),
            "{err}"
        );
        assert!(err.to_string().contains("407"), "{err}");

        let config = ProxyConfig::url(&proxy.url).basic_auth("svc", "open sesame");
        source(&url, config, trusting(&ca), None)
            .fetch()
            .await
            .unwrap();
        let in_url = proxy.url.replace("http://", "http://svc:open%20sesame@");
        let config = ProxyConfig::from_env_with(env(&[("ALL_PROXY", &in_url)]));
        source(&url, config, trusting(&ca), None)
            .fetch()
            .await
            .unwrap();

        let seen = proxy.seen();
        assert_eq!(seen.len(), 3);
        assert_eq!(seen[0].auth, None);
        assert_eq!(seen[1].auth.as_deref(), Some(expected));
        assert_eq!(seen[2].auth.as_deref(), Some(expected));
        assert_eq!(server.served(), 2);
    })
    .await;
}

#[tokio::test]
async fn a_silent_proxy_times_out_within_the_connect_timeout() {
    bounded(20, async {
        let proxy = Proxy::start(Policy::Silent).await;
        let mut config = HttpConfig::new("sdk-proxy-1").api_host("https://gb.test:443");
        config.connect_timeout = Duration::from_millis(300);
        config.request_timeout = Duration::from_secs(10);
        config.network.proxy = ProxyConfig::url(&proxy.url);
        let source = FeatureSource::new(Arc::new(HyperTransport::new(config).unwrap()));
        let started = tokio::time::Instant::now();
        let err = fetch_error(source).await;
        let elapsed = started.elapsed();
        assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
        assert!(elapsed < Duration::from_millis(1500), "took {elapsed:?}");
        assert_eq!(proxy.seen().len(), 1);
    })
    .await;
}
