//! Signatures and attestations keyed by the digest of the artifact they are about: a
//! package version's publisher signature now, any number of country approvals and
//! bundle signatures later. Each row says what the registry verified (kind, signer
//! key) and where the envelope is stored (its digest, as an OCI manifest in
//! `repository`, reachable by the cosign tag scheme and the referrers API).

use govstore_core::Digest;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Set};

use super::entities::attestations::{self, Entity as Attestations};

/// What an attestation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A publisher's cosign simple-signing signature over a package manifest.
    Signature,
    /// A country's approval or revocation statement (DSSE, in-toto) about a package
    /// manifest.
    Approval,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Signature => "signature",
            Self::Approval => "approval",
        }
    }
}

/// One attestation to record.
#[derive(Debug, Clone)]
pub struct New<'a> {
    pub subject: &'a Digest,
    pub kind: Kind,
    pub signer_key_id: Option<&'a str>,
    pub media_type: &'a str,
    pub envelope: &'a Digest,
    pub repository: &'a str,
}

/// Record an attestation (once: the same envelope for the same subject and kind is
/// one row).
pub async fn record(db: &impl ConnectionTrait, a: New<'_>) -> Result<(), DbErr> {
    Attestations::insert(attestations::ActiveModel {
        subject_digest: Set(a.subject.to_string()),
        kind: Set(a.kind.as_str().to_owned()),
        signer_key_id: Set(a.signer_key_id.map(str::to_owned)),
        media_type: Set(a.media_type.to_owned()),
        envelope_digest: Set(a.envelope.to_string()),
        repository: Set(a.repository.to_owned()),
        created_at: Set(crate::now_ms()),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([
            attestations::Column::SubjectDigest,
            attestations::Column::Kind,
            attestations::Column::EnvelopeDigest,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Every attestation about `subject`, oldest first.
pub async fn of(db: &impl ConnectionTrait, subject: &Digest) -> Result<Vec<attestations::Model>, DbErr> {
    Attestations::find()
        .filter(attestations::Column::SubjectDigest.eq(subject.to_string()))
        .order_by_asc(attestations::Column::Id)
        .all(db)
        .await
}
