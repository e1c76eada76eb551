//! Chunked upload sessions, with their state in the database and their bytes in
//! immutable part objects, so that any process sharing the database and the object
//! storage can continue or finish any session.
//!
//! **What the database holds** (`uploads` and `upload_parts`): per session its repository,
//! `received` (bytes accepted so far), `hash_state` (the SHA-256 midstate over those
//! bytes, see [`super::midstate`]) and `updated_at`; per accepted chunk one part row
//! (index, object key `uploads/<session>/<random>`, byte offset, length). The parts' lengths
//! always add up to `received`, and `hash_state` always covers exactly `received` bytes:
//! all change in one transaction.
//!
//! **A chunk** (PATCH) streams into a new part object through an [`ObjectWriter`], hashed
//! on the way, starting from the row's midstate. If the body breaks, overruns or does not
//! match its `Content-Range`, the writer is aborted: no part, no change, nothing to
//! truncate. Otherwise the part is committed (durable: fsync, rename, fsync directory) and
//! then recorded with a compare-and-set, `UPDATE uploads SET received = new, hash_state =
//! midstate WHERE id = ? AND received = old` plus the part row, in one transaction. Two
//! processes appending at the same offset cannot both win: the loser removes its part and
//! answers 416 with the session's range. So `received` never counts a byte that is not
//! durably in a committed part, and the stored midstate always covers exactly `received`.
//!
//! **Finishing** (PUT) streams the optional last chunk straight into the blob's writer,
//! after the session's parts (a server-side concatenation, `copy_file_range` on the
//! filesystem), and commits it under the digest only if the hash matches. With no last
//! chunk and a single part (the usual PATCH-then-PUT) the part is renamed into place, no
//! copy. The blob is recorded and linked, then the session row, part rows and part objects
//! are removed (in that order, so a crash leaves orphan objects, never a row without its
//! part; orphans are swept by [`Uploads::expire`]). A crash between that rename and the
//! removal of the session leaves a session that can no longer be closed (its part is now
//! the blob); it expires, and the client uploads again.
//!
//! **The hash.** SHA-256 cannot be continued from per-part digests, only from its
//! midstate (eight state words, the length and the tail of under one block), which
//! [`ResumableSha256`] keeps over `sha2`'s compression function and encodes in at most 105
//! bytes. Each accepted chunk stores the midstate after it in the row, with `received`, so
//! whichever process takes the next chunk or the PUT loads it with the session and goes on:
//! no part is read again, on any process, and the final digest costs one padding block.
//! Nothing about the hash is kept in memory between requests. The only re-read left is a
//! fallback: a session with bytes but no usable midstate (opened before the
//! `hash_state` column existed, or a state that does not decode or does not cover exactly
//! `received` bytes) has its committed parts rehashed from the object storage, alongside
//! the new chunk, and stores the midstate from then on. Correctness never depends on the
//! stored state being trusted blindly: the blob is committed only if the hash of the
//! session's bytes plus the last chunk equals the digest the client named, and a state is
//! used only if it covers exactly the parts' length.
//!
//! **Locking.** Within a process a per-session mutex ([`super::sessions::Sessions`])
//! orders the chunks of one session (a chunk waiting behind another sees its outcome and
//! appends after it). Between processes the compare-and-set decides.

use std::collections::{HashMap, HashSet};
use std::io;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures_util::Stream;
use govstore_core::Digest;
use sea_orm::{DatabaseConnection, DbErr};
use uuid::Uuid;

use super::BlobStore;
use super::ingest::{self, HashStart, IngestError, ingest};
use super::midstate::ResumableSha256;
use super::object::ObjectWriter;
use super::sessions::Sessions;
use crate::db;
use crate::db::entities::upload_parts;

/// Objects of sessions no database row owns are removed once they are this old (a
/// monolithic upload has no row while it streams, and a session may be committing its
/// first part while the sweep lists).
const ORPHAN_AGE: Duration = Duration::from_secs(3600);

#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("the blob exceeds the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("the request body ended early: {0}")]
    Body(String),
    #[error("the content's digest is {actual}, not {expected}")]
    DigestMismatch { expected: Digest, actual: Digest },
    #[error("no such upload session")]
    Unknown,
    #[error("the chunk starts at {start} but the upload has {received} bytes")]
    OutOfOrder { start: u64, received: u64 },
    #[error("the chunk's length does not match its Content-Range")]
    LengthMismatch,
    #[error("another request appended to the upload first; it has {received} bytes")]
    Conflict { received: u64 },
    #[error("storage: {0}")]
    Io(#[from] io::Error),
    #[error("database: {0}")]
    Db(#[from] DbErr),
}

impl UploadError {
    /// An ingest failure of a body allowed `limit` bytes.
    pub(crate) fn from_ingest(e: IngestError, limit: u64) -> Self {
        match e {
            IngestError::TooLarge { .. } => Self::TooLarge { limit },
            IngestError::Body(msg) => Self::Body(msg),
            IngestError::Io(e) => Self::Io(e),
        }
    }
}

/// What a request says about its chunk.
#[derive(Debug, Clone, Copy, Default)]
pub struct Chunk {
    /// Where it starts (`Content-Range`); `None` appends at the end.
    pub start: Option<u64>,
    /// Its length by `Content-Range`; the body must have exactly this many bytes.
    pub len: Option<u64>,
    /// The body's `Content-Length`, to refuse an oversized chunk before reading it.
    pub content_length: Option<u64>,
    /// The body is known to be empty (a PUT that only closes the session).
    pub empty: bool,
}

/// Upload sessions over a blob store, the in-process session locks and the database.
#[derive(Debug, Clone, Copy)]
pub struct Uploads<'a> {
    pub blobs: &'a BlobStore,
    pub sessions: &'a Sessions,
    pub db: &'a DatabaseConnection,
    /// The largest blob a session may build.
    pub max_blob_bytes: u64,
}

/// A session as the database has it.
#[derive(Debug)]
struct Loaded {
    repository_id: i64,
    received: u64,
    /// The encoded midstate over the first `received` bytes, if the row has one.
    hash_state: Option<Vec<u8>>,
    parts: Vec<upload_parts::Model>,
}

/// The object key of a new part of `session`.
fn part_key(session: &str) -> String {
    format!("uploads/{session}/{}", Uuid::new_v4().simple())
}

/// Discard a writer, logging (not failing on) a storage error: the request already fails.
pub(crate) async fn abort(writer: Box<dyn ObjectWriter>) {
    if let Err(e) = writer.abort().await {
        tracing::warn!(error = %e, "could not discard an object being written");
    }
}

impl Uploads<'_> {
    /// Open a session in a repository.
    pub async fn open(&self, repository_id: i64) -> Result<Uuid, DbErr> {
        let id = Uuid::new_v4();
        db::uploads::create(self.db, &id.to_string(), repository_id).await?;
        Ok(id)
    }

    /// The session's row and parts, read consistently.
    async fn load(&self, id: &str) -> Result<Loaded, UploadError> {
        for _ in 0..5 {
            let row = db::uploads::find(self.db, id).await?.ok_or(UploadError::Unknown)?;
            let parts = db::uploads::parts(self.db, id).await?;
            let sum: i64 = parts.iter().map(|p| p.length).sum();
            if sum == row.received {
                return Ok(Loaded {
                    repository_id: row.repository_id,
                    received: row.received as u64,
                    hash_state: row.hash_state,
                    parts,
                });
            }
            // Another process recorded a part between the two reads: read again.
        }
        Err(io::Error::other(format!("the parts of upload {id} do not add up to its length")).into())
    }

    /// Check a chunk against the session; the most bytes its body may have.
    fn limit(&self, received: u64, chunk: &Chunk) -> Result<u64, UploadError> {
        if let Some(start) = chunk.start
            && start != received
        {
            return Err(UploadError::OutOfOrder { start, received });
        }
        let room = self.max_blob_bytes.saturating_sub(received);
        if chunk.content_length.is_some_and(|cl| cl > room) || chunk.len.is_some_and(|l| l > room) {
            return Err(UploadError::TooLarge {
                limit: self.max_blob_bytes,
            });
        }
        if chunk.empty && chunk.len.is_some_and(|l| l > 0) {
            return Err(UploadError::LengthMismatch);
        }
        Ok(chunk.len.unwrap_or(room))
    }

    /// An ingest failure of a chunk: a body longer than its declared range is a length
    /// mismatch, longer than the room left in the blob is too large.
    fn chunk_error(&self, e: IngestError, chunk: &Chunk) -> UploadError {
        match e {
            IngestError::TooLarge { .. } if chunk.len.is_some() => UploadError::LengthMismatch,
            e => UploadError::from_ingest(e, self.max_blob_bytes),
        }
    }

    /// Where the hash of the session's next bytes starts: the midstate stored with the
    /// session if it covers exactly its `received` bytes, else (a session from before the
    /// midstate was stored) a rehash of the committed parts.
    fn hash_start(&self, sid: &str, l: &Loaded) -> HashStart {
        if l.received == 0 {
            return HashStart::Known(ResumableSha256::new());
        }
        if let Some(bytes) = &l.hash_state {
            match ResumableSha256::from_bytes(bytes) {
                Ok(h) if h.len() == l.received => return HashStart::Known(h),
                Ok(h) => tracing::warn!(
                    upload = sid,
                    state = h.len(),
                    received = l.received,
                    "an upload's hash state does not cover its length; rehashing its parts"
                ),
                Err(e) => tracing::warn!(upload = sid, error = %e, "rehashing an upload's parts"),
            }
        }
        tracing::debug!(bytes = l.received, parts = l.parts.len(), "rehashing an upload's parts");
        HashStart::Rehash {
            objects: self.blobs.shared_objects(),
            parts: l
                .parts
                .iter()
                .map(|p| (p.object_key.clone(), p.length as u64))
                .collect(),
        }
    }

    /// Append a chunk to a session. Returns the session's new length. A refused or broken
    /// chunk changes nothing.
    pub async fn append<S, E>(&self, id: &Uuid, chunk: Chunk, body: S) -> Result<u64, UploadError>
    where
        S: Stream<Item = Result<Bytes, E>> + Send,
        E: std::fmt::Display,
    {
        let sid = id.to_string();
        let lock = self.sessions.get(&sid);
        let _guard = lock.lock().await;
        let l = self.load(&sid).await?;
        let limit = self.limit(l.received, &chunk)?;
        let start = self.hash_start(&sid, &l);
        let key = part_key(&sid);
        let objects = self.blobs.objects();
        let mut writer = objects.create(&key, &[]).await?;
        let done = match ingest(body, writer.as_mut(), start, limit).await {
            Ok(done) => done,
            Err(e) => {
                abort(writer).await;
                return Err(self.chunk_error(e, &chunk));
            }
        };
        if chunk.len.is_some_and(|d| d != done.written) {
            abort(writer).await;
            return Err(UploadError::LengthMismatch);
        }
        if done.written == 0 {
            abort(writer).await;
            return Ok(l.received);
        }
        writer.commit().await?;
        let total = l.received + done.written;
        let index = l.parts.len() as i32;
        let part = db::uploads::NewPart {
            index,
            offset: l.received,
            length: done.written,
            object_key: &key,
            hash_state: &done.hasher.to_bytes(),
        };
        if db::uploads::add_part(self.db, &sid, part).await? {
            return Ok(total);
        }
        // Another process appended (or finished, or cancelled) first.
        objects.delete(&key).await?;
        let Some(now) = db::uploads::find(self.db, &sid).await? else {
            // Gone: its objects may have been removed before this part was committed.
            objects.delete_prefix(&format!("uploads/{sid}")).await?;
            self.sessions.forget(&sid);
            return Err(UploadError::Unknown);
        };
        Err(UploadError::Conflict {
            received: now.received as u64,
        })
    }

    /// Close a session with its optional last chunk: commit the blob if the whole upload's
    /// digest is `digest`, record it and link it to the session's repository, and remove
    /// the session. Returns the blob's size. A wrong digest removes the session; a broken
    /// or refused last chunk leaves it where it was.
    pub async fn finish<S, E>(&self, id: &Uuid, chunk: Chunk, body: S, digest: &Digest) -> Result<u64, UploadError>
    where
        S: Stream<Item = Result<Bytes, E>> + Send,
        E: std::fmt::Display,
    {
        let sid = id.to_string();
        let lock = self.sessions.get(&sid);
        let _guard = lock.lock().await;
        let l = self.load(&sid).await?;
        let limit = self.limit(l.received, &chunk)?;
        let start = self.hash_start(&sid, &l);
        let objects = self.blobs.objects();
        let key = BlobStore::blob_key(digest);
        let part_keys: Vec<String> = l.parts.iter().map(|p| p.object_key.clone()).collect();
        let size = if chunk.empty {
            let hasher = ingest::resolve(start).await?;
            self.check_digest(&sid, hasher, digest).await?;
            match part_keys.as_slice() {
                [one] => objects.rename(one, &key).await?,
                // Stored already (content-addressed: the same bytes): nothing to join.
                _ if objects.head(&key).await?.is_some() => {}
                parts => {
                    objects.create(&key, parts).await?.commit().await?;
                }
            }
            l.received
        } else {
            let mut writer = objects.create(&key, &part_keys).await?;
            let done = match ingest(body, writer.as_mut(), start, limit).await {
                Ok(done) => done,
                Err(e) => {
                    abort(writer).await;
                    return Err(self.chunk_error(e, &chunk));
                }
            };
            if chunk.len.is_some_and(|d| d != done.written) {
                abort(writer).await;
                return Err(UploadError::LengthMismatch);
            }
            if let Err(e) = self.check_digest(&sid, done.hasher, digest).await {
                abort(writer).await;
                return Err(e);
            }
            writer.commit().await?;
            l.received + done.written
        };
        db::blobs::record_and_link(self.db, l.repository_id, digest, size).await?;
        self.discard_locked(&sid).await?;
        Ok(size)
    }

    /// The upload's digest must be `digest`; if not, the session is removed.
    async fn check_digest(&self, sid: &str, hasher: ResumableSha256, digest: &Digest) -> Result<(), UploadError> {
        let actual = Digest::from_sha256(hasher.finalize());
        if &actual == digest {
            return Ok(());
        }
        self.discard_locked(sid).await?;
        Err(UploadError::DigestMismatch {
            expected: digest.clone(),
            actual,
        })
    }

    /// Abandon a session.
    pub async fn cancel(&self, id: &Uuid) -> Result<(), UploadError> {
        let sid = id.to_string();
        let lock = self.sessions.get(&sid);
        let _guard = lock.lock().await;
        self.discard_locked(&sid).await
    }

    /// Remove a session whose lock the caller holds: rows first, then objects.
    async fn discard_locked(&self, sid: &str) -> Result<(), UploadError> {
        db::uploads::delete(self.db, sid).await?;
        if let Ok(uuid) = Uuid::try_parse(sid) {
            self.blobs.objects().delete_prefix(&format!("uploads/{uuid}")).await?;
        }
        self.sessions.forget(sid);
        Ok(())
    }

    /// Remove sessions idle for longer than `ttl` with their parts, objects of sessions
    /// that no longer exist (left by a crash) and abandoned writes. Returns how many
    /// sessions expired.
    pub async fn expire(&self, ttl: Duration) -> Result<usize, UploadError> {
        let cutoff = crate::now_ms() - ttl.as_millis().min(i64::MAX as u128) as i64;
        let idle = db::uploads::idle_since(self.db, cutoff).await?;
        for id in &idle {
            let lock = self.sessions.get(id);
            let _guard = lock.lock().await;
            self.discard_locked(id).await?;
        }

        let live: HashSet<String> = db::uploads::all_ids(self.db).await?.into_iter().collect();
        // Sessions finished or cancelled by another process leave their state here.
        self.sessions.retain_live(&live);
        let objects = self.blobs.objects();
        let mut newest: HashMap<String, SystemTime> = HashMap::new();
        for o in objects.list("uploads").await? {
            let Some(session) = o.key.strip_prefix("uploads/").and_then(|k| k.split('/').next()) else {
                continue;
            };
            let t = newest.entry(session.to_owned()).or_insert(o.modified);
            *t = (*t).max(o.modified);
        }
        for (session, modified) in newest {
            let old = modified.elapsed().is_ok_and(|age| age > ORPHAN_AGE);
            if old && !live.contains(&session) {
                objects.delete_prefix(&format!("uploads/{session}")).await?;
            }
        }
        objects.remove_abandoned(ORPHAN_AGE).await?;
        Ok(idle.len())
    }
}
