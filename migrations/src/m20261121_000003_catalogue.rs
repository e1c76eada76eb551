//! The catalogue around the packages: downloads counted per package version and day,
//! metadata-only listings imported from external registries (the DPG registry), and
//! `package_versions.content_digest`, the digest of a version's content layer, so that a
//! blob download can be counted against its version. Existing versions get their content
//! digest from their stored OCI manifest.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, Statement};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PackageVersions {
    Table,
    Id,
    ContentDigest,
    PackageId,
}

#[derive(DeriveIden)]
enum Downloads {
    Table,
    PackageVersionId,
    Day,
    Count,
}

#[derive(DeriveIden)]
enum Listings {
    Table,
    Id,
    Source,
    SourceId,
    Collection,
    Name,
    Aliases,
    Description,
    Website,
    Licenses,
    Sdgs,
    Sectors,
    Types,
    Countries,
    UnmappedCountries,
    Repositories,
    Organisations,
    Stage,
    Fingerprint,
    ImportedAt,
    UpdatedAt,
}

/// The media type of a package's content layer (`govstore_core::artifact`), frozen here
/// as this migration ran.
const CONTENT_MEDIA_TYPE: &str = "application/vnd.govstore.package.content.v1.tar+gzip";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(PackageVersions::Table)
                .add_column(string_len_null(PackageVersions::ContentDigest, 71))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("package_versions_content")
                .table(PackageVersions::Table)
                .col(PackageVersions::PackageId)
                .col(PackageVersions::ContentDigest)
                .to_owned(),
        )
        .await?;
        backfill_content_digests(m).await?;

        m.create_table(
            Table::create()
                .table(Downloads::Table)
                .col(big_integer(Downloads::PackageVersionId))
                // UTC day, `YYYY-MM-DD`: sorts and compares as a date on both databases.
                .col(string_len(Downloads::Day, 10))
                .col(big_integer(Downloads::Count))
                .primary_key(Index::create().col(Downloads::PackageVersionId).col(Downloads::Day))
                .foreign_key(
                    ForeignKey::create()
                        .from(Downloads::Table, Downloads::PackageVersionId)
                        .to(PackageVersions::Table, PackageVersions::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Listings::Table)
                .col(big_pk_auto(Listings::Id))
                .col(string_len(Listings::Source, 16))
                .col(string_len(Listings::SourceId, 128))
                .col(string_len(Listings::Collection, 32))
                .col(string_len(Listings::Name, 200))
                // JSON arrays, as text (the same on both databases).
                .col(text(Listings::Aliases))
                .col(text(Listings::Description))
                .col(text_null(Listings::Website))
                .col(text(Listings::Licenses))
                .col(text(Listings::Sdgs))
                .col(text(Listings::Sectors))
                .col(text(Listings::Types))
                .col(text(Listings::Countries))
                .col(text(Listings::UnmappedCountries))
                .col(text(Listings::Repositories))
                .col(text(Listings::Organisations))
                .col(string_len_null(Listings::Stage, 32))
                .col(string_len(Listings::Fingerprint, 64))
                .col(big_integer(Listings::ImportedAt))
                .col(big_integer(Listings::UpdatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("listings_source_id")
                .table(Listings::Table)
                .col(Listings::Source)
                .col(Listings::SourceId)
                .unique()
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Listings::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(Downloads::Table).to_owned()).await?;
        m.drop_index(
            Index::drop()
                .name("package_versions_content")
                .table(PackageVersions::Table)
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(PackageVersions::Table)
                .drop_column(PackageVersions::ContentDigest)
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}

/// Fill `content_digest` of every existing version from its OCI manifest (the package
/// repository is named as the package; the manifest row holds the bytes).
async fn backfill_content_digests(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = m.get_connection();
    let backend = db.get_database_backend();
    let rows = db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT pv.id AS id, mf.content AS content FROM package_versions pv \
             JOIN packages p ON p.id = pv.package_id \
             JOIN repositories r ON r.name = p.name \
             JOIN manifests mf ON mf.repository_id = r.id AND mf.digest = pv.manifest_digest",
        ))
        .await?;
    for row in rows {
        let id: i64 = row.try_get("", "id")?;
        let content: Vec<u8> = row.try_get("", "content")?;
        let Some(digest) = content_digest(&content) else {
            continue;
        };
        m.exec_stmt(
            Query::update()
                .table(PackageVersions::Table)
                .value(PackageVersions::ContentDigest, digest)
                .and_where(Expr::col(PackageVersions::Id).eq(id))
                .to_owned(),
        )
        .await?;
    }
    Ok(())
}

/// The digest of the content layer named in an OCI manifest's bytes.
fn content_digest(manifest: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(manifest).ok()?;
    v["layers"]
        .as_array()?
        .iter()
        .find(|l| l["mediaType"] == CONTENT_MEDIA_TYPE)?["digest"]
        .as_str()
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_content_layer() {
        let m = serde_json::json!({
            "layers": [
                { "mediaType": "text/markdown", "digest": "sha256:aa" },
                { "mediaType": CONTENT_MEDIA_TYPE, "digest": "sha256:bb" },
            ]
        });
        assert_eq!(content_digest(m.to_string().as_bytes()).as_deref(), Some("sha256:bb"));
        assert_eq!(content_digest(b"{\"layers\": []}"), None);
        assert_eq!(content_digest(b"not json"), None);
    }
}
