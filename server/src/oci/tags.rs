//! Tag listing: sorted, paginated with `n` and `last`, with a `Link` to the next page.

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use govstore_core::RepoName;
use serde_json::json;

use super::blobs::repo_id;
use super::{QueryMap, hv};
use crate::db;
use crate::error::{ApiError, ApiResult, Code};
use crate::state::AppState;

pub async fn list(st: &AppState, name: &RepoName, query: &QueryMap) -> ApiResult<Response> {
    let repo = repo_id(st, name).await?;
    let max = st.config.limits.max_page;
    let n = match query.get("n") {
        None => max,
        Some(v) => v
            .parse::<u64>()
            .map_err(|_| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    Code::Unsupported,
                    "`n` must be a non-negative integer",
                )
            })?
            .min(max),
    };
    let last = query.get("last").map(String::as_str);
    let mut tags = if n == 0 {
        Vec::new()
    } else {
        db::tags::list(&st.db.read, repo, last, n + 1).await?
    };
    let more = tags.len() as u64 > n;
    tags.truncate(n as usize);
    let mut res = Json(json!({ "name": name.as_str(), "tags": tags })).into_response();
    if more && let Some(last) = tags.last() {
        let link = format!("</v2/{name}/tags/list?n={n}&last={last}>; rel=\"next\"");
        res.headers_mut().insert(header::LINK, hv(link));
    }
    Ok(res)
}
