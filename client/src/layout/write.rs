//! Writing an export: one OCI image layout as a deterministic tar stream.
//!
//! Entries, in this order: `oci-layout`, `index.json`, the directories `blobs/` and
//! `blobs/sha256/`, then every blob once, sorted by digest. Headers are ustar with
//! mtime 0, uid and gid 0, empty user and group names, mode 0644 for files and 0755
//! for directories; so the same index and the same set of blobs give the same bytes,
//! whatever order the blobs were listed in.
//!
//! Each blob streams from its [`BlobSource`] through SHA-256 as it is copied, never
//! held whole in memory. The last byte of a blob is written only after all its bytes
//! hashed to its digest and numbered exactly its size; otherwise writing stops with
//! an error naming the blob, nothing more is written (not even the end-of-archive
//! blocks), and the output is a truncated archive that no reader accepts. The caller
//! must delete it. `out` is written in blocks of 512 bytes and up; wrap a file in a
//! `BufWriter` if that matters.

use std::collections::BTreeMap;
use std::io::{self, Read, Write};

use govstore_core::Digest;
use serde::Serialize;
use sha2::{Digest as _, Sha256};
use tar::{EntryType, Header};

use super::LayoutError;
use super::closure::parse_index;
use super::hashing::HashingWriter;
use super::paths::{BLOBS_DIR, INDEX_JSON, OCI_LAYOUT, OCI_LAYOUT_CONTENT, SHA256_DIR, blob_entry};

/// One blob to export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobEntry {
    pub digest: Digest,
    pub size: u64,
}

/// Where the writer gets blob bytes (the local cache, a registry download...).
pub trait BlobSource {
    /// A reader of the blob's bytes. The writer checks them; the source need not.
    fn open(&self, digest: &Digest) -> io::Result<Box<dyn Read + '_>>;
}

/// What [`write_layout`] wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WriteSummary {
    /// Distinct blobs written.
    pub blobs: u64,
    /// Their bytes, summed.
    pub blob_bytes: u64,
    /// The archive's length in bytes.
    pub archive_bytes: u64,
    /// The archive's SHA-256.
    pub archive_digest: Digest,
}

/// Writes `index_json` and `blobs` (deduplicated; read from `source`) to `out` as an
/// OCI image layout in a tar archive. See the module documentation for the format.
///
/// `index_json` must be an OCI image index whose descriptors are all among `blobs`
/// with the same sizes. On error the output is incomplete and must be deleted.
pub fn write_layout(
    out: impl Write,
    index_json: &[u8],
    blobs: &[BlobEntry],
    source: &dyn BlobSource,
) -> Result<WriteSummary, LayoutError> {
    let mut sorted: BTreeMap<&Digest, u64> = BTreeMap::new();
    for blob in blobs {
        if let Some(&first) = sorted.get(&blob.digest)
            && first != blob.size
        {
            return Err(LayoutError::ConflictingSizes {
                digest: blob.digest.clone(),
                first,
                second: blob.size,
            });
        }
        sorted.insert(&blob.digest, blob.size);
    }
    let (_, descriptors) = parse_index(index_json).map_err(|reason| LayoutError::BadIndexInput { reason })?;
    for d in &descriptors {
        match sorted.get(&d.digest) {
            None => {
                return Err(LayoutError::IndexNamesMissingBlob {
                    digest: d.digest.clone(),
                });
            }
            Some(&listed) if listed != d.size => {
                return Err(LayoutError::IndexSizeMismatch {
                    digest: d.digest.clone(),
                    declared: d.size,
                    listed,
                });
            }
            Some(_) => {}
        }
    }

    let mut tar = tar::Builder::new(Guard {
        inner: HashingWriter::new(out),
        poisoned: false,
    });
    match write_entries(&mut tar, index_json, &sorted, source) {
        Ok(()) => {}
        Err(e) => {
            // Dropping the builder would write the end-of-archive blocks; refuse them.
            tar.get_mut().poisoned = true;
            return Err(e);
        }
    }
    let guard = tar.into_inner().map_err(LayoutError::Write)?;
    let (mut out, archive_digest, archive_bytes) = guard.inner.finish();
    out.flush().map_err(LayoutError::Write)?;
    Ok(WriteSummary {
        blobs: sorted.len() as u64,
        blob_bytes: sorted.values().sum(),
        archive_bytes,
        archive_digest,
    })
}

fn write_entries<W: Write>(
    tar: &mut tar::Builder<W>,
    index_json: &[u8],
    blobs: &BTreeMap<&Digest, u64>,
    source: &dyn BlobSource,
) -> Result<(), LayoutError> {
    let file = |size: u64| header(EntryType::Regular, size);
    tar.append_data(
        &mut file(OCI_LAYOUT_CONTENT.len() as u64),
        OCI_LAYOUT,
        OCI_LAYOUT_CONTENT,
    )
    .map_err(LayoutError::Write)?;
    tar.append_data(&mut file(index_json.len() as u64), INDEX_JSON, index_json)
        .map_err(LayoutError::Write)?;
    for dir in [BLOBS_DIR, SHA256_DIR] {
        tar.append_data(&mut header(EntryType::Directory, 0), dir, io::empty())
            .map_err(LayoutError::Write)?;
    }
    for (&digest, &size) in blobs {
        let reader = source.open(digest).map_err(|e| LayoutError::SourceRead {
            digest: digest.clone(),
            source: e,
        })?;
        let mut verifying = Verifying {
            inner: reader,
            hasher: Sha256::new(),
            digest,
            size,
            consumed: 0,
            emitted: 0,
            verified: false,
            failure: None,
        };
        let written = tar.append_data(&mut file(size), blob_entry(digest), &mut verifying);
        if let Some(failure) = verifying.failure.take() {
            return Err(failure.into_error(digest, size));
        }
        written.map_err(LayoutError::Write)?;
        if !verifying.verified {
            // The tar crate read to the end, so this cannot happen; refuse anyway.
            return Err(LayoutError::SourceMismatch { digest: digest.clone() });
        }
    }
    Ok(())
}

fn header(kind: EntryType, size: u64) -> Header {
    let mut h = Header::new_ustar();
    h.set_entry_type(kind);
    h.set_size(size);
    h.set_mode(if kind == EntryType::Directory { 0o755 } else { 0o644 });
    h.set_mtime(0);
    h.set_uid(0);
    h.set_gid(0);
    h
}

/// Refuses every write once poisoned, so that nothing follows a failed entry.
struct Guard<W> {
    inner: W,
    poisoned: bool,
}

impl<W: Write> Write for Guard<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.poisoned {
            return Err(io::Error::other("the export was abandoned"));
        }
        self.inner.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.poisoned {
            return Ok(());
        }
        self.inner.flush()
    }
}

enum Failure {
    Read(io::Error),
    Short(u64),
    Long,
    Mismatch,
}

impl Failure {
    fn into_error(self, digest: &Digest, size: u64) -> LayoutError {
        let digest = digest.clone();
        match self {
            Self::Read(source) => LayoutError::SourceRead { digest, source },
            Self::Short(actual) => LayoutError::SourceSize {
                digest,
                expected: size,
                actual: actual.to_string(),
            },
            Self::Long => LayoutError::SourceSize {
                digest,
                expected: size,
                actual: format!("more than {size}"),
            },
            Self::Mismatch => LayoutError::SourceMismatch { digest },
        }
    }
}

/// Yields a blob's bytes, hashing and counting them, and holds back the last byte
/// until the whole blob has been checked against its digest and size.
struct Verifying<'a, 's> {
    inner: Box<dyn Read + 's>,
    hasher: Sha256,
    digest: &'a Digest,
    size: u64,
    /// Bytes read from the source.
    consumed: u64,
    /// Bytes handed to the tar writer.
    emitted: u64,
    verified: bool,
    failure: Option<Failure>,
}

impl Verifying<'_, '_> {
    fn fail(&mut self, failure: Failure) -> io::Error {
        self.failure = Some(failure);
        io::Error::other(format!("blob {} failed its check", self.digest))
    }

    /// Reads into `buf` from the source, retrying interruptions.
    fn pull(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.inner.read(buf) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.fail(Failure::Read(e))),
            }
        }
    }

    /// Called once every byte has been consumed: the source must be at its end and
    /// the bytes must hash to the digest.
    fn verify_end(&mut self) -> io::Result<()> {
        let mut probe = [0u8; 1];
        if self.pull(&mut probe)? != 0 {
            return Err(self.fail(Failure::Long));
        }
        let hasher = std::mem::take(&mut self.hasher);
        if Digest::from_sha256(hasher.finalize().into()) != *self.digest {
            return Err(self.fail(Failure::Mismatch));
        }
        self.verified = true;
        Ok(())
    }
}

impl Read for Verifying<'_, '_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.failure.is_some() {
            return Err(io::Error::other(format!("blob {} failed its check", self.digest)));
        }
        if buf.is_empty() {
            return Ok(0);
        }
        if self.emitted == self.size {
            if !self.verified {
                self.verify_end()?;
            }
            return Ok(0);
        }
        let remaining = self.size - self.emitted;
        if remaining > 1 {
            let want = usize::try_from(remaining - 1).unwrap_or(usize::MAX).min(buf.len());
            let n = self.pull(&mut buf[..want])?;
            if n == 0 {
                let consumed = self.consumed;
                return Err(self.fail(Failure::Short(consumed)));
            }
            self.hasher.update(&buf[..n]);
            self.consumed += n as u64;
            self.emitted += n as u64;
            return Ok(n);
        }
        // The last byte: read it, check everything, only then hand it over.
        let mut last = [0u8; 1];
        if self.pull(&mut last)? == 0 {
            let consumed = self.consumed;
            return Err(self.fail(Failure::Short(consumed)));
        }
        self.hasher.update(last);
        self.consumed += 1;
        self.verify_end()?;
        buf[0] = last[0];
        self.emitted += 1;
        Ok(1)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::layout::test_support::{Source, sample};
    use crate::layout::{Limits, read_layout};

    #[test]
    fn same_input_in_another_order_gives_identical_bytes() {
        let s = sample(300_000);
        let mut first = Vec::new();
        write_layout(&mut first, &s.index_json, &s.blobs, &s.source).unwrap();

        let mut shuffled: Vec<BlobEntry> = s.blobs.iter().rev().cloned().collect();
        shuffled.push(s.blobs[2].clone()); // a duplicate is written once
        let mut second = Vec::new();
        let summary = write_layout(&mut second, &s.index_json, &shuffled, &s.source).unwrap();
        assert!(first == second, "the two exports differ");
        assert_eq!(summary.blobs, 7);
        assert_eq!(summary.archive_bytes, second.len() as u64);
        assert_eq!(summary.archive_digest, Digest::of(&second));

        // Entry order and the deterministic header fields.
        let mut archive = tar::Archive::new(first.as_slice());
        let mut names = Vec::new();
        for entry in archive.entries().unwrap() {
            let entry = entry.unwrap();
            let h = entry.header();
            assert_eq!(h.mtime().unwrap(), 0);
            assert_eq!((h.uid().unwrap(), h.gid().unwrap()), (0, 0));
            assert_eq!(h.username().unwrap(), Some(""));
            assert_eq!(h.groupname().unwrap(), Some(""));
            let dir = h.entry_type() == tar::EntryType::Directory;
            assert_eq!(h.mode().unwrap(), if dir { 0o755 } else { 0o644 });
            names.push(String::from_utf8(entry.path_bytes().into_owned()).unwrap());
        }
        let mut sorted: Vec<String> = s
            .blobs
            .iter()
            .map(|b| format!("blobs/sha256/{}", b.digest.hex()))
            .collect();
        sorted.sort();
        let mut expected = vec!["oci-layout", "index.json", "blobs/", "blobs/sha256/"]
            .into_iter()
            .map(str::to_owned)
            .collect::<Vec<_>>();
        expected.extend(sorted);
        assert_eq!(names, expected);
    }

    #[test]
    fn writer_refuses_a_source_whose_bytes_do_not_match_the_digest() {
        let mut s = sample(10);
        // Same length, other bytes.
        s.source.small.insert(s.layer.digest.clone(), b"LAYER BYTES".to_vec());
        let mut out = Vec::new();
        let err = write_layout(&mut out, &s.index_json, &s.blobs, &s.source).unwrap_err();
        assert!(
            matches!(&err, LayoutError::SourceMismatch { digest } if *digest == s.layer.digest),
            "{err}"
        );
        assert!(err.to_string().contains(&s.layer.digest.to_string()));
        // The partial output is not a readable export, and the bad blob's entry was
        // never completed.
        assert!(!out.windows(11).any(|w| w == b"LAYER BYTES"));
        let dir = tempfile::tempdir().unwrap();
        assert!(read_layout(out.as_slice(), dir.path(), &Limits::default()).is_err());
    }

    #[test]
    fn writer_refuses_a_source_of_the_wrong_length() {
        let s = sample(10);
        for bytes in [&b"layer byte"[..], &b"layer bytes!"[..]] {
            let mut source = Source::default();
            source.small = s.source.small.clone();
            source.large = s.source.large.clone();
            source.small.insert(s.layer.digest.clone(), bytes.to_vec());
            let err = write_layout(Vec::new(), &s.index_json, &s.blobs, &source).unwrap_err();
            assert!(
                matches!(&err, LayoutError::SourceSize { digest, .. } if *digest == s.layer.digest),
                "{err}"
            );
        }
    }

    #[test]
    fn writer_refuses_an_index_naming_a_blob_it_does_not_export() {
        let s = sample(10);
        let blobs: Vec<BlobEntry> = s
            .blobs
            .iter()
            .filter(|b| b.digest != s.manifest.digest)
            .cloned()
            .collect();
        let err = write_layout(Vec::new(), &s.index_json, &blobs, &s.source).unwrap_err();
        assert!(matches!(err, LayoutError::IndexNamesMissingBlob { .. }), "{err}");
    }
}
