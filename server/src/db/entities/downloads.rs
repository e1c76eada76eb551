//! Downloads of a package version's content on one UTC day (`YYYY-MM-DD`).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "downloads")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub package_version_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub day: String,
    pub count: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::package_versions::Entity",
        from = "Column::PackageVersionId",
        to = "super::package_versions::Column::Id"
    )]
    Version,
}

impl ActiveModelBehavior for ActiveModel {}
