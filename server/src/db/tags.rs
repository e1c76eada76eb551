//! Tags: listing in lexical order with pagination, resolving, moving, deleting.

use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};

use super::entities::tags::{self, Entity as Tags};

/// Up to `limit` tag names after `last`, in lexical (byte) order.
pub async fn list(
    db: &impl ConnectionTrait,
    repository_id: i64,
    last: Option<&str>,
    limit: u64,
) -> Result<Vec<String>, DbErr> {
    let mut q = Tags::find().filter(tags::Column::RepositoryId.eq(repository_id));
    if let Some(last) = last {
        q = q.filter(tags::Column::Name.gt(last));
    }
    let rows = q.order_by_asc(tags::Column::Name).limit(limit).all(db).await?;
    Ok(rows.into_iter().map(|t| t.name).collect())
}

pub async fn resolve(db: &impl ConnectionTrait, repository_id: i64, tag: &str) -> Result<Option<String>, DbErr> {
    Ok(Tags::find_by_id((repository_id, tag.to_owned()))
        .one(db)
        .await?
        .map(|t| t.manifest_digest))
}

/// Point a tag at a manifest, creating or moving it.
pub async fn set(db: &impl ConnectionTrait, repository_id: i64, tag: &str, digest: &str) -> Result<(), DbErr> {
    Tags::insert(tags::ActiveModel {
        repository_id: Set(repository_id),
        name: Set(tag.to_owned()),
        manifest_digest: Set(digest.to_owned()),
        updated_at: Set(crate::now_ms()),
    })
    .on_conflict(
        OnConflict::columns([tags::Column::RepositoryId, tags::Column::Name])
            .update_columns([tags::Column::ManifestDigest, tags::Column::UpdatedAt])
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

pub async fn delete(db: &impl ConnectionTrait, repository_id: i64, tag: &str) -> Result<bool, DbErr> {
    let res = Tags::delete_by_id((repository_id, tag.to_owned())).exec(db).await?;
    Ok(res.rows_affected > 0)
}

/// Delete every tag pointing at `digest`.
pub async fn delete_pointing_at(db: &impl ConnectionTrait, repository_id: i64, digest: &str) -> Result<u64, DbErr> {
    let res = Tags::delete_many()
        .filter(tags::Column::RepositoryId.eq(repository_id))
        .filter(tags::Column::ManifestDigest.eq(digest))
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}
