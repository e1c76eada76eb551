//! Downloads: a GET answering the whole of a package version's content layer (a 200 or
//! a range covering every byte) counts once for that version and day (through the OCI
//! API and through `govstore install`'s fetch); HEAD, partial ranges (one-byte probes,
//! resumes), other blobs and other repositories do not count. Requests only add to an
//! in-memory tally, bounded in keys, that reaches the database at a flush. Download
//! totals lift a package in search without beating an exact name. The migration's
//! backfill finds the content layer of versions published before it.

use std::collections::HashMap;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use govstore_migrations::{Migrator, MigratorTrait};
use govstore_server::db::downloads;
use serde_json::Value;
use tower::ServiceExt;

use crate::common::{Backend, TestApp};
use crate::fixture::{Built, Publisher, build, get_json, publisher, tarball, toml};
use crate::on_both_backends;

on_both_backends!(
    pulls_are_counted_per_version_and_day,
    probes_and_partial_ranges_do_not_count,
    the_tally_is_bounded,
    a_flood_is_one_write,
    downloads_lift_ranking_mildly,
    backfill_finds_content_layers
);

/// The content layer's digest of a built package.
fn content_digest(b: &Built) -> String {
    let m: Value = serde_json::from_slice(&b.manifest).unwrap();
    m["layers"][0]["digest"].as_str().unwrap().to_owned()
}

/// The content layer's size of a built package.
fn content_size(b: &Built) -> u64 {
    let m: Value = serde_json::from_slice(&b.manifest).unwrap();
    m["layers"][0]["size"].as_u64().unwrap()
}

fn config_digest(b: &Built) -> String {
    let m: Value = serde_json::from_slice(&b.manifest).unwrap();
    m["config"]["digest"].as_str().unwrap().to_owned()
}

/// A values file that compresses badly, so the content layer is a few hundred bytes.
fn values(seed: &str) -> Vec<u8> {
    (0..16)
        .map(|i| format!("k{i}: {}\n", govstore_core::Digest::of(format!("{seed}{i}").as_bytes())))
        .collect::<String>()
        .into_bytes()
}

async fn publish(app: &TestApp, p: &Publisher, name: &str, version: &str, extra: &str, file: &[u8]) -> Built {
    let built = build(
        app,
        p,
        &p.key,
        &toml(name, version, extra),
        &tarball(&[("deploy/values.yaml", file)]),
    )
    .await;
    let res = built.publish(app, &p.auth()).await;
    assert_eq!(
        res.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&res.body)
    );
    built
}

async fn pull(app: &TestApp, method: Method, repo: &str, digest: &str, range: Option<&str>) -> StatusCode {
    let mut headers = vec![];
    if let Some(r) = range {
        headers.push(("range", r));
    }
    app.req(method, &format!("/v2/{repo}/blobs/{digest}"), &headers, Body::empty())
        .await
        .status
}

/// Write the tally, as the server does every few seconds; returns the downloads written.
async fn flush(app: &TestApp) -> u64 {
    app.state.downloads.flush(&app.state.db.write).await.unwrap()
}

/// Every download row's count, summed: what the database holds, whatever the package.
async fn stored(app: &TestApp) -> u64 {
    downloads::totals_by_package(&app.state.db.read)
        .await
        .unwrap()
        .values()
        .sum()
}

async fn package_id(app: &TestApp, name: &str) -> i64 {
    govstore_server::db::packages::find(&app.state.db.read, name)
        .await
        .unwrap()
        .unwrap()
        .id
}

async fn version_id(app: &TestApp, package: i64, version: &str) -> i64 {
    govstore_server::db::packages::version(&app.state.db.read, package, version)
        .await
        .unwrap()
        .unwrap()
        .id
}

async fn pulls_are_counted_per_version_and_day(b: Backend) {
    let app = TestApp::new(b).await;
    let p = publisher(&app, "alice", "mosip").await;
    let v1 = publish(&app, &p, "mosip/thing", "1.0.0", "", &values("one")).await;
    let v2 = publish(&app, &p, "mosip/thing", "1.1.0", "", &values("two")).await;
    let repo = "mosip/thing";
    let (c1, c2) = (content_digest(&v1), content_digest(&v2));
    let size = content_size(&v1);

    // Not downloads of a version: the config blob, a blob of a plain OCI repository, an
    // unknown blob.
    assert_eq!(
        pull(&app, Method::GET, repo, &config_digest(&v1), None).await,
        StatusCode::OK
    );
    let plain = app.push_blob("plain/repo", b"not a package").await;
    assert_eq!(
        pull(&app, Method::GET, "plain/repo", &plain, None).await,
        StatusCode::OK
    );
    let unknown = govstore_core::Digest::of(b"nothing").to_string();
    assert_eq!(
        pull(&app, Method::GET, repo, &unknown, None).await,
        StatusCode::NOT_FOUND
    );

    // Downloads: whole GETs, and ranges that cover the whole blob.
    for _ in 0..2 {
        assert_eq!(pull(&app, Method::GET, repo, &c1, None).await, StatusCode::OK);
    }
    let whole = format!("bytes=0-{}", size - 1);
    assert_eq!(
        pull(&app, Method::GET, repo, &c1, Some(&whole)).await,
        StatusCode::PARTIAL_CONTENT
    );
    assert_eq!(
        pull(&app, Method::GET, repo, &c1, Some("bytes=0-")).await,
        StatusCode::PARTIAL_CONTENT
    );
    assert_eq!(pull(&app, Method::GET, repo, &c2, None).await, StatusCode::OK);

    // What `govstore install` does to fetch a content layer, over real HTTP.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = app.router.clone();
    let server = tokio::spawn(async move { axum::serve(listener, router).await });
    let client = govstore_client::registry::RegistryClient::new(&format!("http://{addr}"), None).unwrap();
    let digest: govstore_core::Digest = c2.parse().unwrap();
    let mut out = Vec::new();
    client
        .fetch_blob(
            &repo.parse().unwrap(),
            &digest,
            content_size(&v2),
            &mut out,
            &govstore_client::progress::NoProgress,
        )
        .await
        .unwrap();
    server.abort();

    // Nothing reaches the database before the flush; the flush writes the versions'
    // downloads and skips the blobs that are no version's content.
    assert_eq!(app.state.downloads.pending(), 8);
    assert_eq!(stored(&app).await, 0);
    assert_eq!(flush(&app).await, 6);
    assert_eq!(app.state.downloads.pending(), 0);
    assert_eq!(flush(&app).await, 0);

    let pkg = package_id(&app, repo).await;
    let (id1, id2) = (
        version_id(&app, pkg, "1.0.0").await,
        version_id(&app, pkg, "1.1.0").await,
    );
    let got = downloads::per_version(&app.state.db.read, pkg).await.unwrap();
    assert_eq!(got, HashMap::from([(id1, 4), (id2, 2)]));
    assert_eq!(downloads::total(&app.state.db.read, pkg).await.unwrap(), 6);
    assert_eq!(
        downloads::totals_by_package(&app.state.db.read).await.unwrap(),
        HashMap::from([(pkg, 6)])
    );

    // A later flush adds to today's row.
    assert_eq!(pull(&app, Method::GET, repo, &c1, None).await, StatusCode::OK);
    assert_eq!(flush(&app).await, 1);
    assert_eq!(downloads::total(&app.state.db.read, pkg).await.unwrap(), 7);

    // Per day: today holds them all; an older day counts on its own row.
    let two_days_ago = downloads::day_of(govstore_server::now_ms() - 2 * 86_400_000);
    downloads::record(&app.state.db.write, id1, &two_days_ago)
        .await
        .unwrap();
    downloads::record(&app.state.db.write, id1, &two_days_ago)
        .await
        .unwrap();
    let days = downloads::per_day(&app.state.db.read, pkg, 30).await.unwrap();
    assert_eq!(days.len(), 30);
    assert_eq!(days[29], (downloads::today(), 7));
    assert_eq!(days[27], (two_days_ago, 2));
    assert_eq!(days.iter().map(|(_, n)| n).sum::<u64>(), 9);
    assert!(days.windows(2).all(|w| w[0].0 < w[1].0));
    assert_eq!(downloads::per_version(&app.state.db.read, pkg).await.unwrap()[&id1], 7);
}

async fn probes_and_partial_ranges_do_not_count(b: Backend) {
    let app = TestApp::new(b).await;
    let p = publisher(&app, "alice", "mosip").await;
    let v1 = publish(&app, &p, "mosip/thing", "1.0.0", "", &values("one")).await;
    let (repo, c1, size) = ("mosip/thing", content_digest(&v1), content_size(&v1));
    assert!(size > 100, "the content layer is {size} bytes");

    // One-byte probes, a partial range from 0, all but the last byte, resumes, the last
    // bytes: none is a download.
    let all_but_last = format!("bytes=0-{}", size - 2);
    let tail = format!("bytes=-{}", size - 1);
    for range in [
        "bytes=0-0",
        "bytes=0-99",
        all_but_last.as_str(),
        "bytes=5-",
        tail.as_str(),
    ] {
        for _ in 0..5 {
            assert_eq!(
                pull(&app, Method::GET, repo, &c1, Some(range)).await,
                StatusCode::PARTIAL_CONTENT,
                "{range}"
            );
        }
    }
    // HEAD fetches nothing, with or without a range.
    assert_eq!(pull(&app, Method::HEAD, repo, &c1, None).await, StatusCode::OK);
    let whole = format!("bytes=0-{}", size - 1);
    assert_eq!(
        pull(&app, Method::HEAD, repo, &c1, Some(&whole)).await,
        StatusCode::PARTIAL_CONTENT
    );
    // A range the blob cannot satisfy is no download either.
    let past = format!("bytes={size}-");
    assert_eq!(
        pull(&app, Method::GET, repo, &c1, Some(&past)).await,
        StatusCode::RANGE_NOT_SATISFIABLE
    );
    assert_eq!(app.state.downloads.pending(), 0);
    assert_eq!(flush(&app).await, 0);
    assert_eq!(stored(&app).await, 0);

    // A suffix range as long as the blob is all of it: one download.
    let suffix = format!("bytes=-{size}");
    assert_eq!(
        pull(&app, Method::GET, repo, &c1, Some(&suffix)).await,
        StatusCode::PARTIAL_CONTENT
    );
    assert_eq!(flush(&app).await, 1);
    assert_eq!(stored(&app).await, 1);
}

async fn the_tally_is_bounded(b: Backend) {
    let app = TestApp::with(b, |c| c.limits.max_pending_download_keys = 2).await;
    let p = publisher(&app, "alice", "mosip").await;
    let mut contents = Vec::new();
    for (version, seed) in [("1.0.0", "one"), ("1.1.0", "two"), ("1.2.0", "three")] {
        let built = publish(&app, &p, "mosip/thing", version, "", &values(seed)).await;
        contents.push(content_digest(&built));
    }
    let repo = "mosip/thing";
    // Two blobs fill the tally; more downloads of them still count, a third blob's are dropped.
    for (blob, times) in [
        (&contents[0], 2),
        (&contents[1], 1),
        (&contents[2], 3),
        (&contents[0], 1),
    ] {
        for _ in 0..times {
            assert_eq!(pull(&app, Method::GET, repo, blob, None).await, StatusCode::OK);
        }
    }
    assert_eq!(app.state.downloads.pending(), 4);
    assert_eq!(flush(&app).await, 4);
    let pkg = package_id(&app, repo).await;
    let mut ids = Vec::new();
    for version in ["1.0.0", "1.1.0", "1.2.0"] {
        ids.push(version_id(&app, pkg, version).await);
    }
    assert_eq!(
        downloads::per_version(&app.state.db.read, pkg).await.unwrap(),
        HashMap::from([(ids[0], 3), (ids[1], 1)])
    );
    // The flush emptied the tally: the third blob counts again.
    assert_eq!(pull(&app, Method::GET, repo, &contents[2], None).await, StatusCode::OK);
    assert_eq!(flush(&app).await, 1);
    assert_eq!(
        downloads::per_version(&app.state.db.read, pkg).await.unwrap(),
        HashMap::from([(ids[0], 3), (ids[1], 1), (ids[2], 1)])
    );
}

async fn a_flood_is_one_write(b: Backend) {
    const N: u64 = 300;
    let app = TestApp::new(b).await;
    let p = publisher(&app, "alice", "mosip").await;
    let v1 = publish(&app, &p, "mosip/thing", "1.0.0", "", &values("one")).await;
    let uri = format!("/v2/mosip/thing/blobs/{}", content_digest(&v1));
    let mut requests = tokio::task::JoinSet::new();
    for _ in 0..N {
        let (router, uri) = (app.router.clone(), uri.clone());
        requests.spawn(async move {
            let req = Request::builder().uri(uri).body(Body::empty()).unwrap();
            router.oneshot(req).await.unwrap().status()
        });
    }
    while let Some(status) = requests.join_next().await {
        assert_eq!(status.unwrap(), StatusCode::OK);
    }
    // All counted in memory, none written yet.
    assert_eq!(app.state.downloads.pending(), N);
    assert_eq!(stored(&app).await, 0);
    assert_eq!(flush(&app).await, N);
    let pkg = package_id(&app, "mosip/thing").await;
    let id = version_id(&app, pkg, "1.0.0").await;
    assert_eq!(
        downloads::per_version(&app.state.db.read, pkg).await.unwrap(),
        HashMap::from([(id, N)])
    );
    assert_eq!(
        downloads::per_day(&app.state.db.read, pkg, 1).await.unwrap(),
        [(downloads::today(), N)]
    );
}

async fn downloads_lift_ranking_mildly(b: Backend) {
    let app = TestApp::new(b).await;
    let p = publisher(&app, "alice", "acme").await;
    let extra = "keywords = [\"registry\"]\n";
    publish(&app, &p, "acme/alpha-registry", "1.0.0", extra, b"a: 1\n").await;
    let beta = publish(&app, &p, "acme/beta-registry", "1.0.0", extra, b"b: 1\n").await;
    let order = |v: Value| -> Vec<String> {
        v["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["name"].as_str().unwrap().to_owned())
            .collect()
    };
    // Equal matches: by name.
    let before = order(get_json(&app, "/api/v1/search?q=registry").await);
    assert_eq!(before, ["acme/alpha-registry", "acme/beta-registry"]);

    for _ in 0..5 {
        assert_eq!(
            pull(&app, Method::GET, "acme/beta-registry", &content_digest(&beta), None).await,
            StatusCode::OK
        );
    }
    assert_eq!(flush(&app).await, 5);
    // The index catches up at its periodic refresh (here: called directly).
    assert_eq!(app.state.search.refresh_downloads(&app.state.db.read).await.unwrap(), 1);
    assert_eq!(app.state.search.refresh_downloads(&app.state.db.read).await.unwrap(), 0);
    let found = get_json(&app, "/api/v1/search?q=registry").await;
    assert_eq!(order(found.clone()), ["acme/beta-registry", "acme/alpha-registry"]);
    assert_eq!(found["results"][0]["downloads"], serde_json::json!(5));
    // An exact name still comes first.
    assert_eq!(
        order(get_json(&app, "/api/v1/search?q=alpha-registry").await)[0],
        "acme/alpha-registry"
    );
    // A rebuild gives the same order.
    app.state.search.rebuild(&app.state.db.read).await.unwrap();
    assert_eq!(
        order(get_json(&app, "/api/v1/search?q=registry").await),
        ["acme/beta-registry", "acme/alpha-registry"]
    );
}

async fn backfill_finds_content_layers(b: Backend) {
    let app = TestApp::new(b).await;
    let p = publisher(&app, "alice", "mosip").await;
    let built = publish(&app, &p, "mosip/thing", "1.0.0", "", b"replicas: 1\n").await;
    let db = &app.state.db.write;
    // As before this migration: no content digests, no downloads or listings tables.
    Migrator::down(db, Some(1)).await.unwrap();
    Migrator::up(db, None).await.unwrap();
    let found = downloads::version_for_blob(&app.state.db.read, "mosip/thing", &content_digest(&built))
        .await
        .unwrap();
    let pkg = package_id(&app, "mosip/thing").await;
    assert_eq!(found, Some(version_id(&app, pkg, "1.0.0").await));
    assert_eq!(
        downloads::version_for_blob(&app.state.db.read, "mosip/thing", &config_digest(&built))
            .await
            .unwrap(),
        None
    );
}
