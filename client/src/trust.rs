//! The operator's pinned country keys: which approver keys (by id) and how many of them
//! must sign a bundle of a country before `govstore pull` installs it.
//!
//! Kept in `trust.toml` beside `config.toml` (`$XDG_CONFIG_HOME/govstore/trust.toml`,
//! or `GOVSTORE_TRUST_FILE`), written only by `govstore trust add/remove` (atomically,
//! mode 0600). Nothing is ever trusted on first use: a country without an entry stops a
//! pull with the command that pins it. Format:
//!
//! ```toml
//! version = 1
//! [countries.SL]
//! keys = ["<key id>", ...]
//! threshold = 2
//! ```
//!
//! Readers ignore unknown fields and refuse a newer `version`.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use govstore_core::manifest::values::CountryCode;
use govstore_core::stack::Trust;
use serde::{Deserialize, Serialize};

use crate::config::{ConfigError, config_path_from, write_private};

/// The trust file's format version.
pub const TRUST_FORMAT: u32 = 1;
/// The file name beside `config.toml`.
pub const TRUST_FILE: &str = "trust.toml";

#[derive(Debug, thiserror::Error)]
pub enum TrustFileError {
    #[error("cannot read `{path}`: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("`{path}` is not a valid trust file: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("`{path}` is in trust format {found}; this govstore reads format {TRUST_FORMAT}: upgrade govstore")]
    Newer { path: PathBuf, found: u32 },
    #[error("cannot write `{path}`: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Config(#[from] ConfigError),
}

/// One country's pinned keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pinned {
    pub keys: Vec<String>,
    pub threshold: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustFile {
    #[serde(default = "format")]
    pub version: u32,
    #[serde(default)]
    pub countries: BTreeMap<String, Pinned>,
}

fn format() -> u32 {
    TRUST_FORMAT
}

impl TrustFile {
    /// The trust file's path: `GOVSTORE_TRUST_FILE`, else `trust.toml` beside the config.
    pub fn path_from(env: impl Fn(&str) -> Option<OsString>) -> Result<PathBuf, TrustFileError> {
        if let Some(p) = env("GOVSTORE_TRUST_FILE").filter(|p| !p.is_empty()) {
            return Ok(PathBuf::from(p));
        }
        let config = config_path_from(env)?;
        Ok(config.with_file_name(TRUST_FILE))
    }

    pub fn path() -> Result<PathBuf, TrustFileError> {
        Self::path_from(|k| std::env::var_os(k))
    }

    /// The file at `path`; empty if there is none.
    pub fn load(path: &Path) -> Result<Self, TrustFileError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(source) => {
                return Err(TrustFileError::Read {
                    path: path.to_owned(),
                    source,
                });
            }
        };
        let invalid = |message: String| TrustFileError::Invalid {
            path: path.to_owned(),
            message,
        };
        let file: Self = toml::from_str(&text).map_err(|e| invalid(e.to_string()))?;
        if file.version > TRUST_FORMAT {
            return Err(TrustFileError::Newer {
                path: path.to_owned(),
                found: file.version,
            });
        }
        for (code, p) in &file.countries {
            code.parse::<CountryCode>()
                .map_err(|e| invalid(format!("[countries.{code}]: {e}")))?;
            if let Some(bad) = p.keys.iter().find(|k| k.parse::<govstore_core::Digest>().is_err()) {
                return Err(invalid(format!("[countries.{code}]: {bad:?} is not a key id")));
            }
            if p.keys.is_empty() || p.threshold == 0 || p.threshold as usize > p.keys.len() {
                return Err(invalid(format!(
                    "[countries.{code}] needs at least one key and a threshold from 1 to its number of keys"
                )));
            }
        }
        Ok(file)
    }

    /// Writes the file atomically, readable by its owner only.
    pub fn save(&self, path: &Path) -> Result<(), TrustFileError> {
        let text = toml::to_string(self).map_err(|e| TrustFileError::Invalid {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|source| TrustFileError::Write {
                path: path.to_owned(),
                source,
            })?;
        }
        write_private(path, text.as_bytes()).map_err(|source| TrustFileError::Write {
            path: path.to_owned(),
            source,
        })
    }

    /// The pinned keys of `country`, as a stack's `[trust]`.
    pub fn trust(&self, country: CountryCode) -> Option<Trust> {
        let p = self.countries.get(country.as_str())?;
        Some(Trust {
            country: Some(country),
            keys: p.keys.clone(),
            threshold: Some(p.threshold),
        })
    }

    /// Pins more keys for `country`, and the threshold when given; a country's first
    /// pin needs a threshold.
    pub fn add(&mut self, country: CountryCode, keys: &[String], threshold: Option<u32>) -> Result<&Pinned, String> {
        let entry = self.countries.get(country.as_str()).cloned();
        let mut pinned = match (entry, threshold) {
            (Some(p), _) => p,
            (None, Some(t)) => Pinned {
                keys: Vec::new(),
                threshold: t,
            },
            (None, None) => {
                return Err(format!(
                    "{country} has no pinned keys yet: say how many of its approvers must sign a bundle with --threshold N"
                ));
            }
        };
        for k in keys {
            if !pinned.keys.contains(k) {
                pinned.keys.push(k.clone());
            }
        }
        if let Some(t) = threshold {
            pinned.threshold = t;
        }
        if pinned.threshold == 0 || pinned.threshold as usize > pinned.keys.len() {
            return Err(format!(
                "a threshold of {} needs at least that many pinned keys; {country} would have {}",
                pinned.threshold,
                pinned.keys.len()
            ));
        }
        self.countries.insert(country.as_str().to_owned(), pinned);
        Ok(&self.countries[country.as_str()])
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn pins_need_a_threshold_first_and_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("trust.toml");
        let sl: CountryCode = "SL".parse().unwrap();
        let mut t = TrustFile::load(&path).unwrap();
        assert!(t.trust(sl).is_none(), "nothing is trusted on first use");
        let k = |n: u8| format!("sha256:{}", format!("{n:02x}").repeat(32));
        assert!(t.add(sl, &[k(1)], None).unwrap_err().contains("--threshold"));
        assert!(t.add(sl, &[k(1)], Some(2)).unwrap_err().contains("at least that many"));
        t.add(sl, &[k(1), k(2)], Some(2)).unwrap();
        t.add(sl, &[k(3), k(1)], None).unwrap();
        t.save(&path).unwrap();
        let back = TrustFile::load(&path).unwrap();
        let trust = back.trust(sl).unwrap();
        assert_eq!(trust.keys, [k(1), k(2), k(3)]);
        assert_eq!(trust.threshold, Some(2));
        std::fs::write(&path, "version = 9\n").unwrap();
        assert!(matches!(TrustFile::load(&path), Err(TrustFileError::Newer { .. })));
        std::fs::write(&path, "[countries.SL]\nkeys = []\nthreshold = 1\n").unwrap();
        assert!(TrustFile::load(&path).is_err());
    }
}
