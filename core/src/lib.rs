//! govstore-core: the logic that the server and the CLI share.
//!
//! This crate does no IO: no files, no network, no database. It parses and validates
//! the values that cross govstore's edges (repository names, tags, digests, package
//! manifests, OCI documents) into types that the rest of the code can trust.

pub mod approval;
pub mod artifact;
pub mod bundle;
pub mod country_names;
pub mod digest;
pub mod event;
pub mod index;
pub mod manifest;
pub mod oci;
pub mod package;
pub mod reference;
pub mod scope;
pub mod spec;
pub mod stack;
pub mod tarball;
pub mod time;
pub mod wire;

pub use digest::{Digest, DigestError};
pub use reference::{NameError, Reference, RepoName, Tag};
