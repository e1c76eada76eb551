//! `GET /specs/{ns}/{name}`: a building-block spec, its versions newest first, and for each
//! version the package versions that implement it, how, and at which compliance levels.
//! A version lists at most [`MAX_IMPLEMENTATIONS`] of them (by package name, newest
//! version first) and says how many there are in all when it shows fewer.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use govstore_core::package::SpecId;
use serde::Serialize;

use super::{Language, PageError, PagePath, respond};
use crate::db;
use crate::db::packages::sort_newest_first;
use crate::db::pages::MAX_IMPLEMENTATIONS;
use crate::state::AppState;

#[derive(Serialize)]
struct SpecPage {
    spec: SpecView,
    versions: Vec<SpecVersionView>,
}

#[derive(Serialize)]
struct SpecView {
    id: String,
    title: String,
    description: String,
    homepage: Option<String>,
    packages: usize,
}

#[derive(Serialize)]
struct SpecVersionView {
    version: String,
    status: &'static str,
    released: Option<String>,
    requirements: usize,
    openapi: Vec<OpenApi>,
    implementations: Vec<Implementation>,
    /// How many implementations this version has, listed or not.
    total: usize,
}

#[derive(Serialize)]
struct OpenApi {
    name: String,
    url: String,
}

#[derive(Serialize)]
struct Implementation {
    name: String,
    version: String,
    how: &'static str,
    yanked: bool,
    deployment: Option<&'static str>,
    interface: Option<&'static str>,
    requirements: Option<&'static str>,
}

pub async fn page(
    State(st): State<AppState>,
    lang: Language,
    headers: HeaderMap,
    PagePath((ns, name)): PagePath<(String, String)>,
) -> Response {
    respond(&lang, &headers, "spec.html", build(&st, &ns, &name).await)
}

async fn build(st: &AppState, ns: &str, name: &str) -> Result<SpecPage, PageError> {
    let id = format!("{ns}/{name}");
    let not_found = || PageError::not_found("spec", &id);
    let spec_id: SpecId = id.parse().map_err(|_| not_found())?;
    let spec = db::specs::find(&st.db.read, spec_id.as_str())
        .await?
        .ok_or_else(not_found)?;
    let mut rows = db::index::implementation_candidates(&st.db.read, &spec_id).await?;
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    // Implementations by spec version, each list by package name, newest version first.
    let mut by_version: BTreeMap<String, Vec<Implementation>> = BTreeMap::new();
    let mut totals: BTreeMap<String, usize> = BTreeMap::new();
    let mut packages = std::collections::BTreeSet::new();
    let mut grouped: BTreeMap<String, Vec<_>> = BTreeMap::new();
    for (pkg, v) in rows {
        grouped.entry(pkg).or_default().push(v);
    }
    for (pkg, mut versions) in grouped {
        sort_newest_first(&mut versions);
        for v in versions {
            let m = super::package::manifest_of(&v)?;
            for i in m.implements.iter().filter(|i| i.spec == spec_id) {
                packages.insert(pkg.clone());
                *totals.entry(i.version.to_string()).or_default() += 1;
                let list = by_version.entry(i.version.to_string()).or_default();
                if list.len() < MAX_IMPLEMENTATIONS {
                    let c = &i.compliance;
                    list.push(Implementation {
                        name: pkg.clone(),
                        version: v.version.clone(),
                        how: i.how.as_str(),
                        yanked: v.yanked,
                        deployment: c.deployment.as_ref().map(|x| x.level.as_str()),
                        interface: c.interface.as_ref().map(|x| x.level.as_str()),
                        requirements: c.requirements.as_ref().map(|x| x.level.as_str()),
                    });
                }
            }
        }
    }
    let versions = spec
        .versions
        .iter()
        .rev()
        .map(|sv| SpecVersionView {
            total: totals.get(&sv.version.to_string()).copied().unwrap_or(0),
            version: sv.version.to_string(),
            status: sv.status.as_str(),
            released: sv.released.as_ref().map(|d| d.to_string()),
            requirements: sv.requirements.len(),
            openapi: sv
                .openapi
                .iter()
                .map(|o| OpenApi {
                    name: o.name.clone(),
                    url: o.url.as_str().to_owned(),
                })
                .collect(),
            implementations: by_version.remove(&sv.version.to_string()).unwrap_or_default(),
        })
        .collect();
    Ok(SpecPage {
        spec: SpecView {
            id: spec.id.to_string(),
            title: spec.title.clone(),
            description: spec.description.clone(),
            homepage: spec.homepage.as_ref().map(|u| u.as_str().to_owned()),
            packages: packages.len(),
        },
        versions,
    })
}
