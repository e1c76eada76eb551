//! Signing keys of a namespace: list (public), register and revoke (owners).

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use govstore_core::scope::Action;
use serde::Deserialize;
use serde_json::{Value, json};

use super::extract::Path;
use super::{body, rfc3339};
use crate::auth::{require, require_principal};
use crate::db::{self, entities::signing_keys};
use crate::error::{ApiError, ApiResult};
use crate::service::keys;
use crate::state::AppState;

const MAX_BODY: usize = 16 * 1024;

pub(crate) fn key_json(k: &signing_keys::Model) -> Value {
    json!({
        "key_id": k.key_id,
        "name": k.name,
        "public_key": k.public_key,
        "created_at": rfc3339(k.created_at),
        "revoked_at": k.revoked_at.map(rfc3339),
        "revoke_reason": k.revoke_reason,
    })
}

async fn org_id(st: &AppState, ns: &str) -> ApiResult<i64> {
    db::accounts::organisation(&st.db.read, ns)
        .await?
        .map(|o| o.id)
        .ok_or_else(|| ApiError::not_found(format!("no organisation owns namespace `{ns}`")))
}

pub async fn list(State(st): State<AppState>, Path(ns): Path<String>) -> ApiResult<Json<Value>> {
    let org = org_id(&st, &ns).await?;
    let keys: Vec<Value> = db::keys::list(&st.db.read, org).await?.iter().map(key_json).collect();
    Ok(Json(json!({ "namespace": ns, "keys": keys })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegisterKey {
    public_key: String,
    #[serde(default)]
    name: Option<String>,
}

pub async fn register(
    State(st): State<AppState>,
    Path(ns): Path<String>,
    headers: HeaderMap,
    b: Body,
) -> ApiResult<Response> {
    let p = require_principal(&st, &headers).await?;
    require(&st, &p, Action::Keys, &ns).await?;
    let req: RegisterKey = body::json(b, MAX_BODY).await?;
    let row = keys::register(&st, &p, &ns, &req.public_key, req.name).await?;
    Ok((StatusCode::CREATED, Json(key_json(&row))).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Revoke {
    reason: String,
}

pub async fn revoke(
    State(st): State<AppState>,
    Path((ns, key_id)): Path<(String, String)>,
    headers: HeaderMap,
    b: Body,
) -> ApiResult<Json<Value>> {
    let p = require_principal(&st, &headers).await?;
    require(&st, &p, Action::Keys, &ns).await?;
    let req: Revoke = body::json(b, MAX_BODY).await?;
    let row = keys::revoke(&st, &p, &ns, &key_id, &req.reason).await?;
    Ok(Json(key_json(&row)))
}
