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
    /// `sha256:` of the lockfile's bytes.
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
    rfc3339(secs)
}

/// Seconds since the epoch as RFC 3339 UTC.
fn rfc3339(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil-from-days (Howard Hinnant's algorithm), proleptic Gregorian calendar.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::rfc3339(1_795_284_000), "2026-11-21T18:00:00Z");
        assert_eq!(super::rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }
}
