//! Streaming a request body into a file while hashing it.
//!
//! The async side receives body frames and hands each one (a cheap reference-counted
//! `Bytes`) over bounded channels to two blocking threads: one hashes, one writes. So
//! receiving, hashing and writing overlap on separate cores, and no more than a few
//! frames are ever held in memory.

use std::fs::File;
use std::io::{self, BufWriter, Write};

use axum::body::Body;
use bytes::Bytes;
use futures_util::StreamExt;
use sha2::{Digest as _, Sha256};

/// Frames in flight between the network and each worker thread.
const CHANNEL_FRAMES: usize = 64;
/// Write buffer of the writer thread. Frames at least this large skip the buffer and
/// go to `write` directly, saving a copy; smaller ones are gathered.
const WRITE_BUFFER: usize = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("the request body is larger than the {limit} bytes allowed")]
    TooLarge { limit: u64 },
    #[error("the request body ended early: {0}")]
    Body(String),
    #[error("writing the upload: {0}")]
    Io(#[from] io::Error),
}

/// The outcome of a successful ingest.
#[derive(Debug)]
pub struct Ingested {
    pub file: File,
    pub hasher: Sha256,
    /// Bytes of this body (not of the whole file).
    pub written: u64,
}

/// Append `body` to `file` (positioned where the bytes go), feeding `hasher`, and
/// accept at most `limit` bytes. On error the caller must truncate the file back.
pub async fn ingest(file: File, mut hasher: Sha256, body: Body, limit: u64) -> Result<Ingested, IngestError> {
    let (write_tx, mut write_rx) = tokio::sync::mpsc::channel::<Bytes>(CHANNEL_FRAMES);
    let (hash_tx, mut hash_rx) = tokio::sync::mpsc::channel::<Bytes>(CHANNEL_FRAMES);
    let writer = tokio::task::spawn_blocking(move || -> io::Result<(File, u64)> {
        let mut out = BufWriter::with_capacity(WRITE_BUFFER, file);
        let mut written = 0u64;
        while let Some(chunk) = write_rx.blocking_recv() {
            out.write_all(&chunk)?;
            written += chunk.len() as u64;
        }
        let file = out.into_inner().map_err(|e| e.into_error())?;
        Ok((file, written))
    });
    let hashing = tokio::task::spawn_blocking(move || {
        while let Some(chunk) = hash_rx.blocking_recv() {
            hasher.update(&chunk);
        }
        hasher
    });

    let mut stream = body.into_data_stream();
    let mut received = 0u64;
    let mut failure = None;
    while let Some(frame) = stream.next().await {
        match frame {
            Ok(bytes) => {
                received += bytes.len() as u64;
                if received > limit {
                    failure = Some(IngestError::TooLarge { limit });
                    break;
                }
                if hash_tx.send(bytes.clone()).await.is_err() || write_tx.send(bytes).await.is_err() {
                    break; // a worker failed; its error is reported below
                }
            }
            Err(e) => {
                failure = Some(IngestError::Body(e.to_string()));
                break;
            }
        }
    }
    drop((write_tx, hash_tx));
    let (file, written) = writer.await.map_err(io::Error::other)??;
    let hasher = hashing.await.map_err(io::Error::other)?;
    if let Some(f) = failure {
        return Err(f);
    }
    Ok(Ingested { file, hasher, written })
}

/// Hash the first `len` bytes of a file (used when an upload session's in-memory hash
/// state was lost, e.g. after a restart).
pub async fn hash_file_prefix(path: std::path::PathBuf, len: u64) -> io::Result<Sha256> {
    tokio::task::spawn_blocking(move || {
        use std::io::Read;
        let mut f = File::open(path)?.take(len);
        let mut h = Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = f.read(&mut buf)?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
        }
        Ok(h)
    })
    .await
    .map_err(io::Error::other)?
}
