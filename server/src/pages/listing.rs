//! `GET /listings/{id}`: a catalogue listing imported from the Digital Public Goods
//! registry: metadata only, clearly marked as not installable. Links are shown as links
//! only when they are `http(s)` URLs; anything else is shown as text.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Serialize;

use super::{Language, PageError, PagePath, date, respond};
use crate::db;
use crate::state::AppState;

#[derive(Serialize)]
struct ListingPage {
    l: View,
}

#[derive(Serialize)]
struct View {
    name: String,
    aliases: Vec<String>,
    description: String,
    stage: Option<String>,
    website: Option<String>,
    repositories: Vec<Link>,
    licenses: Vec<License>,
    sdgs: Vec<u8>,
    countries: Vec<String>,
    sectors: Vec<String>,
    types: Vec<String>,
    organisations: Vec<Organisation>,
    collection: String,
    updated: String,
}

#[derive(Serialize)]
struct Link {
    url: String,
    link: bool,
}

#[derive(Serialize)]
struct License {
    spdx: String,
    url: Option<String>,
    link: bool,
}

#[derive(Serialize)]
struct Organisation {
    name: String,
    website: Option<String>,
    org_type: Option<String>,
    link: bool,
}

fn is_web(url: &str) -> bool {
    (url.starts_with("https://") || url.starts_with("http://")) && govstore_web::markdown::allowed_url(url)
}

pub async fn page(
    State(st): State<AppState>,
    lang: Language,
    headers: HeaderMap,
    PagePath(id): PagePath<String>,
) -> Response {
    respond(&lang, &headers, "listing.html", build(&st, &id).await)
}

async fn build(st: &AppState, id: &str) -> Result<ListingPage, PageError> {
    let not_found = || PageError::not_found("listing", id.chars().take(40).collect::<String>());
    let n: i64 = id.parse().map_err(|_| not_found())?;
    let d = db::listings::by_id(&st.db.read, n).await?.ok_or_else(not_found)?;
    Ok(ListingPage {
        l: View {
            website: d.website.filter(|w| is_web(w)),
            repositories: d
                .repositories
                .into_iter()
                .map(|url| Link {
                    link: is_web(&url),
                    url,
                })
                .collect(),
            licenses: d
                .licenses
                .into_iter()
                .map(|l| License {
                    link: l.url.as_deref().is_some_and(is_web),
                    spdx: l.spdx,
                    url: l.url,
                })
                .collect(),
            organisations: d
                .organisations
                .into_iter()
                .map(|o| Organisation {
                    link: o.website.as_deref().is_some_and(is_web),
                    name: o.name,
                    website: o.website,
                    org_type: o.org_type,
                })
                .collect(),
            countries: d
                .countries
                .iter()
                .map(|c| govstore_core::country_names::name_of(c).map_or_else(|| c.clone(), str::to_owned))
                .chain(d.unmapped_countries)
                .collect(),
            name: d.name,
            aliases: d.aliases,
            description: d.description,
            stage: d.stage,
            sdgs: d.sdgs,
            sectors: d.sectors,
            types: d.types,
            collection: d.collection,
            updated: date(d.updated_at),
        },
    })
}
