//! Search over the example catalogue, published signed: relevance (a table of queries and
//! the package that must come first), facet counts and filters, freshness after publish and
//! yank, and a rebuild from the database giving the same answers.

use std::collections::BTreeMap;
use std::time::Instant;

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::common::{Backend, TestApp};
use crate::fixture::{Publisher, admin_token, build, get_json, post, publisher, tarball, toml};
use crate::on_both_backends;

on_both_backends!(
    relevance_table,
    facets_count_and_filter,
    publish_and_yank_are_searchable_at_once,
    reindex_gives_the_same_answers
);

const CATALOGUE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../catalog-examples");

/// Publish every spec and every package of `catalog-examples`, each namespace by its own
/// publisher. Returns the publishers by namespace.
async fn publish_catalogue(app: &TestApp) -> BTreeMap<String, Publisher> {
    let admin = admin_token(app).await;
    let mut specs: Vec<_> = std::fs::read_dir(format!("{CATALOGUE}/specs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    specs.sort();
    for path in specs {
        let spec = std::fs::read_to_string(&path).unwrap();
        let res = post(
            app,
            "/api/v1/specs",
            &format!("Bearer {admin}"),
            json!({ "toml": spec }).to_string(),
        )
        .await;
        assert_eq!(
            res.status,
            StatusCode::CREATED,
            "{}: {}",
            path.display(),
            String::from_utf8_lossy(&res.body)
        );
    }
    let mut dirs: Vec<_> = std::fs::read_dir(CATALOGUE)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("govstore.toml").exists())
        .collect();
    dirs.sort();
    let content = tarball(&[("deploy/values.yaml", b"replicas: 1\n")]);
    let mut publishers = BTreeMap::new();
    for dir in dirs {
        let text = std::fs::read_to_string(dir.join("govstore.toml")).unwrap();
        let manifest = govstore_core::manifest::Manifest::from_toml_str(&text).unwrap();
        let name = manifest.package.name.to_string();
        let ns = name.split_once('/').unwrap().0.to_owned();
        if !publishers.contains_key(&ns) {
            let p = publisher(app, &format!("{ns}-owner"), &ns).await;
            publishers.insert(ns.clone(), p);
        }
        let p = &publishers[&ns];
        let res = build(app, p, &p.key, &text, &content)
            .await
            .publish(app, &p.auth())
            .await;
        assert_eq!(
            res.status,
            StatusCode::CREATED,
            "{name}: {}",
            String::from_utf8_lossy(&res.body)
        );
    }
    publishers
}

fn names(v: &Value) -> Vec<String> {
    v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_owned())
        .collect()
}

async fn search(app: &TestApp, query: &str) -> Value {
    get_json(app, &format!("/api/v1/search?{query}")).await
}

/// (query, the package that must come first).
const RELEVANCE: &[(&str, &str)] = &[
    // Exact full and short names.
    ("mosip/esignet", "mosip/esignet"),
    ("esignet", "mosip/esignet"),
    ("security-server", "x-road/security-server"),
    ("camunda", "camunda/camunda"),
    ("consent", "igrant/consent"),
    ("keycloak", "keycloak/keycloak"),
    ("n8n", "n8n/n8n"),
    // Misspellings.
    ("esignt", "mosip/esignet"),
    ("keycloack", "keycloak/keycloak"),
    ("mojalop", "mojaloop/mojaloop"),
    ("opencrv", "opencrvs/opencrvs-core"),
    // Prefixes.
    ("x-ro", "x-road/security-server"),
    ("finera", "apache/fineract"),
    ("dhis", "dhis2/dhis2-core"),
    ("inji", "mosip/inji-wallet"),
    // Building-block and domain words.
    ("identity", "mosip/esignet"),
    ("payments", "mifos/ph-ee-govstack"),
    ("information mediator", "x-road/security-server"),
    ("civil registration", "opencrvs/opencrvs-core"),
    ("wallet", "mosip/inji-wallet"),
    ("zeebe", "camunda/camunda"),
    ("health insurance", "openimis/openimis"),
    ("sms", "rapidpro/rapidpro"),
    // Licence names.
    ("BSD", "dhis2/dhis2-core"),
    ("sustainable use license", "n8n/n8n"),
];

async fn relevance_table(b: Backend) {
    let app = TestApp::new(b).await;
    publish_catalogue(&app).await;
    let mut failures = Vec::new();
    for (q, first) in RELEVANCE {
        let found = search(&app, &format!("q={}", urlencode(q))).await;
        let got = names(&found);
        if got.first().map(String::as_str) != Some(*first) {
            failures.push(format!(
                "{q:?}: expected {first} first, got {:?}",
                &got[..got.len().min(4)]
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} queries ranked wrong:\n{}",
        failures.len(),
        RELEVANCE.len(),
        failures.join("\n")
    );
    // One commit per publish, but merged as they come.
    assert!(
        app.state.search.segments() <= 10,
        "{} segments",
        app.state.search.segments()
    );

    // The hit keeps the fields the CLI reads.
    let hit = &search(&app, "q=esignet").await["results"][0];
    assert_eq!(hit["version"], json!("1.8.0"));
    assert_eq!(hit["license"], json!("MPL-2.0"));
    assert_eq!(hit["implements"], json!(["govstack/identity@1.0.2"]));
    assert_eq!(hit["yanked"], json!(false));
    assert!(hit["description"].as_str().unwrap().starts_with("eSignet"));

    // Nothing matches nonsense; an empty query needs a filter.
    assert_eq!(search(&app, "q=qqqqzzzz").await["total"], json!(0));
    assert_eq!(app.get("/api/v1/search?q=").await.status, StatusCode::BAD_REQUEST);

    // Time of a search over this catalogue, through the router (HTTP handling included)
    // and through the index alone.
    let n = 200;
    let start = Instant::now();
    for i in 0..n {
        let (q, _) = RELEVANCE[i % RELEVANCE.len()];
        app.get(&format!("/api/v1/search?q={}", urlencode(q))).await;
    }
    let http = start.elapsed() / n as u32;
    let start = Instant::now();
    for i in 0..n {
        let (q, _) = RELEVANCE[i % RELEVANCE.len()];
        app.state
            .search
            .search(&govstore_server::search::Request {
                q: q.to_owned(),
                limit: 20,
                filters: vec![],
            })
            .unwrap();
    }
    let index = start.elapsed() / n as u32;
    eprintln!(
        "search over the example catalogue ({b:?}): {index:?} per query in the index, {http:?} through the router"
    );
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|c| match c {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (c as char).to_string(),
            _ => format!("%{c:02X}"),
        })
        .collect()
}

async fn facets_count_and_filter(b: Backend) {
    let app = TestApp::new(b).await;
    publish_catalogue(&app).await;
    let all = search(&app, "signed=yes&limit=100").await;
    assert_eq!(all["total"], json!(20), "one document per package, not per version");
    let f = &all["facets"];
    assert_eq!(
        f["license"],
        json!({ "AGPL-3.0-only": 2, "Apache-2.0": 6, "BSD-3-Clause": 1, "LGPL-3.0-only": 2, "LicenseRef-Camunda-License": 1,
                "LicenseRef-Sustainable-Use-License": 1, "MIT": 3, "MPL-2.0": 4 })
    );
    assert_eq!(f["spec"]["govstack/identity"], json!(2));
    assert_eq!(f["spec"]["govstack/digital-registries"], json!(3));
    assert_eq!(f["spec"]["govstack/workflow"], json!(2));
    assert_eq!(f["maturity"]["mature"], json!(6));
    assert_eq!(f["country"]["BD"], json!(3));
    assert_eq!(f["sdg"]["16"], json!(8));
    assert_eq!(f["signed"], json!({ "yes": 20 }));

    // Filters narrow the results, and the counts follow them.
    let identity = search(&app, "q=mosip&spec=govstack/identity").await;
    let mut got = names(&identity);
    got.sort();
    assert_eq!(got, ["mosip/esignet", "mosip/id-repository"]);
    assert_eq!(identity["facets"]["license"], json!({ "MPL-2.0": 2 }));
    let mit_mature = search(&app, "license=MIT&maturity=mature").await;
    assert_eq!(names(&mit_mature), ["x-road/security-server"]);
    let bd = search(&app, "country=BD&q=registration").await;
    assert_eq!(names(&bd), ["opencrvs/opencrvs-core"]);
    assert_eq!(search(&app, "spec=govstack/nothing").await["total"], json!(0));
}

async fn publish_and_yank_are_searchable_at_once(b: Backend) {
    let app = TestApp::with(b, |c| c.insecure_anonymous_push = false).await;
    let p = publisher(&app, "alice", "mosip").await;
    let content = tarball(&[("deploy/values.yaml", b"replicas: 1\n")]);
    assert_eq!(search(&app, "q=resident").await["total"], json!(0));

    let start = Instant::now();
    let extra = "keywords = [\"identity\", \"self-service\"]\n";
    let res = build(
        &app,
        &p,
        &p.key,
        &toml("mosip/resident-portal", "1.0.0", extra),
        &content,
    )
    .await
    .publish(&app, &p.auth())
    .await;
    assert_eq!(res.status, StatusCode::CREATED);
    let found = search(&app, "q=resident").await;
    let elapsed = start.elapsed();
    assert_eq!(names(&found), ["mosip/resident-portal"]);
    assert!(elapsed.as_millis() < 1000, "publish to searchable took {elapsed:?}");

    // A newer version replaces the document.
    let res = build(
        &app,
        &p,
        &p.key,
        &toml("mosip/resident-portal", "1.1.0", extra),
        &content,
    )
    .await
    .publish(&app, &p.auth())
    .await;
    assert_eq!(res.status, StatusCode::CREATED);
    let hit = &search(&app, "q=resident").await["results"][0];
    assert_eq!(hit["version"], json!("1.1.0"));
    assert_eq!(search(&app, "q=resident").await["total"], json!(1));

    // Yanking the latest shows the previous one; yanking all keeps the package, marked.
    let yank = |v: &'static str| format!("/api/v1/packages/mosip/resident-portal/versions/{v}/yank");
    let reason = json!({ "reason": "broken" }).to_string();
    assert_eq!(
        post(&app, &yank("1.1.0"), &p.auth(), reason.clone()).await.status,
        StatusCode::OK
    );
    let hit = search(&app, "q=resident").await["results"][0].clone();
    assert_eq!(
        (hit["version"].clone(), hit["yanked"].clone()),
        (json!("1.0.0"), json!(false))
    );
    assert_eq!(
        post(&app, &yank("1.0.0"), &p.auth(), reason).await.status,
        StatusCode::OK
    );
    let hit = search(&app, "q=resident").await["results"][0].clone();
    assert_eq!(
        (hit["version"].clone(), hit["yanked"].clone()),
        (json!("1.1.0"), json!(true))
    );

    // Unyank brings it back.
    let unyank = "/api/v1/packages/mosip/resident-portal/versions/1.1.0/unyank";
    assert_eq!(
        post(&app, unyank, &p.auth(), String::new()).await.status,
        StatusCode::OK
    );
    let hit = search(&app, "q=resident").await["results"][0].clone();
    assert_eq!(
        (hit["version"].clone(), hit["yanked"].clone()),
        (json!("1.1.0"), json!(false))
    );
}

/// Every relevance query's answer (and all facets): total, names in order, facet counts.
async fn answers(app: &TestApp) -> Vec<String> {
    let mut out = Vec::new();
    for q in RELEVANCE
        .iter()
        .map(|(q, _)| format!("q={}", urlencode(q)))
        .chain(["signed=yes".to_owned()])
    {
        let v = search(app, &format!("{q}&limit=100")).await;
        out.push(format!("{q}: {} {:?} {}", v["total"], names(&v), v["facets"]));
    }
    out
}

fn assert_same(after: &[String], before: &[String]) {
    let diff: Vec<String> = before
        .iter()
        .zip(after)
        .filter(|(b, a)| b != a)
        .map(|(b, a)| format!("before {b}\nafter  {a}"))
        .collect();
    assert!(diff.is_empty(), "{}", diff.join("\n"));
}

async fn reindex_gives_the_same_answers(b: Backend) {
    let mut app = TestApp::new(b).await;
    publish_catalogue(&app).await;
    let before = answers(&app).await;

    // `govstore-server reindex`, then a restart.
    let n = govstore_server::search::reindex(&app.state.config.data_dir, &app.state.db.read)
        .await
        .unwrap();
    assert_eq!(n, 20);
    app.restart().await;
    assert_same(&answers(&app).await, &before);

    // An index lost, or of another schema version, is rebuilt at startup.
    let dir = app.state.config.data_dir.join("search");
    std::fs::remove_dir_all(&dir).unwrap();
    app.restart().await;
    assert_same(&answers(&app).await, &before);
    std::fs::write(dir.join("SCHEMA_VERSION"), "0").unwrap();
    app.restart().await;
    assert_eq!(
        std::fs::read_to_string(dir.join("SCHEMA_VERSION")).unwrap(),
        govstore_server::search::schema::VERSION
    );
    assert_same(&answers(&app).await, &before);
}
