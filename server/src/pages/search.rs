//! `GET /search?q=&<facet>=&page=`: search results with facet filters as plain links.
//!
//! Every facet category of the index (`crate::search::schema::CATEGORIES`) is a query
//! parameter of the same name holding one value. A facet value's link sets that filter
//! (or removes it when it is the active one) and keeps the others and the words; a
//! page's results sit in the compare form, each installable one with a checkbox. With
//! no words and no filter the page browses everything.

use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use serde::Serialize;
use serde_json::{Value, json};

use super::{Language, MAX_QUERY_CHARS, PageError, percent_encode, query_pairs, respond};
use crate::search::Request;
use crate::search::schema::CATEGORIES;
use crate::state::AppState;

/// Results per page.
pub const PAGE_SIZE: usize = 20;
/// The last page that can be asked for (so at most 10,000 results are paged through).
pub const MAX_PAGE: usize = 500;
/// Facet values shown per category, most frequent first.
const FACET_VALUES: usize = 20;

#[derive(Serialize)]
struct Results {
    q: String,
    total: usize,
    first: usize,
    results: Vec<Hit>,
    facets: Vec<Group>,
    active: Vec<Active>,
    clear_href: String,
    prev_href: Option<String>,
    next_href: Option<String>,
    page: usize,
    pages: usize,
}

#[derive(Serialize)]
struct Hit {
    href: String,
    name: String,
    title: Option<String>,
    partial: bool,
    /// The first partial match, before which the page says the rest match only some words.
    first_partial: bool,
    description: String,
    license: String,
    version: String,
    implements: Vec<String>,
    installable: bool,
    yanked: bool,
    cmp_id: String,
}

#[derive(Serialize)]
struct Group {
    category: &'static str,
    values: Vec<FacetValue>,
}

#[derive(Serialize)]
struct FacetValue {
    /// `category:value`, which the template may show in other words (`kind:listing`).
    key: String,
    label: String,
    count: u64,
    href: String,
    active: bool,
}

#[derive(Serialize)]
struct Active {
    category: &'static str,
    key: String,
    label: String,
    remove_href: String,
}

/// The words and filters of a search page, as its links rebuild them.
#[derive(Debug, Clone, Default)]
struct Params {
    q: String,
    filters: Vec<(&'static str, String)>,
}

impl Params {
    /// `/search?...` with these words and filters, and `page` if over 1.
    fn href(&self, page: usize) -> String {
        let mut parts = Vec::new();
        if !self.q.is_empty() {
            parts.push(format!("q={}", percent_encode(&self.q)));
        }
        for (c, v) in &self.filters {
            parts.push(format!("{c}={}", percent_encode(v)));
        }
        if page > 1 {
            parts.push(format!("page={page}"));
        }
        if parts.is_empty() {
            "/search".to_owned()
        } else {
            format!("/search?{}", parts.join("&"))
        }
    }

    fn with(&self, category: &'static str, value: Option<&str>) -> Params {
        let mut p = self.clone();
        p.filters.retain(|(c, _)| *c != category);
        if let Some(v) = value {
            p.filters.push((category, v.to_owned()));
            p.filters.sort_by_key(|(c, _)| CATEGORIES.iter().position(|x| x == c));
        }
        p
    }
}

pub async fn page(State(st): State<AppState>, lang: Language, headers: HeaderMap, uri: Uri) -> Response {
    respond(&lang, &headers, "search.html", build(&st, &uri))
}

/// A 400 page of `kind` with the limit `max`, linking back to the search.
fn bad(kind: &'static str, max: usize) -> PageError {
    PageError::bad_request(kind, json!({ "max": max })).back("/search")
}

fn build(st: &AppState, uri: &Uri) -> Result<Results, PageError> {
    let mut params = Params::default();
    let mut page = 1usize;
    for (k, v) in query_pairs(uri)? {
        let v = v.trim().to_owned();
        if k == "q" {
            if v.chars().count() > MAX_QUERY_CHARS {
                return Err(bad("query_too_long", MAX_QUERY_CHARS));
            }
            params.q = v;
        } else if k == "page" {
            page = v
                .parse()
                .ok()
                .filter(|p| (1..=MAX_PAGE).contains(p))
                .ok_or_else(|| bad("bad_page", MAX_PAGE))?;
        } else if let Some(c) = CATEGORIES.iter().find(|c| **c == k) {
            if v.chars().count() > MAX_QUERY_CHARS {
                return Err(bad("filter_too_long", MAX_QUERY_CHARS));
            }
            if !v.is_empty() {
                params = params.with(c, Some(&v));
            }
        }
    }
    let found = st.search.search(&Request {
        q: params.q.clone(),
        limit: PAGE_SIZE,
        offset: (page - 1) * PAGE_SIZE,
        filters: params
            .filters
            .iter()
            .map(|(c, v)| ((*c).to_owned(), v.clone()))
            .collect(),
        facets: true,
    })?;
    let pages = found.total.div_ceil(PAGE_SIZE).clamp(1, MAX_PAGE);
    // Past the last page of a search that has results: say so, and link to the last page.
    if found.total > 0 && page > pages {
        let mut e = PageError::not_found("search_page", "").back(params.href(pages));
        e.args["pages"] = json!(pages);
        return Err(e);
    }
    let mut results: Vec<Hit> = found.hits.iter().map(hit).collect();
    if let Some(first) = results.iter_mut().find(|h| h.partial) {
        first.first_partial = true;
    }
    let facets = CATEGORIES
        .iter()
        .filter_map(|c| {
            let counts = found.facets.get(c)?;
            let active = params.filters.iter().find(|(k, _)| k == c).map(|(_, v)| v.as_str());
            let mut values: Vec<(&String, &u64)> = counts.iter().collect();
            // Most frequent first; ties in natural order (SDG 2 before SDG 10).
            let natural = |v: &str| (v.parse::<u64>().unwrap_or(u64::MAX), v.to_owned());
            values.sort_by(|a, b| b.1.cmp(a.1).then_with(|| natural(a.0).cmp(&natural(b.0))));
            let mut shown: Vec<FacetValue> = values
                .into_iter()
                .take(FACET_VALUES)
                .map(|(v, n)| facet_value(&params, c, v, *n, active == Some(v.as_str())))
                .collect();
            // An active value always shows, so that it can be removed here too.
            if let Some(a) = active
                && !shown.iter().any(|f| f.active)
            {
                let n = counts.get(a).copied().unwrap_or(0);
                shown.push(facet_value(&params, c, a, n, true));
            }
            (!shown.is_empty()).then_some(Group {
                category: c,
                values: shown,
            })
        })
        .collect();
    let active = params
        .filters
        .iter()
        .map(|(c, v)| Active {
            category: c,
            key: format!("{c}:{v}"),
            label: label(c, v),
            remove_href: params.with(c, None).href(1),
        })
        .collect();
    Ok(Results {
        total: found.total,
        first: (page - 1) * PAGE_SIZE + 1,
        results,
        facets,
        active,
        clear_href: Params {
            q: params.q.clone(),
            filters: Vec::new(),
        }
        .href(1),
        prev_href: (page > 1).then(|| params.href((page - 1).min(pages))),
        next_href: (page < pages).then(|| params.href(page + 1)),
        page,
        pages,
        q: params.q,
    })
}

fn facet_value(params: &Params, category: &'static str, value: &str, count: u64, active: bool) -> FacetValue {
    let target = if active {
        params.with(category, None)
    } else {
        params.with(category, Some(value))
    };
    FacetValue {
        key: format!("{category}:{value}"),
        label: label(category, value),
        count,
        href: target.href(1),
        active,
    }
}

/// How a facet value reads: countries by name, SDGs by number.
fn label(category: &str, value: &str) -> String {
    match category {
        "country" | "approved" => govstore_core::country_names::name_of(value)
            .map(|n| format!("{n} ({value})"))
            .unwrap_or_else(|| value.to_owned()),
        "sdg" => format!("SDG {value}"),
        _ => value.to_owned(),
    }
}

fn text(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or_default().to_owned()
}

fn hit(v: &Value) -> Hit {
    let name = text(v, "name");
    let listing = v["kind"].as_str() == Some("listing");
    let installable = v["installable"].as_bool().unwrap_or(!listing);
    let href = if listing {
        let id = match &v["id"] {
            Value::Number(n) => n.to_string(),
            Value::String(s) => percent_encode(s),
            _ => String::new(),
        };
        format!("/listings/{id}")
    } else {
        format!("/packages/{name}")
    };
    Hit {
        href,
        cmp_id: format!("cmp-{}", name.replace('/', "--")),
        description: text(v, "description"),
        license: text(v, "license"),
        version: text(v, "version"),
        implements: v["implements"]
            .as_array()
            .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect())
            .unwrap_or_default(),
        installable,
        yanked: v["yanked"].as_bool().unwrap_or(false),
        title: v["title"].as_str().map(str::to_owned),
        partial: v["partial"].as_bool().unwrap_or(false),
        first_partial: false,
        name,
    }
}
