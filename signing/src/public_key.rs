//! [`PublicKey`]: an ECDSA P-256 public key as cosign writes it (`cosign.pub`), its stable
//! id, and signature verification.

use std::fmt;

use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1, ParsedPublicKey};
use govstore_core::Digest;
use sigstore::crypto::CosignVerificationKey;

use crate::{PUBLIC_KEY_LABEL, SigningError, decode_single_pem, encode_pem};

/// The DER SubjectPublicKeyInfo header of every P-256 key with an uncompressed point:
/// SEQUENCE { SEQUENCE { id-ecPublicKey, prime256v1 }, BIT STRING (66 bytes) }. Go's
/// `x509.MarshalPKIXPublicKey` (cosign), OpenSSL and aws-lc all write exactly this, followed
/// by the 65-byte point `04 || X || Y`. Accepting only this one encoding makes the SPKI
/// bytes, and so [`PublicKey::key_id`], canonical.
const P256_SPKI_HEADER: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce,
    0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];
const P256_SPKI_LEN: usize = P256_SPKI_HEADER.len() + 65;

/// A validated ECDSA P-256 public key, held as its canonical SPKI DER.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PublicKey {
    spki_der: Vec<u8>,
}

impl PublicKey {
    /// Reads a `PUBLIC KEY` (SubjectPublicKeyInfo) PEM, as in `cosign.pub`. Keys on other
    /// curves or of other types, and points not on the curve, are refused.
    pub fn from_pem(pem: &str) -> Result<Self, SigningError> {
        let block = decode_single_pem(pem)?;
        if block.tag() != PUBLIC_KEY_LABEL {
            return Err(SigningError::UnsupportedPemLabel {
                found: block.tag().to_owned(),
                expected: "`PUBLIC KEY`",
            });
        }
        Self::from_spki_der(block.contents())
    }

    /// Checks SPKI DER bytes: a P-256 key in the canonical encoding, with a point on the curve.
    pub(crate) fn from_spki_der(der: &[u8]) -> Result<Self, SigningError> {
        if der.len() != P256_SPKI_LEN || !der.starts_with(&P256_SPKI_HEADER) {
            return Err(describe_non_canonical(der));
        }
        ParsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, der)
            .map_err(|e| SigningError::InvalidPublicKey(format!("not a point on the P-256 curve ({e})")))?;
        Ok(Self { spki_der: der.to_vec() })
    }

    /// The key as a `PUBLIC KEY` PEM (64-column base64, `\n` line endings), as cosign writes it.
    pub fn to_pem(&self) -> String {
        encode_pem(PUBLIC_KEY_LABEL, self.spki_der.clone())
    }

    /// `sha256:<64 hex>` of the SPKI DER: the stable id shown to users and stored by the registry.
    pub fn key_id(&self) -> String {
        Digest::of(&self.spki_der).to_string()
    }

    /// Checks an ASN.1 DER ECDSA-P256-SHA256 signature over `payload`.
    /// Verified with aws-lc over the key's point (the SPKI after its fixed header),
    /// several times faster than the pure-Rust path, which matters when a client checks
    /// thousands of approval envelopes.
    pub fn verify(&self, payload: &[u8], signature_der: &[u8]) -> Result<(), SigningError> {
        let point = &self.spki_der[P256_SPKI_HEADER.len()..];
        aws_lc_rs::signature::UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, point)
            .verify(payload, signature_der)
            .map_err(|_| SigningError::BadSignature)
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKey").field("key_id", &self.key_id()).finish()
    }
}

/// The most useful error for SPKI bytes that are not a canonical P-256 key.
fn describe_non_canonical(der: &[u8]) -> SigningError {
    use CosignVerificationKey as K;
    match CosignVerificationKey::try_from_der(der) {
        Ok(K::ECDSA_P256_SHA256_ASN1(_)) => SigningError::InvalidPublicKey(
            "a P-256 key, but not in the uncompressed SubjectPublicKeyInfo form cosign writes".into(),
        ),
        Ok(K::ECDSA_P384_SHA384_ASN1(_)) => SigningError::NotP256("this is an ECDSA P-384 key".into()),
        Ok(K::ECDSA_P521_SHA512_ASN1(_)) => SigningError::NotP256("this is an ECDSA P-521 key".into()),
        Ok(K::RSA_PKCS1_SHA256(_) | K::RSA_PSS_SHA256(_)) => SigningError::NotP256("this is an RSA key".into()),
        Ok(K::ED25519(_)) => SigningError::NotP256("this is an Ed25519 key".into()),
        Err(e) => SigningError::InvalidPublicKey(e.to_string()),
    }
}
