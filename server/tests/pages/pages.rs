//! Errors as pages, caching, languages, the README sanitiser, escaping, compliance
//! claims, dependents, downloads and listings.

use axum::http::StatusCode;

use crate::common::{Backend, TestApp};
use crate::fixture::publisher;
use crate::on_both_backends;
use crate::support::{assert_layout, insert_listing, page, page_with, publish, publish_specs, toml};

on_both_backends!(
    errors_are_pages,
    etags_and_caching,
    language_negotiation,
    readme_and_fields_are_safe,
    claims_dependents_and_downloads,
    listings_are_not_installable
);

const HOSTILE_README: &str = "# Hostile\n\n<script>alert('readme')</script>\n\n\
[click me](javascript:alert(1)) and [data](data:text/html;base64,PHNjcmlwdD4=)\n\n\
<img src=x onerror=alert(2)>\n\n![pixel](https://tracker.example/p.gif)\n\n[ok](https://example.org/docs)\n";

async fn one_package(app: &TestApp) {
    let p = publisher(app, "acme-owner", "acme").await;
    publish(
        app,
        &p,
        &toml(
            "acme/registry",
            "1.0.0",
            "A registry with <b>bold</b> claims & \\\"quotes\\\"",
            "",
        ),
        HOSTILE_README,
    )
    .await;
}

async fn errors_are_pages(b: Backend) {
    let app = TestApp::new(b).await;
    one_package(&app).await;
    for (uri, text) in [
        ("/packages/acme/nothing", "There is no package called acme/nothing."),
        (
            "/packages/acme/registry?version=9.9.9",
            "acme/registry has no version 9.9.9.",
        ),
        (
            "/specs/govstack/nothing",
            "There is no specification called govstack/nothing.",
        ),
        ("/publishers/nobody", "There is no publisher called nobody."),
        ("/listings/12345", "There is no listing 12345."),
        ("/listings/not-a-number", "There is no listing not-a-number."),
        ("/no/such/page", "There is no page at this address."),
    ] {
        let p = page(&app, uri, StatusCode::NOT_FOUND).await;
        assert_layout(&p, "en");
        assert!(p.html.contains("<h1>Not found</h1>"), "{uri}: {}", p.html);
        assert!(p.html.contains(text), "{uri}: {}", p.html);
        assert!(p.html.contains("role=\"alert\""));
    }
    // The API keeps its JSON 404.
    let api = app.get("/api/v1/nothing").await;
    assert_eq!(api.status, StatusCode::NOT_FOUND);
    assert_eq!(api.code(), "NOT_FOUND");

    // Compare needs 2 to 4 known packages.
    for (uri, status, text) in [
        (
            "/compare",
            StatusCode::BAD_REQUEST,
            "Choose 2 to 4 packages to compare; 0 given.",
        ),
        ("/compare?p=acme/registry", StatusCode::BAD_REQUEST, "1 given"),
        (
            "/compare?p=acme/registry&p=acme/registry",
            StatusCode::BAD_REQUEST,
            "1 given",
        ),
        (
            "/compare?p=a/a&p=b/b&p=c/c&p=d/d&p=e/e",
            StatusCode::BAD_REQUEST,
            "5 given",
        ),
        (
            "/compare?p=acme/registry&p=acme/ghost",
            StatusCode::NOT_FOUND,
            "There is no package called acme/ghost to compare.",
        ),
    ] {
        let p = page(&app, uri, status).await;
        assert!(p.html.contains(text), "{uri}: {}", p.html);
        assert!(p.html.contains("<a href=\"/search\">Go back</a>"), "{uri}: {}", p.html);
    }

    // Searches: words over 100 characters, bad page numbers.
    let long = "x".repeat(101);
    let p = page(&app, &format!("/search?q={long}"), StatusCode::BAD_REQUEST).await;
    assert!(
        p.html.contains("The search is too long: use at most 100 characters."),
        "{}",
        p.html
    );
    assert_eq!(
        page(&app, &format!("/search?q={}", "x".repeat(100)), StatusCode::OK)
            .await
            .res
            .status,
        StatusCode::OK
    );
    let p = page(&app, "/search?page=0", StatusCode::BAD_REQUEST).await;
    assert!(p.html.contains("The page must be a number from 1 to 500."));
    page(&app, "/search?page=abc", StatusCode::BAD_REQUEST).await;
    let p = page(
        &app,
        &format!("/search?q=a&x={}", "y".repeat(5000)),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(p.html.contains("The address is too long"));
}

async fn etags_and_caching(b: Backend) {
    let app = TestApp::new(b).await;
    one_package(&app).await;
    for uri in ["/", "/search?q=registry", "/packages/acme/registry", "/publishers/acme"] {
        let p = page(&app, uri, StatusCode::OK).await;
        let etag = p.header("etag").unwrap();
        assert!(etag.starts_with('"') && etag.len() == 34, "{etag}");
        assert_eq!(p.header("cache-control").as_deref(), Some("public, max-age=60"));
        assert_eq!(p.header("vary").as_deref(), Some("Accept-Language, Cookie"));
        let again = page_with(&app, uri, &[("if-none-match", &etag)]).await;
        assert_eq!(again.res.status, StatusCode::NOT_MODIFIED, "{uri}");
        assert!(again.html.is_empty());
        assert_eq!(again.header("etag").as_deref(), Some(etag.as_str()));
        let other = page_with(&app, uri, &[("if-none-match", "\"0000\"")]).await;
        assert_eq!(other.res.status, StatusCode::OK);
        // Another language is another body, so another tag.
        let fr = page_with(&app, uri, &[("accept-language", "fr")]).await;
        assert_ne!(fr.header("etag").unwrap(), etag);
    }
    // Errors are not cached as fresh pages, but carry the same headers.
    let missing = page(&app, "/packages/acme/nothing", StatusCode::NOT_FOUND).await;
    let etag = missing.header("etag").unwrap();
    let again = page_with(&app, "/packages/acme/nothing", &[("if-none-match", &etag)]).await;
    assert_eq!(again.res.status, StatusCode::NOT_FOUND);
}

async fn language_negotiation(b: Backend) {
    let app = TestApp::new(b).await;
    one_package(&app).await;
    let en = page(&app, "/", StatusCode::OK).await;
    assert_layout(&en, "en");
    assert!(en.html.contains("Skip to content"));
    assert!(en.header("set-cookie").is_none());

    // ?lang=fr: French, remembered in a cookie, not shared by caches.
    let fr = page(&app, "/?lang=fr", StatusCode::OK).await;
    assert_layout(&fr, "fr");
    assert!(fr.html.contains("Aller au contenu"));
    assert!(
        fr.html
            .contains("<a href=\"/?lang=fr\" hreflang=\"fr\" lang=\"fr\" aria-current=\"true\">")
    );
    let cookie = fr.header("set-cookie").unwrap();
    assert!(
        cookie.starts_with("lang=fr;") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(fr.header("cache-control").unwrap().starts_with("private"));

    // The cookie, then Accept-Language, decide without the parameter; the parameter wins.
    let by_cookie = page_with(&app, "/search", &[("cookie", "theme=dark; lang=fr")]).await;
    assert_layout(&by_cookie, "fr");
    assert!(by_cookie.html.contains("résultat"), "{}", by_cookie.html);
    let by_header = page_with(
        &app,
        "/packages/acme/registry",
        &[("accept-language", "fr-CA,fr;q=0.9,en;q=0.5")],
    )
    .await;
    assert_layout(&by_header, "fr");
    assert!(by_header.html.contains("Installer") && by_header.html.contains("Téléchargements"));
    let query_wins = page_with(&app, "/?lang=en", &[("cookie", "lang=fr"), ("accept-language", "fr")]).await;
    assert_layout(&query_wins, "en");
    let unknown = page_with(&app, "/", &[("accept-language", "de-DE, sw;q=0.8")]).await;
    assert_layout(&unknown, "en");
    // Every page is French throughout, the publisher's too.
    let spec_fr = page_with(&app, "/publishers/acme", &[("cookie", "lang=fr")]).await;
    assert_layout(&spec_fr, "fr");
    assert!(spec_fr.html.contains("Clés de signature"), "{}", spec_fr.html);
    assert!(!spec_fr.html.contains("Signing keys"), "{}", spec_fr.html);
    // Error pages are translated too.
    let missing = page_with(&app, "/packages/acme/nothing", &[("cookie", "lang=fr")]).await;
    assert_eq!(missing.res.status, StatusCode::NOT_FOUND);
    assert!(
        missing.html.contains("Aucun paquet ne s&#39;appelle acme/nothing."),
        "{}",
        missing.html
    );
}

async fn readme_and_fields_are_safe(b: Backend) {
    let app = TestApp::new(b).await;
    one_package(&app).await;
    let p = page(&app, "/packages/acme/registry", StatusCode::OK).await;
    assert_layout(&p, "en");
    let readme = p.part("<section id=\"readme\"", "</section>");
    assert!(!readme.contains("<script"), "{readme}");
    assert!(!readme.to_lowercase().contains("javascript:"), "{readme}");
    assert!(!readme.contains("data:text"), "{readme}");
    assert!(!readme.contains("<img"), "{readme}");
    assert!(readme.contains("&lt;script&gt;alert("), "shown as text: {readme}");
    assert!(
        readme.contains("click me") && !readme.contains("href=\"javascript"),
        "{readme}"
    );
    assert!(
        readme.contains("<a href=\"https://tracker.example/p.gif\">pixel</a>"),
        "{readme}"
    );
    assert!(
        readme.contains("<a href=\"https://example.org/docs\">ok</a>"),
        "{readme}"
    );
    assert!(readme.contains("<h3>Hostile</h3>"));
    // The description is the publisher's text: escaped everywhere it appears.
    for uri in ["/packages/acme/registry", "/search?q=registry", "/", "/publishers/acme"] {
        let p = page(&app, uri, StatusCode::OK).await;
        assert!(!p.html.contains("<b>bold</b>"), "{uri}");
        assert!(
            p.html
                .contains("&lt;b&gt;bold&lt;/b&gt; claims &amp; &quot;quotes&quot;"),
            "{uri}: {}",
            p.html
        );
    }
    // Words typed into the search come back escaped.
    let p = page(&app, "/search?q=%3Cscript%3Ex%3C%2Fscript%3E", StatusCode::OK).await;
    assert!(!p.html.contains("<script>x"), "{}", p.html);
    assert!(p.html.contains("&lt;script&gt;x&lt;/script&gt;"));
}

const CLAIMS: &str = r#"[[implements]]
spec = "govstack/identity"
version = "1.0.2"
how = "adaptor"

[implements.compliance.deployment]
level = "level-1"
evidence = "https://example.org/deployment-report"

[implements.compliance.interface]
level = "level-2"
evidence = "Checked by the ministry's test lab"
test_harness = { result = "passed", report = "https://example.org/harness", date = "2026-10-01" }

[implements.compliance.requirements]
level = "level-1"
evidence = "https://example.org/requirements"
required = { met = 12, total = 14 }
"#;

async fn claims_dependents_and_downloads(b: Backend) {
    let app = TestApp::new(b).await;
    publish_specs(&app).await;
    let p = publisher(&app, "acme-owner", "acme").await;
    publish(&app, &p, &toml("acme/id", "1.0.0", "Identity", CLAIMS), "# id\n").await;
    let needs = "[requires.packages]\n\"acme/id\" = \"^1.0\"\n";
    publish(&app, &p, &toml("acme/portal", "2.0.0", "A portal", needs), "# portal\n").await;
    // An older version requiring it does not count: only the latest does.
    publish(&app, &p, &toml("acme/kiosk", "1.0.0", "A kiosk", needs), "# kiosk\n").await;
    publish(&app, &p, &toml("acme/kiosk", "2.0.0", "A kiosk", ""), "# kiosk\n").await;

    let page_ = page(&app, "/packages/acme/id", StatusCode::OK).await;
    let specs = page_.part("<section id=\"specs\"", "</section>");
    assert!(specs.contains("How: adaptor"), "{specs}");
    assert!(specs.contains("<dt>Deployment compliance</dt>\n<dd>Level 1 · <a href=\"https://example.org/deployment-report\">evidence</a>"), "{specs}");
    assert!(
        specs.contains("Level 2 · Checked by the ministry&#39;s test lab"),
        "{specs}"
    );
    assert!(
        specs.contains("Test harness: passed (2026-10-01) · <a href=\"https://example.org/harness\">report</a>"),
        "{specs}"
    );
    assert!(specs.contains("REQUIRED met: 12 of 14"), "{specs}");
    insta::assert_snapshot!("package_outline", outline(&page_.html));
    let deps = page_.part("<section id=\"dependents\"", "</section>");
    assert!(
        deps.contains("<a href=\"/packages/acme/portal\">acme/portal</a> 2.0.0 <code>^1.0</code>"),
        "{deps}"
    );
    assert!(!deps.contains("acme/kiosk"), "{deps}");
    let reqs = page(&app, "/packages/acme/portal", StatusCode::OK).await;
    assert!(
        reqs.part("<section id=\"requirements\"", "</section>")
            .contains("<a href=\"/packages/acme/id\">acme/id</a> <code>^1.0</code>")
    );

    // The spec page shows the levels per implementation.
    let spec = page(&app, "/specs/govstack/identity", StatusCode::OK).await;
    let row = spec.part("<a href=\"/packages/acme/id?version=1.0.0\">", "</tr>");
    assert!(
        row.contains("<td>adaptor</td><td>Level 1</td><td>Level 2</td><td>Level 1</td>"),
        "{row}"
    );

    // A download of the content layer shows on the package page and in compare.
    let info = app.get("/api/v1/packages/acme/id/versions/1.0.0").await.json();
    let digest = info["digest"].as_str().unwrap();
    let manifest = app.get(&format!("/v2/acme/id/manifests/{digest}")).await.json();
    let content = manifest["layers"][0]["digest"].as_str().unwrap();
    for _ in 0..3 {
        assert_eq!(
            app.get(&format!("/v2/acme/id/blobs/{content}")).await.status,
            StatusCode::OK
        );
    }
    // Downloads are tallied in memory and written every few seconds; write them now.
    assert_eq!(app.state.downloads.flush(&app.state.db.write).await.unwrap(), 3);
    let page_ = page(&app, "/packages/acme/id", StatusCode::OK).await;
    let downloads = page_.part("<section id=\"downloads\"", "</section>");
    assert!(downloads.contains("3 downloads in all"), "{downloads}");
    assert!(downloads.contains("<tr><td>1.0.0</td><td>3</td></tr>"), "{downloads}");
    let cmp = page(&app, "/compare?p=acme/id&p=acme/portal", StatusCode::OK).await;
    let specs = cmp.part("<th scope=\"row\">Specifications and compliance</th>", "</tr>");
    assert!(
        specs.contains("Deployment compliance: Level 1<br>Interface compliance: Level 2"),
        "{specs}"
    );
    let row = cmp.part("<th scope=\"row\">Downloads</th>", "</tr>");
    assert_eq!(row, "<th scope=\"row\">Downloads</th><td>3</td><td>0</td></tr>");

    // A yanked version says so, with its reason, on its page and in the versions table.
    let res = crate::fixture::post(
        &app,
        "/api/v1/packages/acme/kiosk/versions/2.0.0/yank",
        &p.auth(),
        serde_json::json!({ "reason": "breaks <printers>" }).to_string(),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK);
    let kiosk = page(&app, "/packages/acme/kiosk?version=2.0.0", StatusCode::OK).await;
    assert!(kiosk.html.contains("Version 2.0.0 is yanked."), "{}", kiosk.html);
    assert!(kiosk.html.contains("Reason: breaks &lt;printers&gt;"));
    let versions = kiosk.part("<section id=\"versions\"", "</section>");
    assert!(versions.contains("Yanked</span> breaks &lt;printers&gt;"), "{versions}");
}

async fn listings_are_not_installable(b: Backend) {
    let app = TestApp::new(b).await;
    let id = insert_listing(
        &app,
        "dpg-123",
        "Open Clinic <Suite>",
        "Clinic records for health centres.",
        "[{\"spdx\":\"GPL-3.0\",\"url\":\"javascript:alert(1)\"}]",
        "[\"KE\",\"UG\"]",
    )
    .await;
    let p = page(&app, &format!("/listings/{id}"), StatusCode::OK).await;
    assert_layout(&p, "en");
    assert!(p.html.contains("<h1>Open Clinic &lt;Suite&gt;</h1>"));
    assert!(
        p.html
            .contains("Not installable: listed from the Digital Public Goods registry")
    );
    assert!(p.html.contains("<a href=\"https://clinic.example\">"));
    assert!(p.html.contains("<a href=\"https://github.com/example/clinic\">"));
    assert!(p.html.contains("Kenya, Uganda"), "{}", p.html);
    assert!(
        p.html.contains("GPL-3.0") && !p.html.contains("javascript:"),
        "{}",
        p.html
    );

    // In search: linked to its page, marked, without a compare checkbox; a facet value.
    one_package(&app).await;
    app.state.search.rebuild(&app.state.db.read).await.unwrap();
    let all = page(&app, "/search", StatusCode::OK).await;
    assert!(
        all.html
            .contains("<a href=\"/search?kind=listing\">DPG registry listing</a>"),
        "{}",
        all.html
    );
    let found = page(&app, "/search?q=clinic", StatusCode::OK).await;
    let results = found.part("<ol id=\"results\"", "</ol>");
    assert!(
        results.contains(&format!(
            "<a class=\"result-link\" href=\"/listings/{id}\">Open Clinic &lt;Suite&gt;</a>"
        )),
        "{results}"
    );
    assert!(
        results.contains("<span class=\"badge warn\">Not installable</span>"),
        "{results}"
    );
    assert!(!results.contains("type=\"checkbox\""), "{results}");
}

/// The page's landmarks, sections and headings in order, one a line, indented by level:
/// the structure assistive technology navigates by.
fn outline(html: &str) -> String {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        let tag: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
        let end = rest.find('>').unwrap_or(rest.len());
        let attrs = &rest[tag.len()..end];
        let id = attrs
            .split("id=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .map(|id| format!("#{id}"))
            .unwrap_or_default();
        match tag.as_str() {
            "header" | "main" | "footer" | "nav" | "section" | "table" | "form" => out.push(format!("{tag}{id}")),
            "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => {
                let inner = &rest[end + 1..rest.find(&format!("</{tag}>")).unwrap_or(rest.len())];
                let level: usize = tag[1..].parse().unwrap();
                let text: String = inner
                    .split('<')
                    .map(|part| part.split_once('>').map_or(part, |(_, t)| t))
                    .collect();
                let text = text.trim();
                out.push(format!("{}{tag} {text}", "  ".repeat(level - 1)));
            }
            _ => {}
        }
    }
    out.join("\n")
}
