//! Catalogue search on tantivy, in `DATA/search/`: one document per package and one per
//! listing (metadata-only entries imported from the DPG registry).
//!
//! Every replica keeps its own index, built from the database: at startup if it is empty,
//! has another schema version, holds a different number of documents than the database
//! has packages and listings, or was built from other listings (the listings'
//! generation, in `DATA/search/LISTINGS`); and by `govstore-server reindex` and
//! `govstore-server import dpg`. After a publish, yank or unyank commits, the handler
//! calls [`Search::refresh`], which replaces that package's document, commits and reloads
//! the reader, so the change is searchable at once. While serving, [`spawn_follower`]
//! refreshes, within [`FOLLOW_PACKAGES_EVERY`], the packages that other replicas
//! published, yanked or unyanked: it reads the event sequence after the last event it
//! applied, a number kept in `DATA/search/EVENTS` and written after the index commit
//! (so a crash re-applies, never skips; at startup the index first catches up from
//! there, however long the server was down). It rebuilds the index within
//! [`FOLLOW_EVERY`] of an import made by another process, and
//! every [`DOWNLOADS_EVERY`] re-indexes the packages whose download totals changed (so
//! the ranking's download counts are at most that old). Updates are serialised by one
//! lock, and an index writer exists only during an update (so that a restarted server in
//! the same process can open the index). The index is derived data: it may be deleted
//! at any time.

pub mod document;
pub mod facets;
pub mod query;
pub mod schema;

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use sea_orm::{ConnectionTrait, DbErr};
use tantivy::directory::MmapDirectory;
use tantivy::indexer::NoMergePolicy;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term, Warmer};

pub use query::{Found, Request};
use schema::Fields;

use crate::db;

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("search index directory: {0}")]
    Io(#[from] std::io::Error),
    #[error("search index: {0}")]
    Directory(#[from] tantivy::directory::error::OpenDirectoryError),
    #[error("database: {0}")]
    Db(#[from] DbErr),
}

/// The index handle in the application state.
#[derive(Clone)]
pub struct Search(Arc<Inner>);

/// Listing names by match key (see [`document::listing_keys`]).
type ListingKeys = HashMap<String, Vec<String>>;

struct Inner {
    dir: PathBuf,
    index: Index,
    reader: IndexReader,
    fields: Fields,
    /// Facet tables: the reader's warmer (the reader holds it weakly).
    facets: Arc<facets::FacetTables>,
    writing: tokio::sync::Mutex<()>,
    /// The listings' generation the index was built from.
    generation: Mutex<String>,
    /// The download totals in the index, by package name.
    downloads: Mutex<HashMap<String, u64>>,
    /// Listing names by match key, loaded on first use and after each rebuild.
    listing_keys: tokio::sync::Mutex<Option<Arc<ListingKeys>>>,
    /// The number of the last event of the sequence the index reflects (see
    /// [`Search::follow_packages`]), as in `DATA/search/EVENTS`; -1 when unknown
    /// (a new index, rebuilt before it serves).
    position: AtomicI64,
}

impl std::fmt::Debug for Search {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Search").field("dir", &self.0.dir).finish()
    }
}

const VERSION_FILE: &str = "SCHEMA_VERSION";
const LISTINGS_FILE: &str = "LISTINGS";
const EVENTS_FILE: &str = "EVENTS";
/// Events read per query while following.
const FOLLOW_BATCH: u64 = 500;
const WRITER_BYTES: usize = 15_000_000;
/// How often a serving replica checks the event sequence for packages published, yanked
/// or unyanked by another replica.
pub const FOLLOW_PACKAGES_EVERY: Duration = Duration::from_secs(1);
/// How often a serving replica checks for listings imported by another process.
pub const FOLLOW_EVERY: Duration = Duration::from_secs(10);
/// How often a serving replica re-indexes the packages whose downloads changed.
pub const DOWNLOADS_EVERY: Duration = Duration::from_secs(600);

/// Which merges a commit waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Merge {
    /// Those the merge policy starts (small segments, as updates come in).
    AsTheyCome,
    /// Every segment into one (after a rebuild).
    All,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Search {
    /// Open (or create) the index in `dir`. Returns whether it must be rebuilt: new, or of
    /// another schema version (then it is emptied first).
    pub fn open(dir: &Path) -> Result<(Self, bool), SearchError> {
        let version_file = dir.join(VERSION_FILE);
        let current = std::fs::read_to_string(&version_file).ok();
        let stale = current.as_deref().map(str::trim) != Some(schema::VERSION);
        if stale && dir.exists() {
            std::fs::remove_dir_all(dir)?;
        }
        std::fs::create_dir_all(dir)?;
        let (schema, fields) = schema::build();
        let index = Index::open_or_create(MmapDirectory::open(dir)?, schema)?;
        std::fs::write(&version_file, schema::VERSION)?;
        let generation = std::fs::read_to_string(dir.join(LISTINGS_FILE)).unwrap_or_default();
        let position = std::fs::read_to_string(dir.join(EVENTS_FILE))
            .ok()
            .and_then(|s| s.trim().parse::<i64>().ok())
            .unwrap_or(-1);
        let facets = Arc::new(facets::FacetTables::default());
        let warmer: Weak<dyn Warmer> = Arc::downgrade(&facets) as Weak<dyn Warmer>;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .warmers(vec![warmer])
            .try_into()?;
        let search = Self(Arc::new(Inner {
            dir: dir.to_owned(),
            index,
            reader,
            fields,
            facets: facets.clone(),
            writing: tokio::sync::Mutex::new(()),
            generation: Mutex::new(generation.trim().to_owned()),
            downloads: Mutex::new(HashMap::new()),
            listing_keys: tokio::sync::Mutex::new(None),
            position: AtomicI64::new(if stale { -1 } else { position }),
        }));
        let empty = search.0.reader.searcher().num_docs() == 0;
        Ok((search, stale || empty || position < 0))
    }

    /// The number of documents indexed (packages and listings).
    pub fn len(&self) -> u64 {
        self.0.reader.searcher().num_docs()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The number of segments searched (merges keep it small as updates come in).
    pub fn segments(&self) -> usize {
        self.0.reader.searcher().segment_readers().len()
    }

    /// The listings' generation (see [`db::listings::generation`]) the index was built from.
    pub fn generation(&self) -> String {
        lock(&self.0.generation).clone()
    }

    fn writer(&self) -> Result<IndexWriter<TantivyDocument>, SearchError> {
        Ok(self.0.index.writer_with_num_threads(1, WRITER_BYTES)?)
    }

    /// Commit and make the change visible (the reader's warmer builds the new segments'
    /// facet tables before it does), then let the merges the commit started finish (a
    /// dropped writer would abandon them, and segments would pile up, one per publish).
    ///
    /// With [`Merge::All`] (a rebuild) the merge policy is off and every segment is then
    /// merged into one by the same writer, so the index lock is held throughout. The
    /// documents are committed before the merge starts: a merge that fails (or a process
    /// that dies during it) leaves them all searchable in several segments, and is logged
    /// rather than reported as a failed rebuild.
    fn commit(&self, mut w: IndexWriter<TantivyDocument>, merge: Merge) -> Result<(), SearchError> {
        w.commit()?;
        self.0.reader.reload()?;
        if merge == Merge::All {
            let ids = self.0.index.searchable_segment_ids()?;
            if ids.len() > 1
                && let Err(e) = w.merge(&ids).wait()
            {
                tracing::warn!(segments = ids.len(), error = %e, "could not merge the rebuilt search index into one segment");
            }
        }
        w.wait_merging_threads()?;
        self.0.reader.reload()?;
        Ok(())
    }

    /// Apply changes through a writer, off the async workers, then commit.
    async fn write(
        &self,
        merge: Merge,
        apply: impl FnOnce(&IndexWriter<TantivyDocument>) -> Result<(), SearchError> + Send + 'static,
    ) -> Result<(), SearchError> {
        let this = self.clone();
        tokio::task::spawn_blocking(move || -> Result<(), SearchError> {
            let w = this.writer()?;
            if merge == Merge::All {
                w.set_merge_policy(Box::new(NoMergePolicy));
            }
            apply(&w)?;
            this.commit(w, merge)
        })
        .await
        .map_err(|e| SearchError::Io(std::io::Error::other(e)))?
    }

    /// Replace every document with `docs` and merge the index into one segment: the
    /// write half of [`Search::rebuild`], public for the search benchmark.
    pub async fn replace_all(&self, docs: Vec<TantivyDocument>) -> Result<(), SearchError> {
        let _guard = self.0.writing.lock().await;
        self.replace_all_locked(docs).await
    }

    /// [`Search::replace_all`], with the `writing` lock already held.
    async fn replace_all_locked(&self, docs: Vec<TantivyDocument>) -> Result<(), SearchError> {
        self.write(Merge::All, move |w| {
            w.delete_all_documents()?;
            for d in docs {
                w.add_document(d)?;
            }
            Ok(())
        })
        .await
    }

    /// The schema's fields, to build documents with (see [`document`]).
    pub fn fields(&self) -> &Fields {
        &self.0.fields
    }

    /// Replace the whole index with the packages and listings in the database. Returns
    /// the number of documents.
    pub async fn rebuild(&self, conn: &impl ConnectionTrait) -> Result<usize, SearchError> {
        let _guard = self.0.writing.lock().await;
        // Read before the listings: an import committed meanwhile makes a later check
        // see a new generation and rebuild again, rather than being missed.
        let generation = db::listings::generation(conn).await?;
        // Likewise the event position: events committed while rebuilding are applied
        // again by the follower (refreshing a document is idempotent).
        let position = db::events::last_seq(conn).await?;
        let mut by_package: HashMap<i64, Vec<_>> = HashMap::new();
        for v in db::packages::all_versions(conn).await? {
            by_package.entry(v.package_id).or_default().push(v);
        }
        let totals = db::downloads::totals_by_package(conn).await?;
        let mut packages = Vec::new();
        for p in db::packages::all(conn, i64::MAX as u64).await? {
            let versions = by_package.remove(&p.id).unwrap_or_default();
            if let Some(mut l) = document::listing(&p, versions) {
                l.downloads = totals.get(&p.id).copied().unwrap_or(0);
                l.approved_in = db::approvals::approved_countries(conn, &l.digest, crate::now_ms() / 1000).await?;
                packages.push(l);
            }
        }
        let listings = db::listings::all(conn).await?;
        let keys = listing_keys_of(&listings);

        // Which packages each listing describes, through their match keys.
        let mut packages_by_key: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, p) in packages.iter_mut().enumerate() {
            let pk = document::package_keys(&p.name, p.repository.as_deref());
            p.aliases = aliases(&keys, &pk);
            for k in pk {
                packages_by_key.entry(k).or_default().push(i);
            }
        }
        let f = &self.0.fields;
        let mut docs = Vec::with_capacity(packages.len() + listings.len());
        for l in &listings {
            let see_also: BTreeSet<&str> = document::listing_keys(l)
                .iter()
                .filter_map(|k| packages_by_key.get(k))
                .flatten()
                .map(|&i| packages[i].name.as_str())
                .collect();
            let see_also: Vec<String> = see_also.into_iter().map(str::to_owned).collect();
            docs.push(document::listing_document(l, &see_also, f));
        }
        let downloads: HashMap<String, u64> = packages.iter().map(|p| (p.name.clone(), p.downloads)).collect();
        docs.extend(packages.iter().map(|p| document::document(p, f)));
        let n = docs.len();
        self.replace_all_locked(docs).await?;
        std::fs::write(self.0.dir.join(LISTINGS_FILE), &generation)?;
        self.store_position(position)?;
        *lock(&self.0.generation) = generation;
        *lock(&self.0.downloads) = downloads;
        *self.0.listing_keys.lock().await = Some(Arc::new(keys));
        Ok(n)
    }

    /// Listing names by match key: cached, loaded from the database on first use.
    async fn listing_keys(&self, conn: &impl ConnectionTrait) -> Result<Arc<ListingKeys>, SearchError> {
        let mut cached = self.0.listing_keys.lock().await;
        if let Some(k) = cached.as_ref() {
            return Ok(k.clone());
        }
        let keys = Arc::new(listing_keys_of(&db::listings::all(conn).await?));
        *cached = Some(keys.clone());
        Ok(keys)
    }

    /// Re-read the package `name` from the database and replace its document.
    pub async fn refresh(&self, conn: &impl ConnectionTrait, name: &str) -> Result<(), SearchError> {
        let keys = self.listing_keys(conn).await?;
        let _guard = self.0.writing.lock().await;
        let mut listing = None;
        if let Some(p) = db::packages::find(conn, name).await? {
            let versions = db::packages::versions(conn, p.id).await?;
            if let Some(mut l) = document::listing(&p, versions) {
                l.downloads = db::downloads::total(conn, p.id).await?;
                l.approved_in = db::approvals::approved_countries(conn, &l.digest, crate::now_ms() / 1000).await?;
                l.aliases = aliases(&keys, &document::package_keys(&l.name, l.repository.as_deref()));
                listing = Some(l);
            }
        }
        let downloads = listing.as_ref().map_or(0, |l| l.downloads);
        let doc = listing.map(|l| document::document(&l, &self.0.fields));
        let key = Term::from_field_text(self.0.fields.id, name);
        self.write(Merge::AsTheyCome, move |w| {
            w.delete_term(key);
            if let Some(d) = doc {
                w.add_document(d)?;
            }
            Ok(())
        })
        .await?;
        lock(&self.0.downloads).insert(name.to_owned(), downloads);
        Ok(())
    }

    /// Re-index the packages whose download totals differ from the index's. Returns how
    /// many were re-indexed.
    pub async fn refresh_downloads(&self, conn: &impl ConnectionTrait) -> Result<usize, SearchError> {
        let totals = db::downloads::totals_by_package(conn).await?;
        let packages = db::packages::all(conn, i64::MAX as u64).await?;
        let changed: Vec<String> = {
            let indexed = lock(&self.0.downloads);
            packages
                .into_iter()
                .filter(|p| {
                    let now = totals.get(&p.id).copied().unwrap_or(0);
                    indexed.get(&p.name).copied().unwrap_or(0) != now
                })
                .map(|p| p.name)
                .collect()
        };
        for name in &changed {
            self.refresh(conn, name).await?;
        }
        Ok(changed.len())
    }

    /// The number of the last event the index reflects (-1 before its first build).
    pub fn position(&self) -> i64 {
        self.0.position.load(Ordering::SeqCst)
    }

    /// Record that the index reflects every event up to `seq`: after the index commit,
    /// written to a temporary file and renamed, so a crash leaves the old number (and
    /// the events after it are applied again).
    fn store_position(&self, seq: i64) -> Result<(), SearchError> {
        let tmp = self.0.dir.join(format!("{EVENTS_FILE}.tmp"));
        std::fs::write(&tmp, seq.to_string())?;
        std::fs::rename(&tmp, self.0.dir.join(EVENTS_FILE))?;
        self.0.position.store(seq, Ordering::SeqCst);
        Ok(())
    }

    /// Apply the event sequence after the index's position: refresh every package that
    /// an event published, yanked or unyanked (by this replica or any other), then move
    /// the position. Reads batches until it is caught up. No clock is involved: a
    /// transaction that committed hours after it began is found by its number. Returns
    /// the number of packages refreshed.
    pub async fn follow_packages(&self, conn: &impl ConnectionTrait) -> Result<usize, SearchError> {
        let mut refreshed = 0;
        loop {
            let after = self.position();
            if after < 0 {
                // Never built: the caller rebuilds first.
                return Ok(refreshed);
            }
            let events = db::events::after(conn, after, FOLLOW_BATCH, &[]).await?;
            let Some(last) = events.last().map(|e| e.seq) else {
                return Ok(refreshed);
            };
            let names: BTreeSet<String> = events
                .iter()
                .filter_map(|e| e.event.package())
                .map(ToString::to_string)
                .collect();
            for name in &names {
                self.refresh(conn, name).await?;
            }
            refreshed += names.len();
            let _guard = self.0.writing.lock().await;
            // A rebuild meanwhile may have moved the position past these events.
            if self.position() == after {
                self.store_position(last)?;
            }
            if (events.len() as u64) < FOLLOW_BATCH {
                return Ok(refreshed);
            }
        }
    }

    /// Rebuild if the listings changed since the index was built (an import by another
    /// process). Returns whether it rebuilt.
    pub async fn follow_listings(&self, conn: &impl ConnectionTrait) -> Result<bool, SearchError> {
        if db::listings::generation(conn).await? == self.generation() {
            return Ok(false);
        }
        self.rebuild(conn).await?;
        Ok(true)
    }

    /// Search. Fast enough (well under a millisecond for a small catalogue) to run on the
    /// async worker.
    pub fn search(&self, req: &Request) -> Result<Found, SearchError> {
        let searcher = self.0.reader.searcher();
        Ok(query::run(
            &searcher,
            &self.0.index,
            &self.0.fields,
            &self.0.facets,
            req,
        )?)
    }
}

fn listing_keys_of(listings: &[db::listings::Details]) -> ListingKeys {
    let mut keys = ListingKeys::new();
    for l in listings {
        for k in document::listing_keys(l) {
            keys.entry(k).or_default().push(l.name.clone());
        }
    }
    keys
}

/// The names of the listings that share a key with a package, sorted, without repeats.
fn aliases(keys: &ListingKeys, package_keys: &[String]) -> Vec<String> {
    let names: BTreeSet<&String> = package_keys.iter().filter_map(|k| keys.get(k)).flatten().collect();
    names.into_iter().cloned().collect()
}

/// Open the index under `data_dir/search` and rebuild it from the database if it is new,
/// of another schema, holds another number of documents than the database has packages
/// and listings, or was built from other listings. The index is derived data: if it
/// cannot be opened or caught up (a process killed mid-write can leave files a later
/// write collides with), it is removed and built again from the database.
pub async fn open(data_dir: &Path, conn: &impl ConnectionTrait) -> Result<Search, SearchError> {
    match open_and_catch_up(data_dir, conn).await {
        Ok(search) => Ok(search),
        // The database is the truth; without it there is nothing to rebuild from.
        Err(e @ SearchError::Db(_)) => Err(e),
        Err(e) => {
            tracing::warn!(error = %e, "the search index could not be opened or caught up; building it again from the database");
            let dir = data_dir.join("search");
            if dir.exists() {
                std::fs::remove_dir_all(&dir)?;
            }
            let (search, _) = Search::open(&dir)?;
            let n = search.rebuild(conn).await?;
            tracing::info!(documents = n, "built the search index from the database");
            Ok(search)
        }
    }
}

async fn open_and_catch_up(data_dir: &Path, conn: &impl ConnectionTrait) -> Result<Search, SearchError> {
    let (search, mut rebuild) = Search::open(&data_dir.join("search"))?;
    if !rebuild {
        let in_db = db::packages::count(conn).await? + db::listings::count(conn).await?;
        rebuild = in_db != search.len()
            || db::listings::generation(conn).await? != search.generation()
            // The database is behind the index (restored from a backup): start over.
            || db::events::last_seq(conn).await? < search.position();
    }
    if rebuild {
        let n = search.rebuild(conn).await?;
        tracing::info!(documents = n, "built the search index from the database");
    } else {
        // Catch up with what was committed while this replica was down (or crashed
        // between a commit and its index update).
        let n = search.follow_packages(conn).await?;
        if n > 0 {
            tracing::info!(
                packages = n,
                position = search.position(),
                "caught up with the event sequence"
            );
        }
    }
    Ok(search)
}

/// Rebuild the index under `data_dir/search` from the database (`govstore-server reindex`).
/// Returns the number of documents (packages and listings).
pub async fn reindex(data_dir: &Path, conn: &impl ConnectionTrait) -> Result<usize, SearchError> {
    let (search, _) = Search::open(&data_dir.join("search"))?;
    search.rebuild(conn).await
}

/// After a commit that changed package `name`: refresh its document. A failure is logged,
/// not returned: the change is committed, and a restart or `reindex` repairs the index.
pub async fn refresh_logged(search: &Search, conn: &impl ConnectionTrait, name: &str) {
    if let Err(e) = search.refresh(conn, name).await {
        tracing::error!(package = name, error = %e, "could not update the search index");
    }
}

/// Keep a serving replica's index following the database: package changes made through
/// other replicas (every [`FOLLOW_PACKAGES_EVERY`]), listings imported by another
/// process (checked every [`FOLLOW_EVERY`]) and download totals (every
/// [`DOWNLOADS_EVERY`]). Failures are logged and retried at the next tick.
pub fn spawn_follower(search: Search, conn: sea_orm::DatabaseConnection) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(FOLLOW_PACKAGES_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let every = |d: Duration| (d.as_secs() / FOLLOW_PACKAGES_EVERY.as_secs()).max(1);
        let (per_listings, per_downloads) = (every(FOLLOW_EVERY), every(DOWNLOADS_EVERY));
        let mut n: u64 = 0;
        loop {
            tick.tick().await;
            n += 1;
            match search.follow_packages(&conn).await {
                Ok(0) => {}
                Ok(k) => tracing::debug!(packages = k, "followed package changes"),
                Err(e) => tracing::warn!(error = %e, "could not follow package changes"),
            }
            if n.is_multiple_of(per_listings) {
                match search.follow_listings(&conn).await {
                    Ok(true) => tracing::info!("rebuilt the search index after a listings import"),
                    Ok(false) => {}
                    Err(e) => tracing::warn!(error = %e, "could not follow the listings"),
                }
            }
            if n.is_multiple_of(per_downloads) {
                match search.refresh_downloads(&conn).await {
                    Ok(0) => {}
                    Ok(k) => tracing::info!(packages = k, "re-indexed download totals"),
                    Err(e) => tracing::warn!(error = %e, "could not re-index download totals"),
                }
            }
        }
    });
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A rebuild too large for one in-memory segment ends merged into one segment (with
    /// the merge policy off: a merge of segments the policy is already merging is
    /// refused), and its facet counts cover every document.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_large_rebuild_ends_in_one_segment() {
        let dir = tempfile::tempdir().unwrap();
        let (search, _) = Search::open(dir.path()).unwrap();
        let n: usize = 400;
        let docs: Vec<TantivyDocument> = (0..n)
            .map(|i| {
                // Distinct words fill the writer's memory budget: several segments.
                let words: Vec<String> = (0..1500).map(|j| format!("w{i}x{j}")).collect();
                let l = document::Listing {
                    name: format!("ns/package-{i}"),
                    description: words.join(" "),
                    license: if i % 2 == 0 { "MIT" } else { "MPL-2.0" }.into(),
                    ..Default::default()
                };
                document::document(&l, search.fields())
            })
            .collect();
        // Written as updates are, the same documents leave several segments.
        let again = docs.clone();
        search
            .write(Merge::AsTheyCome, move |w| {
                for d in again {
                    w.add_document(d)?;
                }
                Ok(())
            })
            .await
            .unwrap();
        assert!(search.segments() > 1, "{} segment(s)", search.segments());
        search.replace_all(docs).await.unwrap();
        assert_eq!(search.len(), n as u64);
        assert_eq!(search.segments(), 1);
        let found = search
            .search(&Request {
                q: "package".into(),
                limit: 5,
                facets: true,
                ..Default::default()
            })
            .unwrap();
        assert_eq!(found.total, n);
        assert_eq!(found.facets["license"]["MIT"], n as u64 / 2);
        assert_eq!(found.facets["license"]["MPL-2.0"], n as u64 / 2);
        assert_eq!(found.facets["signed"]["yes"], n as u64);
    }
}
