//! govstore-server: the registry service.
//!
//! Layers, top to bottom (a layer calls only the ones below it; ARCHITECTURE.md):
//! - [`api`], [`oci`], [`pages`]: HTTP handlers. They parse, authenticate, call, and
//!   map errors to the one `ApiError` envelope.
//! - [`service`]: the use cases (publish, yank, keys, specs, accounts), with no HTTP;
//!   [`search`] and [`catalogue_check`]: read models derived from the database.
//! - [`db`] (metadata through sea-orm, the event sequence) and [`storage`] (blob bytes).
//! - `govstore_core`: validation of every name, digest and document, with no IO.

// The OpenAPI document is one large `json!` literal.
#![recursion_limit = "256"]

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
pub mod server_keys;
pub mod service;
/// `govstore-server admin ...`: the account and token use cases.
pub use service::accounts as admin;
mod service_errors;
pub mod state;
pub mod storage;

/// Milliseconds since the Unix epoch: how timestamps are stored.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
