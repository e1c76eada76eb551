//! DSSE envelopes (Dead Simple Signing Envelope, v1.0): a payload, its type, and
//! signatures over the pre-authentication encoding (PAE) of both, as in-toto
//! attestations and cosign's `.att` images carry them.
//!
//! `PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`, with lengths
//! as ASCII decimal. govstore signs with the same ECDSA P-256 keys as package
//! signatures (ASN.1 DER signatures, base64 in the envelope); `keyid` is the key's id
//! (`sha256:` of its SPKI DER). The JSON form is the one the DSSE specification gives:
//! `{"payloadType", "payload" (base64), "signatures": [{"keyid", "sig" (base64)}]}`;
//! unknown fields are ignored on read.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use crate::{KeyPair, PublicKey, SigningError};

/// The media type of an envelope stored as an OCI layer or referrer.
pub const ENVELOPE_MEDIA_TYPE: &str = "application/vnd.dsse.envelope.v1+json";
/// The largest envelope read, in bytes.
pub const MAX_ENVELOPE_BYTES: usize = 128 * 1024;
/// The most signatures an envelope may carry.
pub const MAX_SIGNATURES: usize = 16;

/// One signature of an envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    pub keyid: String,
    pub sig: Vec<u8>,
}

/// A DSSE envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub payload_type: String,
    pub payload: Vec<u8>,
    pub signatures: Vec<Signature>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireEnvelope {
    payload_type: String,
    payload: String,
    signatures: Vec<WireSignature>,
}

#[derive(Serialize, Deserialize)]
struct WireSignature {
    #[serde(default)]
    keyid: String,
    sig: String,
}

/// The pre-authentication encoding that a DSSE signature covers.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload_type.len() + payload.len() + 32);
    out.extend_from_slice(format!("DSSEv1 {} {payload_type} {} ", payload_type.len(), payload.len()).as_bytes());
    out.extend_from_slice(payload);
    out
}

impl Envelope {
    /// Sign `payload` of `payload_type` with `key`: an envelope with one signature.
    pub fn sign(key: &KeyPair, payload_type: &str, payload: Vec<u8>) -> Result<Self, SigningError> {
        let sig = key.sign(&pae(payload_type, &payload))?;
        Ok(Self {
            payload_type: payload_type.to_owned(),
            payload,
            signatures: vec![Signature {
                keyid: key.public_key().key_id(),
                sig,
            }],
        })
    }

    /// Whether some signature of the envelope verifies against `key`.
    pub fn verified_by(&self, key: &PublicKey) -> bool {
        let message = pae(&self.payload_type, &self.payload);
        self.signatures.iter().any(|s| key.verify(&message, &s.sig).is_ok())
    }

    /// The envelope as JSON, in the DSSE specification's form (compact, fields in a
    /// fixed order, so the same envelope always has the same bytes).
    pub fn to_json(&self) -> Vec<u8> {
        let wire = WireEnvelope {
            payload_type: self.payload_type.clone(),
            payload: STANDARD.encode(&self.payload),
            signatures: self
                .signatures
                .iter()
                .map(|s| WireSignature {
                    keyid: s.keyid.clone(),
                    sig: STANDARD.encode(&s.sig),
                })
                .collect(),
        };
        serde_json::to_vec(&wire).expect("an envelope always serializes")
    }

    /// Read an envelope, refusing more than [`MAX_ENVELOPE_BYTES`] or
    /// [`MAX_SIGNATURES`], no signature, or invalid base64.
    pub fn from_json(bytes: &[u8]) -> Result<Self, SigningError> {
        let bad = |m: String| SigningError::InvalidEnvelope(m);
        if bytes.len() > MAX_ENVELOPE_BYTES {
            return Err(bad(format!(
                "{} bytes is more than the {MAX_ENVELOPE_BYTES} an envelope may have",
                bytes.len()
            )));
        }
        let wire: WireEnvelope = serde_json::from_slice(bytes).map_err(|e| bad(e.to_string()))?;
        Self::from_wire(wire)
    }

    /// An envelope already parsed as JSON (as the sparse index carries them), with the
    /// same checks as [`Envelope::from_json`]; the payload's size is checked decoded.
    pub fn from_value(value: &serde_json::Value) -> Result<Self, SigningError> {
        let wire = WireEnvelope::deserialize(value).map_err(|e| SigningError::InvalidEnvelope(e.to_string()))?;
        if wire.payload.len() > MAX_ENVELOPE_BYTES {
            return Err(SigningError::InvalidEnvelope(format!(
                "a payload of {} bytes is more than the {MAX_ENVELOPE_BYTES} an envelope may have",
                wire.payload.len()
            )));
        }
        Self::from_wire(wire)
    }

    fn from_wire(wire: WireEnvelope) -> Result<Self, SigningError> {
        let bad = |m: String| SigningError::InvalidEnvelope(m);
        if wire.signatures.is_empty() {
            return Err(bad("it carries no signature".into()));
        }
        if wire.signatures.len() > MAX_SIGNATURES {
            return Err(bad(format!(
                "{} signatures; at most {MAX_SIGNATURES}",
                wire.signatures.len()
            )));
        }
        let payload = STANDARD
            .decode(wire.payload.as_bytes())
            .map_err(|e| bad(format!("payload is not base64: {e}")))?;
        let mut signatures = Vec::with_capacity(wire.signatures.len());
        for s in wire.signatures {
            let sig = STANDARD
                .decode(s.sig.as_bytes())
                .map_err(|e| bad(format!("signature is not base64: {e}")))?;
            signatures.push(Signature { keyid: s.keyid, sig });
        }
        Ok(Self {
            payload_type: wire.payload_type,
            payload,
            signatures,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn pae_matches_the_specification_example() {
        // The DSSE protocol document's example: PAE("http://example.com/HelloWorld", "hello world").
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
    }

    #[test]
    fn sign_verify_round_trip_and_tamper() {
        let key = KeyPair::generate().unwrap();
        let other = KeyPair::generate().unwrap();
        let env = Envelope::sign(&key, "application/vnd.in-toto+json", b"{\"a\":1}".to_vec()).unwrap();
        let read = Envelope::from_json(&env.to_json()).unwrap();
        assert_eq!(read, env);
        assert!(read.verified_by(&key.public_key()));
        assert!(!read.verified_by(&other.public_key()));
        assert_eq!(read.signatures[0].keyid, key.public_key().key_id());

        let mut tampered = read.clone();
        tampered.payload = b"{\"a\":2}".to_vec();
        assert!(!tampered.verified_by(&key.public_key()));
        let mut retyped = read;
        retyped.payload_type = "text/plain".into();
        assert!(!retyped.verified_by(&key.public_key()));
    }

    #[test]
    fn refuses_malformed_envelopes() {
        for bad in [
            &br#"{"payloadType":"x","payload":"e30=","signatures":[]}"#[..],
            br#"{"payloadType":"x","payload":"not base64!","signatures":[{"sig":"AA=="}]}"#,
            br#"{"payloadType":"x","payload":"e30=","signatures":[{"sig":"%%"}]}"#,
            br#"{"payload":"e30="}"#,
        ] {
            assert!(Envelope::from_json(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
        let big = vec![b' '; MAX_ENVELOPE_BYTES + 1];
        assert!(Envelope::from_json(&big).is_err());
        // Unknown fields are ignored.
        let env = Envelope::from_json(
            br#"{"payloadType":"x","payload":"e30=","signatures":[{"keyid":"k","sig":"AA==","extra":1}],"later":true}"#,
        )
        .unwrap();
        assert_eq!(env.payload, b"{}");
    }
}
