//! The entry names an export may hold, and the classification of a tar entry's raw
//! name into one of them.
//!
//! A reader never trusts a name beyond this: an absolute name, a `..` component or any
//! name other than the five shapes below is refused. A leading `./` (as `tar -C dir .`
//! writes) is accepted and removed, and the `./` directory entry itself is ignored.

use govstore_core::Digest;

use super::LayoutError;

pub const OCI_LAYOUT: &str = "oci-layout";
pub const INDEX_JSON: &str = "index.json";
pub const BLOBS_DIR: &str = "blobs/";
pub const SHA256_DIR: &str = "blobs/sha256/";
/// The contents of `oci-layout`.
pub const OCI_LAYOUT_CONTENT: &[u8] = br#"{"imageLayoutVersion":"1.0.0"}"#;

/// The entry name of a blob.
pub fn blob_entry(digest: &Digest) -> String {
    format!("{SHA256_DIR}{}", digest.hex())
}

/// What an entry's name says it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryName {
    /// `.` or `./`: ignored.
    Root,
    OciLayout,
    IndexJson,
    BlobsDir,
    Sha256Dir,
    Blob(Digest),
}

impl EntryName {
    /// The one spelling of this name, for duplicate detection and messages.
    pub fn canonical(&self) -> String {
        match self {
            Self::Root => "./".to_owned(),
            Self::OciLayout => OCI_LAYOUT.to_owned(),
            Self::IndexJson => INDEX_JSON.to_owned(),
            Self::BlobsDir => BLOBS_DIR.to_owned(),
            Self::Sha256Dir => SHA256_DIR.to_owned(),
            Self::Blob(d) => blob_entry(d),
        }
    }

    /// Whether this name is a directory (else a regular file).
    pub fn is_dir(&self) -> bool {
        matches!(self, Self::Root | Self::BlobsDir | Self::Sha256Dir)
    }
}

/// How a raw entry name is shown in messages: lossy UTF-8, clipped.
pub fn shown(raw: &[u8]) -> String {
    const MAX: usize = 200;
    let s = String::from_utf8_lossy(raw);
    if s.chars().count() <= MAX {
        return s.into_owned();
    }
    let clipped: String = s.chars().take(MAX).collect();
    format!("{clipped}...")
}

/// Classifies a raw tar entry name, refusing unsafe and unknown names.
pub fn classify(raw: &[u8]) -> Result<EntryName, LayoutError> {
    let path = shown(raw);
    if raw.first() == Some(&b'/') || raw.first() == Some(&b'\\') {
        return Err(LayoutError::AbsolutePath { path });
    }
    if raw.split(|b| *b == b'/' || *b == b'\\').any(|c| c == b"..") {
        return Err(LayoutError::ParentComponent { path });
    }
    let unexpected = || LayoutError::UnexpectedEntry { path: path.clone() };
    let name = std::str::from_utf8(raw).map_err(|_| unexpected())?;
    if name == "." || name == "./" {
        return Ok(EntryName::Root);
    }
    let name = name.strip_prefix("./").unwrap_or(name);
    match name {
        OCI_LAYOUT => return Ok(EntryName::OciLayout),
        INDEX_JSON => return Ok(EntryName::IndexJson),
        "blobs" | BLOBS_DIR => return Ok(EntryName::BlobsDir),
        "blobs/sha256" | SHA256_DIR => return Ok(EntryName::Sha256Dir),
        _ => {}
    }
    let hex = name.strip_prefix(SHA256_DIR).ok_or_else(unexpected)?;
    // `Digest` accepts exactly 64 lowercase hex digits.
    let digest: Digest = format!("sha256:{hex}").parse().map_err(|_| unexpected())?;
    Ok(EntryName::Blob(digest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_layout_names_and_nothing_else() {
        let hex = "a".repeat(64);
        assert_eq!(classify(b"oci-layout").ok(), Some(EntryName::OciLayout));
        assert_eq!(classify(b"./index.json").ok(), Some(EntryName::IndexJson));
        assert_eq!(classify(b"blobs").ok(), Some(EntryName::BlobsDir));
        assert_eq!(classify(b"blobs/sha256/").ok(), Some(EntryName::Sha256Dir));
        assert!(matches!(
            classify(format!("blobs/sha256/{hex}").as_bytes()),
            Ok(EntryName::Blob(_))
        ));
        for bad in [
            format!("blobs/sha256/{}", "A".repeat(64)),
            format!("blobs/sha256/{hex}/x"),
            format!("blobs/sha512/{hex}"),
            "blobs/sha256/abc".to_owned(),
            "README".to_owned(),
            "oci-layout/".to_owned(),
        ] {
            assert!(
                matches!(classify(bad.as_bytes()), Err(LayoutError::UnexpectedEntry { .. })),
                "{bad}"
            );
        }
        assert!(matches!(classify(b"/etc/x"), Err(LayoutError::AbsolutePath { .. })));
        assert!(matches!(classify(b"../evil"), Err(LayoutError::ParentComponent { .. })));
        assert!(matches!(
            classify(format!("blobs/sha256/{hex}/../../x").as_bytes()),
            Err(LayoutError::ParentComponent { .. })
        ));
    }
}
