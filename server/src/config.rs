//! Server configuration: defaults, then a TOML file, then environment variables and
//! flags (clap reads both), each overriding the one before.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// Limits on what clients control.
#[derive(Debug, Clone)]
pub struct Limits {
    /// The largest manifest accepted, in bytes.
    pub max_manifest_bytes: u64,
    /// The largest blob accepted, in bytes.
    pub max_blob_bytes: u64,
    /// The largest package version (all its layers together) accepted, in bytes.
    pub max_package_bytes: u64,
    /// The most upload sessions open at once.
    pub max_upload_sessions: u64,
    /// How long an idle upload session lives.
    pub upload_ttl: Duration,
    /// The most tags or referrers one page answers.
    pub max_page: u64,
    /// The most distinct (repository, blob, day) download counts held in memory between
    /// two writes; downloads of further blobs are dropped until the next write.
    pub max_pending_download_keys: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_manifest_bytes: 4 * 1024 * 1024,
            max_blob_bytes: 16 * 1024 * 1024 * 1024,
            max_package_bytes: 1024 * 1024 * 1024,
            max_upload_sessions: 1_000,
            upload_ttl: Duration::from_secs(24 * 3600),
            max_page: 10_000,
            max_pending_download_keys: 10_000,
        }
    }
}

/// The resolved configuration the server runs with.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// `sqlite://...` or `postgres://...`; `None` means SQLite in the data directory.
    pub database_url: Option<String>,
    /// Accept pushes without credentials. For local experiments only.
    pub insecure_anonymous_push: bool,
    /// Allow DELETE of manifests, tags and blobs.
    pub allow_delete: bool,
    pub limits: Limits,
}

impl Config {
    /// A configuration for a data directory, with every other setting at its default.
    pub fn for_data_dir(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            listen: default_listen(),
            data_dir: data_dir.into(),
            database_url: None,
            insecure_anonymous_push: false,
            allow_delete: false,
            limits: Limits::default(),
        }
    }

    /// The database URL in force: the configured one or SQLite under the data dir.
    pub fn effective_database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}?mode=rwc", self.data_dir.join("govstore.db").display()),
        }
    }
}

pub fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 5000))
}

/// The config file's shape (`--config FILE`). Every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub insecure_anonymous_push: Option<bool>,
    pub allow_delete: Option<bool>,
    pub max_manifest_bytes: Option<u64>,
    pub max_blob_bytes: Option<u64>,
    pub max_package_bytes: Option<u64>,
    pub max_upload_sessions: Option<u64>,
    pub upload_ttl_secs: Option<u64>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("config file {path} is invalid: {message}")]
    Parse { path: PathBuf, message: String },
}

impl FileConfig {
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.into(),
            source,
        })?;
        toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.into(),
            message: e.to_string(),
        })
    }
}
