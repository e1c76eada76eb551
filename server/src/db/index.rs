//! The queries behind the sparse index (`/api/v1/index/...`).
//!
//! A package's document reads its versions through [`super::packages`]; a spec's
//! document needs the versions whose manifest implements the spec. The manifests are
//! stored as canonical JSON, where an `[[implements]]` entry always contains
//! `"spec":"<id>"`, so a `LIKE` on that text narrows the rows (on both databases) and
//! the caller parses each candidate to keep exact matches only.

use std::collections::BTreeMap;

use govstore_core::Digest;
use govstore_core::index::IndexVersion;
use govstore_core::manifest::Manifest;
use govstore_core::package::{PackageName, SpecId};
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

/// A stored version row that does not parse: corrupt data, an internal error.
#[derive(Debug, thiserror::Error)]
#[error("stored {what} of {name}@{version}: {detail}")]
pub struct CorruptRow {
    what: &'static str,
    name: String,
    version: String,
    detail: String,
}

/// The manifest stored with version row `v` of package `name`.
pub fn stored_manifest(name: &PackageName, v: &package_versions::Model) -> Result<Manifest, CorruptRow> {
    Manifest::from_canonical_json(&v.config).map_err(|e| corrupt("manifest", name, v, e))
}

/// Version row `v` of package `name` as the sparse index serves it (and the stack check
/// resolves against).
pub fn index_version(name: &PackageName, v: &package_versions::Model) -> Result<IndexVersion, CorruptRow> {
    let manifest = stored_manifest(name, v)?;
    let digest: Digest = v.manifest_digest.parse().map_err(|e| corrupt("digest", name, v, e))?;
    Ok(IndexVersion {
        version: manifest.package.version.clone(),
        digest,
        yanked: v.yanked,
        yank_reason: v.yank_reason.clone(),
        key_ids: vec![v.key_id.clone()],
        manifest,
        approvals: Vec::new(),
    })
}

fn corrupt(
    what: &'static str,
    name: &PackageName,
    v: &package_versions::Model,
    e: impl std::fmt::Display,
) -> CorruptRow {
    CorruptRow {
        what,
        name: name.to_string(),
        version: v.version.clone(),
        detail: e.to_string(),
    }
}

/// Every country's statements about a package's versions as the index serves them,
/// keyed by manifest digest, oldest first. Rows whose envelope does not parse as JSON
/// (which the service never stores) are skipped and logged.
pub async fn approvals_of_package(
    db: &impl ConnectionTrait,
    package: &str,
) -> Result<std::collections::BTreeMap<String, Vec<govstore_core::index::IndexApproval>>, sea_orm::DbErr> {
    let mut codes = std::collections::BTreeMap::new();
    for c in super::countries::all(db).await? {
        if let Ok(code) = c.code.parse::<govstore_core::manifest::values::CountryCode>() {
            codes.insert(c.id, code);
        }
    }
    let mut out: std::collections::BTreeMap<String, Vec<govstore_core::index::IndexApproval>> = Default::default();
    for a in super::approvals::of_package(db, package).await? {
        let Some(country) = codes.get(&a.country_id) else {
            continue;
        };
        match serde_json::from_str(&a.envelope) {
            Ok(envelope) => {
                out.entry(a.manifest_digest.clone())
                    .or_default()
                    .push(govstore_core::index::IndexApproval {
                        country: *country,
                        envelope,
                    })
            }
            Err(e) => tracing::error!(id = a.id, error = %e, "approval row with an unreadable envelope"),
        }
    }
    Ok(out)
}
