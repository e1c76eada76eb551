//! `GET /api/v1/search?q=&limit=&spec=&license=&maturity=&country=&sdg=&signed=`: packages
//! from the search index (see [`crate::search`]), best first, with facet counts over all
//! matches. `q` may be empty when a facet filter is given.

use axum::Json;
use axum::extract::{Query, State};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult};
use crate::search::{Request, schema::CATEGORIES};
use crate::state::AppState;

#[derive(Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
    limit: Option<u64>,
    spec: Option<String>,
    license: Option<String>,
    maturity: Option<String>,
    country: Option<String>,
    sdg: Option<String>,
    signed: Option<String>,
}

pub async fn search(State(st): State<AppState>, Query(q): Query<SearchQuery>) -> ApiResult<Json<Value>> {
    let filters: Vec<(String, String)> = CATEGORIES
        .iter()
        .zip([&q.spec, &q.license, &q.maturity, &q.country, &q.sdg, &q.signed])
        .filter_map(|(c, v)| v.as_ref().map(|v| ((*c).to_owned(), v.trim().to_owned())))
        .collect();
    let text = q.q.trim();
    if text.chars().count() > 100 || (text.is_empty() && filters.is_empty()) {
        return Err(ApiError::invalid(
            "q is 1 to 100 characters (it may be empty with a facet filter)",
        ));
    }
    let limit = q.limit.unwrap_or(20).clamp(1, 100) as usize;
    let req = Request {
        q: text.to_owned(),
        limit,
        filters,
    };
    let found = st.search.search(&req).map_err(ApiError::internal)?;
    Ok(Json(
        json!({ "total": found.total, "results": found.hits, "facets": found.facets }),
    ))
}
