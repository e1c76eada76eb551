//! Upload session records and their parts (see `storage::uploads` for the design).

use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
    TransactionTrait,
};

use super::entities::upload_parts::{self, Entity as UploadParts};
use super::entities::uploads::{self, Entity as Uploads};

pub async fn create(db: &impl ConnectionTrait, id: &str, repository_id: i64) -> Result<(), DbErr> {
    let now = crate::now_ms();
    Uploads::insert(uploads::ActiveModel {
        id: Set(id.to_owned()),
        repository_id: Set(repository_id),
        received: Set(0),
        hash_state: Set(None),
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

/// The session's parts, in order.
pub async fn parts(db: &impl ConnectionTrait, id: &str) -> Result<Vec<upload_parts::Model>, DbErr> {
    UploadParts::find()
        .filter(upload_parts::Column::UploadId.eq(id))
        .order_by_asc(upload_parts::Column::PartIndex)
        .all(db)
        .await
}

pub async fn count(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    Uploads::find().count(db).await
}

/// A part to record: `length` bytes at `offset` in the object `object_key`, and the hash's
/// midstate after them.
#[derive(Debug, Clone, Copy)]
pub struct NewPart<'a> {
    pub index: i32,
    pub offset: u64,
    pub length: u64,
    pub object_key: &'a str,
    pub hash_state: &'a [u8],
}

/// Record a part if the session still has exactly `part.offset` bytes: a compare-and-set
/// on `received` that writes the new length and hash midstate in one UPDATE, and the part
/// row, in one transaction. Returns false (and changes nothing) if the session is gone or
/// another request appended first.
pub async fn add_part(db: &DatabaseConnection, id: &str, part: NewPart<'_>) -> Result<bool, DbErr> {
    let NewPart {
        index,
        offset,
        length,
        object_key,
        hash_state,
    } = part;
    let now = crate::now_ms();
    let txn = db.begin().await?;
    let moved = Uploads::update_many()
        .col_expr(uploads::Column::Received, ((offset + length) as i64).into())
        .col_expr(uploads::Column::HashState, hash_state.to_vec().into())
        .col_expr(uploads::Column::UpdatedAt, now.into())
        .filter(uploads::Column::Id.eq(id))
        .filter(uploads::Column::Received.eq(offset as i64))
        .exec(&txn)
        .await?;
    if moved.rows_affected != 1 {
        txn.rollback().await?;
        return Ok(false);
    }
    UploadParts::insert(upload_parts::ActiveModel {
        upload_id: Set(id.to_owned()),
        part_index: Set(index),
        object_key: Set(object_key.to_owned()),
        byte_offset: Set(offset as i64),
        length: Set(length as i64),
        created_at: Set(now),
    })
    .exec_without_returning(&txn)
    .await?;
    txn.commit().await?;
    Ok(true)
}

/// Remove a session and its part rows.
pub async fn delete(db: &DatabaseConnection, id: &str) -> Result<(), DbErr> {
    let txn = db.begin().await?;
    UploadParts::delete_many()
        .filter(upload_parts::Column::UploadId.eq(id))
        .exec(&txn)
        .await?;
    Uploads::delete_by_id(id.to_owned()).exec(&txn).await?;
    txn.commit().await
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
