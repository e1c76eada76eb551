//! The OCI registry's metadata: repositories, the blobs they may read, manifests,
//! tags and upload sessions. Blob bytes live in the blob store, not here; manifest
//! bytes (small, limited in size) live here so a manifest and its tag are written in
//! one transaction.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Repositories {
    Table,
    Id,
    Name,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Blobs {
    Table,
    Digest,
    Size,
    CreatedAt,
}

#[derive(DeriveIden)]
enum RepositoryBlobs {
    Table,
    RepositoryId,
    Digest,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Manifests {
    Table,
    Id,
    RepositoryId,
    Digest,
    MediaType,
    ArtifactType,
    Size,
    SubjectDigest,
    Annotations,
    Content,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ManifestReferences {
    Table,
    ManifestId,
    Digest,
    Kind,
}

#[derive(DeriveIden)]
enum Tags {
    Table,
    RepositoryId,
    Name,
    ManifestDigest,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Uploads {
    Table,
    Id,
    RepositoryId,
    Received,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Repositories::Table)
                .col(big_pk_auto(Repositories::Id))
                .col(string_len_uniq(Repositories::Name, 255))
                .col(big_integer(Repositories::CreatedAt))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Blobs::Table)
                .col(string_len(Blobs::Digest, 71).primary_key())
                .col(big_integer(Blobs::Size))
                .col(big_integer(Blobs::CreatedAt))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(RepositoryBlobs::Table)
                .col(big_integer(RepositoryBlobs::RepositoryId))
                .col(string_len(RepositoryBlobs::Digest, 71))
                .col(big_integer(RepositoryBlobs::CreatedAt))
                .primary_key(
                    Index::create()
                        .col(RepositoryBlobs::RepositoryId)
                        .col(RepositoryBlobs::Digest),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(RepositoryBlobs::Table, RepositoryBlobs::RepositoryId)
                        .to(Repositories::Table, Repositories::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(RepositoryBlobs::Table, RepositoryBlobs::Digest)
                        .to(Blobs::Table, Blobs::Digest),
                )
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Manifests::Table)
                .col(big_pk_auto(Manifests::Id))
                .col(big_integer(Manifests::RepositoryId))
                .col(string_len(Manifests::Digest, 71))
                .col(string_len(Manifests::MediaType, 255))
                .col(string_len_null(Manifests::ArtifactType, 255))
                .col(big_integer(Manifests::Size))
                .col(string_len_null(Manifests::SubjectDigest, 71))
                .col(text_null(Manifests::Annotations))
                .col(blob(Manifests::Content))
                .col(big_integer(Manifests::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Manifests::Table, Manifests::RepositoryId)
                        .to(Repositories::Table, Repositories::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("manifests_repository_digest")
                .table(Manifests::Table)
                .col(Manifests::RepositoryId)
                .col(Manifests::Digest)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("manifests_repository_subject")
                .table(Manifests::Table)
                .col(Manifests::RepositoryId)
                .col(Manifests::SubjectDigest)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ManifestReferences::Table)
                .col(big_integer(ManifestReferences::ManifestId))
                .col(string_len(ManifestReferences::Digest, 71))
                .col(string_len(ManifestReferences::Kind, 16))
                .primary_key(
                    Index::create()
                        .col(ManifestReferences::ManifestId)
                        .col(ManifestReferences::Digest)
                        .col(ManifestReferences::Kind),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(ManifestReferences::Table, ManifestReferences::ManifestId)
                        .to(Manifests::Table, Manifests::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("manifest_references_digest")
                .table(ManifestReferences::Table)
                .col(ManifestReferences::Digest)
                .to_owned(),
        )
        .await?;

        // Tags list in byte order on every backend, whatever the database's locale.
        let mut tag_name = string_len(Tags::Name, 128);
        if m.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            tag_name.extra("COLLATE \"C\"");
        }
        m.create_table(
            Table::create()
                .table(Tags::Table)
                .col(big_integer(Tags::RepositoryId))
                .col(tag_name)
                .col(string_len(Tags::ManifestDigest, 71))
                .col(big_integer(Tags::UpdatedAt))
                .primary_key(Index::create().col(Tags::RepositoryId).col(Tags::Name))
                .foreign_key(
                    ForeignKey::create()
                        .from(Tags::Table, Tags::RepositoryId)
                        .to(Repositories::Table, Repositories::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Uploads::Table)
                .col(string_len(Uploads::Id, 36).primary_key())
                .col(big_integer(Uploads::RepositoryId))
                .col(big_integer(Uploads::Received))
                .col(big_integer(Uploads::CreatedAt))
                .col(big_integer(Uploads::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Uploads::Table, Uploads::RepositoryId)
                        .to(Repositories::Table, Repositories::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("uploads_updated_at")
                .table(Uploads::Table)
                .col(Uploads::UpdatedAt)
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            Uploads::Table.into_iden(),
            Tags::Table.into_iden(),
            ManifestReferences::Table.into_iden(),
            Manifests::Table.into_iden(),
            RepositoryBlobs::Table.into_iden(),
            Blobs::Table.into_iden(),
            Repositories::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
