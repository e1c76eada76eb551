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
//! `version` is the lockfile's format ([`LOCKFILE_FORMAT`], a versioned wire format as
//! [`crate::wire`] describes): `1`, the only one so far, also when missing. A lockfile
//! of a newer major format is refused with [`LockfileError::Format`](super::LockfileError),
//! which says to upgrade govstore; fields this govstore does not know are ignored. `stack` is
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
use crate::wire::{FormatVersion, WireFormat};

/// The (major) lockfile format this code writes, and the newest it reads.
pub const LOCKFILE_VERSION: u32 = 1;

/// The lockfile's format: the top-level `version`.
pub const LOCKFILE_FORMAT: WireFormat = WireFormat {
    document: "the lockfile",
    field: "version",
    current: FormatVersion::major(LOCKFILE_VERSION),
    oldest: 1,
};

/// A whole `govstore.lock`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lockfile {
    /// The format version ([`LOCKFILE_FORMAT`]); 1 when missing.
    #[serde(default)]
    pub version: FormatVersion,
    /// The digest of the canonical stack profile the set was resolved for.
    pub stack: Digest,
    /// The stack's `[trust]` when it was resolved under `approved_only` (country
    /// filled in): `govstore install` checks each package's approvals against it again,
    /// so a version whose approval was revoked since is refused.
    #[serde(default, skip_serializing_if = "super::model::Trust::is_empty")]
    pub trust: super::model::Trust,
    /// The packages, sorted by name.
    #[serde(default, rename = "package", skip_serializing_if = "Vec::is_empty")]
    pub packages: Vec<LockedPackage>,
}

/// One `[[package]]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
            version: LOCKFILE_FORMAT.current,
            stack,
            trust: super::model::Trust::default(),
            packages,
        }
    }

    /// Parses and validates a `govstore.lock`: its format first (a newer major is
    /// [`LockfileError::Format`]), then the rest, ignoring fields it does not know.
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
    // Parsing checked the format before the rest ([`LOCKFILE_FORMAT`]); this catches a
    // lockfile built in code.
    if let Err(e) = LOCKFILE_FORMAT.check(lock.version) {
        let hint = e.hint();
        errors.push(FieldError::new(root.key("version"), e.to_string()).with_hint(hint));
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
    fn refuses_duplicates() {
        let mut lock = sample();
        lock.packages[1].name = lock.packages[0].name.clone();
        let text = lock.to_toml_string();
        let err = Lockfile::from_toml_str(&text).unwrap_err();
        let messages: Vec<String> = err.field_errors().iter().map(ToString::to_string).collect();
        assert_eq!(messages.len(), 1, "{messages:?}");
        assert!(
            messages[0].starts_with("package[1].name: mosip/esignet is locked twice"),
            "{messages:?}"
        );
    }

    /// The writer writes the format, first, as the integer older readers expect.
    #[test]
    fn writes_its_format() {
        let text = sample().to_toml_string();
        let body: Vec<&str> = text.lines().skip(1).collect();
        assert_eq!(body[0], "version = 1", "{text}");
        assert_eq!(sample().version, LOCKFILE_FORMAT.current);
    }

    /// A newer major is refused for its format, before anything else is looked at
    /// (here the packages are in a shape this govstore cannot read).
    #[test]
    fn refuses_a_newer_major_format() {
        let text = "version = 2\nstack = \"sha256:00\"\n[package.\"mosip/esignet\"]\nversion = { exact = \"1.8.0\" }\n";
        let err = Lockfile::from_toml_str(text).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the lockfile uses format 2; this govstore understands format 1"
        );
        let LockfileError::Format(format) = &err else {
            panic!("{err:?}")
        };
        assert_eq!(format.hint(), "upgrade govstore to a release that understands format 2");
        let err = Lockfile::from_toml_str(
            &sample()
                .to_toml_string()
                .replace("version = 1\n", "version = \"3.1\"\n"),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "the lockfile uses format 3.1; this govstore understands format 1"
        );
        assert!(matches!(
            Lockfile::from_toml_str(&sample().to_toml_string().replace("version = 1\n", "version = 0\n")),
            Err(LockfileError::Format(_))
        ));
    }

    /// A lockfile written before the format was versioned may lack it; a newer minor and
    /// fields this govstore does not know (top level and in packages) are ignored.
    #[test]
    fn reads_missing_format_as_1_and_ignores_unknown_fields() {
        let text = sample().to_toml_string();
        let without = text.replace("version = 1\n", "");
        assert!(!without.contains("version = 1\n"));
        assert_eq!(Lockfile::from_toml_str(&without).unwrap(), sample());
        let extended = text
            .replace("version = 1\n", "version = \"1.4\"\nresolved_by = \"govstore 9.0\"\n")
            .replace("[[package]]\n", "[[package]]\nintegrity = { sbom = \"sha256:ff\" }\n");
        let back = Lockfile::from_toml_str(&extended).unwrap_or_else(|e| panic!("{e}\n{extended}"));
        assert_eq!(back.version, crate::wire::FormatVersion::new(1, 4));
        assert_eq!(back.packages, sample().packages);
    }
}
