//! sea-orm entities, one per table (see the migrations crate for the schema).

pub mod blobs;
pub mod manifest_references;
pub mod manifests;
pub mod repositories;
pub mod repository_blobs;
pub mod tags;
pub mod uploads;
pub mod users;
pub mod organisations;
pub mod memberships;
pub mod tokens;
pub mod signing_keys;
pub mod packages;
pub mod package_versions;
pub mod specs;
pub mod audit_log;
