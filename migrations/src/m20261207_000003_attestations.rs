//! Signatures and attestations, many per artifact: one row per stored envelope, keyed
//! by the digest of the artifact it is about (the subject). A package version carries
//! its publisher signature now; country approvals and bundle signatures add rows of
//! other kinds later. The envelopes themselves are OCI manifests in the repository
//! (cosign tags and referrers); a row records what the registry verified about one.
//! Existing versions get a `signature` row for the signature they were published with.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, Statement};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Attestations {
    Table,
    Id,
    SubjectDigest,
    Kind,
    SignerKeyId,
    MediaType,
    EnvelopeDigest,
    Repository,
    CreatedAt,
}

/// The cosign signature manifest's artifact type, frozen as this migration ran.
const SIGNATURE_ARTIFACT_TYPE: &str = "application/vnd.dev.cosign.artifact.sig.v1+json";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Attestations::Table)
                .col(big_pk_auto(Attestations::Id))
                .col(string_len(Attestations::SubjectDigest, 71))
                .col(string_len(Attestations::Kind, 32))
                .col(string_len_null(Attestations::SignerKeyId, 128))
                .col(string_len(Attestations::MediaType, 255))
                .col(string_len(Attestations::EnvelopeDigest, 71))
                .col(string_len(Attestations::Repository, 255))
                .col(big_integer(Attestations::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("attestations_subject_kind_envelope")
                .table(Attestations::Table)
                .col(Attestations::SubjectDigest)
                .col(Attestations::Kind)
                .col(Attestations::EnvelopeDigest)
                .unique()
                .to_owned(),
        )
        .await?;
        let db = m.get_connection();
        let backend = db.get_database_backend();
        db.execute_raw(Statement::from_string(
            backend,
            format!(
                "INSERT INTO attestations (subject_digest, kind, signer_key_id, media_type, envelope_digest, repository, created_at) \
                 SELECT pv.manifest_digest, 'signature', pv.key_id, '{SIGNATURE_ARTIFACT_TYPE}', pv.signature_digest, p.name, pv.published_at \
                 FROM package_versions pv JOIN packages p ON p.id = pv.package_id ORDER BY pv.id"
            ),
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Attestations::Table).to_owned())
            .await?;
        Ok(())
    }
}
