//! `GET /api/v1/search?q=&limit=&offset=&spec=&license=&maturity=&country=&sdg=&compliance=&signed=&kind=`:
//! packages and DPG listings from the search index (see [`crate::search`]), best first,
//! with facet counts over all matches. `q` may be empty when a facet filter is given.
//! Each hit has a `kind`: `package` (installable) or `listing` (metadata only, with the
//! `id` of its `/listings/{id}` page and `installable: false`); packages carry their
//! `title` (the product's name, or null). The documents that match every word of `q`
//! come first (`full_matches` of them in all), then those that match only some, marked
//! `partial: true`; `total` counts both.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};

use super::extract::Query;
use crate::error::{ApiError, ApiResult};
use crate::search::{Request, schema::CATEGORIES};
use crate::state::AppState;

/// The deepest page: `offset` at most this.
const MAX_OFFSET: u64 = 10_000;

#[derive(Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
    limit: Option<u64>,
    offset: Option<u64>,
    spec: Option<String>,
    license: Option<String>,
    maturity: Option<String>,
    country: Option<String>,
    approved: Option<String>,
    sdg: Option<String>,
    compliance: Option<String>,
    signed: Option<String>,
    kind: Option<String>,
}

impl SearchQuery {
    /// The filter value of a facet category.
    fn filter(&self, category: &str) -> Option<&String> {
        match category {
            "spec" => self.spec.as_ref(),
            "license" => self.license.as_ref(),
            "maturity" => self.maturity.as_ref(),
            "country" => self.country.as_ref(),
            "approved" => self.approved.as_ref(),
            "sdg" => self.sdg.as_ref(),
            "compliance" => self.compliance.as_ref(),
            "signed" => self.signed.as_ref(),
            "kind" => self.kind.as_ref(),
            _ => None,
        }
    }
}

pub async fn search(State(st): State<AppState>, Query(q): Query<SearchQuery>) -> ApiResult<Json<Value>> {
    let mut filters = Vec::new();
    for c in CATEGORIES {
        if let Some(v) = q.filter(c) {
            let v = v.trim();
            if v.is_empty() || v.chars().count() > 200 {
                return Err(ApiError::invalid(format!("{c} is 1 to 200 characters")));
            }
            filters.push((c.to_owned(), v.to_owned()));
        }
    }
    let text = q.q.trim();
    if text.chars().count() > 100 || (text.is_empty() && filters.is_empty()) {
        return Err(ApiError::invalid(
            "q is 1 to 100 characters (it may be empty with a facet filter)",
        ));
    }
    let offset = q.offset.unwrap_or(0);
    if offset > MAX_OFFSET {
        return Err(ApiError::invalid(format!("offset is at most {MAX_OFFSET}")));
    }
    let limit = q.limit.unwrap_or(20).clamp(1, 100) as usize;
    let req = Request {
        q: text.to_owned(),
        limit,
        offset: offset as usize,
        filters,
        facets: true,
    };
    let found = st.search.search(&req).map_err(ApiError::internal)?;
    Ok(Json(
        json!({ "total": found.total, "full_matches": found.full, "results": found.hits, "facets": found.facets }),
    ))
}
