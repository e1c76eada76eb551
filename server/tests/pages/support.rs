//! Publishing packages with chosen READMEs, and reading pages.

use std::collections::BTreeMap;

use axum::http::{Method, StatusCode};
use govstore_core::Digest;
use govstore_core::artifact::PackageArtifact;
use govstore_core::manifest::Manifest;
use govstore_signing::simple_signing;

use crate::common::{Res, TestApp};
pub use crate::fixture::publish_specs;
use crate::fixture::{Built, Publisher, publisher, tarball, upload};

pub const CATALOGUE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../catalog-examples");

/// A page: status, headers and the body as text.
pub struct Page {
    pub res: Res,
    pub html: String,
}

impl Page {
    pub fn header(&self, name: &str) -> Option<String> {
        self.res.header(name)
    }

    /// The number of times `needle` occurs.
    pub fn count(&self, needle: &str) -> usize {
        self.html.matches(needle).count()
    }

    /// The text of the element that starts at the first `start` (e.g. `<section id="x"`)
    /// up to the next `end` (e.g. `</section>`).
    pub fn part(&self, start: &str, end: &str) -> &str {
        let i = self
            .html
            .find(start)
            .unwrap_or_else(|| panic!("no {start:?} in the page:\n{}", self.html));
        let rest = &self.html[i..];
        &rest[..rest.find(end).map_or(rest.len(), |j| j + end.len())]
    }
}

pub async fn page_with(app: &TestApp, uri: &str, headers: &[(&str, &str)]) -> Page {
    let res = app.req(Method::GET, uri, headers, axum::body::Body::empty()).await;
    let html = String::from_utf8(res.body.clone()).unwrap();
    Page { res, html }
}

/// GET `uri`, expecting `status`.
pub async fn page(app: &TestApp, uri: &str, status: StatusCode) -> Page {
    let p = page_with(app, uri, &[]).await;
    assert_eq!(p.res.status, status, "{uri}: {}", p.html);
    p
}

/// Checks every page shares: one `<h1>`, the skip link first, the header search form, a
/// `<main id="main">`, the footer's language switch, no inline script or style.
pub fn assert_layout(p: &Page, lang: &str) {
    let h = &p.html;
    assert!(h.starts_with("<!doctype html>"), "{h}");
    assert!(h.contains(&format!("<html lang=\"{lang}\">")), "{h}");
    assert_eq!(p.count("<h1"), 1, "exactly one h1: {h}");
    let body = &h[h.find("<body>").unwrap()..];
    let first_focusable = body.find("<a ").unwrap();
    assert!(
        body[first_focusable..].starts_with("<a class=\"skip-link\" href=\"#main\">"),
        "{body}"
    );
    assert!(h.contains("<form role=\"search\" action=\"/search\" method=\"get\""));
    assert!(h.contains("<label for=\"site-q\""));
    assert!(h.contains("<input id=\"site-q\" name=\"q\" type=\"search\""));
    assert!(h.contains("<main id=\"main\" tabindex=\"-1\">"));
    let footer = &h[h.find("<footer").unwrap()..];
    for code in ["en", "fr"] {
        let link = footer
            .split("<a href=\"")
            .skip(1)
            .find(|a| a.contains(&format!("hreflang=\"{code}\"")))
            .unwrap_or_else(|| panic!("no {code} link in the footer: {footer}"));
        assert!(
            link.starts_with('/') && link.split('"').next().unwrap().ends_with(&format!("lang={code}")),
            "{link}"
        );
    }
    assert!(
        !h.contains("<script") && !h.contains("style=") && !h.contains("<style"),
        "{h}"
    );
    assert_eq!(p.header("content-type").as_deref(), Some("text/html; charset=utf-8"));
    assert!(
        p.header("content-security-policy")
            .unwrap()
            .starts_with("default-src 'self'")
    );
    assert_eq!(p.header("x-content-type-options").as_deref(), Some("nosniff"));
}

/// Upload and sign a package with this manifest and README.
pub async fn build(app: &TestApp, p: &Publisher, toml: &str, readme: &str) -> Built {
    let manifest = Manifest::from_toml_str(toml).unwrap();
    let name = manifest.package.name.to_string();
    let version = manifest.package.version.to_string();
    let auth = p.auth();
    let config = upload(app, &name, &auth, manifest.canonical_json().as_bytes()).await;
    let content = upload(app, &name, &auth, &tarball(&[("deploy/values.yaml", b"replicas: 1\n")])).await;
    let readme = upload(app, &name, &auth, readme.as_bytes()).await;
    let artifact = PackageArtifact {
        name: name.clone(),
        version,
        config,
        content,
        readme: Some(readme),
        sbom: None,
    };
    let bytes = artifact.manifest_bytes();
    let digest = Digest::of(&bytes);
    let payload = simple_signing::payload(&format!("127.0.0.1:5000/{name}"), &digest);
    let signature = p.key.sign(&payload).unwrap();
    Built {
        name,
        manifest: bytes,
        digest,
        payload,
        signature,
    }
}

/// Publish a package, expecting success.
pub async fn publish(app: &TestApp, p: &Publisher, toml: &str, readme: &str) {
    let built = build(app, p, toml, readme).await;
    let res = built.publish(app, &p.auth()).await;
    assert_eq!(
        res.status,
        StatusCode::CREATED,
        "{}: {}",
        built.name,
        String::from_utf8_lossy(&res.body)
    );
}

/// Publish the specs and every package of `catalog-examples` with its own README, each
/// namespace by its own publisher. Returns the publishers by namespace.
pub async fn publish_catalogue(app: &TestApp) -> BTreeMap<String, Publisher> {
    publish_specs(app).await;
    let mut dirs: Vec<_> = std::fs::read_dir(CATALOGUE)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("govstore.toml").exists())
        .collect();
    dirs.sort();
    let mut publishers = BTreeMap::new();
    for dir in dirs {
        let text = std::fs::read_to_string(dir.join("govstore.toml")).unwrap();
        let readme = std::fs::read_to_string(dir.join("README.md")).unwrap_or_default();
        let manifest = Manifest::from_toml_str(&text).unwrap();
        let name = manifest.package.name.to_string();
        let ns = name.split_once('/').unwrap().0.to_owned();
        if !publishers.contains_key(&ns) {
            let p = publisher(app, &format!("{ns}-owner"), &ns).await;
            publishers.insert(ns.clone(), p);
        }
        publish(app, &publishers[&ns], &text, &readme).await;
    }
    publishers
}

/// A `govstore.toml` for `name` at `version` with `extra` appended.
pub fn toml(name: &str, version: &str, description: &str, extra: &str) -> String {
    format!(
        "[package]\nname = \"{name}\"\nversion = \"{version}\"\ndescription = \"{description}\"\nlicense = \"Apache-2.0\"\n{extra}"
    )
}

/// Insert one DPG listing as an import stores it (source `dpg`, collection `nominees`,
/// SDG 3, health sector, stage DPG), with the fields the tests vary; its id.
/// `licenses` and `countries` are the stored JSON arrays.
pub async fn insert_listing(
    app: &TestApp,
    source_id: &str,
    name: &str,
    description: &str,
    licenses: &str,
    countries: &str,
) -> i64 {
    use govstore_server::db::entities::listings;
    use sea_orm::Set;
    let now = govstore_server::now_ms();
    let row = listings::ActiveModel {
        source: Set("dpg".into()),
        source_id: Set(source_id.into()),
        collection: Set("nominees".into()),
        name: Set(name.into()),
        aliases: Set("[\"OCS\"]".into()),
        description: Set(description.into()),
        website: Set(Some("https://clinic.example".into())),
        licenses: Set(licenses.into()),
        sdgs: Set("[3]".into()),
        sectors: Set("[\"health\"]".into()),
        types: Set("[\"software\"]".into()),
        countries: Set(countries.into()),
        unmapped_countries: Set("[]".into()),
        repositories: Set("[\"https://github.com/example/clinic\"]".into()),
        organisations: Set("[]".into()),
        stage: Set(Some("DPG".into())),
        fingerprint: Set("x".into()),
        imported_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    govstore_server::db::listings::insert_many(&app.state.db.write, vec![row])
        .await
        .unwrap();
    let all = govstore_server::db::listings::all(&app.state.db.read).await.unwrap();
    all.iter().find(|l| l.source_id == source_id).unwrap().id
}
