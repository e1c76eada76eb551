//! The lockfile, `govstore.lock`: the resolved set of package versions with their
//! digests and signers, and the hash of the stack profile it was resolved for.
//!
//! ```toml
//! # Written by govstore resolve. Do not edit by hand.
//! version = 1
//! stack = "sha256:3c1f..."
//!
//! [[package]]
//! name = "mosip/esignet"
//! version = "1.8.0"
//! digest = "sha256:9a0e..."
//! key_ids = ["sha256:5d2b..."]
//! source = "https://registry.example.gov"
//! ```
//!
//! `version` is the lockfile format (only `1` exists). `stack` is
//! [`Stack::digest`](super::Stack::digest) of the profile: a tool can tell that the
//! profile changed since the lock was written. Packages are sorted by name and each name
//! appears once. Only packages to install are listed; systems the stack already runs
//! are not.

use std::collections::BTreeSet;

use semver::Version;
use serde::{Deserialize, Serialize};

use super::error::LockfileError;
use super::limits::{MAX_KEY_ID_LEN, MAX_KEY_IDS, MAX_LOCKED_PACKAGES};
use super::parse;
use crate::digest::Digest;
use crate::manifest::values::semver_de;
use crate::manifest::{FieldError, FieldPath, Url};
use crate::package::PackageName;

/// The lockfile format this code reads and writes.
pub const LOCKFILE_VERSION: u32 = 1;

/// A whole `govstore.lock`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lockfile {
    /// The format version, [`LOCKFILE_VERSION`].
    pub version: u32,
    /// The digest of the canonical stack profile the set was resolved for.
    pub stack: Digest,
    /// The packages, sorted by name.
    #[serde(default, rename = "package", skip_serializing_if = "Vec::is_empty")]
    pub packages: Vec<LockedPackage>,
}

/// One `[[package]]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockedPackage {
    pub name: PackageName,
    #[serde(deserialize_with = "semver_de::version")]
    pub version: Version,
    /// The OCI manifest digest of the package version.
    pub digest: Digest,
    /// The ids of the keys whose signatures the registry verified.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub key_ids: Vec<String>,
    /// The registry the version comes from.
    pub source: Url,
}

impl Lockfile {
    /// A lockfile for `packages`, sorted by name.
    pub fn new(stack: Digest, mut packages: Vec<LockedPackage>) -> Self {
        packages.sort_by(|a, b| a.name.cmp(&b.name));
        Self {
            version: LOCKFILE_VERSION,
            stack,
            packages,
        }
    }

    /// Parses and validates a `govstore.lock`.
    pub fn from_toml_str(text: &str) -> Result<Self, LockfileError> {
        parse::lockfile_from_toml(text)
    }

    /// The TOML text, with a header comment. Deterministic: the same lockfile always
    /// gives the same bytes.
    pub fn to_toml_string(&self) -> String {
        let body = toml::to_string(self).unwrap_or_else(|e| format!("# the lockfile could not be written: {e}\n"));
        format!("# Written by govstore resolve. Do not edit by hand.\n{body}")
    }

    /// The entry for `name`, if locked.
    pub fn get(&self, name: &PackageName) -> Option<&LockedPackage> {
        self.packages.iter().find(|p| &p.name == name)
    }
}

/// The rules checked after deserialization.
pub(crate) fn validate_lockfile(lock: &Lockfile) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let root = FieldPath::root();
    if lock.version != LOCKFILE_VERSION {
        errors.push(
            FieldError::new(
                root.key("version"),
                format!(
                    "lockfile format {} is not supported; this govstore reads format {LOCKFILE_VERSION}",
                    lock.version
                ),
            )
            .with_hint("resolve again to write a lockfile this govstore understands"),
        );
    }
    if lock.packages.len() > MAX_LOCKED_PACKAGES {
        errors.push(FieldError::new(
            root.key("package"),
            format!(
                "has {} entries; the limit is {MAX_LOCKED_PACKAGES}",
                lock.packages.len()
            ),
        ));
    }
    let mut names = BTreeSet::new();
    for (i, package) in lock.packages.iter().enumerate() {
        let path = root.key("package").index(i);
        if !names.insert(&package.name) {
            errors.push(FieldError::new(
                path.key("name"),
                format!("{} is locked twice", package.name),
            ));
        }
        if !package.version.build.is_empty() {
            errors.push(FieldError::new(
                path.key("version"),
                format!(
                    "version {} has build metadata, which package versions never have",
                    package.version
                ),
            ));
        }
        if package.key_ids.len() > MAX_KEY_IDS {
            errors.push(FieldError::new(
                path.key("key_ids"),
                format!("has {} entries; the limit is {MAX_KEY_IDS}", package.key_ids.len()),
            ));
        }
        for (j, id) in package.key_ids.iter().enumerate() {
            let bad =
                id.is_empty() || id.len() > MAX_KEY_ID_LEN || id.chars().any(|c| c.is_control() || c.is_whitespace());
            if bad {
                errors.push(FieldError::new(
                    path.key("key_ids").index(j),
                    format!(
                        "{:?} is not a key id: expected up to {MAX_KEY_ID_LEN} characters without spaces",
                        crate::digest::truncate(id)
                    ),
                ));
            }
        }
    }
    errors
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn sample() -> Lockfile {
        let digest = Digest::of(b"x");
        Lockfile::new(
            Digest::of(b"stack"),
            vec![
                LockedPackage {
                    name: "x-road/security-server".parse().unwrap(),
                    version: Version::new(7, 8, 0),
                    digest: digest.clone(),
                    key_ids: vec![format!("sha256:{}", "ab".repeat(32))],
                    source: "https://registry.example.gov".parse().unwrap(),
                },
                LockedPackage {
                    name: "mosip/esignet".parse().unwrap(),
                    version: Version::new(1, 8, 0),
                    digest,
                    key_ids: vec![],
                    source: "https://registry.example.gov".parse().unwrap(),
                },
            ],
        )
    }

    #[test]
    fn round_trips_sorted() {
        let lock = sample();
        assert_eq!(lock.packages[0].name.as_str(), "mosip/esignet");
        let text = lock.to_toml_string();
        assert!(text.starts_with("# Written by govstore resolve."), "{text}");
        assert!(text.contains("[[package]]"), "{text}");
        let back = Lockfile::from_toml_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(back, lock);
        assert_eq!(back.to_toml_string(), text);
        assert!(back.get(&"mosip/esignet".parse().unwrap()).is_some());
        assert!(back.get(&"mosip/other".parse().unwrap()).is_none());
    }

    #[test]
    fn refuses_other_formats_and_duplicates() {
        let mut lock = sample();
        lock.version = 2;
        lock.packages[1].name = lock.packages[0].name.clone();
        let text = lock.to_toml_string();
        let err = Lockfile::from_toml_str(&text).unwrap_err();
        let messages: Vec<String> = err.field_errors().iter().map(ToString::to_string).collect();
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(
            messages[0].starts_with("version: lockfile format 2 is not supported"),
            "{messages:?}"
        );
        assert!(
            messages[1].starts_with("package[1].name: mosip/esignet is locked twice"),
            "{messages:?}"
        );
    }
}
