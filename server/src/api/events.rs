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
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};

use super::extract::Query;
use super::rfc3339;
use crate::db;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

const DEFAULT_LIMIT: u64 = 100;
const MAX_LIMIT: u64 = 1000;

#[derive(Deserialize)]
pub struct EventsQuery {
    after: Option<u64>,
    limit: Option<u64>,
}

pub async fn list(State(st): State<AppState>, Query(q): Query<EventsQuery>) -> ApiResult<Json<Value>> {
    let after = match q.after {
        None => 0,
        Some(a) if a <= i64::MAX as u64 => a,
        Some(_) => {
            return Err(ApiError::invalid(format!(
                "`after` must be a whole number from 0 to {}",
                i64::MAX
            )));
        }
    };
    let limit = match q.limit {
        None => DEFAULT_LIMIT,
        Some(l) if l <= MAX_LIMIT => l.max(1),
        Some(_) => {
            return Err(ApiError::invalid(format!(
                "`limit` must be a whole number from 1 to {MAX_LIMIT}"
            )));
        }
    };
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
