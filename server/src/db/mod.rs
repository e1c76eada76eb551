//! Metadata storage through sea-orm: connecting, migrating, and the queries the
//! handlers use, one module per table family.
//!
//! SQLite gets one writer connection (SQLite allows one writer at a time; a pool of
//! writers would only trade waiting for `SQLITE_BUSY`) and a small pool of readers,
//! in WAL mode so readers never block the writer. PostgreSQL gets one pool for both.

pub mod accounts;
pub mod audit;
pub mod blobs;
pub mod catalogue;
pub mod downloads;
pub mod entities;
pub mod index;
pub mod keys;
pub mod listings;
pub mod manifests;
pub mod packages;
pub mod pages;
pub mod repositories;
pub mod specs;
pub mod tags;
pub mod uploads;

use std::time::Duration;

use govstore_migrations::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};

/// The read and write connections. On PostgreSQL both are the same pool.
#[derive(Clone, Debug)]
pub struct Db {
    pub read: DatabaseConnection,
    pub write: DatabaseConnection,
}

impl Db {
    /// Connect and bring the schema up to date.
    pub async fn connect(url: &str) -> Result<Self, DbErr> {
        let db = if url.starts_with("sqlite:") {
            let write = Database::connect(sqlite_options(url, 1)).await?;
            // Migrate on the writer before the readers open the file.
            Migrator::up(&write, None).await?;
            let read = Database::connect(sqlite_options(url, 4)).await?;
            Self { read, write }
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let mut opts = ConnectOptions::new(url.to_owned());
            opts.max_connections(16)
                .sqlx_logging(false)
                .acquire_timeout(Duration::from_secs(10));
            let pool = Database::connect(opts).await?;
            Migrator::up(&pool, None).await?;
            Self {
                read: pool.clone(),
                write: pool,
            }
        } else {
            return Err(DbErr::Custom(
                "database URL must start with sqlite: or postgres: (for example postgres://user@host/db)".into(),
            ));
        };
        Ok(db)
    }
}

fn sqlite_options(url: &str, connections: u32) -> ConnectOptions {
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.max_connections(connections)
        .min_connections(1)
        .sqlx_logging(false)
        .acquire_timeout(Duration::from_secs(30))
        .map_sqlx_sqlite_opts(|o| {
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
        });
    opts
}
