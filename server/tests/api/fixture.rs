//! A publisher with an account, a token and a registered key, and the steps of a
//! publish (pack, upload, sign, call the API), done as `govstore publish` does them.

use axum::body::Body;
use axum::http::{Method, StatusCode};
use base64::Engine as _;
use govstore_core::Digest;
use govstore_core::artifact::{Blob, PackageArtifact};
use govstore_core::manifest::Manifest;
use govstore_server::admin;
use govstore_signing::{KeyPair, simple_signing};
use serde_json::{Value, json};

use crate::common::{Res, TestApp};

pub struct Publisher {
    pub ns: String,
    pub token: String,
    pub key: KeyPair,
}

impl Publisher {
    pub fn auth(&self) -> String {
        format!("Bearer {}", self.token)
    }
}

/// A user that owns `ns`, with a publish/yank/keys token and a registered key.
pub async fn publisher(app: &TestApp, user: &str, ns: &str) -> Publisher {
    let db = &app.state.db;
    if govstore_server::db::accounts::user(&db.read, user)
        .await
        .unwrap()
        .is_none()
    {
        admin::create_user(db, user, false).await.unwrap();
    }
    admin::create_org(db, ns, user).await.unwrap();
    let scopes = [format!("publish:{ns}"), format!("yank:{ns}"), format!("keys:{ns}")];
    let token = admin::create_token(db, user, "test", &scopes, Some(30)).await.unwrap();
    let key = KeyPair::generate().unwrap();
    let p = Publisher {
        ns: ns.into(),
        token,
        key,
    };
    let res = register_key(app, &p, &p.key).await;
    assert_eq!(
        res.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&res.body)
    );
    p
}

pub async fn register_key(app: &TestApp, p: &Publisher, key: &KeyPair) -> Res {
    let body = json!({ "public_key": key.public_key().to_pem(), "name": "laptop" }).to_string();
    post(app, &format!("/api/v1/namespaces/{}/keys", p.ns), &p.auth(), body).await
}

pub async fn post(app: &TestApp, uri: &str, auth: &str, body: String) -> Res {
    app.req(
        Method::POST,
        uri,
        &[("authorization", auth), ("content-type", "application/json")],
        body,
    )
    .await
}

pub async fn get_json(app: &TestApp, uri: &str) -> Value {
    let res = app.get(uri).await;
    assert_eq!(
        res.status,
        StatusCode::OK,
        "{uri}: {}",
        String::from_utf8_lossy(&res.body)
    );
    res.json()
}

pub fn toml(name: &str, version: &str, extra: &str) -> String {
    format!(
        "[package]\nname = \"{name}\"\nversion = \"{version}\"\ndescription = \"A test building block called {name}\"\nlicense = \"Apache-2.0\"\n{extra}"
    )
}

/// A deterministic tar.gz of `files`.
pub fn tarball(files: &[(&str, &[u8])]) -> Vec<u8> {
    let entries: Vec<Entry<'_>> = files
        .iter()
        .map(|(p, d)| (*p, tar::EntryType::Regular, *d, ""))
        .collect();
    tarball_of(&entries)
}

/// A tar entry of any type: (path, type, data, link target).
pub type Entry<'a> = (&'a str, tar::EntryType, &'a [u8], &'a str);

/// A tar.gz of entries of any type.
pub fn tarball_of(entries: &[Entry<'_>]) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    for (path, kind, data, link) in entries {
        let mut h = tar::Header::new_ustar();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(0);
        h.set_entry_type(*kind);
        if !link.is_empty() {
            let l = link.as_bytes();
            h.as_old_mut().linkname[..l.len()].copy_from_slice(l);
        }
        // Bypass the builder's path checks so that hostile archives can be made too.
        let name = path.as_bytes();
        h.as_old_mut().name[..name.len()].copy_from_slice(name);
        h.set_cksum();
        tar.append(&h, *data).unwrap();
    }
    tar.into_inner().unwrap().finish().unwrap()
}

/// A package ready to publish: its blobs uploaded, its manifest built and signed.
pub struct Built {
    pub name: String,
    pub manifest: Vec<u8>,
    pub digest: Digest,
    pub payload: Vec<u8>,
    pub signature: Vec<u8>,
}

impl Built {
    pub fn request(&self) -> String {
        let b64 = base64::engine::general_purpose::STANDARD;
        json!({
            "manifest": String::from_utf8(self.manifest.clone()).unwrap(),
            "payload": b64.encode(&self.payload),
            "signature": b64.encode(&self.signature),
        })
        .to_string()
    }

    pub async fn publish(&self, app: &TestApp, auth: &str) -> Res {
        post(
            app,
            &format!("/api/v1/packages/{}/versions", self.name),
            auth,
            self.request(),
        )
        .await
    }
}

pub async fn upload(app: &TestApp, repo: &str, auth: &str, data: &[u8]) -> Blob {
    let digest = Digest::of(data);
    let res = app
        .req(
            Method::POST,
            &format!("/v2/{repo}/blobs/uploads/?digest={digest}"),
            &[("authorization", auth)],
            Body::from(data.to_vec()),
        )
        .await;
    assert_eq!(
        res.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&res.body)
    );
    Blob {
        digest,
        size: data.len() as u64,
    }
}

/// Upload and sign `toml` with `content`, signed by `key`.
pub async fn build(app: &TestApp, p: &Publisher, key: &KeyPair, toml: &str, content: &[u8]) -> Built {
    let manifest = Manifest::from_toml_str(toml).unwrap();
    let name = manifest.package.name.to_string();
    let version = manifest.package.version.to_string();
    let config = upload(app, &name, &p.auth(), manifest.canonical_json().as_bytes()).await;
    let content = upload(app, &name, &p.auth(), content).await;
    let readme = upload(app, &name, &p.auth(), format!("# {name}\n").as_bytes()).await;
    let artifact = PackageArtifact {
        name: name.clone(),
        version,
        config,
        content,
        readme: Some(readme),
        sbom: None,
    };
    let bytes = artifact.manifest_bytes();
    let digest = Digest::of(&bytes);
    let payload = simple_signing::payload(&format!("127.0.0.1:5000/{name}"), &digest);
    let signature = key.sign(&payload).unwrap();
    Built {
        name,
        manifest: bytes,
        digest,
        payload,
        signature,
    }
}

pub async fn build_simple(app: &TestApp, p: &Publisher, name: &str, version: &str) -> Built {
    build(
        app,
        p,
        &p.key,
        &toml(name, version, ""),
        &tarball(&[("deploy/values.yaml", b"replicas: 1\n")]),
    )
    .await
}

/// An admin's token, for the audit log and specs.
pub async fn admin_token(app: &TestApp) -> String {
    let db = &app.state.db;
    admin::create_user(db, "root", true).await.unwrap();
    admin::create_token(db, "root", "admin", &["admin".into()], Some(1))
        .await
        .unwrap()
}

/// The specs of `catalog-examples/specs`, by file name.
pub const SPECS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../catalog-examples/specs");

/// Publish every spec of `catalog-examples/specs`, in file-name order, as an admin.
pub async fn publish_specs(app: &TestApp) {
    let admin = admin_token(app).await;
    let mut specs: Vec<_> = std::fs::read_dir(SPECS).unwrap().map(|e| e.unwrap().path()).collect();
    specs.sort();
    for path in specs {
        let spec = std::fs::read_to_string(&path).unwrap();
        let res = post(
            app,
            "/api/v1/specs",
            &format!("Bearer {admin}"),
            json!({ "toml": spec }).to_string(),
        )
        .await;
        assert_eq!(
            res.status,
            StatusCode::CREATED,
            "{}: {}",
            path.display(),
            String::from_utf8_lossy(&res.body)
        );
    }
}
