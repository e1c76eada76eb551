//! `GET /api/v1/search?q=`: packages by name or description. Exact names first, then
//! names containing the term, then descriptions. (The tantivy index with boosts, typo
//! tolerance and facets replaces this with the web catalogue.)

use axum::Json;
use axum::extract::{Query, State};
use serde::Deserialize;
use serde_json::{Value, json};

use super::packages::{latest, sort_newest_first};
use crate::db;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

#[derive(Deserialize)]
pub struct SearchQuery {
    q: String,
    limit: Option<u64>,
}

pub async fn search(State(st): State<AppState>, Query(q): Query<SearchQuery>) -> ApiResult<Json<Value>> {
    let term = q.q.trim().to_lowercase();
    if term.is_empty() || term.chars().count() > 100 {
        return Err(ApiError::invalid("q is 1 to 100 characters"));
    }
    let limit = q.limit.unwrap_or(20).clamp(1, 100);
    let mut rows = db::packages::search(&st.db.read, &term, 500).await?;
    let rank = |name: &str| {
        let short = name.split_once('/').map_or(name, |(_, n)| n);
        if name == term || short == term {
            0
        } else if name.contains(&term) {
            1
        } else {
            2
        }
    };
    rows.sort_by(|a, b| rank(&a.name).cmp(&rank(&b.name)).then_with(|| a.name.cmp(&b.name)));
    let total = rows.len();
    let mut results = Vec::new();
    for p in rows.into_iter().take(limit as usize) {
        let mut versions = db::packages::versions(&st.db.read, p.id).await?;
        sort_newest_first(&mut versions);
        // A package whose versions are all yanked is still found, marked yanked.
        let Some(v) = latest(&versions).or(versions.first()) else { continue };
        let manifest: Value = serde_json::from_str(&v.config).map_err(ApiError::internal)?;
        let implements: Vec<String> = manifest["implements"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|i| Some(format!("{}@{}", i["spec"].as_str()?, i["version"].as_str()?)))
                    .collect()
            })
            .unwrap_or_default();
        results.push(json!({
            "name": p.name,
            "version": v.version,
            "description": p.description,
            "license": p.license,
            "implements": implements,
            "yanked": v.yanked,
        }));
    }
    Ok(Json(json!({ "total": total, "results": results })))
}
