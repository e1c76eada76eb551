//! Content digests (`sha256:<64 hex>`), as used by OCI for every blob and manifest.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest as _, Sha256};

/// A validated content digest. Only `sha256` is accepted: it is the algorithm every
/// OCI client produces, and accepting others would let a client pick a weak one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    hex: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DigestError {
    #[error("digest `{0}` has no algorithm; expected `sha256:<64 hex digits>`")]
    MissingAlgorithm(String),
    #[error("digest algorithm `{0}` is not supported; only sha256 is")]
    UnsupportedAlgorithm(String),
    #[error("digest `{0}` is not 64 lowercase hex digits after `sha256:`")]
    BadHex(String),
}

impl Digest {
    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        Self::from_sha256(Sha256::digest(bytes).into())
    }

    /// A digest from a finished SHA-256 state.
    pub fn from_sha256(out: [u8; 32]) -> Self {
        Self { hex: hex::encode(out) }
    }

    /// The algorithm name (always `sha256`).
    pub fn algorithm(&self) -> &'static str {
        "sha256"
    }

    /// The 64 hex digits.
    pub fn hex(&self) -> &str {
        &self.hex
    }

    /// The cosign tag naming this digest's signature: `sha256-<hex>.sig`.
    pub fn cosign_signature_tag(&self) -> String {
        format!("sha256-{}.sig", self.hex)
    }

    /// The tag cosign stores attestations about this digest under: `sha256-<hex>.att`.
    pub fn cosign_attestation_tag(&self) -> String {
        format!("sha256-{}.att", self.hex)
    }
}

impl FromStr for Digest {
    type Err = DigestError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let Some((alg, hex)) = s.split_once(':') else {
            return Err(DigestError::MissingAlgorithm(truncate(s)));
        };
        if alg != "sha256" {
            return Err(DigestError::UnsupportedAlgorithm(truncate(alg)));
        }
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
            return Err(DigestError::BadHex(truncate(s)));
        }
        Ok(Self { hex: hex.to_owned() })
    }
}

/// Error messages echo client input; keep what they echo short.
pub(crate) fn truncate(s: &str) -> String {
    const MAX: usize = 100;
    if s.len() <= MAX {
        return s.to_owned();
    }
    let mut end = MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &s[..end])
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", self.hex)
    }
}

impl serde::Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_of_empty_is_the_well_known_value() {
        assert_eq!(
            Digest::of(b"").to_string(),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn parses_and_rejects() {
        let ok = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert_eq!(ok.parse::<Digest>().map(|d| d.to_string()), Ok(ok.to_owned()));
        assert!(matches!(
            "e3b0".parse::<Digest>(),
            Err(DigestError::MissingAlgorithm(_))
        ));
        assert!(matches!(
            "md5:abc".parse::<Digest>(),
            Err(DigestError::UnsupportedAlgorithm(_))
        ));
        assert!(matches!("sha256:abc".parse::<Digest>(), Err(DigestError::BadHex(_))));
        let upper = ok.to_uppercase().replace("SHA256", "sha256");
        assert!(matches!(upper.parse::<Digest>(), Err(DigestError::BadHex(_))));
    }
}
