//! The registry's use cases, with no HTTP in them: publish, yank and unyank, signing
//! keys, specs, accounts and tokens. Each is one function that takes validated inputs
//! (core newtypes) and the calling [`Principal`], runs its checks and its transaction,
//! appends its event to the sequence (`db::events`) in that transaction, and returns a
//! domain result or an [`Error`].
//!
//! Callers: the JSON API and OCI handlers (which parse, authenticate, call, and map
//! [`Error`] to `ApiError`), `govstore-server admin`, and `serve --demo` (through the
//! client, over HTTP). Services call `db` and `storage`; never the reverse, and never
//! `api`, `oci` or `pages`.

pub mod accounts;
pub mod approvals;
pub mod bundles;
pub mod countries;
mod error;
pub mod keys;
pub mod policy;
mod principal;
pub mod publish;
pub mod reviews;
pub mod specs;
pub mod versions;

pub use error::{Error, Kind, Result};
pub use principal::Principal;
