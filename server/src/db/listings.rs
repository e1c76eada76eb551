//! Catalogue listings: metadata-only entries imported from an external registry (the
//! DPG registry, `govstore-server import dpg`). They are searched and shown beside the
//! packages but are never installable. [`Details`] is a listing with its JSON columns
//! parsed, as the pages and the search index use it.

use std::collections::HashMap;

use sea_orm::sea_query::{Expr, Func};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};

use super::entities::listings::{self, Entity as Listings};

/// A licence as the source names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct License {
    pub spdx: String,
    #[serde(default)]
    pub url: Option<String>,
}

/// An organisation behind a listing (owner, maintainer, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organisation {
    pub name: String,
    #[serde(default)]
    pub website: Option<String>,
    #[serde(default)]
    pub org_type: Option<String>,
}

/// A listing with its lists parsed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Details {
    pub id: i64,
    pub source: String,
    pub source_id: String,
    pub collection: String,
    pub name: String,
    pub aliases: Vec<String>,
    pub description: String,
    pub website: Option<String>,
    pub licenses: Vec<License>,
    pub sdgs: Vec<u8>,
    pub sectors: Vec<String>,
    pub types: Vec<String>,
    /// ISO 3166-1 alpha-2 codes.
    pub countries: Vec<String>,
    /// Deployment-country names the import could not map to a code, as given.
    pub unmapped_countries: Vec<String>,
    pub repositories: Vec<String>,
    pub organisations: Vec<Organisation>,
    pub stage: Option<String>,
    pub imported_at: i64,
    pub updated_at: i64,
}

fn parse<T: serde::de::DeserializeOwned>(id: i64, column: &str, text: &str) -> Result<T, DbErr> {
    serde_json::from_str(text).map_err(|e| DbErr::Custom(format!("listing {id}: stored {column}: {e}")))
}

impl TryFrom<listings::Model> for Details {
    type Error = DbErr;

    fn try_from(m: listings::Model) -> Result<Self, DbErr> {
        let id = m.id;
        Ok(Self {
            id,
            aliases: parse(id, "aliases", &m.aliases)?,
            licenses: parse(id, "licenses", &m.licenses)?,
            sdgs: parse(id, "sdgs", &m.sdgs)?,
            sectors: parse(id, "sectors", &m.sectors)?,
            types: parse(id, "types", &m.types)?,
            countries: parse(id, "countries", &m.countries)?,
            unmapped_countries: parse(id, "unmapped_countries", &m.unmapped_countries)?,
            repositories: parse(id, "repositories", &m.repositories)?,
            organisations: parse(id, "organisations", &m.organisations)?,
            source: m.source,
            source_id: m.source_id,
            collection: m.collection,
            name: m.name,
            description: m.description,
            website: m.website,
            stage: m.stage,
            imported_at: m.imported_at,
            updated_at: m.updated_at,
        })
    }
}

/// The listing with this id.
pub async fn by_id(db: &impl ConnectionTrait, id: i64) -> Result<Option<Details>, DbErr> {
    Listings::find_by_id(id)
        .one(db)
        .await?
        .map(Details::try_from)
        .transpose()
}

/// Every listing, by id.
pub async fn all(db: &impl ConnectionTrait) -> Result<Vec<Details>, DbErr> {
    Listings::find()
        .order_by_asc(listings::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(Details::try_from)
        .collect()
}

/// How many listings there are.
pub async fn count(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    Listings::find().count(db).await
}

/// What changes whenever an import adds or changes listings: their number and the
/// latest change time. The search index compares it with the one it was built from.
pub async fn generation(db: &impl ConnectionTrait) -> Result<String, DbErr> {
    let n = count(db).await?;
    let latest: Option<Option<i64>> = Listings::find()
        .select_only()
        .column_as(Expr::from(Func::max(Expr::col(listings::Column::UpdatedAt))), "latest")
        .into_tuple()
        .one(db)
        .await?;
    Ok(format!("{n}:{}", latest.flatten().unwrap_or(0)))
}

/// The listings of `source`: source id -> (row id, fingerprint), for an import.
pub async fn fingerprints(db: &impl ConnectionTrait, source: &str) -> Result<HashMap<String, (i64, String)>, DbErr> {
    let rows: Vec<(i64, String, String)> = Listings::find()
        .select_only()
        .columns([
            listings::Column::Id,
            listings::Column::SourceId,
            listings::Column::Fingerprint,
        ])
        .filter(listings::Column::Source.eq(source))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|(id, sid, fp)| (sid, (id, fp))).collect())
}

/// Insert listings (an import, inside its transaction).
pub async fn insert_many(db: &impl ConnectionTrait, rows: Vec<listings::ActiveModel>) -> Result<(), DbErr> {
    if rows.is_empty() {
        return Ok(());
    }
    Listings::insert_many(rows).exec_without_returning(db).await?;
    Ok(())
}

/// Replace a listing's imported fields (an import, inside its transaction).
pub async fn update(db: &impl ConnectionTrait, row: listings::ActiveModel) -> Result<(), DbErr> {
    Listings::update(row).exec(db).await?;
    Ok(())
}
