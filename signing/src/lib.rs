//! govstore-signing: publisher keys and signatures in the formats cosign uses.
//!
//! - [`KeyPair`]: an ECDSA P-256 private key, kept on disk as an `ENCRYPTED COSIGN PRIVATE KEY`
//!   PEM (scrypt N=32768 + NaCl secretbox), the form cosign, skopeo 1.9 and newer
//!   containers/image tools read.
//! - [`PublicKey`]: the matching `PUBLIC KEY` (SPKI) PEM, as `cosign.pub`, with a stable
//!   [`key_id`](PublicKey::key_id).
//! - [`simple_signing`]: the cosign "simple signing" payload that a signature covers.
//! - [`dsse`]: DSSE envelopes, which carry in-toto statements such as country approvals.
//!
//! Signatures are ASN.1 DER ECDSA-P256-SHA256 over the payload bytes, so any cosign-family
//! tool can check them. This crate does no IO: callers read and write the files.
//!
//! Key generation, key encryption and the ECDSA operations come from the `sigstore` crate
//! (built without its network-facing `cosign` feature), which runs them on aws-lc.

pub mod dsse;
mod encrypted;
mod error;
mod keypair;
mod public_key;
pub mod simple_signing;

pub use error::SigningError;
pub use keypair::KeyPair;
pub use public_key::PublicKey;

/// The PEM label govstore writes private keys under (the only one skopeo 1.9 reads).
pub const COSIGN_PRIVATE_KEY_LABEL: &str = "ENCRYPTED COSIGN PRIVATE KEY";
/// The PEM label sigstore-rs and cosign 2.x write private keys under; read, never written.
pub const SIGSTORE_PRIVATE_KEY_LABEL: &str = "ENCRYPTED SIGSTORE PRIVATE KEY";
/// The PEM label of a public key (SPKI), as in `cosign.pub`.
pub const PUBLIC_KEY_LABEL: &str = "PUBLIC KEY";

/// PEM text as cosign writes it: 64-column base64, `\n` line endings.
fn encode_pem(label: &str, der: Vec<u8>) -> String {
    pem::encode_config(
        &pem::Pem::new(label, der),
        pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
    )
}

/// The single PEM block in `text`; more than one is refused so that a file cannot
/// carry a second key that a different tool would pick instead.
fn decode_single_pem(text: &str) -> Result<pem::Pem, SigningError> {
    const MAX_PEM_LEN: usize = 64 * 1024;
    if text.len() > MAX_PEM_LEN {
        return Err(SigningError::InvalidPem(format!(
            "{} bytes is more than the {MAX_PEM_LEN} a key file may have",
            text.len()
        )));
    }
    let mut blocks = pem::parse_many(text).map_err(|e| SigningError::InvalidPem(e.to_string()))?;
    match blocks.len() {
        0 => Err(SigningError::InvalidPem("no PEM block found".into())),
        1 => Ok(blocks.remove(0)),
        n => Err(SigningError::InvalidPem(format!(
            "{n} PEM blocks found; expected exactly one"
        ))),
    }
}
