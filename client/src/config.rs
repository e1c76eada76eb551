//! The user's configuration: the default registry and a token per registry.
//!
//! The file is `$GOVSTORE_CONFIG_DIR/config.toml`, else
//! `$XDG_CONFIG_HOME/govstore/config.toml`, else `~/.config/govstore/config.toml`:
//!
//! ```toml
//! registry = "https://registry.example.gov"
//!
//! [tokens]
//! "https://registry.example.gov" = "gvs_..."
//! ```
//!
//! Tokens are kept per registry URL so that pointing a command at another registry
//! never sends it the token of the first. The file holds secrets: it is written with
//! mode 0600 from the start (a new file, renamed over the old one), in a directory
//! created with mode 0700.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The configuration file's name inside the configuration directory.
pub const CONFIG_FILE: &str = "config.toml";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot find the configuration directory: set GOVSTORE_CONFIG_DIR or HOME")]
    NoConfigDir,
    #[error("cannot read `{path}`: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error("`{path}` is not a valid govstore configuration: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("cannot write `{path}`: {source}")]
    Write { path: PathBuf, source: io::Error },
    #[error("`{url}` is not a registry URL: {reason}")]
    BadUrl { url: String, reason: &'static str },
}

/// The contents of `config.toml`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The registry used when a command is given none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry: Option<String>,
    /// API tokens by registry URL (as [`normalize_registry_url`] gives it).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tokens: BTreeMap<String, String>,
}

impl Config {
    /// Reads the file at `path`; a missing file is an empty configuration.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(source) => {
                return Err(ConfigError::Read {
                    path: path.to_owned(),
                    source,
                });
            }
        };
        toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            message: e.message().to_owned(),
        })
    }

    /// Writes the file at `path` with mode 0600, atomically.
    pub fn save(&self, path: &Path) -> Result<(), ConfigError> {
        let text = toml::to_string(self).map_err(|e| ConfigError::Write {
            path: path.to_owned(),
            source: io::Error::other(e),
        })?;
        write_private(path, text.as_bytes()).map_err(|source| ConfigError::Write {
            path: path.to_owned(),
            source,
        })
    }

    /// The token stored for `registry` (a normalised URL).
    pub fn token_for(&self, registry: &str) -> Option<&str> {
        self.tokens.get(registry).map(String::as_str)
    }

    /// Records a login: `registry` becomes the default and its token is stored.
    pub fn set_login(&mut self, registry: &str, token: &str) {
        self.registry = Some(registry.to_owned());
        self.tokens.insert(registry.to_owned(), token.to_owned());
    }
}

/// Where the configuration file is, from the process environment.
pub fn config_path() -> Result<PathBuf, ConfigError> {
    config_path_from(|k| std::env::var_os(k))
}

/// Where the configuration file is, given an environment lookup.
pub fn config_path_from(env: impl Fn(&str) -> Option<OsString>) -> Result<PathBuf, ConfigError> {
    let set = |k: &str| env(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(dir) = set("GOVSTORE_CONFIG_DIR") {
        return Ok(dir.join(CONFIG_FILE));
    }
    if let Some(dir) = set("XDG_CONFIG_HOME").filter(|d| d.is_absolute()) {
        return Ok(dir.join("govstore").join(CONFIG_FILE));
    }
    if let Some(home) = set("HOME") {
        return Ok(home.join(".config").join("govstore").join(CONFIG_FILE));
    }
    Err(ConfigError::NoConfigDir)
}

/// `https://host[:port][/path]` without a trailing `/`, so that one registry has one
/// spelling. Only `http` and `https` are accepted, without credentials, query or
/// fragment.
pub fn normalize_registry_url(input: &str) -> Result<String, ConfigError> {
    let bad = |reason| ConfigError::BadUrl {
        url: input.to_owned(),
        reason,
    };
    let url =
        reqwest::Url::parse(input.trim()).map_err(|_| bad("expected a URL such as https://registry.example.gov"))?;
    if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
        return Err(bad("expected an http:// or https:// URL"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("the URL has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad(
            "the URL must not contain credentials; use `govstore login --token`",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("the URL must not have a query or fragment"));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// Writes `bytes` to `path` as a new file created with mode 0600 (never widened, never
/// chmod-ed afterwards), then renames it over `path`. Creates the parent directory with
/// mode 0700 if it is missing.
pub fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    create_private_dir(&dir)?;
    let mut builder = tempfile::Builder::new();
    builder.prefix(".govstore-").suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o600));
    }
    let mut tmp = builder.tempfile_in(&dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn saved_file_has_mode_0600_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/govstore/config.toml");
        let mut c = Config::default();
        c.set_login("http://127.0.0.1:8080", "gvs_secret");
        c.save(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let parent = std::fs::metadata(path.parent().unwrap()).unwrap().permissions().mode();
        assert_eq!(parent & 0o777, 0o700);
        assert_eq!(Config::load(&path).unwrap(), c);
        assert_eq!(
            Config::load(&path).unwrap().token_for("http://127.0.0.1:8080"),
            Some("gvs_secret")
        );

        // Saving over a file that was world-readable leaves a 0600 file.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        c.set_login("https://other.example", "gvs_other");
        c.save(&path).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            "registry = \"https://other.example\"\n\n[tokens]\n\"http://127.0.0.1:8080\" = \"gvs_secret\"\n\"https://other.example\" = \"gvs_other\"\n"
        );
    }

    #[test]
    fn missing_file_is_empty_and_bad_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Config::load(&dir.path().join("none.toml")).unwrap(), Config::default());
        let bad = dir.path().join("bad.toml");
        std::fs::write(&bad, "registri = 1\n").unwrap();
        assert!(matches!(Config::load(&bad), Err(ConfigError::Parse { .. })));
    }

    #[test]
    fn path_follows_the_environment() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| OsString::from(v))
        };
        assert_eq!(
            config_path_from(env(&[
                ("GOVSTORE_CONFIG_DIR", "/c"),
                ("XDG_CONFIG_HOME", "/x"),
                ("HOME", "/h")
            ]))
            .unwrap(),
            PathBuf::from("/c/config.toml")
        );
        assert_eq!(
            config_path_from(env(&[("XDG_CONFIG_HOME", "/x"), ("HOME", "/h")])).unwrap(),
            PathBuf::from("/x/govstore/config.toml")
        );
        assert_eq!(
            config_path_from(env(&[("XDG_CONFIG_HOME", "relative"), ("HOME", "/h")])).unwrap(),
            PathBuf::from("/h/.config/govstore/config.toml")
        );
        assert!(matches!(config_path_from(env(&[])), Err(ConfigError::NoConfigDir)));
    }

    #[test]
    fn registry_urls_are_normalised() {
        assert_eq!(
            normalize_registry_url("http://127.0.0.1:8080/").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            normalize_registry_url("HTTPS://Registry.Example.gov").unwrap(),
            "https://registry.example.gov"
        );
        assert_eq!(
            normalize_registry_url("https://r.example/govstore/").unwrap(),
            "https://r.example/govstore"
        );
        for bad in [
            "localhost:8080",
            "ftp://x",
            "https://u:p@x",
            "https://x/?a=1",
            "not a url",
        ] {
            assert!(normalize_registry_url(bad).is_err(), "{bad}");
        }
    }
}
