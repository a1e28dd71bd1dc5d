//! Decryption: any text as `iv.ciphertext` with any key fails with a typed error or decrypts;
//! and encrypting any plaintext (AES-128-CBC, PKCS#7, as GrowthBook does) under any key and IV
//! decrypts back to it exactly, also through whole-payload decryption.
#![no_main]

use aes::Aes128;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockModeEncrypt, KeyIvInit};
use libfuzzer_sys::fuzz_target;
use serde_json::json;

fuzz_target!(|data: &[u8]| {
    // Arbitrary text: `ciphertext\nkey`.
    if let Ok(text) = std::str::from_utf8(data) {
        let (c, k) = text
            .split_once('\n')
            .unwrap_or((text, "Zvwv/+uhpFDznZ6SX28Yjg=="));
        let _ = gb_transport::decrypt(c, k);
        let _ = gb_transport::decrypt_payload(json!({"encryptedFeatures": c, "features": {}}), k);
    }
    // Round trip: 16 key bytes, 16 IV bytes, the plaintext.
    if data.len() < 32 {
        return;
    }
    let (key, rest) = data.split_at(16);
    let (iv, plain) = rest.split_at(16);
    let plain = String::from_utf8_lossy(plain).into_owned();
    let key: [u8; 16] = key.try_into().unwrap_or_default();
    let iv: [u8; 16] = iv.try_into().unwrap_or_default();
    let ct = cbc::Encryptor::<Aes128>::new(&key.into(), &iv.into())
        .encrypt_padded_vec::<Pkcs7>(plain.as_bytes());
    let encrypted = format!("{}.{}", STANDARD.encode(iv), STANDARD.encode(&ct));
    let key_b64 = STANDARD.encode(key);
    let back = gb_transport::decrypt(&encrypted, &key_b64).expect("round trip decrypts");
    assert_eq!(back, plain);
    // Whole payloads: an encrypted features object comes back as that object.
    let features = json!({"f": {"defaultValue": plain}});
    let ftext = features.to_string();
    let ct = cbc::Encryptor::<Aes128>::new(&key.into(), &iv.into())
        .encrypt_padded_vec::<Pkcs7>(ftext.as_bytes());
    let enc = format!("{}.{}", STANDARD.encode(iv), STANDARD.encode(&ct));
    let out = gb_transport::decrypt_payload(json!({"encryptedFeatures": enc}), &key_b64)
        .expect("payload round trip decrypts");
    assert_eq!(out["features"], features);
});
