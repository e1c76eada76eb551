//! `govstore install --offline` from a local cache filled with signed packages the way
//! an online install leaves it (no registry needed): the summary, the rerun that does
//! nothing, a corrupted cache entry and a missing lockfile, stdout, stderr and exit code
//! snapshotted.

#![allow(clippy::unwrap_used)] // a failing test is meant to panic

use std::path::Path;
use std::process::{Command, Stdio};

use base64::Engine as _;
use govstore_client::cache::Cache;
use govstore_client::pack::{Filter, pack};
use govstore_core::Digest;
use govstore_core::artifact::{Blob, PackageArtifact};
use govstore_core::manifest::Manifest;
use govstore_core::oci::media_types;
use govstore_core::stack::{LockedPackage, Lockfile};
use govstore_signing::{KeyPair, simple_signing};
use serde_json::json;

struct Env {
    dir: tempfile::TempDir,
    config: tempfile::TempDir,
    cache: tempfile::TempDir,
}

impl Env {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
            config: tempfile::tempdir().unwrap(),
            cache: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn cache(&self) -> Cache {
        Cache::new(self.cache.path())
    }

    fn run(&self, args: &[&str]) -> String {
        let out = Command::new(env!("CARGO_BIN_EXE_govstore"))
            .args(args)
            .current_dir(self.path())
            .stdin(Stdio::null())
            .env("NO_COLOR", "1")
            .env("GOVSTORE_CONFIG_DIR", self.config.path())
            .env("GOVSTORE_CACHE_DIR", self.cache.path())
            .env_remove("GOVSTORE_TOKEN")
            .env_remove("GOVSTORE_REGISTRY")
            .output()
            .expect("the govstore binary runs");
        let text = format!(
            "exit: {}\n--- stdout\n{}--- stderr\n{}",
            out.status.code().map_or("signal".to_owned(), |c| c.to_string()),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        redact(&text.replace(&self.cache.path().display().to_string(), "[CACHE]"))
    }
}

/// Key ids (and so signature digests) are random; the rest is deterministic.
fn redact(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find("signed by sha256:") {
        let start = i + "signed by ".len();
        out.push_str(&rest[..start]);
        out.push_str("sha256:[KEY]");
        let hex = rest[start + 7..].chars().take_while(char::is_ascii_hexdigit).count();
        rest = &rest[start + 7 + hex..];
    }
    out.push_str(rest);
    out
}

/// Puts a signed package into the cache as an online install would, and returns its
/// lockfile entry and its content digest.
fn cached_package(
    env: &Env,
    key: &KeyPair,
    name: &str,
    version: &str,
    files: &[(&str, &str)],
) -> (LockedPackage, Digest) {
    let cache = env.cache();
    let src = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let p = src.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let packed = pack(src.path(), &Filter::new(&[], &[]).unwrap(), &Default::default(), None).unwrap();
    let content = std::fs::read(packed.path()).unwrap();
    let toml =
        format!("[package]\nname = \"{name}\"\nversion = \"{version}\"\ndescription = \"Test\"\nlicense = \"MIT\"\n");
    let config = Manifest::from_toml_str(&toml).unwrap().canonical_json().into_bytes();
    let readme = format!("# {name}\n").into_bytes();
    let blob = |b: &[u8]| Blob {
        digest: Digest::of(b),
        size: b.len() as u64,
    };
    let artifact = PackageArtifact {
        name: name.into(),
        version: version.into(),
        config: blob(&config),
        content: blob(&content),
        readme: Some(blob(&readme)),
        sbom: None,
    };
    let manifest = artifact.manifest_bytes();
    let digest = Digest::of(&manifest);
    let payload = simple_signing::payload(&format!("registry.example.gov/{name}"), &digest);
    let signature = base64::engine::general_purpose::STANDARD.encode(key.sign(&payload).unwrap());
    let sig = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": media_types::OCI_MANIFEST,
        "config": { "mediaType": media_types::OCI_EMPTY, "digest": Digest::of(b"{}").to_string(), "size": 2 },
        "layers": [{
            "mediaType": simple_signing::PAYLOAD_MEDIA_TYPE, "digest": Digest::of(&payload).to_string(), "size": payload.len(),
            "annotations": { simple_signing::SIGNATURE_ANNOTATION: signature },
        }],
    }))
    .unwrap();
    for bytes in [&manifest, &config, &content, &readme, &payload, &sig] {
        cache.put_blob(&Digest::of(bytes), bytes).unwrap();
    }
    cache.put_signature_ref(&digest, &Digest::of(&sig)).unwrap();
    cache.put_key(&key.public_key()).unwrap();
    let locked = LockedPackage {
        name: name.parse().unwrap(),
        version: version.parse().unwrap(),
        digest,
        key_ids: vec![key.public_key().key_id()],
        source: "https://registry.example.gov".parse().unwrap(),
    };
    (locked, Digest::of(&content))
}

fn write_lock(env: &Env, packages: Vec<LockedPackage>) {
    let lock = Lockfile::new(Digest::of(b"stack"), packages);
    std::fs::write(env.path().join("govstore.lock"), lock.to_toml_string()).unwrap();
}

#[test]
fn offline_install_then_a_rerun_that_does_nothing() {
    let env = Env::new();
    let key = KeyPair::generate().unwrap();
    let (a, _) = cached_package(
        &env,
        &key,
        "mosip/esignet",
        "1.8.0",
        &[("deploy/values.yaml", "replicas: 2\n")],
    );
    let (b, _) = cached_package(
        &env,
        &key,
        "x-road/security-server",
        "7.8.0",
        &[("compose.yaml", "services: {}\n")],
    );
    write_lock(&env, vec![a, b]);

    insta::assert_snapshot!("offline_install", env.run(&["install", "--into", "stack", "--offline"]));
    assert_eq!(
        std::fs::read_to_string(env.path().join("stack/mosip/esignet/deploy/values.yaml")).unwrap(),
        "replicas: 2\n"
    );
    insta::assert_snapshot!("rerun", env.run(&["install", "--into", "stack", "--offline"]));
    let json = env.run(&["install", "--into", "stack", "--offline", "--json"]);
    assert!(json.contains("\"up_to_date\": true"), "{json}");
}

#[test]
fn a_corrupted_cache_entry_is_not_installed() {
    let env = Env::new();
    let key = KeyPair::generate().unwrap();
    let (a, content) = cached_package(
        &env,
        &key,
        "mosip/esignet",
        "1.8.0",
        &[("values.yaml", "replicas: 2\n")],
    );
    write_lock(&env, vec![a]);
    std::fs::write(env.cache().blob_path(&content), b"not the content").unwrap();
    insta::assert_snapshot!("corrupted_cache", env.run(&["install", "--into", "stack", "--offline"]));
    assert!(!env.path().join("stack").exists());
}

#[test]
fn a_missing_lockfile() {
    let env = Env::new();
    insta::assert_snapshot!(
        "missing_lockfile",
        env.run(&["install", "--into", "stack", "--offline"])
    );
}

/// The receipt is written with its format, read without one (an older govstore's) and
/// with fields this govstore does not know, and refused, with the directory left as it
/// is, when a newer govstore wrote it in a newer major format. So is a newer lockfile.
#[test]
fn receipt_and_lockfile_formats() {
    let env = Env::new();
    let key = KeyPair::generate().unwrap();
    let (a, _) = cached_package(
        &env,
        &key,
        "mosip/esignet",
        "1.8.0",
        &[("values.yaml", "replicas: 2\n")],
    );
    write_lock(&env, vec![a]);
    let install = ["install", "--into", "stack", "--offline"];
    let first = env.run(&install);
    assert!(first.starts_with("exit: 0"), "{first}");

    let receipt_path = env.path().join("stack").join(".govstore-receipt.json");
    let text = std::fs::read_to_string(&receipt_path).unwrap();
    assert!(text.starts_with("{\n  \"receipt_version\": 1,\n"), "{text}");
    let mut receipt: serde_json::Value = serde_json::from_str(&text).unwrap();
    receipt.as_object_mut().unwrap().remove("receipt_version");
    receipt["installed_by"] = json!("govstore 9.0");
    receipt["packages"][0]["sbom"] = json!({ "digest": "sha256:00" });
    std::fs::write(&receipt_path, receipt.to_string()).unwrap();
    let rerun = env.run(&install);
    assert!(
        rerun.contains("stack is up to date with govstore.lock (1 package); nothing to do"),
        "{rerun}"
    );

    receipt["receipt_version"] = json!(2);
    receipt["packages"] = json!({ "mosip/esignet": { "layers": [] } });
    let newer = receipt.to_string();
    std::fs::write(&receipt_path, &newer).unwrap();
    let dir = env.path().canonicalize().unwrap().display().to_string();
    assert_eq!(
        env.run(&install).replace(&dir, "[DIR]"),
        "exit: 1\n--- stdout\n--- stderr\n\
         error: the install receipt `[DIR]/stack/.govstore-receipt.json` uses format 2; this govstore understands format 1\n\
         hint: stack was not changed; upgrade govstore to a release that understands format 2\n"
    );
    assert_eq!(std::fs::read_to_string(&receipt_path).unwrap(), newer);
    assert_eq!(
        std::fs::read_to_string(env.path().join("stack/mosip/esignet/values.yaml")).unwrap(),
        "replicas: 2\n"
    );

    let lock_path = env.path().join("govstore.lock");
    let lock = std::fs::read_to_string(&lock_path).unwrap();
    assert!(lock.contains("\nversion = 1\n"), "{lock}");
    std::fs::write(&lock_path, lock.replace("\nversion = 1\n", "\nversion = \"2.0\"\n")).unwrap();
    assert_eq!(
        env.run(&install),
        "exit: 1\n--- stdout\n--- stderr\n\
         error: `govstore.lock` uses format 2; this govstore understands format 1\n\
         hint: upgrade govstore to a release that understands format 2\n"
    );
}
