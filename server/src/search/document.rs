//! Search documents. A package, as the database holds it, becomes one document: its
//! latest non-yanked version (pre-releases only if nothing else), else its newest
//! version, marked yanked, so that a package whose versions are all yanked is still
//! found. A DPG listing becomes one document of kind `listing`, not installable.
//!
//! A listing *describes* a catalogue package when its name (or an alias) equals the
//! package's namespace or short name, letters and digits only (`X-Road` and
//! `x-road/security-server`, `DHIS2` and `dhis2/dhis2-core`), or when they name the same
//! source repository. The listing's hit then names the package (`see_also`), and the
//! listing's name becomes an exact name of the package, so that the installable package
//! ranks first for it.

use serde_json::{Value, json};
use tantivy::TantivyDocument;
use tantivy::schema::Facet;

use super::schema::{Fields, squash as squash_all};
use crate::db::entities::{package_versions, packages};
use crate::db::listings::Details;
use crate::db::packages::{latest, sort_newest_first};

/// What the index knows about one package.
#[derive(Debug, Clone, Default)]
pub struct Listing {
    pub name: String,
    /// The product's human name (`package.title`), if the publisher gave one.
    pub title: Option<String>,
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
    /// The best compliance level claimed (`level-1`, `level-2`), if any.
    pub compliance: Option<String>,
    /// The source repository URL.
    pub repository: Option<String>,
    /// All-time downloads (all versions).
    pub downloads: u64,
    /// Names of the listings that describe this package: further exact names.
    pub aliases: Vec<String>,
    /// The indexed version's manifest digest.
    pub digest: String,
    /// Countries in which the indexed version holds its threshold of approvals.
    pub approved_in: Vec<String>,
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

/// The best interface or requirement-specification level claimed in a config's
/// `implements`, if any is `level-1` or `level-2`.
fn best_compliance(implements: &[Value]) -> Option<String> {
    implements
        .iter()
        .flat_map(|i| {
            ["interface", "requirements"]
                .into_iter()
                .filter_map(move |k| i["compliance"][k]["level"].as_str())
        })
        .filter(|l| matches!(*l, "level-1" | "level-2"))
        .max()
        .map(str::to_owned)
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
        title: p["title"].as_str().map(str::to_owned),
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
        compliance: best_compliance(&implements_json),
        repository: p["repository"].as_str().map(str::to_owned),
        downloads: 0,
        aliases: Vec::new(),
        digest: v.manifest_digest.clone(),
        approved_in: Vec::new(),
    })
}

/// How much a package's downloads lift its score: `1 + 0.1 * ln(1 + downloads)` (100
/// downloads: x1.46; 10,000: x1.92), small beside the exact-name boost and the
/// differences between a name match and a description match.
pub fn download_boost(downloads: u64) -> f64 {
    1.0 + 0.1 * (downloads as f64).ln_1p()
}

/// The score multiplier of a deprecated package: below maintained ones that match as well.
pub const DEPRECATED_BOOST: f64 = 0.7;

/// The score multiplier of listings: among similar matches the installable package first.
pub const LISTING_BOOST: f64 = 0.8;
/// The score multiplier of a listing that describes catalogue packages: below them.
pub const DESCRIBING_LISTING_BOOST: f64 = 0.5;

/// Letters and digits only, lowercased: how names are compared for `see_also`.
fn squash(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// A repository URL without scheme, `www.`, `.git` and trailing slashes, lowercased.
fn repo_key(url: &str) -> String {
    let s = url.trim().to_ascii_lowercase();
    let s = s.split_once("://").map_or(s.as_str(), |(_, rest)| rest);
    let s = s.strip_prefix("www.").unwrap_or(s);
    let s = s.trim_end_matches('/');
    s.strip_suffix(".git").unwrap_or(s).to_owned()
}

/// The keys by which a package is matched with listings: its namespace and short name
/// (letters and digits only) and its repository.
pub fn package_keys(name: &str, repository: Option<&str>) -> Vec<String> {
    let (ns, short) = name.split_once('/').unwrap_or((name, name));
    let mut keys: Vec<String> = [squash(ns), squash(short)]
        .into_iter()
        .filter(|k| !k.is_empty())
        .map(|k| format!("name:{k}"))
        .collect();
    if let Some(r) = repository.map(repo_key).filter(|r| !r.is_empty()) {
        keys.push(format!("repo:{r}"));
    }
    keys.sort();
    keys.dedup();
    keys
}

/// The keys by which a listing is matched with packages: its name and aliases (letters
/// and digits only) and its repositories.
pub fn listing_keys(l: &Details) -> Vec<String> {
    let names = std::iter::once(&l.name)
        .chain(&l.aliases)
        .map(|n| squash(n))
        .filter(|k| !k.is_empty())
        .map(|k| format!("name:{k}"));
    let repos = l
        .repositories
        .iter()
        .map(|r| repo_key(r))
        .filter(|r| !r.is_empty())
        .map(|r| format!("repo:{r}"));
    let mut keys: Vec<String> = names.chain(repos).collect();
    keys.sort();
    keys.dedup();
    keys
}

/// Whether `listing` describes the package `name` (with source `repository`).
pub fn describes(listing: &Details, name: &str, repository: Option<&str>) -> bool {
    let package = package_keys(name, repository);
    listing_keys(listing).iter().any(|k| package.contains(k))
}

fn facet(d: &mut TantivyDocument, f: &Fields, category: &str, value: &str) {
    d.add_facet(f.facets, Facet::from_path([category, value]));
}

/// Deployment countries as words: the code and its English name.
fn country_words(d: &mut TantivyDocument, f: &Fields, codes: &[String]) {
    for c in codes {
        d.add_text(f.countries, c);
        if let Some(name) = govstore_core::country_names::name_of(c) {
            d.add_text(f.countries, name);
        }
    }
}

/// The identifiers of an SPDX expression, lowercased (`MIT OR Apache-2.0` -> `mit`, `apache-2.0`).
fn license_ids(d: &mut TantivyDocument, f: &Fields, expression: &str) {
    for id in expression
        .split(|c: char| c.is_whitespace() || c == '(' || c == ')')
        .filter(|t| !t.is_empty() && !matches!(*t, "AND" | "OR" | "WITH"))
    {
        d.add_text(f.license_id, id.to_lowercase());
    }
}

/// The light stems ([`super::schema::stem`]) of the words of `texts`, for the `stem` field.
fn stems<'a>(texts: impl IntoIterator<Item = &'a String>) -> String {
    let mut out = String::new();
    for t in texts {
        for w in t.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
            let w = w.to_lowercase();
            out.push_str(super::schema::stem(&w));
            out.push(' ');
        }
    }
    out
}

/// Exact names (see [`Fields::exact`]): each lowercased and trimmed, and with letters
/// and digits only, without repeats.
fn exact_names<'a>(d: &mut TantivyDocument, f: &Fields, names: impl IntoIterator<Item = &'a str>) {
    let mut seen = std::collections::BTreeSet::new();
    for n in names {
        for form in [n.trim().to_lowercase(), squash_all(n)] {
            if !form.is_empty() && seen.insert(form.clone()) {
                d.add_text(f.exact, form);
            }
        }
    }
}

/// The joined forms (see [`Fields::joined`]) of several texts, space-separated.
fn joined_words<'a>(texts: impl IntoIterator<Item = &'a str>) -> String {
    texts
        .into_iter()
        .flat_map(super::schema::joined)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The document of a package.
pub fn document(l: &Listing, f: &Fields) -> TantivyDocument {
    let mut d = TantivyDocument::default();
    d.add_text(f.id, &l.name);
    let lower = l.name.to_lowercase();
    d.add_text(f.sort, format!("{lower}\u{0}{}", l.name));
    let short = lower.split_once('/').map(|(_, short)| short);
    exact_names(
        &mut d,
        f,
        short
            .into_iter()
            .chain([lower.as_str()])
            .chain(l.title.as_deref())
            .chain(l.aliases.iter().map(String::as_str)),
    );
    d.add_text(f.name, &l.name);
    if let Some(t) = &l.title {
        d.add_text(f.name, t);
    }
    d.add_text(
        f.joined,
        joined_words(
            [l.name.as_str()]
                .into_iter()
                .chain(l.title.as_deref())
                .chain(l.aliases.iter().map(String::as_str))
                .chain(l.keywords.iter().map(String::as_str)),
        ),
    );
    for k in l.keywords.iter().chain(&l.specs) {
        d.add_text(f.keywords, k);
    }
    for s in &l.specs {
        d.add_text(f.specs, s);
    }
    d.add_text(f.description, &l.description);
    d.add_text(f.license, &l.license);
    license_ids(&mut d, f, &l.license);
    for s in l.maturity.iter().chain(&l.compliance) {
        d.add_text(f.extra, s);
    }
    country_words(&mut d, f, &l.countries);
    d.add_text(
        f.stem,
        stems(
            [&l.name, &l.description]
                .into_iter()
                .chain(&l.title)
                .chain(&l.keywords)
                .chain(&l.specs),
        ),
    );
    for s in &l.specs {
        facet(&mut d, f, "spec", s);
    }
    facet(&mut d, f, "license", &l.license);
    if let Some(m) = &l.maturity {
        facet(&mut d, f, "maturity", m);
    }
    for c in &l.countries {
        facet(&mut d, f, "country", c);
    }
    for s in &l.sdgs {
        facet(&mut d, f, "sdg", s);
    }
    for c in &l.approved_in {
        facet(&mut d, f, "approved", c);
    }
    facet(&mut d, f, "compliance", l.compliance.as_deref().unwrap_or("none"));
    // Publishing refuses anything without a signature verified against a registered key.
    facet(&mut d, f, "signed", "yes");
    facet(&mut d, f, "kind", "package");
    let maturity = if l.maturity.as_deref() == Some("deprecated") {
        DEPRECATED_BOOST
    } else {
        1.0
    };
    d.add_f64(f.boost, download_boost(l.downloads) * maturity);
    let hit = json!({
        "kind": "package",
        "name": l.name,
        "title": l.title,
        "version": l.version,
        "description": l.description,
        "license": l.license,
        "implements": l.implements,
        "yanked": l.yanked,
        "approved_in": l.approved_in,
        "installable": true,
        "downloads": l.downloads,
        "compliance": l.compliance,
    });
    d.add_text(f.hit, hit.to_string());
    d
}

/// The key of a listing's document.
pub fn listing_key(id: i64) -> String {
    format!("listing:{id}")
}

/// The document of a listing; `see_also` names the packages it describes.
pub fn listing_document(l: &Details, see_also: &[String], f: &Fields) -> TantivyDocument {
    let mut d = TantivyDocument::default();
    let key = listing_key(l.id);
    d.add_text(f.id, &key);
    d.add_text(f.sort, format!("{}\u{0}{key}", l.name.to_lowercase()));
    exact_names(
        &mut d,
        f,
        [l.name.as_str()]
            .into_iter()
            .chain(l.aliases.iter().map(String::as_str)),
    );
    d.add_text(f.exact, l.source_id.to_lowercase());
    d.add_text(f.name, &l.name);
    for a in &l.aliases {
        d.add_text(f.name, a);
    }
    d.add_text(
        f.joined,
        joined_words(
            [l.name.as_str()]
                .into_iter()
                .chain(l.aliases.iter().map(String::as_str)),
        ),
    );
    for k in l.sectors.iter().chain(&l.types) {
        d.add_text(f.keywords, k);
    }
    d.add_text(f.description, &l.description);
    for lic in &l.licenses {
        d.add_text(f.license, &lic.spdx);
        license_ids(&mut d, f, &lic.spdx);
    }
    for o in &l.organisations {
        d.add_text(f.extra, &o.name);
    }
    country_words(&mut d, f, &l.countries);
    for c in &l.unmapped_countries {
        d.add_text(f.countries, c);
    }
    d.add_text(
        f.stem,
        stems(
            [&l.name, &l.description]
                .into_iter()
                .chain(&l.aliases)
                .chain(&l.sectors)
                .chain(&l.types),
        ),
    );
    for lic in &l.licenses {
        facet(&mut d, f, "license", &lic.spdx);
    }
    for c in &l.countries {
        facet(&mut d, f, "country", c);
    }
    for s in &l.sdgs {
        facet(&mut d, f, "sdg", &s.to_string());
    }
    facet(&mut d, f, "signed", "no");
    facet(&mut d, f, "kind", "listing");
    d.add_f64(
        f.boost,
        if see_also.is_empty() {
            LISTING_BOOST
        } else {
            DESCRIBING_LISTING_BOOST
        },
    );
    let licenses: Vec<&str> = l.licenses.iter().map(|x| x.spdx.as_str()).collect();
    let hit = json!({
        "kind": "listing",
        "id": l.id,
        "name": l.name,
        "description": l.description,
        "license": licenses.join(", "),
        "licenses": licenses,
        "installable": false,
        "source": l.source,
        "stage": l.stage,
        "website": l.website,
        "countries": l.countries,
        "see_also": see_also,
    });
    d.add_text(f.hit, hit.to_string());
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn details(name: &str, repos: &[&str]) -> Details {
        Details {
            id: 1,
            source: "dpg".into(),
            source_id: "x".into(),
            collection: "nominees".into(),
            name: name.into(),
            aliases: vec![],
            description: String::new(),
            website: None,
            licenses: vec![],
            sdgs: vec![],
            sectors: vec![],
            types: vec![],
            countries: vec![],
            unmapped_countries: vec![],
            repositories: repos.iter().map(|s| (*s).to_owned()).collect(),
            organisations: vec![],
            stage: None,
            imported_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn which_listing_describes_which_package() {
        assert!(describes(&details("X-Road", &[]), "x-road/security-server", None));
        assert!(describes(&details("DHIS2", &[]), "dhis2/dhis2-core", None));
        assert!(describes(
            &details("Sunbird RC", &[]),
            "sunbird-rc/sunbird-rc-core",
            None
        ));
        assert!(describes(
            &details("Apache Fineract", &["https://github.com/apache/fineract"]),
            "apache/fineract",
            Some("https://github.com/Apache/fineract.git/")
        ));
        assert!(!describes(&details("Apache Superset", &[]), "apache/fineract", None));
        assert!(!describes(&details("Mifos Mobile", &[]), "mifos/ph-ee-govstack", None));
        assert!(!describes(&details("!!!", &[]), "a/b", Some("")));
    }

    #[test]
    fn compliance_is_the_best_interface_or_requirements_level() {
        let i = |interface: &str, requirements: &str, deployment: &str| {
            json!({ "compliance": {
                "interface": { "level": interface },
                "requirements": { "level": requirements },
                "deployment": { "level": deployment },
            }})
        };
        assert_eq!(best_compliance(&[]), None);
        assert_eq!(best_compliance(&[i("n/a", "n/a", "level-2")]), None);
        assert_eq!(
            best_compliance(&[i("level-1", "n/a", "n/a")]).as_deref(),
            Some("level-1")
        );
        assert_eq!(
            best_compliance(&[i("level-1", "n/a", "n/a"), i("n/a", "level-2", "n/a")]).as_deref(),
            Some("level-2")
        );
    }

    #[test]
    fn downloads_lift_mildly() {
        assert_eq!(download_boost(0), 1.0);
        assert!((download_boost(100) - 1.4615).abs() < 0.001);
        assert!(download_boost(1_000_000) < 2.5);
    }
}
