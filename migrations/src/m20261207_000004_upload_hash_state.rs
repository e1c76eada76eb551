//! The SHA-256 midstate of an upload session: after each accepted chunk the session keeps
//! the hash's state over its first `received` bytes (a small versioned encoding, at most
//! 105 bytes), written in the same UPDATE as `received`, so that any process continues the
//! hash without reading the earlier parts again.
//!
//! Sessions open before this migration have no state (NULL); the server rehashes their
//! parts once on their next chunk.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Uploads {
    Table,
    HashState,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Uploads::Table)
                .add_column(blob_null(Uploads::HashState))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Uploads::Table)
                .drop_column(Uploads::HashState)
                .to_owned(),
        )
        .await
    }
}
