//! `GET /api/v1/me`: who the token belongs to, in which organisations, with which scopes.

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use serde_json::{Value, json};

use super::rfc3339;
use crate::auth::require_principal;
use crate::db;
use crate::error::ApiResult;
use crate::state::AppState;

pub async fn me(State(st): State<AppState>, headers: HeaderMap) -> ApiResult<Json<Value>> {
    let p = require_principal(&st, &headers).await?;
    let orgs: Vec<Value> = db::accounts::memberships_of(&st.db.read, p.user_id)
        .await?
        .into_iter()
        .map(|(name, role)| json!({ "name": name, "role": role }))
        .collect();
    let scopes: Vec<String> = p.scopes.iter().map(ToString::to_string).collect();
    Ok(Json(json!({
        "user": p.user,
        "admin": p.admin,
        "orgs": orgs,
        "token": { "prefix": p.token_prefix, "scopes": scopes, "expires_at": p.expires_at.map(rfc3339) },
    })))
}
