//! sea-orm entities, one per table (see the migrations crate for the schema).

pub mod approvals;
pub mod attestations;
pub mod audit_log;
pub mod blobs;
pub mod countries;
pub mod downloads;
pub mod events;
pub mod listings;
pub mod manifest_references;
pub mod manifests;
pub mod memberships;
pub mod organisations;
pub mod package_versions;
pub mod packages;
pub mod proposals;
pub mod recommendations;
pub mod repositories;
pub mod repository_blobs;
pub mod signing_keys;
pub mod specs;
pub mod tags;
pub mod tokens;
pub mod upload_parts;
pub mod uploads;
pub mod users;
pub mod web_sessions;
