//! Blob uploads: monolithic (POST with `digest`), POST then PUT, chunked PATCH with
//! `Content-Range` and resumption, status, cancel, and cross-repository mounts.
//!
//! Invariants: the database's `received` count never exceeds the bytes durably in the
//! session's file; a failed chunk is truncated away so the session stays where it was;
//! a blob is linked to a repository only after its digest was verified and the bytes
//! were committed to the store.

use std::io::{Seek, SeekFrom};

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use govstore_core::{Digest, RepoName};
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

use super::blobs::parse_digest;
use super::range::parse_content_range;
use super::{QueryMap, hv};
use crate::db;
use crate::error::{ApiError, ApiResult, Code};
use crate::state::AppState;
use crate::storage::ingest::{IngestError, hash_file_prefix, ingest};
use crate::storage::sessions::SessionState;

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

fn ingest_error(e: IngestError) -> ApiError {
    match e {
        IngestError::TooLarge { limit } => ApiError::too_large(format!("blob exceeds the limit of {limit} bytes")),
        IngestError::Body(msg) => {
            tracing::debug!(%msg, "upload body ended early");
            ApiError::new(
                StatusCode::BAD_REQUEST,
                Code::BlobUploadInvalid,
                "the upload's body ended early",
            )
        }
        IngestError::Io(e) => e.into(),
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
    let id = Uuid::new_v4();
    tokio::fs::File::create(st.blobs.upload_path(&id)).await?;
    db::uploads::create(&st.db.write, &id.to_string(), repo).await?;
    Ok(session_response(StatusCode::ACCEPTED, name, &id.to_string(), 0))
}

/// POST with `?digest=`: the whole blob in one request.
async fn monolithic(st: &AppState, name: &RepoName, digest: &Digest, body: Body) -> ApiResult<Response> {
    let id = Uuid::new_v4();
    let path = st.blobs.upload_path(&id);
    let file = std::fs::File::create(&path)?;
    let started = std::time::Instant::now();
    let result = ingest(file, Sha256::new(), body, st.config.limits.max_blob_bytes).await;
    let done = match result {
        Ok(done) => done,
        Err(e) => {
            st.blobs.remove_upload(&id).await?;
            return Err(ingest_error(e));
        }
    };
    drop(done.file);
    let actual = Digest::from_sha256(done.hasher.finalize().into());
    if &actual != digest {
        st.blobs.remove_upload(&id).await?;
        return Err(
            ApiError::digest_invalid("the uploaded content does not match the digest")
                .detail(serde_json::json!({ "expected": digest.to_string(), "actual": actual.to_string() })),
        );
    }
    let ingested = started.elapsed();
    st.blobs.commit(path, digest).await?;
    tracing::debug!(%digest, bytes = done.written, ingest_ms = ingested.as_millis() as u64,
        commit_ms = (started.elapsed() - ingested).as_millis() as u64, "blob committed");
    // The repository comes into being only once it has content.
    let repo = db::repositories::ensure(&st.db.write, name).await?;
    db::blobs::record_and_link(&st.db.write, repo, digest, done.written).await?;
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

/// Whether an appended chunk must be durable on its own (a PATCH, which a client may
/// resume after), or is the last one and is made durable by the commit that follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Durability {
    Chunk,
    Final,
}

/// Append a request body to a session, honouring `Content-Range`. The caller holds the
/// session's lock (`state`) and keeps it until it is done with the file, so no other
/// request can append between this and a commit. Returns the new received count and the
/// hash of everything received.
async fn append(
    st: &AppState,
    uuid: &Uuid,
    state: &mut SessionState,
    headers: &HeaderMap,
    body: Body,
    durability: Durability,
) -> ApiResult<(u64, Sha256)> {
    let id = uuid.to_string();
    // Read under the lock: another request may have appended, finished or cancelled
    // the session while this one waited.
    let received = db::uploads::find(&st.db.write, &id)
        .await?
        .map(|r| r.received as u64)
        .ok_or_else(ApiError::upload_unknown)?;

    let declared = match headers.get(header::CONTENT_RANGE) {
        Some(v) => {
            let range = v.to_str().ok().and_then(parse_content_range).ok_or_else(|| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    Code::BlobUploadInvalid,
                    "Content-Range must be `<start>-<end>`",
                )
            })?;
            if range.start != received {
                return Err(ApiError::new(
                    StatusCode::RANGE_NOT_SATISFIABLE,
                    Code::BlobUploadInvalid,
                    format!("chunk starts at {} but the upload has {received} bytes", range.start),
                )
                .header(header::RANGE, hv(range_value(received))));
            }
            Some(range.len())
        }
        None => None,
    };
    let content_length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let (Some(d), Some(cl)) = (declared, content_length)
        && d != cl
    {
        return Err(ApiError::new(
            StatusCode::RANGE_NOT_SATISFIABLE,
            Code::BlobUploadInvalid,
            "Content-Range and Content-Length disagree",
        ));
    }
    let max = st.config.limits.max_blob_bytes;
    let room = max.saturating_sub(received);
    if content_length.is_some_and(|cl| cl > room) {
        return Err(ApiError::too_large(format!("blob exceeds the limit of {max} bytes")));
    }

    let hasher = match state.hasher.take() {
        Some((n, h)) if n == received => h,
        _ => hash_file_prefix(st.blobs.upload_path(uuid), received).await?,
    };
    let path = st.blobs.upload_path(uuid);
    let mut file = std::fs::OpenOptions::new().write(true).open(&path)?;
    file.set_len(received)?; // drop bytes of an earlier chunk that never completed
    file.seek(SeekFrom::Start(received))?;

    let limit = declared.unwrap_or(room).min(room);
    let rollback = |path: &std::path::Path| -> std::io::Result<()> {
        std::fs::OpenOptions::new().write(true).open(path)?.set_len(received)
    };
    let done = match ingest(file, hasher.clone(), body, limit).await {
        Ok(done) => done,
        Err(e) => {
            rollback(&path)?;
            state.hasher = Some((received, hasher));
            return Err(ingest_error(e));
        }
    };
    if declared.is_some_and(|d| d != done.written) {
        rollback(&path)?;
        state.hasher = Some((received, hasher));
        return Err(ApiError::new(
            StatusCode::RANGE_NOT_SATISFIABLE,
            Code::BlobUploadInvalid,
            "the chunk's length does not match its Content-Range",
        ));
    }
    let total = received + done.written;
    if done.written > 0 && durability == Durability::Chunk {
        let file = done.file;
        tokio::task::spawn_blocking(move || file.sync_data())
            .await
            .map_err(ApiError::internal)??;
        db::uploads::set_received(&st.db.write, &id, total).await?;
    }
    state.hasher = Some((total, done.hasher.clone()));
    Ok((total, done.hasher))
}

/// PATCH `/v2/<name>/blobs/uploads/<id>`: one chunk.
pub async fn patch(st: &AppState, name: &RepoName, id: &str, headers: &HeaderMap, body: Body) -> ApiResult<Response> {
    let (uuid, _) = session(st, name, id).await?;
    let lock = st.sessions.get(&uuid.to_string());
    let mut state = lock.lock().await;
    let (total, _) = append(st, &uuid, &mut state, headers, body, Durability::Chunk).await?;
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
    let lock = st.sessions.get(&uuid.to_string());
    let mut state = lock.lock().await;
    let (total, hasher) = append(st, &uuid, &mut state, headers, body, Durability::Final).await?;
    let actual = Digest::from_sha256(hasher.finalize().into());
    let path = st.blobs.upload_path(&uuid);
    if actual != digest {
        discard(st, &uuid).await?;
        return Err(
            ApiError::digest_invalid("the uploaded content does not match the digest")
                .detail(serde_json::json!({ "expected": digest.to_string(), "actual": actual.to_string() })),
        );
    }
    if total > st.config.limits.max_blob_bytes {
        discard(st, &uuid).await?;
        return Err(ApiError::too_large("blob exceeds the size limit"));
    }
    let repo = db::repositories::find(&st.db.read, name)
        .await?
        .ok_or_else(|| ApiError::name_unknown(name.as_str()))?;
    st.blobs.commit(path, &digest).await?;
    db::blobs::record_and_link(&st.db.write, repo.id, &digest, total).await?;
    db::uploads::delete(&st.db.write, &uuid.to_string()).await?;
    st.sessions.forget(&uuid.to_string());
    Ok(created(name, &digest))
}

/// DELETE `/v2/<name>/blobs/uploads/<id>`: abandon the session.
pub async fn cancel(st: &AppState, name: &RepoName, id: &str) -> ApiResult<Response> {
    let (uuid, _) = session(st, name, id).await?;
    let lock = st.sessions.get(&uuid.to_string());
    let _guard = lock.lock().await;
    discard(st, &uuid).await?;
    Ok((StatusCode::NO_CONTENT, [(header::CONTENT_LENGTH, "0")]).into_response())
}

async fn discard(st: &AppState, uuid: &Uuid) -> ApiResult<()> {
    db::uploads::delete(&st.db.write, &uuid.to_string()).await?;
    st.blobs.remove_upload(uuid).await?;
    st.sessions.forget(&uuid.to_string());
    Ok(())
}

/// Remove sessions idle for longer than the configured time, and upload files that no
/// session owns (left by a crash). Returns how many sessions expired.
pub async fn expire(st: &AppState) -> ApiResult<usize> {
    let cutoff = crate::now_ms() - st.config.limits.upload_ttl.as_millis() as i64;
    let idle = db::uploads::idle_since(&st.db.read, cutoff).await?;
    for id in &idle {
        if let Ok(uuid) = Uuid::try_parse(id) {
            discard(st, &uuid).await?;
        }
    }
    let live: std::collections::HashSet<String> = db::uploads::all_ids(&st.db.read).await?.into_iter().collect();
    let mut dir = tokio::fs::read_dir(st.blobs.uploads_dir()).await?;
    while let Some(entry) = dir.next_entry().await? {
        let name = entry.file_name().to_string_lossy().into_owned();
        let old = entry
            .metadata()
            .await
            .ok()
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > std::time::Duration::from_secs(3600));
        // Monolithic uploads use files with no session row while they stream; only
        // remove such files once they are an hour old.
        if !live.contains(&name) && old {
            tokio::fs::remove_file(entry.path()).await?;
        }
    }
    Ok(idle.len())
}
