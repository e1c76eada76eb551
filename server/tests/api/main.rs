//! Tests of the JSON API and of signed publishing, through the production router, each
//! on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used)]

#[path = "../oci/common.rs"]
mod common;
mod fixture;

mod downloads;
mod events;
mod index;
mod openapi;
mod publish;
mod refusals;
mod rejections;
mod search;
mod yank_and_keys;
