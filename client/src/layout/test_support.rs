//! Test helpers: blob sources (one of them streaming a large generated blob), a small
//! OCI layout, and raw tar entries with any name and type.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::io::{self, Read};

use govstore_core::Digest;
use sha2::{Digest as _, Sha256};

use super::{BlobEntry, BlobSource};

/// A deterministic byte stream of `len` bytes, generated as it is read.
#[derive(Debug, Clone)]
pub struct Pattern {
    pos: u64,
    len: u64,
    seed: u8,
}

impl Pattern {
    pub fn new(len: u64, seed: u8) -> Self {
        Self { pos: 0, len, seed }
    }

    /// The digest of the stream, computed by streaming it.
    pub fn digest(&self) -> Digest {
        let mut hasher = Sha256::new();
        io::copy(&mut self.clone(), &mut HashSink(&mut hasher)).unwrap();
        Digest::from_sha256(hasher.finalize().into())
    }
}

struct HashSink<'a>(&'a mut Sha256);

impl io::Write for HashSink<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Read for Pattern {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.len - self.pos;
        let n = (buf.len() as u64).min(left) as usize;
        for (i, b) in buf[..n].iter_mut().enumerate() {
            let p = self.pos + i as u64;
            *b = (p.wrapping_mul(31) ^ (p >> 9)) as u8 ^ self.seed;
        }
        self.pos += n as u64;
        Ok(n)
    }
}

/// Small blobs in memory plus generated large ones.
#[derive(Debug, Default)]
pub struct Source {
    pub small: BTreeMap<Digest, Vec<u8>>,
    pub large: BTreeMap<Digest, Pattern>,
}

impl Source {
    pub fn add(&mut self, bytes: &[u8]) -> BlobEntry {
        let digest = Digest::of(bytes);
        self.small.insert(digest.clone(), bytes.to_vec());
        BlobEntry {
            digest,
            size: bytes.len() as u64,
        }
    }

    pub fn add_large(&mut self, pattern: Pattern) -> BlobEntry {
        let digest = pattern.digest();
        let size = pattern.len;
        self.large.insert(digest.clone(), pattern);
        BlobEntry { digest, size }
    }
}

impl BlobSource for Source {
    fn open(&self, digest: &Digest) -> io::Result<Box<dyn Read + '_>> {
        if let Some(bytes) = self.small.get(digest) {
            return Ok(Box::new(bytes.as_slice()));
        }
        if let Some(p) = self.large.get(digest) {
            return Ok(Box::new(p.clone()));
        }
        Err(io::Error::new(io::ErrorKind::NotFound, "no such blob"))
    }
}

pub const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

pub fn descriptor(media_type: &str, b: &BlobEntry) -> serde_json::Value {
    serde_json::json!({"mediaType": media_type, "digest": b.digest.to_string(), "size": b.size})
}

/// A layout: index.json -> manifest -> config + layers (one of them `large` bytes,
/// generated), plus a referrer whose subject is the manifest.
pub struct Sample {
    pub index_json: Vec<u8>,
    pub blobs: Vec<BlobEntry>,
    pub source: Source,
    pub manifest: BlobEntry,
    pub layer: BlobEntry,
}

pub fn sample(large: u64) -> Sample {
    let mut source = Source::default();
    let config = source.add(br#"{"name":"demo"}"#);
    let layer = source.add(b"layer bytes");
    let big = source.add_large(Pattern::new(large, 7));
    let manifest_doc = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST,
        "config": descriptor("application/vnd.govstore.package.v1+json", &config),
        "layers": [
            descriptor("application/vnd.oci.image.layer.v1.tar+gzip", &layer),
            descriptor("application/vnd.oci.image.layer.v1.tar+gzip", &big),
        ],
    });
    let manifest = source.add(&serde_json::to_vec(&manifest_doc).unwrap());
    let empty = source.add(b"{}");
    let sig = source.add(b"signature envelope");
    let referrer_doc = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST,
        "config": descriptor("application/vnd.oci.empty.v1+json", &empty),
        "layers": [descriptor("application/vnd.dev.cosign.simplesigning.v1+json", &sig)],
        "subject": descriptor(MANIFEST, &manifest),
    });
    let referrer = source.add(&serde_json::to_vec(&referrer_doc).unwrap());
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [descriptor(MANIFEST, &manifest), descriptor(MANIFEST, &referrer)],
    });
    let blobs = vec![config, layer.clone(), big, manifest.clone(), empty, sig, referrer];
    Sample {
        index_json: serde_json::to_vec(&index).unwrap(),
        blobs,
        source,
        manifest,
        layer,
    }
}

/// Appends an entry with exactly this name and type, bypassing the tar crate's
/// own path checks.
pub fn raw_entry<W: io::Write>(
    tar: &mut tar::Builder<W>,
    name: &[u8],
    kind: tar::EntryType,
    data: &[u8],
    link: Option<&str>,
) {
    let mut h = tar::Header::new_ustar();
    h.set_entry_type(kind);
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_mtime(0);
    let field = &mut h.as_old_mut().name;
    field.fill(0);
    field[..name.len()].copy_from_slice(name);
    if let Some(link) = link {
        h.set_link_name(link).unwrap();
    }
    h.set_cksum();
    tar.append(&h, data).unwrap();
}
