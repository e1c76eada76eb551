//! Blob reads (GET/HEAD with `Range`) and deletes.
//!
//! A GET answering the whole of a package version's content layer from its package
//! repository (a 200, or a range from byte 0 to the last) counts as one download of that
//! version; HEAD and partial ranges (probes, resumes) do not. Counting only adds to the
//! in-memory tally (`db::downloads::Tally`), written in batches off the request: it never
//! touches the database, fails or delays a pull.

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use govstore_core::{Digest, RepoName};

use super::hv;
use super::range::parse_range;
use crate::db;
use crate::error::{ApiError, ApiResult, Code};
use crate::state::AppState;

pub(crate) fn parse_digest(s: &str) -> ApiResult<Digest> {
    s.parse()
        .map_err(|e: govstore_core::DigestError| ApiError::digest_invalid(e.to_string()))
}

pub(crate) async fn repo_id(st: &AppState, name: &RepoName) -> ApiResult<i64> {
    db::repositories::find(&st.db.read, name)
        .await?
        .map(|r| r.id)
        .ok_or_else(|| ApiError::name_unknown(name.as_str()))
}

pub async fn get(st: &AppState, name: &RepoName, digest: &str, headers: &HeaderMap, head: bool) -> ApiResult<Response> {
    let digest = parse_digest(digest)?;
    let repo = repo_id(st, name).await?;
    if db::blobs::linked_size(&st.db.read, repo, &digest).await?.is_none() {
        return Err(ApiError::blob_unknown(&digest));
    }
    let Some(len) = st.blobs.size(&digest).await? else {
        tracing::error!(%digest, "blob is recorded but missing from the store");
        return Err(ApiError::blob_unknown(&digest));
    };
    let mut status = StatusCode::OK;
    let mut extra = Vec::new();
    let (start, count) = match headers.get(header::RANGE).map(|v| v.to_str().unwrap_or("")) {
        Some(r) => match parse_range(r, len) {
            Some(range) => {
                status = StatusCode::PARTIAL_CONTENT;
                extra.push((
                    header::CONTENT_RANGE,
                    hv(format!("bytes {}-{}/{len}", range.start, range.end)),
                ));
                (range.start, range.len())
            }
            None => {
                return Err(ApiError::new(
                    StatusCode::RANGE_NOT_SATISFIABLE,
                    Code::BlobUnknown,
                    "requested range not satisfiable",
                )
                .header(header::CONTENT_RANGE, hv(format!("bytes */{len}"))));
            }
        },
        None => (0, len),
    };
    let mut res = if head {
        Body::empty().into_response()
    } else {
        let Some(stream) = st.blobs.get(&digest, start, count).await? else {
            tracing::error!(%digest, "blob is recorded but missing from the store");
            return Err(ApiError::blob_unknown(&digest));
        };
        Body::from_stream(stream).into_response()
    };
    *res.status_mut() = status;
    let h = res.headers_mut();
    h.insert(header::CONTENT_LENGTH, hv(count.to_string()));
    h.insert(header::CONTENT_TYPE, hv("application/octet-stream"));
    h.insert(header::ACCEPT_RANGES, hv("bytes"));
    h.insert(header::ETAG, hv(format!("\"{digest}\"")));
    h.insert(header::CACHE_CONTROL, hv("max-age=31536000, immutable"));
    h.insert("docker-content-digest", hv(digest.to_string()));
    for (k, v) in extra {
        h.insert(k, v);
    }
    // The whole blob: a download (whether it is a version's content is decided when the
    // tally is written).
    if !head && start == 0 && count == len {
        st.downloads
            .add(name.as_str(), &digest.to_string(), &db::downloads::today());
    }
    Ok(res)
}

pub async fn delete(st: &AppState, name: &RepoName, digest: &str) -> ApiResult<Response> {
    let digest = parse_digest(digest)?;
    if !st.config.allow_delete {
        return Err(ApiError::unsupported("deleting is disabled on this registry"));
    }
    let repo = repo_id(st, name).await?;
    if !db::blobs::unlink(&st.db.write, repo, &digest).await? {
        return Err(ApiError::blob_unknown(&digest));
    }
    Ok((StatusCode::ACCEPTED, [(header::CONTENT_LENGTH, "0")]).into_response())
}
