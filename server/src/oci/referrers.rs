//! The referrers API: manifests whose `subject` is a given digest, as an image index,
//! optionally filtered by `artifactType`, paginated with a `Link` header whose
//! `cursor` parameter is opaque to clients.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use govstore_core::RepoName;
use govstore_core::oci::{media_types, referrers_index};

use super::blobs::{parse_digest, repo_id};
use super::{QueryMap, hv};
use crate::db;
use crate::error::{ApiError, ApiResult, Code};
use crate::state::AppState;

pub async fn list(st: &AppState, name: &RepoName, digest: &str, query: &QueryMap) -> ApiResult<Response> {
    let digest = parse_digest(digest)?;
    let repo = repo_id(st, name).await?;
    let filter = query.get("artifactType").map(String::as_str).filter(|s| !s.is_empty());
    let cursor = match query.get("cursor") {
        None => None,
        Some(c) => Some(c.parse::<i64>().map_err(|_| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                Code::Unsupported,
                "`cursor` must come from a Link header",
            )
        })?),
    };
    let page = st.config.limits.max_page;
    let mut list = db::manifests::referrers(&st.db.read, repo, &digest, filter, cursor, page + 1).await?;
    let more = list.len() as u64 > page;
    list.truncate(page as usize);
    let next = list.last().map(|(id, _)| *id);
    let body =
        serde_json::to_vec(&referrers_index(list.into_iter().map(|(_, d)| d).collect())).map_err(ApiError::internal)?;
    let mut res = ([(header::CONTENT_TYPE, media_types::OCI_INDEX)], body).into_response();
    if let Some(f) = filter {
        res.headers_mut().insert("oci-filters-applied", hv("artifactType"));
        if more && let Some(next) = next {
            let link = format!(
                "</v2/{name}/referrers/{digest}?artifactType={}&cursor={next}>; rel=\"next\"",
                encode_query(f)
            );
            res.headers_mut().insert(header::LINK, hv(link));
        }
    } else if more && let Some(next) = next {
        let link = format!("</v2/{name}/referrers/{digest}?cursor={next}>; rel=\"next\"");
        res.headers_mut().insert(header::LINK, hv(link));
    }
    Ok(res)
}

/// Percent-encode a query value (media types carry `+`, which would read as a space).
fn encode_query(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
