//! Reading an export: stream the tar into a staging directory, verifying everything.
//!
//! [`read_layout`] reads the archive once, in whatever order its entries come, and
//! refuses (each with its own [`LayoutError`] variant naming the entry):
//!
//! - any entry type but a regular file or a directory (links, devices, FIFOs, sparse
//!   files, pax global headers); GNU long names and pax extended headers are read by
//!   the tar crate and apply to the entry they describe;
//! - absolute names, names with a `..` component, and any name but `oci-layout`,
//!   `index.json`, `blobs/`, `blobs/sha256/` and `blobs/sha256/<64 lowercase hex>`
//!   (a leading `./` is allowed), and a file where a directory belongs or the reverse;
//! - a name that appears twice;
//! - entries over [`Limits::max_blob_size`], more than [`Limits::max_entries`]
//!   entries, an `index.json` over [`MAX_INDEX_JSON_SIZE`];
//! - a blob whose bytes do not hash to its name;
//! - a missing or malformed `oci-layout` (`imageLayoutVersion` must be `1.0.0`) or
//!   `index.json` (an image index: `schemaVersion` 2 and a `manifests` array);
//! - anything but zero bytes after the end of the archive (read to its end, so that a
//!   [`super::PartsReader`] checks its last part);
//! - a referenced blob that is missing or has another size ([`super::closure`]);
//! - a differential export (`index.json` annotated [`ANN_BASE`]) without its base, or
//!   with a base whose `index.json` does not name the recorded base bundle index, or
//!   whose base is itself differential; and a base given for a full export.
//!
//! The input may be zstd-compressed ([`Decompressing`] tells by the magic bytes).
//! A differential export is read with its base ([`read_layout_with_base`]): every
//! blob the closure walk finds missing is copied in from the base's staging
//! directory, re-hashed on the way, and counted in [`Differential`].
//!
//! Each blob is written to a temporary file in `staging/blobs/sha256/` while hashed,
//! and renamed to its name only once its hash matched; names in the archive are never
//! trusted. Files are not fsynced: staging is a step before import.
//!
//! On error, the staging directory may hold some verified blobs and temporary files.
//! The caller must give [`read_layout`] a fresh directory and delete it on error;
//! [`read_layout_into_tempdir`] does both.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use govstore_core::Digest;
use serde::Serialize;
use serde_json::Value;
use tar::EntryType;
use tempfile::{NamedTempFile, TempDir};

use govstore_core::oci::Descriptor;

use super::closure::{check_closure_with, parse_index};
use super::compress::Decompressing;
use super::hashing::HashingReader;
use super::paths::{EntryName, classify, shown};
use super::{ANN_BASE, ANN_BASE_REF, ANN_SINCE, LayoutError, Limits, MAX_INDEX_JSON_SIZE, MAX_OCI_LAYOUT_SIZE};

/// The most bytes of zeros accepted after the end-of-archive marker (tar pads to its
/// record size, 10 KiB by default).
const MAX_TRAILING_ZEROS: u64 = 1024 * 1024;

/// A blob that was in the export, hashed and stored under its digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifiedBlob {
    pub digest: Digest,
    pub size: u64,
    /// The media type of the first descriptor that references it; `None` for a blob
    /// nothing references.
    pub media_type: Option<String>,
}

/// A verified export, staged on disk.
#[derive(Debug, Clone)]
pub struct ReadLayout {
    /// `index.json`, parsed.
    pub index: Value,
    /// Every blob, sorted by digest.
    pub blobs: Vec<VerifiedBlob>,
    /// `staging/blobs/sha256`, where each blob is stored under its hex digest.
    pub blob_dir: PathBuf,
    /// Set for a differential export: its base and what was taken from it.
    pub differential: Option<Differential>,
    /// Whether the file was zstd-compressed.
    pub zstd: bool,
}

/// What a differential export builds on, and what was taken from its base.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Differential {
    /// The base bundle's version (`2026.1`).
    pub since: String,
    /// The base bundle's reference (`SL/national-id@2026.1`).
    pub reference: String,
    /// The base bundle's image index digest.
    pub base: Digest,
    /// Blobs copied from the base (re-hashed), and their bytes.
    pub from_base_blobs: u64,
    pub from_base_bytes: u64,
}

/// A summary of a verified export, for the CLI to print or serialise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LayoutReport {
    /// Descriptors listed in `index.json`.
    pub index_entries: u64,
    pub blobs: u64,
    /// Blobs that are manifests or image indexes.
    pub manifests: u64,
    /// Blobs that nothing references.
    pub unreferenced_blobs: u64,
    /// All blobs' bytes, summed.
    pub total_bytes: u64,
    /// Whether the file was zstd-compressed.
    pub zstd: bool,
    /// Set for a differential export.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub differential: Option<Differential>,
}

impl ReadLayout {
    /// Where the blob with this digest is staged, if the export holds it.
    pub fn blob_path(&self, digest: &Digest) -> Option<PathBuf> {
        self.blobs
            .binary_search_by(|b| b.digest.cmp(digest))
            .ok()
            .map(|_| self.blob_dir.join(digest.hex()))
    }

    /// Counts and sizes.
    pub fn report(&self) -> LayoutReport {
        let index_entries = self
            .index
            .get("manifests")
            .and_then(Value::as_array)
            .map_or(0, |m| m.len() as u64);
        let is_manifest = |b: &&VerifiedBlob| {
            b.media_type
                .as_deref()
                .is_some_and(|m| govstore_core::oci::manifest_kind(m).is_some())
        };
        LayoutReport {
            index_entries,
            blobs: self.blobs.len() as u64,
            manifests: self.blobs.iter().filter(is_manifest).count() as u64,
            unreferenced_blobs: self.blobs.iter().filter(|b| b.media_type.is_none()).count() as u64,
            total_bytes: self.blobs.iter().map(|b| b.size).sum(),
            zstd: self.zstd,
            differential: self.differential.clone(),
        }
    }
}

/// [`read_layout`] into a new temporary directory inside `parent`, which is deleted
/// if reading fails (and when the returned [`TempDir`] is dropped).
pub fn read_layout_into_tempdir(
    input: impl Read,
    parent: &Path,
    limits: &Limits,
) -> Result<(TempDir, ReadLayout), LayoutError> {
    read_layout_into_tempdir_with_base(input, parent, limits, None)
}

/// [`read_layout_into_tempdir`] of an export that may be differential, with its base.
pub fn read_layout_into_tempdir_with_base(
    input: impl Read,
    parent: &Path,
    limits: &Limits,
    base: Option<&ReadLayout>,
) -> Result<(TempDir, ReadLayout), LayoutError> {
    let dir = tempfile::Builder::new()
        .prefix(".govstore-import-")
        .tempdir_in(parent)
        .map_err(|source| LayoutError::Staging {
            path: parent.display().to_string(),
            source,
        })?;
    let layout = read_layout_with_base(input, dir.path(), limits, base)?;
    Ok((dir, layout))
}

/// Reads an export from `input` into `staging_dir` (which should be new and empty),
/// verifying everything listed in the module documentation.
pub fn read_layout(input: impl Read, staging_dir: &Path, limits: &Limits) -> Result<ReadLayout, LayoutError> {
    read_layout_with_base(input, staging_dir, limits, None)
}

/// [`read_layout`] of an export that may be differential: `base` is its base export,
/// already read (and verified by the caller); it must be given exactly when the
/// export is differential.
pub fn read_layout_with_base(
    input: impl Read,
    staging_dir: &Path,
    limits: &Limits,
    base: Option<&ReadLayout>,
) -> Result<ReadLayout, LayoutError> {
    if let Some(d) = base.and_then(|b| b.differential.as_ref()) {
        return Err(LayoutError::BaseIsDifferential { since: d.since.clone() });
    }
    let input = Decompressing::new(input)?;
    let zstd = input.is_zstd();
    let blob_dir = staging_dir.join("blobs").join("sha256");
    fs::create_dir_all(&blob_dir).map_err(|source| LayoutError::Staging {
        path: blob_dir.display().to_string(),
        source,
    })?;

    let mut archive = tar::Archive::new(input);
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut blobs: BTreeMap<Digest, VerifiedBlob> = BTreeMap::new();
    let mut oci_layout: Option<Vec<u8>> = None;
    let mut index_json: Option<Vec<u8>> = None;
    let mut count = 0u64;

    for entry in archive.entries().map_err(LayoutError::from_read)? {
        let mut entry = entry.map_err(LayoutError::from_read)?;
        count += 1;
        if count > limits.max_entries {
            return Err(LayoutError::TooManyEntries {
                max: limits.max_entries,
            });
        }
        let raw = entry.path_bytes().into_owned();
        let kind = entry.header().entry_type();
        check_entry_type(kind, &raw)?;
        let name = classify(&raw)?;
        let path = name.canonical();
        if (kind == EntryType::Directory) != name.is_dir() {
            return Err(LayoutError::WrongKind {
                path: shown(&raw),
                expected: if name.is_dir() { "directory" } else { "regular file" },
            });
        }
        if name == EntryName::Root {
            continue;
        }
        if !seen.insert(path.clone()) {
            return Err(LayoutError::DuplicateEntry { path });
        }
        let size = entry.size();
        if size > limits.max_blob_size {
            return Err(LayoutError::EntryTooLarge {
                path,
                size,
                max: limits.max_blob_size,
            });
        }
        match name {
            EntryName::Root | EntryName::BlobsDir | EntryName::Sha256Dir => {}
            EntryName::OciLayout => {
                if size > MAX_OCI_LAYOUT_SIZE {
                    return Err(LayoutError::BadOciLayout {
                        reason: format!("is {size} bytes; it should be a short JSON document"),
                    });
                }
                oci_layout = Some(read_small(&mut entry, size)?);
            }
            EntryName::IndexJson => {
                if size > MAX_INDEX_JSON_SIZE {
                    return Err(LayoutError::IndexTooLarge {
                        size,
                        max: MAX_INDEX_JSON_SIZE,
                    });
                }
                let body = read_small(&mut entry, size)?;
                // Refuse a differential export without its base before reading on.
                if let Ok(doc) = serde_json::from_slice::<Value>(&body) {
                    check_base(differential_of(&doc)?.as_ref(), base)?;
                }
                index_json = Some(body);
            }
            EntryName::Blob(digest) => {
                stage_blob(&mut entry, &digest, &path, &blob_dir)?;
                blobs.insert(
                    digest.clone(),
                    VerifiedBlob {
                        digest,
                        size,
                        media_type: None,
                    },
                );
            }
        }
    }
    drain_trailing(archive.into_inner())?;

    check_oci_layout(oci_layout.as_deref())?;
    let index_json = index_json.ok_or(LayoutError::MissingIndex)?;
    let (index, roots) = parse_index(&index_json).map_err(|reason| LayoutError::BadIndex { reason })?;
    let mut differential = differential_of(&index)?;
    check_base(differential.as_ref(), base)?;
    let mut taken = (0u64, 0u64);
    let mut supply = |d: &Descriptor| -> Result<Option<VerifiedBlob>, LayoutError> {
        let Some(src) = base.and_then(|b| b.blob_path(&d.digest)) else {
            return Ok(None);
        };
        let file = fs::File::open(&src).map_err(|source| LayoutError::Staging {
            path: src.display().to_string(),
            source,
        })?;
        let size = match stage_blob(&mut io::BufReader::new(file), &d.digest, "", &blob_dir) {
            Ok(size) => size,
            Err(LayoutError::BlobMismatch { digest, .. }) => return Err(LayoutError::BaseBlobMismatch { digest }),
            Err(e) => return Err(e),
        };
        taken.0 += 1;
        taken.1 += size;
        Ok(Some(VerifiedBlob {
            digest: d.digest.clone(),
            size,
            media_type: None,
        }))
    };
    check_closure_with(&roots, &mut blobs, &blob_dir, limits, &mut supply)?;
    if let Some(d) = differential.as_mut() {
        (d.from_base_blobs, d.from_base_bytes) = taken;
    }
    Ok(ReadLayout {
        index,
        blobs: blobs.into_values().collect(),
        blob_dir,
        differential,
        zstd,
    })
}

/// The differential annotations of `index.json`, if any.
pub fn differential_of(index: &Value) -> Result<Option<Differential>, LayoutError> {
    let ann = index.get("annotations");
    let get = |k: &str| ann.and_then(|a| a.get(k));
    let (since, base) = (get(ANN_SINCE), get(ANN_BASE));
    if since.is_none() && base.is_none() {
        return Ok(None);
    }
    let bad = |reason: &str| LayoutError::BadIndex {
        reason: reason.to_owned(),
    };
    let since = since
        .and_then(Value::as_str)
        .ok_or_else(|| bad("its differential annotations lack the base version (`dev.govstore.export.since`)"))?;
    let base: Digest = base
        .and_then(Value::as_str)
        .and_then(|b| b.parse().ok())
        .ok_or_else(|| bad("its differential annotations lack a valid base digest (`dev.govstore.export.base`)"))?;
    let reference = get(ANN_BASE_REF)
        .and_then(Value::as_str)
        .map_or_else(|| since.to_owned(), str::to_owned);
    Ok(Some(Differential {
        since: shown(since.as_bytes()),
        reference: shown(reference.as_bytes()),
        base,
        from_base_blobs: 0,
        from_base_bytes: 0,
    }))
}

/// A differential export needs its base, whose `index.json` names the base bundle
/// index; a full export takes no base.
fn check_base(differential: Option<&Differential>, base: Option<&ReadLayout>) -> Result<(), LayoutError> {
    match (differential, base) {
        (None, None) => Ok(()),
        (None, Some(_)) => Err(LayoutError::BaseNotNeeded),
        (Some(d), None) => Err(LayoutError::NeedsBase {
            reference: d.reference.clone(),
            digest: d.base.clone(),
        }),
        (Some(d), Some(b)) => {
            let roots = b.index.get("manifests").and_then(Value::as_array);
            let roots = roots.map(Vec::as_slice).unwrap_or_default();
            let named = |r: &Value| r.get("digest").and_then(Value::as_str) == Some(d.base.to_string().as_str());
            if roots.iter().any(named) {
                return Ok(());
            }
            let bundles: Vec<String> = roots
                .iter()
                .filter(|r| r.get("artifactType").and_then(Value::as_str) == Some(govstore_core::bundle::ARTIFACT_TYPE))
                .map(|r| {
                    let digest = r.get("digest").and_then(Value::as_str).unwrap_or("?");
                    match r
                        .pointer("/annotations/org.opencontainers.image.ref.name")
                        .and_then(Value::as_str)
                    {
                        Some(v) => format!(
                            "bundle index {} (version {})",
                            shown(digest.as_bytes()),
                            shown(v.as_bytes())
                        ),
                        None => format!("bundle index {}", shown(digest.as_bytes())),
                    }
                })
                .collect();
            Err(LayoutError::WrongBase {
                reference: d.reference.clone(),
                digest: d.base.clone(),
                found: if bundles.is_empty() {
                    "no bundle index".to_owned()
                } else {
                    bundles.join(", ")
                },
            })
        }
    }
}

fn check_entry_type(kind: EntryType, raw: &[u8]) -> Result<(), LayoutError> {
    let what = match kind {
        EntryType::Regular | EntryType::Directory => return Ok(()),
        EntryType::Symlink => "symbolic link".to_owned(),
        EntryType::Link => "hard link".to_owned(),
        EntryType::Char => "character device".to_owned(),
        EntryType::Block => "block device".to_owned(),
        EntryType::Fifo => "FIFO".to_owned(),
        EntryType::GNUSparse => "sparse file".to_owned(),
        EntryType::XGlobalHeader => "pax global header".to_owned(),
        other => format!("tar entry of type `{}`", other.as_byte().escape_ascii()),
    };
    Err(LayoutError::UnsupportedEntryType {
        path: shown(raw),
        kind: what,
    })
}

fn read_small(entry: &mut impl Read, size: u64) -> Result<Vec<u8>, LayoutError> {
    let mut body = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    entry.read_to_end(&mut body).map_err(LayoutError::from_read)?;
    Ok(body)
}

/// Streams a blob entry into a temporary file beside its final place, hashing it, and
/// renames it into place only if it hashes to `digest`. Returns its size.
fn stage_blob(entry: &mut impl Read, digest: &Digest, path: &str, blob_dir: &Path) -> Result<u64, LayoutError> {
    let staging = |source| LayoutError::Staging {
        path: blob_dir.display().to_string(),
        source,
    };
    let mut temp = NamedTempFile::with_prefix_in(".partial-", blob_dir).map_err(staging)?;
    let mut hashing = HashingReader::new(entry);
    copy_read_errors_apart(&mut hashing, temp.as_file_mut())?;
    let (actual, size) = hashing.finish();
    if actual != *digest {
        return Err(LayoutError::BlobMismatch {
            digest: digest.clone(),
            path: path.to_owned(),
        });
    }
    temp.persist_noclobber(blob_dir.join(digest.hex()))
        .map_err(|e| staging(e.error))?;
    Ok(size)
}

/// `io::copy`, telling a failure to read the archive from a failure to write staging.
fn copy_read_errors_apart(from: &mut impl Read, to: &mut fs::File) -> Result<(), LayoutError> {
    use std::io::Write as _;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(LayoutError::from_read(e)),
        };
        to.write_all(&buf[..n]).map_err(|source| LayoutError::Staging {
            path: "the staging directory".to_owned(),
            source,
        })?;
    }
}

/// Reads what follows the end-of-archive marker: zero padding only, and not much.
fn drain_trailing(mut rest: impl Read) -> Result<(), LayoutError> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    loop {
        let n = match rest.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(LayoutError::from_read(e)),
        };
        total += n as u64;
        if total > MAX_TRAILING_ZEROS || buf[..n].iter().any(|b| *b != 0) {
            return Err(LayoutError::TrailingData);
        }
    }
}

fn check_oci_layout(body: Option<&[u8]>) -> Result<(), LayoutError> {
    let body = body.ok_or(LayoutError::MissingOciLayout)?;
    let doc: Value = serde_json::from_slice(body).map_err(|e| LayoutError::BadOciLayout {
        reason: format!("is not JSON ({e})"),
    })?;
    match doc.get("imageLayoutVersion") {
        Some(Value::String(v)) if v == "1.0.0" => Ok(()),
        Some(Value::String(v)) => Err(LayoutError::BadOciLayout {
            reason: format!(
                "has imageLayoutVersion `{}`; this govstore reads version 1.0.0",
                shown(v.as_bytes())
            ),
        }),
        _ => Err(LayoutError::BadOciLayout {
            reason: "has no imageLayoutVersion string".to_owned(),
        }),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::io::{Seek, SeekFrom};

    use sha2::{Digest as _, Sha256};
    use tar::EntryType;

    use super::*;
    use crate::layout::test_support::{MANIFEST, raw_entry, sample};
    use crate::layout::{BlobEntry, write_layout};

    fn read(bytes: &[u8]) -> Result<ReadLayout, LayoutError> {
        let dir = tempfile::tempdir().unwrap();
        read_layout(bytes, dir.path(), &Limits::default())
    }

    const INDEX: &[u8] = br#"{"schemaVersion":2,"manifests":[]}"#;
    const LAYOUT: &[u8] = br#"{"imageLayoutVersion":"1.0.0"}"#;

    /// A raw entry: name, type, data, link target.
    type Raw<'a> = (&'a [u8], EntryType, &'a [u8], Option<&'a str>);

    /// A tar of `oci-layout` and an empty `index.json`, then `extra`.
    fn tar_with(extra: &[Raw<'_>]) -> Vec<u8> {
        let mut tar = tar::Builder::new(Vec::new());
        raw_entry(&mut tar, b"oci-layout", EntryType::Regular, LAYOUT, None);
        raw_entry(&mut tar, b"index.json", EntryType::Regular, INDEX, None);
        for (name, kind, data, link) in extra {
            raw_entry(&mut tar, name, *kind, data, *link);
        }
        tar.into_inner().unwrap()
    }

    fn blob_name(data: &[u8]) -> Vec<u8> {
        format!("blobs/sha256/{}", Digest::of(data).hex()).into_bytes()
    }

    #[test]
    fn round_trip_with_a_large_streamed_blob() {
        const LARGE: u64 = 6 * 1024 * 1024 + 123;
        let s = sample(LARGE);
        let mut file = tempfile::tempfile().unwrap();
        let summary = write_layout(std::io::BufWriter::new(&mut file), &s.index_json, &s.blobs, &s.source).unwrap();
        file.seek(SeekFrom::Start(0)).unwrap();

        let parent = tempfile::tempdir().unwrap();
        let (staging, layout) =
            read_layout_into_tempdir(std::io::BufReader::new(file), parent.path(), &Limits::default()).unwrap();
        assert!(layout.blob_dir.starts_with(staging.path()));
        assert_eq!(layout.index["manifests"].as_array().unwrap().len(), 2);
        assert_eq!(layout.blobs.len(), 7);
        let digests: Vec<&Digest> = layout.blobs.iter().map(|b| &b.digest).collect();
        let mut sorted = digests.clone();
        sorted.sort();
        assert_eq!(digests, sorted, "blobs are sorted by digest");
        // Every staged blob has the bytes its name says.
        for blob in &layout.blobs {
            let mut f = fs::File::open(layout.blob_path(&blob.digest).unwrap()).unwrap();
            let mut hasher = Sha256::new();
            std::io::copy(&mut f, &mut hasher).unwrap();
            assert_eq!(Digest::from_sha256(hasher.finalize().into()), blob.digest);
            assert!(blob.media_type.is_some(), "{} is referenced", blob.digest);
        }
        let manifest = layout.blobs.iter().find(|b| b.digest == s.manifest.digest).unwrap();
        assert_eq!(manifest.media_type.as_deref(), Some(MANIFEST));
        let report = layout.report();
        assert_eq!(report.blobs, 7);
        assert_eq!(report.manifests, 2);
        assert_eq!(report.index_entries, 2);
        assert_eq!(report.unreferenced_blobs, 0);
        assert_eq!(report.total_bytes, summary.blob_bytes);
        assert!(report.total_bytes > LARGE);
        // No temporary files are left beside the blobs.
        assert_eq!(fs::read_dir(&layout.blob_dir).unwrap().count(), 7);
    }

    #[test]
    fn refuses_a_flipped_byte_in_a_blob() {
        let s = sample(100);
        let mut bytes = Vec::new();
        write_layout(&mut bytes, &s.index_json, &s.blobs, &s.source).unwrap();
        let at = bytes.windows(11).position(|w| w == b"layer bytes").unwrap();
        bytes[at] ^= 1;
        let err = read(&bytes).unwrap_err();
        assert!(
            matches!(&err, LayoutError::BlobMismatch { digest, .. } if *digest == s.layer.digest),
            "{err}"
        );
        assert!(err.to_string().starts_with("the export is damaged: blob sha256:"));
    }

    #[test]
    fn refuses_links() {
        let target = blob_name(b"x");
        let symlink = tar_with(&[(&target, EntryType::Symlink, b"", Some("/etc/passwd"))]);
        let err = read(&symlink).unwrap_err();
        assert!(
            matches!(&err, LayoutError::UnsupportedEntryType { kind, .. } if kind == "symbolic link"),
            "{err}"
        );
        let hardlink = tar_with(&[(&target, EntryType::Link, b"", Some("oci-layout"))]);
        let err = read(&hardlink).unwrap_err();
        assert!(
            matches!(&err, LayoutError::UnsupportedEntryType { kind, .. } if kind == "hard link"),
            "{err}"
        );
        let fifo = tar_with(&[(b"blobs/", EntryType::Fifo, b"", None)]);
        assert!(matches!(read(&fifo), Err(LayoutError::UnsupportedEntryType { .. })));
    }

    #[test]
    fn refuses_paths_outside_the_layout() {
        let err = read(&tar_with(&[(b"../evil", EntryType::Regular, b"x", None)])).unwrap_err();
        assert!(
            matches!(&err, LayoutError::ParentComponent { path } if path == "../evil"),
            "{err}"
        );

        let err = read(&tar_with(&[(b"/etc/x", EntryType::Regular, b"x", None)])).unwrap_err();
        assert!(
            matches!(&err, LayoutError::AbsolutePath { path } if path == "/etc/x"),
            "{err}"
        );

        let mut sneaky = blob_name(b"x");
        sneaky.extend_from_slice(b"/../../x");
        let err = read(&tar_with(&[(&sneaky, EntryType::Regular, b"x", None)])).unwrap_err();
        assert!(matches!(err, LayoutError::ParentComponent { .. }), "{err}");

        let err = read(&tar_with(&[(b"README", EntryType::Regular, b"x", None)])).unwrap_err();
        assert!(
            matches!(&err, LayoutError::UnexpectedEntry { path } if path == "README"),
            "{err}"
        );

        let err = read(&tar_with(&[(b"blobs/sha256/", EntryType::Regular, b"", None)])).unwrap_err();
        assert!(matches!(err, LayoutError::WrongKind { .. }), "{err}");
    }

    #[test]
    fn refuses_a_duplicate_entry() {
        let blob = blob_name(b"x");
        let err = read(&tar_with(&[
            (&blob, EntryType::Regular, b"x", None),
            (&blob, EntryType::Regular, b"x", None),
        ]))
        .unwrap_err();
        assert!(matches!(err, LayoutError::DuplicateEntry { .. }), "{err}");
        let err = read(&tar_with(&[(b"./oci-layout", EntryType::Regular, LAYOUT, None)])).unwrap_err();
        assert!(
            matches!(&err, LayoutError::DuplicateEntry { path } if path == "oci-layout"),
            "{err}"
        );
    }

    #[test]
    fn refuses_a_missing_blob_named_by_index_json() {
        let missing = Digest::of(b"not here");
        let index = format!(
            r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"{MANIFEST}","digest":"{missing}","size":8}}]}}"#
        );
        let mut tar = tar::Builder::new(Vec::new());
        raw_entry(&mut tar, b"oci-layout", EntryType::Regular, LAYOUT, None);
        raw_entry(&mut tar, b"index.json", EntryType::Regular, index.as_bytes(), None);
        let err = read(&tar.into_inner().unwrap()).unwrap_err();
        assert!(
            matches!(&err, LayoutError::MissingBlob { digest, referenced_by } if *digest == missing && referenced_by == "index.json"),
            "{err}"
        );
    }

    #[test]
    fn refuses_a_missing_layer_named_by_a_manifest() {
        let s = sample(100);
        let blobs: Vec<BlobEntry> = s.blobs.iter().filter(|b| b.digest != s.layer.digest).cloned().collect();
        let mut bytes = Vec::new();
        write_layout(&mut bytes, &s.index_json, &blobs, &s.source).unwrap();
        let err = read(&bytes).unwrap_err();
        assert!(
            matches!(&err, LayoutError::MissingBlob { digest, referenced_by }
                if *digest == s.layer.digest && *referenced_by == format!("manifest {}", s.manifest.digest)),
            "{err}"
        );
    }

    #[test]
    fn refuses_a_bad_or_missing_oci_layout() {
        let mut tar = tar::Builder::new(Vec::new());
        raw_entry(
            &mut tar,
            b"oci-layout",
            EntryType::Regular,
            br#"{"imageLayoutVersion":"2.0.0"}"#,
            None,
        );
        raw_entry(&mut tar, b"index.json", EntryType::Regular, INDEX, None);
        let err = read(&tar.into_inner().unwrap()).unwrap_err();
        assert!(matches!(err, LayoutError::BadOciLayout { .. }), "{err}");

        let mut tar = tar::Builder::new(Vec::new());
        raw_entry(&mut tar, b"index.json", EntryType::Regular, INDEX, None);
        let err = read(&tar.into_inner().unwrap()).unwrap_err();
        assert!(matches!(err, LayoutError::MissingOciLayout), "{err}");
    }

    #[test]
    fn refuses_a_bad_index_json_and_too_many_entries() {
        let mut tar = tar::Builder::new(Vec::new());
        raw_entry(&mut tar, b"oci-layout", EntryType::Regular, LAYOUT, None);
        raw_entry(
            &mut tar,
            b"index.json",
            EntryType::Regular,
            br#"{"schemaVersion":2}"#,
            None,
        );
        let err = read(&tar.into_inner().unwrap()).unwrap_err();
        assert!(matches!(err, LayoutError::BadIndex { .. }), "{err}");

        let dir = tempfile::tempdir().unwrap();
        let limits = Limits {
            max_entries: 2,
            ..Limits::default()
        };
        let bytes = tar_with(&[(b"blobs/", EntryType::Directory, b"", None)]);
        let err = read_layout(bytes.as_slice(), dir.path(), &limits).unwrap_err();
        assert!(matches!(err, LayoutError::TooManyEntries { max: 2 }), "{err}");

        let limits = Limits {
            max_blob_size: 3,
            ..Limits::default()
        };
        let bytes = tar_with(&[(&blob_name(b"four"), EntryType::Regular, b"four", None)]);
        let err = read_layout(bytes.as_slice(), dir.path(), &limits).unwrap_err();
        assert!(matches!(err, LayoutError::EntryTooLarge { .. }), "{err}");
    }

    /// A full export of the sample, read; and a differential one against it (the
    /// sample's manifest standing for the base bundle index) lacking the config and
    /// the large layer.
    fn base_and_differential() -> (
        tempfile::TempDir,
        ReadLayout,
        Vec<u8>,
        crate::layout::test_support::Sample,
    ) {
        let s = sample(200_000);
        let mut full = Vec::new();
        write_layout(&mut full, &s.index_json, &s.blobs, &s.source).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let base = read_layout(full.as_slice(), dir.path(), &Limits::default()).unwrap();
        assert!(base.differential.is_none() && !base.zstd);

        let mut index: Value = serde_json::from_slice(&s.index_json).unwrap();
        index["annotations"] = serde_json::json!({
            crate::layout::ANN_SINCE: "2026.1",
            crate::layout::ANN_BASE: s.manifest.digest.to_string(),
            crate::layout::ANN_BASE_REF: "SL/national-id@2026.1",
        });
        let index = serde_json::to_vec(&index).unwrap();
        let lacking = [s.blobs[0].digest.clone(), s.blobs[2].digest.clone()];
        let blobs: Vec<BlobEntry> = s
            .blobs
            .iter()
            .filter(|b| !lacking.contains(&b.digest))
            .cloned()
            .collect();
        let mut diff = Vec::new();
        write_layout(&mut diff, &index, &blobs, &s.source).unwrap();
        assert!(diff.len() < full.len() / 2);
        (dir, base, diff, s)
    }

    /// Reads into a staging directory inside `parent`, kept until `parent` goes.
    fn read_with(bytes: &[u8], base: Option<&ReadLayout>, parent: &Path) -> Result<ReadLayout, LayoutError> {
        let (dir, layout) = read_layout_into_tempdir_with_base(bytes, parent, &Limits::default(), base)?;
        let _ = dir.keep();
        Ok(layout)
    }

    #[test]
    fn a_differential_export_takes_what_it_lacks_from_its_base_rehashed() {
        let (_dir, base, diff, s) = base_and_differential();
        let layout = read_with(&diff, Some(&base), _dir.path()).unwrap();
        let d = layout.differential.clone().unwrap();
        assert_eq!(
            (d.since.as_str(), d.reference.as_str()),
            ("2026.1", "SL/national-id@2026.1")
        );
        assert_eq!(d.base, s.manifest.digest);
        assert_eq!(d.from_base_blobs, 2);
        assert_eq!(d.from_base_bytes, s.blobs[0].size + s.blobs[2].size);
        assert_eq!(layout.blobs.len(), 7, "the result is a complete layout");
        for blob in &layout.blobs {
            let path = layout.blob_path(&blob.digest).unwrap();
            assert!(path.starts_with(&layout.blob_dir));
            assert_eq!(Digest::of(&fs::read(path).unwrap()), blob.digest);
        }
        assert_eq!(layout.report().differential, Some(d));
    }

    #[test]
    fn a_differential_export_without_its_base_names_the_base() {
        let (_dir, _base, diff, s) = base_and_differential();
        let err = read_with(&diff, None, _dir.path()).unwrap_err();
        assert!(matches!(err, LayoutError::NeedsBase { .. }), "{err}");
        let text = err.to_string();
        assert!(
            text.contains("SL/national-id@2026.1") && text.contains(&s.manifest.digest.to_string()),
            "{text}"
        );
    }

    #[test]
    fn a_wrong_tampered_needless_or_differential_base_is_refused() {
        let (_dir, base, diff, s) = base_and_differential();
        // Another export as the base: its index.json does not name the base digest.
        let other = sample(10);
        let mut idx: Value = serde_json::from_slice(&other.index_json).unwrap();
        idx["manifests"].as_array_mut().unwrap().remove(0);
        let idx = serde_json::to_vec(&idx).unwrap();
        let mut bytes = Vec::new();
        write_layout(&mut bytes, &idx, &other.blobs, &other.source).unwrap();
        let wrong = read_with(&bytes, None, _dir.path()).unwrap();
        let err = read_with(&diff, Some(&wrong), _dir.path()).unwrap_err();
        assert!(matches!(err, LayoutError::WrongBase { .. }), "{err}");

        // A base whose staged blob changed after it was read: re-hashed, refused.
        let staged = base.blob_path(&s.blobs[0].digest).unwrap();
        let mut body = fs::read(&staged).unwrap();
        body[0] ^= 1;
        fs::write(&staged, body).unwrap();
        let err = read_with(&diff, Some(&base), _dir.path()).unwrap_err();
        assert!(
            matches!(&err, LayoutError::BaseBlobMismatch { digest } if *digest == s.blobs[0].digest),
            "{err}"
        );

        // A full export takes no base; a differential one is no base.
        let mut full = Vec::new();
        write_layout(&mut full, &s.index_json, &s.blobs, &s.source).unwrap();
        let err = read_with(&full, Some(&base), _dir.path()).unwrap_err();
        assert!(matches!(err, LayoutError::BaseNotNeeded), "{err}");
        let mut as_base = base.clone();
        as_base.differential = Some(Differential {
            since: "2025.9".to_owned(),
            reference: "SL/national-id@2025.9".to_owned(),
            base: s.manifest.digest.clone(),
            from_base_blobs: 0,
            from_base_bytes: 0,
        });
        let err = read_with(&diff, Some(&as_base), _dir.path()).unwrap_err();
        assert!(matches!(err, LayoutError::BaseIsDifferential { .. }), "{err}");
    }

    #[test]
    fn the_tempdir_is_removed_when_reading_fails() {
        let parent = tempfile::tempdir().unwrap();
        let bytes = tar_with(&[(b"README", EntryType::Regular, b"x", None)]);
        assert!(read_layout_into_tempdir(bytes.as_slice(), parent.path(), &Limits::default()).is_err());
        assert_eq!(fs::read_dir(parent.path()).unwrap().count(), 0);
    }
}
