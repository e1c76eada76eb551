//! [`KeyPair`]: an ECDSA P-256 signing key, generated here or read from a cosign encrypted
//! private key PEM, and written back only in that encrypted form.

use std::fmt;

use sigstore::crypto::signing_key::ecdsa::ec::EcdsaSigner;
use sigstore::crypto::signing_key::ecdsa::{ECDSAKeys, EllipticCurve};
use sigstore::crypto::signing_key::{KeyPair as _, Signer as _};

use crate::{
    COSIGN_PRIVATE_KEY_LABEL, PublicKey, SIGSTORE_PRIVATE_KEY_LABEL, SigningError, decode_single_pem, encode_pem,
    encrypted,
};

/// An ECDSA P-256 private key with its public key. Its `Debug` shows only the key id.
pub struct KeyPair {
    signer: EcdsaSigner,
    public: PublicKey,
}

impl KeyPair {
    /// A new random key.
    pub fn generate() -> Result<Self, SigningError> {
        let keys = ECDSAKeys::new(EllipticCurve::P256).map_err(|e| SigningError::KeyGeneration(e.to_string()))?;
        Self::from_keys(keys).map_err(|e| SigningError::KeyGeneration(e.to_string()))
    }

    /// The key as a PEM labelled `ENCRYPTED COSIGN PRIVATE KEY`: the PKCS#8 key sealed with
    /// NaCl secretbox under a key derived from `password` by scrypt N=32768 (r=8, p=1), the
    /// form skopeo 1.9 reads (and cosign of every version).
    pub fn to_encrypted_pem(&self, password: &[u8]) -> Result<String, SigningError> {
        let pkcs8 = self
            .signer
            .ecdsa_keys()
            .private_key_to_der()
            .map_err(|e| SigningError::Encryption(e.to_string()))?;
        let envelope = encrypted::encrypt(&pkcs8, password)?;
        Ok(encode_pem(COSIGN_PRIVATE_KEY_LABEL, envelope))
    }

    /// Reads an `ENCRYPTED COSIGN PRIVATE KEY` (scrypt N=32768, or cosign 2.x's 65536) or an
    /// `ENCRYPTED SIGSTORE PRIVATE KEY` PEM. Unencrypted keys and keys other than P-256 are
    /// refused.
    pub fn from_encrypted_pem(pem: &str, password: &[u8]) -> Result<Self, SigningError> {
        let block = decode_single_pem(pem)?;
        if block.tag() != COSIGN_PRIVATE_KEY_LABEL && block.tag() != SIGSTORE_PRIVATE_KEY_LABEL {
            return Err(SigningError::UnsupportedPemLabel {
                found: block.tag().to_owned(),
                expected: "`ENCRYPTED COSIGN PRIVATE KEY` or `ENCRYPTED SIGSTORE PRIVATE KEY` \
                           (unencrypted private keys are not accepted)",
            });
        }
        let pkcs8 = encrypted::decrypt(block.contents(), password)?;
        let keys = ECDSAKeys::from_der(&pkcs8)
            .map_err(|e| SigningError::NotP256(format!("the encrypted key is not an ECDSA key ({e})")))?;
        Self::from_keys(keys)
    }

    fn from_keys(keys: ECDSAKeys) -> Result<Self, SigningError> {
        let ECDSAKeys::P256(keys) = keys else {
            return Err(SigningError::NotP256(format!("this is an {keys} key")));
        };
        let spki = keys
            .public_key_to_der()
            .map_err(|e| SigningError::InvalidPublicKey(e.to_string()))?;
        let public = PublicKey::from_spki_der(&spki)?;
        let signer = keys.to_signer().map_err(|e| SigningError::NotP256(e.to_string()))?;
        Ok(Self { signer, public })
    }

    /// The public half.
    pub fn public_key(&self) -> PublicKey {
        self.public.clone()
    }

    /// An ASN.1 DER ECDSA-P256-SHA256 signature over `payload`.
    pub fn sign(&self, payload: &[u8]) -> Result<Vec<u8>, SigningError> {
        self.signer
            .sign(payload)
            .map_err(|e| SigningError::Signing(e.to_string()))
    }
}

impl fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyPair")
            .field("key_id", &self.public.key_id())
            .finish_non_exhaustive()
    }
}
