//! govstore-client: what a publisher's or operator's machine does with a registry.
//!
//! - [`pack`]: a package directory into its deterministic content layer;
//! - [`registry`]: the HTTP client of the OCI Distribution API (blobs streamed, digests
//!   verified) and of the JSON API ([`api`] has its documents);
//! - [`publish`]: read, validate, pack, sign, upload and publish a package;
//! - [`verify`]: check a published version end to end, signature included;
//! - [`config`]: the user's configuration file (registry and tokens);
//! - [`cache`]: the local cache of index documents, blobs, signatures and keys;
//! - [`index`]: the registry's sparse index, read through the cache, into a catalogue;
//! - [`install`]: verified, atomic installs of a lockfile's packages into a directory;
//! - [`progress`]: progress reports for whoever shows them.
//!
//! The CLI is a thin layer over this crate, and the server's `--demo` publishes its
//! catalogue through [`publish::publish`], so both go through the same code.

pub mod api;
pub mod approvals;
pub mod bundles;
pub mod cache;
pub mod config;
pub mod export;
pub mod index;
pub mod install;
pub mod layout;
pub mod pack;
pub mod progress;
pub mod publish;
pub mod registry;
pub mod trust;
pub mod verified;
pub mod verify;

pub use config::{Config, ConfigError};
pub use pack::{PackError, Packed};
pub use progress::{NoProgress, Progress};
pub use publish::{PublishError, PublishOptions, PublishOutcome, publish};
pub use registry::{ClientError, RegistryClient};
pub use verify::{VerifyError, VerifyOptions, VerifyReport, verify};
