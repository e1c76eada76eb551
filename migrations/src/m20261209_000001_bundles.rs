//! Country bundles (`core::bundle`): one row per bundle version a country made, and one
//! per approver signature over it.
//!
//! `bundles` is unique on (country, name, version): a bundle version is immutable, its
//! `index_digest` the digest of the OCI image index stored in the repository
//! `<cc>/<name>` and tagged by the version. `bundle_signatures` holds each verified DSSE
//! envelope (unique by its digest) with the key that signed it and the cosign
//! simple-signing signature made by the same key. Times: `signed_at` in seconds (from
//! the statement), the others in milliseconds.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Countries {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Bundles {
    Table,
    Id,
    CountryId,
    Name,
    Version,
    IndexDigest,
    Members,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum BundleSignatures {
    Table,
    Id,
    BundleId,
    KeyId,
    SignerUserId,
    SignedAt,
    Envelope,
    EnvelopeDigest,
    SimpleSignature,
    RecordedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Bundles::Table)
                .col(big_pk_auto(Bundles::Id))
                .col(big_integer(Bundles::CountryId))
                .col(string_len(Bundles::Name, 64))
                .col(string_len(Bundles::Version, 16))
                .col(string_len(Bundles::IndexDigest, 71))
                .col(integer(Bundles::Members))
                .col(big_integer(Bundles::CreatedBy))
                .col(big_integer(Bundles::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Bundles::Table, Bundles::CountryId)
                        .to(Countries::Table, Countries::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("bundles_country_name_version")
                .table(Bundles::Table)
                .col(Bundles::CountryId)
                .col(Bundles::Name)
                .col(Bundles::Version)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(BundleSignatures::Table)
                .col(big_pk_auto(BundleSignatures::Id))
                .col(big_integer(BundleSignatures::BundleId))
                .col(string_len(BundleSignatures::KeyId, 128))
                .col(big_integer(BundleSignatures::SignerUserId))
                .col(big_integer(BundleSignatures::SignedAt))
                .col(text(BundleSignatures::Envelope))
                .col(string_len_uniq(BundleSignatures::EnvelopeDigest, 71))
                .col(text(BundleSignatures::SimpleSignature))
                .col(big_integer(BundleSignatures::RecordedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(BundleSignatures::Table, BundleSignatures::BundleId)
                        .to(Bundles::Table, Bundles::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("bundle_signatures_bundle")
                .table(BundleSignatures::Table)
                .col(BundleSignatures::BundleId)
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(BundleSignatures::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Bundles::Table).to_owned()).await?;
        Ok(())
    }
}
