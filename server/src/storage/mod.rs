//! Blob bytes on the filesystem, content-addressed under the data directory:
//!
//! ```text
//! DATA/blobs/sha256/ab/abcdef...   committed blobs (immutable)
//! DATA/uploads/<uuid>              bytes of open upload sessions
//! ```
//!
//! A blob becomes visible only by `rename` of a fully written, fsynced, digest-checked
//! upload file into `blobs/`, so a crash never leaves a partial blob under a digest.

pub mod egress;
pub mod ingest;
pub mod sessions;

use std::io;
use std::path::{Path, PathBuf};

use govstore_core::Digest;

#[derive(Clone, Debug)]
pub struct BlobStore {
    blobs: PathBuf,
    uploads: PathBuf,
}

impl BlobStore {
    /// Open (creating if needed) the store under `data_dir`.
    pub fn open(data_dir: &Path) -> io::Result<Self> {
        let blobs = data_dir.join("blobs").join("sha256");
        let uploads = data_dir.join("uploads");
        std::fs::create_dir_all(&blobs)?;
        std::fs::create_dir_all(&uploads)?;
        Ok(Self { blobs, uploads })
    }

    pub fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.blobs.join(&digest.hex()[..2]).join(digest.hex())
    }

    /// Where an upload session's bytes live. `id` must be a UUID the server made.
    pub fn upload_path(&self, id: &uuid::Uuid) -> PathBuf {
        self.uploads.join(id.hyphenated().to_string())
    }

    pub fn uploads_dir(&self) -> &Path {
        &self.uploads
    }

    /// Open a committed blob for reading, with its length.
    pub async fn open_blob(&self, digest: &Digest) -> io::Result<Option<(std::fs::File, u64)>> {
        let path = self.blob_path(digest);
        tokio::task::spawn_blocking(move || match std::fs::File::open(path) {
            Ok(f) => {
                let len = f.metadata()?.len();
                Ok(Some((f, len)))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        })
        .await
        .map_err(io::Error::other)?
    }

    /// Move a complete, verified upload file into the store under its digest:
    /// fsync the file, rename it into place, fsync the directory. If the blob is
    /// already stored the upload file is simply removed (content-addressed: same bytes).
    pub async fn commit(&self, upload_file: PathBuf, digest: &Digest) -> io::Result<()> {
        let dest = self.blob_path(digest);
        tokio::task::spawn_blocking(move || commit_blocking(&upload_file, &dest))
            .await
            .map_err(io::Error::other)?
    }

    /// Store a small document held in memory (a signature payload, an empty config)
    /// under its digest, with the same write-fsync-rename as uploads.
    pub async fn put_small(&self, bytes: Vec<u8>) -> io::Result<Digest> {
        let digest = Digest::of(&bytes);
        let dest = self.blob_path(&digest);
        let tmp = self.upload_path(&uuid::Uuid::new_v4());
        tokio::task::spawn_blocking(move || {
            if dest.exists() {
                return Ok(());
            }
            std::fs::write(&tmp, &bytes)?;
            commit_blocking(&tmp, &dest)
        })
        .await
        .map_err(io::Error::other)??;
        Ok(digest)
    }

    /// Read a stored blob of at most `limit` bytes whole; `Ok(None)` if it is missing,
    /// an `InvalidData` error if it is larger.
    pub async fn read_small(&self, digest: &Digest, limit: u64) -> io::Result<Option<Vec<u8>>> {
        let path = self.blob_path(digest);
        tokio::task::spawn_blocking(move || {
            use std::io::Read;
            let f = match std::fs::File::open(path) {
                Ok(f) => f,
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(e),
            };
            let mut buf = Vec::new();
            f.take(limit + 1).read_to_end(&mut buf)?;
            if buf.len() as u64 > limit {
                return Err(io::Error::new(io::ErrorKind::InvalidData, "blob larger than allowed"));
            }
            Ok(Some(buf))
        })
        .await
        .map_err(io::Error::other)?
    }

    /// Remove an upload file if it exists.
    pub async fn remove_upload(&self, id: &uuid::Uuid) -> io::Result<()> {
        match tokio::fs::remove_file(self.upload_path(id)).await {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

fn commit_blocking(upload_file: &Path, dest: &Path) -> io::Result<()> {
    if dest.exists() {
        std::fs::remove_file(upload_file)?;
        return Ok(());
    }
    std::fs::File::open(upload_file)?.sync_all()?;
    let dir = dest
        .parent()
        .ok_or_else(|| io::Error::other("blob path has no parent"))?;
    std::fs::create_dir_all(dir)?;
    std::fs::rename(upload_file, dest)?;
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}
