//! Starting up: replicas that start at once on one new database all come up, and the
//! schema they leave is complete (migrations run under a lock).

use govstore_migrations::{Migrator, MigratorTrait};
use govstore_server::db::Db;
use sea_orm::{ConnectionTrait, Database};

use crate::common::{Backend, postgres_admin_url};
use crate::on_both_backends;

on_both_backends!(replicas_starting_together_all_migrate);

/// How many servers start at once, and how many times (each on a new database).
const REPLICAS: usize = 4;
const ROUNDS: usize = 3;

async fn replicas_starting_together_all_migrate(b: Backend) {
    for round in 0..ROUNDS {
        let dir = tempfile::tempdir().unwrap();
        let (url, pg_name) = match b {
            Backend::Sqlite => (
                format!("sqlite://{}?mode=rwc", dir.path().join("govstore.db").display()),
                None,
            ),
            Backend::Postgres => {
                let name = format!("govstore_t_{}", uuid::Uuid::new_v4().simple());
                let admin = Database::connect(postgres_admin_url()).await.unwrap();
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .unwrap();
                admin.close().await.unwrap();
                let base = postgres_admin_url();
                let base = base.rsplit_once('/').map(|(b, _)| b.to_owned()).unwrap();
                (format!("{base}/{name}"), Some(name))
            }
        };
        // Each on its own runtime worker, released together.
        let start = std::sync::Arc::new(tokio::sync::Barrier::new(REPLICAS));
        let tasks: Vec<_> = (0..REPLICAS)
            .map(|_| {
                let (url, start) = (url.clone(), start.clone());
                tokio::spawn(async move {
                    start.wait().await;
                    Db::connect(&url).await
                })
            })
            .collect();
        let mut dbs = Vec::new();
        for (i, t) in tasks.into_iter().enumerate() {
            match t.await.unwrap() {
                Ok(db) => dbs.push(db),
                Err(e) => panic!("round {round}: replica {i} did not start: {e}"),
            }
        }
        let db = &dbs[0].write;
        let pending = Migrator::get_pending_migrations(db).await.unwrap();
        assert!(pending.is_empty(), "round {round}: migrations left pending");
        let applied = Migrator::get_applied_migrations(db).await.unwrap();
        assert_eq!(
            applied.len(),
            Migrator::migrations().len(),
            "round {round}: every migration applied once"
        );
        // The schema is usable from every replica.
        for d in &dbs {
            d.read
                .execute_unprepared("SELECT count(*) FROM package_versions")
                .await
                .unwrap();
        }
        for d in dbs {
            d.read.close().await.unwrap();
            if b == Backend::Sqlite {
                d.write.close().await.unwrap();
            }
        }
        if let Some(name) = pg_name {
            let admin = Database::connect(postgres_admin_url()).await.unwrap();
            admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await
                .unwrap();
        }
    }
}
