//! The queries behind the stack check: the whole catalogue as the resolver reads it,
//! and a cheap "generation" that changes whenever the catalogue may have.
//!
//! Every publish, yank and unyank writes an audit entry in the same transaction as the
//! change (ARCHITECTURE.md, invariant 11), and audit entries are never deleted. So the
//! number of audit entries, with the highest id, changes with every committed change to
//! the catalogue (and with some changes that do not touch it, such as key changes,
//! which only cost a reload). The count is what makes it exact: on PostgreSQL ids are
//! handed out before commit, so a transaction can commit below the highest id, but it
//! still raises the count.

use sea_orm::{ConnectionTrait, DbErr, EntityTrait, QuerySelect};

use super::entities::audit_log::{self, Entity as AuditLog};
use super::entities::package_versions::{self, Entity as Versions};
use super::entities::packages::{self, Entity as Packages};

/// Where the catalogue stands: equal generations mean an unchanged catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Generation {
    pub audit_entries: i64,
    pub last_audit_id: i64,
}

/// The current [`Generation`].
pub async fn generation(db: &impl ConnectionTrait) -> Result<Generation, DbErr> {
    use sea_orm::sea_query::{Expr, ExprTrait};
    let row: Option<(i64, Option<i64>)> = AuditLog::find()
        .select_only()
        .column_as(Expr::col(audit_log::Column::Id).count(), "entries")
        .column_as(Expr::col(audit_log::Column::Id).max(), "last")
        .into_tuple()
        .one(db)
        .await?;
    let (audit_entries, last) = row.unwrap_or((0, None));
    Ok(Generation {
        audit_entries,
        last_audit_id: last.unwrap_or(0),
    })
}

/// Every package (id, name) and every published version, yanked ones included.
pub async fn everything(
    db: &impl ConnectionTrait,
) -> Result<(Vec<packages::Model>, Vec<package_versions::Model>), DbErr> {
    let packages = Packages::find().all(db).await?;
    let versions = Versions::find().all(db).await?;
    Ok((packages, versions))
}
