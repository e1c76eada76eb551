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

/// Refuse manifest writes and deletes in a repository of govstore packages.
pub async fn require_not_package(st: &AppState, repo: &RepoName) -> ApiResult<()> {
    if db::packages::find(&st.db.read, repo.as_str()).await?.is_some() {
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
