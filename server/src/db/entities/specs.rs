//! A building-block specification document (canonical JSON).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "specs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub spec_id: String,
    pub title: String,
    #[sea_orm(column_type = "Text")]
    pub document: String,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
