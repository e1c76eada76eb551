//! What a manifest references: its blobs (`kind = "blob"`) or child manifests
//! (`kind = "manifest"`). Kept for garbage collection and dependents.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "manifest_references")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub manifest_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub digest: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub kind: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
