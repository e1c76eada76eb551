//! One verified approval or revocation statement (see `db::approvals`).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "approvals")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub country_id: i64,
    pub package: String,
    pub version: String,
    pub manifest_digest: String,
    pub decision: String,
    pub key_id: String,
    pub signer_user_id: i64,
    /// Seconds since the epoch, from the statement.
    pub signed_at: i64,
    /// Seconds since the epoch, from the statement.
    pub valid_until: Option<i64>,
    pub reason: Option<String>,
    /// The DSSE envelope's JSON, as uploaded.
    pub envelope: String,
    pub envelope_digest: String,
    pub recorded_by: i64,
    pub recorded_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
