//! A country's review queue: versions proposed for approval, and the reviewers'
//! recommendations on them.

use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};

use super::entities::proposals::{self, Entity as Proposals};
use super::entities::recommendations::{self, Entity as Recommendations};

pub use proposals::Model as Proposal;
pub use recommendations::Model as Recommendation;

/// Propose a version; an existing proposal of the same digest is returned instead
/// (`false`), reopened if it was decided.
pub async fn propose(
    db: &impl ConnectionTrait,
    country_id: i64,
    package: &str,
    version: &str,
    digest: &str,
    note: Option<&str>,
    by: i64,
) -> Result<(Proposal, bool), DbErr> {
    if let Some(mut p) = find(db, country_id, digest).await? {
        if p.status != "open" {
            set_status(db, p.id, "open").await?;
            p.status = "open".to_owned();
        }
        return Ok((p, false));
    }
    let res = Proposals::insert(proposals::ActiveModel {
        country_id: Set(country_id),
        package: Set(package.to_owned()),
        version: Set(version.to_owned()),
        manifest_digest: Set(digest.to_owned()),
        note: Set(note.map(str::to_owned)),
        status: Set("open".to_owned()),
        proposed_by: Set(by),
        proposed_at: Set(crate::now_ms()),
        ..Default::default()
    })
    .exec(db)
    .await?;
    let p = Proposals::find_by_id(res.last_insert_id)
        .one(db)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("proposal vanished after insert".into()))?;
    Ok((p, true))
}

pub async fn find(db: &impl ConnectionTrait, country_id: i64, digest: &str) -> Result<Option<Proposal>, DbErr> {
    Proposals::find()
        .filter(proposals::Column::CountryId.eq(country_id))
        .filter(proposals::Column::ManifestDigest.eq(digest))
        .one(db)
        .await
}

pub async fn by_id(db: &impl ConnectionTrait, id: i64) -> Result<Option<Proposal>, DbErr> {
    Proposals::find_by_id(id).one(db).await
}

/// A country's proposals with `status`, oldest first, at most `limit`.
pub async fn with_status(
    db: &impl ConnectionTrait,
    country_id: i64,
    status: &str,
    limit: u64,
) -> Result<Vec<Proposal>, DbErr> {
    Proposals::find()
        .filter(proposals::Column::CountryId.eq(country_id))
        .filter(proposals::Column::Status.eq(status))
        .order_by_asc(proposals::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

pub async fn set_status(db: &impl ConnectionTrait, id: i64, status: &str) -> Result<(), DbErr> {
    Proposals::update_many()
        .col_expr(proposals::Column::Status, status.into())
        .filter(proposals::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn recommend(
    db: &impl ConnectionTrait,
    proposal_id: i64,
    reviewer_id: i64,
    recommendation: &str,
    notes: Option<&str>,
) -> Result<i64, DbErr> {
    let res = Recommendations::insert(recommendations::ActiveModel {
        proposal_id: Set(proposal_id),
        reviewer_id: Set(reviewer_id),
        recommendation: Set(recommendation.to_owned()),
        notes: Set(notes.map(str::to_owned)),
        created_at: Set(crate::now_ms()),
        ..Default::default()
    })
    .exec(db)
    .await?;
    Ok(res.last_insert_id)
}

/// The recommendations on a proposal, oldest first (bounded: one per reviewer action,
/// at most `limit`).
pub async fn recommendations(
    db: &impl ConnectionTrait,
    proposal_id: i64,
    limit: u64,
) -> Result<Vec<Recommendation>, DbErr> {
    Recommendations::find()
        .filter(recommendations::Column::ProposalId.eq(proposal_id))
        .order_by_asc(recommendations::Column::Id)
        .limit(limit)
        .all(db)
        .await
}
