//! A country's own stack profile (`stack.toml`), kept by its owners, against which the
//! workspace checks each proposed version (`countries.stack_toml`, NULL for none, and
//! when it was last set, in milliseconds).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Countries {
    Table,
    StackToml,
    StackUpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        m.alter_table(
            Table::alter()
                .table(Countries::Table)
                .add_column(text_null(Countries::StackToml))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Countries::Table)
                .add_column(big_integer_null(Countries::StackUpdatedAt))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for col in [Countries::StackUpdatedAt, Countries::StackToml] {
            m.alter_table(Table::alter().table(Countries::Table).drop_column(col).to_owned())
                .await?;
        }
        Ok(())
    }
}
