//! The shared GrowthBook `decrypt` spec cases (cases.json), plus whole-payload decryption.
#![allow(clippy::unwrap_used)]

extern crate alloc;

mod common;

use std::path::PathBuf;

use gb_transport::decrypt::decrypt;
use gb_transport::{DecryptError, DecryptionKey, ErrorKind, Payload, decrypt_payload};
use serde_json::{Value, json};

fn cases_path() -> PathBuf {
    std::env::var_os("GB_SPEC_CASES").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/spec-tests/cases.json"),
        PathBuf::from,
    )
}

#[test]
fn all_spec_decrypt_cases() {
    let path = cases_path();
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {} (set GB_SPEC_CASES): {e}", path.display()));
    let cases: Value = serde_json::from_str(&text).unwrap();
    let cases = cases["decrypt"].as_array().expect("a `decrypt` section");
    assert_eq!(cases.len(), 10, "the suite has 10 decrypt cases");
    let mut passed = 0;
    for case in cases {
        let [name, encrypted, key, expected] = case.as_array().unwrap().as_slice() else {
            panic!("bad case shape: {case}");
        };
        let (name, encrypted, key) = (
            name.as_str().unwrap(),
            encrypted.as_str().unwrap(),
            key.as_str().unwrap(),
        );
        let got = decrypt(encrypted, key);
        match expected.as_str() {
            Some(want) => assert_eq!(got.as_deref(), Ok(want), "case {name}"),
            None => {
                let err = got.expect_err(name);
                let shown = format!("{err} {err:?}");
                assert!(
                    !shown.contains(key),
                    "case {name}: the key leaked into {shown}"
                );
            }
        }
        passed += 1;
    }
    assert_eq!(passed, 10);
}

const KEY: &str = "Zvwv/+uhpFDznZ6SX28Yjg==";
const WRONG_KEY: &str = "Zvwv/+uhpFDznZ6SX39Yjg==";

fn encrypted_payload() -> Value {
    let iv = [7u8; 16];
    json!({
        "status": 200,
        "features": {},
        "experiments": [],
        "encryptedFeatures": common::encrypt(r#"{"f":{"defaultValue":1}}"#, KEY, iv),
        "encryptedSavedGroups": common::encrypt(r#"{"g":["a","b"]}"#, KEY, iv),
        "encryptedExperiments": common::encrypt(r#"[{"key":"e"}]"#, KEY, iv),
        "encryptedContextualBandits": common::encrypt(r#"{"cb":{}}"#, KEY, iv),
    })
}

#[test]
fn every_section_is_decrypted() {
    let out = decrypt_payload(encrypted_payload(), KEY).unwrap();
    assert_eq!(out["features"], json!({"f": {"defaultValue": 1}}));
    assert_eq!(out["savedGroups"], json!({"g": ["a", "b"]}));
    assert_eq!(out["experiments"], json!([{"key": "e"}]));
    assert_eq!(out["contextualBandits"], json!({"cb": {}}));
    for section in [
        "encryptedFeatures",
        "encryptedSavedGroups",
        "encryptedExperiments",
    ] {
        assert!(out.get(section).is_none(), "{section} must be removed");
    }
}

#[test]
fn wrong_key_on_a_whole_payload_yields_an_error_and_no_payload() {
    let err = decrypt_payload(encrypted_payload(), WRONG_KEY).unwrap_err();
    assert!(
        matches!(
            err,
            DecryptError::Section {
                section: "encryptedFeatures",
                ..
            }
        ),
        "{err:?}"
    );
    let wrong = DecryptionKey::new(WRONG_KEY);
    let err = Payload::from_value(encrypted_payload(), Some(&wrong)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decrypt);
    let shown = format!("{err} {err:?} {wrong:?}");
    assert!(!shown.contains("Zvwv"), "the key leaked: {shown}");
}

#[test]
fn one_bad_section_fails_the_whole_payload() {
    let mut payload = encrypted_payload();
    payload["encryptedSavedGroups"] = json!("m5ylFM6ndyOJA2OPadubkw==.AAAA");
    let err = decrypt_payload(payload, KEY).unwrap_err();
    assert!(
        matches!(
            err,
            DecryptError::Section {
                section: "encryptedSavedGroups",
                ..
            }
        ),
        "{err:?}"
    );

    // A section that decrypts to valid JSON of the wrong type is refused too.
    let mut payload = encrypted_payload();
    payload["encryptedFeatures"] = json!(common::encrypt("[1,2]", KEY, [1; 16]));
    assert!(decrypt_payload(payload, KEY).is_err());

    // Broken JSON inside a section: decrypt succeeds, the payload does not.
    let mut payload = encrypted_payload();
    payload["encryptedFeatures"] = json!(common::encrypt("{\"f\":", KEY, [2; 16]));
    let err = decrypt_payload(payload, KEY).unwrap_err();
    assert!(
        !err.to_string().contains("\"f\""),
        "plaintext must not leak: {err}"
    );
}
