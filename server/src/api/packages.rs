//! Package and version information, and yanking.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use govstore_core::package::PackageName;
use govstore_core::scope::Action;
use serde::Deserialize;
use serde_json::{Value, json};

use super::extract::{Path, Query};
use super::{body, rfc3339};
use crate::auth::{require, require_principal};
use crate::db::packages::{latest, sort_newest_first};
use crate::db::{self, entities::package_versions, entities::packages};
use crate::error::{ApiError, ApiResult};
use crate::service::versions;
use crate::state::AppState;

pub(crate) fn version_json(v: &package_versions::Model) -> Value {
    json!({
        "version": v.version,
        "digest": v.manifest_digest,
        "published_at": rfc3339(v.published_at),
        "yanked": v.yanked,
        "yank_reason": v.yank_reason,
        "key_id": v.key_id,
        "signature_digest": v.signature_digest,
    })
}

pub(crate) async fn package(st: &AppState, ns: &str, name: &str) -> ApiResult<packages::Model> {
    let full = format!("{ns}/{name}");
    db::packages::find(&st.db.read, &full)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no package `{full}`")))
}

pub async fn info(State(st): State<AppState>, Path((ns, name)): Path<(String, String)>) -> ApiResult<Json<Value>> {
    let p = package(&st, &ns, &name).await?;
    let mut versions = db::packages::versions(&st.db.read, p.id).await?;
    sort_newest_first(&mut versions);
    let owners: Vec<Value> = db::accounts::members(&st.db.read, p.organisation_id)
        .await?
        .into_iter()
        .map(|(user, role)| json!({ "user": user, "role": role }))
        .collect();
    // The title of the latest version, else of the newest, as search shows it.
    let title = latest(&versions)
        .or(versions.first())
        .and_then(|v| serde_json::from_str::<Value>(&v.config).ok())
        .and_then(|c| c["package"]["title"].as_str().map(str::to_owned));
    Ok(Json(json!({
        "name": p.name,
        "title": title,
        "namespace": ns,
        "owners": owners,
        "description": p.description,
        "license": p.license,
        "latest": latest(&versions).map(|v| v.version.clone()),
        "versions": versions.iter().map(version_json).collect::<Vec<_>>(),
    })))
}

pub async fn version(
    State(st): State<AppState>,
    Path((ns, name, version)): Path<(String, String, String)>,
) -> ApiResult<Json<Value>> {
    let p = package(&st, &ns, &name).await?;
    let v = db::packages::version(&st.db.read, p.id, &version)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("`{}` has no version {version}", p.name)))?;
    let mut out = version_json(&v);
    out["name"] = json!(p.name);
    out["manifest"] = serde_json::from_str(&v.config).map_err(ApiError::internal)?;
    Ok(Json(out))
}

#[derive(Deserialize)]
pub struct ListQuery {
    limit: Option<u64>,
}

pub async fn list(State(st): State<AppState>, Query(q): Query<ListQuery>) -> ApiResult<Json<Value>> {
    let rows = db::packages::all(&st.db.read, q.limit.unwrap_or(100).min(1000)).await?;
    let packages: Vec<Value> = rows
        .iter()
        .map(|p| json!({ "name": p.name, "description": p.description, "license": p.license }))
        .collect();
    Ok(Json(json!({ "packages": packages })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Yank {
    reason: String,
}

/// The package and version a yank path names; a version that is not SemVer names
/// nothing that could be published.
fn target(ns: &str, name: &str, version: &str) -> ApiResult<(PackageName, semver::Version)> {
    let package: PackageName = format!("{ns}/{name}")
        .parse()
        .map_err(|_| ApiError::not_found(format!("no package `{ns}/{name}`")))?;
    let v = version
        .parse()
        .map_err(|_| ApiError::not_found(format!("`{package}` has no version {version}")))?;
    Ok((package, v))
}

pub async fn yank(
    State(st): State<AppState>,
    Path((ns, name, version)): Path<(String, String, String)>,
    headers: HeaderMap,
    b: Body,
) -> ApiResult<Json<Value>> {
    let p = require_principal(&st, &headers).await?;
    require(&st, &p, Action::Yank, &ns).await?;
    let req: Yank = body::json(b, 16 * 1024).await?;
    let (package, version) = target(&ns, &name, &version)?;
    let v = versions::yank(&st, &p, &package, &version, &req.reason).await?;
    Ok(Json(version_json(&v)))
}

pub async fn unyank(
    State(st): State<AppState>,
    Path((ns, name, version)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let p = require_principal(&st, &headers).await?;
    require(&st, &p, Action::Yank, &ns).await?;
    let (package, version) = target(&ns, &name, &version)?;
    let v = versions::unyank(&st, &p, &package, &version).await?;
    Ok(Json(version_json(&v)))
}
