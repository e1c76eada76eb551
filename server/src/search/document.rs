//! A package, as the database holds it, turned into a search document: its latest
//! non-yanked version (pre-releases only if nothing else), else its newest version, marked
//! yanked, so that a package whose versions are all yanked is still found.

use serde_json::{Value, json};
use tantivy::TantivyDocument;
use tantivy::schema::Facet;

use super::schema::Fields;
use crate::db::entities::{package_versions, packages};
use crate::db::packages::{latest, sort_newest_first};

/// What the index knows about one package.
#[derive(Debug, Clone)]
pub struct Listing {
    pub name: String,
    pub version: String,
    pub description: String,
    pub license: String,
    /// `spec@version`, as the API shows them.
    pub implements: Vec<String>,
    pub specs: Vec<String>,
    pub keywords: Vec<String>,
    pub maturity: Option<String>,
    pub countries: Vec<String>,
    pub sdgs: Vec<String>,
    pub yanked: bool,
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The listing of `package`, or `None` if it has no versions (or an unreadable config).
pub fn listing(package: &packages::Model, mut versions: Vec<package_versions::Model>) -> Option<Listing> {
    sort_newest_first(&mut versions);
    let v = latest(&versions).or(versions.first())?;
    let config: Value = serde_json::from_str(&v.config).ok()?;
    let implements_json = config["implements"].as_array().cloned().unwrap_or_default();
    let specs: Vec<String> = implements_json
        .iter()
        .filter_map(|i| i["spec"].as_str().map(str::to_owned))
        .collect();
    let implements = implements_json
        .iter()
        .filter_map(|i| Some(format!("{}@{}", i["spec"].as_str()?, i["version"].as_str()?)))
        .collect();
    let p = &config["package"];
    let mut keywords = strings(&p["keywords"]);
    keywords.extend(strings(&p["sectors"]));
    Some(Listing {
        name: package.name.clone(),
        version: v.version.clone(),
        description: p["description"].as_str().unwrap_or(&package.description).to_owned(),
        license: p["license"].as_str().unwrap_or(&package.license).to_owned(),
        implements,
        specs,
        keywords,
        maturity: p["maturity"].as_str().map(str::to_owned),
        countries: strings(&p["deployment_countries"]),
        sdgs: strings(&p["sdgs"]),
        yanked: v.yanked,
    })
}

/// The document of a listing.
pub fn document(l: &Listing, f: &Fields) -> TantivyDocument {
    let mut d = TantivyDocument::default();
    d.add_text(f.id, &l.name);
    let lower = l.name.to_lowercase();
    if let Some((_, short)) = lower.split_once('/') {
        d.add_text(f.exact, short);
    }
    d.add_text(f.exact, &lower);
    d.add_text(f.name, &l.name);
    for k in &l.keywords {
        d.add_text(f.keywords, k);
    }
    d.add_text(f.description, &l.description);
    for s in l
        .specs
        .iter()
        .chain([&l.license])
        .chain(&l.maturity)
        .chain(&l.countries)
    {
        d.add_text(f.extra, s);
    }
    let facet = |d: &mut TantivyDocument, category: &str, value: &str| {
        d.add_facet(f.facets, Facet::from_path([category, value]))
    };
    for s in &l.specs {
        facet(&mut d, "spec", s);
    }
    facet(&mut d, "license", &l.license);
    if let Some(m) = &l.maturity {
        facet(&mut d, "maturity", m);
    }
    for c in &l.countries {
        facet(&mut d, "country", c);
    }
    for s in &l.sdgs {
        facet(&mut d, "sdg", s);
    }
    // Publishing refuses anything without a signature verified against a registered key.
    facet(&mut d, "signed", "yes");
    let hit = json!({
        "name": l.name,
        "version": l.version,
        "description": l.description,
        "license": l.license,
        "implements": l.implements,
        "yanked": l.yanked,
    });
    d.add_text(f.hit, hit.to_string());
    d
}
