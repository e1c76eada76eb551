//! Streaming a request body into an object while hashing it with a
//! [`ResumableSha256`], whose state an upload session stores after each chunk.
//!
//! The async side receives body frames and hands each one (a cheap reference-counted
//! `Bytes`) to a hashing thread over a bounded channel and to the object writer (whose
//! filesystem implementation has its own writer thread behind a bounded channel). So
//! receiving, hashing and writing overlap on separate cores, and no more than a few
//! frames are ever held in memory.

use std::io::{self, Read};
use std::sync::Arc;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};

use super::midstate::ResumableSha256;
use super::object::{ObjectReader, ObjectStorage, ObjectWriter};

/// Frames in flight between the network and the hashing thread.
const CHANNEL_FRAMES: usize = 64;

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("the request body is larger than the {limit} bytes allowed")]
    TooLarge { limit: u64 },
    #[error("the request body ended early: {0}")]
    Body(String),
    #[error("writing the upload: {0}")]
    Io(#[from] io::Error),
}

/// Where the hash of the new bytes starts.
pub enum HashStart {
    /// From this state (a fresh hasher, or the session's stored midstate).
    Known(ResumableSha256),
    /// From the hash of these objects `(key, length)` in `objects`, read in order, one
    /// open at a time (the fallback for a session with no stored midstate).
    Rehash {
        objects: Arc<dyn ObjectStorage>,
        parts: Vec<(String, u64)>,
    },
}

impl std::fmt::Debug for HashStart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Known(_) => f.write_str("HashStart::Known"),
            Self::Rehash { parts, .. } => write!(f, "HashStart::Rehash({} objects)", parts.len()),
        }
    }
}

/// The outcome of a successful ingest.
#[derive(Debug)]
pub struct Ingested {
    /// The hash of the start and everything received.
    pub hasher: ResumableSha256,
    /// Bytes of this body.
    pub written: u64,
}

/// Hash the objects `parts` in order, checking each has its recorded length. Blocking:
/// call it on a blocking thread of the runtime `rt` (it waits there for each object to open).
fn hash_parts(
    rt: &tokio::runtime::Handle,
    mut hasher: ResumableSha256,
    objects: &dyn ObjectStorage,
    parts: &[(String, u64)],
) -> io::Result<ResumableSha256> {
    let mut buf = vec![0u8; 1 << 20];
    for (key, len) in parts {
        let (mut reader, _): (ObjectReader, u64) = rt
            .block_on(objects.reader(key))?
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("upload part {key} is missing")))?;
        let mut total = 0u64;
        loop {
            let n = reader.read(&mut buf)?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            total += n as u64;
        }
        if total != *len {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("upload part {key} holds {total} bytes, not the {len} recorded"),
            ));
        }
    }
    Ok(hasher)
}

/// The hash state of `start` on a blocking thread (the caller is on the runtime).
fn start_blocking(rt: &tokio::runtime::Handle, start: HashStart) -> io::Result<ResumableSha256> {
    match start {
        HashStart::Known(h) => Ok(h),
        HashStart::Rehash { objects, parts } => hash_parts(rt, ResumableSha256::new(), &*objects, &parts),
    }
}

/// The hash state of `start`, computed on a blocking thread if it must be.
pub async fn resolve(start: HashStart) -> io::Result<ResumableSha256> {
    match start {
        HashStart::Known(h) => Ok(h),
        start => {
            let rt = tokio::runtime::Handle::current();
            tokio::task::spawn_blocking(move || start_blocking(&rt, start))
                .await
                .map_err(io::Error::other)?
        }
    }
}

/// Append `body` to `writer`, hashing from `start`, and accept at most `limit` bytes.
/// On error the caller aborts the writer; nothing was committed.
pub async fn ingest<S, E>(
    body: S,
    writer: &mut dyn ObjectWriter,
    start: HashStart,
    limit: u64,
) -> Result<Ingested, IngestError>
where
    S: Stream<Item = Result<Bytes, E>> + Send,
    E: std::fmt::Display,
{
    let (hash_tx, mut hash_rx) = tokio::sync::mpsc::channel::<Bytes>(CHANNEL_FRAMES);
    let rt = tokio::runtime::Handle::current();
    let hashing = tokio::task::spawn_blocking(move || -> io::Result<ResumableSha256> {
        let mut hasher = start_blocking(&rt, start)?;
        while let Some(chunk) = hash_rx.blocking_recv() {
            hasher.update(&chunk);
        }
        Ok(hasher)
    });

    let mut body = std::pin::pin!(body);
    let mut received = 0u64;
    let mut failure = None;
    while let Some(frame) = body.next().await {
        match frame {
            Ok(bytes) => {
                received += bytes.len() as u64;
                if received > limit {
                    failure = Some(IngestError::TooLarge { limit });
                    break;
                }
                if hash_tx.send(bytes.clone()).await.is_err() {
                    break; // the hashing thread failed; its error is reported below
                }
                if let Err(e) = writer.write(bytes).await {
                    failure = Some(IngestError::Io(e));
                    break;
                }
            }
            Err(e) => {
                failure = Some(IngestError::Body(e.to_string()));
                break;
            }
        }
    }
    drop(hash_tx);
    let hashed = hashing.await.map_err(io::Error::other)?;
    if let Some(f) = failure {
        return Err(f);
    }
    Ok(Ingested {
        hasher: hashed?,
        written: received,
    })
}
