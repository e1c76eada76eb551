//! Keys: generation, the encrypted PEM form (label, scrypt N, envelope), reading keys written
//! by cosign 2.x and sigstore-rs, signing and verification, and the refusals.

#![allow(clippy::unwrap_used)] // a failing test is meant to panic

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use govstore_core::Digest;
use govstore_signing::{KeyPair, PublicKey, SigningError};
use sigstore::crypto::signing_key::KeyPair as _;
use sigstore::crypto::signing_key::ecdsa::EllipticCurve;
use sigstore::crypto::signing_key::ecdsa::ec::EcdsaKeys;

const PASSWORD: &[u8] = b"correct horse battery staple";
const PAYLOAD: &[u8] = br#"{"critical":{"identity":{"docker-reference":"registry.example/gov/forms"},"image":{"docker-manifest-digest":"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},"type":"cosign container image signature"},"optional":null}"#;

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn relabel(pem: &str, from: &str, to: &str) -> String {
    assert!(pem.contains(from));
    pem.replace(from, to)
}

/// The JSON envelope inside an encrypted key PEM.
fn envelope(pem: &str) -> serde_json::Value {
    let block = pem::parse(pem).unwrap();
    serde_json::from_slice(block.contents()).unwrap()
}

#[test]
fn round_trip_generate_write_read_sign_verify() {
    let key = KeyPair::generate().unwrap();
    let pem = key.to_encrypted_pem(PASSWORD).unwrap();
    let read = KeyPair::from_encrypted_pem(&pem, PASSWORD).unwrap();
    assert_eq!(read.public_key(), key.public_key());

    let signature = read.sign(PAYLOAD).unwrap();
    key.public_key().verify(PAYLOAD, &signature).unwrap();
    // ECDSA signatures are randomised; the original key's verify the read-back key's, and back.
    read.public_key().verify(PAYLOAD, &key.sign(PAYLOAD).unwrap()).unwrap();
    // ASN.1 DER: SEQUENCE { INTEGER r, INTEGER s }.
    assert_eq!(signature[0], 0x30);
    assert_eq!(usize::from(signature[1]), signature.len() - 2);
}

#[test]
fn the_written_pem_is_cosign_labelled_with_scrypt_n_32768() {
    let pem = KeyPair::generate().unwrap().to_encrypted_pem(PASSWORD).unwrap();
    let lines: Vec<&str> = pem.lines().collect();
    assert_eq!(lines.first(), Some(&"-----BEGIN ENCRYPTED COSIGN PRIVATE KEY-----"));
    assert_eq!(lines.last(), Some(&"-----END ENCRYPTED COSIGN PRIVATE KEY-----"));
    assert!(!pem.contains('\r'), "LF line endings, as cosign writes");
    assert!(pem.ends_with("-----\n"));
    assert!(lines[1..lines.len() - 1].iter().all(|l| l.len() <= 64));

    let env = envelope(&pem);
    assert_eq!(env["kdf"]["name"], "scrypt");
    assert_eq!(env["kdf"]["params"]["N"], 32768);
    assert_eq!(env["kdf"]["params"]["r"], 8);
    assert_eq!(env["kdf"]["params"]["p"], 1);
    assert_eq!(env["cipher"]["name"], "nacl/secretbox");
    let b64 = |v: &serde_json::Value| BASE64.decode(v.as_str().unwrap()).unwrap();
    assert_eq!(b64(&env["kdf"]["salt"]).len(), 32);
    assert_eq!(b64(&env["cipher"]["nonce"]).len(), 24);
    // PKCS#8 of a P-256 key (~138 bytes) plus the 16-byte Poly1305 tag.
    assert!(b64(&env["ciphertext"]).len() > 100);
}

#[test]
fn each_write_uses_a_fresh_salt_and_nonce() {
    let key = KeyPair::generate().unwrap();
    let (a, b) = (
        envelope(&key.to_encrypted_pem(PASSWORD).unwrap()),
        envelope(&key.to_encrypted_pem(PASSWORD).unwrap()),
    );
    assert_ne!(a["kdf"]["salt"], b["kdf"]["salt"]);
    assert_ne!(a["cipher"]["nonce"], b["cipher"]["nonce"]);
}

#[test]
fn wrong_password_is_refused() {
    let pem = KeyPair::generate().unwrap().to_encrypted_pem(PASSWORD).unwrap();
    let err = KeyPair::from_encrypted_pem(&pem, b"wrong").unwrap_err();
    assert!(matches!(err, SigningError::WrongPassword), "{err:?}");
    assert_eq!(
        err.to_string(),
        "wrong password for this private key (or the key file is corrupted)"
    );
    assert!(matches!(
        KeyPair::from_encrypted_pem(&pem, b""),
        Err(SigningError::WrongPassword)
    ));
}

#[test]
fn an_empty_password_works_as_cosign_allows() {
    let key = KeyPair::generate().unwrap();
    let pem = key.to_encrypted_pem(b"").unwrap();
    assert_eq!(
        KeyPair::from_encrypted_pem(&pem, b"").unwrap().public_key(),
        key.public_key()
    );
}

#[test]
fn tampered_payload_or_signature_is_refused() {
    let key = KeyPair::generate().unwrap();
    let public = key.public_key();
    let signature = key.sign(PAYLOAD).unwrap();

    let mut payload = PAYLOAD.to_vec();
    payload[60] ^= 1;
    assert!(matches!(
        public.verify(&payload, &signature),
        Err(SigningError::BadSignature)
    ));
    assert!(matches!(
        public.verify(&PAYLOAD[..PAYLOAD.len() - 1], &signature),
        Err(SigningError::BadSignature)
    ));

    let last = signature.len() - 1;
    let mut flipped = signature.clone();
    flipped[last] ^= 1;
    assert!(matches!(
        public.verify(PAYLOAD, &flipped),
        Err(SigningError::BadSignature)
    ));
    assert!(matches!(
        public.verify(PAYLOAD, &signature[..last]),
        Err(SigningError::BadSignature)
    ));
    let mut trailing = signature.clone();
    trailing.push(0);
    assert!(matches!(
        public.verify(PAYLOAD, &trailing),
        Err(SigningError::BadSignature)
    ));
    assert!(matches!(public.verify(PAYLOAD, b""), Err(SigningError::BadSignature)));
    assert_eq!(
        public.verify(PAYLOAD, b"").unwrap_err().to_string(),
        "the signature does not verify against this public key"
    );
    public.verify(PAYLOAD, &signature).unwrap();
}

#[test]
fn a_signature_from_another_key_is_refused() {
    let (a, b) = (KeyPair::generate().unwrap(), KeyPair::generate().unwrap());
    assert_ne!(a.public_key(), b.public_key());
    assert_ne!(a.public_key().key_id(), b.public_key().key_id());
    let signature = b.sign(PAYLOAD).unwrap();
    assert!(matches!(
        a.public_key().verify(PAYLOAD, &signature),
        Err(SigningError::BadSignature)
    ));
}

#[test]
fn reads_our_key_relabelled_sigstore() {
    let key = KeyPair::generate().unwrap();
    let pem = relabel(
        &key.to_encrypted_pem(PASSWORD).unwrap(),
        "ENCRYPTED COSIGN PRIVATE KEY",
        "ENCRYPTED SIGSTORE PRIVATE KEY",
    );
    assert_eq!(
        KeyPair::from_encrypted_pem(&pem, PASSWORD).unwrap().public_key(),
        key.public_key()
    );
}

#[test]
fn reads_a_key_written_by_sigstore_rs() {
    // sigstore-rs's own writer: SIGSTORE label, CRLF line endings.
    let keys = EcdsaKeys::new(EllipticCurve::P256).unwrap();
    let pem = keys.private_key_to_encrypted_pem(PASSWORD).unwrap();
    assert!(pem.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\r\n"));
    let key = KeyPair::from_encrypted_pem(&pem, PASSWORD).unwrap();
    let expected = PublicKey::from_pem(&keys.public_key_to_pem().unwrap()).unwrap();
    assert_eq!(key.public_key(), expected);
    expected.verify(PAYLOAD, &key.sign(PAYLOAD).unwrap()).unwrap();
}

#[test]
fn reads_a_cosign_2_key_sigstore_label_n_65536() {
    let pem = fixture("cosign2_generated_sigstore_label_n65536_empty_password.key");
    assert_eq!(envelope(&pem)["kdf"]["params"]["N"], 65536);
    let key = KeyPair::from_encrypted_pem(&pem, b"").unwrap();
    key.public_key().verify(PAYLOAD, &key.sign(PAYLOAD).unwrap()).unwrap();
    assert!(matches!(
        KeyPair::from_encrypted_pem(&pem, b"x"),
        Err(SigningError::WrongPassword)
    ));
}

#[test]
fn reads_a_cosign_labelled_fixture_n_32768() {
    let pem = fixture("sigstore-rs_ecdsa_cosign_label_n32768.key");
    assert_eq!(envelope(&pem)["kdf"]["params"]["N"], 32768);
    let key = KeyPair::from_encrypted_pem(&pem, b"123").unwrap();
    key.public_key().verify(PAYLOAD, &key.sign(PAYLOAD).unwrap()).unwrap();
    // Written back, it carries the same key under the same label.
    let again = KeyPair::from_encrypted_pem(&key.to_encrypted_pem(b"new").unwrap(), b"new").unwrap();
    assert_eq!(again.public_key(), key.public_key());
}

#[test]
fn keys_other_than_p256_are_refused() {
    let ed25519 = fixture("sigstore-rs_ed25519_sigstore_label.key");
    let err = KeyPair::from_encrypted_pem(&ed25519, b"123").unwrap_err();
    assert!(matches!(err, SigningError::NotP256(_)), "{err:?}");

    let p384 = EcdsaKeys::new(EllipticCurve::P384).unwrap();
    let pem = relabel(
        &p384.private_key_to_encrypted_pem(PASSWORD).unwrap(),
        "ENCRYPTED SIGSTORE PRIVATE KEY",
        "ENCRYPTED COSIGN PRIVATE KEY",
    );
    let err = KeyPair::from_encrypted_pem(&pem, PASSWORD).unwrap_err();
    assert_eq!(err.to_string(), "not an ECDSA P-256 key: this is an ECDSA P384 key");
}

#[test]
fn unencrypted_and_unknown_labels_are_refused() {
    let plain = EcdsaKeys::new(EllipticCurve::P256)
        .unwrap()
        .private_key_to_pem()
        .unwrap();
    let err = KeyPair::from_encrypted_pem(&plain, b"").unwrap_err();
    assert_eq!(
        err.to_string(),
        "unsupported PEM label `PRIVATE KEY`; expected `ENCRYPTED COSIGN PRIVATE KEY` or \
         `ENCRYPTED SIGSTORE PRIVATE KEY` (unencrypted private keys are not accepted)"
    );
    let public = KeyPair::generate().unwrap().public_key().to_pem();
    assert!(matches!(
        KeyPair::from_encrypted_pem(&public, b""),
        Err(SigningError::UnsupportedPemLabel { .. })
    ));
    assert!(matches!(
        KeyPair::from_encrypted_pem("not a key", b""),
        Err(SigningError::InvalidPem(_))
    ));
}

#[test]
fn two_pem_blocks_are_refused() {
    let a = KeyPair::generate().unwrap().to_encrypted_pem(PASSWORD).unwrap();
    let err = KeyPair::from_encrypted_pem(&format!("{a}{a}"), PASSWORD).unwrap_err();
    assert_eq!(
        err.to_string(),
        "not a valid PEM file: 2 PEM blocks found; expected exactly one"
    );
}

#[test]
fn expensive_or_unknown_kdf_parameters_are_refused() {
    let pem = KeyPair::generate().unwrap().to_encrypted_pem(PASSWORD).unwrap();
    let mut env = envelope(&pem);
    env["kdf"]["params"]["N"] = serde_json::json!(1_048_576);
    let edited = pem::encode(&pem::Pem::new("ENCRYPTED COSIGN PRIVATE KEY", env.to_string()));
    let err = KeyPair::from_encrypted_pem(&edited, PASSWORD).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the encrypted private key is malformed: unsupported scrypt parameters N=1048576, r=8, p=1; \
         expected N=32768 or 65536, r=8, p=1"
    );
}

#[test]
fn public_key_pem_round_trip_and_key_id() {
    let public = KeyPair::generate().unwrap().public_key();
    let pem = public.to_pem();
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
    assert!(pem.ends_with("-----END PUBLIC KEY-----\n"));
    assert_eq!(PublicKey::from_pem(&pem).unwrap(), public);
    // CRLF (as sigstore-rs writes) reads the same.
    assert_eq!(PublicKey::from_pem(&pem.replace('\n', "\r\n")).unwrap(), public);

    let der = pem::parse(&pem).unwrap().into_contents();
    assert_eq!(der.len(), 91);
    assert_eq!(public.key_id(), Digest::of(&der).to_string());
    assert!(public.key_id().starts_with("sha256:") && public.key_id().len() == 71);
    assert_eq!(public.key_id(), PublicKey::from_pem(&pem).unwrap().key_id());
}

#[test]
fn debug_shows_the_key_id_only() {
    let key = KeyPair::generate().unwrap();
    let id = key.public_key().key_id();
    assert_eq!(format!("{key:?}"), format!("KeyPair {{ key_id: {id:?}, .. }}"));
    assert_eq!(
        format!("{:?}", key.public_key()),
        format!("PublicKey {{ key_id: {id:?} }}")
    );
}

#[test]
fn bad_public_keys_are_refused_with_a_reason() {
    let err = PublicKey::from_pem(&fixture("p384_public.pem")).unwrap_err();
    assert_eq!(err.to_string(), "not an ECDSA P-256 key: this is an ECDSA P-384 key");

    let good = pem::parse(KeyPair::generate().unwrap().public_key().to_pem())
        .unwrap()
        .into_contents();
    let pem_of = |der: Vec<u8>| pem::encode(&pem::Pem::new("PUBLIC KEY", der));

    // The same key with a compressed point: valid P-256, but not the canonical form.
    let (x, y) = (&good[27..59], &good[59..91]);
    let mut compressed = hex_bytes("3039301306072a8648ce3d020106082a8648ce3d030107032200");
    compressed.push(if y[31] & 1 == 0 { 2 } else { 3 });
    compressed.extend_from_slice(x);
    let err = PublicKey::from_pem(&pem_of(compressed)).unwrap_err();
    assert!(
        err.to_string()
            .contains("not in the uncompressed SubjectPublicKeyInfo form"),
        "{err}"
    );

    // A point off the curve.
    let mut off_curve = good.clone();
    off_curve[90] ^= 1;
    let err = PublicKey::from_pem(&pem_of(off_curve)).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("invalid public key: not a point on the P-256 curve"),
        "{err}"
    );

    let err = PublicKey::from_pem(&pem_of(b"garbage".to_vec())).unwrap_err();
    assert!(matches!(err, SigningError::InvalidPublicKey(_)), "{err:?}");

    let private = KeyPair::generate().unwrap().to_encrypted_pem(PASSWORD).unwrap();
    let err = PublicKey::from_pem(&private).unwrap_err();
    assert_eq!(
        err.to_string(),
        "unsupported PEM label `ENCRYPTED COSIGN PRIVATE KEY`; expected `PUBLIC KEY`"
    );
}

#[test]
fn verifies_a_signature_made_by_cosign() {
    // From sigstore-rs's tests (crypto/verification_key.rs): a cosign-made signature over a
    // cosign-made payload. Our payload writer gives the same bytes.
    const COSIGN_PUB: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAENptdY/l3nB0yqkXLBWkZWQwo6+cu
OSWS1X9vPavpiQOoTTGC0xX57OojUadxF1cdQmrsiReWg2Wn4FneJfa8xw==
-----END PUBLIC KEY-----";
    const SIGNATURE_B64: &str =
        "MEUCIQD6q/COgzOyW0YH1Dk+CCYSt4uAhm3FDHUwvPI55zwnlwIgE0ZK58ZOWpZw8YVmBapJhBqCfdPekIknimuO0xH8Jh8=";
    const COSIGN_PAYLOAD: &str = r#"{"critical":{"identity":{"docker-reference":"registry-testing.svc.lan/busybox"},"image":{"docker-manifest-digest":"sha256:f3cfc9d0dbf931d3db4685ec659b7ac68e2a578219da4aae65427886e649b06b"},"type":"cosign container image signature"},"optional":null}"#;

    let digest: Digest = "sha256:f3cfc9d0dbf931d3db4685ec659b7ac68e2a578219da4aae65427886e649b06b"
        .parse()
        .unwrap();
    let ours = govstore_signing::simple_signing::payload("registry-testing.svc.lan/busybox", &digest);
    assert_eq!(String::from_utf8(ours.clone()).unwrap(), COSIGN_PAYLOAD);

    let public = PublicKey::from_pem(COSIGN_PUB).unwrap();
    let signature = BASE64.decode(SIGNATURE_B64).unwrap();
    public.verify(&ours, &signature).unwrap();
    assert!(matches!(
        public.verify(&ours[..ours.len() - 1], &signature),
        Err(SigningError::BadSignature)
    ));
    // cosign.pub round-trips byte for byte (modulo the final newline).
    assert_eq!(public.to_pem().trim_end(), COSIGN_PUB);
}

#[test]
fn keys_can_be_shared_across_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<KeyPair>();
    send_sync::<PublicKey>();
    send_sync::<SigningError>();
}

fn hex_bytes(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}
