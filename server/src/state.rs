//! The state every handler shares.

use std::sync::Arc;

use crate::config::Config;
use crate::db::Db;
use crate::search::Search;
use crate::storage::BlobStore;
use crate::storage::sessions::Sessions;

#[derive(Clone, Debug)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: Db,
    pub blobs: BlobStore,
    pub sessions: Sessions,
    pub search: Search,
}
