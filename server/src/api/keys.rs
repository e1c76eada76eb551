//! Signing keys of a namespace: list (public), register and revoke (owners).

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use govstore_core::scope::Action;
use govstore_signing::PublicKey;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{body, rfc3339};
use crate::auth::{require, require_principal};
use crate::db::{self, audit, entities::signing_keys};
use crate::error::{ApiError, ApiResult, Code};
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
    let org = require(&st, &p, Action::Keys, &ns).await?;
    let req: RegisterKey = body::json(b, MAX_BODY).await?;
    let key = PublicKey::from_pem(&req.public_key)
        .map_err(|e| ApiError::invalid(format!("public_key is not a P-256 public key in PEM: {e}")))?;
    let name = req.name.unwrap_or_else(|| "key".into());
    if name.is_empty() || name.chars().count() > 64 {
        return Err(ApiError::invalid("name is 1 to 64 characters"));
    }
    let key_id = key.key_id();
    if db::keys::find(&st.db.read, org, &key_id).await?.is_some() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            Code::Conflict,
            format!("key {key_id} is already registered to `{ns}`"),
        ));
    }
    let txn = sea_orm::TransactionTrait::begin(&st.db.write).await?;
    let row = db::keys::insert(&txn, org, &key_id, &name, &key.to_pem(), p.user_id).await?;
    audit::record(
        &txn,
        audit::Event {
            actor: &p.user,
            action: "key.register",
            target: &ns,
            digest: Some(&key_id),
            detail: Some(name),
        },
    )
    .await?;
    txn.commit().await?;
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
    let org = require(&st, &p, Action::Keys, &ns).await?;
    let req: Revoke = body::json(b, MAX_BODY).await?;
    if req.reason.trim().is_empty() || req.reason.chars().count() > 500 {
        return Err(ApiError::invalid("reason is 1 to 500 characters"));
    }
    let key = db::keys::find(&st.db.read, org, &key_id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no key {key_id} in `{ns}`")))?;
    if key.revoked_at.is_some() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            Code::Conflict,
            format!("key {key_id} is already revoked"),
        ));
    }
    let txn = sea_orm::TransactionTrait::begin(&st.db.write).await?;
    db::keys::revoke(&txn, key.id, &req.reason).await?;
    audit::record(
        &txn,
        audit::Event {
            actor: &p.user,
            action: "key.revoke",
            target: &ns,
            digest: Some(&key_id),
            detail: Some(req.reason),
        },
    )
    .await?;
    txn.commit().await?;
    let row = db::keys::find(&st.db.read, org, &key_id)
        .await?
        .ok_or_else(|| ApiError::internal("revoked key vanished"))?;
    Ok(Json(key_json(&row)))
}
