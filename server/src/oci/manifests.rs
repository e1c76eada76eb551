//! Manifests: GET/HEAD by tag or digest, PUT with validation of the document and of
//! everything it references, DELETE of a manifest (by digest) or of a tag.

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use govstore_core::oci::{ManifestKind, parse_manifest};
use govstore_core::{Digest, Reference, RepoName};
use sea_orm::TransactionTrait;
use serde_json::json;

use super::blobs::repo_id;
use super::{auth, hv};
use crate::db;
use crate::db::tags::Plain;
use crate::error::{ApiError, ApiResult, Code};
use crate::state::AppState;

fn parse_reference(s: &str) -> ApiResult<Reference> {
    s.parse().map_err(|e: govstore_core::NameError| {
        ApiError::new(StatusCode::BAD_REQUEST, Code::ManifestInvalid, e.to_string())
    })
}

/// The digest a reference names in the repository, if any.
async fn resolve(st: &AppState, repo: i64, reference: &Reference) -> ApiResult<Option<String>> {
    Ok(match reference {
        Reference::Digest(d) => Some(d.to_string()),
        Reference::Tag(t) => db::tags::resolve(&st.db.read, repo, t.as_str()).await?,
    })
}

pub async fn get(st: &AppState, name: &RepoName, reference: &str, head: bool) -> ApiResult<Response> {
    // A reference that is neither a valid tag nor a valid digest names nothing that
    // could exist: 404, as OCI clients and the conformance suite expect (PUT says 400).
    let Ok(reference) = reference.parse::<Reference>() else {
        return Err(ApiError::manifest_unknown(
            &reference.chars().take(128).collect::<String>(),
        ));
    };
    let repo = repo_id(st, name).await?;
    let digest = resolve(st, repo, &reference)
        .await?
        .ok_or_else(|| ApiError::manifest_unknown(&reference))?;
    let m = db::manifests::find(&st.db.read, repo, &digest)
        .await?
        .ok_or_else(|| ApiError::manifest_unknown(&reference))?;
    let len = m.content.len();
    let body = if head { Body::empty() } else { Body::from(m.content) };
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, hv(&m.media_type));
    h.insert(header::CONTENT_LENGTH, hv(len.to_string()));
    h.insert(header::ETAG, hv(format!("\"{}\"", m.digest)));
    h.insert("docker-content-digest", hv(&m.digest));
    Ok(res)
}

pub async fn put(
    st: &AppState,
    name: &RepoName,
    reference: &str,
    headers: &HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    let reference = parse_reference(reference)?;
    let limit = st.config.limits.max_manifest_bytes;
    let too_large = || ApiError::too_large(format!("manifest exceeds the limit of {limit} bytes"));
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let bytes = axum::body::to_bytes(body, limit as usize)
        .await
        .map_err(|_| too_large())?;
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let info = parse_manifest(content_type, &bytes)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, Code::ManifestInvalid, e.to_string()))?;
    if info.artifact_type.as_deref() == Some(govstore_core::artifact::ARTIFACT_TYPE) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            Code::Denied,
            "govstore packages are published with `govstore publish`, which checks their signature",
        ));
    }
    let digest = Digest::of(&bytes);
    if let Reference::Digest(d) = &reference
        && d != &digest
    {
        return Err(
            ApiError::digest_invalid("the manifest's content does not match the digest in the URL")
                .detail(json!({ "expected": d.to_string(), "actual": digest.to_string() })),
        );
    }

    // Everything the manifest references must already be in this repository.
    let repo = match db::repositories::find(&st.db.read, name).await? {
        Some(r) => Some(r.id),
        None => None,
    };
    match info.kind {
        ManifestKind::Image => {
            let wanted: Vec<String> = info.blobs.iter().map(|d| d.digest.to_string()).collect();
            let known = match repo {
                Some(r) => db::blobs::linked_sizes(&st.db.read, r, &wanted).await?,
                None => Default::default(),
            };
            for d in &info.blobs {
                match known.get(&d.digest.to_string()) {
                    None => {
                        return Err(ApiError::new(
                            StatusCode::BAD_REQUEST,
                            Code::ManifestBlobUnknown,
                            "manifest references a blob unknown to this repository",
                        )
                        .detail(json!({ "digest": d.digest.to_string() })));
                    }
                    Some(&size) if size != d.size => {
                        return Err(ApiError::new(
                            StatusCode::BAD_REQUEST,
                            Code::ManifestInvalid,
                            format!(
                                "descriptor of {} says {} bytes but the blob has {size}",
                                d.digest, d.size
                            ),
                        ));
                    }
                    Some(_) => {}
                }
            }
        }
        ManifestKind::Index => {
            let wanted: Vec<String> = info.manifests.iter().map(|d| d.digest.to_string()).collect();
            let known = match repo {
                Some(r) => db::manifests::existing(&st.db.read, r, &wanted).await?,
                None => Vec::new(),
            };
            if let Some(missing) = wanted.iter().find(|w| !known.contains(w)) {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    Code::ManifestBlobUnknown,
                    "index references a manifest unknown to this repository",
                )
                .detail(json!({ "digest": missing })));
            }
        }
    }

    // The repository's lock, which publish takes too, then the package check again: a
    // publish may have committed while the body was on its way. Returning drops the
    // transaction, which writes nothing.
    let txn = st.db.write.begin().await?;
    let repo = db::repositories::lock_for_write(&txn, name).await?;
    auth::require_not_package_locked(&txn, name).await?;
    db::manifests::insert_if_absent(&txn, repo, &digest, &info, &bytes).await?;
    if let Reference::Tag(tag) = &reference
        && db::tags::set_plain(&txn, repo, tag.as_str(), &digest.to_string()).await? == Plain::VersionTag
    {
        return Err(auth::package_repository(name));
    }
    txn.commit().await?;

    let mut res = (
        StatusCode::CREATED,
        [
            (header::LOCATION, hv(format!("/v2/{name}/manifests/{digest}"))),
            (header::CONTENT_LENGTH, hv("0")),
        ],
    )
        .into_response();
    res.headers_mut()
        .insert("docker-content-digest", hv(digest.to_string()));
    if let Some(subject) = &info.subject {
        res.headers_mut().insert("oci-subject", hv(subject.digest.to_string()));
    }
    Ok(res)
}

pub async fn delete(st: &AppState, name: &RepoName, reference: &str) -> ApiResult<Response> {
    let reference = parse_reference(reference)?;
    if !st.config.allow_delete {
        return Err(ApiError::unsupported("deleting is disabled on this registry"));
    }
    // Under the repository's lock, as `put`.
    let txn = st.db.write.begin().await?;
    let repo = db::repositories::lock_existing(&txn, name)
        .await?
        .ok_or_else(|| ApiError::name_unknown(name.as_str()))?;
    auth::require_not_package_locked(&txn, name).await?;
    let outcome = match &reference {
        Reference::Tag(t) => db::tags::delete_plain(&txn, repo, t.as_str()).await?,
        Reference::Digest(d) => match db::tags::delete_plain_pointing_at(&txn, repo, &d.to_string()).await? {
            Plain::Done if db::manifests::delete(&txn, repo, &d.to_string()).await? => Plain::Done,
            Plain::Done => Plain::NotFound,
            other => other,
        },
    };
    match outcome {
        Plain::Done => txn.commit().await?,
        Plain::NotFound => return Err(ApiError::manifest_unknown(&reference)),
        Plain::VersionTag => return Err(auth::package_repository(name)),
    }
    Ok((StatusCode::ACCEPTED, [(header::CONTENT_LENGTH, "0")]).into_response())
}
