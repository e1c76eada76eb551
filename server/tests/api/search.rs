//! Search over the example catalogue, published signed, plus the DPG registry extract
//! imported as listings: relevance (a table of queries and the result that must come
//! first or near it, and the repository's relevance set in [`relevance`]), titles,
//! partial matches after full ones, facet counts and filters, listings in search,
//! compliance levels, freshness after publish and yank, and a rebuild from the database
//! giving the same answers.

mod relevance;

use std::collections::BTreeMap;

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::common::{Backend, TestApp};
use crate::fixture::{Publisher, admin_token, build, get_json, post, publish_specs, publisher, tarball, toml};
use crate::on_both_backends;

on_both_backends!(
    relevance_table,
    facets_count_and_filter,
    listings_are_found_and_marked,
    compliance_facet,
    publish_and_yank_are_searchable_at_once,
    another_replica_follows_publishes_and_yanks,
    reindex_gives_the_same_answers
);

const CATALOGUE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../catalog-examples");
/// The DPG registry extract, beside the repository (`../shared/data/dpg/`).
pub const DPG: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/data/dpg/dpg-registry-2023.jsonl"
);

/// Import the DPG registry extract as `govstore-server import dpg` does, and let the
/// index follow it. Fails, rather than skips, when the extract is missing.
pub async fn import_dpg(app: &TestApp) -> govstore_server::import::Summary {
    let path = std::path::Path::new(DPG);
    assert!(
        path.exists(),
        "the DPG registry extract is missing: expected {} (../shared/data/dpg/ beside the repository)",
        path.display()
    );
    let summary = govstore_server::import::import_dpg_file(&app.state.db, path)
        .await
        .unwrap();
    assert!(app.state.search.follow_listings(&app.state.db.read).await.unwrap());
    summary
}

/// Publish every spec and every package of `catalog-examples`, each namespace by its own
/// publisher. Returns the publishers by namespace.
async fn publish_catalogue(app: &TestApp) -> BTreeMap<String, Publisher> {
    publish_specs(app).await;
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

/// (query, the result that must come first or among the first `n`, `n`). Results are
/// packages (`ns/name`) of the example catalogue and listings (by name) of the DPG
/// registry extract, searched together.
const RELEVANCE: &[(&str, &str, usize)] = &[
    // Exact full and short names; a DPG listing's name finds the package it describes
    // first, then the listing.
    ("mosip/esignet", "mosip/esignet", 1),
    ("esignet", "mosip/esignet", 1),
    ("security-server", "x-road/security-server", 1),
    ("camunda", "camunda/camunda", 1),
    ("consent", "igrant/consent", 1),
    ("keycloak", "keycloak/keycloak", 1),
    ("n8n", "n8n/n8n", 1),
    // Titles, whole or in part.
    ("Payment Hub EE", "mifos/ph-ee-govstack", 1),
    ("payment hub", "mifos/ph-ee-govstack", 1),
    ("MOSIP eSignet", "mosip/esignet", 1),
    ("Inji", "mosip/inji-wallet", 1),
    // Words written apart or joined.
    ("rapid pro", "rapidpro/rapidpro", 1),
    ("xroad", "x-road/security-server", 1),
    ("open crvs", "opencrvs/opencrvs-core", 1),
    ("sunbirdrc", "sunbird-rc/sunbird-rc-core", 1),
    ("open imis", "openimis/openimis", 1),
    ("X-Road", "x-road/security-server", 1),
    ("X-Road", "X-Road", 2),
    ("DHIS2", "dhis2/dhis2-core", 1),
    ("DHIS2", "DHIS2", 2),
    ("Apache Fineract", "apache/fineract", 1),
    ("Sunbird RC", "sunbird-rc/sunbird-rc-core", 1),
    ("Aam Digital", "Aam Digital", 1),
    ("Aajeevika", "Aajeevika", 1),
    ("Growstuff", "Growstuff", 1),
    ("Mifos Mobile", "Mifos Mobile", 1),
    // Misspellings.
    ("esignt", "mosip/esignet", 1),
    ("keycloack", "keycloak/keycloak", 1),
    ("mojalop", "mojaloop/mojaloop", 1),
    ("opencrv", "opencrvs/opencrvs-core", 1),
    ("rapidpr", "rapidpro/rapidpro", 1),
    ("Aam Digitl", "Aam Digital", 1),
    ("Aajevika", "Aajeevika", 1),
    // Prefixes.
    ("x-ro", "x-road/security-server", 1),
    ("finera", "apache/fineract", 1),
    ("dhis", "dhis2/dhis2-core", 1),
    ("inji", "mosip/inji-wallet", 1),
    // Building-block and domain words.
    ("identity", "mosip/esignet", 3),
    ("payments", "mifos/ph-ee-govstack", 3),
    // OpenHIM (a listing: "Open Health Information Mediator") may come first.
    ("information mediator", "x-road/security-server", 2),
    ("information mediation", "x-road/security-server", 3),
    ("civil registration", "opencrvs/opencrvs-core", 1),
    ("messaging", "rapidpro/rapidpro", 3),
    // Implementers of govstack/workflow first.
    ("workflow", "flowable/flowable-engine", 1),
    ("wallet", "mosip/inji-wallet", 1),
    ("zeebe", "camunda/camunda", 1),
    ("health insurance", "openimis/openimis", 1),
    // "Africa COVID-19 Response Toolkit: Awareness SMS" (a listing) may come first.
    ("sms", "rapidpro/rapidpro", 2),
    ("social registry", "openspp/openspp", 3),
    // Countries, by name and by code.
    ("Bangladesh", "opencrvs/opencrvs-core", 3),
    ("Estonia", "x-road/security-server", 3),
    ("Iraq", "openspp/openspp", 3),
    ("civil registration Bangladesh", "opencrvs/opencrvs-core", 1),
    ("payments in Tanzania", "mojaloop/mojaloop", 3),
    ("IQ", "openspp/openspp", 3),
    // Licence names.
    ("MPL-2.0", "mosip/esignet", 3),
    ("AGPL", "rapidpro/rapidpro", 3),
    ("Apache", "apache/fineract", 1),
    ("BSD", "dhis2/dhis2-core", 1),
    ("sustainable use license", "n8n/n8n", 1),
];

async fn relevance_table(b: Backend) {
    let app = TestApp::new(b).await;
    publish_catalogue(&app).await;
    let summary = import_dpg(&app).await;
    assert_eq!(summary.rows, 755);
    assert!(RELEVANCE.len() >= 30);
    let mut failures = Vec::new();
    let mut table = vec![format!(
        "{:<32} {:<28} {:>6} {:>8}",
        "query", "expected", "within", "position"
    )];
    for (q, expected, within) in RELEVANCE {
        let found = search(&app, &format!("q={}&limit=10", urlencode(q))).await;
        let got = names(&found);
        let position = got.iter().position(|n| n == expected).map(|p| p + 1);
        table.push(format!(
            "{q:<32} {expected:<28} {within:>6} {:>8}",
            position.map_or("-".to_owned(), |p| p.to_string())
        ));
        if position.is_none_or(|p| p > *within) {
            failures.push(format!(
                "{q:?}: expected {expected} within the first {within}, got {:?}",
                &got[..got.len().min(5)]
            ));
        }
    }
    eprintln!("relevance ({b:?}):\n{}", table.join("\n"));
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

    // A licence identifier puts the packages under it first, then listings under it.
    let mpl = search(&app, "q=MPL-2.0&limit=10").await;
    let kinds: Vec<(&str, &str)> = mpl["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["kind"].as_str().unwrap(), h["license"].as_str().unwrap()))
        .collect();
    assert_eq!(&kinds[..4], [("package", "MPL-2.0"); 4]);
    assert!(
        kinds[4..].iter().all(|(k, l)| *k == "listing" && l.contains("MPL-2.0")),
        "{kinds:?}"
    );

    // The hit keeps the fields the CLI reads.
    let hit = &search(&app, "q=esignet").await["results"][0];
    assert_eq!(hit["version"], json!("1.8.0"));
    assert_eq!(hit["license"], json!("MPL-2.0"));
    assert_eq!(hit["implements"], json!(["govstack/identity@1.0.2"]));
    assert_eq!(hit["yanked"], json!(false));
    assert_eq!(
        (hit["kind"].clone(), hit["installable"].clone()),
        (json!("package"), json!(true))
    );
    assert!(hit["description"].as_str().unwrap().starts_with("eSignet"));

    // The hit names the product.
    assert_eq!(hit["title"], json!("MOSIP eSignet"));
    let listing = &search(&app, "q=Aam%20Digital").await["results"][0];
    assert_eq!(listing["kind"], json!("listing"));
    assert!(listing.get("title").is_none(), "{listing}");

    // Words that do not all match: the full matches first, then the best partial ones,
    // marked, counted in the total.
    for q in ["health insurance management", "offline mobile data collection"] {
        let found = search(&app, &format!("q={}&limit=100", urlencode(q))).await;
        let hits = found["results"].as_array().unwrap();
        let full = found["full_matches"].as_u64().unwrap() as usize;
        assert!(hits.len() > full, "{q}: {full} full matches and nothing partial");
        assert!(hits[..full].iter().all(|h| h.get("partial").is_none()), "{q}");
        assert!(hits[full..].iter().all(|h| h["partial"] == json!(true)), "{q}");
        assert!(found["total"].as_u64().unwrap() as usize >= hits.len());
    }
    // openIMIS matches `health` and `insurance`, not `management`.
    let found = search(&app, "q=health%20insurance%20management&limit=100").await;
    let openimis = found["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["name"] == json!("openimis/openimis"))
        .unwrap();
    assert_eq!(openimis["partial"], json!(true));
    // Pages continue from the full matches into the partial ones.
    let all = names(&found);
    let full = found["full_matches"].as_u64().unwrap() as usize;
    let offset = full.saturating_sub(2);
    let page = names(
        &search(
            &app,
            &format!("q=health%20insurance%20management&limit=5&offset={offset}"),
        )
        .await,
    );
    assert_eq!(page, all[offset..offset + 5]);

    // Nothing matches nonsense; an empty query needs a filter.
    assert_eq!(search(&app, "q=qqqqzzzz").await["total"], json!(0));
    assert_eq!(search(&app, "q=qqqqzzzz%20xxxxwwww").await["total"], json!(0));
    assert_eq!(app.get("/api/v1/search?q=").await.status, StatusCode::BAD_REQUEST);
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
    assert_eq!(f["kind"], json!({ "package": 20 }));
    assert_eq!(f["compliance"], json!({ "none": 20 }));

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
    // The publish answers after the index has committed: the very next search finds it.
    assert_eq!(names(&search(&app, "q=resident").await), ["mosip/resident-portal"]);

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

/// With several replicas on one database, each keeps its own index: a publish or yank made
/// through one is followed by the others from the audit log (every second while serving).
async fn another_replica_follows_publishes_and_yanks(b: Backend) {
    let app = TestApp::with(b, |c| c.insecure_anonymous_push = false).await;
    let (replica, _dir) = app.replica().await;
    let follow = || async { replica.search.follow_packages(&replica.db.read).await.unwrap() };
    let find = |q: &str| {
        let req = govstore_server::search::Request {
            q: q.to_owned(),
            limit: 10,
            ..Default::default()
        };
        replica.search.search(&req).unwrap()
    };
    let p = publisher(&app, "alice", "mosip").await;
    let content = tarball(&[("deploy/values.yaml", b"replicas: 1\n")]);
    let res = build(&app, &p, &p.key, &toml("mosip/resident-portal", "1.0.0", ""), &content)
        .await
        .publish(&app, &p.auth())
        .await;
    assert_eq!(res.status, StatusCode::CREATED);
    assert_eq!(find("resident").total, 0, "the replica has not followed yet");

    assert_eq!(follow().await, 1);
    let found = find("resident");
    assert_eq!(found.hits[0]["name"], json!("mosip/resident-portal"));
    assert_eq!(found.hits[0]["yanked"], json!(false));
    assert_eq!(follow().await, 0, "a change is followed once");

    let yank = "/api/v1/packages/mosip/resident-portal/versions/1.0.0/yank";
    let reason = json!({ "reason": "broken" }).to_string();
    assert_eq!(post(&app, yank, &p.auth(), reason).await.status, StatusCode::OK);
    assert_eq!(follow().await, 1);
    assert_eq!(find("resident").hits[0]["yanked"], json!(true));
}

/// Every relevance query's answer (and all facets): total, names in order, facet counts.
async fn answers(app: &TestApp) -> Vec<String> {
    let mut out = Vec::new();
    for q in RELEVANCE
        .iter()
        .map(|(q, _, _)| format!("q={}", urlencode(q)))
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

    // An index damaged on disk (a process killed mid-write) is built again at startup,
    // rather than keeping the server from starting.
    std::fs::write(dir.join("meta.json"), "{ not json").unwrap();
    app.restart().await;
    assert_same(&answers(&app).await, &before);
}

async fn listings_are_found_and_marked(b: Backend) {
    let mut app = TestApp::new(b).await;
    publish_catalogue(&app).await;
    let summary = import_dpg(&app).await;
    // Five ids are in the extract twice (a nominee and its archived record): one listing each.
    assert_eq!((summary.rows, summary.imported, summary.updated), (755, 750, 0));
    assert_eq!(summary.superseded.len(), 5);
    assert!(summary.superseded.iter().all(|s| s.collection == "archive"));
    assert!(
        summary.unmapped_countries.is_empty(),
        "{:?}",
        summary.unmapped_countries
    );

    // A listing's hit: not installable, with the id of its page.
    let found = search(&app, "q=Aam%20Digital").await;
    let hit = &found["results"][0];
    assert_eq!(hit["name"], json!("Aam Digital"));
    assert_eq!(
        (hit["kind"].clone(), hit["installable"].clone()),
        (json!("listing"), json!(false))
    );
    assert_eq!(hit["license"], json!("GPL-3.0"));
    let id = hit["id"].as_i64().unwrap();
    let listing = govstore_server::db::listings::by_id(&app.state.db.read, id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(listing.name, "Aam Digital");
    assert_eq!(listing.stage.as_deref(), Some("DPG"));
    assert!(listing.countries.contains(&"PS".to_owned()), "{:?}", listing.countries);
    assert!(listing.countries.contains(&"TZ".to_owned()), "{:?}", listing.countries);

    // A listing that describes a catalogue package names it.
    let xroad = search(&app, "q=X-Road").await;
    let listing_hit = xroad["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["kind"] == json!("listing"))
        .unwrap();
    assert_eq!(listing_hit["see_also"], json!(["x-road/security-server"]));

    // Facets: kind and signed tell listings from packages; countries are shared.
    let all = search(&app, "kind=listing&limit=1").await;
    assert_eq!(all["total"], json!(750));
    let everything = search(&app, "q=&signed=yes").await;
    assert_eq!(everything["total"], json!(20));
    let bd = search(&app, "country=BD&limit=100").await;
    assert_eq!(bd["facets"]["kind"]["package"], json!(3));
    assert!(
        bd["facets"]["kind"]["listing"].as_u64().unwrap() > 10,
        "{}",
        bd["facets"]
    );
    let f = &search(&app, "q=health&limit=1").await["facets"];
    assert!(f["kind"]["listing"].as_u64().unwrap() > 0 && f["kind"]["package"].as_u64().unwrap() > 0);
    assert!(f["signed"]["no"].as_u64().unwrap() > 0);
    let agpl = search(&app, "license=AGPL-3.0&limit=100").await;
    assert!(agpl["total"].as_u64().unwrap() > 20);
    assert!(
        agpl["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["kind"] == json!("listing") && h["licenses"].as_array().unwrap().contains(&json!("AGPL-3.0")))
    );
    assert_eq!(search(&app, "kind=listing&compliance=level-1").await["total"], json!(0));

    // Pages of results do not overlap.
    let first = names(&search(&app, "kind=listing&limit=10").await);
    let second = names(&search(&app, "kind=listing&limit=10&offset=10").await);
    assert_eq!((first.len(), second.len()), (10, 10));
    assert!(first.iter().all(|n| !second.contains(n)));
    assert_eq!(
        app.get("/api/v1/search?kind=listing&offset=10001").await.status,
        StatusCode::BAD_REQUEST
    );

    // Re-importing the same file changes nothing, and the index is not rebuilt.
    let again = govstore_server::import::import_dpg_file(&app.state.db, std::path::Path::new(DPG))
        .await
        .unwrap();
    assert_eq!((again.imported, again.updated, again.unchanged), (0, 0, 750));
    assert!(!app.state.search.follow_listings(&app.state.db.read).await.unwrap());

    // A bad line imports nothing, not even the good lines before it.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(
        &bad,
        "{\"id\": \"brand-new\", \"name\": \"Brand New\"}\n{\"id\": \"x\", \"name\": \"X\", \"sdgs\": [40]}\n",
    )
    .unwrap();
    let err = govstore_server::import::import_dpg_file(&app.state.db, &bad)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("line 2: sdgs: 40 is not"), "{err}");
    assert_eq!(
        govstore_server::db::listings::count(&app.state.db.read).await.unwrap(),
        750
    );

    // A changed row is updated in place; a serving index follows the import.
    let changed = dir.path().join("changed.jsonl");
    std::fs::write(
        &changed,
        "{\"id\": \"aam-digital\", \"collection\": \"nominees\", \"name\": \"Aam Digital\", \"description\": \"Case management for social workers in Ruritania\", \"stage\": \"DPG\"}\n",
    )
    .unwrap();
    let update = govstore_server::import::import_dpg_file(&app.state.db, &changed)
        .await
        .unwrap();
    assert_eq!((update.updated, update.not_in_file), (1, 749));
    assert!(app.state.search.follow_listings(&app.state.db.read).await.unwrap());
    let hit = &search(&app, "q=ruritania").await["results"][0];
    assert_eq!(
        (hit["name"].clone(), hit["id"].clone()),
        (json!("Aam Digital"), json!(id))
    );

    // After a restart the index is still complete without a rebuild.
    let generation = app.state.search.generation();
    app.restart().await;
    assert_eq!(app.state.search.generation(), generation);
    assert_eq!(app.state.search.len(), 770);
    assert_eq!(search(&app, "q=ruritania").await["total"], json!(1));
}

async fn compliance_facet(b: Backend) {
    let app = TestApp::new(b).await;
    let admin = admin_token(&app).await;
    let spec = std::fs::read_to_string(format!("{CATALOGUE}/specs/identity.toml")).unwrap();
    let res = post(
        &app,
        "/api/v1/specs",
        &format!("Bearer {admin}"),
        json!({ "toml": spec }).to_string(),
    )
    .await;
    assert_eq!(res.status, StatusCode::CREATED);
    let p = publisher(&app, "alice", "acme").await;
    let content = tarball(&[("deploy/values.yaml", b"replicas: 1\n")]);
    let implements = |level: &str| {
        format!(
            "[[implements]]\nspec = \"govstack/identity\"\nversion = \"1.0.2\"\nhow = \"native\"\n\
             [implements.compliance.requirements]\nlevel = \"{level}\"\nevidence = \"https://example.org/report\"\n"
        )
    };
    for (name, extra) in [
        ("acme/id-two", implements("level-2")),
        ("acme/id-one", implements("level-1")),
        ("acme/id-none", String::new()),
    ] {
        let res = build(&app, &p, &p.key, &toml(name, "1.0.0", &extra), &content)
            .await
            .publish(&app, &p.auth())
            .await;
        assert_eq!(
            res.status,
            StatusCode::CREATED,
            "{}",
            String::from_utf8_lossy(&res.body)
        );
    }
    let all = search(&app, "q=acme").await;
    assert_eq!(
        all["facets"]["compliance"],
        json!({ "level-1": 1, "level-2": 1, "none": 1 })
    );
    assert_eq!(names(&search(&app, "compliance=level-2").await), ["acme/id-two"]);
    assert_eq!(names(&search(&app, "q=acme&compliance=none").await), ["acme/id-none"]);
    let hit = &search(&app, "q=id-one").await["results"][0];
    assert_eq!(hit["compliance"], json!("level-1"));
}
