//! `GET /api/v1/events?after=N&limit=M`: the event sequence, for other instances and
//! tools that follow this registry. Public: events name packages, versions, digests,
//! keys and specs, all of which the registry publishes anyway; never accounts.
//!
//! ```json
//! {"format": 1, "last": 42, "events": [{"seq": 41, "at": "2026-12-07T10:00:00Z",
//!   "event": {"type": "version_published", "package": "mosip/esignet", ...}}],
//!  "next": "/api/v1/events?after=42&limit=100"}
//! ```
//! `last` is the newest committed event; `next` is where to continue (absent when the
//! page reached `last`). A follower stores the last `seq` it applied and asks for what
//! comes after; numbers are gap-free and in commit order.

use axum::Json;
use axum::extract::{RawQuery, State};
use serde_json::{Value, json};

use super::rfc3339;
use crate::db;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

const DEFAULT_LIMIT: u64 = 100;
const MAX_LIMIT: u64 = 1000;

fn number(key: &str, value: &str, max: u64) -> ApiResult<u64> {
    value
        .parse::<u64>()
        .ok()
        .filter(|n| *n <= max)
        .ok_or_else(|| ApiError::invalid(format!("`{key}` must be a whole number from 0 to {max}")))
}

pub async fn list(State(st): State<AppState>, RawQuery(query): RawQuery) -> ApiResult<Json<Value>> {
    let (mut after, mut limit) = (0u64, DEFAULT_LIMIT);
    for pair in query.as_deref().unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            "after" => after = number("after", value, i64::MAX as u64)?,
            "limit" => limit = number("limit", value, MAX_LIMIT)?.max(1),
            _ => {}
        }
    }
    let last = db::events::last_seq(&st.db.read).await?;
    let rows = db::events::after(&st.db.read, after as i64, limit, &[]).await?;
    let mut events = Vec::with_capacity(rows.len());
    for r in &rows {
        let event: Value = serde_json::from_str(&r.payload).map_err(ApiError::internal)?;
        events.push(json!({ "seq": r.seq, "at": rfc3339(r.at), "event": event }));
    }
    let mut body = json!({ "format": govstore_core::event::FORMAT, "last": last, "events": events });
    if let Some(end) = rows.last().map(|r| r.seq)
        && end < last
    {
        body["next"] = json!(format!("/api/v1/events?after={end}&limit={limit}"));
    }
    Ok(Json(body))
}
