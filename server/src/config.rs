//! Server configuration: defaults, then a TOML file, then environment variables and
//! flags (clap reads both), each overriding the one before.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use govstore_core::manifest::{Url, ValueError};
use serde::{Deserialize, Deserializer};

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
    /// The most versions one package may have, yanked ones included (they stay in the
    /// index); a publish beyond it is refused.
    pub max_versions_per_package: u64,
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
            max_versions_per_package: 10_000,
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
    /// The URL clients reach the registry at, written as `source` into the lockfiles
    /// the web stack check makes. `None`: taken from each request's `Host` header.
    pub public_url: Option<PublicUrl>,
    pub limits: Limits,
    /// Approver keys the server holds, one per country (`--approver-key CC=PATH`;
    /// `crate::server_keys`).
    pub approver_keys: Vec<ApproverKeyPath>,
    /// The password of those keys (`GOVSTORE_APPROVER_KEY_PASSWORD`; never printed).
    pub approver_key_password: Option<Secret>,
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
            public_url: None,
            limits: Limits::default(),
            approver_keys: Vec::new(),
            approver_key_password: None,
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
    pub public_url: Option<PublicUrl>,
    pub max_manifest_bytes: Option<u64>,
    pub max_blob_bytes: Option<u64>,
    pub max_package_bytes: Option<u64>,
    pub max_upload_sessions: Option<u64>,
    pub max_versions_per_package: Option<u64>,
    pub upload_ttl_secs: Option<u64>,
    /// `["SL=/etc/govstore/sl-approver.key", ...]`.
    pub approver_keys: Option<Vec<ApproverKeyPath>>,
}

/// A server-held approver key's file, for one country: `CC=PATH` in flags, environment
/// and config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApproverKeyPath {
    pub country: govstore_core::manifest::values::CountryCode,
    pub path: PathBuf,
}

impl FromStr for ApproverKeyPath {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (cc, path) = s
            .split_once('=')
            .ok_or_else(|| format!("approver key `{s}` is not COUNTRY=PATH, such as SL=/etc/govstore/sl.key"))?;
        let country = cc.trim().parse().map_err(|e| format!("approver key `{s}`: {e}"))?;
        let path = path.trim();
        if path.is_empty() {
            return Err(format!("approver key `{s}` has no path"));
        }
        Ok(Self {
            country,
            path: PathBuf::from(path),
        })
    }
}

impl<'de> Deserialize<'de> for ApproverKeyPath {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A secret setting: shown as `***` by `Debug`, so it never reaches a log.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// The registry's public URL (`public_url`, `--public-url`, `GOVSTORE_PUBLIC_URL`), such
/// as `https://registry.example.gov` or `https://gov.example/registry`: `http` or
/// `https`, with a host, without user name, password, query or fragment. Spelled as
/// the `govstore` CLI spells a registry URL (scheme and host in lower case, no trailing
/// `/`), so a lockfile made on the web names the registry as `govstore resolve` does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl(Url);

impl PublicUrl {
    pub fn url(&self) -> &Url {
        &self.0
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl fmt::Display for PublicUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a `public_url` setting was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("public_url `{input}` is invalid: {reason}")]
pub struct PublicUrlError {
    pub input: String,
    pub reason: String,
}

impl FromStr for PublicUrl {
    type Err = PublicUrlError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let fail = |reason: &str| PublicUrlError {
            input: input.to_owned(),
            reason: reason.to_owned(),
        };
        let s = input.trim();
        if s.is_empty() {
            return Err(fail("the value is empty"));
        }
        // Each refusal is checked on the text as written, so that it names its own
        // reason; the URL parser below would otherwise repair some (`https:///host`).
        let lower = s.get(..8).unwrap_or(s).to_ascii_lowercase();
        let Some(rest) = ["https://", "http://"]
            .into_iter()
            .find(|scheme| lower.starts_with(scheme))
            .map(|scheme| &s[scheme.len()..])
        else {
            return Err(fail(
                "expected an http:// or https:// URL, such as https://registry.example.gov",
            ));
        };
        let authority = rest.split(['/', '\\', '?', '#']).next().unwrap_or_default();
        if authority.contains('@') {
            return Err(fail("the URL must not contain a user name or password"));
        }
        if authority.split(':').next().unwrap_or_default().is_empty() {
            return Err(fail("the URL has no host"));
        }
        match s.find(['?', '#']).map(|i| s.as_bytes()[i]) {
            Some(b'?') => return Err(fail("the URL must not have a query (`?...`)")),
            Some(_) => return Err(fail("the URL must not have a fragment (`#...`)")),
            None => {}
        }
        let normalized = govstore_client::config::normalize_registry_url(s).map_err(|e| match e {
            govstore_client::ConfigError::BadUrl { reason, .. } => fail(reason),
            other => fail(&other.to_string()),
        })?;
        let url = normalized.parse::<Url>().map_err(|e| match e {
            ValueError::Url { reason, .. } => fail(reason),
            other => fail(&other.to_string()),
        })?;
        Ok(Self(url))
    }
}

impl<'de> Deserialize<'de> for PublicUrl {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn refusal(input: &str) -> String {
        match input.parse::<PublicUrl>() {
            Ok(url) => panic!("{input:?} was accepted as {url}"),
            Err(e) => {
                assert_eq!(e.input, input);
                e.to_string()
            }
        }
    }

    #[test]
    fn public_url_accepts_http_and_https_urls() {
        for (input, expected) in [
            ("https://registry.example.gov", "https://registry.example.gov"),
            ("http://127.0.0.1:5000", "http://127.0.0.1:5000"),
            ("https://gov.example/registry", "https://gov.example/registry"),
            ("  https://registry.example.gov  ", "https://registry.example.gov"),
        ] {
            let url: PublicUrl = input.parse().unwrap();
            assert_eq!(url.as_str(), expected, "{input:?}");
            assert_eq!(url.url().as_str(), expected);
            assert_eq!(url.to_string(), expected);
        }
    }

    #[test]
    fn public_url_is_spelled_as_the_cli_spells_a_registry() {
        for (input, expected) in [
            ("https://registry.example.gov/", "https://registry.example.gov"),
            ("https://registry.example.gov//", "https://registry.example.gov"),
            ("https://gov.example/registry/", "https://gov.example/registry"),
            ("HTTPS://Registry.Example.GOV/", "https://registry.example.gov"),
            ("https://registry.example.gov:443/", "https://registry.example.gov"),
        ] {
            let url: PublicUrl = input.parse().unwrap();
            assert_eq!(url.as_str(), expected, "{input:?}");
            let cli = govstore_client::config::normalize_registry_url(input).unwrap();
            assert_eq!(url.as_str(), cli, "{input:?}: as `govstore` writes it");
        }
    }

    #[test]
    fn public_url_refusals_name_the_setting_and_the_reason() {
        for (input, reason) in [
            ("", "the value is empty"),
            ("   ", "the value is empty"),
            ("registry.example.gov", "expected an http:// or https:// URL"),
            ("ftp://registry.example.gov", "expected an http:// or https:// URL"),
            ("file:///etc/passwd", "expected an http:// or https:// URL"),
            ("javascript:alert(1)", "expected an http:// or https:// URL"),
            ("https://", "the URL has no host"),
            ("https:///registry.example.gov", "the URL has no host"),
            ("https://:8443/", "the URL has no host"),
            (
                "https://admin@registry.example.gov",
                "must not contain a user name or password",
            ),
            (
                "https://admin:secret@registry.example.gov/",
                "must not contain a user name or password",
            ),
            ("https://registry.example.gov/?tenant=a", "must not have a query"),
            ("https://registry.example.gov?", "must not have a query"),
            ("https://registry.example.gov/#top", "must not have a fragment"),
            ("https://registry.example.gov/#a?b", "must not have a fragment"),
            ("https://registry.example.gov:99999", "expected a URL such as"),
            ("https://registry_example.gov", "the host may contain only"),
        ] {
            let message = refusal(input);
            assert!(
                message.starts_with(&format!("public_url `{input}` is invalid: ")),
                "{input:?}: {message}"
            );
            assert!(message.contains(reason), "{input:?}: {message}");
        }
    }

    #[test]
    fn public_url_in_the_config_file() {
        let file: FileConfig = toml::from_str("public_url = \"https://registry.example.gov/\"").unwrap();
        assert_eq!(file.public_url.unwrap().as_str(), "https://registry.example.gov");
        assert!(FileConfig::default().public_url.is_none());
        assert!(Config::for_data_dir("data").public_url.is_none());

        let e = toml::from_str::<FileConfig>("public_url = \"https://registry.example.gov/?x=1\"").unwrap_err();
        let message = e.to_string();
        assert!(
            message
                .contains("public_url `https://registry.example.gov/?x=1` is invalid: the URL must not have a query"),
            "{message}"
        );
        assert!(toml::from_str::<FileConfig>("public_url = 443").is_err());
    }

    #[test]
    fn approver_keys_are_country_equals_path_and_the_password_is_never_shown() {
        let k: ApproverKeyPath = "SL=/etc/govstore/sl.key".parse().unwrap();
        assert_eq!(k.country.as_str(), "SL");
        assert_eq!(k.path, PathBuf::from("/etc/govstore/sl.key"));
        for bad in ["SL", "sl=/x", "XX=/x", "SL=", "=/x"] {
            assert!(bad.parse::<ApproverKeyPath>().is_err(), "{bad}");
        }
        let file: FileConfig = toml::from_str("approver_keys = [\"KE=/k/ke.key\"]").unwrap();
        assert_eq!(file.approver_keys.unwrap()[0].country.as_str(), "KE");
        assert!(toml::from_str::<FileConfig>("approver_keys = [\"KE\"]").is_err());
        assert_eq!(format!("{:?}", Secret::new("hunter2")), "***");
    }
}
