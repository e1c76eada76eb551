//! Split exports: an archive cut into numbered parts, for media with a file size
//! limit, and joined back with every part checked.
//!
//! [`SplitWriter`] writes `<base>.part-0001`, `<base>.part-0002`, ... of at most
//! `part_size` bytes each, then on [`SplitWriter::finish`] the list
//! `<base>.parts.json`:
//!
//! ```json
//! {"version":1,"mediaType":"application/vnd.govstore.export-parts.v1+json",
//!  "total_size":N,"sha256":"<whole archive hex>",
//!  "parts":[{"name":"x.part-0001","size":N,"sha256":"<hex>"},...]}
//! ```
//!
//! [`open_parts`] reads that list (ignoring fields it does not know, refusing a
//! `version` other than 1), checks before reading anything that every part is a plain
//! file name in the list's directory, listed in its numbered order, present and of
//! its recorded size, then yields the parts' concatenation while hashing each part.
//! A part that is missing, truncated, out of order or altered is refused with a
//! [`PartError`] naming it; the whole archive's SHA-256 is checked at its end.
//! Since bytes are checked as they pass, a reader of the archive may stumble on a
//! damaged part before its end; [`read_parts_into_tempdir`] then checks every part
//! again and names the damaged one.

use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use govstore_core::Digest;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest as _, Sha256};
use tempfile::NamedTempFile;

use super::hashing::{HashingReader, HashingWriter};
use super::read::{ReadLayout, read_layout_into_tempdir_with_base};
use super::{LayoutError, Limits, PartError};

/// The media type of a parts list.
pub const PARTS_MEDIA_TYPE: &str = "application/vnd.govstore.export-parts.v1+json";
/// The parts list format this code writes and reads.
pub const PARTS_VERSION: u64 = 1;
/// The largest parts list read.
const MAX_PARTS_JSON_SIZE: u64 = 16 * 1024 * 1024;

/// `<base>.parts.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartsManifest {
    pub version: u64,
    #[serde(rename = "mediaType")]
    pub media_type: String,
    pub total_size: u64,
    /// The whole archive's SHA-256, hex.
    pub sha256: String,
    pub parts: Vec<PartRecord>,
}

/// One part in [`PartsManifest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartRecord {
    /// A file name in the same directory as the parts list.
    pub name: String,
    pub size: u64,
    /// The part's SHA-256, hex.
    pub sha256: String,
}

/// The name of part `n` (from 1).
fn part_name(stem: &str, n: usize) -> String {
    format!("{stem}.part-{n:04}")
}

/// Writes consecutive parts of at most `part_size` bytes. Parts are created (or
/// replaced) as bytes arrive; an empty archive gives no parts.
#[derive(Debug)]
pub struct SplitWriter {
    dir: PathBuf,
    stem: String,
    part_size: u64,
    current: Option<(String, HashingWriter<BufWriter<File>>)>,
    parts: Vec<PartRecord>,
    whole: Sha256,
    total: u64,
}

impl SplitWriter {
    /// A writer of `<base>.part-NNNN` files; `base`'s file name must be UTF-8.
    pub fn create(base: &Path, part_size: u64) -> Result<Self, LayoutError> {
        if part_size == 0 {
            return Err(LayoutError::BadPartSize);
        }
        let stem = base
            .file_name()
            .and_then(|n| n.to_str())
            .filter(|n| !n.is_empty())
            .ok_or_else(|| LayoutError::BadPartsFile {
                path: base.display().to_string(),
                reason: "the export's name must be a UTF-8 file name".to_owned(),
            })?
            .to_owned();
        let dir = match base.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
            _ => PathBuf::from("."),
        };
        Ok(Self {
            dir,
            stem,
            part_size,
            current: None,
            parts: Vec::new(),
            whole: Sha256::new(),
            total: 0,
        })
    }

    /// Closes the last part and writes `<base>.parts.json` (via a temporary file
    /// and a rename). Returns what it wrote.
    pub fn finish(mut self) -> Result<PartsManifest, LayoutError> {
        self.close_part().map_err(LayoutError::Write)?;
        let manifest = PartsManifest {
            version: PARTS_VERSION,
            media_type: PARTS_MEDIA_TYPE.to_owned(),
            total_size: self.total,
            sha256: Digest::from_sha256(std::mem::take(&mut self.whole).finalize().into())
                .hex()
                .to_owned(),
            parts: std::mem::take(&mut self.parts),
        };
        let mut json = serde_json::to_vec(&manifest).map_err(|e| LayoutError::Write(e.into()))?;
        json.push(b'\n');
        let mut temp = NamedTempFile::with_prefix_in(".parts-", &self.dir).map_err(LayoutError::Write)?;
        temp.write_all(&json).map_err(LayoutError::Write)?;
        temp.as_file().sync_all().map_err(LayoutError::Write)?;
        temp.persist(self.dir.join(format!("{}.parts.json", self.stem)))
            .map_err(|e| LayoutError::Write(e.error))?;
        Ok(manifest)
    }

    fn open_part(&mut self) -> io::Result<()> {
        let name = part_name(&self.stem, self.parts.len() + 1);
        let file = File::create(self.dir.join(&name))?;
        self.current = Some((name, HashingWriter::new(BufWriter::new(file))));
        Ok(())
    }

    fn close_part(&mut self) -> io::Result<()> {
        let Some((name, writer)) = self.current.take() else {
            return Ok(());
        };
        let (buffered, digest, size) = writer.finish();
        let file = buffered.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        self.parts.push(PartRecord {
            name,
            size,
            sha256: digest.hex().to_owned(),
        });
        Ok(())
    }
}

impl Write for SplitWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.current.is_none() {
            self.open_part()?;
        }
        let part_size = self.part_size;
        let Some((_, writer)) = self.current.as_mut() else {
            return Err(io::Error::other("no part is open"));
        };
        let room = part_size - writer.written();
        let take = usize::try_from(room).unwrap_or(usize::MAX).min(buf.len());
        let n = writer.write(&buf[..take])?;
        let full = writer.written() == part_size;
        self.whole.update(&buf[..n]);
        self.total += n as u64;
        if full {
            self.close_part()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.current.as_mut() {
            Some((_, writer)) => writer.flush(),
            None => Ok(()),
        }
    }
}

/// The joined parts of a split export; see [`open_parts`].
#[derive(Debug)]
pub struct PartsReader {
    dir: PathBuf,
    list_name: String,
    parts: Vec<(PartRecord, Digest)>,
    next: usize,
    current: Option<HashingReader<io::Take<File>>>,
    whole: Sha256,
    whole_expected: Digest,
    done: bool,
}

/// Opens a split export from its parts list, checking every part's presence, order
/// and size first; the bytes are checked while read (see the module documentation).
pub fn open_parts(parts_json: &Path) -> Result<PartsReader, LayoutError> {
    let shown = parts_json.display().to_string();
    let bad = |reason: String| LayoutError::BadPartsFile {
        path: shown.clone(),
        reason,
    };
    let file = File::open(parts_json).map_err(|e| bad(e.to_string()))?;
    let mut body = Vec::new();
    file.take(MAX_PARTS_JSON_SIZE + 1)
        .read_to_end(&mut body)
        .map_err(|e| bad(e.to_string()))?;
    if body.len() as u64 > MAX_PARTS_JSON_SIZE {
        return Err(bad(format!("it is larger than {MAX_PARTS_JSON_SIZE} bytes")));
    }
    let doc: Value = serde_json::from_slice(&body).map_err(|e| bad(format!("it is not JSON ({e})")))?;
    match doc.get("version") {
        Some(v) if v.as_u64() == Some(PARTS_VERSION) => {}
        Some(v) => {
            return Err(LayoutError::PartsVersion {
                path: shown,
                version: super::paths::shown(v.to_string().as_bytes()),
            });
        }
        None => return Err(bad("it has no `version`".to_owned())),
    }
    let manifest: PartsManifest =
        serde_json::from_value(doc).map_err(|e| bad(format!("it is not a parts list ({e})")))?;
    if manifest.media_type != PARTS_MEDIA_TYPE {
        return Err(bad(format!("its mediaType is not `{PARTS_MEDIA_TYPE}`")));
    }
    let whole_expected =
        parse_hex(&manifest.sha256).ok_or_else(|| bad("its sha256 is not 64 hex digits".to_owned()))?;
    let sum = manifest.parts.iter().try_fold(0u64, |acc, p| acc.checked_add(p.size));
    if sum != Some(manifest.total_size) {
        return Err(bad("its parts do not add up to its total_size".to_owned()));
    }

    let dir = match parts_json.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    let stem = manifest
        .parts
        .first()
        .and_then(|p| p.name.strip_suffix(".part-0001"))
        .unwrap_or_default()
        .to_owned();
    let mut parts = Vec::with_capacity(manifest.parts.len());
    for (i, part) in manifest.parts.into_iter().enumerate() {
        let refuse = |reason: String| PartError {
            name: super::paths::shown(part.name.as_bytes()),
            reason,
        };
        if !is_plain_file_name(&part.name) {
            return Err(refuse("is not a plain file name in the parts list's directory".to_owned()).into());
        }
        let expected = part_name(&stem, i + 1);
        if stem.is_empty() || part.name != expected {
            return Err(refuse(format!(
                "is listed at position {}, where `{expected}` belongs: the parts list is out of order",
                i + 1
            ))
            .into());
        }
        let digest =
            parse_hex(&part.sha256).ok_or_else(|| refuse("has a sha256 that is not 64 hex digits".to_owned()))?;
        let path = dir.join(&part.name);
        let meta = fs::metadata(&path).map_err(|_| refuse(format!("is missing (expected at {})", path.display())))?;
        if !meta.is_file() {
            return Err(refuse("is not a regular file".to_owned()).into());
        }
        if meta.len() != part.size {
            return Err(refuse(format!(
                "is {} bytes but should be {}: it is truncated or altered",
                meta.len(),
                part.size
            ))
            .into());
        }
        parts.push((part, digest));
    }
    Ok(PartsReader {
        dir,
        list_name: parts_json
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        parts,
        next: 0,
        current: None,
        whole: Sha256::new(),
        whole_expected,
        done: false,
    })
}

/// Reads every part of a split export to its end, checking each one's size and
/// SHA-256 and the whole archive's; names the first part that fails.
pub fn check_parts(parts_json: &Path) -> Result<(), LayoutError> {
    let mut reader = open_parts(parts_json)?;
    io::copy(&mut reader, &mut io::sink()).map_err(LayoutError::from_read)?;
    Ok(())
}

/// [`read_layout_into_tempdir`] over the parts of a split export. Parts are checked
/// while read, so damage in a part may first show as a damaged archive; when reading
/// fails for any reason but a part, every part is checked again from its start, and
/// a damaged part is reported instead, since it is the cause.
pub fn read_parts_into_tempdir(
    parts_json: &Path,
    parent: &Path,
    limits: &Limits,
) -> Result<(tempfile::TempDir, ReadLayout), LayoutError> {
    read_parts_into_tempdir_with_base(parts_json, parent, limits, None)
}

/// [`read_parts_into_tempdir`] of an export that may be differential, with its base
/// (see [`super::read_layout_with_base`]).
pub fn read_parts_into_tempdir_with_base(
    parts_json: &Path,
    parent: &Path,
    limits: &Limits,
    base: Option<&ReadLayout>,
) -> Result<(tempfile::TempDir, ReadLayout), LayoutError> {
    let reader = open_parts(parts_json)?;
    match read_layout_into_tempdir_with_base(reader, parent, limits, base) {
        Ok(done) => Ok(done),
        Err(
            e @ (LayoutError::Part(_)
            | LayoutError::NeedsBase { .. }
            | LayoutError::WrongBase { .. }
            | LayoutError::BaseNotNeeded
            | LayoutError::BaseIsDifferential { .. }),
        ) => Err(e),
        Err(e) => match check_parts(parts_json) {
            Err(part @ LayoutError::Part(_)) => Err(part),
            _ => Err(e),
        },
    }
}

fn is_plain_file_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\\', '\0'])
}

fn parse_hex(hex: &str) -> Option<Digest> {
    format!("sha256:{hex}").parse().ok()
}

fn part_failure(name: &str, reason: impl Into<String>) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        PartError {
            name: name.to_owned(),
            reason: reason.into(),
        },
    )
}

impl Read for PartsReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if self.current.is_none() {
                let Some((part, _)) = self.parts.get(self.next) else {
                    if !self.done {
                        let whole = Digest::from_sha256(std::mem::take(&mut self.whole).finalize().into());
                        if whole != self.whole_expected {
                            return Err(part_failure(
                                &self.list_name,
                                "lists parts whose joined bytes do not match its sha256",
                            ));
                        }
                        self.done = true;
                    }
                    return Ok(0);
                };
                let file = File::open(self.dir.join(&part.name))
                    .map_err(|e| part_failure(&part.name, format!("cannot be read: {e}")))?;
                self.current = Some(HashingReader::new(file.take(part.size.saturating_add(1))));
            }
            let Some(reader) = self.current.as_mut() else {
                continue;
            };
            let (part, expected) = &self.parts[self.next];
            let n = reader
                .read(buf)
                .map_err(|e| part_failure(&part.name, format!("cannot be read: {e}")))?;
            if reader.count() > part.size {
                return Err(part_failure(&part.name, "is longer than recorded: it was altered"));
            }
            if n > 0 {
                self.whole.update(&buf[..n]);
                return Ok(n);
            }
            let Some(reader) = self.current.take() else {
                continue;
            };
            let (digest, count) = reader.finish();
            if count != part.size {
                return Err(part_failure(
                    &part.name,
                    format!("is {count} bytes but should be {}: it is truncated", part.size),
                ));
            }
            if digest != *expected {
                return Err(part_failure(
                    &part.name,
                    "does not match its recorded SHA-256: it is altered or damaged",
                ));
            }
            self.next += 1;
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::layout::test_support::sample;
    use crate::layout::{Limits, read_layout, write_layout};

    #[test]
    fn open_parts_alone_streams_the_checked_archive() {
        let (_dir, list, manifest) = split_export();
        let staging = tempfile::tempdir().unwrap();
        let layout = read_layout(open_parts(&list).unwrap(), staging.path(), &Limits::default()).unwrap();
        assert_eq!(layout.blobs.len(), 7);
        check_parts(&list).unwrap();
        assert_eq!(manifest.parts.len(), 4);
    }

    const MIB: u64 = 1024 * 1024;

    /// Writes a ~3.5 MiB export in 1 MiB parts; returns the directory and list path.
    fn split_export() -> (tempfile::TempDir, PathBuf, PartsManifest) {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("export.tar");
        let s = sample(3 * MIB + MIB / 2);
        let mut split = SplitWriter::create(&base, MIB).unwrap();
        let summary = write_layout(&mut split, &s.index_json, &s.blobs, &s.source).unwrap();
        let manifest = split.finish().unwrap();
        assert_eq!(manifest.total_size, summary.archive_bytes);
        assert_eq!(manifest.sha256, summary.archive_digest.hex());
        (dir, list_path(&base), manifest)
    }

    fn list_path(base: &Path) -> PathBuf {
        base.with_file_name("export.tar.parts.json")
    }

    fn read_parts(list: &Path) -> Result<crate::layout::ReadLayout, LayoutError> {
        let parent = tempfile::tempdir().unwrap();
        read_parts_into_tempdir(list, parent.path(), &Limits::default()).map(|(_, layout)| layout)
    }

    fn part_named(err: &LayoutError, name: &str) -> bool {
        matches!(err, LayoutError::Part(p) if p.name == name) && err.to_string().contains(name)
    }

    #[test]
    fn round_trip_in_one_mib_parts() {
        let (dir, list, manifest) = split_export();
        let names: Vec<&str> = manifest.parts.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "export.tar.part-0001",
                "export.tar.part-0002",
                "export.tar.part-0003",
                "export.tar.part-0004"
            ]
        );
        assert!(manifest.parts[..3].iter().all(|p| p.size == MIB));
        let json: Value = serde_json::from_slice(&fs::read(&list).unwrap()).unwrap();
        assert_eq!(json["version"], 1);
        assert_eq!(json["mediaType"], PARTS_MEDIA_TYPE);
        let layout = read_parts(&list).unwrap();
        assert_eq!(layout.blobs.len(), 7);
        assert!(dir.path().join("export.tar.part-0004").is_file());
    }

    #[test]
    fn refuses_a_missing_part() {
        let (dir, list, _) = split_export();
        fs::remove_file(dir.path().join("export.tar.part-0003")).unwrap();
        let err = read_parts(&list).unwrap_err();
        assert!(part_named(&err, "export.tar.part-0003"), "{err}");
    }

    #[test]
    fn refuses_parts_listed_out_of_order() {
        let (_dir, list, mut manifest) = split_export();
        manifest.parts.swap(1, 2);
        fs::write(&list, serde_json::to_vec(&manifest).unwrap()).unwrap();
        let err = read_parts(&list).unwrap_err();
        assert!(part_named(&err, "export.tar.part-0003"), "{err}");
    }

    #[test]
    fn refuses_parts_whose_files_were_swapped() {
        let (dir, list, _) = split_export();
        let (a, b) = (
            dir.path().join("export.tar.part-0001"),
            dir.path().join("export.tar.part-0002"),
        );
        let tmp = dir.path().join("tmp");
        fs::rename(&a, &tmp).unwrap();
        fs::rename(&b, &a).unwrap();
        fs::rename(&tmp, &b).unwrap();
        let err = read_parts(&list).unwrap_err();
        assert!(part_named(&err, "export.tar.part-0001"), "{err}");
    }

    #[test]
    fn refuses_a_part_altered_by_one_byte() {
        let (dir, list, _) = split_export();
        let part = dir.path().join("export.tar.part-0002");
        let mut bytes = fs::read(&part).unwrap();
        bytes[1000] ^= 0x40;
        fs::write(&part, bytes).unwrap();
        let err = read_parts(&list).unwrap_err();
        assert!(part_named(&err, "export.tar.part-0002"), "{err}");

        // A byte of the first tar header: the archive reader fails first, and the
        // part is still named.
        let (dir, list, _) = split_export();
        let part = dir.path().join("export.tar.part-0001");
        let mut bytes = fs::read(&part).unwrap();
        bytes[0] ^= 0x40;
        fs::write(&part, bytes).unwrap();
        let err = read_parts(&list).unwrap_err();
        assert!(part_named(&err, "export.tar.part-0001"), "{err}");
    }

    #[test]
    fn refuses_a_truncated_part() {
        let (dir, list, _) = split_export();
        let part = dir.path().join("export.tar.part-0004");
        let bytes = fs::read(&part).unwrap();
        fs::write(&part, &bytes[..bytes.len() - 1]).unwrap();
        let err = read_parts(&list).unwrap_err();
        assert!(part_named(&err, "export.tar.part-0004"), "{err}");
    }

    #[test]
    fn parts_list_versions_fields_and_names() {
        let (_dir, list, manifest) = split_export();
        let mut json = serde_json::to_value(&manifest).unwrap();
        json["future_field"] = Value::from("ignored");
        fs::write(&list, serde_json::to_vec(&json).unwrap()).unwrap();
        assert!(read_parts(&list).is_ok());

        json["version"] = Value::from(2);
        fs::write(&list, serde_json::to_vec(&json).unwrap()).unwrap();
        let err = read_parts(&list).unwrap_err();
        assert!(matches!(err, LayoutError::PartsVersion { .. }), "{err}");

        let mut evil = manifest.clone();
        evil.parts[0].name = "../export.tar.part-0001".to_owned();
        fs::write(&list, serde_json::to_vec(&evil).unwrap()).unwrap();
        let err = read_parts(&list).unwrap_err();
        assert!(part_named(&err, "../export.tar.part-0001"), "{err}");
    }
}
