//! `GET /compare?p=ns/a&p=ns/b` (2 to 4 `p`): packages side by side, each at its latest
//! version: version, licence, maturity, specs and compliance levels, requirements,
//! platform, countries, signature, downloads, approval status per country. Fewer than 2
//! or more than 4 packages is a 400 page, an unknown one a 404 page, both with a link back to the search. The page
//! depends on its URL only (it is cached `public`), so the link back is `/search`, never
//! the visitor's own search from the Referer.

use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use serde::Serialize;
use serde_json::json;

use super::package::{Implemented, Req, implemented, manifest_of, requires, spec_titles};
use super::{Language, PageError, date, query_pairs, respond};
use crate::db;
use crate::db::packages::latest;
use crate::state::AppState;

pub const MIN: usize = 2;
pub const MAX: usize = 4;

#[derive(Serialize)]
struct ComparePage {
    packages: Vec<Column>,
    back: String,
}

#[derive(Serialize)]
struct Column {
    name: String,
    description: String,
    version: String,
    date: String,
    license: String,
    maturity: Option<String>,
    implements: Vec<Implemented>,
    requires: Vec<Req>,
    platform: Vec<Req>,
    countries: Vec<String>,
    key_id: String,
    downloads: u64,
    /// The version's approval state per country (`country::badges`).
    approvals: Vec<super::country::Badge>,
}

pub async fn page(State(st): State<AppState>, lang: Language, headers: HeaderMap, uri: Uri) -> Response {
    respond(&lang, &headers, "compare.html", build(&st, &uri, BACK.to_owned()).await)
}

/// Where the page's "back" link goes.
const BACK: &str = "/search";

async fn build(st: &AppState, uri: &Uri, back: String) -> Result<ComparePage, PageError> {
    let mut names: Vec<String> = Vec::new();
    for (k, v) in query_pairs(uri)? {
        let v = v.trim().to_owned();
        if k == "p" && !v.is_empty() && !names.contains(&v) {
            names.push(v);
        }
    }
    if !(MIN..=MAX).contains(&names.len()) {
        return Err(PageError::bad_request("compare_count", json!({ "given": names.len() })).back(back));
    }
    let db = &st.db.read;
    let found = db::pages::packages_named(db, &names).await?;
    if let Some(missing) = names.iter().find(|n| !found.iter().any(|p| &p.name == *n)) {
        let mut e = PageError::not_found("compare_unknown", missing.clone()).back(back);
        e.args["name"] = json!(missing.chars().take(100).collect::<String>());
        return Err(e);
    }
    let ids: Vec<i64> = found.iter().map(|p| p.id).collect();
    let versions = db::pages::versions_of(db, &ids).await?;
    let titles = spec_titles(st).await?;
    let mut packages = Vec::new();
    for name in &names {
        let Some(p) = found.iter().find(|p| &p.name == name) else {
            continue;
        };
        let Some(v) = versions.get(&p.id).and_then(|vs| latest(vs).or(vs.first())) else {
            return Err(PageError::not_found("compare_unknown", name.clone()).back(back));
        };
        let m = manifest_of(v)?;
        let downloads = db::downloads::total(db, p.id).await?;
        let approvals = super::country::badges(st, &p.name, &v.manifest_digest).await?;
        let r = requires(&m);
        let mut needs = r.specs;
        needs.extend(r.packages);
        packages.push(Column {
            name: p.name.clone(),
            description: m.package.description.clone(),
            version: v.version.clone(),
            date: date(v.published_at),
            license: m.package.license.to_string(),
            maturity: m.package.maturity.map(|x| x.as_str().to_owned()),
            implements: implemented(&m, &titles),
            requires: needs,
            platform: r.platform,
            countries: m.package.deployment_countries.iter().map(|c| c.to_string()).collect(),
            key_id: v.key_id.clone(),
            downloads,
            approvals,
        });
    }
    Ok(ComparePage { packages, back })
}
