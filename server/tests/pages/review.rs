//! Defects a review found, each held down: the compare page ignores the Referer, error
//! pages are not cached as fresh, the language links keep the page, paging past the last
//! page, long versions cut, bad path encoding answered with the HTML page, the search
//! forms named, and French pages French throughout.

use axum::http::StatusCode;
use govstore_web::{Catalogues, Lang};
use sea_orm::ConnectionTrait;

use crate::common::{Backend, TestApp};
use crate::fixture::publisher;
use crate::on_both_backends;
use crate::support::{assert_layout, insert_listing, page, page_with, publish, publish_specs, toml};

on_both_backends!(
    compare_ignores_the_referer,
    error_pages_are_not_cached_as_fresh,
    language_links_keep_the_page,
    paging_past_the_last_page,
    long_versions_are_cut,
    bad_path_encoding_is_a_page,
    search_forms_have_names,
    french_pages_are_french
);

const CLAIMS: &str = r#"[[implements]]
spec = "govstack/identity"
version = "1.0.2"
how = "adaptor"

[implements.compliance.interface]
level = "level-2"
evidence = "https://example.org/interface"
test_harness = { result = "passed", report = "https://example.org/harness", date = "2026-10-01" }

[implements.compliance.requirements]
level = "level-1"
evidence = "Checked by the ministry"
required = { met = 12, total = 14 }
recommended = { met = 3, total = 5 }
"#;

async fn two_packages(app: &TestApp) {
    let p = publisher(app, "acme-owner", "acme").await;
    publish(
        app,
        &p,
        &toml("acme/registry", "1.0.0", "A registry", ""),
        "# Registry\n",
    )
    .await;
    publish(app, &p, &toml("acme/portal", "2.0.0", "A portal", ""), "# Portal\n").await;
}

async fn compare_ignores_the_referer(b: Backend) {
    let app = TestApp::new(b).await;
    two_packages(&app).await;
    let referer = [("referer", "https://elsewhere.example/search?q=secret+words")];
    let ok = page_with(&app, "/compare?p=acme/registry&p=acme/portal", &referer).await;
    assert_eq!(ok.res.status, StatusCode::OK, "{}", ok.html);
    assert_eq!(ok.header("cache-control").as_deref(), Some("public, max-age=60"));
    assert!(
        ok.html.contains("<a href=\"/search\">Back to the search</a>"),
        "{}",
        ok.html
    );
    assert!(!ok.html.contains("secret"), "{}", ok.html);
    // The same page, the same body, whoever sent the visitor.
    let plain = page(&app, "/compare?p=acme/registry&p=acme/portal", StatusCode::OK).await;
    assert_eq!(ok.header("etag"), plain.header("etag"));
    let bad = page_with(&app, "/compare?p=acme/registry", &referer).await;
    assert_eq!(bad.res.status, StatusCode::BAD_REQUEST);
    assert!(bad.html.contains("<a href=\"/search\">Go back</a>"), "{}", bad.html);
    assert!(!bad.html.contains("secret"), "{}", bad.html);
}

async fn error_pages_are_not_cached_as_fresh(b: Backend) {
    let app = TestApp::new(b).await;
    two_packages(&app).await;
    let cache = |p: &crate::support::Page| p.header("cache-control").unwrap();
    let missing = page(&app, "/packages/acme/nothing", StatusCode::NOT_FOUND).await;
    assert_eq!(cache(&missing), "no-cache");
    let bad = page(&app, "/search?page=0", StatusCode::BAD_REQUEST).await;
    assert_eq!(cache(&bad), "no-cache");
    let fr = page(&app, "/packages/acme/nothing?lang=fr", StatusCode::NOT_FOUND).await;
    assert_eq!(cache(&fr), "private, no-cache");
    // A server error: a stored manifest that no longer parses.
    app.state
        .db
        .write
        .execute_unprepared("UPDATE package_versions SET config = 'not json'")
        .await
        .unwrap();
    let broken = page(&app, "/packages/acme/registry", StatusCode::INTERNAL_SERVER_ERROR).await;
    assert_layout(&broken, "en");
    assert_eq!(cache(&broken), "no-store");
    assert!(
        broken.html.contains("The server could not show this page."),
        "{}",
        broken.html
    );
    assert!(
        !broken.html.contains("not json") && !broken.html.contains("version row"),
        "{}",
        broken.html
    );
    assert_eq!(cache(&page(&app, "/", StatusCode::OK).await), "public, max-age=60");
}

/// The `href` of the footer's link to `code`.
fn lang_link(html: &str, code: &str) -> String {
    let footer = &html[html.find("<footer").unwrap()..];
    let tag = footer
        .split("<a href=\"")
        .skip(1)
        .find(|a| a.contains(&format!("hreflang=\"{code}\"")))
        .unwrap();
    tag.split('"').next().unwrap().replace("&amp;", "&")
}

async fn language_links_keep_the_page(b: Backend) {
    let app = TestApp::new(b).await;
    two_packages(&app).await;
    let p = publisher(&app, "acme-owner2", "acme2").await;
    publish(&app, &p, &toml("acme2/app", "1.0.0", "First", ""), "# App\n").await;
    publish(&app, &p, &toml("acme2/app", "2.0.0", "Second", ""), "# App\n").await;

    let search = page(&app, "/search?q=registry&kind=package", StatusCode::OK).await;
    assert_eq!(lang_link(&search.html, "fr"), "/search?q=registry&kind=package&lang=fr");
    assert_eq!(lang_link(&search.html, "en"), "/search?q=registry&kind=package&lang=en");
    // Following the link: French, the same words and filter, the same results.
    let fr = page(&app, &lang_link(&search.html, "fr"), StatusCode::OK).await;
    assert_layout(&fr, "fr");
    assert!(fr.html.contains("value=\"registry\""), "{}", fr.html);
    assert!(fr.html.contains("href=\"/packages/acme/registry\""), "{}", fr.html);
    assert_eq!(lang_link(&fr.html, "en"), "/search?q=registry&kind=package&lang=en");

    // An older version stays the version shown.
    let old = page(&app, "/packages/acme2/app?version=1.0.0&lang=en", StatusCode::OK).await;
    let to_fr = lang_link(&old.html, "fr");
    assert_eq!(to_fr, "/packages/acme2/app?version=1.0.0&lang=fr");
    let old_fr = page(&app, &to_fr, StatusCode::OK).await;
    assert!(
        old_fr
            .html
            .contains("Vous consultez la version 1.0.0, qui n&#39;est pas la dernière."),
        "{}",
        old_fr.html
    );

    // Words with spaces and symbols stay encoded; error pages link to themselves too.
    let words = page(&app, "/search?q=a+b%26c%22", StatusCode::OK).await;
    assert_eq!(lang_link(&words.html, "fr"), "/search?q=a%20b%26c%22&lang=fr");
    let missing = page(&app, "/packages/acme/nothing?lang=fr", StatusCode::NOT_FOUND).await;
    assert_eq!(lang_link(&missing.html, "en"), "/packages/acme/nothing?lang=en");
    // Never a link to another host.
    let other = page(&app, "//evil.example/x", StatusCode::NOT_FOUND).await;
    assert_eq!(lang_link(&other.html, "fr"), "/evil.example/x?lang=fr");
}

async fn paging_past_the_last_page(b: Backend) {
    let app = TestApp::new(b).await;
    two_packages(&app).await;
    let past = page(&app, "/search?q=registry&page=3", StatusCode::NOT_FOUND).await;
    assert_layout(&past, "en");
    assert!(
        past.html.contains("This search has only 1 page of results."),
        "{}",
        past.html
    );
    assert!(!past.html.contains("Page 3 of 1"), "{}", past.html);
    assert!(
        past.html.contains("<a href=\"/search?q=registry\">Go back</a>"),
        "{}",
        past.html
    );
    let fr = page_with(&app, "/search?page=2", &[("cookie", "lang=fr")]).await;
    assert_eq!(fr.res.status, StatusCode::NOT_FOUND);
    assert!(
        fr.html.contains("Cette recherche n&#39;a que 1 page de résultats."),
        "{}",
        fr.html
    );
    // No results at all: the page shows, its previous link goes to page 1, not page 2.
    let none = page(&app, "/search?q=zzzzzz&page=3", StatusCode::OK).await;
    assert!(
        none.html.contains("<a href=\"/search?q=zzzzzz\" rel=\"prev\">"),
        "{}",
        none.html
    );
    assert!(!none.html.contains("page=2"), "{}", none.html);
    page(&app, "/search?q=registry&page=1", StatusCode::OK).await;
}

async fn long_versions_are_cut(b: Backend) {
    let app = TestApp::new(b).await;
    two_packages(&app).await;
    let long = "9".repeat(3000);
    let p = page(
        &app,
        &format!("/packages/acme/registry?version={long}"),
        StatusCode::NOT_FOUND,
    )
    .await;
    let alert = p.part("<div role=\"alert\">", "</div>");
    let hundred = "9".repeat(100);
    assert!(
        alert.contains(&format!("acme/registry has no version {hundred}.")),
        "{alert}"
    );
    assert!(!alert.contains(&"9".repeat(101)), "{alert}");
}

async fn bad_path_encoding_is_a_page(b: Backend) {
    let app = TestApp::new(b).await;
    two_packages(&app).await;
    for uri in [
        "/packages/%FF/x",
        "/packages/acme/%C3%28",
        "/specs/%FF/x",
        "/listings/%FF",
        "/publishers/%FF",
        "/static/%FF",
    ] {
        let p = page(&app, uri, StatusCode::NOT_FOUND).await;
        assert_layout(&p, "en");
        assert!(
            p.html.contains("There is no page at this address."),
            "{uri}: {}",
            p.html
        );
        assert_eq!(p.header("cache-control").as_deref(), Some("no-cache"), "{uri}");
    }
    let fr = page_with(&app, "/packages/%FF/x", &[("accept-language", "fr")]).await;
    assert_layout(&fr, "fr");
    assert!(
        fr.html.contains("Il n&#39;y a pas de page à cette adresse."),
        "{}",
        fr.html
    );
}

async fn search_forms_have_names(b: Backend) {
    let app = TestApp::new(b).await;
    for (lang, site, home) in [
        ("en", "Site search", "Search the catalogue"),
        ("fr", "Recherche sur le site", "Rechercher dans le catalogue"),
    ] {
        let p = page(&app, &format!("/?lang={lang}"), StatusCode::OK).await;
        assert_eq!(p.count("role=\"search\""), 2, "{}", p.html);
        assert!(
            p.html.contains(&format!(
                "<form role=\"search\" action=\"/search\" method=\"get\" class=\"inline\" aria-label=\"{site}\">"
            )),
            "{}",
            p.html
        );
        assert!(
            p.html.contains(&format!(
                "<form role=\"search\" action=\"/search\" method=\"get\" class=\"inline\" aria-label=\"{home}\">"
            )),
            "{}",
            p.html
        );
    }
}

/// HTML-escaped as the pages escape text.
fn escaped(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

async fn french_pages_are_french(b: Backend) {
    let app = TestApp::new(b).await;
    publish_specs(&app).await;
    let p = publisher(&app, "acme-owner", "acme").await;
    publish(&app, &p, &toml("acme/id", "1.0.0", "Identity", CLAIMS), "# Id\n").await;
    publish(&app, &p, &toml("acme/portal", "2.0.0", "A portal", ""), "# Portal\n").await;
    let listing = insert_listing(
        &app,
        "dpg-1",
        "Open Clinic",
        "Clinic records.",
        "[{\"spdx\":\"GPL-3.0\"}]",
        "[\"KE\"]",
    )
    .await;
    app.state.search.rebuild(&app.state.db.read).await.unwrap();

    // Every English text without placeholders that French words differently, looked for
    // as a whole element's text or attribute value (data may hold the same words).
    let cats = Catalogues::embedded().unwrap();
    let english: Vec<(String, String)> = cats
        .keys(Lang::En)
        .filter_map(|k| {
            let en = cats.text(Lang::En, k)?;
            let fr = cats.text(Lang::Fr, k)?;
            // A word French uses too (`Source`) is no sign of English.
            let french_too = cats.keys(Lang::Fr).any(|f| cats.text(Lang::Fr, f) == Some(en));
            (en != fr && !french_too && !en.contains('{')).then(|| (k.to_owned(), escaped(en)))
        })
        .collect();
    for (uri, status) in [
        ("/".to_owned(), StatusCode::OK),
        ("/search".to_owned(), StatusCode::OK),
        ("/search?kind=listing".to_owned(), StatusCode::OK),
        ("/packages/acme/id".to_owned(), StatusCode::OK),
        ("/specs/govstack/identity".to_owned(), StatusCode::OK),
        ("/publishers/acme".to_owned(), StatusCode::OK),
        ("/compare?p=acme/id&p=acme/portal".to_owned(), StatusCode::OK),
        (format!("/listings/{listing}"), StatusCode::OK),
        ("/stack-check".to_owned(), StatusCode::OK),
        ("/packages/acme/id?version=9.9.9".to_owned(), StatusCode::NOT_FOUND),
        ("/specs/govstack/nothing".to_owned(), StatusCode::NOT_FOUND),
        ("/publishers/nobody".to_owned(), StatusCode::NOT_FOUND),
        ("/listings/999999".to_owned(), StatusCode::NOT_FOUND),
        ("/compare?p=acme/id".to_owned(), StatusCode::BAD_REQUEST),
        ("/compare?p=acme/id&p=acme/ghost".to_owned(), StatusCode::NOT_FOUND),
        ("/search?page=0".to_owned(), StatusCode::BAD_REQUEST),
        (format!("/search?spec={}", "x".repeat(101)), StatusCode::BAD_REQUEST),
    ] {
        let p = page_with(&app, &uri, &[("cookie", "lang=fr")]).await;
        assert_eq!(p.res.status, status, "{uri}: {}", p.html);
        assert_layout(&p, "fr");
        let left: Vec<&str> = english
            .iter()
            .filter(|(_, en)| p.html.contains(&format!(">{en}<")) || p.html.contains(&format!("=\"{en}\"")))
            .map(|(k, _)| k.as_str())
            .collect();
        assert!(
            left.is_empty(),
            "{uri}: English texts on a French page: {left:?}\n{}",
            p.html
        );
    }
    let id = page_with(&app, "/packages/acme/id", &[("cookie", "lang=fr")]).await;
    assert!(id.html.contains("Banc de test : réussi"), "{}", id.html);
    assert!(
        id.html
            .contains("Exigences obligatoires (REQUIRED) satisfaites : 12 sur 14"),
        "{}",
        id.html
    );
}
