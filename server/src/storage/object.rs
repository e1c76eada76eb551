//! The object storage interface: a flat namespace of immutable objects under `/`-separated
//! keys, the shape of S3 and of a directory tree alike. Everything about blobs (content
//! addressing, digests, upload sessions) is built on top of it in [`super::BlobStore`] and
//! [`super::uploads`]; a backend only stores bytes.
//!
//! Rules every backend keeps:
//! - **Nothing partial is ever visible.** [`ObjectStorage::create`] returns a writer; the
//!   object appears under its key only when [`ObjectWriter::commit`] returns, whole and
//!   durable (filesystem: fsync file, rename, fsync directory; S3: a multipart upload to
//!   the key, completed at commit). A dropped or aborted writer leaves nothing under the
//!   key, at most an abandoned temporary that [`ObjectStorage::remove_abandoned`] clears.
//! - **Objects are immutable and keys are create-only.** A commit (or a rename) onto a key
//!   that already holds an object keeps the object that is there: callers only write a key
//!   that is unique (an upload part) or content-addressed (a blob: same key, same bytes).
//! - **Reads stream.** [`ObjectStorage::get`] streams a byte range; [`ObjectStorage::reader`]
//!   gives a blocking reader for code that runs in `spawn_blocking` (tar checks).
//!
//! Implementations: [`super::fs::FsStorage`] (the data directory) and
//! [`super::memory::MemoryStorage`] (tests). An S3 backend maps `create` to a multipart
//! upload (parts of at least 5 MiB are the writer's business, it buffers up to that),
//! `create` with a prefix to `UploadPartCopy` of the prefix objects (a part of under 5 MiB
//! that is not the last is read and re-sent instead), `rename` to `CopyObject` + `DeleteObject`,
//! and `remove_abandoned` to aborting multipart uploads older than the cutoff.

use std::fmt;
use std::io;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures_util::future::BoxFuture;
use futures_util::stream::BoxStream;

/// Bytes of an object, streamed.
pub type ByteStream = BoxStream<'static, io::Result<Bytes>>;

/// A blocking reader of a whole object, to be used inside `spawn_blocking`.
pub type ObjectReader = Box<dyn io::Read + Send>;

/// A listed object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectMeta {
    pub key: String,
    pub size: u64,
    pub modified: SystemTime,
}

/// A store of immutable objects. Object-safe: the server holds an `Arc<dyn ObjectStorage>`.
///
/// Keys are `/`-separated segments of ASCII letters, digits, `-`, `_` and `.` (no empty,
/// `.` or `..` segment); backends refuse anything else with `InvalidInput`.
pub trait ObjectStorage: fmt::Debug + Send + Sync + 'static {
    /// Begin writing the object `key`. The object starts with the bytes of the objects
    /// `prefix`, in order (a server-side concatenation; each must exist), followed by what
    /// is written. Nothing is visible under `key` until [`ObjectWriter::commit`].
    fn create<'a>(&'a self, key: &'a str, prefix: &'a [String]) -> BoxFuture<'a, io::Result<Box<dyn ObjectWriter>>>;

    /// The object's size, `None` if there is no such object.
    fn head<'a>(&'a self, key: &'a str) -> BoxFuture<'a, io::Result<Option<u64>>>;

    /// Stream `len` bytes of the object from `offset`; `None` if there is no such object.
    /// A range past the end fails the stream with `UnexpectedEof`.
    fn get<'a>(&'a self, key: &'a str, offset: u64, len: u64) -> BoxFuture<'a, io::Result<Option<ByteStream>>>;

    /// A blocking reader of the whole object and its size; `None` if there is no such object.
    fn reader<'a>(&'a self, key: &'a str) -> BoxFuture<'a, io::Result<Option<(ObjectReader, u64)>>>;

    /// Move the object `from` to `to` (create-only: if `to` exists, it is kept and `from`
    /// is removed). Durable when it returns. `NotFound` if neither exists.
    fn rename<'a>(&'a self, from: &'a str, to: &'a str) -> BoxFuture<'a, io::Result<()>>;

    /// Remove an object; removing a missing object is not an error.
    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, io::Result<()>>;

    /// Remove the object `prefix` and every object under `prefix/`.
    fn delete_prefix<'a>(&'a self, prefix: &'a str) -> BoxFuture<'a, io::Result<()>>;

    /// Every object under `prefix/`, in no particular order.
    fn list<'a>(&'a self, prefix: &'a str) -> BoxFuture<'a, io::Result<Vec<ObjectMeta>>>;

    /// Remove temporaries of writes that were never committed or aborted (a crash, a
    /// dropped request) and began more than `older_than` ago. Returns how many.
    fn remove_abandoned(&self, older_than: Duration) -> BoxFuture<'_, io::Result<usize>>;
}

/// An object being written. Drop it (or [`abort`](Self::abort)) to discard it.
pub trait ObjectWriter: Send {
    /// Append bytes. Backends queue a bounded number of frames, so this waits when the
    /// storage is slower than the network.
    fn write(&mut self, bytes: Bytes) -> BoxFuture<'_, io::Result<()>>;

    /// Make the object durable and visible under its key; returns its size (prefix
    /// included). If the key already holds an object, that one is kept.
    fn commit(self: Box<Self>) -> BoxFuture<'static, io::Result<u64>>;

    /// Discard what was written.
    fn abort(self: Box<Self>) -> BoxFuture<'static, io::Result<()>>;
}

/// The path segments of a key, checked.
pub(crate) fn key_segments(key: &str) -> io::Result<Vec<&str>> {
    let segments: Vec<&str> = key.split('/').collect();
    let ok = !key.is_empty()
        && segments.iter().all(|s| {
            !s.is_empty()
                && *s != "."
                && *s != ".."
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        });
    if ok {
        Ok(segments)
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("invalid object key {key:?}"),
        ))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::key_segments;

    #[test]
    fn keys_are_checked() {
        assert_eq!(
            key_segments("blobs/sha256/ab/abcd").unwrap(),
            ["blobs", "sha256", "ab", "abcd"]
        );
        for bad in ["", "/a", "a/", "a//b", "../a", "a/./b", "a/b c", "a\\b", "é"] {
            assert!(key_segments(bad).is_err(), "{bad:?}");
        }
    }
}
