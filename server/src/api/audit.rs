//! `GET /api/v1/audit`: the audit log, newest first, for admins.

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use serde::Deserialize;
use serde_json::{Value, json};

use super::extract::Query;
use super::rfc3339;
use crate::auth::{require_admin, require_principal};
use crate::db;
use crate::error::ApiResult;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct AuditQuery {
    limit: Option<u64>,
    before: Option<i64>,
}

pub async fn list(
    State(st): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<AuditQuery>,
) -> ApiResult<Json<Value>> {
    let p = require_principal(&st, &headers).await?;
    require_admin(&p)?;
    let rows = db::audit::recent(&st.db.read, q.before, q.limit.unwrap_or(100).clamp(1, 1000)).await?;
    let events: Vec<Value> = rows
        .iter()
        .map(|e| {
            json!({
                "id": e.id, "at": rfc3339(e.at), "actor": e.actor, "action": e.action,
                "target": e.target, "digest": e.digest, "detail": e.detail,
            })
        })
        .collect();
    Ok(Json(json!({ "events": events })))
}
