//! Repository lookups and creation.

use govstore_core::RepoName;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};

use super::entities::repositories::{self, Entity as Repositories};

pub async fn find(db: &impl ConnectionTrait, name: &RepoName) -> Result<Option<repositories::Model>, DbErr> {
    Repositories::find()
        .filter(repositories::Column::Name.eq(name.as_str()))
        .one(db)
        .await
}

/// The repository's id, creating the repository if it does not exist yet.
pub async fn ensure(db: &impl ConnectionTrait, name: &RepoName) -> Result<i64, DbErr> {
    if let Some(r) = find(db, name).await? {
        return Ok(r.id);
    }
    Repositories::insert(repositories::ActiveModel {
        name: Set(name.as_str().to_owned()),
        created_at: Set(crate::now_ms()),
        ..Default::default()
    })
    .on_conflict_do_nothing_on([repositories::Column::Name])
    .exec(db)
    .await?;
    find(db, name)
        .await?
        .map(|r| r.id)
        .ok_or_else(|| DbErr::RecordNotFound(format!("repository {name} vanished after insert")))
}
