//! Pure AES-128-CBC / PKCS#7 decryption of GrowthBook encrypted values (no I/O, no async).
//!
//! The wire format is `base64(iv) + "." + base64(ciphertext)` with a 16-byte IV, a 128-bit key
//! given as base64, PKCS#7 padding, and UTF-8 plaintext. Base64 is the standard alphabet; padding
//! is accepted with or without `=`.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use aes::Aes128;
use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit};

pub use crate::error::DecryptError;

const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A GrowthBook decryption key (base64 of 16 bytes).
///
/// Its `Debug` output is redacted, it has no `Display`, and it is never logged.
#[derive(Clone, PartialEq, Eq)]
pub struct DecryptionKey(String);

impl DecryptionKey {
    /// Wraps a key string as shown in the GrowthBook UI. It is validated on first use.
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into())
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    /// Decrypts one `iv.ciphertext` value with this key. See [`decrypt`].
    pub fn decrypt(&self, encrypted: &str) -> Result<String, DecryptError> {
        decrypt(encrypted, &self.0)
    }
}

impl fmt::Debug for DecryptionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DecryptionKey(***)")
    }
}

/// Decrypts `base64(iv).base64(ciphertext)` with the base64 AES-128 `key` into a UTF-8 string.
///
/// It does not parse the plaintext (a value whose plaintext is broken JSON decrypts fine).
///
/// # Errors
/// A [`DecryptError`] naming the failing step: bad key, bad format, bad IV, bad ciphertext, bad
/// padding (usually a wrong key) or non-UTF-8 plaintext.
///
/// ```
/// let plain = gb_transport::decrypt::decrypt(
///     "m5ylFM6ndyOJA2OPadubkw==.Uu7ViqgKEt/dWvCyhI46q088PkAEJbnXKf3KPZjf9IEQQ+A8fojNoxw4wIbPX3aj",
///     "Zvwv/+uhpFDznZ6SX28Yjg==",
/// )?;
/// assert_eq!(plain, r#"{"feature":{"defaultValue":true}}"#);
/// # Ok::<(), gb_transport::DecryptError>(())
/// ```
pub fn decrypt(encrypted: &str, key: &str) -> Result<String, DecryptError> {
    let key = decode_16(key.trim()).ok_or(DecryptError::InvalidKey)?;
    let (iv, ciphertext) = encrypted
        .trim()
        .split_once('.')
        .ok_or(DecryptError::InvalidFormat)?;
    if ciphertext.contains('.') {
        return Err(DecryptError::InvalidFormat);
    }
    let iv = decode_16(iv).ok_or(DecryptError::InvalidIv)?;
    let ciphertext = BASE64
        .decode(ciphertext)
        .map_err(|_| DecryptError::InvalidCiphertext)?;
    if ciphertext.is_empty() || ciphertext.len() % 16 != 0 {
        return Err(DecryptError::InvalidCiphertext);
    }
    let mut plain = ciphertext;
    let len = cbc::Decryptor::<Aes128>::new(&key.into(), &iv.into())
        .decrypt_padded::<Pkcs7>(&mut plain)
        .map_err(|_| DecryptError::BadPadding)?
        .len();
    plain.truncate(len);
    String::from_utf8(plain).map_err(|_| DecryptError::InvalidUtf8)
}

/// Encrypts `plain` as the GrowthBook server does (AES-128-CBC, PKCS#7): the inverse of
/// [`decrypt`], giving `base64(iv).base64(ciphertext)`. The caller supplies the IV (16 random
/// bytes; never reuse one with the same key).
///
/// # Errors
/// [`DecryptError::InvalidKey`] if `key` is not 16 bytes of base64.
///
/// ```
/// let key = "Zvwv/+uhpFDznZ6SX28Yjg==";
/// let sealed = gb_transport::decrypt::encrypt(r#"{"a":1}"#, key, [7; 16])?;
/// assert_eq!(gb_transport::decrypt::decrypt(&sealed, key)?, r#"{"a":1}"#);
/// # Ok::<(), gb_transport::DecryptError>(())
/// ```
pub fn encrypt(plain: &str, key: &str, iv: [u8; 16]) -> Result<String, DecryptError> {
    let key = decode_16(key.trim()).ok_or(DecryptError::InvalidKey)?;
    let len = plain.len();
    let mut buf = Vec::with_capacity(len + 16);
    buf.extend_from_slice(plain.as_bytes());
    buf.resize(len + 16 - len % 16, 0);
    let ciphertext = cbc::Encryptor::<Aes128>::new(&key.into(), &iv.into())
        .encrypt_padded::<Pkcs7>(&mut buf, len)
        .map_err(|_| DecryptError::InvalidCiphertext)?;
    let mut out = BASE64.encode(iv);
    out.push('.');
    BASE64.encode_string(ciphertext, &mut out);
    Ok(out)
}

fn decode_16(text: &str) -> Option<[u8; 16]> {
    let bytes: Vec<u8> = BASE64.decode(text).ok()?;
    bytes.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_debug_is_redacted() {
        let key = DecryptionKey::new("Zvwv/+uhpFDznZ6SX28Yjg==");
        let shown = format!("{key:?}");
        assert!(!shown.contains("Zvwv"), "{shown}");
    }

    #[test]
    fn errors_never_show_the_key() {
        let key = "Zvwv/+uhpFDznZ6SX39Yjg==";
        let err = decrypt("m5ylFM6ndyOJA2OPadubkw==.Uu7ViqgKEt/dWvCyhI46q088PkAEJbnXKf3KPZjf9IEQQ+A8fojNoxw4wIbPX3aj", key)
            .expect_err("wrong key must fail");
        assert!(!format!("{err} {err:?}").contains("Zvwv"));
    }

    #[test]
    fn rejects_two_dots_and_empty() {
        assert_eq!(
            decrypt("a.b.c", "Zvwv/+uhpFDznZ6SX28Yjg=="),
            Err(DecryptError::InvalidFormat)
        );
        assert_eq!(
            decrypt("m5ylFM6ndyOJA2OPadubkw==.", "Zvwv/+uhpFDznZ6SX28Yjg=="),
            Err(DecryptError::InvalidCiphertext)
        );
    }
}
