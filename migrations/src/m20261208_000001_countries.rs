//! Countries and their approvals.
//!
//! A country is an organisation (named by its lower-case ISO 3166-1 alpha-2 code) with a
//! row in `countries`: its upper-case code, display name and approval policy (how many
//! distinct approver keys must sign; an optional default validity in days). Its members
//! hold the roles `owner`, `approver` or `reviewer` in `memberships`; its approver keys
//! are `signing_keys` of that organisation.
//!
//! `approvals` holds one row per verified approval or revocation statement: the DSSE
//! envelope's bytes and digest (unique: a statement is recorded once), the version it
//! is about, the key that signed it and that key's holder, the decision, `signedAt` and
//! `validUntil`. `proposals` is a country's review queue and `recommendations` the
//! reviewers' recommendations on them.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Countries {
    Table,
    Id,
    OrganisationId,
    Code,
    Name,
    Threshold,
    DefaultValidityDays,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Approvals {
    Table,
    Id,
    CountryId,
    Package,
    Version,
    ManifestDigest,
    Decision,
    KeyId,
    SignerUserId,
    SignedAt,
    ValidUntil,
    Reason,
    Envelope,
    EnvelopeDigest,
    RecordedBy,
    RecordedAt,
}

#[derive(DeriveIden)]
enum Proposals {
    Table,
    Id,
    CountryId,
    Package,
    Version,
    ManifestDigest,
    Note,
    Status,
    ProposedBy,
    ProposedAt,
}

#[derive(DeriveIden)]
enum Recommendations {
    Table,
    Id,
    ProposalId,
    ReviewerId,
    Recommendation,
    Notes,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Organisations {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Countries::Table)
                .col(big_pk_auto(Countries::Id))
                .col(big_integer_uniq(Countries::OrganisationId))
                .col(string_len_uniq(Countries::Code, 2))
                .col(string_len(Countries::Name, 128))
                .col(integer(Countries::Threshold))
                .col(integer_null(Countries::DefaultValidityDays))
                .col(big_integer(Countries::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Countries::Table, Countries::OrganisationId)
                        .to(Organisations::Table, Organisations::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Approvals::Table)
                .col(big_pk_auto(Approvals::Id))
                .col(big_integer(Approvals::CountryId))
                .col(string_len(Approvals::Package, 129))
                .col(string_len(Approvals::Version, 128))
                .col(string_len(Approvals::ManifestDigest, 71))
                .col(string_len(Approvals::Decision, 16))
                .col(string_len(Approvals::KeyId, 71))
                .col(big_integer(Approvals::SignerUserId))
                .col(big_integer(Approvals::SignedAt))
                .col(big_integer_null(Approvals::ValidUntil))
                .col(text_null(Approvals::Reason))
                .col(text(Approvals::Envelope))
                .col(string_len_uniq(Approvals::EnvelopeDigest, 71))
                .col(big_integer(Approvals::RecordedBy))
                .col(big_integer(Approvals::RecordedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Approvals::Table, Approvals::CountryId)
                        .to(Countries::Table, Countries::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("approvals_country_digest")
                .table(Approvals::Table)
                .col(Approvals::CountryId)
                .col(Approvals::ManifestDigest)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("approvals_package")
                .table(Approvals::Table)
                .col(Approvals::Package)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Proposals::Table)
                .col(big_pk_auto(Proposals::Id))
                .col(big_integer(Proposals::CountryId))
                .col(string_len(Proposals::Package, 129))
                .col(string_len(Proposals::Version, 128))
                .col(string_len(Proposals::ManifestDigest, 71))
                .col(text_null(Proposals::Note))
                .col(string_len(Proposals::Status, 16))
                .col(big_integer(Proposals::ProposedBy))
                .col(big_integer(Proposals::ProposedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Proposals::Table, Proposals::CountryId)
                        .to(Countries::Table, Countries::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("proposals_country_digest")
                .table(Proposals::Table)
                .col(Proposals::CountryId)
                .col(Proposals::ManifestDigest)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Recommendations::Table)
                .col(big_pk_auto(Recommendations::Id))
                .col(big_integer(Recommendations::ProposalId))
                .col(big_integer(Recommendations::ReviewerId))
                .col(string_len(Recommendations::Recommendation, 16))
                .col(text_null(Recommendations::Notes))
                .col(big_integer(Recommendations::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Recommendations::Table, Recommendations::ProposalId)
                        .to(Proposals::Table, Proposals::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("recommendations_proposal")
                .table(Recommendations::Table)
                .col(Recommendations::ProposalId)
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            Recommendations::Table.into_iden(),
            Proposals::Table.into_iden(),
            Approvals::Table.into_iden(),
            Countries::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
