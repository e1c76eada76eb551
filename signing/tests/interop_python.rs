//! Interop with an ECDSA implementation that is not ours: Python's `cryptography` (OpenSSL).
//!
//! It checks our public key PEM, payload and DER signature, and refuses a tampered payload;
//! the other way round, we read its public key and verify its signature. This test fails
//! (never skips) when `python3` or `cryptography` is missing: CI installs it from
//! tests/e2e/requirements.txt.

#![allow(clippy::unwrap_used)] // a failing test is meant to panic

use std::path::Path;
use std::process::{Command, Output};

use govstore_core::Digest;
use govstore_signing::simple_signing::payload;
use govstore_signing::{KeyPair, PublicKey, SigningError};

const HOW_TO_INSTALL: &str = "install it with `python3 -m pip install -r tests/e2e/requirements.txt`";

/// Verifies argv[2] (DER signature) over argv[1] (payload) with the PEM public key argv[0].
/// Exit 0: valid; 1: invalid signature; anything else: a broken setup.
const VERIFY: &str = r#"
import sys
try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import load_pem_public_key
except ImportError as e:
    print(f"IMPORT-ERROR: {e}", file=sys.stderr)
    sys.exit(3)
key = load_pem_public_key(open(sys.argv[1], "rb").read())
assert isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1), key
payload = open(sys.argv[2], "rb").read()
sig = open(sys.argv[3], "rb").read()
try:
    key.verify(sig, payload, ec.ECDSA(hashes.SHA256()))
except InvalidSignature:
    print("invalid signature")
    sys.exit(1)
print("verified")
"#;

/// Makes a P-256 key, signs argv[2]'s bytes, writes the SPKI PEM to argv[1] and the DER
/// signature to argv[3], and prints sha256:<hex> of the SPKI DER.
const SIGN: &str = r#"
import hashlib, sys
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
key = ec.generate_private_key(ec.SECP256R1())
pub = key.public_key()
open(sys.argv[1], "wb").write(pub.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
payload = open(sys.argv[2], "rb").read()
open(sys.argv[3], "wb").write(key.sign(payload, ec.ECDSA(hashes.SHA256())))
der = pub.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
print("sha256:" + hashlib.sha256(der).hexdigest())
"#;

fn python(script: &str, args: &[&Path]) -> Output {
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run python3 ({e}); this test needs python3 with `cryptography`: {HOW_TO_INSTALL}")
        });
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.code() == Some(3) || stderr.contains("ModuleNotFoundError") || stderr.contains("IMPORT-ERROR") {
        panic!("python3 has no `cryptography` package: {HOW_TO_INSTALL}\n{stderr}");
    }
    out
}

fn describe(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn python_cryptography_verifies_our_signature() {
    let dir = tempfile::tempdir().unwrap();
    let (pub_path, payload_path, sig_path) = (
        dir.path().join("cosign.pub"),
        dir.path().join("payload.json"),
        dir.path().join("signature.der"),
    );

    let key = KeyPair::generate().unwrap();
    let bytes = payload("registry.example/gov/forms", &Digest::of(b"a manifest"));
    std::fs::write(&pub_path, key.public_key().to_pem()).unwrap();
    std::fs::write(&payload_path, &bytes).unwrap();
    std::fs::write(&sig_path, key.sign(&bytes).unwrap()).unwrap();

    let out = python(VERIFY, &[&pub_path, &payload_path, &sig_path]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "python did not verify our signature: {}",
        describe(&out)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "verified");

    // One byte of the payload changed: python must refuse it.
    let mut tampered = bytes.clone();
    let at = tampered.len() - 20;
    tampered[at] ^= 1;
    std::fs::write(&payload_path, &tampered).unwrap();
    let out = python(VERIFY, &[&pub_path, &payload_path, &sig_path]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "python accepted a tampered payload: {}",
        describe(&out)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "invalid signature");
}

#[test]
fn we_verify_a_signature_made_by_python_cryptography() {
    let dir = tempfile::tempdir().unwrap();
    let (pub_path, payload_path, sig_path) = (
        dir.path().join("cosign.pub"),
        dir.path().join("payload.json"),
        dir.path().join("signature.der"),
    );
    let bytes = payload("registry.example/gov/forms", &Digest::of(b"another manifest"));
    std::fs::write(&payload_path, &bytes).unwrap();

    let out = python(SIGN, &[&pub_path, &payload_path, &sig_path]);
    assert!(out.status.success(), "python could not sign: {}", describe(&out));
    let python_key_id = String::from_utf8(out.stdout).unwrap().trim().to_owned();

    let public = PublicKey::from_pem(&std::fs::read_to_string(&pub_path).unwrap()).unwrap();
    assert_eq!(public.key_id(), python_key_id, "key id is sha256 of the same SPKI DER");
    let signature = std::fs::read(&sig_path).unwrap();
    public.verify(&bytes, &signature).unwrap();
    assert!(matches!(
        public.verify(&bytes[1..], &signature),
        Err(SigningError::BadSignature)
    ));
}
