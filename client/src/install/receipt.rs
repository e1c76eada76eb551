//! The receipt of an install, `DIR/.govstore-receipt.json`: which lockfile was
//! installed (its SHA-256), when, and each package with its digests and signer. It is
//! written last, by rename, so it only ever describes a finished install; a rerun with
//! the same lockfile reads it and does nothing.

use std::collections::BTreeMap;
use std::path::Path;

use govstore_core::Digest;
use govstore_core::package::PackageName;
use serde::{Deserialize, Serialize};

/// The receipt's file name inside the install directory.
pub const RECEIPT_FILE: &str = ".govstore-receipt.json";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    /// Format version of this file.
    pub receipt_version: u32,
    /// `sha256:` of the lockfile's canonical text (so reformatting it changes nothing).
    pub lock_hash: Digest,
    /// When the install finished, RFC 3339 UTC.
    pub installed_at: String,
    pub packages: Vec<InstalledPackage>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstalledPackage {
    pub name: PackageName,
    pub version: semver::Version,
    /// The OCI manifest digest the lockfile pins.
    pub digest: Digest,
    /// The content layer that was unpacked.
    pub content_digest: Digest,
    /// The key whose signature was verified.
    pub key_id: String,
    /// Where it is, relative to the install directory (`<ns>/<name>`).
    pub path: String,
}

impl Receipt {
    /// The receipt in `dir`, if there is a readable one that is a regular file (a
    /// symbolic link is never followed).
    pub fn read(dir: &Path) -> Option<Self> {
        let path = dir.join(RECEIPT_FILE);
        let meta = std::fs::symlink_metadata(&path).ok()?;
        if !meta.file_type().is_file() {
            return None;
        }
        serde_json::from_slice(&std::fs::read(&path).ok()?).ok()
    }

    /// Installed packages by name.
    pub fn by_name(&self) -> BTreeMap<&PackageName, &InstalledPackage> {
        self.packages.iter().map(|p| (&p.name, p)).collect()
    }
}

/// The current time as RFC 3339 UTC (`2026-11-21T18:00:00Z`).
pub fn rfc3339_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    govstore_core::time::rfc3339(secs)
}
