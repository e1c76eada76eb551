//! Streaming a stored blob out.
//!
//! One blocking thread per download reads the file with plain `read` calls straight
//! into fresh buffers and hands them to the response body over a small bounded channel.
//! That avoids tokio's `File`, which copies every read through an internal buffer and
//! hops threads per read. Memory per download is bounded by the channel.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};

use bytes::Bytes;
use futures_util::Stream;

/// Bytes per read and per body frame.
const CHUNK: u64 = 1024 * 1024;
/// Frames queued ahead of the network.
const AHEAD: usize = 4;

/// Stream `len` bytes of `file` from `offset`.
pub fn stream_file(mut file: File, offset: u64, len: u64) -> impl Stream<Item = io::Result<Bytes>> + Send + 'static {
    let (tx, rx) = tokio::sync::mpsc::channel::<io::Result<Bytes>>(AHEAD);
    tokio::task::spawn_blocking(move || {
        if offset > 0
            && let Err(e) = file.seek(SeekFrom::Start(offset))
        {
            let _ = tx.blocking_send(Err(e));
            return;
        }
        let mut left = len;
        while left > 0 {
            let want = left.min(CHUNK);
            // `read_to_end` fills reserved capacity without zeroing it first.
            let mut buf = Vec::with_capacity(want as usize);
            if let Err(e) = (&mut file).take(want).read_to_end(&mut buf) {
                let _ = tx.blocking_send(Err(e));
                return;
            }
            if buf.is_empty() {
                let _ = tx.blocking_send(Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "blob is shorter than recorded",
                )));
                return;
            }
            left -= buf.len() as u64;
            if tx.blocking_send(Ok(Bytes::from(buf))).is_err() {
                return; // the client went away
            }
        }
    });
    futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|item| (item, rx)) })
}
