//! A metadata-only catalogue listing imported from an external registry (the DPG
//! registry): shown and searchable, never installable. List fields are JSON arrays.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "listings")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Where it comes from: `dpg`.
    pub source: String,
    /// Its id there (unique with `source`).
    pub source_id: String,
    /// The part of the source it comes from (DPG: `nominees`, `archive`, `excluded-nominees`).
    pub collection: String,
    pub name: String,
    /// JSON array of other names.
    #[sea_orm(column_type = "Text")]
    pub aliases: String,
    #[sea_orm(column_type = "Text")]
    pub description: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub website: Option<String>,
    /// JSON array of `{"spdx": ..., "url": ...}`.
    #[sea_orm(column_type = "Text")]
    pub licenses: String,
    /// JSON array of SDG numbers (1 to 17).
    #[sea_orm(column_type = "Text")]
    pub sdgs: String,
    #[sea_orm(column_type = "Text")]
    pub sectors: String,
    /// JSON array of kinds (`software`, `content`, `data`, `aimodel`, `standard`).
    #[sea_orm(column_type = "Text")]
    pub types: String,
    /// JSON array of ISO 3166-1 alpha-2 codes of the deployment countries.
    #[sea_orm(column_type = "Text")]
    pub countries: String,
    /// JSON array of deployment-country names that map to no code, as given.
    #[sea_orm(column_type = "Text")]
    pub unmapped_countries: String,
    #[sea_orm(column_type = "Text")]
    pub repositories: String,
    /// JSON array of `{"name", "website", "org_type"}`.
    #[sea_orm(column_type = "Text")]
    pub organisations: String,
    /// DPG: `DPG` (recognised), `nominee`, `archive`, or none.
    pub stage: Option<String>,
    /// SHA-256 of the imported fields: a re-import that changes nothing writes nothing.
    pub fingerprint: String,
    pub imported_at: i64,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
