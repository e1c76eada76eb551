//! [`ObjectStorage`] on a local directory: an object `a/b/c` is the file `ROOT/a/b/c`.
//!
//! Writes go to a temporary file in `ROOT/staging/`, filled by one blocking thread that
//! receives frames over a small bounded channel (so receiving and writing overlap and
//! memory per write stays bounded). Commit fsyncs the file, renames it into place and
//! fsyncs the directory (and the directory above, when the directory is new), so a crash
//! leaves at most an abandoned temporary, never a partial object. A server-side
//! concatenation (`create` with a prefix) copies the prefix files in the kernel
//! (`copy_file_range`, a reflink on filesystems that have them).

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::future::BoxFuture;

use super::egress::stream_file;
use super::object::{ByteStream, ObjectMeta, ObjectReader, ObjectStorage, ObjectWriter, key_segments};

/// Frames queued between the network and the writer thread.
const CHANNEL_FRAMES: usize = 64;
/// Write buffer of the writer thread. Frames at least this large skip the buffer and
/// go to `write` directly, saving a copy; smaller ones are gathered.
const WRITE_BUFFER: usize = 64 * 1024;
/// Where temporaries live, under the root.
const STAGING: &str = "staging";

#[derive(Debug, Clone)]
pub struct FsStorage {
    root: Arc<PathBuf>,
}

impl FsStorage {
    /// Storage rooted at `root` (created if needed), with its staging directory and the
    /// top-level directories `dirs` created too.
    pub fn open(root: &Path, dirs: &[&str]) -> io::Result<Self> {
        std::fs::create_dir_all(root.join(STAGING))?;
        for d in dirs {
            std::fs::create_dir_all(root.join(d))?;
        }
        Ok(Self {
            root: Arc::new(root.to_owned()),
        })
    }

    /// The file of an object.
    pub fn path(&self, key: &str) -> io::Result<PathBuf> {
        let mut p = (*self.root).clone();
        for s in key_segments(key)? {
            p.push(s);
        }
        Ok(p)
    }

    fn staging(&self) -> PathBuf {
        self.root.join(STAGING)
    }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> io::Result<T> + Send + 'static) -> io::Result<T> {
    tokio::task::spawn_blocking(f).await.map_err(io::Error::other)?
}

fn not_found_is_none<T>(r: io::Result<T>) -> io::Result<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Rename `tmp` to `dest` durably, unless `dest` exists (then `tmp` is left for the
/// caller to remove). Returns whether it renamed.
fn publish(tmp: &Path, dest: &Path) -> io::Result<bool> {
    if dest.exists() {
        return Ok(false);
    }
    let dir = dest
        .parent()
        .ok_or_else(|| io::Error::other("object path has no parent"))?;
    let new_dir = !dir.exists();
    if new_dir {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::rename(tmp, dest)?;
    File::open(dir)?.sync_all()?;
    if new_dir && let Some(up) = dir.parent() {
        File::open(up)?.sync_all()?;
    }
    Ok(true)
}

/// Removes a temporary file when dropped, unless disarmed.
#[derive(Debug)]
struct TempFile(Option<PathBuf>);

impl TempFile {
    fn disarm(&mut self) {
        self.0 = None;
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(p) = self.0.take()
            && let Err(e) = std::fs::remove_file(&p)
            && e.kind() != io::ErrorKind::NotFound
        {
            tracing::warn!(path = %p.display(), error = %e, "could not remove a temporary file");
        }
    }
}

/// What the writer thread hands back: the file, its temporary name and its length.
#[derive(Debug)]
struct Staged {
    file: File,
    tmp: TempFile,
    len: u64,
}

#[derive(Debug)]
struct FsWriter {
    tx: Option<tokio::sync::mpsc::Sender<Bytes>>,
    worker: Option<tokio::task::JoinHandle<io::Result<Staged>>>,
    dest: PathBuf,
}

impl FsWriter {
    /// The worker's result (its error, when it stopped early).
    async fn finish(&mut self) -> io::Result<Staged> {
        self.tx = None;
        match self.worker.take() {
            Some(w) => w.await.map_err(io::Error::other)?,
            None => Err(io::Error::other("the object writer already failed")),
        }
    }
}

impl ObjectWriter for FsWriter {
    fn write(&mut self, bytes: Bytes) -> BoxFuture<'_, io::Result<()>> {
        Box::pin(async move {
            let sent = match &self.tx {
                Some(tx) => tx.send(bytes).await.is_ok(),
                None => false,
            };
            if sent {
                return Ok(());
            }
            // The thread stopped: report why.
            match self.finish().await {
                Err(e) => Err(e),
                Ok(_) => Err(io::Error::other("the object writer stopped")),
            }
        })
    }

    fn commit(mut self: Box<Self>) -> BoxFuture<'static, io::Result<u64>> {
        Box::pin(async move {
            let staged = self.finish().await?;
            let dest = std::mem::take(&mut self.dest);
            blocking(move || {
                let Staged { file, mut tmp, len } = staged;
                file.sync_all()?;
                drop(file);
                let path = tmp.0.clone().ok_or_else(|| io::Error::other("no temporary file"))?;
                if publish(&path, &dest)? {
                    tmp.disarm();
                }
                Ok(len)
            })
            .await
        })
    }

    fn abort(mut self: Box<Self>) -> BoxFuture<'static, io::Result<()>> {
        Box::pin(async move {
            // Dropping the staged file removes it; the worker's own error does not matter.
            let staged = self.finish().await.ok();
            blocking(move || {
                drop(staged);
                Ok(())
            })
            .await
        })
    }
}

impl ObjectStorage for FsStorage {
    fn create<'a>(&'a self, key: &'a str, prefix: &'a [String]) -> BoxFuture<'a, io::Result<Box<dyn ObjectWriter>>> {
        Box::pin(async move {
            let dest = self.path(key)?;
            let sources = prefix.iter().map(|k| self.path(k)).collect::<io::Result<Vec<_>>>()?;
            let tmp = self.staging().join(uuid::Uuid::new_v4().simple().to_string());
            let (tx, mut rx) = tokio::sync::mpsc::channel::<Bytes>(CHANNEL_FRAMES);
            let worker = tokio::task::spawn_blocking(move || -> io::Result<Staged> {
                let guard = TempFile(Some(tmp.clone()));
                let mut file = File::options().write(true).create_new(true).open(&tmp)?;
                let mut len = 0;
                for src in sources {
                    // File to File: the kernel copies (copy_file_range).
                    len += io::copy(&mut File::open(src)?, &mut file)?;
                }
                let mut out = BufWriter::with_capacity(WRITE_BUFFER, file);
                while let Some(chunk) = rx.blocking_recv() {
                    out.write_all(&chunk)?;
                    len += chunk.len() as u64;
                }
                let file = out.into_inner().map_err(|e| e.into_error())?;
                Ok(Staged { file, tmp: guard, len })
            });
            Ok(Box::new(FsWriter {
                tx: Some(tx),
                worker: Some(worker),
                dest,
            }) as Box<dyn ObjectWriter>)
        })
    }

    fn head<'a>(&'a self, key: &'a str) -> BoxFuture<'a, io::Result<Option<u64>>> {
        Box::pin(async move {
            let path = self.path(key)?;
            blocking(move || not_found_is_none(std::fs::metadata(path).map(|m| m.len()))).await
        })
    }

    fn get<'a>(&'a self, key: &'a str, offset: u64, len: u64) -> BoxFuture<'a, io::Result<Option<ByteStream>>> {
        Box::pin(async move {
            let path = self.path(key)?;
            let file = blocking(move || not_found_is_none(File::open(path))).await?;
            Ok(file.map(|f| stream_file(f, offset, len).boxed()))
        })
    }

    fn reader<'a>(&'a self, key: &'a str) -> BoxFuture<'a, io::Result<Option<(ObjectReader, u64)>>> {
        Box::pin(async move {
            let path = self.path(key)?;
            blocking(move || {
                let Some(file) = not_found_is_none(File::open(path))? else {
                    return Ok(None);
                };
                let len = file.metadata()?.len();
                Ok(Some((Box::new(file) as ObjectReader, len)))
            })
            .await
        })
    }

    fn rename<'a>(&'a self, from: &'a str, to: &'a str) -> BoxFuture<'a, io::Result<()>> {
        Box::pin(async move {
            let (from, to) = (self.path(from)?, self.path(to)?);
            blocking(move || {
                if !publish(&from, &to)? {
                    // Already there (content-addressed: the same bytes).
                    not_found_is_none(std::fs::remove_file(&from))?;
                }
                Ok(())
            })
            .await
        })
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, io::Result<()>> {
        Box::pin(async move {
            let path = self.path(key)?;
            blocking(move || not_found_is_none(std::fs::remove_file(path)).map(|_| ())).await
        })
    }

    fn delete_prefix<'a>(&'a self, prefix: &'a str) -> BoxFuture<'a, io::Result<()>> {
        Box::pin(async move {
            let path = self.path(prefix)?;
            blocking(move || {
                let Some(meta) = not_found_is_none(std::fs::symlink_metadata(&path))? else {
                    return Ok(());
                };
                let removed = if meta.is_dir() {
                    std::fs::remove_dir_all(&path)
                } else {
                    std::fs::remove_file(&path)
                };
                not_found_is_none(removed).map(|_| ())
            })
            .await
        })
    }

    fn list<'a>(&'a self, prefix: &'a str) -> BoxFuture<'a, io::Result<Vec<ObjectMeta>>> {
        Box::pin(async move {
            let path = self.path(prefix)?;
            let prefix = prefix.to_owned();
            blocking(move || {
                let mut out = Vec::new();
                walk(&path, &prefix, &mut out)?;
                Ok(out)
            })
            .await
        })
    }

    fn remove_abandoned(&self, older_than: Duration) -> BoxFuture<'_, io::Result<usize>> {
        let staging = self.staging();
        Box::pin(blocking(move || {
            let mut removed = 0;
            for entry in std::fs::read_dir(staging)? {
                let entry = entry?;
                let old = entry
                    .metadata()
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| t.elapsed().ok())
                    .is_some_and(|age| age > older_than);
                if old && not_found_is_none(std::fs::remove_file(entry.path()))?.is_some() {
                    removed += 1;
                }
            }
            Ok(removed)
        }))
    }
}

fn walk(dir: &Path, key: &str, out: &mut Vec<ObjectMeta>) -> io::Result<()> {
    let Some(entries) = not_found_is_none(std::fs::read_dir(dir))? else {
        return Ok(());
    };
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        // Names that are not key segments are not objects (nothing here writes them).
        let Some(name) = name.to_str().filter(|n| key_segments(n).is_ok()) else {
            continue;
        };
        let child = format!("{key}/{name}");
        let Some(meta) = not_found_is_none(entry.metadata())? else {
            continue;
        };
        if meta.is_dir() {
            walk(&entry.path(), &child, out)?;
        } else {
            out.push(ObjectMeta {
                key: child,
                size: meta.len(),
                modified: meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
            });
        }
    }
    Ok(())
}
