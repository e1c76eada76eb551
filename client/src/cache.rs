//! The local cache: index documents with their ETags, content-addressed blobs and
//! manifests, signature references and public keys. It lets `--offline` commands work
//! where the network is cut off, and reruns skip what they already downloaded.
//!
//! ```text
//! $GOVSTORE_CACHE_DIR (else $XDG_CACHE_HOME/govstore, else ~/.cache/govstore)
//!   http/<sha256 of the URL>.json   {"url","etag","body"}: one fetched document (or a 404)
//!   blobs/sha256/<2 hex>/<64 hex>   exactly the bytes with that digest (blobs and manifests)
//!   sigs/<64 hex>                   the digest of the cosign signature manifest of a manifest
//!   keys/<64 hex>.pem               a public key whose id is sha256:<64 hex>
//!   tmp/                            downloads in progress
//! ```
//!
//! Nothing read from the cache is trusted more than what the network sends: a blob is
//! re-hashed whenever it is used ([`Cache::verified_blob`], [`Cache::read_blob`]), a key
//! is accepted only if its id is the hash of its bytes ([`Cache::key`]), and a
//! signature reference only leads to a manifest that must then verify. Every file
//! appears by `rename` of a complete temporary file, so concurrent commands and crashes
//! never leave a partial entry.

use std::ffi::OsString;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use govstore_core::Digest;
use govstore_signing::PublicKey;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

/// Why the cache could not be used.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("cannot find the cache directory: set GOVSTORE_CACHE_DIR or HOME")]
    NoCacheDir,
    #[error("cannot use the cache at `{path}`: {source}")]
    Io { path: PathBuf, source: io::Error },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> CacheError + '_ {
    move |source| CacheError::Io {
        path: path.to_owned(),
        source,
    }
}

/// A cached HTTP document, or the registry's answer that there is none (404), so that
/// offline commands know an unknown name from one never asked about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CachedDocument {
    pub url: String,
    pub etag: Option<String>,
    pub body: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub not_found: bool,
}

/// What a cached blob turned out to be when checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlobState {
    /// Present with the right digest and size.
    Valid,
    Missing,
    /// Present but with other bytes; it has been removed.
    Corrupt,
}

/// The cache directory.
#[derive(Debug, Clone)]
pub struct Cache {
    root: PathBuf,
}

impl Cache {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The cache of the process environment.
    pub fn from_env() -> Result<Self, CacheError> {
        cache_dir_from(|k| std::env::var_os(k)).map(Self::new)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn dir(&self, name: &str) -> Result<PathBuf, CacheError> {
        let dir = self.root.join(name);
        std::fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        Ok(dir)
    }

    /// Writes `bytes` to `path` atomically (temporary file in `tmp/`, fsync, rename).
    fn write_atomic(&self, path: &Path, bytes: &[u8]) -> Result<(), CacheError> {
        let mut tmp = self.temp_file()?;
        tmp.write_all(bytes).map_err(io_err(path))?;
        self.persist(tmp, path)
    }

    /// A new temporary file inside the cache (same file system as its entries).
    pub fn temp_file(&self) -> Result<tempfile::NamedTempFile, CacheError> {
        let tmp = self.dir("tmp")?;
        tempfile::NamedTempFile::new_in(&tmp).map_err(io_err(&tmp))
    }

    fn persist(&self, tmp: tempfile::NamedTempFile, path: &Path) -> Result<(), CacheError> {
        tmp.as_file().sync_all().map_err(io_err(path))?;
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io_err(parent))?;
        }
        tmp.persist(path).map_err(|e| CacheError::Io {
            path: path.to_owned(),
            source: e.error,
        })?;
        Ok(())
    }

    // ---- HTTP documents ----

    fn document_path(&self, url: &str) -> PathBuf {
        self.root
            .join("http")
            .join(format!("{}.json", Digest::of(url.as_bytes()).hex()))
    }

    /// The cached document for `url`, if any (an unreadable entry counts as none).
    pub fn document(&self, url: &str) -> Option<CachedDocument> {
        let bytes = std::fs::read(self.document_path(url)).ok()?;
        serde_json::from_slice::<CachedDocument>(&bytes)
            .ok()
            .filter(|d| d.url == url)
    }

    pub fn put_document(&self, doc: &CachedDocument) -> Result<(), CacheError> {
        let path = self.document_path(&doc.url);
        let bytes = serde_json::to_vec(doc).map_err(|e| CacheError::Io {
            path: path.clone(),
            source: io::Error::other(e),
        })?;
        self.write_atomic(&path, &bytes)
    }

    // ---- blobs and manifests ----

    /// Where the blob with `digest` is kept.
    pub fn blob_path(&self, digest: &Digest) -> PathBuf {
        let hex = digest.hex();
        self.root.join("blobs").join("sha256").join(&hex[..2]).join(hex)
    }

    /// Checks a cached blob by hashing it; removes it if its bytes are wrong.
    pub fn verified_blob(&self, digest: &Digest, size: u64) -> Result<BlobState, CacheError> {
        let path = self.blob_path(digest);
        let file = match std::fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(BlobState::Missing),
            Err(e) => return Err(io_err(&path)(e)),
        };
        let (actual, len) = hash_reader(file).map_err(io_err(&path))?;
        if &actual == digest && len == size {
            return Ok(BlobState::Valid);
        }
        std::fs::remove_file(&path).map_err(io_err(&path))?;
        Ok(BlobState::Corrupt)
    }

    /// A small cached blob's bytes, checked against `digest`; `None` if it is missing
    /// or wrong (a wrong one is removed).
    pub fn read_blob(&self, digest: &Digest, max: usize) -> Result<Option<Vec<u8>>, CacheError> {
        let path = self.blob_path(digest);
        let file = match std::fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_err(&path)(e)),
        };
        let mut bytes = Vec::new();
        file.take(max as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(io_err(&path))?;
        if bytes.len() <= max && &Digest::of(&bytes) == digest {
            return Ok(Some(bytes));
        }
        std::fs::remove_file(&path).map_err(io_err(&path))?;
        Ok(None)
    }

    /// Stores bytes whose digest the caller has checked.
    pub fn put_blob(&self, digest: &Digest, bytes: &[u8]) -> Result<(), CacheError> {
        let path = self.blob_path(digest);
        if Digest::of(bytes) != *digest {
            return Err(CacheError::Io {
                path,
                source: io::Error::other("the bytes do not have the digest they are stored under"),
            });
        }
        self.write_atomic(&path, bytes)
    }

    /// Moves a downloaded, verified temporary file into place as the blob `digest`.
    pub fn persist_blob(&self, tmp: tempfile::NamedTempFile, digest: &Digest) -> Result<(), CacheError> {
        self.persist(tmp, &self.blob_path(digest))
    }

    // ---- signatures and keys ----

    fn sig_path(&self, manifest: &Digest) -> PathBuf {
        self.root.join("sigs").join(manifest.hex())
    }

    /// The digest of the signature manifest last seen for `manifest`.
    pub fn signature_ref(&self, manifest: &Digest) -> Option<Digest> {
        std::fs::read_to_string(self.sig_path(manifest))
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    pub fn put_signature_ref(&self, manifest: &Digest, signature: &Digest) -> Result<(), CacheError> {
        self.write_atomic(&self.sig_path(manifest), signature.to_string().as_bytes())
    }

    fn key_path(&self, key_id: &str) -> Option<PathBuf> {
        let digest: Digest = key_id.parse().ok()?;
        Some(self.root.join("keys").join(format!("{}.pem", digest.hex())))
    }

    /// The public key with id `key_id` (`sha256:<hex>`), if cached and really that key.
    pub fn key(&self, key_id: &str) -> Option<PublicKey> {
        let pem = std::fs::read_to_string(self.key_path(key_id)?).ok()?;
        PublicKey::from_pem(&pem).ok().filter(|k| k.key_id() == key_id)
    }

    /// Keeps a public key under its computed id.
    pub fn put_key(&self, key: &PublicKey) -> Result<(), CacheError> {
        let id = key.key_id();
        let Some(path) = self.key_path(&id) else {
            return Ok(());
        };
        self.write_atomic(&path, key.to_pem().as_bytes())
    }
}

/// The SHA-256 and length of everything `reader` yields.
pub fn hash_reader(mut reader: impl Read) -> io::Result<(Digest, u64)> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut len = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buf[..n]);
        len += n as u64;
    }
    Ok((Digest::from_sha256(hasher.finalize().into()), len))
}

/// Where the cache is, given an environment lookup: `GOVSTORE_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/govstore` (if absolute), else `$HOME/.cache/govstore`.
pub fn cache_dir_from(env: impl Fn(&str) -> Option<OsString>) -> Result<PathBuf, CacheError> {
    let set = |k: &str| env(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(dir) = set("GOVSTORE_CACHE_DIR") {
        return Ok(dir);
    }
    if let Some(dir) = set("XDG_CACHE_HOME").filter(|d| d.is_absolute()) {
        return Ok(dir.join("govstore"));
    }
    if let Some(home) = set("HOME") {
        return Ok(home.join(".cache").join("govstore"));
    }
    Err(CacheError::NoCacheDir)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn directory_from_the_environment() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| OsString::from(v))
        };
        assert_eq!(
            cache_dir_from(env(&[("GOVSTORE_CACHE_DIR", "/c"), ("HOME", "/h")])).unwrap(),
            PathBuf::from("/c")
        );
        assert_eq!(
            cache_dir_from(env(&[("XDG_CACHE_HOME", "/x"), ("HOME", "/h")])).unwrap(),
            PathBuf::from("/x/govstore")
        );
        assert_eq!(
            cache_dir_from(env(&[("XDG_CACHE_HOME", "rel"), ("HOME", "/h")])).unwrap(),
            PathBuf::from("/h/.cache/govstore")
        );
        assert!(cache_dir_from(env(&[])).is_err());
    }

    #[test]
    fn blobs_are_checked_on_every_read() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path());
        let d = Digest::of(b"hello");
        assert_eq!(cache.verified_blob(&d, 5).unwrap(), BlobState::Missing);
        cache.put_blob(&d, b"hello").unwrap();
        assert!(
            cache.put_blob(&d, b"other").is_err(),
            "stored only under its own digest"
        );
        assert_eq!(cache.verified_blob(&d, 5).unwrap(), BlobState::Valid);
        assert_eq!(cache.read_blob(&d, 100).unwrap().as_deref(), Some(&b"hello"[..]));
        std::fs::write(cache.blob_path(&d), b"HELLO").unwrap();
        assert_eq!(cache.verified_blob(&d, 5).unwrap(), BlobState::Corrupt);
        assert!(!cache.blob_path(&d).exists(), "a corrupt blob is removed");
        cache.put_blob(&d, b"hello").unwrap();
        std::fs::write(cache.blob_path(&d), b"HELLO").unwrap();
        assert_eq!(cache.read_blob(&d, 100).unwrap(), None);
    }

    #[test]
    fn documents_keys_and_signature_refs() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path());
        let doc = CachedDocument {
            url: "http://r/api/v1/index/packages/a/b".into(),
            etag: Some("\"x\"".into()),
            body: "{}".into(),
            not_found: false,
        };
        assert_eq!(cache.document(&doc.url), None);
        cache.put_document(&doc).unwrap();
        assert_eq!(cache.document(&doc.url), Some(doc));

        let key = govstore_signing::KeyPair::generate().unwrap().public_key();
        assert!(cache.key(&key.key_id()).is_none());
        cache.put_key(&key).unwrap();
        assert_eq!(cache.key(&key.key_id()).map(|k| k.key_id()), Some(key.key_id()));
        assert!(cache.key("../../etc/passwd").is_none());
        // A key file whose bytes are another key is not that key.
        let other = govstore_signing::KeyPair::generate().unwrap().public_key();
        let path = cache.key_path(&key.key_id()).unwrap();
        std::fs::write(path, other.to_pem()).unwrap();
        assert!(cache.key(&key.key_id()).is_none());

        let (m, s) = (Digest::of(b"m"), Digest::of(b"s"));
        cache.put_signature_ref(&m, &s).unwrap();
        assert_eq!(cache.signature_ref(&m), Some(s));
    }
}
