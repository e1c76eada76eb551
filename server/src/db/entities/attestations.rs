//! One signature or attestation about an artifact (see `db::attestations`).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "attestations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub subject_digest: String,
    pub kind: String,
    pub signer_key_id: Option<String>,
    pub media_type: String,
    pub envelope_digest: String,
    pub repository: String,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
