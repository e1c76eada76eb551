//! A SHA-256 whose running state can be saved and restored, so that an upload session's
//! hash can be kept in the database and continued by any process.
//!
//! `sha2` 0.10 does not expose the midstate of its `Sha256`, but with its `compress`
//! feature it exposes the compression function (`compress256`, the same CPU-accelerated
//! backend `Sha256` uses). [`ResumableSha256`] keeps the eight state words, the total
//! length and the unhashed tail (under one 64-byte block) itself, and pads as FIPS 180-4
//! says when it finishes.
//!
//! **Encoding** ([`ResumableSha256::to_bytes`]), 42 to 105 bytes:
//!
//! ```text
//! version (1 byte, = 1) | state (8 × u32 big-endian) | length in bytes (u64 big-endian)
//!   | tail length (1 byte, < 64) | tail
//! ```
//!
//! The tail length must equal the length modulo 64 and the whole encoding must have exactly
//! its size; anything else is refused.

/// One 64-byte block as `compress256` takes it.
type Block = sha2::digest::core_api::Block<sha2::Sha256VarCore>;

const BLOCK: usize = 64;
/// Blocks copied to the stack and compressed per call (the backend loops over them).
const BATCH: usize = 16;
const VERSION: u8 = 1;
const HEADER: usize = 1 + 32 + 8 + 1;

const INITIAL: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

/// An encoded state that is not one [`ResumableSha256::to_bytes`] writes.
#[derive(Debug, thiserror::Error)]
#[error("malformed SHA-256 state: {0}")]
pub struct MalformedState(&'static str);

/// A SHA-256 in progress that can be encoded and continued elsewhere.
#[derive(Clone)]
pub struct ResumableSha256 {
    state: [u32; 8],
    /// Bytes hashed so far, the tail included.
    len: u64,
    tail: [u8; BLOCK],
}

impl std::fmt::Debug for ResumableSha256 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResumableSha256")
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

impl Default for ResumableSha256 {
    fn default() -> Self {
        Self::new()
    }
}

impl ResumableSha256 {
    /// The hash of nothing yet.
    pub fn new() -> Self {
        Self {
            state: INITIAL,
            len: 0,
            tail: [0; BLOCK],
        }
    }

    /// Bytes hashed so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether nothing was hashed yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn tail_len(&self) -> usize {
        (self.len % BLOCK as u64) as usize
    }

    /// Compress whole blocks, a batch at a time.
    fn compress_blocks(&mut self, data: &[u8]) {
        debug_assert_eq!(data.len() % BLOCK, 0);
        let mut batch = [Block::default(); BATCH];
        for group in data.chunks(BLOCK * BATCH) {
            let n = group.len() / BLOCK;
            for (dst, src) in batch.iter_mut().zip(group.chunks_exact(BLOCK)) {
                dst.copy_from_slice(src);
            }
            sha2::compress256(&mut self.state, &batch[..n]);
        }
    }

    /// Hash more bytes.
    pub fn update(&mut self, mut data: &[u8]) {
        let pending = self.tail_len();
        self.len += data.len() as u64;
        if pending > 0 {
            let take = (BLOCK - pending).min(data.len());
            self.tail[pending..pending + take].copy_from_slice(&data[..take]);
            data = &data[take..];
            if pending + take < BLOCK {
                return;
            }
            let block = self.tail;
            self.compress_blocks(&block);
        }
        let whole = data.len() - data.len() % BLOCK;
        self.compress_blocks(&data[..whole]);
        let rest = &data[whole..];
        self.tail[..rest.len()].copy_from_slice(rest);
    }

    /// The digest of everything hashed.
    pub fn finalize(mut self) -> [u8; 32] {
        let pending = self.tail_len();
        let bits = self.len.wrapping_mul(8);
        let mut pad = [0u8; 2 * BLOCK];
        pad[..pending].copy_from_slice(&self.tail[..pending]);
        pad[pending] = 0x80;
        // The length goes into the last 8 bytes of the first block with room for it.
        let total = if pending < BLOCK - 8 { BLOCK } else { 2 * BLOCK };
        pad[total - 8..total].copy_from_slice(&bits.to_be_bytes());
        self.compress_blocks(&pad[..total]);
        let mut out = [0u8; 32];
        for (o, w) in out.chunks_exact_mut(4).zip(self.state) {
            o.copy_from_slice(&w.to_be_bytes());
        }
        out
    }

    /// The versioned encoding described in the module documentation.
    pub fn to_bytes(&self) -> Vec<u8> {
        let pending = self.tail_len();
        let mut out = Vec::with_capacity(HEADER + pending);
        out.push(VERSION);
        for w in self.state {
            out.extend_from_slice(&w.to_be_bytes());
        }
        out.extend_from_slice(&self.len.to_be_bytes());
        out.push(pending as u8);
        out.extend_from_slice(&self.tail[..pending]);
        out
    }

    /// Decode what [`Self::to_bytes`] wrote.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, MalformedState> {
        let (&version, rest) = bytes.split_first().ok_or(MalformedState("empty"))?;
        if version != VERSION {
            return Err(MalformedState("unknown version"));
        }
        if bytes.len() < HEADER {
            return Err(MalformedState("too short"));
        }
        let mut state = [0u32; 8];
        for (w, b) in state.iter_mut().zip(rest[..32].chunks_exact(4)) {
            *w = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
        }
        let mut len = [0u8; 8];
        len.copy_from_slice(&rest[32..40]);
        let len = u64::from_be_bytes(len);
        let pending = rest[40] as usize;
        let tail = &rest[41..];
        if pending >= BLOCK || pending as u64 != len % BLOCK as u64 {
            return Err(MalformedState("tail length does not match the length"));
        }
        if tail.len() != pending {
            return Err(MalformedState("wrong size"));
        }
        if len >= 1 << 61 {
            return Err(MalformedState("length beyond SHA-256's limit"));
        }
        let mut s = Self {
            state,
            len,
            tail: [0; BLOCK],
        };
        s.tail[..pending].copy_from_slice(tail);
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use sha2::{Digest as _, Sha256};

    use super::ResumableSha256;

    fn expected(data: &[u8]) -> [u8; 32] {
        Sha256::digest(data).into()
    }

    fn ours(data: &[u8]) -> [u8; 32] {
        let mut h = ResumableSha256::new();
        h.update(data);
        h.finalize()
    }

    fn input(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 131 + i / 251) as u8).collect()
    }

    #[test]
    fn equals_sha2_on_padding_boundaries_and_large_inputs() {
        assert_eq!(ResumableSha256::new().finalize(), expected(b""));
        for n in [1, 55, 56, 63, 64, 65, 119, 120, 127, 128, 129, 1000, 1 << 20] {
            let data = input(n);
            assert_eq!(ours(&data), expected(&data), "{n} bytes");
        }
    }

    #[test]
    fn any_split_and_any_round_trip_give_the_same_digest() {
        let data = input(130);
        let want = expected(&data);
        for at in 0..=data.len() {
            let mut h = ResumableSha256::new();
            h.update(&data[..at]);
            let mut split = h.clone();
            split.update(&data[at..]);
            assert_eq!(split.finalize(), want, "split at {at}");

            let encoded = h.to_bytes();
            assert_eq!(encoded.len(), 42 + at % 64);
            let mut resumed = ResumableSha256::from_bytes(&encoded).unwrap();
            assert_eq!(resumed.len(), at as u64);
            assert_eq!(resumed.to_bytes(), encoded);
            resumed.update(&data[at..]);
            assert_eq!(resumed.finalize(), want, "round trip at {at}");
        }
        // Many small updates, with a round trip between each.
        let data = input(5000);
        let mut h = ResumableSha256::new();
        for piece in data.chunks(37) {
            h = ResumableSha256::from_bytes(&h.to_bytes()).unwrap();
            h.update(piece);
        }
        assert_eq!(h.finalize(), expected(&data));
    }

    #[test]
    fn malformed_encodings_are_refused() {
        let mut h = ResumableSha256::new();
        h.update(&input(70));
        let good = h.to_bytes();
        assert!(ResumableSha256::from_bytes(&good).is_ok());

        let mut cases: Vec<Vec<u8>> = vec![
            vec![],
            vec![1],
            good[..41].to_vec(),
            good[..good.len() - 1].to_vec(),
            [good.as_slice(), &[0]].concat(),
        ];
        let mut version = good.clone();
        version[0] = 2;
        cases.push(version);
        let mut tail_len = good.clone();
        tail_len[41] = 5; // the length says 6
        cases.push(tail_len);
        let mut huge_tail = good.clone();
        huge_tail[41] = 64;
        cases.push(huge_tail);
        let mut huge = ResumableSha256::new().to_bytes();
        huge[33..41].copy_from_slice(&(1u64 << 61).to_be_bytes());
        cases.push(huge);
        for (i, bad) in cases.iter().enumerate() {
            assert!(ResumableSha256::from_bytes(bad).is_err(), "case {i}: {bad:?}");
        }
    }
}
