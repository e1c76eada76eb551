//! The one error type of this crate.

/// Why a key could not be made, read or used, or a signature or payload was refused.
#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    #[error("could not generate a key: {0}")]
    KeyGeneration(String),
    #[error("could not encrypt the private key: {0}")]
    Encryption(String),
    #[error("not a valid PEM file: {0}")]
    InvalidPem(String),
    #[error("unsupported PEM label `{found}`; expected {expected}")]
    UnsupportedPemLabel { found: String, expected: &'static str },
    #[error("the encrypted private key is malformed: {0}")]
    MalformedEncryptedKey(String),
    #[error("wrong password for this private key (or the key file is corrupted)")]
    WrongPassword,
    #[error("not an ECDSA P-256 key: {0}")]
    NotP256(String),
    #[error("invalid public key: {0}")]
    InvalidPublicKey(String),
    #[error("could not sign: {0}")]
    Signing(String),
    #[error("the signature does not verify against this public key")]
    BadSignature,
    #[error("signature payload is {size} bytes, more than the {limit} allowed")]
    PayloadTooLarge { size: usize, limit: usize },
    #[error("invalid signature payload: {0}")]
    InvalidPayload(String),
    #[error("invalid DSSE envelope: {0}")]
    InvalidEnvelope(String),
}
