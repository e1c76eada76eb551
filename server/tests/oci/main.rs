//! HTTP-level tests of the OCI Distribution API, through the production router, each
//! run on SQLite and on PostgreSQL.
#![allow(clippy::unwrap_used)]

mod common;

mod auth;
mod blobs;
mod manifests;
mod names;
mod referrers;
mod startup;
mod tags;
mod uploads;
