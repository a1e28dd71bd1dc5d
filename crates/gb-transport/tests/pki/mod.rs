//! Test certificates made with rcgen (a CA, leaves that are good, expired, for the wrong name or
//! from another CA) and an HTTPS server on 127.0.0.1 whose certificate can be swapped.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use alloc::sync::Arc;
use core::net::SocketAddr;
use core::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, date_time_ymd};
use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::Value;
use tokio::net::TcpListener;

/// A private certificate authority.
pub struct Ca {
    pub pem: String,
    der: CertificateDer<'static>,
    issuer: Issuer<'static, KeyPair>,
}

/// A server certificate chain and its key.
#[derive(Clone)]
pub struct Leaf {
    chain: Vec<CertificateDer<'static>>,
    key: Vec<u8>,
}

/// How a leaf certificate is made.
#[derive(Clone, Copy)]
pub enum Kind {
    /// Valid now, for 127.0.0.1 and `gb.test`.
    Good,
    /// Valid for 127.0.0.1 and `gb.test`, but only in 2000.
    Expired,
    /// Valid now, but only for `other.example`.
    WrongHost,
}

impl Ca {
    pub fn new(name: &str) -> Self {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let cert = params.self_signed(&key).unwrap();
        Self {
            pem: cert.pem(),
            der: cert.der().clone(),
            issuer: Issuer::new(params, key),
        }
    }

    pub fn leaf(&self, kind: Kind) -> Leaf {
        let names: Vec<String> = match kind {
            Kind::Good | Kind::Expired => vec!["127.0.0.1".into(), "gb.test".into()],
            Kind::WrongHost => vec!["other.example".into()],
        };
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(names).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "gb test server");
        if let Kind::Expired = kind {
            params.not_before = date_time_ymd(2000, 1, 1);
            params.not_after = date_time_ymd(2000, 12, 31);
        }
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        Leaf {
            chain: vec![cert.der().clone(), self.der.clone()],
            key: key.serialize_der(),
        }
    }
}

fn server_config(leaf: &Leaf) -> Arc<ServerConfig> {
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf.key.clone()));
    let config =
        ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(leaf.chain.clone(), key)
            .unwrap();
    Arc::new(config)
}

/// An HTTPS server on 127.0.0.1 that answers every request with `body` and closes the
/// connection (so every request makes a new TLS handshake).
pub struct TlsServer {
    pub addr: SocketAddr,
    /// Requests served (after a successful handshake).
    pub served: Arc<AtomicUsize>,
    /// Handshakes that failed on the server side.
    pub failed_handshakes: Arc<AtomicUsize>,
    config: Arc<Mutex<Arc<ServerConfig>>>,
    body: Arc<Mutex<Value>>,
}

impl TlsServer {
    pub async fn start(leaf: &Leaf, body: Value) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = Self {
            addr,
            served: Arc::default(),
            failed_handshakes: Arc::default(),
            config: Arc::new(Mutex::new(server_config(leaf))),
            body: Arc::new(Mutex::new(body)),
        };
        let (config, body) = (Arc::clone(&server.config), Arc::clone(&server.body));
        let (served, failed) = (
            Arc::clone(&server.served),
            Arc::clone(&server.failed_handshakes),
        );
        tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                let acceptor = tokio_rustls::TlsAcceptor::from(Arc::clone(&config.lock().unwrap()));
                let (body, served, failed) =
                    (Arc::clone(&body), Arc::clone(&served), Arc::clone(&failed));
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        failed.fetch_add(1, Ordering::SeqCst);
                        return;
                    };
                    let service = service_fn(move |_req: Request<hyper::body::Incoming>| {
                        served.fetch_add(1, Ordering::SeqCst);
                        let bytes = serde_json::to_vec(&*body.lock().unwrap()).unwrap();
                        async move {
                            Ok::<_, core::convert::Infallible>(
                                Response::builder()
                                    .header("content-type", "application/json")
                                    .body(Full::new(Bytes::from(bytes)))
                                    .unwrap(),
                            )
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .keep_alive(false)
                        .serve_connection(TokioIo::new(tls), service)
                        .await;
                });
            }
        });
        server
    }

    /// `https://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// Serves `leaf` from the next connection on.
    pub fn set_leaf(&self, leaf: &Leaf) {
        *self.config.lock().unwrap() = server_config(leaf);
    }

    /// Serves `body` from the next request on.
    pub fn set_body(&self, body: Value) {
        *self.body.lock().unwrap() = body;
    }

    pub fn served(&self) -> usize {
        self.served.load(Ordering::SeqCst)
    }
}
