//! Who may write through the OCI API.
//!
//! Pushes need a token (Bearer, or Basic with the token as password) whose scope and
//! role allow `publish` in the repository's namespace (its first path component),
//! unless the server runs with `--insecure-anonymous-push`. Repositories that hold
//! govstore packages are written only through the publish API: a plain OCI push could
//! otherwise move a version tag to unsigned content.

use axum::http::{HeaderMap, StatusCode};
use govstore_core::RepoName;
use govstore_core::scope::Action;
use sea_orm::ConnectionTrait;

use crate::auth::{authenticate, require};
use crate::db;
use crate::error::{ApiError, ApiResult, Code};
use crate::state::AppState;

pub async fn require_push(st: &AppState, headers: &HeaderMap, repo: &RepoName) -> ApiResult<()> {
    if st.config.insecure_anonymous_push {
        return Ok(());
    }
    let Some(p) = authenticate(st, headers).await? else {
        return Err(ApiError::unauthorized());
    };
    let namespace = repo.as_str().split('/').next().unwrap_or_default();
    require(st, &p, Action::Publish, namespace).await.map(|_| ())
}

/// Refuse manifest writes and deletes in a repository of govstore packages. A cheap
/// early answer before the body is read; the write itself checks again with
/// `require_not_package_locked`, as a publish may commit in between.
pub async fn require_not_package(st: &AppState, repo: &RepoName) -> ApiResult<()> {
    require_not_package_locked(&st.db.read, repo).await
}

/// The check that decides: run inside the write's transaction, after
/// `db::repositories::lock_for_write` (or `lock_existing`), the lock the publish
/// transaction also takes, so a publish either committed before (and is seen here) or
/// waits until this write is done (and then sets its tags over it).
pub async fn require_not_package_locked(db: &impl ConnectionTrait, repo: &RepoName) -> ApiResult<()> {
    if db::packages::find(db, repo.as_str()).await?.is_some() {
        return Err(package_repository(repo));
    }
    Ok(())
}

pub fn package_repository(repo: &RepoName) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        Code::Denied,
        format!(
            "`{repo}` holds govstore packages: publish with `govstore publish`, retire versions with `govstore yank`"
        ),
    )
}
