//! Air-gap exports: one OCI image layout in one tar file, written and read back.
//!
//! `govstore export` writes, and `govstore import` / `govstore pull --from` read, an
//! [OCI image layout](https://github.com/opencontainers/image-spec/blob/main/image-layout.md)
//! packed as a tar archive:
//!
//! ```text
//! oci-layout                 {"imageLayoutVersion":"1.0.0"}
//! index.json                 the image index naming what the export holds
//! blobs/
//! blobs/sha256/
//! blobs/sha256/<64 hex>      one file per blob, sorted, each holding exactly the
//!                            bytes whose SHA-256 is its name
//! ```
//!
//! This module is the file format only: network, signatures and policy are checked
//! elsewhere. Its files, one job each:
//!
//! - [`write`](mod@write): [`write_layout`] streams the archive, deterministically (the same
//!   input gives the same bytes), re-hashing every blob as it is copied;
//! - [`split`]: [`SplitWriter`] cuts an archive into numbered parts with a
//!   `<base>.parts.json` list of their sizes and SHA-256s, and [`open_parts`] joins
//!   them back, checking every part ([`read_parts_into_tempdir`] names a damaged
//!   part even when the archive reader trips over it first);
//! - [`read`]: [`read_layout`] streams an archive into a staging directory, refusing
//!   anything that is not a plain OCI layout, re-hashing every blob and checking that
//!   every referenced blob is present ([`closure`] does that last walk); a
//!   differential export (`index.json` annotated [`ANN_SINCE`] and [`ANN_BASE`]) is
//!   read only with its base export, already read and verified, given explicitly
//!   ([`read_layout_with_base`]): the base's `index.json` must name the recorded base
//!   bundle index, and each blob the differential export lacks is taken from the base,
//!   re-hashed as it is copied in, so the result is a complete layout;
//! - [`compress`]: zstd exports, detected by their magic bytes and decompressed while
//!   streaming (split exports split the compressed stream);
//! - [`paths`]: the entry names an export may hold, shared by writer and reader;
//! - [`hashing`]: readers and writers that hash and count what passes through;
//! - [`error`]: [`LayoutError`], whose messages are written for the CLI's user.

pub mod closure;
pub mod compress;
pub mod error;
pub mod hashing;
pub mod paths;
pub mod read;
pub mod split;
pub mod write;

#[cfg(test)]
mod test_support;

pub use compress::{Decompressing, zstd_encoder};
pub use error::{LayoutError, PartError};
pub use read::{
    Differential, LayoutReport, ReadLayout, VerifiedBlob, read_layout, read_layout_into_tempdir,
    read_layout_into_tempdir_with_base, read_layout_with_base,
};
pub use split::{
    PartRecord, PartsManifest, PartsReader, SplitWriter, check_parts, open_parts, read_parts_into_tempdir,
    read_parts_into_tempdir_with_base,
};
pub use write::{BlobEntry, BlobSource, WriteSummary, write_layout};

/// `index.json` annotation of a differential export (`govstore export --since`): the
/// version of the bundle whose export it builds on.
pub const ANN_SINCE: &str = "dev.govstore.export.since";
/// `index.json` annotation of a differential export: the digest of the base bundle's
/// image index, which the base export's `index.json` must name.
pub const ANN_BASE: &str = "dev.govstore.export.base";
/// `index.json` annotation of a differential export: the base bundle's reference
/// (`SL/national-id@2026.1`), for messages.
pub const ANN_BASE_REF: &str = "dev.govstore.export.base.reference";

/// The most bytes `index.json` may have; it is read whole.
pub const MAX_INDEX_JSON_SIZE: u64 = 4 * 1024 * 1024;

/// The most bytes the `oci-layout` file may have; it is read whole.
pub const MAX_OCI_LAYOUT_SIZE: u64 = 4 * 1024;

/// Bounds on what a reader accepts from an export, which may come from anyone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// The largest single entry (blob), in bytes.
    pub max_blob_size: u64,
    /// The most tar entries, directories included.
    pub max_entries: u64,
    /// The largest manifest or image index blob, in bytes: these are read whole to
    /// find what they reference.
    pub max_manifest_size: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_blob_size: 16 * 1024 * 1024 * 1024,
            max_entries: 100_000,
            max_manifest_size: 4 * 1024 * 1024,
        }
    }
}
