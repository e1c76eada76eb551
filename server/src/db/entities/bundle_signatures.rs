//! One verified approver signature over a bundle (see `db::bundles`).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "bundle_signatures")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub bundle_id: i64,
    pub key_id: String,
    pub signer_user_id: i64,
    /// Seconds since the epoch, from the statement.
    pub signed_at: i64,
    /// The DSSE envelope's JSON, as uploaded.
    pub envelope: String,
    pub envelope_digest: String,
    /// The cosign simple-signing signature (base64) by the same key.
    pub simple_signature: String,
    pub recorded_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
