//! Remote-evaluation (and features-endpoint) responses: any body goes through what the SDK
//! does with one (JSON, payload validation with and without a decryption key, compile, evaluate
//! every feature) without panicking; a rejected body never yields a payload.
#![no_main]

use gb_core::{FeatureSet, User};
use gb_transport::{DecryptionKey, Payload};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};

fuzz_target!(|data: &[u8]| {
    let Ok(body) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let key = DecryptionKey::new("Zvwv/+uhpFDznZ6SX28Yjg==");
    for k in [None, Some(&key)] {
        let Ok(payload) = Payload::from_value(body.clone(), k) else {
            continue;
        };
        assert!(
            payload.features().is_some(),
            "accepted a payload without features"
        );
        let _ = payload.date_updated();
        let fs = FeatureSet::from_value(payload.value());
        let attrs = Map::new();
        let user = User::new(&attrs);
        let mut keys: Vec<&str> = fs.keys().collect();
        keys.sort_unstable();
        for f in keys.iter().take(64) {
            let _ = fs.eval_feature(f, &user).to_json();
        }
    }
});
