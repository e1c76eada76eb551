//! The event sequence: one row per state change that others follow (publish, yank,
//! unyank, key registered or revoked, spec published; later approvals and bundles),
//! numbered gap-free in commit order.
//!
//! `event_counter` is a single row; a writer takes the next number with
//! `UPDATE event_counter SET last_seq = last_seq + 1 ... RETURNING last_seq` inside the
//! transaction that makes the change. The row lock (PostgreSQL) or the single writer
//! (SQLite) serialises those transactions from that statement to their commit, so a
//! number is only ever visible after every smaller one, and a rollback gives its number
//! back. Existing databases get the history they already hold: every published version
//! (and its yank), every key and every spec, in the order they happened.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, Statement};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum EventCounter {
    Table,
    Id,
    LastSeq,
}

#[derive(DeriveIden)]
enum Events {
    Table,
    Seq,
    At,
    Kind,
    Subject,
    Payload,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(EventCounter::Table)
                .col(integer(EventCounter::Id).primary_key())
                .col(big_integer(EventCounter::LastSeq))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Events::Table)
                .col(big_integer(Events::Seq).primary_key())
                .col(big_integer(Events::At))
                .col(string_len(Events::Kind, 32))
                .col(string_len(Events::Subject, 255))
                .col(text(Events::Payload))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("events_kind_seq")
                .table(Events::Table)
                .col(Events::Kind)
                .col(Events::Seq)
                .to_owned(),
        )
        .await?;
        let history = backfill(m).await?;
        m.exec_stmt(
            Query::insert()
                .into_table(EventCounter::Table)
                .columns([EventCounter::Id, EventCounter::LastSeq])
                .values_panic([1.into(), (history as i64).into()])
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Events::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(EventCounter::Table).to_owned())
            .await?;
        Ok(())
    }
}

/// One event of the existing history: when, kind, subject, payload (sorted keys, as
/// `govstore_core::event::Event::canonical_json` writes them; serde_json's map is sorted).
type Past = (i64, &'static str, String, serde_json::Value);

/// Write the history an existing database already holds as events 1..=N; returns N.
async fn backfill(m: &SchemaManager<'_>) -> Result<u64, DbErr> {
    let db = m.get_connection();
    let backend = db.get_database_backend();
    let q = |sql: &str| Statement::from_string(backend, sql.to_owned());
    if backend == sea_orm_migration::sea_orm::DatabaseBackend::Postgres {
        // Replicas of the previous release may still be writing: hold their writes until
        // this migration commits, so that no change lands between the history read here
        // and the first event a new replica appends. (On SQLite the migration holds the
        // database's write lock already.)
        db.execute_raw(q("LOCK TABLE package_versions, signing_keys, specs IN SHARE MODE"))
            .await?;
    }
    let mut past: Vec<Past> = Vec::new();
    let versions = db
        .query_all_raw(q(
            "SELECT p.name AS name, pv.version AS version, pv.manifest_digest AS digest, \
             pv.signature_digest AS sig, pv.key_id AS key_id, pv.published_at AS at, \
             pv.yanked AS yanked, pv.yank_reason AS reason \
             FROM package_versions pv JOIN packages p ON p.id = pv.package_id ORDER BY pv.id",
        ))
        .await?;
    for row in versions {
        let name: String = row.try_get("", "name")?;
        let version: String = row.try_get("", "version")?;
        let digest: String = row.try_get("", "digest")?;
        let at: i64 = row.try_get("", "at")?;
        past.push((
            at,
            "version_published",
            name.clone(),
            serde_json::json!({
                "type": "version_published", "package": name, "version": version, "digest": digest,
                "signature_digest": row.try_get::<String>("", "sig")?, "key_id": row.try_get::<String>("", "key_id")?,
            }),
        ));
        if row.try_get::<bool>("", "yanked")? {
            let reason: Option<String> = row.try_get("", "reason")?;
            past.push((
                at,
                "version_yanked",
                name.clone(),
                serde_json::json!({
                    "type": "version_yanked", "package": name, "version": version, "digest": digest,
                    "reason": reason.unwrap_or_default(),
                }),
            ));
        }
    }
    let keys = db
        .query_all_raw(q(
            "SELECT o.name AS ns, k.key_id AS key_id, k.created_at AS at, k.revoked_at AS revoked_at, \
             k.revoke_reason AS reason FROM signing_keys k JOIN organisations o ON o.id = k.organisation_id \
             ORDER BY k.id",
        ))
        .await?;
    for row in keys {
        let ns: String = row.try_get("", "ns")?;
        let key_id: String = row.try_get("", "key_id")?;
        past.push((
            row.try_get("", "at")?,
            "key_registered",
            ns.clone(),
            serde_json::json!({ "type": "key_registered", "namespace": ns, "key_id": key_id }),
        ));
        if let Some(revoked_at) = row.try_get::<Option<i64>>("", "revoked_at")? {
            let reason: Option<String> = row.try_get("", "reason")?;
            past.push((
                revoked_at,
                "key_revoked",
                ns.clone(),
                serde_json::json!({
                    "type": "key_revoked", "namespace": ns, "key_id": key_id, "reason": reason.unwrap_or_default(),
                }),
            ));
        }
    }
    let specs = db
        .query_all_raw(q(
            "SELECT spec_id AS spec, document AS document, updated_at AS at FROM specs ORDER BY id",
        ))
        .await?;
    for row in specs {
        use sha2::Digest as _;
        let spec: String = row.try_get("", "spec")?;
        let document: String = row.try_get("", "document")?;
        let digest = format!("sha256:{}", hex::encode(sha2::Sha256::digest(document.as_bytes())));
        past.push((
            row.try_get("", "at")?,
            "spec_published",
            spec.clone(),
            serde_json::json!({ "type": "spec_published", "spec": spec, "digest": digest }),
        ));
    }
    // A stable order: by time, then as read (publish before its yank).
    past.sort_by_key(|p| p.0);
    for (seq, (at, kind, subject, payload)) in past.iter().enumerate() {
        m.exec_stmt(
            Query::insert()
                .into_table(Events::Table)
                .columns([Events::Seq, Events::At, Events::Kind, Events::Subject, Events::Payload])
                .values_panic([
                    (seq as i64 + 1).into(),
                    (*at).into(),
                    (*kind).into(),
                    subject.clone().into(),
                    payload.to_string().into(),
                ])
                .to_owned(),
        )
        .await?;
    }
    Ok(past.len() as u64)
}
