//! The receipt of an install, `DIR/.govstore-receipt.json`: which lockfile was
//! installed (its SHA-256), when, and each package with its digests and signer. It is
//! written last, by rename, so it only ever describes a finished install; a rerun with
//! the same lockfile reads it and does nothing.
//!
//! The receipt is a versioned wire format ([`govstore_core::wire`], [`RECEIPT_FORMAT`]):
//! `receipt_version` is its format, 1 when missing; fields this govstore does not know
//! are ignored, and a receipt of a newer major format (a newer govstore installed into
//! the directory) is refused, so that an older govstore never overwrites what it
//! cannot read.

use std::collections::BTreeMap;
use std::path::Path;

use govstore_core::Digest;
use govstore_core::package::PackageName;
use govstore_core::wire::{FormatError, FormatVersion, WireFormat};
use serde::{Deserialize, Serialize};

/// The receipt's file name inside the install directory.
pub const RECEIPT_FILE: &str = ".govstore-receipt.json";

/// The receipt's format: `receipt_version`.
pub const RECEIPT_FORMAT: WireFormat = WireFormat {
    document: "the install receipt",
    field: "receipt_version",
    current: FormatVersion::V1,
    oldest: 1,
};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// The format of this file ([`RECEIPT_FORMAT`]); 1 when missing.
    #[serde(default)]
    pub receipt_version: FormatVersion,
    /// `sha256:` of the lockfile's canonical text (so reformatting it changes nothing).
    pub lock_hash: Digest,
    /// When the install finished, RFC 3339 UTC.
    pub installed_at: String,
    pub packages: Vec<InstalledPackage>,
    /// The country bundle installed, when `govstore pull` installed one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bundle: Option<ReceiptBundle>,
}

/// Which bundle version a directory holds, and how it was checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptBundle {
    /// `SL/national-id@2026.1`.
    pub reference: String,
    /// The bundle's image index digest.
    pub digest: Digest,
    /// The pinned country keys whose signatures verified.
    pub signers: Vec<String>,
    /// Checks the operator overrode (`--allow-revoked`), each with what it let through.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub overrides: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    /// symbolic link is never followed); `None` for none or an unreadable one, which
    /// the next install replaces. A receipt of a newer major format is an error, naming
    /// the file: a newer govstore installed into `dir`.
    pub fn read(dir: &Path) -> Result<Option<Self>, FormatError> {
        let path = dir.join(RECEIPT_FILE);
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            return Ok(None);
        };
        if !meta.file_type().is_file() {
            return Ok(None);
        }
        let Ok(text) = std::fs::read_to_string(&path) else {
            return Ok(None);
        };
        Self::from_json(&text).map_err(|e| e.with_subject(format!("the install receipt `{}`", path.display())))
    }

    /// Parses a receipt: its format first, then the rest, ignoring fields it does not
    /// know. `Ok(None)` when it is not a receipt.
    pub fn from_json(text: &str) -> Result<Option<Self>, FormatError> {
        RECEIPT_FORMAT.check_json(text)?;
        Ok(serde_json::from_str(text).ok())
    }

    /// The receipt of an install of the lockfile `lock_hash` finished at `installed_at`,
    /// in the current format.
    pub fn new(lock_hash: Digest, installed_at: String, packages: Vec<InstalledPackage>) -> Self {
        Self {
            receipt_version: RECEIPT_FORMAT.current,
            lock_hash,
            installed_at,
            packages,
            bundle: None,
        }
    }

    /// The JSON written to [`RECEIPT_FILE`].
    pub fn to_json(&self) -> Result<Vec<u8>, serde_json::Error> {
        serde_json::to_vec_pretty(self)
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
