//! cosign "simple signing": the JSON payload a cosign signature covers, and the names of the
//! OCI pieces that carry it.
//!
//! A signature is stored as an OCI artifact (artifact type [`SIGNATURE_ARTIFACT_TYPE`], or the
//! `sha256-<hex>.sig` tag) with one layer per signature: the layer is the [`payload`] bytes
//! (media type [`PAYLOAD_MEDIA_TYPE`]) and its [`SIGNATURE_ANNOTATION`] holds the base64
//! (standard alphabet, padded) DER signature over exactly those bytes.

use govstore_core::Digest;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::SigningError;

/// Media type of the layer holding the payload.
pub const PAYLOAD_MEDIA_TYPE: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// Layer annotation holding the base64 (standard) DER signature over the payload.
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
/// Artifact type of a signature manifest.
pub const SIGNATURE_ARTIFACT_TYPE: &str = "application/vnd.dev.cosign.artifact.sig.v1+json";
/// The `critical.type` every cosign container image signature has.
pub const SIGNATURE_TYPE: &str = "cosign container image signature";
/// The largest payload [`parse_payload`] reads. cosign's are about 250 bytes.
pub const MAX_PAYLOAD_LEN: usize = 64 * 1024;

/// The payload signing `manifest_digest` as `docker_reference`:
/// `{"critical":{"identity":{"docker-reference":REF},"image":{"docker-manifest-digest":DIGEST},"type":"cosign container image signature"},"optional":null}`,
/// compact, keys in that order, strings escaped as Go's `encoding/json` escapes them: byte for
/// byte what cosign writes.
pub fn payload(docker_reference: &str, manifest_digest: &Digest) -> Vec<u8> {
    let mut out = String::with_capacity(200 + docker_reference.len());
    out.push_str(r#"{"critical":{"identity":{"docker-reference":"#);
    push_go_json_string(&mut out, docker_reference);
    out.push_str(r#"},"image":{"docker-manifest-digest":"#);
    push_go_json_string(&mut out, &manifest_digest.to_string());
    out.push_str(r#"},"type":"#);
    push_go_json_string(&mut out, SIGNATURE_TYPE);
    out.push_str(r#"},"optional":null}"#);
    out.into_bytes()
}

/// A parsed simple-signing payload. The caller still has to check that `manifest_digest` is
/// the manifest it fetched and `docker_reference` the repository it expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payload {
    pub docker_reference: String,
    pub manifest_digest: Digest,
    /// The `optional` object (creator, timestamp, annotations, ...) if the signer wrote one;
    /// `None` for `"optional": null`. The signature covers it like the rest.
    pub optional: Option<Map<String, Value>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    critical: Critical,
    optional: Value,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Critical {
    identity: Identity,
    image: Image,
    #[serde(rename = "type")]
    type_: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Identity {
    #[serde(rename = "docker-reference")]
    docker_reference: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Image {
    #[serde(rename = "docker-manifest-digest")]
    docker_manifest_digest: Digest,
}

/// Parses a payload strictly, as containers/image does: exactly the fields above (no missing,
/// unknown or duplicate ones), objects where objects belong, `critical.type` equal to
/// [`SIGNATURE_TYPE`], a valid sha256 digest, a non-empty reference, and `optional` null or
/// an object. At most [`MAX_PAYLOAD_LEN`] bytes.
pub fn parse_payload(bytes: &[u8]) -> Result<Payload, SigningError> {
    if bytes.len() > MAX_PAYLOAD_LEN {
        return Err(SigningError::PayloadTooLarge {
            size: bytes.len(),
            limit: MAX_PAYLOAD_LEN,
        });
    }
    let invalid = SigningError::InvalidPayload;
    // serde's derived structs also accept JSON arrays; check the shape first.
    let value: Value = serde_json::from_slice(bytes).map_err(|e| invalid(format!("not JSON: {e}")))?;
    require_object(&value, "the payload")?;
    require_object(&value["critical"], "`critical`")?;
    require_object(&value["critical"]["identity"], "`critical.identity`")?;
    require_object(&value["critical"]["image"], "`critical.image`")?;

    // The typed pass rejects duplicate keys, which the `Value` pass silently merges.
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let wire: Wire = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        match path.as_str() {
            "." => invalid(e.into_inner().to_string()),
            _ => invalid(format!("at `{path}`: {}", e.into_inner())),
        }
    })?;
    if wire.critical.type_ != SIGNATURE_TYPE {
        return Err(invalid(format!(
            "`critical.type` is {:?}; expected {SIGNATURE_TYPE:?}",
            truncate(&wire.critical.type_)
        )));
    }
    let docker_reference = wire.critical.identity.docker_reference;
    if docker_reference.is_empty() {
        return Err(invalid("`critical.identity.docker-reference` is empty".into()));
    }
    let optional = match wire.optional {
        Value::Null => None,
        Value::Object(map) => Some(map),
        _ => return Err(invalid("`optional` must be null or an object".into())),
    };
    Ok(Payload {
        docker_reference,
        manifest_digest: wire.critical.image.docker_manifest_digest,
        optional,
    })
}

fn require_object(value: &Value, what: &str) -> Result<(), SigningError> {
    match value {
        Value::Object(_) => Ok(()),
        // A missing field: the typed pass names it.
        Value::Null => Ok(()),
        _ => Err(SigningError::InvalidPayload(format!("{what} is not a JSON object"))),
    }
}

/// Error messages quote payload text; keep what they quote short.
fn truncate(s: &str) -> &str {
    const MAX: usize = 80;
    match s.char_indices().nth(MAX) {
        Some((end, _)) => &s[..end],
        None => s,
    }
}

/// Appends `s` as a JSON string the way Go's `json.Marshal` writes it: `<`, `>`, `&`,
/// U+2028 and U+2029 as `\u` escapes, other non-ASCII text as UTF-8.
fn push_go_json_string(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c if (c as u32) < 0x20 || c == '<' || c == '>' || c == '&' => {
                let b = c as u32 as usize;
                out.push_str("\\u00");
                out.push(char::from(HEX[b >> 4]));
                out.push(char::from(HEX[b & 0xf]));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped_as_go_escapes_them() {
        let mut out = String::new();
        push_go_json_string(&mut out, "a\"b\\c\n<&>\u{1}\u{2028}é");
        assert_eq!(out, r#""a\"b\\c\n\u003c\u0026\u003e\u0001\u2028é""#);
        // And it is still JSON that means the same string.
        assert_eq!(
            serde_json::from_str::<String>(&out).ok().as_deref(),
            Some("a\"b\\c\n<&>\u{1}\u{2028}é")
        );
    }
}
