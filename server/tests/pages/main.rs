//! Tests of the web catalogue's pages through the production router, each on SQLite and
//! PostgreSQL: every page type against the page contract (ids, forms, links), errors as
//! HTML pages, caching headers and ETags, language negotiation, the README sanitiser and
//! escaping of publisher-controlled text.
#![allow(clippy::unwrap_used)]

#[path = "../oci/common.rs"]
mod common;
#[path = "../api/fixture.rs"]
#[allow(dead_code)]
mod fixture;

mod bundles;
mod caps;
mod catalogue;
mod countries;
mod pages;
mod review;
mod signin;
mod stack_check;
mod support;
mod versions;
