//! Every page type over the example catalogue, against the page contract, and the time
//! and size of each.

use std::time::Instant;

use axum::http::StatusCode;

use crate::common::{Backend, TestApp};
use crate::fixture::{build_simple, publisher};
use crate::on_both_backends;
use crate::support::{Page, assert_layout, page, publish_catalogue};

on_both_backends!(every_page_type_follows_the_contract);

async fn every_page_type_follows_the_contract(b: Backend) {
    let app = TestApp::new(b).await;
    publish_catalogue(&app).await;
    // 20 packages in the catalogue; 5 more make a second page of results.
    let extra = publisher(&app, "extra-owner", "extra").await;
    for i in 1..=5 {
        let res = build_simple(&app, &extra, &format!("extra/block-{i}"), "1.0.0")
            .await
            .publish(&app, &extra.auth())
            .await;
        assert_eq!(res.status, StatusCode::CREATED);
    }

    // Home: the building blocks with counts, linking to their searches; recent releases.
    let home = page(&app, "/", StatusCode::OK).await;
    assert_layout(&home, "en");
    assert!(home.html.contains("<input id=\"home-q\" name=\"q\""));
    assert!(home.html.contains("<label for=\"home-q\">"));
    let blocks = home.part("<section id=\"building-blocks\"", "</section>");
    assert!(
        blocks.contains("<a href=\"/search?spec=govstack/identity\">Identity</a>"),
        "{blocks}"
    );
    // eSignet and the identity repository implement identity (inji-wallet does not).
    assert!(blocks.contains("govstack/identity · 2 packages"), "{blocks}");
    let recent = home.part("<section id=\"recent\"", "</section>");
    assert_eq!(recent.matches("<li><a href=\"/packages/").count(), 10, "{recent}");

    // Browse: everything, 20 per page, with facets, the compare form and pagination.
    let browse = page(&app, "/search", StatusCode::OK).await;
    assert_layout(&browse, "en");
    let total = 25;
    assert!(
        browse
            .html
            .contains(&format!("<h1 id=\"result-count\">{total} results</h1>")),
        "{}",
        browse.html
    );
    let results = browse.part("<ol id=\"results\"", "</ol>");
    assert_eq!(results.matches("<a class=\"result-link\"").count(), 20);
    assert!(
        browse
            .html
            .contains("<form id=\"compare-form\" action=\"/compare\" method=\"get\">")
    );
    assert!(browse.html.contains("<nav id=\"facets\" aria-label=\"Filters\">"));
    assert!(browse.html.contains("<a href=\"/search?page=2\" rel=\"next\">"));
    let second = page(&app, "/search?page=2", StatusCode::OK).await;
    assert_eq!(second.count("<a class=\"result-link\""), total - 20);
    assert!(second.html.contains("<a href=\"/search\" rel=\"prev\">"));

    // A search: the exact name first, with its checkbox and details.
    let found = page(&app, "/search?q=esignet", StatusCode::OK).await;
    let list = found.part("<ol id=\"results\"", "</ol>");
    let first = list.split("<li>\n<a class=\"result-link\"").nth(1).unwrap();
    assert!(
        first.starts_with(" href=\"/packages/mosip/esignet\">mosip/esignet</a>"),
        "{first}"
    );
    assert!(first.contains("<input type=\"checkbox\" name=\"p\" value=\"mosip/esignet\" id=\"cmp-mosip--esignet\">"));
    assert!(first.contains("<label for=\"cmp-mosip--esignet\">Compare"));
    assert!(first.contains("MPL-2.0") && first.contains("1.8.0"), "{first}");
    assert!(
        found.html.contains("value=\"esignet\""),
        "the header search keeps the words"
    );

    // A facet filter: active value marked, removable, the others still linked.
    let filtered = page(&app, "/search?q=&spec=govstack/identity", StatusCode::OK).await;
    assert!(filtered.html.contains("2 results"), "{}", filtered.html);
    assert!(
        filtered
            .html
            .contains("<a href=\"/search\" aria-current=\"true\">govstack/identity</a>")
    );
    let active = filtered.part("<ul class=\"active-filters\"", "</ul>");
    assert!(active.contains("<a href=\"/search\">remove"), "{active}");
    let licence = filtered.part("<h2>Licence</h2>", "</ul>");
    assert!(
        licence.contains("<a href=\"/search?spec=govstack/identity&amp;license=MPL-2.0\">MPL-2.0</a>"),
        "{licence}"
    );
    let country = page(&app, "/search?country=EE", StatusCode::OK).await;
    assert!(country.html.contains("Estonia (EE)"), "{}", country.html);

    // Package page: every section of the contract.
    let pkg = page(&app, "/packages/mosip/esignet", StatusCode::OK).await;
    assert_layout(&pkg, "en");
    assert!(pkg.html.contains("<h1>mosip/esignet</h1>"));
    for id in [
        "install",
        "signature",
        "readme",
        "versions",
        "specs",
        "requirements",
        "dependents",
        "downloads",
    ] {
        assert!(pkg.html.contains(&format!("<section id=\"{id}\"")), "section {id}");
    }
    assert!(
        pkg.part("<section id=\"install\"", "</section>")
            .contains("<code>govstore verify mosip/esignet@1.8.0</code>")
    );
    let sig = pkg.part("<section id=\"signature\"", "</section>");
    assert!(
        sig.contains("<code>sha256:") && sig.contains("href=\"/publishers/mosip\""),
        "{sig}"
    );
    let readme = pkg.part("<section id=\"readme\"", "</section>");
    assert!(
        readme.contains("<h3>mosip/esignet 1.8.0</h3>"),
        "README h1 becomes h3: {readme}"
    );
    assert!(
        readme.contains("<a href=\"https://github.com/mosip/esignet\">"),
        "{readme}"
    );
    let versions = pkg.part("<section id=\"versions\"", "</section>");
    assert!(versions.contains("<strong aria-current=\"page\">1.8.0</strong>"));
    assert!(
        versions.contains("<a href=\"/packages/mosip/esignet?version=1.7.1\">1.7.1</a>"),
        "{versions}"
    );
    let specs = pkg.part("<section id=\"specs\"", "</section>");
    assert!(
        specs.contains("<a href=\"/specs/govstack/identity\">Identity</a> 1.0.2"),
        "{specs}"
    );
    let reqs = pkg.part("<section id=\"requirements\"", "</section>");
    assert!(
        reqs.contains("govstack/information-mediator") && reqs.contains("postgresql"),
        "{reqs}"
    );
    assert!(pkg.html.contains("<dd id=\"license\">MPL-2.0</dd>"));
    assert!(
        pkg.part("<section id=\"downloads\"", "</section>")
            .contains("No downloads recorded yet.")
    );
    let older = page(&app, "/packages/mosip/esignet?version=1.7.1", StatusCode::OK).await;
    assert!(older.html.contains("not the latest"), "{}", older.html);

    // Spec page: versions and implementations.
    let spec = page(&app, "/specs/govstack/identity", StatusCode::OK).await;
    assert_layout(&spec, "en");
    assert!(
        spec.html
            .contains("<a href=\"/packages/mosip/esignet?version=1.8.0\">mosip/esignet 1.8.0</a>")
    );
    assert!(spec.html.contains("Packages implementing version 1.0.2"));

    // Publisher page: packages and keys.
    let publ = page(&app, "/publishers/mosip", StatusCode::OK).await;
    assert_layout(&publ, "en");
    assert!(publ.html.contains("<h1>mosip</h1>"));
    assert!(
        publ.html
            .contains("<a href=\"/packages/mosip/esignet\">mosip/esignet</a> 1.8.0")
    );
    assert!(
        publ.part("<section id=\"keys\"", "</section>")
            .contains("<code>sha256:")
    );

    // Compare: one column per package, the contract's rows.
    let cmp = page(
        &app,
        "/compare?p=mosip/esignet&p=x-road%2Fsecurity-server&p=openspp/openspp",
        StatusCode::OK,
    )
    .await;
    assert_layout(&cmp, "en");
    let table = cmp.part("<table id=\"compare\">", "</table>");
    assert_eq!(table.matches("<th scope=\"col\">").count(), 3, "{table}");
    for row in [
        "Latest version",
        "Licence",
        "Maturity",
        "Specifications and compliance",
        "Requirements",
        "Platform",
        "Deployed in",
        "Signed",
        "Downloads",
    ] {
        assert!(
            table.contains(&format!("<th scope=\"row\">{row}</th>")),
            "row {row}: {table}"
        );
    }

    // The stylesheet the pages link, cached for a year.
    let css_href = {
        let i = home.html.find("<link rel=\"stylesheet\" href=\"").unwrap() + 29;
        home.html[i..i + home.html[i..].find('"').unwrap()].to_owned()
    };
    let css = page(&app, &css_href, StatusCode::OK).await;
    assert_eq!(
        css.header("cache-control").as_deref(),
        Some("public, max-age=31536000, immutable")
    );
    assert_eq!(css.header("content-type").as_deref(), Some("text/css; charset=utf-8"));
    assert_eq!(
        page(&app, "/static/app.css", StatusCode::NOT_FOUND).await.res.status,
        StatusCode::NOT_FOUND
    );

    report(&app, b, &css, &pkg).await;
}

/// Server time per page type through the router (mean of 20 after a warm-up) and the
/// package page's size with the stylesheet; printed for the benchmark notes.
async fn report(app: &TestApp, b: Backend, css: &Page, pkg: &Page) {
    let mut lines = Vec::new();
    for uri in [
        "/",
        "/search",
        "/search?q=identity&license=MPL-2.0",
        "/packages/mosip/esignet",
        "/specs/govstack/identity",
        "/publishers/mosip",
        "/compare?p=mosip/esignet&p=x-road/security-server",
    ] {
        app.get(uri).await;
        let n = 20;
        let start = Instant::now();
        for _ in 0..n {
            assert_eq!(app.get(uri).await.status, StatusCode::OK);
        }
        lines.push(format!("{uri}: {:?}", start.elapsed() / n));
    }
    let size = pkg.html.len() + css.html.len();
    eprintln!(
        "page render times ({b:?}, this build):\n  {}\npackage page {} B + stylesheet {} B = {} B",
        lines.join("\n  "),
        pkg.html.len(),
        css.html.len(),
        size
    );
    assert!(size < 60 * 1024, "package page and stylesheet are {size} bytes");
}
