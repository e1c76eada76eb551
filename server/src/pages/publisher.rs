//! `GET /publishers/{ns}`: an organisation's packages (with their latest versions) and its
//! signing keys, revoked ones included with the date and reason. At most
//! [`db::pages::MAX_ROWS`] packages are listed (by name); the page says how many there are
//! in all when it shows fewer.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Serialize;

use super::{Language, PageError, PagePath, date, respond};
use crate::db;
use crate::db::packages::latest;
use crate::state::AppState;

#[derive(Serialize)]
struct PublisherPage {
    ns: String,
    created: String,
    packages: Vec<PackageRow>,
    /// How many packages the organisation has, listed or not.
    total: u64,
    keys: Vec<KeyRow>,
}

#[derive(Serialize)]
struct PackageRow {
    name: String,
    description: String,
    license: String,
    latest: Option<String>,
}

#[derive(Serialize)]
struct KeyRow {
    key_id: String,
    name: String,
    created: String,
    revoked: Option<String>,
    revoke_reason: Option<String>,
}

pub async fn page(
    State(st): State<AppState>,
    lang: Language,
    headers: HeaderMap,
    PagePath(ns): PagePath<String>,
) -> Response {
    respond(&lang, &headers, "publisher.html", build(&st, &ns).await)
}

async fn build(st: &AppState, ns: &str) -> Result<PublisherPage, PageError> {
    let db = &st.db.read;
    let org = db::accounts::organisation(db, ns)
        .await?
        .ok_or_else(|| PageError::not_found("publisher", ns))?;
    let packages = db::pages::packages_of(db, org.id).await?;
    let total = if (packages.len() as u64) < db::pages::MAX_ROWS {
        packages.len() as u64
    } else {
        db::pages::count_packages_of(db, org.id).await?
    };
    let ids: Vec<i64> = packages.iter().map(|p| p.id).collect();
    let versions = db::pages::versions_of(db, &ids).await?;
    let keys = db::keys::list(db, org.id).await?;
    Ok(PublisherPage {
        ns: org.name.clone(),
        created: date(org.created_at),
        total,
        packages: packages
            .into_iter()
            .map(|p| PackageRow {
                latest: versions
                    .get(&p.id)
                    .and_then(|vs| latest(vs).or(vs.first()))
                    .map(|v| v.version.clone()),
                name: p.name,
                description: p.description,
                license: p.license,
            })
            .collect(),
        keys: keys
            .into_iter()
            .map(|k| KeyRow {
                key_id: k.key_id,
                name: k.name,
                created: date(k.created_at),
                revoked: k.revoked_at.map(date),
                revoke_reason: k.revoke_reason,
            })
            .collect(),
    })
}
