//! The state every handler shares.

use std::sync::Arc;

use crate::catalogue_check::CatalogueCache;
use crate::config::Config;
use crate::db::Db;
use crate::db::downloads::Tally;
use crate::pages::throttle::SigninThrottle;
use crate::search::Search;
use crate::server_keys::ServerKeys;
use crate::storage::BlobStore;
use crate::storage::sessions::Sessions;

#[derive(Clone, Debug)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: Db,
    pub blobs: BlobStore,
    pub sessions: Sessions,
    pub search: Search,
    /// The catalogue as the stack check resolves against it, kept while unchanged.
    pub catalogue: Arc<CatalogueCache>,
    /// Downloads counted and not yet written (see `db::downloads::spawn_flusher`).
    pub downloads: Arc<Tally>,
    /// Failed web sign-ins, per account and client address (`pages::throttle`).
    pub signins: Arc<SigninThrottle>,
    /// Approver keys the server holds, by country (`crate::server_keys`).
    pub server_keys: Arc<ServerKeys>,
}
