//! A country: an organisation with an ISO code and an approval policy (see `db::countries`).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "countries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub organisation_id: i64,
    pub code: String,
    pub name: String,
    pub threshold: i32,
    pub default_validity_days: Option<i32>,
    pub created_at: i64,
    /// The country's own stack profile (`stack.toml`), if its owners set one.
    pub stack_toml: Option<String>,
    pub stack_updated_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
