//! Blob uploads: monolithic (POST with `digest`), POST then PUT, chunked PATCH with
//! `Content-Range` and resumption, status, cancel, and cross-repository mounts.
//!
//! The handlers parse and check the request and map errors; the sessions themselves
//! (state in the database, the hash's midstate included; chunks as immutable part
//! objects; any process may continue any session without reading earlier parts again)
//! are `storage::uploads`. Invariants: the database's `received` count never
//! exceeds the bytes durably in the session's committed parts; a failed chunk writes no
//! part, so the session stays where it was; a blob is linked to a repository only after
//! its digest was verified and the bytes were committed to the store.

use axum::body::{Body, HttpBody};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use govstore_core::{Digest, RepoName};
use uuid::Uuid;

use super::blobs::parse_digest;
use super::range::parse_content_range;
use super::{QueryMap, hv};
use crate::db;
use crate::error::{ApiError, ApiResult, Code};
use crate::state::AppState;
use crate::storage::uploads::{Chunk, UploadError, Uploads};

fn range_value(received: u64) -> String {
    format!("0-{}", received.saturating_sub(1))
}

fn session_response(status: StatusCode, name: &RepoName, id: &str, received: u64) -> Response {
    (
        status,
        [
            (header::LOCATION, hv(format!("/v2/{name}/blobs/uploads/{id}"))),
            (header::RANGE, hv(range_value(received))),
            (header::CONTENT_LENGTH, hv("0")),
            (header::HeaderName::from_static("docker-upload-uuid"), hv(id)),
        ],
    )
        .into_response()
}

fn created(name: &RepoName, digest: &Digest) -> Response {
    (
        StatusCode::CREATED,
        [
            (header::LOCATION, hv(format!("/v2/{name}/blobs/{digest}"))),
            (header::CONTENT_LENGTH, hv("0")),
            (
                header::HeaderName::from_static("docker-content-digest"),
                hv(digest.to_string()),
            ),
        ],
    )
        .into_response()
}

fn upload_error(e: UploadError) -> ApiError {
    match e {
        UploadError::TooLarge { limit } => ApiError::too_large(format!("blob exceeds the limit of {limit} bytes")),
        UploadError::Body(msg) => {
            tracing::debug!(%msg, "upload body ended early");
            ApiError::new(
                StatusCode::BAD_REQUEST,
                Code::BlobUploadInvalid,
                "the upload's body ended early",
            )
        }
        UploadError::DigestMismatch { expected, actual } => {
            ApiError::digest_invalid("the uploaded content does not match the digest")
                .detail(serde_json::json!({ "expected": expected.to_string(), "actual": actual.to_string() }))
        }
        UploadError::Unknown => ApiError::upload_unknown(),
        UploadError::OutOfOrder { start, received } => ApiError::new(
            StatusCode::RANGE_NOT_SATISFIABLE,
            Code::BlobUploadInvalid,
            format!("chunk starts at {start} but the upload has {received} bytes"),
        )
        .header(header::RANGE, hv(range_value(received))),
        UploadError::LengthMismatch => ApiError::new(
            StatusCode::RANGE_NOT_SATISFIABLE,
            Code::BlobUploadInvalid,
            "the chunk's length does not match its Content-Range",
        ),
        UploadError::Conflict { received } => ApiError::new(
            StatusCode::RANGE_NOT_SATISFIABLE,
            Code::BlobUploadInvalid,
            format!("another request appended to this upload first; it has {received} bytes"),
        )
        .header(header::RANGE, hv(range_value(received))),
        UploadError::Io(e) => e.into(),
        UploadError::Db(e) => e.into(),
    }
}

fn uploads(st: &AppState) -> Uploads<'_> {
    Uploads {
        blobs: &st.blobs,
        sessions: &st.sessions,
        db: &st.db.write,
        max_blob_bytes: st.config.limits.max_blob_bytes,
    }
}

/// POST `/v2/<name>/blobs/uploads/`.
pub async fn start(st: &AppState, name: &RepoName, query: &QueryMap, body: Body) -> ApiResult<Response> {
    if let Some(mount) = query.get("mount") {
        let digest = parse_digest(mount)?;
        if let Some(from) = query.get("from") {
            let from: RepoName = from
                .parse()
                .map_err(|e: govstore_core::NameError| ApiError::name_invalid(e.to_string()))?;
            if let Some(src) = db::repositories::find(&st.db.read, &from).await?
                && db::blobs::linked_size(&st.db.read, src.id, &digest).await?.is_some()
            {
                let repo = db::repositories::ensure(&st.db.write, name).await?;
                db::blobs::link(&st.db.write, repo, &digest).await?;
                return Ok(created(name, &digest));
            }
        }
        // Not mountable: fall back to an ordinary upload session, as the spec says.
        return open_session(st, name).await;
    }
    if let Some(d) = query.get("digest") {
        let digest = parse_digest(d)?;
        return monolithic(st, name, &digest, body).await;
    }
    open_session(st, name).await
}

async fn open_session(st: &AppState, name: &RepoName) -> ApiResult<Response> {
    if db::uploads::count(&st.db.read).await? >= st.config.limits.max_upload_sessions {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            Code::TooManyRequests,
            "too many open uploads; try again later",
        ));
    }
    let repo = db::repositories::ensure(&st.db.write, name).await?;
    let id = uploads(st).open(repo).await?;
    Ok(session_response(StatusCode::ACCEPTED, name, &id.to_string(), 0))
}

/// POST with `?digest=`: the whole blob in one request.
async fn monolithic(st: &AppState, name: &RepoName, digest: &Digest, body: Body) -> ApiResult<Response> {
    let started = std::time::Instant::now();
    let size = st
        .blobs
        .put(digest, body.into_data_stream(), st.config.limits.max_blob_bytes)
        .await
        .map_err(upload_error)?;
    tracing::debug!(%digest, bytes = size, ms = started.elapsed().as_millis() as u64, "blob committed");
    // The repository comes into being only once it has content.
    let repo = db::repositories::ensure(&st.db.write, name).await?;
    db::blobs::record_and_link(&st.db.write, repo, digest, size).await?;
    Ok(created(name, digest))
}

/// The session row for `id` in repository `name`, or BLOB_UPLOAD_UNKNOWN.
async fn session(st: &AppState, name: &RepoName, id: &str) -> ApiResult<(Uuid, u64)> {
    let uuid = Uuid::try_parse(id).map_err(|_| ApiError::upload_unknown())?;
    let id = uuid.to_string();
    let row = db::uploads::find(&st.db.write, &id)
        .await?
        .ok_or_else(ApiError::upload_unknown)?;
    let repo = db::repositories::find(&st.db.read, name).await?;
    if repo.map(|r| r.id) != Some(row.repository_id) {
        return Err(ApiError::upload_unknown());
    }
    Ok((uuid, row.received as u64))
}

/// GET `/v2/<name>/blobs/uploads/<id>`: where the session stands.
pub async fn status(st: &AppState, name: &RepoName, id: &str) -> ApiResult<Response> {
    let (uuid, received) = session(st, name, id).await?;
    Ok(session_response(
        StatusCode::NO_CONTENT,
        name,
        &uuid.to_string(),
        received,
    ))
}

/// What the request's headers say about its chunk.
fn chunk(headers: &HeaderMap, body: &Body) -> ApiResult<Chunk> {
    let range = match headers.get(header::CONTENT_RANGE) {
        Some(v) => Some(v.to_str().ok().and_then(parse_content_range).ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                Code::BlobUploadInvalid,
                "Content-Range must be `<start>-<end>`",
            )
        })?),
        None => None,
    };
    let content_length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let (Some(r), Some(cl)) = (range, content_length)
        && r.len() != cl
    {
        return Err(ApiError::new(
            StatusCode::RANGE_NOT_SATISFIABLE,
            Code::BlobUploadInvalid,
            "Content-Range and Content-Length disagree",
        ));
    }
    Ok(Chunk {
        start: range.map(|r| r.start),
        len: range.map(|r| r.len()),
        content_length,
        empty: content_length == Some(0) || body.size_hint().exact() == Some(0),
    })
}

/// PATCH `/v2/<name>/blobs/uploads/<id>`: one chunk.
pub async fn patch(st: &AppState, name: &RepoName, id: &str, headers: &HeaderMap, body: Body) -> ApiResult<Response> {
    let (uuid, _) = session(st, name, id).await?;
    let chunk = chunk(headers, &body)?;
    let total = uploads(st)
        .append(&uuid, chunk, body.into_data_stream())
        .await
        .map_err(upload_error)?;
    Ok(session_response(StatusCode::ACCEPTED, name, &uuid.to_string(), total))
}

/// PUT `/v2/<name>/blobs/uploads/<id>?digest=`: the optional last chunk, then commit.
pub async fn finish(
    st: &AppState,
    name: &RepoName,
    id: &str,
    query: &QueryMap,
    headers: &HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    let digest = match query.get("digest") {
        Some(d) => parse_digest(d)?,
        None => return Err(ApiError::digest_invalid("closing an upload needs `?digest=`")),
    };
    let (uuid, _) = session(st, name, id).await?;
    let chunk = chunk(headers, &body)?;
    uploads(st)
        .finish(&uuid, chunk, body.into_data_stream(), &digest)
        .await
        .map_err(upload_error)?;
    Ok(created(name, &digest))
}

/// DELETE `/v2/<name>/blobs/uploads/<id>`: abandon the session.
pub async fn cancel(st: &AppState, name: &RepoName, id: &str) -> ApiResult<Response> {
    let (uuid, _) = session(st, name, id).await?;
    uploads(st).cancel(&uuid).await.map_err(upload_error)?;
    Ok((StatusCode::NO_CONTENT, [(header::CONTENT_LENGTH, "0")]).into_response())
}

/// Remove sessions idle for longer than the configured time with their parts, and
/// upload objects that no session owns (left by a crash). Returns how many sessions
/// expired.
pub async fn expire(st: &AppState) -> ApiResult<usize> {
    uploads(st)
        .expire(st.config.limits.upload_ttl)
        .await
        .map_err(upload_error)
}
