//! Assembling the service: storage, database, state and the router.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::Response;

use crate::config::Config;
use crate::db::Db;
use crate::state::AppState;
use crate::storage::BlobStore;
use crate::storage::sessions::Sessions;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot prepare the data directory {path}: {source}")]
    DataDir {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open the database: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error("cannot open the search index: {0}")]
    Search(#[from] crate::search::SearchError),
    #[error(transparent)]
    ApproverKey(#[from] crate::server_keys::ServerKeyError),
}

/// Open storage and the database (running migrations) and build the state.
pub async fn state(config: Config) -> Result<AppState, StartupError> {
    // First: a key that cannot be decrypted stops the start before anything is opened.
    let server_keys = Arc::new(crate::server_keys::ServerKeys::load(
        &config.approver_keys,
        config.approver_key_password.as_ref(),
    )?);
    let blobs = BlobStore::open(&config.data_dir).map_err(|source| StartupError::DataDir {
        path: config.data_dir.clone(),
        source,
    })?;
    let db = Db::connect(&config.effective_database_url()).await?;
    let search = crate::search::open(&config.data_dir, &db.read).await?;
    let downloads = Arc::new(crate::db::downloads::Tally::new(
        config.limits.max_pending_download_keys,
    ));
    Ok(AppState {
        config: Arc::new(config),
        db,
        blobs,
        sessions: Sessions::default(),
        search,
        catalogue: Arc::default(),
        downloads,
        signins: Arc::default(),
        server_keys,
    })
}

/// The production router. Tests drive exactly this with `tower::ServiceExt::oneshot`.
pub fn router(state: AppState) -> Router {
    crate::oci::router()
        .merge(crate::api::router())
        .merge(crate::pages::router(&state))
        // Unknown paths: the API's JSON 404 under /api and /v2, an HTML page elsewhere.
        .fallback(crate::pages::fallback)
        .layer(middleware::from_fn(log_request))
        .with_state(state)
}

async fn log_request(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let start = Instant::now();
    let res = next.run(req).await;
    tracing::info!(%method, %path, status = res.status().as_u16(), ms = start.elapsed().as_millis() as u64, "request");
    res
}

/// Expire idle upload sessions now and then, for as long as the server runs.
pub fn spawn_janitor(state: AppState) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(600));
        loop {
            tick.tick().await;
            match crate::oci::expire_uploads(&state).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(expired = n, "expired idle upload sessions"),
                Err(e) => tracing::warn!(status = %e.status(), "upload expiry failed"),
            }
        }
    });
}
