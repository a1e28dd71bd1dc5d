//! TLS faults on 127.0.0.1 with certificates made in the test: an untrusted CA, an expired
//! certificate and a wrong host name each fail with a typed error, and a client that already
//! has a good payload keeps it; a private CA given as PEM succeeds.
#![allow(clippy::unwrap_used)]

extern crate alloc;

mod pki;

use alloc::sync::Arc;
use core::time::Duration;

use gb_transport::{
    BackoffConfig, ErrorKind, FeatureSource, HttpConfig, HyperTransport, ProxyConfig, SseMode,
    StreamConfig, TlsConfig, TlsFailure, TransportError,
};
use pki::{Ca, Kind, TlsServer};
use serde_json::{Value, json};

const MS: fn(u64) -> Duration = Duration::from_millis;

fn payload(version: u64) -> Value {
    json!({"features": {"v": {"defaultValue": version}}, "dateUpdated": format!("2026-01-01T00:00:{version:02}Z")})
}

fn version_of(value: &Value) -> Option<u64> {
    value["features"]["v"]["defaultValue"].as_u64()
}

async fn bounded<T>(secs: u64, f: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(secs), f)
        .await
        .expect("test exceeded its time bound")
}

fn source(url: &str, tls: TlsConfig) -> FeatureSource {
    let mut config = HttpConfig::new("sdk-tls-1").api_host(url);
    config.connect_timeout = MS(2000);
    config.request_timeout = MS(3000);
    config.network.tls = tls;
    config.network.proxy = ProxyConfig::none();
    FeatureSource::new(Arc::new(HyperTransport::new(config).unwrap()))
}

fn trusting(ca: &Ca) -> TlsConfig {
    TlsConfig::new().with_root_pem(&ca.pem).unwrap()
}

async fn fetch_error(server: &TlsServer, tls: TlsConfig) -> TransportError {
    match source(&server.url(), tls).fetch().await {
        Ok(fetched) => panic!("a bad certificate yielded a payload: {fetched:?}"),
        Err(err) => err,
    }
}

fn assert_tls(err: &TransportError, expected: TlsFailure, words: &str) {
    assert_eq!(err.kind(), ErrorKind::Tls, "{err}");
    assert_eq!(err.tls_failure(), Some(expected), "{err}");
    assert!(err.to_string().contains(words), "unclear message: {err}");
    assert!(
        !err.to_string().contains("sdk-tls-1"),
        "client key in: {err}"
    );
}

#[tokio::test]
async fn a_private_ca_given_as_pem_succeeds() {
    bounded(20, async {
        let ca = Ca::new("growthbook-rs private CA");
        let server = TlsServer::start(&ca.leaf(Kind::Good), payload(1)).await;
        let fetched = source(&server.url(), trusting(&ca)).fetch().await.unwrap();
        assert_eq!(version_of(fetched.payload.value()), Some(1));
        // Only the private CA, without the public roots, works too.
        let only_ca = trusting(&ca).without_webpki_roots();
        assert!(source(&server.url(), only_ca).fetch().await.is_ok());
        // The public roots alone do not trust it.
        let err = fetch_error(&server, TlsConfig::new()).await;
        assert_tls(
            &err,
            TlsFailure::UnknownIssuer,
            "not signed by a trusted CA",
        );
        assert_eq!(server.served(), 2);
    })
    .await;
}

/// A server with a certificate of `kind` from `issuer`; a client trusting `trusted`.
async fn assert_fault(issuer: &Ca, kind: Kind, trusted: &Ca, expected: TlsFailure, words: &str) {
    let server = TlsServer::start(&issuer.leaf(kind), payload(1)).await;
    let err = fetch_error(&server, trusting(trusted)).await;
    assert_tls(&err, expected, words);
    assert_eq!(
        server.served(),
        0,
        "no request may reach a server that failed TLS"
    );
}

#[tokio::test]
async fn an_untrusted_ca_is_a_typed_error() {
    bounded(20, async {
        let (trusted, rogue) = (Ca::new("trusted CA"), Ca::new("rogue CA"));
        let words = "not signed by a trusted CA";
        assert_fault(
            &rogue,
            Kind::Good,
            &trusted,
            TlsFailure::UnknownIssuer,
            words,
        )
        .await;
    })
    .await;
}

#[tokio::test]
async fn an_expired_certificate_is_a_typed_error() {
    bounded(20, async {
        let ca = Ca::new("CA");
        assert_fault(&ca, Kind::Expired, &ca, TlsFailure::Expired, "expired").await;
    })
    .await;
}

#[tokio::test]
async fn a_wrong_host_name_is_a_typed_error() {
    bounded(20, async {
        let ca = Ca::new("CA");
        let words = "not valid for this host name";
        assert_fault(&ca, Kind::WrongHost, &ca, TlsFailure::WrongHostName, words).await;
    })
    .await;
}

#[tokio::test]
async fn a_client_with_good_flags_keeps_them_through_every_tls_fault() {
    bounded(60, async {
        let ca = Ca::new("CA");
        let rogue = Ca::new("rogue CA");
        let good = ca.leaf(Kind::Good);
        let server = TlsServer::start(&good, payload(1)).await;
        let config = StreamConfig {
            backoff: BackoffConfig {
                initial: MS(20),
                max: MS(80),
                floor: MS(10),
                ..BackoffConfig::default()
            },
            sse: SseMode::Never,
            poll_interval: MS(30),
            ..StreamConfig::default()
        };
        let handle = source(&server.url(), trusting(&ca)).stream(config).unwrap();
        let mut payloads = handle.updates();
        payloads
            .wait_for(|p| p.as_ref().and_then(|p| version_of(p.value())) == Some(1))
            .await
            .unwrap();

        let faults = [
            (rogue.leaf(Kind::Good), TlsFailure::UnknownIssuer),
            (ca.leaf(Kind::Expired), TlsFailure::Expired),
            (ca.leaf(Kind::WrongHost), TlsFailure::WrongHostName),
        ];
        for (leaf, expected) in faults {
            // A newer payload is offered only over the bad certificate: it must not arrive.
            server.set_body(payload(9));
            server.set_leaf(&leaf);
            let mut status = handle.status();
            let seen = status
                .wait_for(|s| {
                    s.last_error
                        .as_ref()
                        .is_some_and(|e| e.tls_failure() == Some(expected))
                })
                .await
                .unwrap()
                .clone();
            assert_eq!(seen.last_error.unwrap().kind(), ErrorKind::Tls);
            let kept = handle.latest().expect("the good payload is kept");
            assert_eq!(version_of(kept.value()), Some(1), "{expected:?}");
        }

        // Back to a good certificate: the client recovers and takes the new payload.
        server.set_body(payload(2));
        server.set_leaf(&good);
        payloads
            .wait_for(|p| p.as_ref().and_then(|p| version_of(p.value())) == Some(2))
            .await
            .unwrap();
        handle.stop();
    })
    .await;
}

#[tokio::test]
async fn a_server_silent_in_the_handshake_times_out_within_the_connect_timeout() {
    bounded(20, async {
        // Accepts TCP, then never answers the ClientHello.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("https://{}", listener.local_addr().unwrap());
        let holder = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((conn, _)) = listener.accept().await {
                held.push(conn);
            }
        });
        let mut config = HttpConfig::new("sdk-tls-1").api_host(&url);
        config.connect_timeout = MS(300);
        config.request_timeout = Duration::from_secs(10);
        config.network.proxy = ProxyConfig::none();
        let source = FeatureSource::new(Arc::new(HyperTransport::new(config).unwrap()));
        let started = tokio::time::Instant::now();
        let err = source.fetch().await.expect_err("no handshake");
        let elapsed = started.elapsed();
        assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
        assert!(
            elapsed < MS(1500),
            "took {elapsed:?}, the request timeout is 10 s"
        );
        holder.abort();
    })
    .await;
}
