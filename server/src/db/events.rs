//! The event sequence: append an event inside the transaction that makes the change,
//! and read "events after N".
//!
//! Numbers are gap-free and in commit order on both databases. [`append`] takes the next
//! number from the single-row `event_counter` with `UPDATE ... RETURNING`; on PostgreSQL
//! that row stays locked until the transaction ends, on SQLite the one writer connection
//! already serialises transactions. So a transaction that holds number N commits before
//! any transaction can take N + 1, and a rollback returns N. A reader that sees N has
//! seen every number below it: followers keep one integer, "the last number I applied",
//! and never need a clock. Append as the last write of a transaction, so the counter is
//! held for as short a time as possible.

use govstore_core::event::Event;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set, Statement};

use super::entities::events::{self, Entity as Events};

/// One stored event with its number and time (ms since the epoch).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub seq: i64,
    pub at: i64,
    pub event: Event,
    /// The event as stored (canonical JSON), with any field or type this version of
    /// govstore does not know.
    pub payload: String,
}

/// Append `event` in the caller's transaction; returns its number.
pub async fn append(txn: &impl ConnectionTrait, event: &Event) -> Result<i64, DbErr> {
    let backend = txn.get_database_backend();
    let row = txn
        .query_one_raw(Statement::from_string(
            backend,
            "UPDATE event_counter SET last_seq = last_seq + 1 WHERE id = 1 RETURNING last_seq",
        ))
        .await?
        .ok_or_else(|| DbErr::Custom("the event counter row is missing".into()))?;
    let seq: i64 = row.try_get("", "last_seq")?;
    Events::insert(events::ActiveModel {
        seq: Set(seq),
        at: Set(crate::now_ms()),
        kind: Set(event.kind().to_owned()),
        subject: Set(event.subject().chars().take(255).collect()),
        payload: Set(event.canonical_json()),
    })
    .exec_without_returning(txn)
    .await?;
    Ok(seq)
}

/// The number of the last committed event (0 when there is none).
pub async fn last_seq(db: &impl ConnectionTrait) -> Result<i64, DbErr> {
    let backend = db.get_database_backend();
    let row = db
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT last_seq FROM event_counter WHERE id = 1",
        ))
        .await?;
    match row {
        Some(r) => r.try_get("", "last_seq"),
        None => Ok(0),
    }
}

/// Up to `limit` events numbered above `after`, oldest first; only those of the given
/// kinds when `kinds` is not empty.
pub async fn after(db: &impl ConnectionTrait, after: i64, limit: u64, kinds: &[&str]) -> Result<Vec<Stored>, DbErr> {
    let mut q = Events::find().filter(events::Column::Seq.gt(after));
    if !kinds.is_empty() {
        q = q.filter(events::Column::Kind.is_in(kinds.iter().copied()));
    }
    let rows = q.order_by_asc(events::Column::Seq).limit(limit).all(db).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            // An event this version cannot read (written by a newer govstore with a value
            // it does not understand) must not stop followers: it reads as Unknown, and
            // its payload is kept for those who can.
            let event = Event::from_json(&r.payload).unwrap_or_else(|e| {
                tracing::warn!(seq = r.seq, kind = %r.kind, error = %e, "an event this govstore cannot read; skipped");
                Event::Unknown
            });
            Stored {
                seq: r.seq,
                at: r.at,
                event,
                payload: r.payload,
            }
        })
        .collect())
}
