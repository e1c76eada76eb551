//! Package and version information, and yanking.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use govstore_core::scope::Action;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{body, rfc3339};
use crate::auth::{require, require_principal};
use crate::db::packages::{latest, sort_newest_first};
use crate::db::{self, audit, entities::package_versions, entities::packages};
use crate::error::{ApiError, ApiResult, Code};
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
    Ok(Json(json!({
        "name": p.name,
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

async fn set_yank(
    st: &AppState,
    path: (String, String, String),
    headers: &HeaderMap,
    reason: Option<String>,
) -> ApiResult<Json<Value>> {
    let (ns, name, version) = path;
    let p = require_principal(st, headers).await?;
    require(st, &p, Action::Yank, &ns).await?;
    let pkg = package(st, &ns, &name).await?;
    let v = db::packages::version(&st.db.read, pkg.id, &version)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("`{}` has no version {version}", pkg.name)))?;
    if v.yanked == reason.is_some() {
        let state = if v.yanked { "already yanked" } else { "not yanked" };
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            Code::Conflict,
            format!("{}@{version} is {state}", pkg.name),
        ));
    }
    let txn = sea_orm::TransactionTrait::begin(&st.db.write).await?;
    db::packages::set_yanked(&txn, v.id, reason.as_deref()).await?;
    let action = if reason.is_some() {
        "version.yank"
    } else {
        "version.unyank"
    };
    let target = format!("{}@{version}", pkg.name);
    audit::record(
        &txn,
        audit::Event {
            actor: &p.user,
            action,
            target: &target,
            digest: Some(&v.manifest_digest),
            detail: reason,
        },
    )
    .await?;
    txn.commit().await?;
    crate::search::refresh_logged(st, &pkg.name).await;
    let v = db::packages::version(&st.db.read, pkg.id, &version)
        .await?
        .ok_or_else(|| ApiError::internal("version vanished"))?;
    Ok(Json(version_json(&v)))
}

pub async fn yank(
    State(st): State<AppState>,
    Path(path): Path<(String, String, String)>,
    headers: HeaderMap,
    b: Body,
) -> ApiResult<Json<Value>> {
    let req: Yank = body::json(b, 16 * 1024).await?;
    let reason = req.reason.trim().to_owned();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(ApiError::invalid("a yank needs a reason of 1 to 500 characters"));
    }
    set_yank(&st, path, &headers, Some(reason)).await
}

pub async fn unyank(
    State(st): State<AppState>,
    Path(path): Path<(String, String, String)>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    set_yank(&st, path, &headers, None).await
}
