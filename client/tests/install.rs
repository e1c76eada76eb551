//! Index reads and installs against a small in-process registry that serves what the
//! real one serves to an operator (blobs, manifests, cosign `.sig` tags, namespace keys,
//! the sparse index with ETags), filled directly by the test with signed packages.
//!
//! Covers: the HTTP cache (conditional GETs, offline), the walk that fills a catalogue,
//! a verified install with its receipt, a rerun that does nothing, offline installs
//! from the cache, tampering with a blob or a signature (install fails and the
//! directory is untouched), a signer the lockfile does not name, updates and removals,
//! symbolic links in the directory, and an install interrupted in the middle.

#![allow(clippy::unwrap_used)] // a failing test is meant to panic

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use govstore_client::cache::Cache;
use govstore_client::index::{IndexClient, IndexError, Root, Source};
use govstore_client::install::{InstallError, InstallOptions, InstallReport, RECEIPT_FILE, install};
use govstore_client::progress::{NoProgress, Progress};
use govstore_client::registry::RegistryClient;
use govstore_core::Digest;
use govstore_core::artifact::{Blob, PackageArtifact};
use govstore_core::index::{IndexVersion, PackageIndex, SpecIndex};
use govstore_core::manifest::Manifest;
use govstore_core::oci::media_types;
use govstore_core::stack::{LockedPackage, Lockfile};
use govstore_signing::{KeyPair, simple_signing};
use serde_json::{Value, json};

#[derive(Default)]
struct Mock {
    blobs: HashMap<String, Vec<u8>>,
    manifests: HashMap<String, Vec<u8>>,
    /// `<repo>:<tag>` -> digest.
    tags: HashMap<String, String>,
    keys: HashMap<String, Vec<Value>>,
    packages: HashMap<String, PackageIndex>,
    specs: HashMap<String, SpecIndex>,
    blob_gets: u64,
    index_gets: u64,
    not_modified: u64,
}

type Shared = Arc<Mutex<Mock>>;

fn not_found(code: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(json!({ "errors": [{ "code": code, "message": "not found", "detail": null }] })),
    )
        .into_response()
}

async fn get_blob(State(s): State<Shared>, UrlPath((_, _, d)): UrlPath<(String, String, String)>) -> Response {
    let mut m = s.lock().unwrap();
    m.blob_gets += 1;
    m.blobs
        .get(&d)
        .cloned()
        .map_or_else(|| not_found("BLOB_UNKNOWN"), IntoResponse::into_response)
}

async fn get_manifest(
    State(s): State<Shared>,
    UrlPath((ns, name, reference)): UrlPath<(String, String, String)>,
) -> Response {
    let m = s.lock().unwrap();
    let digest = m
        .tags
        .get(&format!("{ns}/{name}:{reference}"))
        .cloned()
        .unwrap_or(reference);
    match m.manifests.get(&digest) {
        Some(bytes) => ([(header::CONTENT_TYPE, media_types::OCI_MANIFEST)], bytes.clone()).into_response(),
        None => not_found("MANIFEST_UNKNOWN"),
    }
}

async fn keys(State(s): State<Shared>, UrlPath(ns): UrlPath<String>) -> Response {
    let keys = s.lock().unwrap().keys.get(&ns).cloned().unwrap_or_default();
    axum::Json(json!({ "namespace": ns, "keys": keys })).into_response()
}

fn document(s: &Shared, headers: &HeaderMap, body: Option<Vec<u8>>) -> Response {
    let mut m = s.lock().unwrap();
    m.index_gets += 1;
    let Some(body) = body else {
        return not_found("NOT_FOUND");
    };
    let etag = format!("\"{}\"", Digest::of(&body).hex());
    if headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(etag.as_str()) {
        m.not_modified += 1;
        return (
            StatusCode::NOT_MODIFIED,
            [(header::ETAG, HeaderValue::from_str(&etag).unwrap())],
        )
            .into_response();
    }
    ([(header::ETAG, etag)], body).into_response()
}

async fn package_index(
    State(s): State<Shared>,
    headers: HeaderMap,
    UrlPath((ns, name)): UrlPath<(String, String)>,
) -> Response {
    let body = s
        .lock()
        .unwrap()
        .packages
        .get(&format!("{ns}/{name}"))
        .map(|d| serde_json::to_vec(d).unwrap());
    document(&s, &headers, body)
}

async fn spec_index(
    State(s): State<Shared>,
    headers: HeaderMap,
    UrlPath((ns, name)): UrlPath<(String, String)>,
) -> Response {
    let body = s
        .lock()
        .unwrap()
        .specs
        .get(&format!("{ns}/{name}"))
        .map(|d| serde_json::to_vec(d).unwrap());
    document(&s, &headers, body)
}

async fn start() -> (String, Shared) {
    let state: Shared = Arc::default();
    let app = Router::new()
        .route("/v2/{ns}/{name}/blobs/{digest}", get(get_blob))
        .route("/v2/{ns}/{name}/manifests/{reference}", get(get_manifest))
        .route("/api/v1/namespaces/{ns}/keys", get(keys))
        .route("/api/v1/index/packages/{ns}/{name}", get(package_index))
        .route("/api/v1/index/specs/{ns}/{name}", get(spec_index))
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), state)
}

fn register(state: &Shared, ns: &str, key: &KeyPair) {
    let public = key.public_key();
    state
        .lock()
        .unwrap()
        .keys
        .entry(ns.to_owned())
        .or_default()
        .push(json!({
            "key_id": public.key_id(), "name": "ci", "public_key": public.to_pem(),
            "created_at": "2026-11-21T00:00:00Z", "revoked_at": null, "revoke_reason": null,
        }));
}

fn tarball(files: &[(&str, &[u8])]) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut tar = tar::Builder::new(gz);
    for (path, data) in files {
        let mut h = tar::Header::new_ustar();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(0);
        h.set_path(path).unwrap();
        h.set_cksum();
        tar.append(&h, *data).unwrap();
    }
    tar.into_inner().unwrap().finish().unwrap()
}

/// What a test needs to know about a published version.
#[derive(Clone)]
struct Published {
    locked: LockedPackage,
    content: Digest,
    signature: Digest,
}

/// Publishes `name@version` into the mock as the registry would: blobs, manifest,
/// version tag, cosign signature manifest and tag, and the index documents.
fn publish(
    state: &Shared,
    url: &str,
    key: &KeyPair,
    name: &str,
    version: &str,
    extra: &str,
    files: &[(&str, &[u8])],
) -> Published {
    let toml = format!(
        "[package]\nname = \"{name}\"\nversion = \"{version}\"\ndescription = \"Test package\"\nlicense = \"MIT\"\n{extra}"
    );
    let manifest = Manifest::from_toml_str(&toml).unwrap();
    let config = manifest.canonical_json().into_bytes();
    let content = tarball(files);
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
    let bytes = artifact.manifest_bytes();
    let digest = Digest::of(&bytes);
    let host = url.trim_start_matches("http://");
    let payload = simple_signing::payload(&format!("{host}/{name}"), &digest);
    let signature = key.sign(&payload).unwrap();
    let sig = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": media_types::OCI_MANIFEST,
        "config": { "mediaType": media_types::OCI_EMPTY, "digest": Digest::of(b"{}").to_string(), "size": 2 },
        "layers": [{
            "mediaType": simple_signing::PAYLOAD_MEDIA_TYPE,
            "digest": Digest::of(&payload).to_string(),
            "size": payload.len(),
            "annotations": { simple_signing::SIGNATURE_ANNOTATION: BASE64.encode(&signature) },
        }],
        "subject": { "mediaType": media_types::OCI_MANIFEST, "digest": digest.to_string(), "size": bytes.len() },
    }))
    .unwrap();
    let sig_digest = Digest::of(&sig);
    let mut m = state.lock().unwrap();
    for b in [&config, &content, &readme, &payload, &b"{}".to_vec()] {
        m.blobs.insert(Digest::of(b).to_string(), b.clone());
    }
    m.manifests.insert(digest.to_string(), bytes);
    m.manifests.insert(sig_digest.to_string(), sig);
    m.tags.insert(format!("{name}:{version}"), digest.to_string());
    m.tags.insert(
        format!("{name}:{}", digest.cosign_signature_tag()),
        sig_digest.to_string(),
    );
    let key_id = key.public_key().key_id();
    let entry = m
        .packages
        .entry(name.to_owned())
        .or_insert_with(|| PackageIndex::new(name.parse().unwrap(), Vec::new()));
    entry.versions.push(IndexVersion {
        version: manifest.package.version.clone(),
        digest: digest.clone(),
        yanked: false,
        yank_reason: None,
        key_ids: vec![key_id.clone()],
        manifest: manifest.clone(),
        approvals: Vec::new(),
    });
    entry.versions.sort_by(|a, b| a.version.cmp(&b.version));
    for i in &manifest.implements {
        let spec = m
            .specs
            .entry(i.spec.to_string())
            .or_insert_with(|| SpecIndex::new(i.spec.clone(), Vec::new()));
        spec.implementations.push(govstore_core::index::Implementation {
            package: manifest.package.name.clone(),
            version: manifest.package.version.clone(),
            spec_version: i.version.clone(),
        });
    }
    Published {
        locked: LockedPackage {
            name: name.parse().unwrap(),
            version: version.parse().unwrap(),
            digest,
            key_ids: vec![key_id],
            source: url.parse().unwrap(),
        },
        content: Digest::of(&content),
        signature: sig_digest,
    }
}

fn lock(packages: &[&Published]) -> Lockfile {
    Lockfile::new(
        Digest::of(b"stack"),
        packages.iter().map(|p| p.locked.clone()).collect(),
    )
}

#[derive(Default)]
struct Count(AtomicU64);

impl Progress for Count {
    fn blob_advance(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }
}

struct Env {
    url: String,
    state: Shared,
    key: KeyPair,
    client: RegistryClient,
    _tmp: tempfile::TempDir,
    cache: Cache,
    root: std::path::PathBuf,
}

impl Env {
    async fn new() -> Self {
        let (url, state) = start().await;
        let key = KeyPair::generate().unwrap();
        for ns in ["mosip", "x-road", "openspp"] {
            register(&state, ns, &key);
        }
        let client = RegistryClient::new(&url, None).unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let cache = Cache::new(tmp.path().join("cache"));
        let root = tmp.path().to_path_buf();
        Self {
            url,
            state,
            key,
            client,
            _tmp: tmp,
            cache,
            root,
        }
    }

    fn publish(&self, name: &str, version: &str, extra: &str, files: &[(&str, &[u8])]) -> Published {
        publish(&self.state, &self.url, &self.key, name, version, extra, files)
    }

    fn options(&self, dir: &str) -> InstallOptions {
        InstallOptions {
            into: self.root.join(dir),
            jobs: 4,
            limits: Default::default(),
            bundle: None,
        }
    }

    async fn install(&self, lock: &Lockfile, dir: &str, offline: bool) -> Result<InstallReport, InstallError> {
        let progress: Arc<dyn Progress> = Arc::new(NoProgress);
        let registry = (!offline).then_some(&self.client);
        install(registry, &self.cache, lock, &self.options(dir), &progress).await
    }

    fn blob_gets(&self) -> u64 {
        self.state.lock().unwrap().blob_gets
    }
}

/// Every file under `dir` with its bytes (links as `-> target`), for before/after checks.
fn snapshot(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    fn walk(base: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let p = e.path();
            let rel = p.strip_prefix(base).unwrap().display().to_string();
            let t = e.file_type().unwrap();
            if t.is_symlink() {
                out.push((rel, format!("-> {}", std::fs::read_link(&p).unwrap().display())));
            } else if t.is_dir() {
                out.push((rel.clone(), "dir".into()));
                walk(base, &p, out);
            } else {
                out.push((rel, String::from_utf8_lossy(&std::fs::read(&p).unwrap()).into_owned()));
            }
        }
    }
    walk(dir, dir, &mut out);
    out.sort();
    out
}

#[tokio::test]
async fn index_documents_are_cached_and_revalidated() {
    let env = Env::new().await;
    let identity = "\n[[implements]]\nspec = \"govstack/identity\"\nversion = \"1.0.2\"\nhow = \"native\"\n";
    let needs_im = "\n[requires.specs]\n\"govstack/information-mediator\" = \"^1.1\"\n[requires.packages]\n\"mosip/keymanager\" = \"^1\"\n";
    env.publish(
        "mosip/esignet",
        "1.8.0",
        &format!("{identity}{needs_im}"),
        &[("a", b"a")],
    );
    env.publish("openspp/registry", "2.0.0", identity, &[("a", b"a")]);
    env.publish(
        "x-road/security-server",
        "7.8.0",
        "\n[[implements]]\nspec = \"govstack/information-mediator\"\nversion = \"1.1.0\"\nhow = \"native\"\n",
        &[("a", b"a")],
    );

    let index = IndexClient::new(env.client.clone(), env.cache.clone(), false);
    let name = "mosip/esignet".parse().unwrap();
    let (doc, source) = index.package(&name).await.unwrap().unwrap();
    assert_eq!((doc.versions.len(), source), (1, Source::Fetched));
    let (_, source) = index.package(&name).await.unwrap().unwrap();
    assert_eq!(source, Source::Revalidated, "a conditional GET answered 304");
    assert_eq!(env.state.lock().unwrap().not_modified, 1);
    assert!(
        index
            .package(&"mosip/nothing".parse().unwrap())
            .await
            .unwrap()
            .is_none()
    );

    // The walk: the wanted spec's implementers, what they require (a spec and a
    // package), and that spec's implementers; an unknown package is reported.
    let got = index
        .prefetch([Root::Spec("govstack/identity".parse().unwrap())], 4)
        .await
        .unwrap();
    let names: Vec<&str> = got.catalogue.packages.keys().map(|n| n.as_str()).collect();
    assert_eq!(names, ["mosip/esignet", "openspp/registry", "x-road/security-server"]);
    assert_eq!(
        got.specs.iter().map(|s| s.spec.as_str()).collect::<Vec<_>>(),
        ["govstack/identity", "govstack/information-mediator"]
    );
    assert_eq!(
        got.unknown_packages.iter().map(|n| n.as_str()).collect::<Vec<_>>(),
        ["mosip/keymanager"]
    );
    assert_eq!(
        got.catalogue
            .implementations(&"govstack/identity".parse().unwrap())
            .len(),
        2
    );

    // Offline: the cache alone, 404s included, and a clear error for what it lacks.
    let before = env.state.lock().unwrap().index_gets;
    let offline = IndexClient::new(env.client.clone(), env.cache.clone(), true);
    let again = offline
        .prefetch([Root::Spec("govstack/identity".parse().unwrap())], 4)
        .await
        .unwrap();
    assert_eq!(again.catalogue, got.catalogue);
    assert_eq!(again.unknown_packages, got.unknown_packages);
    assert_eq!(again.from_cache, 5);
    let (_, source) = offline.package(&name).await.unwrap().unwrap();
    assert_eq!(source, Source::Cache);
    let err = offline
        .package(&"openspp/never-asked".parse().unwrap())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, IndexError::NotCached { what, .. } if what == "package `openspp/never-asked`"),
        "{err}"
    );
    assert!(
        err.to_string()
            .starts_with("the index document of package `openspp/never-asked` is not in the local cache (http://"),
        "{err}"
    );
    assert_eq!(
        env.state.lock().unwrap().index_gets,
        before,
        "offline never asks the registry"
    );
}

#[tokio::test]
async fn install_verifies_unpacks_and_reruns_as_a_no_op() {
    let env = Env::new().await;
    let a = env.publish(
        "mosip/esignet",
        "1.8.0",
        "",
        &[("deploy/values.yaml", b"replicas: 2\n"), ("README.txt", b"eSignet\n")],
    );
    let b = env.publish(
        "x-road/security-server",
        "7.8.0",
        "",
        &[("deploy/compose.yaml", b"services: {}\n")],
    );
    let lock = lock(&[&a, &b]);

    let count = Arc::new(Count::default());
    let progress: Arc<dyn Progress> = count.clone();
    let report = install(Some(&env.client), &env.cache, &lock, &env.options("stack"), &progress)
        .await
        .unwrap();
    assert!(!report.up_to_date);
    assert_eq!(
        report.installed,
        ["mosip/esignet@1.8.0", "x-road/security-server@7.8.0"]
    );
    assert_eq!(report.downloaded_blobs, 4, "content and README of each");
    assert_eq!(
        count.0.load(Ordering::Relaxed),
        report.downloaded_bytes,
        "every byte reported"
    );
    let dir = env.root.join("stack");
    assert_eq!(
        std::fs::read_to_string(dir.join("mosip/esignet/deploy/values.yaml")).unwrap(),
        "replicas: 2\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("x-road/security-server/deploy/compose.yaml")).unwrap(),
        "services: {}\n"
    );
    let receipt: Value = serde_json::from_slice(&std::fs::read(dir.join(RECEIPT_FILE)).unwrap()).unwrap();
    assert_eq!(
        receipt["lock_hash"],
        json!(govstore_client::install::lock_hash(&lock).to_string())
    );
    assert_eq!(receipt["packages"][0]["digest"], json!(a.locked.digest.to_string()));
    assert_eq!(receipt["packages"][0]["content_digest"], json!(a.content.to_string()));
    assert_eq!(receipt["packages"][0]["key_id"], json!(env.key.public_key().key_id()));
    assert_eq!(receipt["packages"][1]["path"], json!("x-road/security-server"));
    // Nothing is left beside the directory but its lock file.
    let siblings: Vec<String> = std::fs::read_dir(&env.root)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(siblings.iter().all(|s| !s.contains("staging")), "{siblings:?}");

    // A rerun: nothing fetched, nothing written.
    let gets = env.blob_gets();
    let before = snapshot(&dir);
    let again = env.install(&lock, "stack", false).await.unwrap();
    assert!(again.up_to_date);
    assert_eq!(env.blob_gets(), gets);
    assert_eq!(snapshot(&dir), before);

    // Offline into another directory: all from the cache, the same tree.
    let offline = env.install(&lock, "copy", true).await.unwrap();
    assert_eq!(
        (
            offline.downloaded_blobs,
            offline.cached_blobs,
            offline.revocation_checked
        ),
        (0, 4, false)
    );
    assert_eq!(env.blob_gets(), gets);
    let without_receipt =
        |v: Vec<(String, String)>| v.into_iter().filter(|(p, _)| p != RECEIPT_FILE).collect::<Vec<_>>();
    assert_eq!(
        without_receipt(snapshot(&env.root.join("copy"))),
        without_receipt(before)
    );

    // Offline with an empty cache: one error naming everything missing.
    let empty = Cache::new(env.root.join("empty-cache"));
    let progress: Arc<dyn Progress> = Arc::new(NoProgress);
    let err = install(None, &empty, &lock, &env.options("none"), &progress)
        .await
        .unwrap_err();
    let text = err.to_string();
    assert_eq!(
        text,
        format!(
            "offline, and the local cache lacks the manifest of mosip/esignet@1.8.0 ({}), the manifest of x-road/security-server@7.8.0 ({})",
            a.locked.digest, b.locked.digest
        )
    );
    assert!(!env.root.join("none").exists());
}

#[tokio::test]
async fn a_tampered_blob_fails_and_leaves_the_directory_untouched() {
    let env = Env::new().await;
    let a = env.publish(
        "mosip/esignet",
        "1.8.0",
        "",
        &[("deploy/values.yaml", b"replicas: 2\n")],
    );
    let b = env.publish(
        "mosip/esignet",
        "1.9.0",
        "",
        &[("deploy/values.yaml", b"replicas: 3\n")],
    );
    env.install(&lock(&[&a]), "stack", false).await.unwrap();
    let dir = env.root.join("stack");
    let before = snapshot(&dir);

    // The server now serves other bytes for 1.9.0's content.
    env.state.lock().unwrap().blobs.insert(
        b.content.to_string(),
        tarball(&[("deploy/values.yaml", b"replicas: 666\n")]),
    );
    let err = env.install(&lock(&[&b]), "stack", false).await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with("mosip/esignet@1.9.0 failed verification: a blob of mosip/esignet should have digest sha256:"),
        "{text}"
    );
    assert!(text.contains("but the content received has digest"), "{text}");
    assert_eq!(snapshot(&dir), before, "DIR untouched");
    assert!(
        !env.cache.blob_path(&b.content).exists(),
        "nothing unverified is cached"
    );

    // Into a directory that does not exist yet: it still does not.
    let err = env.install(&lock(&[&b]), "fresh", false).await.unwrap_err();
    assert!(matches!(err, InstallError::Verify { .. }), "{err}");
    assert!(!env.root.join("fresh").exists());
}

#[tokio::test]
async fn a_tampered_signature_fails_and_leaves_the_directory_untouched() {
    let env = Env::new().await;
    let a = env.publish(
        "mosip/esignet",
        "1.8.0",
        "",
        &[("deploy/values.yaml", b"replicas: 2\n")],
    );
    // Another key signs the same payload; the `.sig` manifest now carries that signature.
    let evil = KeyPair::generate().unwrap();
    {
        let mut m = env.state.lock().unwrap();
        let sig: Value = serde_json::from_slice(&m.manifests[&a.signature.to_string()]).unwrap();
        let payload_digest = sig["layers"][0]["digest"].as_str().unwrap().to_owned();
        let payload = m.blobs[&payload_digest].clone();
        let mut forged = sig.clone();
        forged["layers"][0]["annotations"][simple_signing::SIGNATURE_ANNOTATION] =
            json!(BASE64.encode(evil.sign(&payload).unwrap()));
        let bytes = serde_json::to_vec(&forged).unwrap();
        let d = Digest::of(&bytes);
        m.manifests.insert(d.to_string(), bytes);
        m.tags.insert(
            format!("mosip/esignet:{}", a.locked.digest.cosign_signature_tag()),
            d.to_string(),
        );
    }
    std::fs::create_dir_all(env.root.join("stack/keep")).unwrap();
    std::fs::write(env.root.join("stack/keep/file"), "mine").unwrap();
    let before = snapshot(&env.root.join("stack"));
    let err = env.install(&lock(&[&a]), "stack", false).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "mosip/esignet@1.8.0 failed verification: the signature does not verify against any key of namespace `mosip`"
    );
    assert_eq!(snapshot(&env.root.join("stack")), before);
    assert_eq!(
        env.blob_gets(),
        2,
        "only the config and the signature payload were read; the content never was"
    );
}

#[tokio::test]
async fn the_signer_must_be_the_one_the_lockfile_names() {
    let env = Env::new().await;
    let mut a = env.publish("mosip/esignet", "1.8.0", "", &[("a", b"a")]);
    let other = KeyPair::generate().unwrap().public_key().key_id();
    a.locked.key_ids = vec![other.clone()];
    let err = env.install(&lock(&[&a]), "stack", false).await.unwrap_err();
    assert!(
        matches!(&err, InstallError::Signer { locked, .. } if locked == &vec![other]),
        "{err}"
    );
    assert!(!env.root.join("stack").exists());
}

#[tokio::test]
async fn updates_replace_and_remove_packages() {
    let env = Env::new().await;
    let a1 = env.publish("mosip/esignet", "1.8.0", "", &[("v1-only.txt", b"1"), ("common", b"1")]);
    let a2 = env.publish("mosip/esignet", "1.9.0", "", &[("common", b"2")]);
    let b = env.publish("mosip/resident", "1.0.0", "", &[("r", b"r")]);
    let c = env.publish("x-road/security-server", "7.8.0", "", &[("x", b"x")]);
    env.install(&lock(&[&a1, &b, &c]), "stack", false).await.unwrap();

    let report = env.install(&lock(&[&a2, &b]), "stack", false).await.unwrap();
    assert_eq!(report.installed, ["mosip/esignet@1.9.0"]);
    assert_eq!(report.unchanged, ["mosip/resident@1.0.0"]);
    assert_eq!(report.removed, ["x-road/security-server"]);
    let dir = env.root.join("stack");
    assert_eq!(
        snapshot(&dir)
            .into_iter()
            .filter(|(p, _)| p != RECEIPT_FILE)
            .collect::<Vec<_>>(),
        [
            ("mosip".into(), "dir".into()),
            ("mosip/esignet".into(), "dir".into()),
            ("mosip/esignet/common".into(), "2".into()),
            ("mosip/resident".into(), "dir".into()),
            ("mosip/resident/r".into(), "r".into()),
        ],
        "the old version's files are gone with it, and the empty namespace directory too"
    );
    let receipt: Value = serde_json::from_slice(&std::fs::read(dir.join(RECEIPT_FILE)).unwrap()).unwrap();
    assert_eq!(receipt["packages"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn packages_kept_in_the_directory_are_checked_against_revoked_keys() {
    let env = Env::new().await;
    let a = env.publish("mosip/esignet", "1.8.0", "", &[("a", b"a")]);
    let b = env.publish("x-road/security-server", "7.8.0", "", &[("x", b"x")]);
    env.install(&lock(&[&a, &b]), "stack", false).await.unwrap();
    let dir = env.root.join("stack");
    let before = snapshot(&dir);

    // The namespace revokes the key that signed the package already in the directory.
    for k in env.state.lock().unwrap().keys.get_mut("mosip").unwrap() {
        k["revoked_at"] = json!("2026-11-21T12:00:00Z");
        k["revoke_reason"] = json!("compromised");
    }
    // A changed lock keeps mosip/esignet in place; it must not be carried along unchecked.
    let err = env.install(&lock(&[&a]), "stack", false).await.unwrap_err();
    assert!(err.to_string().contains("revoked"), "{err}");
    assert_eq!(snapshot(&dir), before, "DIR untouched");
}

#[tokio::test]
async fn symbolic_links_in_the_directory_are_never_followed() {
    let env = Env::new().await;
    let a = env.publish("mosip/esignet", "1.8.0", "", &[("a", b"a")]);
    let outside = env.root.join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::create_dir_all(env.root.join("stack")).unwrap();
    std::os::unix::fs::symlink(&outside, env.root.join("stack/mosip")).unwrap();
    let err = env.install(&lock(&[&a]), "stack", false).await.unwrap_err();
    assert!(
        err.to_string()
            .ends_with("stack/mosip`: it is a symbolic link; govstore never writes through one"),
        "{err}"
    );
    assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0);
    assert!(!env.root.join("stack").join(RECEIPT_FILE).exists());

    // DIR itself a link: refused before anything is fetched.
    std::os::unix::fs::symlink(&outside, env.root.join("linked")).unwrap();
    let err = env.install(&lock(&[&a]), "linked", false).await.unwrap_err();
    assert!(matches!(err, InstallError::Target { .. }), "{err}");
    assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0);

    // A package directory that is a link is moved away, not written through.
    std::fs::remove_file(env.root.join("stack/mosip")).unwrap();
    std::fs::create_dir(env.root.join("stack/mosip")).unwrap();
    std::os::unix::fs::symlink(&outside, env.root.join("stack/mosip/esignet")).unwrap();
    env.install(&lock(&[&a]), "stack", false).await.unwrap();
    assert!(
        std::fs::symlink_metadata(env.root.join("stack/mosip/esignet"))
            .unwrap()
            .is_dir()
    );
    assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0);
}

#[tokio::test]
async fn an_interrupted_install_completes_on_rerun() {
    let env = Env::new().await;
    let a1 = env.publish("mosip/esignet", "1.8.0", "", &[("v", b"1")]);
    let a2 = env.publish("mosip/esignet", "1.9.0", "", &[("v", b"2")]);
    let b = env.publish("mosip/resident", "1.0.0", "", &[("r", b"r")]);
    env.install(&lock(&[&a1, &b]), "stack", false).await.unwrap();
    let dir = env.root.join("stack");
    // As if an update to a2 stopped in the middle of the swap: esignet moved out into
    // the staging directory, the new one not yet in, the old receipt still there.
    let staging = env.root.join(".stack.govstore-staging-crashed");
    std::fs::create_dir_all(staging.join("old")).unwrap();
    std::fs::rename(dir.join("mosip/esignet"), staging.join("old/1")).unwrap();

    let report = env.install(&lock(&[&a2, &b]), "stack", false).await.unwrap();
    assert_eq!(report.installed, ["mosip/esignet@1.9.0"]);
    assert_eq!(std::fs::read_to_string(dir.join("mosip/esignet/v")).unwrap(), "2");
    assert!(!staging.exists(), "the stale staging directory is cleaned up");

    // The same lockfile again, after the package directory vanished: reinstalled.
    std::fs::remove_dir_all(dir.join("mosip/resident")).unwrap();
    let report = env.install(&lock(&[&a2, &b]), "stack", false).await.unwrap();
    assert!(!report.up_to_date);
    assert_eq!(report.installed, ["mosip/resident@1.0.0"]);
    assert!(env.install(&lock(&[&a2, &b]), "stack", false).await.unwrap().up_to_date);
}
