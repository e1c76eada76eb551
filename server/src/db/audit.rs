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

/// The audit actions that change what a package's search document says.
pub const PACKAGE_CHANGES: [&str; 3] = ["version.publish", "version.yank", "version.unyank"];

/// Package changes (publish, yank, unyank) with an id above `after_id` recorded at or after
/// `since_ms`, oldest first, at most `limit`: what a replica follows to keep its search index
/// current with the writes of other replicas. Both bounds use indexed or cheap columns: the id
/// range is the primary key; `at` only trims it.
pub async fn package_changes_since(
    db: &impl ConnectionTrait,
    after_id: i64,
    since_ms: i64,
    limit: u64,
) -> Result<Vec<audit_log::Model>, DbErr> {
    use sea_orm::{ColumnTrait, QueryFilter};
    AuditLog::find()
        .filter(audit_log::Column::Id.gt(after_id))
        .filter(audit_log::Column::At.gte(since_ms))
        .filter(audit_log::Column::Action.is_in(PACKAGE_CHANGES))
        .order_by_asc(audit_log::Column::Id)
        .limit(limit)
        .all(db)
        .await
}
