//! The client against a small in-process registry that keeps the contract of the real
//! one (OCI blob uploads, the publish call, the cosign `.sig` tag): publish, then verify,
//! then tamper with what the registry serves and see verification fail.
//!
//! The real server is tested end to end elsewhere; this pins down the client's side of
//! the contract on its own.

#![allow(clippy::unwrap_used)] // a failing test is meant to panic

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use govstore_client::progress::Progress;
use govstore_client::publish::{PublishOptions, publish};
use govstore_client::registry::{BlobSource, BlobUpload, ClientError, RegistryClient, UploadOutcome};
use govstore_client::verify::{VerifyError, VerifyOptions, verify};
use govstore_core::Digest;
use govstore_core::artifact::package_layers;
use govstore_core::oci::{media_types, parse_manifest};
use govstore_signing::{KeyPair, PublicKey, simple_signing};
use serde_json::{Value, json};

const TOKEN: &str = "gvs_test_token";

#[derive(Default)]
struct Mock {
    blobs: HashMap<String, Vec<u8>>,
    manifests: HashMap<String, Vec<u8>>,
    tags: HashMap<String, String>,
    keys: Vec<Value>,
    versions: HashMap<String, Value>,
    uploads: u64,
    puts: u64,
}

type Shared = Arc<Mutex<Mock>>;

fn envelope(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        axum::Json(json!({ "errors": [{ "code": code, "message": message, "detail": null }] })),
    )
        .into_response()
}

/// The refusal of a request without the test token.
fn refused(headers: &HeaderMap) -> Option<Response> {
    match headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        Some(v) if v == format!("Bearer {TOKEN}") => None,
        _ => Some(envelope(
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED",
            "authentication required",
        )),
    }
}

async fn head_blob(State(s): State<Shared>, Path((_, _, d)): Path<(String, String, String)>) -> StatusCode {
    if s.lock().unwrap().blobs.contains_key(&d) {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    }
}

async fn get_blob(State(s): State<Shared>, Path((_, _, d)): Path<(String, String, String)>) -> Response {
    match s.lock().unwrap().blobs.get(&d) {
        Some(b) => b.clone().into_response(),
        None => envelope(StatusCode::NOT_FOUND, "BLOB_UNKNOWN", "blob unknown to registry"),
    }
}

async fn start_upload(
    State(s): State<Shared>,
    headers: HeaderMap,
    Path((ns, name)): Path<(String, String)>,
) -> Response {
    if let Some(r) = refused(&headers) {
        return r;
    }
    let mut m = s.lock().unwrap();
    m.uploads += 1;
    let location = format!("/v2/{ns}/{name}/blobs/uploads/u{}?_state=x", m.uploads);
    (StatusCode::ACCEPTED, [(header::LOCATION, location)]).into_response()
}

async fn finish_upload(
    State(s): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    if let Some(r) = refused(&headers) {
        return r;
    }
    assert_eq!(
        q.get("_state").map(String::as_str),
        Some("x"),
        "the location's query is kept"
    );
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    assert_eq!(declared, Some(body.len()), "the upload carries its length");
    let digest = Digest::of(&body).to_string();
    if q.get("digest") != Some(&digest) {
        return envelope(
            StatusCode::BAD_REQUEST,
            "DIGEST_INVALID",
            "provided digest did not match uploaded content",
        );
    }
    let mut m = s.lock().unwrap();
    m.puts += 1;
    m.blobs.insert(digest, body.to_vec());
    StatusCode::CREATED.into_response()
}

async fn get_manifest(State(s): State<Shared>, Path((_, _, reference)): Path<(String, String, String)>) -> Response {
    let m = s.lock().unwrap();
    let digest = m.tags.get(&reference).cloned().unwrap_or(reference);
    match m.manifests.get(&digest) {
        Some(bytes) => {
            let mt = media_types::OCI_MANIFEST;
            let mut r = bytes.clone().into_response();
            r.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(mt));
            r.headers_mut()
                .insert("docker-content-digest", HeaderValue::from_str(&digest).unwrap());
            r
        }
        None => envelope(StatusCode::NOT_FOUND, "MANIFEST_UNKNOWN", "manifest unknown"),
    }
}

async fn me(headers: HeaderMap) -> Response {
    if let Some(r) = refused(&headers) {
        return r;
    }
    axum::Json(json!({
        "user": "alice", "admin": false, "orgs": [{ "name": "acme", "role": "owner" }],
        "token": { "prefix": "gvs_test", "scopes": ["publish:acme"], "expires_at": null }
    }))
    .into_response()
}

async fn keys(State(s): State<Shared>) -> Response {
    axum::Json(json!({ "keys": s.lock().unwrap().keys })).into_response()
}

/// The publish call, checked as the real registry does: blobs present, manifest a
/// package for the URL's name, payload naming the manifest's digest, signature made
/// by a registered, unrevoked key.
async fn publish_version(
    State(s): State<Shared>,
    headers: HeaderMap,
    Path((ns, name)): Path<(String, String)>,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    if let Some(r) = refused(&headers) {
        return r;
    }
    let manifest = body["manifest"].as_str().unwrap().as_bytes().to_vec();
    let payload = BASE64.decode(body["payload"].as_str().unwrap()).unwrap();
    let signature_b64 = body["signature"].as_str().unwrap().to_owned();
    let signature = BASE64.decode(&signature_b64).unwrap();
    let digest = Digest::of(&manifest);
    let info = parse_manifest(None, &manifest).unwrap();
    let full = format!("{ns}/{name}");
    let version = info.annotations["org.opencontainers.image.version"].clone();
    package_layers(&info, &full, &version).unwrap();
    let mut m = s.lock().unwrap();
    for b in &info.blobs {
        if !m.blobs.contains_key(&b.digest.to_string()) {
            return envelope(StatusCode::BAD_REQUEST, "INVALID", "a blob is missing");
        }
    }
    let parsed = simple_signing::parse_payload(&payload).unwrap();
    assert_eq!(parsed.manifest_digest, digest);
    assert!(
        parsed.docker_reference.ends_with(&format!("/{full}")),
        "{}",
        parsed.docker_reference
    );
    let key_id = m.keys.iter().find_map(|k| {
        let public = PublicKey::from_pem(k["public_key"].as_str()?).ok()?;
        (k["revoked_at"].is_null() && public.verify(&payload, &signature).is_ok()).then(|| public.key_id())
    });
    let Some(key_id) = key_id else {
        return envelope(
            StatusCode::BAD_REQUEST,
            "SIGNATURE_INVALID",
            "the signature does not verify against a key of the namespace.",
        );
    };
    if m.versions.contains_key(&version) {
        return envelope(StatusCode::CONFLICT, "VERSION_EXISTS", "version exists");
    }

    // The `.sig` manifest, in cosign's layout.
    let payload_digest = Digest::of(&payload);
    m.blobs.insert(payload_digest.to_string(), payload.clone());
    m.blobs.insert(Digest::of(b"{}").to_string(), b"{}".to_vec());
    let sig = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": media_types::OCI_MANIFEST,
        "config": { "mediaType": media_types::OCI_EMPTY, "digest": Digest::of(b"{}").to_string(), "size": 2 },
        "layers": [{
            "mediaType": simple_signing::PAYLOAD_MEDIA_TYPE,
            "digest": payload_digest.to_string(),
            "size": payload.len(),
            "annotations": { simple_signing::SIGNATURE_ANNOTATION: signature_b64 },
        }],
        "subject": { "mediaType": media_types::OCI_MANIFEST, "digest": digest.to_string(), "size": manifest.len() },
    }))
    .unwrap();
    let sig_digest = Digest::of(&sig);
    m.manifests.insert(digest.to_string(), manifest);
    m.tags.insert(version.clone(), digest.to_string());
    m.manifests.insert(sig_digest.to_string(), sig);
    m.tags.insert(digest.cosign_signature_tag(), sig_digest.to_string());
    let config = info.blobs[0].digest.to_string();
    let config_json: Value = serde_json::from_slice(&m.blobs[&config]).unwrap();
    let v = json!({
        "version": version, "digest": digest, "published_at": "2026-11-21T00:00:00Z", "yanked": false,
        "yank_reason": null, "key_id": key_id, "signature_digest": sig_digest,
    });
    let mut detail = v.clone();
    detail["manifest"] = config_json;
    m.versions.insert(version.clone(), detail);
    let answer =
        json!({ "name": full, "version": version, "digest": digest, "signature_digest": sig_digest, "key_id": key_id });
    (StatusCode::CREATED, axum::Json(answer)).into_response()
}

async fn version(State(s): State<Shared>, Path((_, _, v)): Path<(String, String, String)>) -> Response {
    match s.lock().unwrap().versions.get(&v) {
        Some(d) => axum::Json(d.clone()).into_response(),
        None => envelope(StatusCode::NOT_FOUND, "NOT_FOUND", "no such version"),
    }
}

async fn start() -> (String, Shared) {
    let state: Shared = Arc::default();
    let app = Router::new()
        .route("/v2/{ns}/{name}/blobs/{digest}", get(get_blob).head(head_blob))
        .route("/v2/{ns}/{name}/blobs/uploads/", post(start_upload))
        .route("/v2/{ns}/{name}/blobs/uploads/{id}", put(finish_upload))
        .route("/v2/{ns}/{name}/manifests/{reference}", get(get_manifest))
        .route("/api/v1/me", get(me))
        .route("/api/v1/namespaces/{ns}/keys", get(keys))
        .route("/api/v1/packages/{ns}/{name}/versions", post(publish_version))
        .route("/api/v1/packages/{ns}/{name}/versions/{version}", get(version))
        .layer(axum::extract::DefaultBodyLimit::max(64 << 20))
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), state)
}

fn register(state: &Shared, key: &KeyPair, revoked: bool) {
    let public = key.public_key();
    state.lock().unwrap().keys.push(json!({
        "key_id": public.key_id(), "name": "laptop", "public_key": public.to_pem(),
        "created_at": "2026-11-21T00:00:00Z",
        "revoked_at": if revoked { json!("2026-11-22T00:00:00Z") } else { Value::Null },
        "revoke_reason": if revoked { json!("lost") } else { Value::Null },
    }));
}

fn package() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("govstore.toml"),
        "[package]\nname = \"acme/registry\"\nversion = \"1.0.0\"\ndescription = \"Test\"\nlicense = \"MIT\"\nreadme = \"README.md\"\n",
    )
    .unwrap();
    std::fs::write(d.path().join("README.md"), "# Registry\n").unwrap();
    // Incompressible, so the content layer is big enough to stream in several chunks.
    let mut noise = Vec::with_capacity(3 << 20);
    let mut x = 0x2545_f491_4f6c_dd1du64;
    while noise.len() < 3 << 20 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        noise.extend_from_slice(&x.to_le_bytes());
    }
    std::fs::write(d.path().join("data.bin"), noise).unwrap();
    d
}

#[derive(Default)]
struct Count {
    bytes: AtomicU64,
    skipped: AtomicU64,
}

impl Progress for Count {
    fn blob_advance(&self, n: u64) {
        self.bytes.fetch_add(n, Ordering::Relaxed);
    }
    fn blob_skipped(&self, _: &str, _: &Digest, _: u64) {
        self.skipped.fetch_add(1, Ordering::Relaxed);
    }
}

#[tokio::test]
async fn publish_then_verify_then_tamper() {
    let (url, state) = start().await;
    let client = RegistryClient::new(&url, Some(TOKEN.into())).unwrap();
    assert_eq!(client.me().await.unwrap().user, "alice");
    let key = KeyPair::generate().unwrap();
    let dir = package();
    let count = Arc::new(Count::default());
    let progress: Arc<dyn Progress> = count.clone();

    // Unregistered key: the registry refuses, the code and message come through.
    let err = publish(&client, dir.path(), &key, &PublishOptions::default(), &progress)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "SIGNATURE_INVALID: the signature does not verify against a key of the namespace."
    );

    register(&state, &key, false);
    let out = publish(&client, dir.path(), &key, &PublishOptions::default(), &progress)
        .await
        .unwrap();
    assert_eq!(
        (out.published.name.as_str(), out.published.version.as_str()),
        ("acme/registry", "1.0.0")
    );
    assert_eq!(out.published.key_id, key.public_key().key_id());
    assert!(
        out.uploads.iter().all(|(_, o)| *o == UploadOutcome::AlreadyPresent),
        "uploaded by the refused attempt"
    );
    assert_eq!(count.skipped.load(Ordering::Relaxed), 3);
    assert!(
        count.bytes.load(Ordering::Relaxed) > 3 << 20,
        "the content streamed with progress"
    );
    assert_eq!(state.lock().unwrap().puts, 3, "config, content and README, once each");

    // Publishing the same version again is refused.
    let err = publish(&client, dir.path(), &key, &PublishOptions::default(), &progress)
        .await
        .unwrap_err();
    assert!(err.to_string().starts_with("VERSION_EXISTS"), "{err}");

    let name = "acme/registry".parse().unwrap();
    let report = verify(&client, &name, "1.0.0", &VerifyOptions::default(), &progress)
        .await
        .unwrap();
    assert_eq!(report.digest, out.published.digest);
    assert_eq!(report.key_id, key.public_key().key_id());
    assert_eq!(report.key_name.as_deref(), Some("laptop"));
    assert!(report.reference_host_matches);
    assert_eq!(
        report.blobs.iter().map(|b| b.role).collect::<Vec<_>>(),
        ["config", "content", "readme"]
    );
    assert_eq!(report.content.files, 3);

    // A corrupted README blob is caught while streaming.
    let readme = report.blobs[2].digest.to_string();
    let good = state
        .lock()
        .unwrap()
        .blobs
        .insert(readme.clone(), b"# Evil!!!!\n".to_vec())
        .unwrap();
    let err = verify(&client, &name, "1.0.0", &VerifyOptions::default(), &progress)
        .await
        .unwrap_err();
    assert!(
        matches!(err, VerifyError::Client(ClientError::DigestMismatch { .. })),
        "{err}"
    );
    state.lock().unwrap().blobs.insert(readme, good);

    // The key revoked: the signature no longer counts.
    state.lock().unwrap().keys[0]["revoked_at"] = json!("2026-11-22T00:00:00Z");
    state.lock().unwrap().keys[0]["revoke_reason"] = json!("laptop stolen");
    let err = verify(&client, &name, "1.0.0", &VerifyOptions::default(), &progress)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "the signature verifies only against key {}, which was revoked on 2026-11-22T00:00:00Z (laptop stolen)",
            key.public_key().key_id()
        )
    );

    // Another key of the namespace, still unrevoked, did not sign it.
    let other = KeyPair::generate().unwrap();
    register(&state, &other, false);
    let err = verify(&client, &name, "1.0.0", &VerifyOptions::default(), &progress)
        .await
        .unwrap_err();
    assert!(matches!(err, VerifyError::Revoked { .. }), "{err}");
    state.lock().unwrap().keys.remove(0);
    let err = verify(&client, &name, "1.0.0", &VerifyOptions::default(), &progress)
        .await
        .unwrap_err();
    assert!(matches!(err, VerifyError::BadSignature(_)), "{err}");

    // The tag moved to another manifest than the API lists.
    {
        let mut m = state.lock().unwrap();
        m.manifests.insert(Digest::of(b"{}").to_string(), b"{}".to_vec());
        m.tags.insert("1.0.0".into(), Digest::of(b"{}").to_string());
    }
    let err = verify(&client, &name, "1.0.0", &VerifyOptions::default(), &progress)
        .await
        .unwrap_err();
    assert!(matches!(err, VerifyError::ManifestDigest { .. }), "{err}");
}

#[tokio::test]
async fn errors_carry_the_envelope() {
    let (url, _state) = start().await;
    let anonymous = RegistryClient::new(&url, None).unwrap();
    let err = anonymous.me().await.unwrap_err();
    assert_eq!(err.code(), Some("UNAUTHORIZED"));
    assert_eq!(err.to_string(), "UNAUTHORIZED: authentication required");
    let wrong = RegistryClient::new(&url, Some("gvs_wrong".into())).unwrap();
    assert_eq!(wrong.me().await.unwrap_err().status(), Some(401));

    let client = RegistryClient::new(&url, Some(TOKEN.into())).unwrap();
    let repo = "acme/registry".parse().unwrap();
    let blob = BlobUpload {
        label: "x".into(),
        digest: Digest::of(b"other bytes"),
        size: 5,
        source: BlobSource::Bytes(Bytes::from_static(b"hello")),
    };
    let progress: Arc<dyn Progress> = Arc::new(Count::default());
    let err = client.upload_blob(&repo, &blob, &progress).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "DIGEST_INVALID: provided digest did not match uploaded content"
    );
    let err = client.fetch_manifest(&repo, "9.9.9").await.unwrap_err();
    assert!(err.is_not_found());

    let down = RegistryClient::new("http://127.0.0.1:1", None).unwrap();
    assert!(matches!(down.me().await.unwrap_err(), ClientError::Connect { .. }));
    assert_eq!(client.docker_host(), url.trim_start_matches("http://"));
}
