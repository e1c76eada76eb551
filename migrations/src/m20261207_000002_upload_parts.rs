//! Upload sessions made of immutable parts: one row per accepted chunk, naming the object
//! that holds its bytes (`uploads/<session>/<part>` in the object storage), its offset and
//! its length. A session's parts add up to its `received`; both change in one transaction,
//! so any process can continue or finish any session.
//!
//! Sessions open before this migration kept their bytes in one file per session
//! (`uploads/<session>`), which the new layout cannot continue: they are closed here (their
//! clients get BLOB_UPLOAD_UNKNOWN and start again), and the old files are swept as orphans.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Uploads {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum UploadParts {
    Table,
    UploadId,
    PartIndex,
    ObjectKey,
    ByteOffset,
    Length,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.exec_stmt(Query::delete().from_table(Uploads::Table).to_owned())
            .await?;
        m.create_table(
            Table::create()
                .table(UploadParts::Table)
                .col(string_len(UploadParts::UploadId, 36))
                .col(integer(UploadParts::PartIndex))
                .col(string_len(UploadParts::ObjectKey, 255))
                .col(big_integer(UploadParts::ByteOffset))
                .col(big_integer(UploadParts::Length))
                .col(big_integer(UploadParts::CreatedAt))
                .primary_key(Index::create().col(UploadParts::UploadId).col(UploadParts::PartIndex))
                .foreign_key(
                    ForeignKey::create()
                        .from(UploadParts::Table, UploadParts::UploadId)
                        .to(Uploads::Table, Uploads::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(UploadParts::Table).to_owned()).await
    }
}
