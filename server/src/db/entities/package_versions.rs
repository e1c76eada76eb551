//! A published, signed package version. Immutable but for its yank state.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "package_versions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub package_id: i64,
    pub version: String,
    pub manifest_digest: String,
    #[sea_orm(column_type = "Text")]
    pub config: String,
    pub signature_digest: String,
    pub key_id: String,
    pub published_by: i64,
    pub published_at: i64,
    pub yanked: bool,
    pub yank_reason: Option<String>,
    /// The digest of the content layer (downloads are counted by it).
    pub content_digest: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
