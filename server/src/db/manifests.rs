//! Manifests: storing one with its references, fetching, deleting, and the referrers
//! of a subject.

use std::collections::BTreeMap;

use govstore_core::Digest;
use govstore_core::oci::{Descriptor, ManifestInfo};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};

use super::entities::manifest_references::{self, Entity as References};
use super::entities::manifests::{self, Entity as Manifests};

pub async fn find(
    db: &impl ConnectionTrait,
    repository_id: i64,
    digest: &str,
) -> Result<Option<manifests::Model>, DbErr> {
    Manifests::find()
        .filter(manifests::Column::RepositoryId.eq(repository_id))
        .filter(manifests::Column::Digest.eq(digest))
        .one(db)
        .await
}

/// Which of `digests` are manifests in the repository.
pub async fn existing(db: &impl ConnectionTrait, repository_id: i64, digests: &[String]) -> Result<Vec<String>, DbErr> {
    if digests.is_empty() {
        return Ok(Vec::new());
    }
    Ok(Manifests::find()
        .filter(manifests::Column::RepositoryId.eq(repository_id))
        .filter(manifests::Column::Digest.is_in(digests.iter().cloned()))
        .all(db)
        .await?
        .into_iter()
        .map(|m| m.digest)
        .collect())
}

/// Store a manifest unless the repository already has it. Run inside a transaction.
pub async fn insert_if_absent(
    db: &impl ConnectionTrait,
    repository_id: i64,
    digest: &Digest,
    info: &ManifestInfo,
    content: &[u8],
) -> Result<(), DbErr> {
    let digest = digest.to_string();
    if find(db, repository_id, &digest).await?.is_some() {
        return Ok(());
    }
    let annotations = if info.annotations.is_empty() {
        None
    } else {
        Some(serde_json::to_string(&info.annotations).map_err(|e| DbErr::Custom(e.to_string()))?)
    };
    let inserted = Manifests::insert(manifests::ActiveModel {
        repository_id: Set(repository_id),
        digest: Set(digest),
        media_type: Set(info.media_type.clone()),
        artifact_type: Set(info.artifact_type.clone()),
        size: Set(content.len() as i64),
        subject_digest: Set(info.subject.as_ref().map(|s| s.digest.to_string())),
        annotations: Set(annotations),
        content: Set(content.to_vec()),
        created_at: Set(crate::now_ms()),
        ..Default::default()
    })
    .exec(db)
    .await?;
    let mut refs: Vec<(String, &str)> = info.blobs.iter().map(|d| (d.digest.to_string(), "blob")).collect();
    refs.extend(info.manifests.iter().map(|d| (d.digest.to_string(), "manifest")));
    refs.sort();
    refs.dedup();
    if !refs.is_empty() {
        References::insert_many(refs.into_iter().map(|(digest, kind)| manifest_references::ActiveModel {
            manifest_id: Set(inserted.last_insert_id),
            digest: Set(digest),
            kind: Set(kind.to_owned()),
        }))
        .exec_without_returning(db)
        .await?;
    }
    Ok(())
}

/// Delete a manifest from a repository. Returns whether it existed.
pub async fn delete(db: &impl ConnectionTrait, repository_id: i64, digest: &str) -> Result<bool, DbErr> {
    let Some(m) = find(db, repository_id, digest).await? else {
        return Ok(false);
    };
    References::delete_many()
        .filter(manifest_references::Column::ManifestId.eq(m.id))
        .exec(db)
        .await?;
    Manifests::delete_by_id(m.id).exec(db).await?;
    Ok(true)
}

/// id, digest, media type, artifact type, size, annotations.
type ReferrerRow = (i64, String, String, Option<String>, i64, Option<String>);

/// Descriptors of the manifests whose subject is `subject`, oldest first, optionally
/// only those of one artifact type, starting after the row id `after`. Each comes with
/// its row id, the cursor for the next page.
pub async fn referrers(
    db: &impl ConnectionTrait,
    repository_id: i64,
    subject: &Digest,
    artifact_type: Option<&str>,
    after: Option<i64>,
    limit: u64,
) -> Result<Vec<(i64, Descriptor)>, DbErr> {
    let mut q = Manifests::find()
        .select_only()
        .columns([
            manifests::Column::Id,
            manifests::Column::Digest,
            manifests::Column::MediaType,
            manifests::Column::ArtifactType,
            manifests::Column::Size,
            manifests::Column::Annotations,
        ])
        .filter(manifests::Column::RepositoryId.eq(repository_id))
        .filter(manifests::Column::SubjectDigest.eq(subject.to_string()));
    if let Some(t) = artifact_type {
        q = q.filter(manifests::Column::ArtifactType.eq(t));
    }
    if let Some(after) = after {
        q = q.filter(manifests::Column::Id.gt(after));
    }
    let rows: Vec<ReferrerRow> = q
        .order_by_asc(manifests::Column::Id)
        .limit(limit)
        .into_tuple()
        .all(db)
        .await?;
    rows.into_iter()
        .map(|(id, digest, media_type, artifact_type, size, annotations)| {
            let annotations = annotations
                .map(|a| serde_json::from_str::<BTreeMap<String, String>>(&a))
                .transpose()
                .map_err(|e| DbErr::Custom(format!("stored annotations: {e}")))?;
            let digest = digest
                .parse()
                .map_err(|e| DbErr::Custom(format!("stored digest: {e}")))?;
            Ok((
                id,
                Descriptor {
                    media_type,
                    digest,
                    size: size as u64,
                    artifact_type,
                    annotations,
                },
            ))
        })
        .collect()
}
