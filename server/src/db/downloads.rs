//! Downloads: one row per package version and UTC day, incremented by an upsert
//! (`INSERT ... ON CONFLICT DO UPDATE SET count = count + n`, the same on SQLite and
//! PostgreSQL), and the sums the catalogue shows and the search ranking weighs.
//!
//! A download is a GET answering a version's whole content layer blob from its package
//! repository (see `oci::blobs`). Requests only add to an in-memory [`Tally`] keyed by
//! (repository, digest, UTC day), bounded in keys; [`spawn_flusher`] writes it every
//! [`FLUSH_EVERY`] in one transaction, resolving each blob to its version then. Two
//! versions with byte-identical content share the blob; its downloads are counted for
//! the most recently published of them.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, FromQueryResult, JoinType, QueryFilter,
    QueryOrder, QuerySelect, RelationTrait, Set, TransactionTrait,
};

use super::entities::downloads::{self, Entity as Downloads};
use super::entities::package_versions::{self, Entity as Versions};
use super::entities::packages::{self, Entity as Packages};

/// Days since the Unix epoch of a time in milliseconds, as the `YYYY-MM-DD` the table uses.
pub fn day_of(ms: i64) -> String {
    let mut s = govstore_core::time::rfc3339_ms(ms);
    s.truncate(10);
    s
}

/// Today (UTC) as `YYYY-MM-DD`.
pub fn today() -> String {
    day_of(crate::now_ms())
}

/// The version of the package `repository` whose content layer is `digest`, if any (the
/// newest published when several share it).
pub async fn version_for_blob(db: &impl ConnectionTrait, repository: &str, digest: &str) -> Result<Option<i64>, DbErr> {
    let Some(package) = Packages::find()
        .filter(packages::Column::Name.eq(repository))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let id: Option<i64> = Versions::find()
        .select_only()
        .column(package_versions::Column::Id)
        .filter(package_versions::Column::PackageId.eq(package.id))
        .filter(package_versions::Column::ContentDigest.eq(digest))
        .order_by_desc(package_versions::Column::Id)
        .into_tuple()
        .one(db)
        .await?;
    Ok(id)
}

/// Count one download of version `version_id` on `day`.
pub async fn record(db: &impl ConnectionTrait, version_id: i64, day: &str) -> Result<(), DbErr> {
    record_n(db, version_id, day, 1).await
}

/// Count `n` downloads of version `version_id` on `day`.
pub async fn record_n(db: &impl ConnectionTrait, version_id: i64, day: &str, n: u64) -> Result<(), DbErr> {
    let n = i64::try_from(n).unwrap_or(i64::MAX);
    Downloads::insert(downloads::ActiveModel {
        package_version_id: Set(version_id),
        day: Set(day.to_owned()),
        count: Set(n),
    })
    .on_conflict(
        OnConflict::columns([downloads::Column::PackageVersionId, downloads::Column::Day])
            .value(
                downloads::Column::Count,
                Expr::col((Downloads, downloads::Column::Count)).add(n),
            )
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// How often [`spawn_flusher`] writes the tally: counts show at most this late, and a
/// crash loses at most this long's worth.
pub const FLUSH_EVERY: Duration = Duration::from_secs(5);

/// Downloads counted since the last flush, in memory. At most `max_keys` distinct
/// (repository, digest, day) keys are held; a download of a new key beyond that is
/// dropped (and the number dropped logged at the next flush), so a flood of requests
/// costs neither memory nor database writes beyond the bound.
#[derive(Debug)]
pub struct Tally {
    max_keys: usize,
    pending: Mutex<Pending>,
}

#[derive(Debug, Default)]
struct Pending {
    counts: HashMap<Key, u64>,
    dropped: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    repository: String,
    digest: String,
    day: String,
}

impl Tally {
    /// An empty tally holding at most `max_keys` distinct keys.
    pub fn new(max_keys: usize) -> Self {
        Self {
            max_keys,
            pending: Mutex::default(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Pending> {
        // Nothing panics while holding the lock; a poisoned map is still consistent.
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Count one download of blob `digest` from repository `repository` on `day`. Returns
    /// false when the tally is full and the download was dropped.
    pub fn add(&self, repository: &str, digest: &str, day: &str) -> bool {
        let key = Key {
            repository: repository.to_owned(),
            digest: digest.to_owned(),
            day: day.to_owned(),
        };
        add_to(&mut self.lock(), key, 1, self.max_keys)
    }

    /// Downloads counted and not yet flushed.
    pub fn pending(&self) -> u64 {
        self.lock().counts.values().sum()
    }

    /// Write the tally in one transaction on `db` and empty it: each blob resolves to its
    /// package version (blobs that are no version's content are skipped). Returns the
    /// downloads written. On failure the counts are kept (within the bound) for the next
    /// flush.
    pub async fn flush(&self, db: &DatabaseConnection) -> Result<u64, DbErr> {
        let (counts, dropped) = {
            let mut p = self.lock();
            (std::mem::take(&mut p.counts), std::mem::take(&mut p.dropped))
        };
        if dropped > 0 {
            tracing::warn!(
                dropped,
                max_keys = self.max_keys,
                "download counts dropped: too many distinct blobs downloaded between flushes"
            );
        }
        if counts.is_empty() {
            return Ok(0);
        }
        match write(db, &counts).await {
            Ok(n) => Ok(n),
            Err(e) => {
                let mut p = self.lock();
                for (key, n) in counts {
                    add_to(&mut p, key, n, self.max_keys);
                }
                Err(e)
            }
        }
    }
}

fn add_to(p: &mut Pending, key: Key, n: u64, max_keys: usize) -> bool {
    let len = p.counts.len();
    match p.counts.entry(key) {
        Entry::Occupied(mut e) => {
            *e.get_mut() = e.get().saturating_add(n);
            true
        }
        Entry::Vacant(e) if len < max_keys => {
            e.insert(n);
            true
        }
        Entry::Vacant(_) => {
            p.dropped = p.dropped.saturating_add(n);
            false
        }
    }
}

/// Resolve and upsert `counts` in one transaction; returns the downloads written.
async fn write(db: &DatabaseConnection, counts: &HashMap<Key, u64>) -> Result<u64, DbErr> {
    let txn = db.begin().await?;
    let mut versions: HashMap<(&str, &str), Option<i64>> = HashMap::new();
    // Ordered by (version, day): concurrent flushes of replicas lock rows in one order.
    let mut rows: BTreeMap<(i64, &str), u64> = BTreeMap::new();
    for (key, n) in counts {
        let blob = (key.repository.as_str(), key.digest.as_str());
        let version = match versions.get(&blob) {
            Some(v) => *v,
            None => {
                let v = version_for_blob(&txn, blob.0, blob.1).await?;
                versions.insert(blob, v);
                v
            }
        };
        if let Some(version) = version {
            let row = rows.entry((version, key.day.as_str())).or_default();
            *row = row.saturating_add(*n);
        }
    }
    let mut written = 0u64;
    for ((version, day), n) in rows {
        record_n(&txn, version, day, n).await?;
        written = written.saturating_add(n);
    }
    txn.commit().await?;
    Ok(written)
}

/// Flush `tally` to `db` every [`FLUSH_EVERY`], for as long as the server runs. Failures
/// are logged and retried at the next tick.
pub fn spawn_flusher(tally: Arc<Tally>, db: DatabaseConnection) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(FLUSH_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = tally.flush(&db).await {
                tracing::warn!(error = %e, "could not write download counts");
            }
        }
    });
}

#[derive(Debug, FromQueryResult)]
struct Sum {
    key: i64,
    total: i64,
}

#[derive(Debug, FromQueryResult)]
struct DaySum {
    day: String,
    total: i64,
}

/// Downloads of each version of the package, all time, by version id (versions never
/// downloaded are absent).
pub async fn per_version(db: &impl ConnectionTrait, package_id: i64) -> Result<HashMap<i64, u64>, DbErr> {
    let rows = Downloads::find()
        .select_only()
        .column_as(downloads::Column::PackageVersionId, "key")
        .column_as(sum_count(), "total")
        .join(JoinType::InnerJoin, version_relation())
        .filter(package_versions::Column::PackageId.eq(package_id))
        .group_by(downloads::Column::PackageVersionId)
        .into_model::<Sum>()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.key, u64::try_from(r.total).unwrap_or(0)))
        .collect())
}

/// Downloads of the package (all versions) on each of the last `days` days, oldest
/// first, ending today (UTC); days without downloads are zero. At most 366 days.
pub async fn per_day(db: &impl ConnectionTrait, package_id: i64, days: u32) -> Result<Vec<(String, u64)>, DbErr> {
    per_day_until(db, package_id, days, crate::now_ms()).await
}

/// [`per_day`] ending on the day of `now_ms`.
pub async fn per_day_until(
    db: &impl ConnectionTrait,
    package_id: i64,
    days: u32,
    now_ms: i64,
) -> Result<Vec<(String, u64)>, DbErr> {
    let days = days.clamp(1, 366) as i64;
    let series: Vec<String> = (0..days).rev().map(|back| day_of(now_ms - back * 86_400_000)).collect();
    let first = series.first().cloned().unwrap_or_default();
    let rows = Downloads::find()
        .select_only()
        .column(downloads::Column::Day)
        .column_as(sum_count(), "total")
        .join(JoinType::InnerJoin, version_relation())
        .filter(package_versions::Column::PackageId.eq(package_id))
        .filter(downloads::Column::Day.gte(first))
        .group_by(downloads::Column::Day)
        .into_model::<DaySum>()
        .all(db)
        .await?;
    let by_day: HashMap<String, u64> = rows
        .into_iter()
        .map(|r| (r.day, u64::try_from(r.total).unwrap_or(0)))
        .collect();
    Ok(series
        .into_iter()
        .map(|d| {
            let n = by_day.get(&d).copied().unwrap_or(0);
            (d, n)
        })
        .collect())
}

/// All-time downloads of the package (all versions).
pub async fn total(db: &impl ConnectionTrait, package_id: i64) -> Result<u64, DbErr> {
    Ok(per_version(db, package_id).await?.values().sum())
}

/// All-time downloads of every package that has any, by package id.
pub async fn totals_by_package(db: &impl ConnectionTrait) -> Result<HashMap<i64, u64>, DbErr> {
    let rows = Downloads::find()
        .select_only()
        .column_as(package_versions::Column::PackageId, "key")
        .column_as(sum_count(), "total")
        .join(JoinType::InnerJoin, version_relation())
        .group_by(package_versions::Column::PackageId)
        .into_model::<Sum>()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.key, u64::try_from(r.total).unwrap_or(0)))
        .collect())
}

/// `CAST(SUM(downloads.count) AS BIGINT)`: PostgreSQL sums a BIGINT as NUMERIC.
fn sum_count() -> sea_orm::sea_query::SimpleExpr {
    Func::cast_as(
        Func::sum(Expr::col((Downloads, downloads::Column::Count))),
        Alias::new("BIGINT"),
    )
    .into()
}

fn version_relation() -> sea_orm::RelationDef {
    downloads::Relation::Version.def()
}
