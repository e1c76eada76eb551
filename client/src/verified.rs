//! A record of the DSSE signatures this machine has verified, so that a later run does
//! not verify the same signature again: the verification cache behind `approved_only`
//! resolution (a resolve checks each candidate's approval envelopes; the second resolve
//! of a stack finds them all here).
//!
//! A record is SHA-256 over the key id, the signed message (DSSE's PAE bytes) and the
//! signature, each length-prefixed. It is only ever consulted for a key the caller
//! already trusts (a pinned key): a record says "this key's signature over this message
//! verified here before", nothing else, so a record can never make another key, message
//! or signature pass. The file (`<cache>/verified-signatures-v1`) is a header line and
//! then 32-byte records, appended by each run with one `write` (O_APPEND), so concurrent
//! runs only add; a torn tail after a crash makes later records unreadable (they are
//! then just not found), never wrong. It is the user's own cache, like the cached keys
//! and index documents an offline install already relies on; delete it to start afresh.
//! Past [`MAX_RECORDS`] it is started afresh.

use std::collections::HashSet;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use sha2::{Digest as _, Sha256};

/// The file name inside the cache directory.
pub const FILE: &str = "verified-signatures-v1";
const HEADER: &[u8] = b"govstore verified signatures v1\n";
/// The most records kept (32 MiB); a larger file is started afresh.
pub const MAX_RECORDS: usize = 1 << 20;

type Record = [u8; 32];

/// Signatures verified before (loaded) and in this run (to save).
#[derive(Debug, Default)]
pub struct VerifiedSignatures {
    path: Option<PathBuf>,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    known: HashSet<Record>,
    new: Vec<Record>,
}

impl VerifiedSignatures {
    /// A record kept in memory only (tests, benchmarks, a run without a cache).
    pub fn in_memory() -> Self {
        Self::default()
    }

    /// The records of the file in the cache directory `dir`; none if it is missing or
    /// not one of ours.
    pub fn open(dir: &Path) -> Self {
        let path = dir.join(FILE);
        let known = read(&path).unwrap_or_default();
        Self {
            path: Some(path),
            state: Mutex::new(State { known, new: Vec::new() }),
        }
    }

    /// The record of `key_id`'s signature `sig` over `message`.
    pub fn record(key_id: &str, message: &[u8], sig: &[u8]) -> Record {
        let mut h = Sha256::new();
        for part in [key_id.as_bytes(), message, sig] {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part);
        }
        h.finalize().into()
    }

    pub fn contains(&self, r: &Record) -> bool {
        self.state.lock().is_ok_and(|s| s.known.contains(r))
    }

    /// Notes a signature verified now.
    pub fn insert(&self, r: Record) {
        if let Ok(mut s) = self.state.lock()
            && s.known.insert(r)
        {
            s.new.push(r);
        }
    }

    /// How many records are known.
    pub fn len(&self) -> usize {
        self.state.lock().map_or(0, |s| s.known.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends this run's new records to the file (best effort: a cache that cannot be
    /// written only means verifying again next time).
    pub fn save(&self) -> std::io::Result<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let new = match self.state.lock() {
            Ok(mut s) => std::mem::take(&mut s.new),
            Err(_) => return Ok(()),
        };
        if new.is_empty() {
            return Ok(());
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        let full = len >= (HEADER.len() + MAX_RECORDS * 32) as u64;
        let mut out = Vec::with_capacity(HEADER.len() + new.len() * 32);
        if len == 0 || full {
            out.extend_from_slice(HEADER);
        }
        for r in &new {
            out.extend_from_slice(r);
        }
        if full {
            // Start afresh: write a new file beside it and rename it over.
            let tmp = path.with_extension("tmp");
            std::fs::write(&tmp, &out)?;
            return std::fs::rename(&tmp, path);
        }
        let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
        f.write_all(&out)
    }
}

fn read(path: &Path) -> Option<HashSet<Record>> {
    let mut f = std::fs::File::open(path).ok()?;
    let len = f.metadata().ok()?.len();
    if len > (HEADER.len() + MAX_RECORDS * 32) as u64 {
        return None;
    }
    let mut bytes = Vec::with_capacity(usize::try_from(len).ok()?);
    f.read_to_end(&mut bytes).ok()?;
    let body = bytes.strip_prefix(HEADER)?;
    Some(
        body.chunks_exact(32)
            .filter_map(|c| <Record>::try_from(c).ok())
            .collect(),
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn records_survive_a_run_and_bind_key_message_and_signature() {
        let dir = tempfile::tempdir().unwrap();
        let a = VerifiedSignatures::open(dir.path());
        assert!(a.is_empty());
        let r = VerifiedSignatures::record("k1", b"message", b"sig");
        a.insert(r);
        a.save().unwrap();
        let b = VerifiedSignatures::open(dir.path());
        assert!(b.contains(&r));
        for other in [
            VerifiedSignatures::record("k2", b"message", b"sig"),
            VerifiedSignatures::record("k1", b"message!", b"sig"),
            VerifiedSignatures::record("k1", b"message", b"sig!"),
            // Length prefixes: moving bytes between parts is another record.
            VerifiedSignatures::record("k1m", b"essage", b"sig"),
        ] {
            assert!(!b.contains(&other));
        }
        // A second run appends; a torn tail is ignored.
        let r2 = VerifiedSignatures::record("k1", b"m2", b"s2");
        b.insert(r2);
        b.save().unwrap();
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(dir.path().join(FILE))
            .unwrap();
        f.write_all(&[7; 5]).unwrap();
        let c = VerifiedSignatures::open(dir.path());
        assert!(c.contains(&r) && c.contains(&r2));
        assert_eq!(c.len(), 2);
        // Not our file: nothing is trusted from it.
        std::fs::write(dir.path().join(FILE), [0u8; 64]).unwrap();
        assert!(VerifiedSignatures::open(dir.path()).is_empty());
    }
}
