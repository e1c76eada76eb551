//! Metadata storage through sea-orm: connecting, migrating, and the queries the
//! handlers use, one module per table family.
//!
//! SQLite gets one writer connection (SQLite allows one writer at a time; a pool of
//! writers would only trade waiting for `SQLITE_BUSY`) and a small pool of readers,
//! in WAL mode so readers never block the writer. PostgreSQL gets one pool for both.
//! Migrations run at every start, under a lock (see `migrate`), so replicas may start
//! together.

pub mod accounts;
pub mod approvals;
pub mod attestations;
pub mod audit;
pub mod blobs;
pub mod bundles;
pub mod catalogue;
pub mod countries;
pub mod downloads;
pub mod entities;
pub mod events;
pub mod index;
pub mod keys;
pub mod listings;
pub mod manifests;
pub mod packages;
pub mod pages;
pub mod proposals;
pub mod repositories;
pub mod specs;
pub mod tags;
pub mod uploads;
pub mod web_sessions;

use std::time::Duration;

use govstore_migrations::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr, SqliteTransactionMode,
    TransactionOptions, TransactionTrait,
};

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
            let write = connect_sqlite(url, 1).await?;
            // Migrate on the writer before the readers open the file.
            migrate(&write).await?;
            let read = connect_sqlite(url, 4).await?;
            Self { read, write }
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let mut opts = ConnectOptions::new(url.to_owned());
            opts.max_connections(16)
                .sqlx_logging(false)
                .acquire_timeout(Duration::from_secs(10));
            let pool = Database::connect(opts).await?;
            migrate(&pool).await?;
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

/// The PostgreSQL advisory lock key migrations run under ("govstore" in ASCII).
const MIGRATION_LOCK: i64 = 0x676f_7673_746f_7265;

/// How long a starting server waits for another one's migrations (SQLite; PostgreSQL
/// waits on its lock for as long as it takes).
const MIGRATION_WAIT: Duration = Duration::from_secs(300);

/// Bring the schema up to date under a lock, so that servers starting together on one
/// database migrate one after another: the first applies what is pending, the others
/// then find nothing to do. All pending migrations apply in one transaction, which
/// holds the lock: PostgreSQL's transaction-scoped advisory lock (released at commit,
/// or when a crashed server's connection closes), SQLite's write lock (`BEGIN
/// IMMEDIATE`). A failure leaves the schema as it was.
async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    let started = std::time::Instant::now();
    loop {
        match migrate_once(db).await {
            Err(e) if is_sqlite_busy(&e) && started.elapsed() < MIGRATION_WAIT => {
                tracing::info!("waiting for another server's migrations");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            other => return other,
        }
    }
}

async fn migrate_once(db: &DatabaseConnection) -> Result<(), DbErr> {
    let txn = match db.get_database_backend() {
        DbBackend::Postgres => {
            let txn = db.begin().await?;
            txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({MIGRATION_LOCK})"))
                .await?;
            txn
        }
        _ => {
            db.begin_with_options(TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..Default::default()
            })
            .await?
        }
    };
    Migrator::up(&txn, None).await?;
    txn.commit().await
}

/// SQLite's "database is locked" (another process holds the write lock past the busy
/// timeout).
fn is_sqlite_busy(e: &DbErr) -> bool {
    let text = e.to_string();
    text.contains("database is locked") || text.contains("(code: 5)")
}

/// Open a SQLite pool, waiting while another process holds the write lock: switching a
/// new file to WAL (a pragma each connection runs at open) answers "database is locked"
/// at once, without the busy timeout, while another server is creating the schema.
async fn connect_sqlite(url: &str, connections: u32) -> Result<DatabaseConnection, DbErr> {
    let started = std::time::Instant::now();
    loop {
        match Database::connect(sqlite_options(url, connections)).await {
            Err(e) if is_sqlite_busy(&e) && started.elapsed() < MIGRATION_WAIT => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            other => return other,
        }
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
