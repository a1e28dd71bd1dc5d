//! `client.payload()`: the payload the current features came from, as served (decrypted).
#![allow(clippy::unwrap_used, reason = "test")]

use gb_sdk::GrowthBook;
use gb_sdk::serde_json::json;

#[test]
fn the_payload_follows_the_features() {
    let first = json!({"features": {"a": {"defaultValue": 1}}, "savedGroups": {"g": [1]}});
    let client = GrowthBook::builder()
        .payload(first.clone())
        .build()
        .unwrap();
    assert_eq!(*client.payload().unwrap(), first);
    let second =
        json!({"features": {"b": {"defaultValue": 2}}, "dateUpdated": "2026-01-01T00:00:00Z"});
    client.set_payload(&second).unwrap();
    assert_eq!(*client.payload().unwrap(), second);
    // A refused payload changes neither the features nor the payload.
    assert!(client.set_payload(&json!({"nope": 1})).is_err());
    assert_eq!(*client.payload().unwrap(), second);
    // Text payloads too.
    let text = GrowthBook::builder()
        .payload_json(r#"{"features": {"t": {"defaultValue": true}}}"#)
        .build()
        .unwrap();
    assert_eq!(
        text.payload().unwrap()["features"]["t"]["defaultValue"],
        true
    );
}

#[test]
fn encrypted_payloads_are_handed_out_decrypted() {
    let client = GrowthBook::builder()
        .payload(json!({"features": {}, "encryptedFeatures": "m5ylFM6ndyOJA2OPadubkw==.Uu7ViqgKEt/dWvCyhI46q088PkAEJbnXKf3KPZjf9IEQQ+A8fojNoxw4wIbPX3aj"}))
        .decryption_key("Zvwv/+uhpFDznZ6SX28Yjg==")
        .build()
        .unwrap();
    let payload = client.payload().unwrap();
    assert_eq!(payload["features"]["feature"]["defaultValue"], true);
    assert!(payload.get("encryptedFeatures").is_none());
}

#[test]
fn nothing_before_features_load() {
    let client = GrowthBook::builder().build().unwrap();
    assert!(client.payload().is_none());
}
