//! Repository lookups and creation.

use govstore_core::RepoName;
use sea_orm::sea_query::Expr;
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

/// The repository's id, creating the repository if it does not exist yet, with its row
/// locked until the transaction ends. Every transaction that decides what a
/// repository's tags mean takes this lock before reading anything it relies on: the
/// publish transaction, and plain OCI manifest PUT and DELETE (which then re-check that
/// the repository holds no packages). So they run one after another, and the later one
/// sees the earlier one's committed rows. The lock is an UPDATE of the row (a row lock
/// on PostgreSQL that does not block foreign-key checks of other inserts; on SQLite the
/// database's one write lock).
pub async fn lock_for_write(db: &impl ConnectionTrait, name: &RepoName) -> Result<i64, DbErr> {
    if let Some(id) = lock_existing(db, name).await? {
        return Ok(id);
    }
    // A concurrent creator makes this wait for its commit, then do nothing.
    Repositories::insert(repositories::ActiveModel {
        name: Set(name.as_str().to_owned()),
        created_at: Set(crate::now_ms()),
        ..Default::default()
    })
    .on_conflict_do_nothing_on([repositories::Column::Name])
    .exec_without_returning(db)
    .await?;
    lock_existing(db, name)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("repository {name} vanished after insert")))
}

/// Lock an existing repository's row until the transaction ends (see `lock_for_write`);
/// `None` if there is no such repository.
pub async fn lock_existing(db: &impl ConnectionTrait, name: &RepoName) -> Result<Option<i64>, DbErr> {
    let res = Repositories::update_many()
        .col_expr(
            repositories::Column::CreatedAt,
            Expr::col(repositories::Column::CreatedAt),
        )
        .filter(repositories::Column::Name.eq(name.as_str()))
        .exec(db)
        .await?;
    if res.rows_affected == 0 {
        return Ok(None);
    }
    Ok(find(db, name).await?.map(|r| r.id))
}
