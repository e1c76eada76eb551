//! The simple-signing payload: byte-exact output, and strict parsing with clear errors.

#![allow(clippy::unwrap_used)] // a failing test is meant to panic

use govstore_core::Digest;
use govstore_signing::SigningError;
use govstore_signing::simple_signing::{MAX_PAYLOAD_LEN, Payload, SIGNATURE_TYPE, parse_payload, payload};

const DIGEST: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

fn digest() -> Digest {
    DIGEST.parse().unwrap()
}

fn good() -> String {
    String::from_utf8(payload("registry.example/gov/forms", &digest())).unwrap()
}

/// `good()` with `from` replaced by `to`; panics if `from` is not there.
fn with(from: &str, to: &str) -> String {
    let base = good();
    assert!(base.contains(from), "{from:?} is not in the payload");
    base.replacen(from, to, 1)
}

#[test]
fn payload_is_byte_exact() {
    insta::assert_snapshot!(
        good(),
        @r#"{"critical":{"identity":{"docker-reference":"registry.example/gov/forms"},"image":{"docker-manifest-digest":"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},"type":"cosign container image signature"},"optional":null}"#
    );
    // A tag or port in the reference stays as written.
    insta::assert_snapshot!(
        String::from_utf8(payload("localhost:5000/ns/pkg:1.2.3", &digest())).unwrap(),
        @r#"{"critical":{"identity":{"docker-reference":"localhost:5000/ns/pkg:1.2.3"},"image":{"docker-manifest-digest":"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},"type":"cosign container image signature"},"optional":null}"#
    );
}

#[test]
fn payload_round_trips() {
    assert_eq!(
        parse_payload(good().as_bytes()).unwrap(),
        Payload {
            docker_reference: "registry.example/gov/forms".into(),
            manifest_digest: digest(),
            optional: None
        }
    );
    // Escapes survive the trip.
    let odd = "a\"b<c>&d\\e";
    assert_eq!(parse_payload(&payload(odd, &digest())).unwrap().docker_reference, odd);
}

#[test]
fn optional_object_is_kept() {
    let text = with(
        r#""optional":null"#,
        r#""optional":{"creator":"govstore","annotations":{"k":"v"}}"#,
    );
    let parsed = parse_payload(text.as_bytes()).unwrap();
    let optional = parsed.optional.unwrap();
    assert_eq!(optional["creator"], "govstore");
    assert_eq!(optional["annotations"]["k"], "v");
}

#[test]
fn whitespace_and_key_order_do_not_matter_to_the_parser() {
    let text = format!(
        "{{ \"optional\": null,\n \"critical\": {{ \"type\": \"{SIGNATURE_TYPE}\", \"image\": {{\"docker-manifest-digest\": \"{DIGEST}\"}}, \"identity\": {{\"docker-reference\": \"r.example/a\"}} }} }}"
    );
    assert_eq!(parse_payload(text.as_bytes()).unwrap().docker_reference, "r.example/a");
}

#[test]
fn parse_errors() {
    let digest_hex = &DIGEST["sha256:".len()..];
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("not JSON", b"{\"critical\":".to_vec()),
        ("an array", b"[]".to_vec()),
        (
            "critical as an array",
            br#"{"critical":[{"docker-reference":"r"},{"docker-manifest-digest":"x"},"t"],"optional":null}"#.to_vec(),
        ),
        (
            "identity as a string",
            with(r#"{"docker-reference":"registry.example/gov/forms"}"#, r#""r""#).into(),
        ),
        ("wrong type", with(SIGNATURE_TYPE, "atomic container signature").into()),
        ("missing critical", br#"{"optional":null}"#.to_vec()),
        ("missing optional", with(r#","optional":null"#, "").into()),
        (
            "missing type",
            with(&format!(r#","type":"{SIGNATURE_TYPE}""#), "").into(),
        ),
        (
            "missing reference",
            with(r#""docker-reference":"registry.example/gov/forms""#, "").into(),
        ),
        ("empty reference", with("registry.example/gov/forms", "").into()),
        (
            "reference not a string",
            with(r#""registry.example/gov/forms""#, "42").into(),
        ),
        (
            "unknown critical field",
            with(r#""type":"#, r#""extra":1,"type":"#).into(),
        ),
        (
            "unknown top-level field",
            with(r#""optional":null"#, r#""optional":null,"x":1"#).into(),
        ),
        (
            "duplicate digest",
            with(
                &format!(r#""docker-manifest-digest":"{DIGEST}""#),
                &format!(r#""docker-manifest-digest":"{DIGEST}","docker-manifest-digest":"{DIGEST}""#),
            )
            .into(),
        ),
        ("digest without algorithm", with(DIGEST, digest_hex).into()),
        ("digest with sha512", with("sha256:", "sha512:").into()),
        ("digest upper-case", with(digest_hex, &digest_hex.to_uppercase()).into()),
        (
            "optional a string",
            with(r#""optional":null"#, r#""optional":"x""#).into(),
        ),
        ("too large", format!("{}{}", good(), " ".repeat(MAX_PAYLOAD_LEN)).into()),
    ];
    let report: String = cases
        .iter()
        .map(|(name, bytes)| match parse_payload(bytes) {
            Ok(p) => panic!("{name}: accepted as {p:?}"),
            Err(e @ (SigningError::InvalidPayload(_) | SigningError::PayloadTooLarge { .. })) => {
                format!("{name}: {e}\n")
            }
            Err(other) => panic!("{name}: unexpected error kind {other:?}"),
        })
        .collect();
    insta::assert_snapshot!(report);
}
