//! `GET /`: the building blocks (the published specs, with how many packages implement
//! each, counted by the search index) and the most recent releases. Admins may publish
//! any number of specs: the first [`MAX_ROWS`] by id are listed, and the page says how
//! many there are when that is not all.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Serialize;

use super::{Language, PageError, date, respond};
use crate::db;
use crate::db::pages::MAX_ROWS;
use crate::search::Request;
use crate::state::AppState;

const RECENT: u64 = 10;

#[derive(Serialize)]
struct Home {
    specs: Vec<Block>,
    /// How many specs there are, listed or not.
    specs_total: usize,
    recent: Vec<Release>,
    total: usize,
}

#[derive(Serialize)]
struct Block {
    id: String,
    title: String,
    count: u64,
}

#[derive(Serialize)]
struct Release {
    name: String,
    version: String,
    date: String,
    description: String,
}

pub async fn page(State(st): State<AppState>, lang: Language, headers: HeaderMap) -> Response {
    respond(&lang, &headers, "home.html", build(&st).await)
}

async fn build(st: &AppState) -> Result<Home, PageError> {
    let found = st.search.search(&Request {
        limit: 1,
        facets: true,
        ..Request::default()
    })?;
    let counts = found.facets.get("spec").cloned().unwrap_or_default();
    let titles = db::pages::spec_titles(&st.db.read).await?;
    let specs_total = titles.len();
    let specs = titles
        .into_iter()
        .take(MAX_ROWS as usize)
        .map(|(id, title)| Block {
            count: counts.get(id.as_str()).copied().unwrap_or(0),
            id,
            title,
        })
        .collect();
    let recent = db::pages::recent_releases(&st.db.read, RECENT)
        .await?
        .into_iter()
        .map(|(p, v)| Release {
            name: p.name,
            version: v.version,
            date: date(v.published_at),
            description: p.description,
        })
        .collect();
    Ok(Home {
        specs,
        specs_total,
        recent,
        total: found.total,
    })
}
