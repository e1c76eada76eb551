//! The sparse index: one cacheable document per package and one per spec, in the
//! formats of [`govstore_core::index`]. The CLI resolves from them.
//!
//! - `GET /api/v1/index/packages/{ns}/{name}` -> [`PackageIndex`]: every published
//!   version, yanked ones included (with their reason, so that a lockfile pinning one
//!   can still be resolved and the resolver can say why it skipped it), oldest first by
//!   SemVer precedence, each with its manifest digest, the id of the key whose
//!   signature the registry verified at publish, and its `govstore.toml`.
//! - `GET /api/v1/index/specs/{ns}/{name}` -> [`SpecIndex`]: every published package
//!   version that implements the spec, yanked ones included (the yank state is in the
//!   package's document), by package name then version.
//!
//! Both answer with a strong `ETag` (the quoted SHA-256 of the body) and
//! `Cache-Control: public, max-age=60, must-revalidate`; a matching `If-None-Match`
//! gets `304 Not Modified` with no body. Unknown names get 404 in the error envelope.
//! Each document carries its format (`"format": 1`, [`govstore_core::index::INDEX_FORMAT`]),
//! which a registry raises only for a change that older clients must not ignore
//! (see [`govstore_core::wire`]).
//!
//! [`api_version_header`] adds `govstore-api-version: 1` to every `/api/v1` answer.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use govstore_core::Digest;
use govstore_core::index::{Implementation, IndexVersion, PackageIndex, SpecIndex};
use govstore_core::manifest::Manifest;
use govstore_core::package::{PackageName, SpecId};
use serde::Serialize;

use super::extract::Path;
use crate::db::{self, entities::package_versions};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// How long a client may use a document without asking again.
pub const CACHE_CONTROL: &str = "public, max-age=60, must-revalidate";

/// The header naming the version of the `/api/v1` JSON answers: its major, raised only
/// for a change that clients must not ignore (new fields are no such change; clients
/// ignore fields they do not know).
pub const API_VERSION_HEADER: &str = "govstore-api-version";
/// The `/api/v1` JSON's version.
pub const API_VERSION: &str = "1";

/// Adds [`API_VERSION_HEADER`] to a response; the `/api/v1` router's layer
/// (`axum::middleware::map_response`).
pub async fn api_version_header(mut res: Response) -> Response {
    res.headers_mut()
        .insert(API_VERSION_HEADER, HeaderValue::from_static(API_VERSION));
    res
}

pub async fn package(
    State(st): State<AppState>,
    Path((ns, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let name: PackageName = format!("{ns}/{name}")
        .parse()
        .map_err(|e: govstore_core::package::QualifiedNameError| ApiError::name_invalid(e.to_string()))?;
    let p = db::packages::find(&st.db.read, name.as_str())
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no package `{name}`")))?;
    let rows = db::packages::versions(&st.db.read, p.id).await?;
    let mut approvals = db::index::approvals_of_package(&st.db.read, name.as_str()).await?;
    let mut versions = rows
        .iter()
        .map(|v| {
            let mut iv = index_version(&name, v)?;
            iv.approvals = approvals.remove(&v.manifest_digest).unwrap_or_default();
            Ok(iv)
        })
        .collect::<ApiResult<Vec<_>>>()?;
    versions.sort_by(|a, b| a.version.cmp(&b.version));
    cacheable(&headers, &PackageIndex::new(name, versions))
}

pub async fn spec(
    State(st): State<AppState>,
    Path((ns, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let spec: SpecId = format!("{ns}/{name}")
        .parse()
        .map_err(|e: govstore_core::package::QualifiedNameError| ApiError::name_invalid(e.to_string()))?;
    if db::specs::find(&st.db.read, spec.as_str()).await?.is_none() {
        return Err(ApiError::not_found(format!("no spec `{spec}`")));
    }
    let mut implementations = Vec::new();
    for (package, row) in db::index::implementation_candidates(&st.db.read, &spec).await? {
        let package: PackageName = package.parse().map_err(ApiError::internal)?;
        let manifest = stored_manifest(&package, &row)?;
        for i in manifest.implements.iter().filter(|i| i.spec == spec) {
            implementations.push(Implementation {
                package: package.clone(),
                version: manifest.package.version.clone(),
                spec_version: i.version.clone(),
            });
        }
    }
    implementations
        .sort_by(|a, b| (&a.package, &a.version, &a.spec_version).cmp(&(&b.package, &b.version, &b.spec_version)));
    cacheable(&headers, &SpecIndex::new(spec, implementations))
}

fn stored_manifest(name: &PackageName, v: &package_versions::Model) -> ApiResult<Manifest> {
    db::index::stored_manifest(name, v).map_err(|e| ApiError::internal(e.to_string()))
}

fn index_version(name: &PackageName, v: &package_versions::Model) -> ApiResult<IndexVersion> {
    db::index::index_version(name, v).map_err(|e| ApiError::internal(e.to_string()))
}

/// The JSON of `doc` with its ETag, or `304` when the client has it already.
fn cacheable<T: Serialize>(headers: &HeaderMap, doc: &T) -> ApiResult<Response> {
    let body = serde_json::to_vec(doc).map_err(ApiError::internal)?;
    let etag = format!("\"{}\"", Digest::of(&body).hex());
    let etag_value = HeaderValue::from_str(&etag).map_err(ApiError::internal)?;
    let common = [
        (header::ETAG, etag_value),
        (header::CACHE_CONTROL, HeaderValue::from_static(CACHE_CONTROL)),
    ];
    if if_none_match(headers, &etag) {
        return Ok((StatusCode::NOT_MODIFIED, common).into_response());
    }
    let json = [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))];
    Ok((StatusCode::OK, common, json, body).into_response())
}

/// Whether an `If-None-Match` header matches `etag` (weak comparison, as RFC 9110
/// asks for this header; `*` matches any current document).
fn if_none_match(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn api_version_header_is_added() {
        let res = api_version_header(StatusCode::OK.into_response()).await;
        assert_eq!(res.headers().get("govstore-api-version").unwrap(), "1");
        // The layer as the `/api/v1` router takes it.
        let _: axum::Router<AppState> =
            super::super::router().layer(axum::middleware::map_response(api_version_header));
    }

    #[test]
    fn if_none_match_lists_and_weak_tags() {
        let mut h = HeaderMap::new();
        assert!(!if_none_match(&h, "\"abc\""));
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_static("\"x\", W/\"abc\""));
        assert!(if_none_match(&h, "\"abc\""));
        assert!(!if_none_match(&h, "\"ab\""));
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_static("*"));
        assert!(if_none_match(&h, "\"anything\""));
    }
}
