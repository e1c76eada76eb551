//! The queries behind the sparse index (`/api/v1/index/...`).
//!
//! A package's document reads its versions through [`super::packages`]; a spec's
//! document needs the versions whose manifest implements the spec. The manifests are
//! stored as canonical JSON, where an `[[implements]]` entry always contains
//! `"spec":"<id>"`, so a `LIKE` on that text narrows the rows (on both databases) and
//! the caller parses each candidate to keep exact matches only.

use std::collections::BTreeMap;

use govstore_core::package::SpecId;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use super::entities::package_versions::{self, Entity as Versions};
use super::entities::packages::{self, Entity as Packages};

/// Version rows whose manifest may implement `spec` (a superset: parse to be sure),
/// yanked ones included, each with its package's name.
pub async fn implementation_candidates(
    db: &impl ConnectionTrait,
    spec: &SpecId,
) -> Result<Vec<(String, package_versions::Model)>, DbErr> {
    // Spec ids are `[a-z0-9-]` and one `/`: nothing in them is a LIKE wildcard.
    let pattern = format!("%\"spec\":\"{}\"%", spec.as_str());
    let rows = Versions::find()
        .filter(package_versions::Column::Config.like(pattern))
        .all(db)
        .await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = rows.iter().map(|v| v.package_id).collect();
    let names: BTreeMap<i64, String> = Packages::find()
        .filter(packages::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p.name))
        .collect();
    rows.into_iter()
        .map(|v| {
            let name = names
                .get(&v.package_id)
                .cloned()
                .ok_or_else(|| DbErr::Custom(format!("version row {} has no package", v.id)))?;
            Ok((name, v))
        })
        .collect()
}
