//! Tags: listing in lexical order with pagination, resolving, moving, deleting.
//!
//! Plain OCI pushes and deletes go through the `*_plain` functions, which never touch
//! a tag that a package version row names: those are set by publish and never move.

use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};

use super::entities::package_versions::{self, Entity as Versions};
use super::entities::packages::{self, Entity as Packages};
use super::entities::repositories::Entity as Repositories;
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

/// What a tag write or delete through plain OCI did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plain {
    Done,
    /// There was no such tag (deletes).
    NotFound,
    /// The tag names a published package version: only publish sets those, and nothing
    /// moves or removes them. Nothing was written.
    VersionTag,
}

/// Whether any of `tags` names a published version of the package held in the
/// repository (a package whose name is the repository's name).
pub async fn any_version_tag(db: &impl ConnectionTrait, repository_id: i64, tags: &[String]) -> Result<bool, DbErr> {
    if tags.is_empty() {
        return Ok(false);
    }
    let Some(repo) = Repositories::find_by_id(repository_id).one(db).await? else {
        return Ok(false);
    };
    let Some(package) = Packages::find()
        .filter(packages::Column::Name.eq(repo.name))
        .one(db)
        .await?
    else {
        return Ok(false);
    };
    let found = Versions::find()
        .filter(package_versions::Column::PackageId.eq(package.id))
        .filter(package_versions::Column::Version.is_in(tags.iter().cloned()))
        .one(db)
        .await?;
    Ok(found.is_some())
}

/// `set` for a plain OCI manifest push: never creates or moves a version tag.
pub async fn set_plain(db: &impl ConnectionTrait, repository_id: i64, tag: &str, digest: &str) -> Result<Plain, DbErr> {
    if any_version_tag(db, repository_id, &[tag.to_owned()]).await? {
        return Ok(Plain::VersionTag);
    }
    set(db, repository_id, tag, digest).await?;
    Ok(Plain::Done)
}

/// `delete` for a plain OCI delete: never removes a version tag.
pub async fn delete_plain(db: &impl ConnectionTrait, repository_id: i64, tag: &str) -> Result<Plain, DbErr> {
    if any_version_tag(db, repository_id, &[tag.to_owned()]).await? {
        return Ok(Plain::VersionTag);
    }
    Ok(if delete(db, repository_id, tag).await? {
        Plain::Done
    } else {
        Plain::NotFound
    })
}

/// `delete_pointing_at` for a plain OCI manifest delete: removes nothing if a version tag
/// points at `digest`.
pub async fn delete_plain_pointing_at(
    db: &impl ConnectionTrait,
    repository_id: i64,
    digest: &str,
) -> Result<Plain, DbErr> {
    let pointing: Vec<String> = Tags::find()
        .filter(tags::Column::RepositoryId.eq(repository_id))
        .filter(tags::Column::ManifestDigest.eq(digest))
        .all(db)
        .await?
        .into_iter()
        .map(|t| t.name)
        .collect();
    if any_version_tag(db, repository_id, &pointing).await? {
        return Ok(Plain::VersionTag);
    }
    delete_pointing_at(db, repository_id, digest).await?;
    Ok(Plain::Done)
}
