//! [`LayoutError`]: why an export could not be written or was refused when read.
//!
//! Every message is a sentence a CLI user can act on, and names the entry, blob or
//! part concerned.

use std::io;

use govstore_core::Digest;

/// Why one part of a split export was refused. Kept separate (and `Clone`) so that
/// [`super::PartsReader`] can report it through `std::io::Error` and the reader can
/// recover it intact.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the export is damaged: part `{name}` {reason}")]
pub struct PartError {
    /// The part's file name as `parts.json` records it (or the `parts.json` name for
    /// a fault of the whole).
    pub name: String,
    pub reason: String,
}

/// Why an export could not be written, or why one was refused.
#[derive(Debug, thiserror::Error)]
pub enum LayoutError {
    // --- writing -------------------------------------------------------------------
    #[error("cannot write the export: {0}")]
    Write(#[source] io::Error),
    #[error("cannot read blob {digest} to export it: {source}")]
    SourceRead { digest: Digest, source: io::Error },
    #[error(
        "blob {digest} in the local store does not match its digest, so it was not exported; the local copy is damaged and must be fetched again"
    )]
    SourceMismatch { digest: Digest },
    #[error(
        "blob {digest} in the local store is {actual} bytes but should be {expected}, so it was not exported; the local copy is damaged and must be fetched again"
    )]
    SourceSize {
        digest: Digest,
        expected: u64,
        actual: String,
    },
    #[error("blob {digest} is listed twice with different sizes ({first} and {second} bytes)")]
    ConflictingSizes { digest: Digest, first: u64, second: u64 },
    #[error("the index.json to export is not a valid OCI image index: {reason}")]
    BadIndexInput { reason: String },
    #[error("index.json names {digest}, which is not among the blobs to export")]
    IndexNamesMissingBlob { digest: Digest },
    #[error("index.json says blob {digest} is {declared} bytes, but it is listed for export as {listed} bytes")]
    IndexSizeMismatch { digest: Digest, declared: u64, listed: u64 },
    #[error("the part size must be at least one byte")]
    BadPartSize,

    // --- reading: the tar itself ---------------------------------------------------
    #[error("the export is damaged or truncated: {0}")]
    Damaged(#[source] io::Error),
    #[error("cannot unpack the export into `{path}`: {source}")]
    Staging { path: String, source: io::Error },
    #[error("the export is refused: entry `{path}` is a {kind}; an export may hold only regular files and directories")]
    UnsupportedEntryType { path: String, kind: String },
    #[error("the export is refused: entry `{path}` has an absolute path")]
    AbsolutePath { path: String },
    #[error("the export is refused: entry `{path}` has a `..` component")]
    ParentComponent { path: String },
    #[error(
        "the export is refused: entry `{path}` is not part of an OCI image layout (expected oci-layout, index.json, blobs/sha256/<64 lowercase hex digits>)"
    )]
    UnexpectedEntry { path: String },
    #[error("the export is refused: entry `{path}` should be a {expected}")]
    WrongKind { path: String, expected: &'static str },
    #[error("the export is refused: entry `{path}` appears more than once")]
    DuplicateEntry { path: String },
    #[error("the export is damaged: blob {digest} does not match its digest (entry {path})")]
    BlobMismatch { digest: Digest, path: String },
    #[error("the export is refused: entry `{path}` is {size} bytes, more than the limit of {max}")]
    EntryTooLarge { path: String, size: u64, max: u64 },
    #[error("the export is refused: it has more than {max} entries")]
    TooManyEntries { max: u64 },
    #[error("the export is refused: index.json is {size} bytes, more than the limit of {max}")]
    IndexTooLarge { size: u64, max: u64 },
    #[error("the export is refused: it holds data after the end of the tar archive")]
    TrailingData,

    // --- reading: the layout -------------------------------------------------------
    #[error("the export is not an OCI image layout: it has no `oci-layout` file")]
    MissingOciLayout,
    #[error("the export is not a usable OCI image layout: `oci-layout` {reason}")]
    BadOciLayout { reason: String },
    #[error("the export is not an OCI image layout: it has no `index.json`")]
    MissingIndex,
    #[error("the export is refused: index.json is not a valid OCI image index: {reason}")]
    BadIndex { reason: String },
    #[error("the export is incomplete: blob {digest}, referenced by {referenced_by}, is missing")]
    MissingBlob { digest: Digest, referenced_by: String },
    #[error(
        "the export is refused: {referenced_by} says blob {digest} is {declared} bytes, but the export holds {actual}"
    )]
    BlobSizeMismatch {
        digest: Digest,
        declared: u64,
        actual: u64,
        referenced_by: String,
    },
    #[error("the export is refused: manifest {digest} is not a valid OCI manifest: {reason}")]
    BadManifest { digest: Digest, reason: String },
    #[error("the export is refused: manifest {digest} is {size} bytes, more than the limit of {max}")]
    ManifestTooLarge { digest: Digest, size: u64, max: u64 },

    // --- differential exports ------------------------------------------------------
    #[error(
        "the export is differential: it holds only what the export of {reference} lacks, so it needs that export as its base (`--base FILE`, an export of {reference}, bundle index {digest}); nothing was written"
    )]
    NeedsBase { reference: String, digest: Digest },
    #[error(
        "the base export is not the one this differential export needs: it needs the export of {reference} (bundle index {digest}), but the base given holds {found}"
    )]
    WrongBase {
        reference: String,
        digest: Digest,
        found: String,
    },
    #[error("a base export was given, but this export is a full export and needs none")]
    BaseNotNeeded,
    #[error("the base export is itself differential (since {since}); give a full export as the base")]
    BaseIsDifferential { since: String },
    #[error("the base export's blob {digest} does not match its digest when taken into this export")]
    BaseBlobMismatch { digest: Digest },

    // --- split exports -------------------------------------------------------------
    #[error(transparent)]
    Part(#[from] PartError),
    #[error("cannot use the parts list `{path}`: {reason}")]
    BadPartsFile { path: String, reason: String },
    #[error(
        "the parts list `{path}` uses format {version}; this govstore understands format 1, upgrade govstore to read it"
    )]
    PartsVersion { path: String, version: String },
}

impl LayoutError {
    /// The error to report for an IO failure while reading the archive: a
    /// [`PartError`] raised by [`super::PartsReader`] comes back as itself, anything
    /// else means the archive is damaged.
    pub(crate) fn from_read(e: io::Error) -> Self {
        if let Some(part) = find_part_error(&e) {
            return Self::Part(part);
        }
        Self::Damaged(e)
    }
}

pub(crate) fn find_part_error(e: &io::Error) -> Option<PartError> {
    let mut next: Option<&(dyn std::error::Error + 'static)> = e.get_ref().map(|inner| inner as _);
    while let Some(err) = next {
        if let Some(part) = err.downcast_ref::<PartError>() {
            return Some(part.clone());
        }
        next = err.source();
    }
    None
}
