//! The stack check page over the published example catalogue: the example stacks give
//! what `govstore_resolver::resolve` gives from the sparse index (packages, versions,
//! lockfile, report), the other implementers are listed with the resolver's reasons
//! (a yank and a licence among them, seen at once after the yank), a configured
//! `public_url` is the lockfile's source whatever `Host` the request carries, and bad
//! input gets a clear error on the form.

use axum::http::{Method, StatusCode};
use govstore_core::index::{Catalogue, PackageIndex};
use govstore_core::manifest::Url;
use govstore_core::stack::{Lockfile, Stack};
use govstore_resolver::{Resolution, ResolveOptions};
use serde_json::json;

use crate::common::{Backend, TestApp};
use crate::fixture::post;
use crate::on_both_backends;
use crate::support::{CATALOGUE, Page, assert_layout, page, publish_catalogue};

on_both_backends!(
    example_stacks_give_the_resolvers_answer,
    download_gives_the_lockfile_or_the_report,
    configured_public_url_is_the_source_whatever_the_host,
    other_candidates_carry_the_resolvers_reasons,
    bad_input_gets_a_clear_error
);

const BOUNDARY: &str = "govstore-test-boundary";

/// A multipart/form-data body of `(name, filename, bytes)` parts.
fn form(parts: &[(&str, Option<&str>, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, filename, bytes) in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        match filename {
            Some(f) => body.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: application/toml\r\n\r\n"
                )
                .as_bytes(),
            ),
            None => body.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes()),
        }
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

async fn send(app: &TestApp, uri: &str, body: Vec<u8>, extra: &[(&str, &str)]) -> Page {
    let content_type = format!("multipart/form-data; boundary={BOUNDARY}");
    let mut headers = vec![
        ("content-type", content_type.as_str()),
        ("host", "registry.example.gov"),
    ];
    headers.extend_from_slice(extra);
    let res = app.req(Method::POST, uri, &headers, body).await;
    let html = String::from_utf8_lossy(&res.body).into_owned();
    Page { res, html }
}

/// POST the form with `stack` pasted.
async fn check(app: &TestApp, stack: &str) -> Page {
    send(app, "/stack-check", form(&[("stack", None, stack.as_bytes())]), &[]).await
}

fn example(file: &str) -> String {
    std::fs::read_to_string(format!("{CATALOGUE}/{file}")).unwrap()
}

/// The catalogue as `govstore resolve` reads it: every package's sparse index document.
async fn sparse_catalogue(app: &TestApp) -> Catalogue {
    let mut names = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(CATALOGUE).unwrap() {
        let path = entry.unwrap().path().join("govstore.toml");
        if let Ok(text) = std::fs::read_to_string(path) {
            let m = govstore_core::manifest::Manifest::from_toml_str(&text).unwrap();
            names.insert(m.package.name.to_string());
        }
    }
    let mut catalogue = Catalogue::default();
    for name in names {
        let res = app.get(&format!("/api/v1/index/packages/{name}")).await;
        assert_eq!(res.status, StatusCode::OK, "{name}");
        catalogue.insert(serde_json::from_slice::<PackageIndex>(&res.body).unwrap());
    }
    catalogue
}

fn resolve(catalogue: &Catalogue, stack: &str) -> Result<Resolution, govstore_resolver::ResolveError> {
    let stack = Stack::from_toml_str(stack).unwrap();
    govstore_resolver::resolve(catalogue, &stack, &ResolveOptions::default())
}

/// `(package, version)` of each row of `<table id="fits">`.
fn fit_rows(p: &Page) -> Vec<(String, String)> {
    let table = p.part("<table id=\"fits\">", "</table>");
    let body = &table[table.find("<tbody>").unwrap()..];
    body.split("<tr>")
        .skip(1)
        .map(|row| {
            let name = between(row, "<th scope=\"row\"><a href=\"/packages/", "\"");
            let version = between(row, "<td>", "<").trim().to_owned();
            (name, version)
        })
        .collect()
}

fn between(s: &str, start: &str, end: &str) -> String {
    let i = s.find(start).unwrap_or_else(|| panic!("no {start:?} in {s}")) + start.len();
    s[i..i + s[i..].find(end).unwrap()].to_owned()
}

/// The `<li>` of `<ul id="not-fitting">` about `package` for `spec`.
fn candidate<'p>(p: &'p Page, package: &str, spec: &str) -> &'p str {
    let list = p.part("<ul id=\"not-fitting\"", "</section>");
    list.split("\n<li>\n")
        .find(|li| {
            li.starts_with(&format!(
                "<p><a href=\"/packages/{package}\">{package}</a>, for {spec}:"
            ))
        })
        .unwrap_or_else(|| panic!("{package} for {spec} is not among the other candidates:\n{list}"))
}

async fn example_stacks_give_the_resolvers_answer(b: Backend) {
    let app = TestApp::new(b).await;
    publish_catalogue(&app).await;
    let catalogue = sparse_catalogue(&app).await;

    let form_page = page(&app, "/stack-check", StatusCode::OK).await;
    assert_layout(&form_page, "en");
    let h = &form_page.html;
    assert!(
        h.contains("<form id=\"stack-form\" method=\"post\" action=\"/stack-check\" enctype=\"multipart/form-data\">")
    );
    assert!(
        h.contains("<label for=\"stack-text\">Paste your stack.toml</label>"),
        "{h}"
    );
    assert!(h.contains("<textarea id=\"stack-text\" name=\"stack\""));
    assert!(h.contains("<label for=\"stack-file\">"));
    assert!(h.contains("<input type=\"file\" id=\"stack-file\" name=\"file\" accept=\".toml\""));
    assert!(h.contains("<button type=\"submit\">Check my stack</button>"));
    assert!(h.contains("formaction=\"/stack-check/download\""));
    assert!(h.contains("<fieldset>") && h.contains("<legend>"));
    assert!(!h.contains("id=\"result\""));

    for file in ["stack-greenfield-vms.toml", "stack-xroad-mosip-kubernetes.toml"] {
        let text = example(file);
        let resolution = resolve(&catalogue, &text).unwrap_or_else(|e| panic!("{file}: {e}"));
        let p = check(&app, &text).await;
        assert_eq!(p.res.status, StatusCode::OK, "{file}: {}", p.html);
        assert_layout(&p, "en");
        assert_eq!(p.header("cache-control").as_deref(), Some("no-store"));
        let expected: Vec<(String, String)> = resolution
            .packages
            .iter()
            .map(|c| (c.name.to_string(), c.version.to_string()))
            .collect();
        assert_eq!(fit_rows(&p), expected, "{file}");
        assert!(p.html.contains("<section id=\"result\""));
        assert!(!p.html.contains("id=\"report\""));
        // The form comes back with the text (escaped).
        let first_line = text.lines().next().unwrap();
        assert!(
            p.html
                .contains(&first_line.replace('"', "&quot;").replace('\'', "&#39;")),
            "{file}"
        );
    }
    // Greenfield: the identity repository needs Kubernetes, which the stack lacks.
    let p = check(&app, &example("stack-greenfield-vms.toml")).await;
    let fits = p.part("<table id=\"fits\">", "</table>");
    assert!(fits.contains("<th scope=\"col\">Why chosen</th>"));
    assert!(fits.contains("govstack/identity 1.0.2"), "{fits}");
    assert!(
        fits.contains("implements govstack/identity 1.0.2 for the stack (^1.0)"),
        "{fits}"
    );
    let idrepo = candidate(&p, "mosip/id-repository", "govstack/identity");
    assert!(idrepo.contains("Does not fit"), "{idrepo}");
    assert!(
        idrepo.contains("needs kubernetes, which the stack does not have"),
        "{idrepo}"
    );
    // Running X-Road and MOSIP: identity is met by the running registry.
    let p = check(&app, &example("stack-xroad-mosip-kubernetes.toml")).await;
    let esignet = candidate(&p, "mosip/esignet", "govstack/identity");
    assert!(esignet.contains("Not needed"), "{esignet}");
    assert!(esignet.contains("national-id-registry"), "{esignet}");

    // No copyleft: the resolver's report, in an alert.
    let text = example("stack-no-copyleft.toml");
    let err = resolve(&catalogue, &text).unwrap_err();
    let report = err.no_solution().unwrap();
    let p = check(&app, &text).await;
    assert_eq!(p.res.status, StatusCode::OK, "{}", p.html);
    let shown = p.part("<div id=\"report\" role=\"alert\">", "</div>");
    assert!(
        shown.contains("No set of packages fits the stack Permissive licences only (KE)."),
        "{shown}"
    );
    for line in report.explanation().lines().filter(|l| !l.trim().is_empty()) {
        assert!(
            shown.contains(&format!("<p lang=\"en\">{}</p>", line.trim())),
            "{line} not in {shown}"
        );
    }
    assert!(
        shown.contains("MPL-2.0 is copyleft, which the policy denies"),
        "{shown}"
    );
    for hint in report.hints() {
        assert!(shown.contains(&format!("<li>{hint}</li>")), "{hint} not in {shown}");
    }
    assert!(!p.html.contains("<table id=\"fits\">"));
}

async fn download_gives_the_lockfile_or_the_report(b: Backend) {
    let app = TestApp::new(b).await;
    publish_catalogue(&app).await;
    let catalogue = sparse_catalogue(&app).await;

    for (file, source) in [
        ("stack-greenfield-vms.toml", "http://registry.example.gov"),
        ("stack-xroad-mosip-kubernetes.toml", "https://registry.example.gov"),
    ] {
        let text = example(file);
        let proto: &[(&str, &str)] = if source.starts_with("https") {
            &[("x-forwarded-proto", "https")]
        } else {
            &[]
        };
        let res = send(
            &app,
            "/stack-check/download",
            form(&[("stack", None, text.as_bytes())]),
            proto,
        )
        .await;
        assert_eq!(res.res.status, StatusCode::OK, "{}", res.html);
        assert_eq!(
            res.header("content-disposition").as_deref(),
            Some("attachment; filename=\"govstore.lock\"")
        );
        assert_eq!(res.header("cache-control").as_deref(), Some("no-store"));
        assert!(res.header("content-type").unwrap().starts_with("application/toml"));
        let lock = Lockfile::from_toml_str(&res.html).unwrap();
        let stack = Stack::from_toml_str(&text).unwrap();
        let url: Url = source.parse().unwrap();
        let expected = resolve(&catalogue, &text).unwrap().to_lockfile(&stack, &url);
        assert_eq!(lock, expected, "{file}");
        assert_eq!(
            res.html,
            expected.to_toml_string(),
            "{file}: the bytes govstore resolve writes"
        );
        assert!(!lock.packages.is_empty());
    }

    // The uploaded file is used when given, whatever the text area holds.
    let text = example("stack-no-copyleft.toml");
    let body = form(&[
        ("stack", None, b"not toml at all ["),
        ("file", Some("stack.toml"), text.as_bytes()),
    ]);
    let res = send(&app, "/stack-check/download", body, &[]).await;
    assert_eq!(res.res.status, StatusCode::OK, "{}", res.html);
    assert_eq!(
        res.header("content-disposition").as_deref(),
        Some("attachment; filename=\"stack-report.txt\"")
    );
    assert_eq!(res.header("content-type").as_deref(), Some("text/plain; charset=utf-8"));
    let err = resolve(&catalogue, &text).unwrap_err();
    assert_eq!(res.html, err.to_string());
    assert!(
        res.html
            .starts_with("no set of packages fits the stack \"Permissive licences only\" (KE):")
    );
}

async fn configured_public_url_is_the_source_whatever_the_host(b: Backend) {
    let app = TestApp::with(b, |c| {
        c.public_url = Some("https://Registry.Example.gov/".parse().unwrap());
    })
    .await;
    publish_catalogue(&app).await;
    let catalogue = sparse_catalogue(&app).await;

    let text = example("stack-greenfield-vms.toml");
    let content_type = format!("multipart/form-data; boundary={BOUNDARY}");
    for hostile in [
        &[("host", "evil.example")][..],
        &[("host", "evil.example"), ("x-forwarded-proto", "http")][..],
        &[("host", "evil.example:8443"), ("x-forwarded-proto", "https")][..],
        &[][..],
    ] {
        let mut headers = vec![("content-type", content_type.as_str())];
        headers.extend_from_slice(hostile);
        let res = app
            .req(
                Method::POST,
                "/stack-check/download",
                &headers,
                form(&[("stack", None, text.as_bytes())]),
            )
            .await;
        let body = String::from_utf8_lossy(&res.body).into_owned();
        assert_eq!(res.status, StatusCode::OK, "{hostile:?}: {body}");
        let lock = Lockfile::from_toml_str(&body).unwrap();
        assert!(!lock.packages.is_empty());
        for p in &lock.packages {
            assert_eq!(p.source.as_str(), "https://registry.example.gov", "{hostile:?}");
        }
        let stack = Stack::from_toml_str(&text).unwrap();
        let url: Url = "https://registry.example.gov".parse().unwrap();
        let expected = resolve(&catalogue, &text).unwrap().to_lockfile(&stack, &url);
        assert_eq!(body, expected.to_toml_string(), "{hostile:?}");
        assert!(!body.contains("evil.example"), "{hostile:?}: {body}");
    }
}

/// A Kubernetes stack that wants identity and registries, and denies the AGPL.
const K8S_STACK: &str = r#"
[stack]
country = "KE"
name = "Registries"

[infrastructure]
orchestrator = "kubernetes"

[infrastructure.platform]
kubernetes = "1.30.2"
istio = "1.22"
postgresql = "16.2"
redis = "7.2"
elasticsearch = "8.14"
keycloak = "26.0"
vault = "1.17"
minio = "2024.6"
kafka = "3.7"
java = "21"

[policy]
deny_licenses = ["AGPL-3.0-only"]

[wants]
specs = { "govstack/identity" = "^1.0", "govstack/digital-registries" = "^2.0" }
"#;

async fn other_candidates_carry_the_resolvers_reasons(b: Backend) {
    let app = TestApp::new(b).await;
    let publishers = publish_catalogue(&app).await;

    let p = check(&app, K8S_STACK).await;
    assert_eq!(p.res.status, StatusCode::OK, "{}", p.html);
    // openIMIS is AGPL: the licence policy rules it out, in the resolver's words.
    let imis = candidate(&p, "openimis/openimis", "govstack/digital-registries");
    assert!(imis.contains("Does not fit"), "{imis}");
    assert!(
        imis.contains("is licensed `AGPL-3.0-only`, which the licence policy does not allow: AGPL-3.0-only is denied"),
        "{imis}"
    );
    assert!(imis.contains("Hint: "), "{imis}");
    // Both MOSIP identity packages fit this stack; the one not chosen says why.
    let rows = fit_rows(&p);
    let chosen = if rows.iter().any(|(n, _)| n == "mosip/esignet") {
        "mosip/esignet"
    } else {
        "mosip/id-repository"
    };
    let other = if chosen == "mosip/esignet" {
        "mosip/id-repository"
    } else {
        "mosip/esignet"
    };
    let before = candidate(&p, other, "govstack/identity");
    assert!(before.contains("Fits, not preferred"), "{before}");
    assert!(before.contains(&format!("but {chosen} ")), "{before}");
    // The catalogue was read once; an unchanged catalogue is not read again.
    assert_eq!(app.state.catalogue.loads(), 1);
    assert_eq!(check(&app, K8S_STACK).await.html, p.html);
    assert_eq!(app.state.catalogue.loads(), 1);

    // Yank every version of the one not chosen: the next check says so at once.
    let owner = &publishers["mosip"];
    let catalogue = sparse_catalogue(&app).await;
    let name: govstore_core::package::PackageName = other.parse().unwrap();
    let versions: Vec<String> = catalogue.packages[&name]
        .iter()
        .map(|v| v.version.to_string())
        .collect();
    for v in &versions {
        let res = post(
            &app,
            &format!("/api/v1/packages/{other}/versions/{v}/yank"),
            &owner.auth(),
            json!({ "reason": "CVE-2026-0001" }).to_string(),
        )
        .await;
        assert_eq!(res.status, StatusCode::OK, "{}", String::from_utf8_lossy(&res.body));
    }
    let p = check(&app, K8S_STACK).await;
    assert_eq!(p.res.status, StatusCode::OK, "{}", p.html);
    assert_eq!(
        app.state.catalogue.loads(),
        2,
        "the yanks change the catalogue's generation"
    );
    let after = candidate(&p, other, "govstack/identity");
    assert!(after.contains("Does not fit"), "{after}");
    assert!(after.contains("is yanked (CVE-2026-0001)"), "{after}");
}

async fn bad_input_gets_a_clear_error(b: Backend) {
    let app = TestApp::new(b).await;

    // Not TOML: 400, the line named, in an alert, and the text shown again.
    let bad = "[stack]\ncountry = \"KE\"\nname = \"x\"\n[wants\n";
    let p = check(&app, bad).await;
    assert_eq!(p.res.status, StatusCode::BAD_REQUEST, "{}", p.html);
    assert_layout(&p, "en");
    let alert = p.part("<div id=\"stack-error\" class=\"notice\" role=\"alert\">", "</div>");
    assert!(alert.contains("line 4"), "{alert}");
    assert!(p.html.contains("[wants\n</textarea>"), "{}", p.html);
    assert_eq!(p.header("cache-control").as_deref(), Some("no-store"));

    // Valid TOML, invalid field: the field path and line.
    let p = check(&app, "[stack]\ncountry = \"ke\"\nname = \"x\"\n").await;
    assert_eq!(p.res.status, StatusCode::BAD_REQUEST);
    let alert = p.part("role=\"alert\">", "</div>");
    assert!(alert.contains("stack.country"), "{alert}");
    assert!(alert.contains("line 2"), "{alert}");

    // Too large: 413 with the limit, the text not echoed back.
    let big = format!(
        "[stack]\ncountry = \"KE\"\nname = \"x\"\n{}",
        "# padding\n".repeat(7000)
    );
    let p = check(&app, &big).await;
    assert_eq!(p.res.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", p.html);
    assert!(p.part("role=\"alert\">", "</div>").contains("64 KiB"), "{}", p.html);
    assert!(!p.html.contains("# padding"));
    // A body past the form's limit altogether.
    let huge = form(&[("stack", None, "#".repeat(400 * 1024).as_bytes())]);
    let p = send(&app, "/stack-check", huge, &[]).await;
    assert_eq!(p.res.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", p.html);
    assert!(p.html.contains("role=\"alert\""));

    // Nothing given: 400, for the page and the download.
    for uri in ["/stack-check", "/stack-check/download"] {
        let empty = form(&[("stack", None, b"  \r\n"), ("file", Some(""), b"")]);
        let p = send(&app, uri, empty, &[]).await;
        assert_eq!(p.res.status, StatusCode::BAD_REQUEST, "{uri}: {}", p.html);
        assert!(
            p.part("role=\"alert\">", "</div>")
                .contains("no stack profile was given"),
            "{}",
            p.html
        );
    }
    let p = send(&app, "/stack-check", form(&[]), &[]).await;
    assert_eq!(p.res.status, StatusCode::BAD_REQUEST);

    // Not a form at all.
    let res = app
        .req(
            Method::POST,
            "/stack-check",
            &[("content-type", "application/json")],
            "{}",
        )
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert!(String::from_utf8_lossy(&res.body).contains("multipart/form-data"));

    // A form posted from another site is refused.
    let p = send(
        &app,
        "/stack-check",
        form(&[("stack", None, b"[stack]\ncountry = \"KE\"\nname = \"x\"\n")]),
        &[("sec-fetch-site", "cross-site")],
    )
    .await;
    assert_eq!(p.res.status, StatusCode::FORBIDDEN, "{}", p.html);

    // An empty catalogue: a minimal stack resolves to nothing to install.
    let p = check(&app, "[stack]\ncountry = \"EE\"\nname = \"Estonia\"\n").await;
    assert_eq!(p.res.status, StatusCode::OK, "{}", p.html);
    assert!(p.html.contains("0 packages to install"), "{}", p.html);
}
