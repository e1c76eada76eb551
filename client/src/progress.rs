//! Progress reports from long operations (packing, uploads, downloads).
//!
//! The library reports; the caller decides how to show it (a progress bar on a
//! terminal, plain lines in a log, nothing at all).

use govstore_core::Digest;

/// Receives progress reports. Every method has an empty default.
pub trait Progress: Send + Sync {
    /// A step begins, such as "packing" or "publishing".
    fn step(&self, _message: &str) {}
    /// A blob transfer begins: `label` names it (`content.tar.gz`, `config`...).
    fn blob_start(&self, _label: &str, _digest: &Digest, _size: u64) {}
    /// The registry already had the blob; nothing is sent.
    fn blob_skipped(&self, _label: &str, _digest: &Digest, _size: u64) {}
    /// `bytes` more bytes of the current blob went through.
    fn blob_advance(&self, _bytes: u64) {}
    /// The current blob is done.
    fn blob_done(&self, _label: &str) {}
}

/// Reports nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {}
