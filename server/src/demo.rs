//! `serve --demo`: a registry that is useful from its first command. Creates a demo
//! admin, one organisation per namespace of the example catalogue with a signing key
//! each, publishes every spec, then publishes every example package signed, over HTTP
//! to this very server, through `govstore_client::publish`: the same path as
//! `govstore publish`, with every check the registry makes. Re-running on the same
//! data directory skips what is already there.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use govstore_client::progress::{NoProgress, Progress};
use govstore_client::publish::{PublishError, PublishOptions, publish, read_manifest};
use govstore_client::registry::RegistryClient;
use govstore_signing::KeyPair;

use crate::admin;
use crate::db;
use crate::state::AppState;

const DEMO_USER: &str = "demo";
/// The password of the demo keys written under `DATA/demo-keys/`.
pub const DEMO_KEY_PASSWORD: &str = "demo";

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("cannot read the catalogue at {path}: {source}")]
    Catalogue { path: PathBuf, source: std::io::Error },
    #[error("{0}")]
    Admin(#[from] admin::AdminError),
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error("signing key: {0}")]
    Key(#[from] govstore_signing::SigningError),
    #[error("cannot write the demo key {path}: {source}")]
    WriteKey { path: PathBuf, source: std::io::Error },
    #[error("registry client: {0}")]
    Client(#[from] govstore_client::registry::ClientError),
    #[error("spec {path}: {message}")]
    Spec { path: PathBuf, message: String },
    #[error("package {dir}: {source}")]
    Publish { dir: PathBuf, source: Box<PublishError> },
}

/// What the demo did.
#[derive(Debug, Default)]
pub struct DemoReport {
    pub token: String,
    pub specs: usize,
    pub published: usize,
    pub already_there: usize,
}

fn dirs_with(path: &Path, file: &str) -> Result<Vec<PathBuf>, DemoError> {
    let err = |source| DemoError::Catalogue {
        path: path.to_owned(),
        source,
    };
    let mut out = Vec::new();
    for entry in std::fs::read_dir(path).map_err(err)? {
        let p = entry.map_err(err)?.path();
        if p.join(file).is_file() {
            out.push(p);
        }
    }
    out.sort();
    Ok(out)
}

/// Publish the catalogue at `catalogue` to the server listening at `base_url`.
pub async fn run(st: &AppState, base_url: &str, catalogue: &Path) -> Result<DemoReport, DemoError> {
    let packages = dirs_with(catalogue, "govstore.toml")?;
    if db::accounts::user(&st.db.read, DEMO_USER).await?.is_none() {
        admin::create_user(&st.db, DEMO_USER, true).await?;
    }
    let token = admin::create_token(&st.db, DEMO_USER, "demo", &["admin".into()], Some(1)).await?;
    let client = RegistryClient::new(base_url, Some(token.clone()))?;

    // One organisation and key per namespace.
    let mut namespaces: Vec<String> = Vec::new();
    for dir in &packages {
        let manifest = read_manifest(dir).map_err(|e| DemoError::Publish {
            dir: dir.clone(),
            source: Box::new(e),
        })?;
        namespaces.push(manifest.package.name.namespace().to_owned());
    }
    namespaces.sort();
    namespaces.dedup();
    let keys_dir = st.config.data_dir.join("demo-keys");
    std::fs::create_dir_all(&keys_dir).map_err(|source| DemoError::WriteKey {
        path: keys_dir.clone(),
        source,
    })?;
    let mut keys = std::collections::BTreeMap::new();
    for ns in &namespaces {
        if db::accounts::organisation(&st.db.read, ns).await?.is_none() {
            admin::create_org(&st.db, ns, DEMO_USER).await?;
        }
        keys.insert(ns.clone(), demo_key(&client, &keys_dir, ns).await?);
    }

    let mut report = DemoReport {
        token,
        ..Default::default()
    };
    let specs_dir = catalogue.join("specs");
    if specs_dir.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&specs_dir)
            .map_err(|source| DemoError::Catalogue {
                path: specs_dir.clone(),
                source,
            })?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        files.sort();
        for path in files {
            let text = std::fs::read_to_string(&path).map_err(|source| DemoError::Catalogue {
                path: path.clone(),
                source,
            })?;
            client.publish_spec(&text).await.map_err(|e| DemoError::Spec {
                path: path.clone(),
                message: e.to_string(),
            })?;
            report.specs += 1;
        }
    }

    let progress: Arc<dyn Progress> = Arc::new(NoProgress);
    for dir in &packages {
        let manifest = read_manifest(dir).map_err(|e| DemoError::Publish {
            dir: dir.clone(),
            source: Box::new(e),
        })?;
        let Some(key) = keys.get(manifest.package.name.namespace()) else {
            continue;
        };
        match publish(&client, dir, key, &PublishOptions::default(), &progress).await {
            Ok(out) => {
                tracing::info!(package = %out.published.name, version = %out.published.version, "demo: published");
                report.published += 1;
            }
            Err(PublishError::Client(e)) if e.code() == Some("VERSION_EXISTS") => report.already_there += 1,
            Err(e) => {
                return Err(DemoError::Publish {
                    dir: dir.clone(),
                    source: Box::new(e),
                });
            }
        }
    }
    Ok(report)
}

/// The namespace's demo key: read from `DATA/demo-keys/<ns>.key` if a previous run
/// made it, else generated, written (with its `.pub`) and registered.
async fn demo_key(client: &RegistryClient, dir: &Path, ns: &str) -> Result<KeyPair, DemoError> {
    let path = dir.join(format!("{ns}.key"));
    if let Ok(pem) = std::fs::read_to_string(&path) {
        return Ok(KeyPair::from_encrypted_pem(&pem, DEMO_KEY_PASSWORD.as_bytes())?);
    }
    let key = KeyPair::generate()?;
    let write = |p: PathBuf, text: String| {
        govstore_client::config::write_private(&p, text.as_bytes())
            .map_err(|source| DemoError::WriteKey { path: p, source })
    };
    write(path, key.to_encrypted_pem(DEMO_KEY_PASSWORD.as_bytes())?)?;
    write(dir.join(format!("{ns}.pub")), key.public_key().to_pem())?;
    client
        .register_key(ns, &key.public_key().to_pem(), Some("demo"))
        .await?;
    Ok(key)
}
