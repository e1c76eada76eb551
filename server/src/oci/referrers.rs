//! The referrers API: manifests whose `subject` is a given digest, as an image index,
//! optionally filtered by `artifactType`.

use axum::http::header;
use axum::response::{IntoResponse, Response};
use govstore_core::RepoName;
use govstore_core::oci::{media_types, referrers_index};

use super::blobs::{parse_digest, repo_id};
use super::{QueryMap, hv};
use crate::db;
use crate::error::ApiResult;
use crate::state::AppState;

pub async fn list(st: &AppState, name: &RepoName, digest: &str, query: &QueryMap) -> ApiResult<Response> {
    let digest = parse_digest(digest)?;
    let repo = repo_id(st, name).await?;
    let filter = query.get("artifactType").map(String::as_str).filter(|s| !s.is_empty());
    let list = db::manifests::referrers(&st.db.read, repo, &digest, filter, st.config.limits.max_page).await?;
    let body = serde_json::to_vec(&referrers_index(list)).map_err(crate::error::ApiError::internal)?;
    let mut res = ([(header::CONTENT_TYPE, media_types::OCI_INDEX)], body).into_response();
    if filter.is_some() {
        res.headers_mut().insert("oci-filters-applied", hv("artifactType"));
    }
    Ok(res)
}
