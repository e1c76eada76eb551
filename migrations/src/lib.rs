//! govstore's database schema, as sea-orm migrations.
//!
//! The same migrations run on SQLite (the embedded default) and PostgreSQL
//! (production). One migration per file; never edit a migration that has shipped,
//! add a new one.

pub use sea_orm_migration::prelude::*;

mod m20261121_000001_oci_registry;
mod m20261121_000002_accounts_and_packages;
mod m20261121_000003_catalogue;
mod m20261207_000001_events;
mod m20261207_000002_upload_parts;
mod m20261207_000003_attestations;
mod m20261207_000004_upload_hash_state;
mod m20261208_000001_countries;
mod m20261208_000002_web_sessions;
mod m20261209_000001_bundles;
mod m20261209_000002_country_stacks;

#[derive(Debug)]
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261121_000001_oci_registry::Migration),
            Box::new(m20261121_000002_accounts_and_packages::Migration),
            Box::new(m20261121_000003_catalogue::Migration),
            Box::new(m20261207_000001_events::Migration),
            Box::new(m20261207_000002_upload_parts::Migration),
            Box::new(m20261207_000003_attestations::Migration),
            Box::new(m20261207_000004_upload_hash_state::Migration),
            Box::new(m20261208_000001_countries::Migration),
            Box::new(m20261208_000002_web_sessions::Migration),
            Box::new(m20261209_000001_bundles::Migration),
            Box::new(m20261209_000002_country_stacks::Migration),
        ]
    }
}
