//! The sparse index: package and spec documents with real signed publishes, yanked
//! versions listed with their reason, their format (`"format": 1`), ETags and
//! `304 Not Modified`, unknown names 404.

use axum::body::Body;
use axum::http::{Method, StatusCode};
use govstore_core::index::{PackageIndex, SpecIndex};
use serde_json::json;

use crate::common::{Backend, Res, TestApp};
use crate::fixture::{admin_token, build, post, publisher, tarball, toml};
use crate::on_both_backends;

on_both_backends!(
    package_document_lists_every_version,
    spec_document_lists_implementations,
    etag_and_not_modified,
    unknown_names
);

const IDENTITY_1_0_2: &str = "\n[[implements]]\nspec = \"govstack/identity\"\nversion = \"1.0.2\"\nhow = \"native\"\n";

async fn publish_identity_spec(app: &TestApp) {
    let admin = admin_token(app).await;
    let spec = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../catalog-examples/specs/identity.toml"
    ))
    .unwrap();
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
        "{}",
        String::from_utf8_lossy(&res.body)
    );
}

async fn get_with(app: &TestApp, uri: &str, if_none_match: Option<&str>) -> Res {
    let headers: Vec<(&str, &str)> = if_none_match.map(|t| vec![("if-none-match", t)]).unwrap_or_default();
    app.req(Method::GET, uri, &headers, Body::empty()).await
}

async fn package_document_lists_every_version(b: Backend) {
    let app = TestApp::with(b, |c| c.insecure_anonymous_push = false).await;
    publish_identity_spec(&app).await;
    let p = publisher(&app, "alice", "mosip").await;
    let content = tarball(&[("deploy/values.yaml", b"replicas: 1\n")]);
    let mut digests = Vec::new();
    // Published out of order: the document is sorted by SemVer precedence.
    for v in ["1.10.0", "1.2.0", "1.2.0-rc.1"] {
        let extra = format!("{IDENTITY_1_0_2}\n[requires.platform]\nkubernetes = \">=1.27\"\n");
        let built = build(&app, &p, &p.key, &toml("mosip/esignet", v, &extra), &content).await;
        let res = built.publish(&app, &p.auth()).await;
        assert_eq!(
            res.status,
            StatusCode::CREATED,
            "{}",
            String::from_utf8_lossy(&res.body)
        );
        digests.push((v, built.digest.to_string()));
    }
    let res = post(
        &app,
        "/api/v1/packages/mosip/esignet/versions/1.2.0/yank",
        &p.auth(),
        json!({ "reason": "CVE-2026-1234" }).to_string(),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK);

    let res = get_with(&app, "/api/v1/index/packages/mosip/esignet", None).await;
    assert_eq!(res.status, StatusCode::OK, "{}", String::from_utf8_lossy(&res.body));
    assert_eq!(res.header("content-type").as_deref(), Some("application/json"));
    assert_eq!(
        res.header("cache-control").as_deref(),
        Some("public, max-age=60, must-revalidate")
    );
    let doc: PackageIndex = serde_json::from_slice(&res.body).unwrap();
    assert_eq!(doc.name.as_str(), "mosip/esignet");
    let versions: Vec<String> = doc.versions.iter().map(|v| v.version.to_string()).collect();
    assert_eq!(versions, ["1.2.0-rc.1", "1.2.0", "1.10.0"]);
    for v in &doc.versions {
        let published = digests.iter().find(|(x, _)| *x == v.version.to_string()).unwrap();
        assert_eq!(v.digest.to_string(), published.1);
        assert_eq!(v.key_ids, [p.key.public_key().key_id()]);
        assert_eq!(v.manifest.package.version, v.version);
        assert_eq!(v.manifest.implements[0].spec.as_str(), "govstack/identity");
        assert_eq!(v.manifest.requires.platform.len(), 1);
    }
    let yanked = &doc.versions[1];
    assert!(yanked.yanked);
    assert_eq!(yanked.yank_reason.as_deref(), Some("CVE-2026-1234"));
    assert!(!doc.versions[0].yanked && doc.versions[0].yank_reason.is_none());
    // The document is the canonical form: no `yank_reason` key where there is none.
    let raw = res.json();
    // A versioned wire format (core::wire): the registry writes its format, first.
    assert_eq!(doc.format, govstore_core::index::INDEX_FORMAT.current);
    assert!(res.body.starts_with(br#"{"format":1,"name":"#));
    assert!(raw["versions"][0].get("yank_reason").is_none());
    insta::assert_json_snapshot!("package_index", raw, {
        ".versions[].digest" => "[digest]",
        ".versions[].key_ids[]" => "[key id]",
    });
}

async fn spec_document_lists_implementations(b: Backend) {
    let app = TestApp::with(b, |c| c.insecure_anonymous_push = false).await;
    publish_identity_spec(&app).await;
    let p = publisher(&app, "alice", "mosip").await;
    let q = publisher(&app, "bob", "openspp").await;
    let content = tarball(&[("deploy/values.yaml", b"replicas: 1\n")]);
    let two = format!(
        "{IDENTITY_1_0_2}\n[[implements]]\nspec = \"govstack/identity\"\nversion = \"1.0.0\"\nhow = \"adaptor\"\n"
    );
    let cases = [
        (&p, "mosip/esignet", "1.1.0", IDENTITY_1_0_2.to_owned()),
        (&p, "mosip/esignet", "1.0.0", two),
        // Needs the spec, does not implement it: not listed.
        (
            &p,
            "mosip/resident",
            "1.0.0",
            "\n[requires.specs]\n\"govstack/identity\" = \"^1.0\"\n".to_owned(),
        ),
        (&q, "openspp/registry", "2.0.0", IDENTITY_1_0_2.to_owned()),
    ];
    for (who, name, version, extra) in cases {
        let res = build(&app, who, &who.key, &toml(name, version, &extra), &content)
            .await
            .publish(&app, &who.auth())
            .await;
        assert_eq!(
            res.status,
            StatusCode::CREATED,
            "{}",
            String::from_utf8_lossy(&res.body)
        );
    }
    // Yanked versions stay listed; the package document says they are yanked.
    let res = post(
        &app,
        "/api/v1/packages/openspp/registry/versions/2.0.0/yank",
        &q.auth(),
        json!({ "reason": "broken" }).to_string(),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK);

    let res = get_with(&app, "/api/v1/index/specs/govstack/identity", None).await;
    assert_eq!(res.status, StatusCode::OK, "{}", String::from_utf8_lossy(&res.body));
    assert!(res.header("etag").is_some());
    let doc: SpecIndex = serde_json::from_slice(&res.body).unwrap();
    assert_eq!(doc.spec.as_str(), "govstack/identity");
    let rows: Vec<String> = doc
        .implementations
        .iter()
        .map(|i| format!("{}@{} -> {}", i.package, i.version, i.spec_version))
        .collect();
    assert_eq!(
        rows,
        [
            "mosip/esignet@1.0.0 -> 1.0.0",
            "mosip/esignet@1.0.0 -> 1.0.2",
            "mosip/esignet@1.1.0 -> 1.0.2",
            "openspp/registry@2.0.0 -> 1.0.2"
        ]
    );
    insta::assert_json_snapshot!("spec_index", res.json());

    // A known spec nobody implements yet: an empty list, not a 404.
    let admin = admin_token_again(&app).await;
    let spec = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../catalog-examples/specs/consent.toml"
    ))
    .unwrap();
    let res = post(
        &app,
        "/api/v1/specs",
        &format!("Bearer {admin}"),
        json!({ "toml": spec }).to_string(),
    )
    .await;
    assert_eq!(res.status, StatusCode::CREATED);
    let res = get_with(&app, "/api/v1/index/specs/govstack/consent", None).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(
        res.json(),
        json!({ "format": 1, "spec": "govstack/consent", "implementations": [] })
    );
}

/// A second admin token (the fixture's `admin_token` creates the user once).
async fn admin_token_again(app: &TestApp) -> String {
    govstore_server::admin::create_token(&app.state.db, "root", "again", &["admin".into()], Some(1))
        .await
        .unwrap()
}

async fn etag_and_not_modified(b: Backend) {
    let app = TestApp::with(b, |c| c.insecure_anonymous_push = false).await;
    let p = publisher(&app, "alice", "mojaloop").await;
    let content = tarball(&[("deploy/values.yaml", b"replicas: 1\n")]);
    let res = build(&app, &p, &p.key, &toml("mojaloop/switch", "17.0.0", ""), &content)
        .await
        .publish(&app, &p.auth())
        .await;
    assert_eq!(res.status, StatusCode::CREATED);

    let uri = "/api/v1/index/packages/mojaloop/switch";
    let first = get_with(&app, uri, None).await;
    let etag = first.header("etag").unwrap();
    assert_eq!(
        etag,
        format!("\"{}\"", govstore_core::Digest::of(&first.body).hex()),
        "strong: the quoted SHA-256 of the body"
    );
    assert_eq!(
        get_with(&app, uri, None).await.body,
        first.body,
        "the same state gives the same bytes"
    );

    let cached = get_with(&app, uri, Some(&etag)).await;
    assert_eq!(cached.status, StatusCode::NOT_MODIFIED);
    assert!(cached.body.is_empty());
    assert_eq!(cached.header("etag"), Some(etag.clone()));
    assert_eq!(
        cached.header("cache-control").as_deref(),
        Some("public, max-age=60, must-revalidate")
    );
    let listed = get_with(&app, uri, Some(&format!("\"other\", W/{etag}"))).await;
    assert_eq!(
        listed.status,
        StatusCode::NOT_MODIFIED,
        "a list and a weak form match too"
    );
    assert_eq!(get_with(&app, uri, Some("\"stale\"")).await.status, StatusCode::OK);

    // A yank changes the document, so the old tag no longer matches.
    let res = post(
        &app,
        "/api/v1/packages/mojaloop/switch/versions/17.0.0/yank",
        &p.auth(),
        json!({ "reason": "bad" }).to_string(),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK);
    let changed = get_with(&app, uri, Some(&etag)).await;
    assert_eq!(changed.status, StatusCode::OK);
    assert_ne!(changed.header("etag"), Some(etag));
    assert_eq!(changed.json()["versions"][0]["yank_reason"], json!("bad"));

    // HEAD answers the same headers without a body.
    let head = app.req(Method::HEAD, uri, &[], Body::empty()).await;
    assert_eq!(head.status, StatusCode::OK);
    assert_eq!(head.header("etag"), changed.header("etag"));
    assert!(head.body.is_empty());
}

async fn unknown_names(b: Backend) {
    let app = TestApp::new(b).await;
    let res = get_with(&app, "/api/v1/index/packages/nobody/nothing", None).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(res.code(), "NOT_FOUND");
    assert_eq!(res.json()["errors"][0]["message"], json!("no package `nobody/nothing`"));
    let res = get_with(&app, "/api/v1/index/specs/govstack/nothing", None).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(res.json()["errors"][0]["message"], json!("no spec `govstack/nothing`"));
    // Names are checked before any lookup.
    let res = get_with(&app, "/api/v1/index/packages/Bad/name", None).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert_eq!(res.code(), "NAME_INVALID");
    let res = get_with(&app, "/api/v1/index/packages/%2e%2e/x", None).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
}
