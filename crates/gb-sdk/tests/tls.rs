//! Through the client: a private CA given as PEM to the builder serves features, and when the
//! server's certificate goes bad (untrusted CA, expired, wrong host name) refreshes fail with a
//! typed TLS error while evaluations keep the last good features.
#![allow(clippy::unwrap_used)]

extern crate alloc;

// The certificate helpers and HTTPS server of gb-transport's tests (one implementation).
#[path = "../../gb-transport/tests/pki/mod.rs"]
mod pki;

use core::time::Duration;

use gb_sdk::transport::{ErrorKind, TlsFailure};
use gb_sdk::{GrowthBook, ProxyConfig, RefreshStrategy, TlsConfig};
use pki::{Ca, Kind, TlsServer};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_faults_are_typed_and_keep_the_last_good_features() {
    tokio::time::timeout(Duration::from_secs(60), async {
        let ca = Ca::new("growthbook-rs private CA");
        let rogue = Ca::new("rogue CA");
        let good = ca.leaf(Kind::Good);
        let server = TlsServer::start(
            &good,
            json!({"features": {"new-ui": {"defaultValue": true}}}),
        )
        .await;
        let gb = GrowthBook::builder()
            .api_host(server.url())
            .client_key("sdk-tls-sdk")
            .tls(TlsConfig::new().with_root_pem(&ca.pem).unwrap())
            .proxy(ProxyConfig::none())
            .refresh(RefreshStrategy::Polling(Duration::from_millis(30)))
            .build()
            .unwrap();
        assert!(
            gb.ready(Duration::from_secs(5)).await,
            "{:?}",
            gb.last_error()
        );
        assert!(gb.is_on("new-ui"));

        let faults = [
            (rogue.leaf(Kind::Good), TlsFailure::UnknownIssuer),
            (ca.leaf(Kind::Expired), TlsFailure::Expired),
            (ca.leaf(Kind::WrongHost), TlsFailure::WrongHostName),
        ];
        for (leaf, expected) in faults {
            server.set_body(json!({"features": {"new-ui": {"defaultValue": false}}}));
            server.set_leaf(&leaf);
            let mut seen = None;
            for _ in 0..200 {
                seen = gb
                    .last_error()
                    .and_then(|e| e.transport().and_then(|t| t.tls_failure()));
                if seen == Some(expected) {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            assert_eq!(seen, Some(expected));
            let err = gb.last_error().unwrap();
            assert_eq!(err.transport().map(|t| t.kind()), Some(ErrorKind::Tls));
            assert!(
                gb.is_on("new-ui"),
                "the last good features are kept ({expected:?})"
            );
        }
        gb.shutdown(Duration::from_secs(1)).await;
    })
    .await
    .expect("test exceeded its time bound");
}
