//! Blob records and their links to repositories.

use govstore_core::Digest;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};

use super::entities::blobs::{self, Entity as Blobs};
use super::entities::repository_blobs::{self, Entity as RepositoryBlobs};

/// The size of a blob if it is linked to the repository.
pub async fn linked_size(db: &impl ConnectionTrait, repository_id: i64, digest: &Digest) -> Result<Option<u64>, DbErr> {
    let linked = RepositoryBlobs::find_by_id((repository_id, digest.to_string()))
        .one(db)
        .await?;
    if linked.is_none() {
        return Ok(None);
    }
    Ok(Blobs::find_by_id(digest.to_string())
        .one(db)
        .await?
        .map(|b| b.size as u64))
}

/// Record a blob that is now in the store and link it to the repository. Idempotent.
pub async fn record_and_link(
    db: &impl ConnectionTrait,
    repository_id: i64,
    digest: &Digest,
    size: u64,
) -> Result<(), DbErr> {
    let now = crate::now_ms();
    Blobs::insert(blobs::ActiveModel {
        digest: Set(digest.to_string()),
        size: Set(size as i64),
        created_at: Set(now),
    })
    .on_conflict_do_nothing()
    .exec_without_returning(db)
    .await?;
    link(db, repository_id, digest).await
}

/// Link a known blob to a repository (a cross-repository mount). Idempotent.
pub async fn link(db: &impl ConnectionTrait, repository_id: i64, digest: &Digest) -> Result<(), DbErr> {
    RepositoryBlobs::insert(repository_blobs::ActiveModel {
        repository_id: Set(repository_id),
        digest: Set(digest.to_string()),
        created_at: Set(crate::now_ms()),
    })
    .on_conflict_do_nothing()
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Remove a blob's link from a repository. Returns whether it was linked. The bytes
/// stay in the store (other repositories may share them) until garbage collection.
pub async fn unlink(db: &impl ConnectionTrait, repository_id: i64, digest: &Digest) -> Result<bool, DbErr> {
    let res = RepositoryBlobs::delete_many()
        .filter(repository_blobs::Column::RepositoryId.eq(repository_id))
        .filter(repository_blobs::Column::Digest.eq(digest.to_string()))
        .exec(db)
        .await?;
    Ok(res.rows_affected > 0)
}

/// Sizes of those of `digests` that are linked to the repository.
pub async fn linked_sizes(
    db: &impl ConnectionTrait,
    repository_id: i64,
    digests: &[String],
) -> Result<std::collections::HashMap<String, u64>, DbErr> {
    if digests.is_empty() {
        return Ok(Default::default());
    }
    let linked: Vec<String> = RepositoryBlobs::find()
        .filter(repository_blobs::Column::RepositoryId.eq(repository_id))
        .filter(repository_blobs::Column::Digest.is_in(digests.iter().cloned()))
        .all(db)
        .await?
        .into_iter()
        .map(|l| l.digest)
        .collect();
    Ok(Blobs::find()
        .filter(blobs::Column::Digest.is_in(linked))
        .all(db)
        .await?
        .into_iter()
        .map(|b| (b.digest, b.size as u64))
        .collect())
}
