//! One bundle version a country made (see `db::bundles`).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "bundles")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub country_id: i64,
    pub name: String,
    pub version: String,
    pub index_digest: String,
    pub members: i32,
    pub created_by: i64,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
