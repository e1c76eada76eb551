//! The audit log: every publish, yank, key and token change, with actor and time.

use sea_orm::{ConnectionTrait, DbErr, EntityTrait, QueryOrder, QuerySelect, Set};

use super::entities::audit_log::{self, Entity as AuditLog};

/// One audited event.
#[derive(Debug, Clone)]
pub struct Event<'a> {
    pub actor: &'a str,
    pub action: &'a str,
    pub target: &'a str,
    pub digest: Option<&'a str>,
    pub detail: Option<String>,
}

pub async fn record(db: &impl ConnectionTrait, e: Event<'_>) -> Result<(), DbErr> {
    AuditLog::insert(audit_log::ActiveModel {
        at: Set(crate::now_ms()),
        actor: Set(e.actor.chars().take(64).collect()),
        action: Set(e.action.to_owned()),
        target: Set(e.target.chars().take(255).collect()),
        digest: Set(e.digest.map(str::to_owned)),
        detail: Set(e.detail),
        ..Default::default()
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// The newest `limit` events, newest first, before id `before` if given.
pub async fn recent(
    db: &impl ConnectionTrait,
    before: Option<i64>,
    limit: u64,
) -> Result<Vec<audit_log::Model>, DbErr> {
    use sea_orm::{ColumnTrait, QueryFilter};
    let mut q = AuditLog::find();
    if let Some(b) = before {
        q = q.filter(audit_log::Column::Id.lt(b));
    }
    q.order_by_desc(audit_log::Column::Id).limit(limit).all(db).await
}
