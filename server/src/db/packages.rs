//! Packages and their published versions.

use sea_orm::{ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};

use super::entities::package_versions::{self, Entity as Versions};
use super::entities::packages::{self, Entity as Packages};

pub async fn find(db: &impl ConnectionTrait, name: &str) -> Result<Option<packages::Model>, DbErr> {
    Packages::find().filter(packages::Column::Name.eq(name)).one(db).await
}

/// The package's id, creating it (owned by `organisation_id`) if new; its description
/// and licence follow the newest publish.
pub async fn upsert(
    db: &impl ConnectionTrait,
    organisation_id: i64,
    name: &str,
    description: &str,
    license: &str,
) -> Result<i64, DbErr> {
    // Insert unless the name exists. Two first publishes of one package racing: on
    // PostgreSQL the second insert waits for the first's commit and then does nothing,
    // and both go on with the one row (rather than the second failing on the unique name).
    Packages::insert(packages::ActiveModel {
        organisation_id: Set(organisation_id),
        name: Set(name.to_owned()),
        description: Set(description.to_owned()),
        license: Set(license.to_owned()),
        created_at: Set(crate::now_ms()),
        ..Default::default()
    })
    .on_conflict_do_nothing_on([packages::Column::Name])
    .exec(db)
    .await?;
    let p = find(db, name)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("package {name} vanished after insert")))?;
    Packages::update_many()
        .col_expr(packages::Column::Description, description.into())
        .col_expr(packages::Column::License, license.into())
        .filter(packages::Column::Id.eq(p.id))
        .exec(db)
        .await?;
    Ok(p.id)
}

/// A new version row. The unique index on (package, version) makes a second publish of
/// the same version fail here, whatever the race.
pub async fn insert_version(db: &impl ConnectionTrait, v: package_versions::ActiveModel) -> Result<(), DbErr> {
    Versions::insert(v).exec_without_returning(db).await?;
    Ok(())
}

/// How many versions the package has, yanked ones included.
pub async fn count_versions(db: &impl ConnectionTrait, package_id: i64) -> Result<u64, DbErr> {
    use sea_orm::PaginatorTrait;
    Versions::find()
        .filter(package_versions::Column::PackageId.eq(package_id))
        .count(db)
        .await
}

pub async fn versions(db: &impl ConnectionTrait, package_id: i64) -> Result<Vec<package_versions::Model>, DbErr> {
    Versions::find()
        .filter(package_versions::Column::PackageId.eq(package_id))
        .all(db)
        .await
}

/// Every version of every package (for rebuilding the search index).
pub async fn all_versions(db: &impl ConnectionTrait) -> Result<Vec<package_versions::Model>, DbErr> {
    Versions::find().all(db).await
}

pub async fn version(
    db: &impl ConnectionTrait,
    package_id: i64,
    version: &str,
) -> Result<Option<package_versions::Model>, DbErr> {
    Versions::find()
        .filter(package_versions::Column::PackageId.eq(package_id))
        .filter(package_versions::Column::Version.eq(version))
        .one(db)
        .await
}

/// Yank (with a reason) or unyank a version; `false` if it already was in that state,
/// decided by the update itself so that concurrent yanks change it once.
pub async fn set_yanked(db: &impl ConnectionTrait, id: i64, reason: Option<&str>) -> Result<bool, DbErr> {
    let res = Versions::update_many()
        .col_expr(package_versions::Column::Yanked, reason.is_some().into())
        .col_expr(package_versions::Column::YankReason, reason.map(str::to_owned).into())
        .filter(package_versions::Column::Id.eq(id))
        .filter(package_versions::Column::Yanked.eq(reason.is_none()))
        .exec(db)
        .await?;
    Ok(res.rows_affected > 0)
}

/// Packages whose name or description contains `term` (case-insensitive), up to `limit`.
pub async fn search(db: &impl ConnectionTrait, term: &str, limit: u64) -> Result<Vec<packages::Model>, DbErr> {
    let pattern = format!("%{}%", term.to_lowercase().replace(['%', '_'], ""));
    use sea_orm::sea_query::{Expr, ExprTrait, Func};
    Packages::find()
        .filter(
            Condition::any()
                .add(Expr::expr(Func::lower(Expr::col(packages::Column::Name))).like(&pattern))
                .add(Expr::expr(Func::lower(Expr::col(packages::Column::Description))).like(&pattern)),
        )
        .order_by_asc(packages::Column::Name)
        .limit(limit)
        .all(db)
        .await
}

/// Every package, by name (for the spec check's and the catalogue's listings).
pub async fn all(db: &impl ConnectionTrait, limit: u64) -> Result<Vec<packages::Model>, DbErr> {
    Packages::find()
        .order_by_asc(packages::Column::Name)
        .limit(limit)
        .all(db)
        .await
}

/// What ordering and [`latest`] read of a version: a full row or a lighter one.
pub trait Versioned {
    /// The version as published (SemVer).
    fn version(&self) -> &str;
    fn yanked(&self) -> bool;
}

impl Versioned for package_versions::Model {
    fn version(&self) -> &str {
        &self.version
    }

    fn yanked(&self) -> bool {
        self.yanked
    }
}

/// Versions newest first by SemVer precedence.
pub fn sort_newest_first<V: Versioned>(versions: &mut [V]) {
    versions.sort_by(
        |a, b| match (semver::Version::parse(a.version()), semver::Version::parse(b.version())) {
            (Ok(x), Ok(y)) => y.cmp(&x),
            _ => b.version().cmp(a.version()),
        },
    );
}

/// The newest version that is not yanked and not a pre-release, else the newest.
pub fn latest<V: Versioned>(sorted: &[V]) -> Option<&V> {
    sorted
        .iter()
        .find(|v| !v.yanked() && semver::Version::parse(v.version()).is_ok_and(|s| s.pre.is_empty()))
        .or_else(|| sorted.iter().find(|v| !v.yanked()))
}

/// How many packages there are.
pub async fn count(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    use sea_orm::PaginatorTrait;
    Packages::find().count(db).await
}
