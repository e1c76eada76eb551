//! Specs: publish (token with the `specs` scope), list, get.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use govstore_core::spec::Spec;
use serde::Deserialize;
use serde_json::{Value, json};

use super::body;
use super::extract::Path;
use crate::auth::{require_principal, require_specs};
use crate::db;
use crate::error::{ApiError, ApiResult};
use crate::service::specs;
use crate::state::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PublishSpec {
    toml: String,
}

fn summary(s: &Spec) -> Value {
    json!({
        "id": s.id.to_string(),
        "title": s.title,
        "versions": s.versions.iter().map(|v| v.version.to_string()).collect::<Vec<_>>(),
    })
}

pub async fn publish(State(st): State<AppState>, headers: HeaderMap, b: Body) -> ApiResult<Response> {
    let p = require_principal(&st, &headers).await?;
    require_specs(&p)?;
    let req: PublishSpec = body::json(b, govstore_core::spec::limits::MAX_SPEC_BYTES + 4096).await?;
    let spec = specs::publish(&st, &p, &req.toml).await?;
    Ok((StatusCode::CREATED, Json(summary(&spec))).into_response())
}

pub async fn list(State(st): State<AppState>) -> ApiResult<Json<Value>> {
    let specs: Vec<Value> = db::specs::all(&st.db.read).await?.values().map(summary).collect();
    Ok(Json(json!({ "specs": specs })))
}

pub async fn get(State(st): State<AppState>, Path((ns, name)): Path<(String, String)>) -> ApiResult<Json<Value>> {
    let id = format!("{ns}/{name}");
    let spec = db::specs::find(&st.db.read, &id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no spec `{id}`")))?;
    serde_json::from_str(&spec.canonical_json())
        .map(Json)
        .map_err(ApiError::internal)
}
