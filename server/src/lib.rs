//! govstore-server: the registry service.
//!
//! Layers, top to bottom (a layer calls only the ones below it):
//! - [`oci`]: HTTP handlers of the OCI Distribution API under `/v2`.
//! - [`search`]: the tantivy package index, derived from the database.
//! - [`db`] (metadata through sea-orm) and [`storage`] (blob bytes on the filesystem).
//! - `govstore_core`: validation of every name, digest and document, with no IO.

pub mod admin;
pub mod api;
pub mod app;
pub mod auth;
pub mod catalogue_check;
pub mod config;
pub mod db;
pub mod demo;
pub mod error;
pub mod import;
pub mod oci;
pub mod pages;
pub mod search;
pub mod state;
pub mod storage;

/// Milliseconds since the Unix epoch: how timestamps are stored.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
