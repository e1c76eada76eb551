//! The storage interface's tests, each run against the filesystem and the memory backend:
//! the object storage contract, content-addressed blobs, and upload sessions (on SQLite),
//! including two "processes" (two `Sessions`) continuing one session from the midstate in
//! the database without reading any part again.
#![allow(clippy::unwrap_used)]

use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use futures_util::{Stream, StreamExt};
use govstore_core::Digest;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use super::fs::FsStorage;
use super::memory::MemoryStorage;
use super::midstate::ResumableSha256;
use super::object::{ByteStream, ObjectMeta, ObjectReader, ObjectWriter};
use super::sessions::Sessions;
use super::uploads::{Chunk, UploadError, Uploads};
use super::{BlobStore, ObjectStorage};

/// A backend under test and what keeps it alive.
struct Backend {
    objects: Arc<dyn ObjectStorage>,
    dir: Option<tempfile::TempDir>,
}

fn backends() -> Vec<Backend> {
    let dir = tempfile::tempdir().unwrap();
    vec![
        Backend {
            objects: Arc::new(FsStorage::open(dir.path(), &["blobs/sha256", "uploads"]).unwrap()),
            dir: Some(dir),
        },
        Backend {
            objects: Arc::new(MemoryStorage::new()),
            dir: None,
        },
    ]
}

/// An object storage that counts reads (`get`, `reader`) of upload parts, to show that
/// sessions never read their parts back to hash them.
#[derive(Debug)]
struct CountingStorage {
    inner: Arc<dyn ObjectStorage>,
    part_reads: AtomicUsize,
}

impl CountingStorage {
    fn new(inner: Arc<dyn ObjectStorage>) -> Arc<Self> {
        Arc::new(Self {
            inner,
            part_reads: AtomicUsize::new(0),
        })
    }

    fn count(&self, key: &str) {
        if key.starts_with("uploads/") {
            self.part_reads.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn part_reads(&self) -> usize {
        self.part_reads.load(Ordering::SeqCst)
    }
}

impl ObjectStorage for CountingStorage {
    fn create<'a>(
        &'a self,
        key: &'a str,
        prefix: &'a [String],
    ) -> BoxFuture<'a, std::io::Result<Box<dyn ObjectWriter>>> {
        self.inner.create(key, prefix)
    }
    fn head<'a>(&'a self, key: &'a str) -> BoxFuture<'a, std::io::Result<Option<u64>>> {
        self.inner.head(key)
    }
    fn get<'a>(&'a self, key: &'a str, offset: u64, len: u64) -> BoxFuture<'a, std::io::Result<Option<ByteStream>>> {
        self.count(key);
        self.inner.get(key, offset, len)
    }
    fn reader<'a>(&'a self, key: &'a str) -> BoxFuture<'a, std::io::Result<Option<(ObjectReader, u64)>>> {
        self.count(key);
        self.inner.reader(key)
    }
    fn rename<'a>(&'a self, from: &'a str, to: &'a str) -> BoxFuture<'a, std::io::Result<()>> {
        self.inner.rename(from, to)
    }
    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, std::io::Result<()>> {
        self.inner.delete(key)
    }
    fn delete_prefix<'a>(&'a self, prefix: &'a str) -> BoxFuture<'a, std::io::Result<()>> {
        self.inner.delete_prefix(prefix)
    }
    fn list<'a>(&'a self, prefix: &'a str) -> BoxFuture<'a, std::io::Result<Vec<ObjectMeta>>> {
        self.inner.list(prefix)
    }
    fn remove_abandoned(&self, older_than: Duration) -> BoxFuture<'_, std::io::Result<usize>> {
        self.inner.remove_abandoned(older_than)
    }
}

/// Replace a session's stored hash state (as a session from before it was kept has none).
async fn set_hash_state(db: &DatabaseConnection, id: &uuid::Uuid, state: Option<Vec<u8>>) {
    use crate::db::entities::uploads;
    uploads::Entity::update_many()
        .col_expr(uploads::Column::HashState, state.into())
        .filter(uploads::Column::Id.eq(id.to_string()))
        .exec(db)
        .await
        .unwrap();
}

fn body(parts: &[&[u8]]) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    let frames: Vec<Result<Bytes, std::io::Error>> = parts.iter().map(|p| Ok(Bytes::copy_from_slice(p))).collect();
    futures_util::stream::iter(frames)
}

fn broken(first: &[u8]) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    futures_util::stream::iter(vec![
        Ok(Bytes::copy_from_slice(first)),
        Err(std::io::Error::other("connection reset")),
    ])
}

async fn read_all(objects: &dyn ObjectStorage, key: &str, offset: u64, len: u64) -> std::io::Result<Vec<u8>> {
    let mut s = objects.get(key, offset, len).await?.unwrap();
    let mut out = Vec::new();
    while let Some(b) = s.next().await {
        out.extend_from_slice(&b?);
    }
    Ok(out)
}

/// Files in the fs backend's staging directory (writes in progress or abandoned).
fn staging_files(b: &Backend) -> usize {
    b.dir
        .as_ref()
        .map_or(0, |d| std::fs::read_dir(d.path().join("staging")).unwrap().count())
}

#[tokio::test]
async fn objects_appear_whole_on_commit_and_are_create_only() {
    for b in backends() {
        let o = &*b.objects;
        let mut w = o.create("a/b/c", &[]).await.unwrap();
        w.write(Bytes::from_static(b"hello ")).await.unwrap();
        w.write(Bytes::from_static(b"world")).await.unwrap();
        assert_eq!(o.head("a/b/c").await.unwrap(), None, "{o:?}: invisible before commit");
        assert_eq!(w.commit().await.unwrap(), 11);
        assert_eq!(o.head("a/b/c").await.unwrap(), Some(11));
        assert_eq!(read_all(o, "a/b/c", 0, 11).await.unwrap(), b"hello world");
        assert_eq!(read_all(o, "a/b/c", 6, 3).await.unwrap(), b"wor");
        assert!(
            read_all(o, "a/b/c", 6, 10).await.is_err(),
            "{o:?}: a range past the end fails"
        );
        assert!(o.get("a/b/missing", 0, 1).await.unwrap().is_none());

        // A second commit to the key keeps the first object.
        let mut w = o.create("a/b/c", &[]).await.unwrap();
        w.write(Bytes::from_static(b"other")).await.unwrap();
        w.commit().await.unwrap();
        assert_eq!(read_all(o, "a/b/c", 0, 11).await.unwrap(), b"hello world");

        // Aborted and dropped writers leave nothing.
        let mut w = o.create("x/aborted", &[]).await.unwrap();
        w.write(Bytes::from_static(b"gone")).await.unwrap();
        w.abort().await.unwrap();
        let mut w = o.create("x/dropped", &[]).await.unwrap();
        w.write(Bytes::from_static(b"gone")).await.unwrap();
        drop(w);
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(o.head("x/aborted").await.unwrap(), None);
        assert_eq!(o.head("x/dropped").await.unwrap(), None);
        assert_eq!(staging_files(&b), 0, "{o:?}: temporaries are removed");

        let (mut r, len) = o.reader("a/b/c").await.unwrap().unwrap();
        let mut s = String::new();
        r.read_to_string(&mut s).unwrap();
        assert_eq!((s.as_str(), len), ("hello world", 11));
        assert!(o.reader("nope").await.unwrap().is_none());

        assert!(o.create("../escape", &[]).await.is_err());
        assert!(o.head("a//b").await.is_err());
    }
}

#[tokio::test]
async fn concatenation_rename_delete_and_list() {
    for b in backends() {
        let o = &*b.objects;
        for (k, v) in [("p/s/0", "abc"), ("p/s/1", "def"), ("p/t/0", "xyz")] {
            let mut w = o.create(k, &[]).await.unwrap();
            w.write(Bytes::from(v)).await.unwrap();
            w.commit().await.unwrap();
        }
        let mut w = o.create("joined", &["p/s/0".into(), "p/s/1".into()]).await.unwrap();
        w.write(Bytes::from_static(b"!")).await.unwrap();
        assert_eq!(w.commit().await.unwrap(), 7);
        assert_eq!(read_all(o, "joined", 0, 7).await.unwrap(), b"abcdef!");
        // A missing prefix object fails the write.
        let failed = async {
            let mut w = o.create("bad", &["p/none".into()]).await?;
            w.write(Bytes::from_static(b"x")).await?;
            w.commit().await
        }
        .await;
        assert!(failed.is_err(), "{o:?}");
        assert_eq!(o.head("bad").await.unwrap(), None);

        let mut keys: Vec<String> = o.list("p").await.unwrap().into_iter().map(|m| m.key).collect();
        keys.sort();
        assert_eq!(keys, ["p/s/0", "p/s/1", "p/t/0"]);
        assert!(o.list("nothing").await.unwrap().is_empty());

        o.rename("p/t/0", "moved/here").await.unwrap();
        assert_eq!(o.head("p/t/0").await.unwrap(), None);
        assert_eq!(read_all(o, "moved/here", 0, 3).await.unwrap(), b"xyz");
        // Renaming onto an existing key keeps it and removes the source.
        o.rename("p/s/0", "moved/here").await.unwrap();
        assert_eq!(o.head("p/s/0").await.unwrap(), None);
        assert_eq!(read_all(o, "moved/here", 0, 3).await.unwrap(), b"xyz");
        assert!(o.rename("p/none", "else").await.is_err());

        o.delete_prefix("p").await.unwrap();
        assert!(o.list("p").await.unwrap().is_empty());
        o.delete("moved/here").await.unwrap();
        o.delete("moved/here").await.unwrap();
        assert_eq!(o.head("moved/here").await.unwrap(), None);
        assert_eq!(o.remove_abandoned(Duration::ZERO).await.unwrap(), 0);
    }
}

#[tokio::test]
async fn blobs_are_stored_only_under_their_digest() {
    for b in backends() {
        let store = BlobStore::new(b.objects.clone());
        let data = vec![5u8; 300_000];
        let d = Digest::of(&data);
        let size = store
            .put(&d, body(&[&data[..1000], &data[1000..]]), 1 << 20)
            .await
            .unwrap();
        assert_eq!(size, 300_000);
        assert_eq!(store.size(&d).await.unwrap(), Some(300_000));
        let mut s = store.get(&d, 299_990, 10).await.unwrap().unwrap();
        assert_eq!(&s.next().await.unwrap().unwrap()[..], &[5u8; 10]);
        let mut all = Vec::new();
        store
            .open_reader(&d)
            .await
            .unwrap()
            .unwrap()
            .read_to_end(&mut all)
            .unwrap();
        assert_eq!(all, data);

        // A wrong digest, an oversized body and a broken body store nothing.
        let other = Digest::of(b"other");
        let e = store.put(&other, body(&[b"not other"]), 100).await.unwrap_err();
        assert!(matches!(e, UploadError::DigestMismatch { ref actual, .. } if *actual == Digest::of(b"not other")));
        let e = store.put(&other, body(&[&[0u8; 101]]), 100).await.unwrap_err();
        assert!(matches!(e, UploadError::TooLarge { limit: 100 }), "{e:?}");
        let e = store.put(&other, broken(b"oth"), 100).await.unwrap_err();
        assert!(matches!(e, UploadError::Body(_)), "{e:?}");
        assert_eq!(store.size(&other).await.unwrap(), None);
        assert_eq!(staging_files(&b), 0);

        let small = store.put_small(b"{}".to_vec()).await.unwrap();
        assert_eq!(small, Digest::of(b"{}"));
        assert_eq!(store.put_small(b"{}".to_vec()).await.unwrap(), small);
        assert_eq!(store.read_small(&small, 2).await.unwrap().unwrap(), b"{}");
        assert!(store.read_small(&small, 1).await.is_err());
        assert!(store.read_small(&other, 10).await.unwrap().is_none());

        store.delete(&small).await.unwrap();
        assert_eq!(store.size(&small).await.unwrap(), None);
    }
}

/// A database with the schema (SQLite in a temp dir) and a repository row.
async fn database(dir: &std::path::Path) -> (DatabaseConnection, i64) {
    let url = format!("sqlite://{}?mode=rwc", dir.join("t.db").display());
    let db = crate::db::Db::connect(&url).await.unwrap();
    let repo = crate::db::repositories::ensure(&db.write, &"t/r".parse().unwrap())
        .await
        .unwrap();
    (db.write, repo)
}

fn chunk_at(start: u64, len: u64) -> Chunk {
    Chunk {
        start: Some(start),
        len: Some(len),
        content_length: Some(len),
        empty: false,
    }
}

const CLOSE: Chunk = Chunk {
    start: None,
    len: None,
    content_length: Some(0),
    empty: true,
};

async fn part_objects(store: &BlobStore, id: &uuid::Uuid) -> usize {
    store.objects().list(&format!("uploads/{id}")).await.unwrap().len()
}

#[tokio::test]
async fn sessions_continue_on_another_process_and_refused_chunks_change_nothing() {
    let dbdir = tempfile::tempdir().unwrap();
    let (db, repo) = database(dbdir.path()).await;
    for b in backends() {
        let counting = CountingStorage::new(b.objects.clone());
        let store = BlobStore::new(counting.clone());
        // Two processes: their own session locks, the same database and storage.
        let (one, two) = (Sessions::default(), Sessions::default());
        let on = |sessions| Uploads {
            blobs: &store,
            sessions,
            db: &db,
            max_blob_bytes: 1 << 20,
        };
        let data: Vec<u8> = (0..40_000u32).map(|i| (i * 31 % 251) as u8).collect();
        let id = on(&one).open(repo).await.unwrap();

        assert_eq!(
            on(&one)
                .append(&id, chunk_at(0, 10_000), body(&[&data[..10_000]]))
                .await
                .unwrap(),
            10_000
        );
        // The next chunk reaches the other process, which goes on from the stored midstate.
        assert_eq!(
            on(&two)
                .append(&id, chunk_at(10_000, 10_000), body(&[&data[10_000..20_000]]))
                .await
                .unwrap(),
            20_000
        );
        // Refused chunks, on either process: out of order, broken, short, too large.
        let e = on(&one)
            .append(&id, chunk_at(0, 10), body(&[&data[..10]]))
            .await
            .unwrap_err();
        assert!(
            matches!(
                e,
                UploadError::OutOfOrder {
                    start: 0,
                    received: 20_000
                }
            ),
            "{e:?}"
        );
        let e = on(&one)
            .append(&id, Chunk::default(), broken(&data[20_000..25_000]))
            .await
            .unwrap_err();
        assert!(matches!(e, UploadError::Body(_)), "{e:?}");
        let e = on(&two)
            .append(&id, chunk_at(20_000, 10_000), body(&[&data[20_000..25_000]]))
            .await
            .unwrap_err();
        assert!(matches!(e, UploadError::LengthMismatch), "{e:?}");
        let e = on(&two)
            .append(&id, chunk_at(20_000, 5), body(&[&data[20_000..20_010]]))
            .await
            .unwrap_err();
        assert!(matches!(e, UploadError::LengthMismatch), "{e:?}");
        let small = Uploads {
            max_blob_bytes: 25_000,
            ..on(&two)
        };
        let e = small
            .append(&id, Chunk::default(), body(&[&data[20_000..]]))
            .await
            .unwrap_err();
        assert!(matches!(e, UploadError::TooLarge { limit: 25_000 }), "{e:?}");
        assert_eq!(
            crate::db::uploads::find(&db, &id.to_string())
                .await
                .unwrap()
                .unwrap()
                .received,
            20_000,
            "refused chunks change nothing"
        );
        assert_eq!(part_objects(&store, &id).await, 2, "and leave no part");
        assert_eq!(staging_files(&b), 0);

        // The first process took the chunk to 10,000 only; it goes on at 20,000 all the same.
        assert_eq!(
            on(&one)
                .append(&id, Chunk::default(), body(&[&data[20_000..30_000]]))
                .await
                .unwrap(),
            30_000
        );
        // The other process finishes with the last chunk in the PUT.
        let d = Digest::of(&data);
        let size = on(&two)
            .finish(&id, chunk_at(30_000, 10_000), body(&[&data[30_000..]]), &d)
            .await
            .unwrap();
        assert_eq!(size, 40_000);
        assert_eq!(counting.part_reads(), 0, "no part was read back to hash it");
        let mut got = Vec::new();
        store
            .open_reader(&d)
            .await
            .unwrap()
            .unwrap()
            .read_to_end(&mut got)
            .unwrap();
        assert_eq!(got, data);
        assert_eq!(part_objects(&store, &id).await, 0, "parts are removed");
        assert!(
            crate::db::uploads::parts(&db, &id.to_string())
                .await
                .unwrap()
                .is_empty()
        );
        let e = on(&one)
            .append(&id, Chunk::default(), body(&[b"late"]))
            .await
            .unwrap_err();
        assert!(matches!(e, UploadError::Unknown), "{e:?}");
    }
}

#[tokio::test]
async fn closing_sessions_single_part_many_parts_none_and_wrong_digest() {
    let dbdir = tempfile::tempdir().unwrap();
    let (db, repo) = database(dbdir.path()).await;
    for b in backends() {
        let store = BlobStore::new(b.objects.clone());
        let sessions = Sessions::default();
        let other = Sessions::default();
        let up = Uploads {
            blobs: &store,
            sessions: &sessions,
            db: &db,
            max_blob_bytes: 1 << 20,
        };
        let elsewhere = Uploads { sessions: &other, ..up };
        // One part, closed by an empty PUT (a rename), on another process.
        let one = b"a single chunk".to_vec();
        let id = up.open(repo).await.unwrap();
        up.append(&id, Chunk::default(), body(&[&one])).await.unwrap();
        let d = Digest::of(&one);
        assert_eq!(
            elsewhere.finish(&id, CLOSE, body(&[]), &d).await.unwrap(),
            one.len() as u64
        );
        assert_eq!(store.read_small(&d, 100).await.unwrap().unwrap(), one);

        // Several parts, closed by an empty PUT (a concatenation).
        let id = up.open(repo).await.unwrap();
        for c in [&b"ab"[..], b"cd", b"ef"] {
            up.append(&id, Chunk::default(), body(&[c])).await.unwrap();
        }
        let d = Digest::of(b"abcdef");
        up.finish(&id, CLOSE, body(&[]), &d).await.unwrap();
        assert_eq!(store.read_small(&d, 100).await.unwrap().unwrap(), b"abcdef");

        // No part at all: the empty blob.
        let id = up.open(repo).await.unwrap();
        let d = Digest::of(b"");
        assert_eq!(up.finish(&id, CLOSE, body(&[]), &d).await.unwrap(), 0);
        assert_eq!(store.size(&d).await.unwrap(), Some(0));

        // A broken last chunk leaves the session; a wrong digest removes it.
        let id = up.open(repo).await.unwrap();
        up.append(&id, Chunk::default(), body(&[b"hello"])).await.unwrap();
        let e = up
            .finish(&id, Chunk::default(), broken(b" wor"), &Digest::of(b"hello world"))
            .await
            .unwrap_err();
        assert!(matches!(e, UploadError::Body(_)), "{e:?}");
        assert_eq!(
            crate::db::uploads::find(&db, &id.to_string())
                .await
                .unwrap()
                .unwrap()
                .received,
            5
        );
        let wrong = Digest::of(b"goodbye");
        let e = up
            .finish(&id, Chunk::default(), body(&[b" world"]), &wrong)
            .await
            .unwrap_err();
        assert!(matches!(e, UploadError::DigestMismatch { .. }), "{e:?}");
        assert_eq!(store.size(&wrong).await.unwrap(), None);
        assert_eq!(store.size(&Digest::of(b"hello world")).await.unwrap(), None);
        assert!(crate::db::uploads::find(&db, &id.to_string()).await.unwrap().is_none());
        assert_eq!(part_objects(&store, &id).await, 0);
        assert_eq!(staging_files(&b), 0);
    }
}

/// A body that sends `first`, then waits for `go` before sending `rest`.
fn gated(
    first: Vec<u8>,
    rest: Vec<u8>,
    go: tokio::sync::oneshot::Receiver<()>,
) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    futures_util::stream::once(async move { Ok(Bytes::from(first)) }).chain(futures_util::stream::once(async move {
        let _ = go.await;
        Ok(Bytes::from(rest))
    }))
}

#[tokio::test]
async fn two_processes_appending_at_one_offset_cannot_both_win() {
    let dbdir = tempfile::tempdir().unwrap();
    let (db, repo) = database(dbdir.path()).await;
    for b in backends() {
        let store = BlobStore::new(b.objects.clone());
        let (one, two) = (Sessions::default(), Sessions::default());
        let on = |sessions| Uploads {
            blobs: &store,
            sessions,
            db: &db,
            max_blob_bytes: 1 << 20,
        };
        let id = on(&one).open(repo).await.unwrap();
        on(&one).append(&id, Chunk::default(), body(&[b"head-"])).await.unwrap();

        // Process one starts a chunk at 5 and stalls; process two appends at 5 meanwhile.
        let (go, gate) = tokio::sync::oneshot::channel();
        let first = on(&one);
        let slow = first.append(&id, chunk_at(5, 7), gated(b"one".to_vec(), b"-one".to_vec(), gate));
        let fast = async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let r = on(&two).append(&id, chunk_at(5, 7), body(&[b"two-two"])).await;
            go.send(()).unwrap();
            r
        };
        let (slow, fast) = tokio::join!(slow, fast);
        assert_eq!(fast.unwrap(), 12);
        let e = slow.unwrap_err();
        assert!(matches!(e, UploadError::Conflict { received: 12 }), "{e:?}");
        assert_eq!(part_objects(&store, &id).await, 2, "the loser's part is removed");

        let d = Digest::of(b"head-two-two");
        on(&one).finish(&id, CLOSE, body(&[]), &d).await.unwrap();
        assert_eq!(store.read_small(&d, 100).await.unwrap().unwrap(), b"head-two-two");
    }
}

#[tokio::test]
async fn expiry_removes_sessions_parts_and_old_orphans() {
    let dbdir = tempfile::tempdir().unwrap();
    let (db, repo) = database(dbdir.path()).await;
    for b in backends() {
        let store = BlobStore::new(b.objects.clone());
        let sessions = Sessions::default();
        let up = Uploads {
            blobs: &store,
            sessions: &sessions,
            db: &db,
            max_blob_bytes: 1 << 20,
        };
        let idle = up.open(repo).await.unwrap();
        up.append(&idle, Chunk::default(), body(&[b"abc"])).await.unwrap();
        // An orphan part (its session row is gone, as after a crash) and a fresh one.
        for key in ["uploads/0d5e0d6e-0000-4000-8000-000000000001/p", "uploads/fresh/p"] {
            let mut w = store.objects().create(key, &[]).await.unwrap();
            w.write(Bytes::from_static(b"x")).await.unwrap();
            w.commit().await.unwrap();
        }
        if let Some(dir) = &b.dir {
            // Age the orphan on disk by two hours.
            let old = std::time::SystemTime::now() - Duration::from_secs(7200);
            let f = std::fs::File::options()
                .write(true)
                .open(dir.path().join("uploads/0d5e0d6e-0000-4000-8000-000000000001/p"))
                .unwrap();
            f.set_modified(old).unwrap();
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
        assert_eq!(up.expire(Duration::ZERO).await.unwrap(), 1);
        assert!(
            crate::db::uploads::find(&db, &idle.to_string())
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(part_objects(&store, &idle).await, 0);
        let left: Vec<String> = store
            .objects()
            .list("uploads")
            .await
            .unwrap()
            .into_iter()
            .map(|m| m.key)
            .collect();
        if b.dir.is_some() {
            assert_eq!(left, ["uploads/fresh/p"], "old orphans go, young ones stay");
        } else {
            assert_eq!(left.len(), 2, "in memory everything is young");
        }
    }
}

#[tokio::test]
async fn sessions_without_a_usable_midstate_rehash_their_parts_once() {
    let dbdir = tempfile::tempdir().unwrap();
    let (db, repo) = database(dbdir.path()).await;
    for b in backends() {
        let counting = CountingStorage::new(b.objects.clone());
        let store = BlobStore::new(counting.clone());
        let (one, two) = (Sessions::default(), Sessions::default());
        let on = |sessions| Uploads {
            blobs: &store,
            sessions,
            db: &db,
            max_blob_bytes: 1 << 20,
        };
        let data: Vec<u8> = (0..30_000u32).map(|i| (i * 7 % 253) as u8).collect();
        let id = on(&one).open(repo).await.unwrap();
        on(&one)
            .append(&id, chunk_at(0, 10_000), body(&[&data[..4_000], &data[4_000..10_000]]))
            .await
            .unwrap();
        let row = crate::db::uploads::find(&db, &id.to_string()).await.unwrap().unwrap();
        let stored = ResumableSha256::from_bytes(row.hash_state.as_deref().unwrap()).unwrap();
        assert_eq!(stored.len(), 10_000, "the midstate covers exactly `received`");

        // No state (a session from before the column): the parts are rehashed once...
        set_hash_state(&db, &id, None).await;
        on(&two)
            .append(&id, chunk_at(10_000, 10_000), body(&[&data[10_000..20_000]]))
            .await
            .unwrap();
        assert_eq!(counting.part_reads(), 1, "the one earlier part was read");
        // ...and a state that does not cover `received` is not trusted either.
        set_hash_state(&db, &id, Some(stored.to_bytes())).await;
        on(&one)
            .append(&id, chunk_at(20_000, 5_000), body(&[&data[20_000..25_000]]))
            .await
            .unwrap();
        assert_eq!(counting.part_reads(), 3, "both earlier parts were read");
        // Nor does a malformed one.
        set_hash_state(&db, &id, Some(vec![1, 2, 3])).await;
        let d = Digest::of(&data);
        let before = counting.part_reads();
        on(&two)
            .finish(&id, chunk_at(25_000, 5_000), body(&[&data[25_000..]]), &d)
            .await
            .unwrap();
        assert_eq!(counting.part_reads(), before + 3);
        assert_eq!(store.read_small(&d, 1 << 20).await.unwrap().unwrap(), data);

        // After a rehash the state is stored again: the next process reads nothing.
        let id = on(&one).open(repo).await.unwrap();
        on(&one).append(&id, Chunk::default(), body(&[b"abc"])).await.unwrap();
        set_hash_state(&db, &id, None).await;
        on(&two).append(&id, Chunk::default(), body(&[b"def"])).await.unwrap();
        let before = counting.part_reads();
        on(&one).append(&id, Chunk::default(), body(&[b"ghi"])).await.unwrap();
        let d = Digest::of(b"abcdefghi");
        on(&two).finish(&id, CLOSE, body(&[]), &d).await.unwrap();
        assert_eq!(counting.part_reads(), before, "the rehash stored the midstate");
        assert_eq!(store.read_small(&d, 100).await.unwrap().unwrap(), b"abcdefghi");
    }
}
