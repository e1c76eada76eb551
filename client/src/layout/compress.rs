//! zstd-compressed exports (`govstore export --zstd`): the tar stream, compressed as it
//! is written, and detected by its magic bytes and decompressed as it is read.
//!
//! The writer ([`zstd_encoder`]) uses one fixed level ([`ZSTD_LEVEL`]), one thread and
//! the frame checksum, so the same archive compresses to the same bytes (with the
//! libzstd version `zstd-sys` bundles). A split export splits the compressed stream.
//!
//! The reader ([`Decompressing`]) looks at the first four bytes of whatever it is
//! given (a file, or the joined parts of a split export): the zstd frame magic
//! `28 b5 2f fd` means a zstd stream, anything else is read as a plain tar. It never
//! holds the archive in memory: the decoder's window is at most 2^[`MAX_WINDOW_LOG`]
//! bytes (our writer's level uses 2 MiB). A damaged compressed stream shows as a
//! read error, reported as a damaged export; errors from the parts reader pass
//! through unchanged so the damaged part is still named.

use std::io::{self, BufReader, Chain, Cursor, Read, Write};

use super::LayoutError;

/// The first bytes of a zstd frame (RFC 8878, 3.1.1).
pub const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
/// The compression level of `--zstd` exports: zstd's default, fast (hundreds of MB/s)
/// with a good ratio on JSON and tar headers.
pub const ZSTD_LEVEL: i32 = 3;
/// The largest window a reader accepts (128 MiB, libzstd's own default limit).
pub const MAX_WINDOW_LOG: u32 = 27;

/// A zstd encoder over `out` with this module's fixed parameters; call `finish()` on
/// it to write the end of the frame.
pub fn zstd_encoder<W: Write>(out: W) -> io::Result<zstd::stream::write::Encoder<'static, W>> {
    let mut encoder = zstd::stream::write::Encoder::new(out, ZSTD_LEVEL)?;
    encoder.include_checksum(true)?;
    Ok(encoder)
}

type Head<R> = Chain<Cursor<Vec<u8>>, R>;

/// The archive bytes of an export: `input` itself, or its zstd decompression.
pub enum Decompressing<R: Read> {
    Plain(Head<R>),
    Zstd(Box<zstd::stream::read::Decoder<'static, BufReader<Head<R>>>>),
}

impl<R: Read> std::fmt::Debug for Decompressing<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.is_zstd() {
            "Decompressing::Zstd"
        } else {
            "Decompressing::Plain"
        })
    }
}

impl<R: Read> Decompressing<R> {
    /// Reads the first bytes of `input` to tell a zstd stream from a plain one.
    pub fn new(mut input: R) -> Result<Self, LayoutError> {
        let mut head = Vec::with_capacity(ZSTD_MAGIC.len());
        (&mut input)
            .take(ZSTD_MAGIC.len() as u64)
            .read_to_end(&mut head)
            .map_err(LayoutError::from_read)?;
        let is_zstd = head == ZSTD_MAGIC;
        let joined = Cursor::new(head).chain(input);
        if !is_zstd {
            return Ok(Self::Plain(joined));
        }
        let mut decoder = zstd::stream::read::Decoder::new(joined).map_err(LayoutError::Damaged)?;
        decoder.window_log_max(MAX_WINDOW_LOG).map_err(LayoutError::Damaged)?;
        Ok(Self::Zstd(Box::new(decoder)))
    }

    /// Whether the input is zstd-compressed.
    pub fn is_zstd(&self) -> bool {
        matches!(self, Self::Zstd(_))
    }
}

impl<R: Read> Read for Decompressing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Self::Plain(r) => r.read(buf),
            Self::Zstd(d) => d.read(buf).map_err(|e| {
                if super::error::find_part_error(&e).is_some() || e.kind() == io::ErrorKind::Interrupted {
                    e
                } else {
                    io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("its zstd compression is damaged ({e})"),
                    )
                }
            }),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::layout::test_support::sample;
    use crate::layout::{Limits, read_layout, write_layout};

    fn compressed(large: u64) -> (Vec<u8>, Vec<u8>) {
        let s = sample(large);
        let mut tar = Vec::new();
        write_layout(&mut tar, &s.index_json, &s.blobs, &s.source).unwrap();
        let mut enc = zstd_encoder(Vec::new()).unwrap();
        write_layout(&mut enc, &s.index_json, &s.blobs, &s.source).unwrap();
        (tar, enc.finish().unwrap())
    }

    #[test]
    fn detects_zstd_by_its_magic_and_reads_it_streaming() {
        let (tar, zst) = compressed(2 * 1024 * 1024);
        assert_eq!(zst[..4], ZSTD_MAGIC);
        assert!(zst.len() < tar.len(), "{} >= {}", zst.len(), tar.len());
        let mut d = Decompressing::new(zst.as_slice()).unwrap();
        assert!(d.is_zstd());
        let mut back = Vec::new();
        d.read_to_end(&mut back).unwrap();
        assert!(back == tar, "decompressed bytes differ from the tar");
        // A plain tar passes through untouched, whatever its length.
        let mut p = Decompressing::new(tar.as_slice()).unwrap();
        assert!(!p.is_zstd());
        let mut same = Vec::new();
        p.read_to_end(&mut same).unwrap();
        assert!(same == tar);
        for short in [&b""[..], &b"\x28\xb5"[..]] {
            let mut d = Decompressing::new(short).unwrap();
            let mut out = Vec::new();
            d.read_to_end(&mut out).unwrap();
            assert_eq!(out, short);
        }
        // read_layout reads both.
        let dir = tempfile::tempdir().unwrap();
        let layout = read_layout(zst.as_slice(), dir.path(), &Limits::default()).unwrap();
        assert_eq!(layout.blobs.len(), 7);
    }

    #[test]
    fn compression_is_deterministic() {
        let (_, a) = compressed(300_000);
        let (_, b) = compressed(300_000);
        assert!(a == b, "two compressions differ");
    }

    #[test]
    fn a_flipped_byte_in_the_compressed_stream_is_refused() {
        let (_, zst) = compressed(1024 * 1024);
        for at in [zst.len() / 3, zst.len() / 2, zst.len() - 2] {
            let mut bad = zst.clone();
            bad[at] ^= 0x10;
            let dir = tempfile::tempdir().unwrap();
            let err = read_layout(bad.as_slice(), dir.path(), &Limits::default()).unwrap_err();
            let text = err.to_string();
            assert!(
                matches!(err, LayoutError::Damaged(_) | LayoutError::BlobMismatch { .. }),
                "{at}: {text}"
            );
        }
        // Trailing garbage after the frame.
        let mut long = zst.clone();
        long.extend_from_slice(b"garbage!");
        let dir = tempfile::tempdir().unwrap();
        assert!(read_layout(long.as_slice(), dir.path(), &Limits::default()).is_err());
    }
}
