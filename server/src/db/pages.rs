//! Read queries behind the web catalogue's pages (`crate::pages`): recent releases, the
//! packages that require a package, an organisation's packages, a package's versions
//! without their manifests, and several packages' versions at once. Only reads; every
//! list is bounded.
//!
//! Dependents are found like spec implementations in [`super::index`]: manifests are
//! stored as canonical JSON, where a required package appears as `"<name>":`, so a `LIKE`
//! on that text narrows the rows and the caller's parse keeps exact matches only.

use std::collections::{BTreeMap, HashMap};

use govstore_core::manifest::Manifest;
use sea_orm::sea_query::Query;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use super::entities::package_versions::{self, Entity as Versions};
use super::entities::packages::{self, Entity as Packages};
use super::entities::specs::{self, Entity as Specs};
use super::packages::{Versioned, latest, sort_newest_first};

/// The most rows a page lists of anything.
pub const MAX_ROWS: u64 = 500;

/// The most implementations the spec page lists per spec version.
pub const MAX_IMPLEMENTATIONS: usize = 200;

/// The most versions the package page lists (the newest; the version shown is listed
/// too when older).
pub const MAX_VERSIONS: usize = 100;

/// The newest `limit` published versions that are not yanked, newest first, each with
/// its package.
pub async fn recent_releases(
    db: &impl ConnectionTrait,
    limit: u64,
) -> Result<Vec<(packages::Model, package_versions::Model)>, DbErr> {
    let versions = Versions::find()
        .filter(package_versions::Column::Yanked.eq(false))
        .order_by_desc(package_versions::Column::PublishedAt)
        .order_by_desc(package_versions::Column::Id)
        .limit(limit.min(MAX_ROWS))
        .all(db)
        .await?;
    let packages = by_id(db, versions.iter().map(|v| v.package_id)).await?;
    Ok(versions
        .into_iter()
        .filter_map(|v| packages.get(&v.package_id).map(|p| (p.clone(), v)))
        .collect())
}

async fn by_id(
    db: &impl ConnectionTrait,
    ids: impl Iterator<Item = i64>,
) -> Result<HashMap<i64, packages::Model>, DbErr> {
    let ids: Vec<i64> = ids.collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(Packages::find()
        .filter(packages::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect())
}

/// Every version of each of `package_ids`, newest first per package.
pub async fn versions_of(
    db: &impl ConnectionTrait,
    package_ids: &[i64],
) -> Result<HashMap<i64, Vec<package_versions::Model>>, DbErr> {
    if package_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let mut out: HashMap<i64, Vec<package_versions::Model>> = HashMap::new();
    for v in Versions::find()
        .filter(package_versions::Column::PackageId.is_in(package_ids.iter().copied()))
        .all(db)
        .await?
    {
        out.entry(v.package_id).or_default().push(v);
    }
    for vs in out.values_mut() {
        sort_newest_first(vs);
    }
    Ok(out)
}

/// A version as the package page lists it: its row without the manifest, digests or
/// signer.
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct ListedVersion {
    pub id: i64,
    pub version: String,
    pub published_at: i64,
    pub yanked: bool,
    pub yank_reason: Option<String>,
}

impl Versioned for ListedVersion {
    fn version(&self) -> &str {
        &self.version
    }

    fn yanked(&self) -> bool {
        self.yanked
    }
}

/// Every version of a package as [`ListedVersion`]s, newest first. All of them, for
/// `latest` and the count (publish keeps them to `max_versions_per_package`); the
/// manifests, the large column, are not read.
pub async fn listed_versions(db: &impl ConnectionTrait, package_id: i64) -> Result<Vec<ListedVersion>, DbErr> {
    let mut versions = Versions::find()
        .select_only()
        .columns([
            package_versions::Column::Id,
            package_versions::Column::Version,
            package_versions::Column::PublishedAt,
            package_versions::Column::Yanked,
            package_versions::Column::YankReason,
        ])
        .filter(package_versions::Column::PackageId.eq(package_id))
        .into_model::<ListedVersion>()
        .all(db)
        .await?;
    sort_newest_first(&mut versions);
    Ok(versions)
}

/// A package that requires another: its name, the version that requires it (its
/// latest), and the requirement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependent {
    pub name: String,
    pub version: String,
    pub req: String,
}

/// The packages whose latest version requires a package, as far as they were looked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dependents {
    /// The dependents found, by name.
    pub list: Vec<Dependent>,
    /// How many candidates (packages with a version whose manifest names the package)
    /// were checked.
    pub checked: u64,
    /// Whether every candidate was checked, so that `list` is all the dependents. If not,
    /// the first [`MAX_ROWS`] candidates by name were, and more may depend.
    pub complete: bool,
}

/// The packages whose latest version requires the package `name`, by name. Candidates
/// are the packages with any version whose manifest names `name`; only the first
/// [`MAX_ROWS`] of them by name are checked (an exact count would parse the latest
/// manifest of every candidate), and [`Dependents::complete`] says whether that was all.
pub async fn dependents(db: &impl ConnectionTrait, name: &str) -> Result<Dependents, DbErr> {
    // Package names are `[a-z0-9-]` and one `/`: nothing in them is a LIKE wildcard.
    let pattern = format!("%\"{name}\":%");
    let mentioning = Query::select()
        .column(package_versions::Column::PackageId)
        .from(Versions)
        .and_where(package_versions::Column::Config.like(pattern))
        .to_owned();
    let mut candidates = Packages::find()
        .filter(packages::Column::Id.in_subquery(mentioning))
        .order_by_asc(packages::Column::Name)
        .order_by_asc(packages::Column::Id)
        .limit(MAX_ROWS + 1)
        .all(db)
        .await?;
    let complete = candidates.len() as u64 <= MAX_ROWS;
    candidates.truncate(MAX_ROWS as usize);
    let ids: Vec<i64> = candidates.iter().map(|p| p.id).collect();
    let versions = versions_of(db, &ids).await?;
    let mut out = BTreeMap::new();
    for p in &candidates {
        let Some(vs) = versions.get(&p.id) else { continue };
        let Some(v) = latest(vs).or(vs.first()) else { continue };
        let Ok(m) = Manifest::from_canonical_json(&v.config) else {
            continue;
        };
        if let Some((_, req)) = m.requires.packages.iter().find(|(n, _)| n.as_str() == name) {
            out.insert(
                p.name.clone(),
                Dependent {
                    name: p.name.clone(),
                    version: v.version.clone(),
                    req: req.to_string(),
                },
            );
        }
    }
    Ok(Dependents {
        list: out.into_values().collect(),
        checked: candidates.len() as u64,
        complete,
    })
}

/// The packages of organisation `organisation_id`, by name: the first [`MAX_ROWS`] (see
/// [`count_packages_of`] for how many there are).
pub async fn packages_of(db: &impl ConnectionTrait, organisation_id: i64) -> Result<Vec<packages::Model>, DbErr> {
    Packages::find()
        .filter(packages::Column::OrganisationId.eq(organisation_id))
        .order_by_asc(packages::Column::Name)
        .limit(MAX_ROWS)
        .all(db)
        .await
}

/// How many packages organisation `organisation_id` has.
pub async fn count_packages_of(db: &impl ConnectionTrait, organisation_id: i64) -> Result<u64, DbErr> {
    Packages::find()
        .filter(packages::Column::OrganisationId.eq(organisation_id))
        .count(db)
        .await
}

/// The packages called `names` (those that exist), by name.
pub async fn packages_named(db: &impl ConnectionTrait, names: &[String]) -> Result<Vec<packages::Model>, DbErr> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    Packages::find()
        .filter(packages::Column::Name.is_in(names.iter().cloned()))
        .all(db)
        .await
}

/// Every spec's id and title, by id, without parsing the documents.
pub async fn spec_titles(db: &impl ConnectionTrait) -> Result<Vec<(String, String)>, DbErr> {
    Specs::find()
        .select_only()
        .columns([specs::Column::SpecId, specs::Column::Title])
        .order_by_asc(specs::Column::SpecId)
        .into_tuple()
        .all(db)
        .await
}
