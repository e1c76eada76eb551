//! Upload session records.

use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, Set};

use super::entities::uploads::{self, Entity as Uploads};

pub async fn create(db: &impl ConnectionTrait, id: &str, repository_id: i64) -> Result<(), DbErr> {
    let now = crate::now_ms();
    Uploads::insert(uploads::ActiveModel {
        id: Set(id.to_owned()),
        repository_id: Set(repository_id),
        received: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<Option<uploads::Model>, DbErr> {
    Uploads::find_by_id(id.to_owned()).one(db).await
}

pub async fn count(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    Uploads::find().count(db).await
}

pub async fn set_received(db: &impl ConnectionTrait, id: &str, received: u64) -> Result<(), DbErr> {
    Uploads::update_many()
        .col_expr(uploads::Column::Received, (received as i64).into())
        .col_expr(uploads::Column::UpdatedAt, crate::now_ms().into())
        .filter(uploads::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn delete(db: &impl ConnectionTrait, id: &str) -> Result<(), DbErr> {
    Uploads::delete_by_id(id.to_owned()).exec(db).await?;
    Ok(())
}

/// Ids of sessions idle since before `cutoff_ms`.
pub async fn idle_since(db: &impl ConnectionTrait, cutoff_ms: i64) -> Result<Vec<String>, DbErr> {
    Ok(Uploads::find()
        .filter(uploads::Column::UpdatedAt.lt(cutoff_ms))
        .all(db)
        .await?
        .into_iter()
        .map(|u| u.id)
        .collect())
}

/// Every open session's id.
pub async fn all_ids(db: &impl ConnectionTrait) -> Result<Vec<String>, DbErr> {
    Ok(Uploads::find().all(db).await?.into_iter().map(|u| u.id).collect())
}
