//! The encrypted-key envelope inside a cosign private key PEM: JSON naming scrypt and NaCl
//! secretbox (XSalsa20-Poly1305), with the PKCS#8 DER key as ciphertext (go-tuf's
//! `encrypted` format, which cosign uses).
//!
//! sigstore's `kdf` module does the cryptography. This module checks the envelope first, so
//! that a malformed file gets a clear error and never reaches sigstore code that would panic
//! (it slices the nonce without checking its length), and it sorts sigstore's errors into
//! [`SigningError`]s; a failed authentication tag means a wrong password.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::Deserialize;
use sigstore::crypto::signing_key::kdf;
use sigstore::errors::SigstoreError;
use zeroize::Zeroizing;

use crate::SigningError;

/// scrypt N values accepted when reading: 32768 (cosign 1.x, and what we write) and
/// 65536 (cosign 2.x). r and p are always 8 and 1. Anything else is refused, as cosign
/// does, so that a key file cannot demand an arbitrarily expensive derivation.
const ACCEPTED_SCRYPT_N: [u64; 2] = [32_768, 65_536];
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;

#[derive(Deserialize)]
struct Envelope {
    kdf: Kdf,
    cipher: Cipher,
    ciphertext: String,
}

#[derive(Deserialize)]
struct Kdf {
    name: String,
    params: ScryptParams,
    salt: String,
}

#[derive(Deserialize)]
struct ScryptParams {
    #[serde(rename = "N")]
    n: u64,
    r: u64,
    p: u64,
}

#[derive(Deserialize)]
struct Cipher {
    name: String,
    nonce: String,
}

/// Encrypts a PKCS#8 DER private key under `password` (scrypt N=32768, r=8, p=1, random
/// salt and nonce) and returns the envelope's JSON bytes.
pub(crate) fn encrypt(pkcs8_der: &[u8], password: &[u8]) -> Result<Vec<u8>, SigningError> {
    kdf::encrypt(pkcs8_der, password).map_err(|e| SigningError::Encryption(e.to_string()))
}

/// Checks the envelope and decrypts it, returning the PKCS#8 DER private key.
pub(crate) fn decrypt(envelope: &[u8], password: &[u8]) -> Result<Zeroizing<Vec<u8>>, SigningError> {
    check(envelope)?;
    match kdf::decrypt(envelope, password) {
        Ok(der) => Ok(Zeroizing::new(der)),
        // sigstore reports a failed secretbox open under this (misnamed) variant.
        Err(SigstoreError::PrivateKeyEncryptError(_)) => Err(SigningError::WrongPassword),
        Err(e) => Err(SigningError::MalformedEncryptedKey(e.to_string())),
    }
}

fn check(envelope: &[u8]) -> Result<(), SigningError> {
    let malformed = SigningError::MalformedEncryptedKey;
    let env: Envelope =
        serde_json::from_slice(envelope).map_err(|e| malformed(format!("not the expected JSON: {e}")))?;
    if env.kdf.name != "scrypt" {
        return Err(malformed(format!(
            "unsupported key derivation `{}`; expected scrypt",
            env.kdf.name
        )));
    }
    let ScryptParams { n, r, p } = env.kdf.params;
    if !ACCEPTED_SCRYPT_N.contains(&n) || r != 8 || p != 1 {
        return Err(malformed(format!(
            "unsupported scrypt parameters N={n}, r={r}, p={p}; expected N=32768 or 65536, r=8, p=1"
        )));
    }
    if env.cipher.name != "nacl/secretbox" {
        return Err(malformed(format!(
            "unsupported cipher `{}`; expected nacl/secretbox",
            env.cipher.name
        )));
    }
    let decode = |field: &str, value: &str| {
        BASE64
            .decode(value)
            .map_err(|e| malformed(format!("`{field}` is not valid base64: {e}")))
    };
    decode("salt", &env.kdf.salt)?;
    let nonce = decode("nonce", &env.cipher.nonce)?;
    if nonce.len() != NONCE_LEN {
        return Err(malformed(format!(
            "nonce is {} bytes; expected {NONCE_LEN}",
            nonce.len()
        )));
    }
    let ciphertext = decode("ciphertext", &env.ciphertext)?;
    if ciphertext.len() <= TAG_LEN {
        return Err(malformed(format!("ciphertext is only {} bytes", ciphertext.len())));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(n: u64, nonce: &str) -> Vec<u8> {
        serde_json::json!({
            "kdf": {"name": "scrypt", "params": {"N": n, "r": 8, "p": 1}, "salt": "c2FsdA=="},
            "cipher": {"name": "nacl/secretbox", "nonce": nonce},
            "ciphertext": BASE64.encode([0u8; 64]),
        })
        .to_string()
        .into_bytes()
    }

    fn message(result: Result<Zeroizing<Vec<u8>>, SigningError>) -> String {
        match result {
            Err(SigningError::MalformedEncryptedKey(m)) => m,
            Err(other) => panic!("expected MalformedEncryptedKey, got {other:?}"),
            Ok(_) => panic!("expected an error"),
        }
    }

    #[test]
    fn a_short_nonce_is_an_error_not_a_panic() {
        let m = message(decrypt(&envelope(32_768, "c2hvcnQ="), b"pw"));
        assert!(m.contains("nonce is 5 bytes"), "{m}");
    }

    #[test]
    fn expensive_scrypt_parameters_are_refused_before_deriving() {
        let nonce = BASE64.encode([0u8; NONCE_LEN]);
        let m = message(decrypt(&envelope(1 << 30, &nonce), b"pw"));
        assert!(m.contains("N=1073741824"), "{m}");
    }

    #[test]
    fn garbage_is_malformed() {
        let m = message(decrypt(b"{\"kdf\":1}", b"pw"));
        assert!(m.contains("not the expected JSON"), "{m}");
    }

    #[test]
    fn a_wrong_tag_reads_as_a_wrong_password() {
        let nonce = BASE64.encode([0u8; NONCE_LEN]);
        assert!(matches!(
            decrypt(&envelope(32_768, &nonce), b"pw"),
            Err(SigningError::WrongPassword)
        ));
    }
}
