//! Package search on tantivy, in `DATA/search/`.
//!
//! Every replica keeps its own index, built from the database: at startup if it is empty,
//! has another schema version or holds a different number of packages, and by
//! `govstore-server reindex`. After a publish, yank or unyank commits, the handler calls
//! [`Search::refresh`], which replaces that package's document, commits and reloads the
//! reader, so the change is searchable at once. Updates are serialised by one lock, and an
//! index writer exists only during an update (so that a restarted server in the same
//! process can open the index). The index is derived data: it may be deleted at any time.

pub mod document;
pub mod query;
pub mod schema;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sea_orm::{ConnectionTrait, DbErr};
use tantivy::directory::MmapDirectory;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

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

struct Inner {
    dir: PathBuf,
    index: Index,
    reader: IndexReader,
    fields: Fields,
    writing: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for Search {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Search").field("dir", &self.0.dir).finish()
    }
}

const VERSION_FILE: &str = "SCHEMA_VERSION";
const WRITER_BYTES: usize = 15_000_000;

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
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        let search = Self(Arc::new(Inner {
            dir: dir.to_owned(),
            index,
            reader,
            fields,
            writing: tokio::sync::Mutex::new(()),
        }));
        let empty = search.0.reader.searcher().num_docs() == 0;
        Ok((search, stale || empty))
    }

    /// The number of packages indexed.
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

    fn writer(&self) -> Result<IndexWriter<TantivyDocument>, SearchError> {
        Ok(self.0.index.writer_with_num_threads(1, WRITER_BYTES)?)
    }

    /// Commit, make the change visible, then let the merges the commit started finish (a
    /// dropped writer would abandon them, and segments would pile up, one per publish).
    fn commit(&self, mut w: IndexWriter<TantivyDocument>) -> Result<(), SearchError> {
        w.commit()?;
        self.0.reader.reload()?;
        w.wait_merging_threads()?;
        self.0.reader.reload()?;
        Ok(())
    }

    /// Replace the whole index with the packages in the database. Returns their number.
    pub async fn rebuild(&self, conn: &impl ConnectionTrait) -> Result<usize, SearchError> {
        let _guard = self.0.writing.lock().await;
        let mut by_package: HashMap<i64, Vec<_>> = HashMap::new();
        for v in db::packages::all_versions(conn).await? {
            by_package.entry(v.package_id).or_default().push(v);
        }
        let mut docs = Vec::new();
        for p in db::packages::all(conn, i64::MAX as u64).await? {
            let versions = by_package.remove(&p.id).unwrap_or_default();
            if let Some(l) = document::listing(&p, versions) {
                docs.push(document::document(&l, &self.0.fields));
            }
        }
        let n = docs.len();
        let this = self.clone();
        tokio::task::spawn_blocking(move || -> Result<(), SearchError> {
            let w = this.writer()?;
            w.delete_all_documents()?;
            for d in docs {
                w.add_document(d)?;
            }
            this.commit(w)
        })
        .await
        .map_err(|e| SearchError::Io(std::io::Error::other(e)))??;
        Ok(n)
    }

    /// Re-read the package `name` from the database and replace its document.
    pub async fn refresh(&self, conn: &impl ConnectionTrait, name: &str) -> Result<(), SearchError> {
        let _guard = self.0.writing.lock().await;
        let doc = match db::packages::find(conn, name).await? {
            Some(p) => {
                let versions = db::packages::versions(conn, p.id).await?;
                document::listing(&p, versions).map(|l| document::document(&l, &self.0.fields))
            }
            None => None,
        };
        let this = self.clone();
        let name = name.to_owned();
        tokio::task::spawn_blocking(move || -> Result<(), SearchError> {
            let w = this.writer()?;
            w.delete_term(Term::from_field_text(this.0.fields.id, &name));
            if let Some(d) = doc {
                w.add_document(d)?;
            }
            this.commit(w)
        })
        .await
        .map_err(|e| SearchError::Io(std::io::Error::other(e)))?
    }

    /// Search. Fast enough (well under a millisecond for a small catalogue) to run on the
    /// async worker.
    pub fn search(&self, req: &Request) -> Result<Found, SearchError> {
        let searcher = self.0.reader.searcher();
        Ok(query::run(&searcher, &self.0.index, &self.0.fields, req)?)
    }
}

/// Open the index under `data_dir/search` and rebuild it from the database if it is new,
/// of another schema, or holds another number of packages than the database.
pub async fn open(data_dir: &Path, conn: &impl ConnectionTrait) -> Result<Search, SearchError> {
    let (search, mut rebuild) = Search::open(&data_dir.join("search"))?;
    if !rebuild {
        let in_db = db::packages::count(conn).await?;
        rebuild = in_db != search.len();
    }
    if rebuild {
        let n = search.rebuild(conn).await?;
        tracing::info!(packages = n, "built the search index from the database");
    }
    Ok(search)
}

/// Rebuild the index under `data_dir/search` from the database (`govstore-server reindex`).
pub async fn reindex(data_dir: &Path, conn: &impl ConnectionTrait) -> Result<usize, SearchError> {
    let (search, _) = Search::open(&data_dir.join("search"))?;
    search.rebuild(conn).await
}

/// After a commit that changed package `name`: refresh its document. A failure is logged,
/// not returned: the change is committed, and a restart or `reindex` repairs the index.
pub async fn refresh_logged(st: &crate::state::AppState, name: &str) {
    if let Err(e) = st.search.refresh(&st.db.read, name).await {
        tracing::error!(package = name, error = %e, "could not update the search index");
    }
}
