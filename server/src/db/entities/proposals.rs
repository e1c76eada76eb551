//! A version proposed for a country's review (see `db::proposals`).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "proposals")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub country_id: i64,
    pub package: String,
    pub version: String,
    pub manifest_digest: String,
    pub note: Option<String>,
    /// `open`, `approved`, `rejected`.
    pub status: String,
    pub proposed_by: i64,
    pub proposed_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
