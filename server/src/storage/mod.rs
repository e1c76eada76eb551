//! Blob bytes, behind an interface.
//!
//! [`ObjectStorage`] (in [`object`]) is the interface to where bytes live: immutable
//! objects under keys, written through a writer that makes them visible only whole and
//! durable. [`fs::FsStorage`] keeps them in the data directory, [`memory::MemoryStorage`]
//! in memory (tests); an S3 backend fits the same trait. On top of it:
//!
//! - [`BlobStore`]: content-addressed blobs. `put` streams a body into the object
//!   `blobs/sha256/<2>/<hex>` while hashing it and commits only when the digest matches;
//!   `get` streams a range, `size` is a head, `open_reader` reads a whole blob in
//!   `spawn_blocking`, `put_small`/`read_small` handle small documents in memory.
//! - [`uploads`]: chunked upload sessions whose state is in the database (length, parts
//!   and the SHA-256 midstate, a [`midstate::ResumableSha256`]), their chunks immutable part
//!   objects `uploads/<session>/<part>`, so any process continues any session without
//!   reading earlier parts again (see that module for the design).
//!
//! ```text
//! DATA/blobs/sha256/ab/abcdef...   committed blobs (immutable)
//! DATA/uploads/<session>/<part>    parts of open upload sessions (immutable)
//! DATA/staging/<tmp>               objects being written (fs backend only)
//! ```
//!
//! Nothing outside this module builds a path or touches `std::fs` for blobs or uploads.

pub mod egress;
pub mod fs;
pub mod ingest;
pub mod memory;
pub mod midstate;
pub mod object;
pub mod sessions;
pub mod uploads;

use std::io::{self, Read};
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::Stream;
use govstore_core::Digest;

pub use object::{ByteStream, ObjectMeta, ObjectReader, ObjectStorage, ObjectWriter};
pub use uploads::UploadError;

use ingest::{HashStart, ingest};
use midstate::ResumableSha256;

/// A blocking reader of a whole blob; use it inside `spawn_blocking`.
pub type BlobReader = ObjectReader;

/// Content-addressed blobs over an [`ObjectStorage`]. Cheap to clone.
#[derive(Clone, Debug)]
pub struct BlobStore {
    objects: Arc<dyn ObjectStorage>,
}

impl BlobStore {
    /// Open (creating if needed) the filesystem store under `data_dir`.
    pub fn open(data_dir: &Path) -> io::Result<Self> {
        let objects = fs::FsStorage::open(data_dir, &["blobs/sha256", "uploads"])?;
        Ok(Self::new(Arc::new(objects)))
    }

    /// A store in memory (tests).
    pub fn memory() -> Self {
        Self::new(Arc::new(memory::MemoryStorage::new()))
    }

    /// A store over any object storage.
    pub fn new(objects: Arc<dyn ObjectStorage>) -> Self {
        Self { objects }
    }

    /// The object storage underneath.
    pub fn objects(&self) -> &dyn ObjectStorage {
        &*self.objects
    }

    /// The object storage underneath, shared.
    pub fn shared_objects(&self) -> Arc<dyn ObjectStorage> {
        self.objects.clone()
    }

    /// The object key of a blob.
    pub fn blob_key(digest: &Digest) -> String {
        let hex = digest.hex();
        format!("blobs/{}/{}/{hex}", digest.algorithm(), &hex[..2])
    }

    /// The size of a stored blob, `None` if it is not stored.
    pub async fn size(&self, digest: &Digest) -> io::Result<Option<u64>> {
        self.objects.head(&Self::blob_key(digest)).await
    }

    /// Stream `len` bytes of a blob from `offset`; `None` if it is not stored.
    pub async fn get(&self, digest: &Digest, offset: u64, len: u64) -> io::Result<Option<ByteStream>> {
        self.objects.get(&Self::blob_key(digest), offset, len).await
    }

    /// A blocking reader of a whole blob (read it inside `spawn_blocking`); `None` if it
    /// is not stored.
    pub async fn open_reader(&self, digest: &Digest) -> io::Result<Option<BlobReader>> {
        Ok(self.open_blob(digest).await?.map(|(r, _)| r))
    }

    /// A blocking reader of a whole blob and its length; `None` if it is not stored.
    pub async fn open_blob(&self, digest: &Digest) -> io::Result<Option<(BlobReader, u64)>> {
        self.objects.reader(&Self::blob_key(digest)).await
    }

    /// Store a body under `expected`, hashing it while it streams, accepting at most
    /// `limit` bytes. The blob becomes visible only if the body's digest is `expected`;
    /// otherwise nothing is stored. Returns the blob's size.
    pub async fn put<S, E>(&self, expected: &Digest, body: S, limit: u64) -> Result<u64, UploadError>
    where
        S: Stream<Item = Result<Bytes, E>> + Send,
        E: std::fmt::Display,
    {
        let mut writer = self.objects.create(&Self::blob_key(expected), &[]).await?;
        let done = match ingest(body, writer.as_mut(), HashStart::Known(ResumableSha256::new()), limit).await {
            Ok(done) => done,
            Err(e) => {
                uploads::abort(writer).await;
                return Err(UploadError::from_ingest(e, limit));
            }
        };
        let actual = Digest::from_sha256(done.hasher.finalize());
        if &actual != expected {
            uploads::abort(writer).await;
            return Err(UploadError::DigestMismatch {
                expected: expected.clone(),
                actual,
            });
        }
        writer.commit().await?;
        Ok(done.written)
    }

    /// Store a small document held in memory (a signature payload, an empty config)
    /// under its digest, with the same durability as uploads.
    pub async fn put_small(&self, bytes: Vec<u8>) -> io::Result<Digest> {
        let digest = Digest::of(&bytes);
        let key = Self::blob_key(&digest);
        if self.objects.head(&key).await?.is_some() {
            return Ok(digest);
        }
        let mut writer = self.objects.create(&key, &[]).await?;
        writer.write(Bytes::from(bytes)).await?;
        writer.commit().await?;
        Ok(digest)
    }

    /// Read a stored blob of at most `limit` bytes whole; `Ok(None)` if it is missing,
    /// an `InvalidData` error if it is larger.
    pub async fn read_small(&self, digest: &Digest, limit: u64) -> io::Result<Option<Vec<u8>>> {
        let Some((reader, len)) = self.open_blob(digest).await? else {
            return Ok(None);
        };
        let too_large = || io::Error::new(io::ErrorKind::InvalidData, "blob larger than allowed");
        if len > limit {
            return Err(too_large());
        }
        tokio::task::spawn_blocking(move || {
            let mut buf = Vec::with_capacity(len as usize);
            reader.take(limit + 1).read_to_end(&mut buf)?;
            if buf.len() as u64 > limit {
                return Err(too_large());
            }
            Ok(Some(buf))
        })
        .await
        .map_err(io::Error::other)?
    }

    /// Remove a blob's bytes (for garbage collection; OCI DELETE only unlinks).
    pub async fn delete(&self, digest: &Digest) -> io::Result<()> {
        self.objects.delete(&Self::blob_key(digest)).await
    }
}

#[cfg(test)]
mod tests;
