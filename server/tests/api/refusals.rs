//! Every refusal of a publish names the problem and leaves nothing visible.

use axum::http::StatusCode;
use govstore_server::admin;
use govstore_signing::KeyPair;

use crate::common::{Backend, OCI_MANIFEST, Res, TestApp};
use crate::fixture::{Publisher, build, build_simple, post, publisher, tarball, toml, upload};
use crate::on_both_backends;

on_both_backends!(
    signature_refusals,
    permission_refusals,
    manifest_and_content_refusals,
    version_exists,
    oci_cannot_bypass_publish,
    package_over_the_size_limit,
    package_over_the_version_limit,
    version_limit_is_checked_in_the_transaction,
    held_oci_put_cannot_take_a_version_tag,
    oci_puts_racing_publishes_never_take_a_version_tag,
    storage_error_while_checking_content_is_a_server_error
);

async fn assert_refused(app: &TestApp, res: &Res, status: StatusCode, code: &str, name: &str, version: &str) {
    assert_eq!(res.status, status, "{}", String::from_utf8_lossy(&res.body));
    assert_eq!(res.code(), code, "{}", String::from_utf8_lossy(&res.body));
    let visible = app.get(&format!("/v2/{name}/manifests/{version}")).await;
    assert_eq!(
        visible.status,
        StatusCode::NOT_FOUND,
        "nothing may be pullable by tag after a refusal"
    );
    let api = app.get(&format!("/api/v1/packages/{name}/versions/{version}")).await;
    assert_eq!(
        api.status,
        StatusCode::NOT_FOUND,
        "nothing may be listed after a refusal"
    );
}

fn message(res: &Res) -> String {
    res.json()["errors"][0]["message"].as_str().unwrap().to_owned()
}

async fn signature_refusals(b: Backend) {
    let app = TestApp::with(b, |c| c.insecure_anonymous_push = false).await;
    let p = publisher(&app, "alice", "mosip").await;

    // Unsigned: a signature over other bytes.
    let mut built = build_simple(&app, &p, "mosip/a", "1.0.0").await;
    built.signature = p.key.sign(b"something else").unwrap();
    let res = built.publish(&app, &p.auth()).await;
    assert_refused(
        &app,
        &res,
        StatusCode::BAD_REQUEST,
        "SIGNATURE_INVALID",
        "mosip/a",
        "1.0.0",
    )
    .await;
    insta::assert_json_snapshot!("unsigned", res.json());

    // A payload over another manifest.
    let mut built = build_simple(&app, &p, "mosip/a", "1.0.0").await;
    let other = build_simple(&app, &p, "mosip/a", "1.0.1").await;
    built.payload = other.payload.clone();
    built.signature = other.signature.clone();
    let res = built.publish(&app, &p.auth()).await;
    assert_refused(
        &app,
        &res,
        StatusCode::BAD_REQUEST,
        "SIGNATURE_INVALID",
        "mosip/a",
        "1.0.0",
    )
    .await;

    // A key that is not registered to the namespace.
    let stranger = KeyPair::generate().unwrap();
    let built = build(
        &app,
        &p,
        &stranger,
        &toml("mosip/a", "1.0.0", ""),
        &tarball(&[("a", b"a")]),
    )
    .await;
    let res = built.publish(&app, &p.auth()).await;
    assert_refused(
        &app,
        &res,
        StatusCode::BAD_REQUEST,
        "SIGNATURE_INVALID",
        "mosip/a",
        "1.0.0",
    )
    .await;
    assert!(
        message(&res).contains("registered, unrevoked keys of `mosip`"),
        "{}",
        message(&res)
    );

    // A revoked key.
    let key_id = p.key.public_key().key_id();
    let res = post(
        &app,
        &format!("/api/v1/namespaces/mosip/keys/{key_id}/revoke"),
        &p.auth(),
        r#"{"reason":"laptop lost"}"#.into(),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK);
    let second = KeyPair::generate().unwrap();
    crate::fixture::register_key(&app, &p, &second).await;
    let built = build_simple(&app, &p, "mosip/a", "1.0.0").await;
    let res = built.publish(&app, &p.auth()).await;
    assert_refused(
        &app,
        &res,
        StatusCode::BAD_REQUEST,
        "SIGNATURE_INVALID",
        "mosip/a",
        "1.0.0",
    )
    .await;
    assert!(message(&res).contains("revoked key"), "{}", message(&res));
}

async fn permission_refusals(b: Backend) {
    let app = TestApp::with(b, |c| c.insecure_anonymous_push = false).await;
    let alice = publisher(&app, "alice", "mosip").await;
    let bob = publisher(&app, "bob", "opencrvs").await;

    // Into another organisation's namespace: bob's token has no scope for `mosip`.
    let built = build_simple(&app, &alice, "mosip/b", "1.0.0").await;
    let res = built.publish(&app, &bob.auth()).await;
    assert_refused(&app, &res, StatusCode::FORBIDDEN, "DENIED", "mosip/b", "1.0.0").await;
    insta::assert_json_snapshot!("other_namespace", res.json());

    // A token for the right namespace but without the publish scope.
    let keys_only = admin::create_token(&app.state.db, "alice", "keys", &["keys:mosip".into()], Some(1))
        .await
        .unwrap();
    let res = built.publish(&app, &format!("Bearer {keys_only}")).await;
    assert_refused(&app, &res, StatusCode::FORBIDDEN, "DENIED", "mosip/b", "1.0.0").await;

    // Scope granted, but the user has no role in the organisation.
    let wide = admin::create_token(&app.state.db, "bob", "wide", &["publish:*".into()], Some(1))
        .await
        .unwrap();
    let res = built.publish(&app, &format!("Bearer {wide}")).await;
    assert_refused(&app, &res, StatusCode::FORBIDDEN, "DENIED", "mosip/b", "1.0.0").await;
    assert!(
        message(&res).contains("bob is not an owner or publisher of organisation `mosip`"),
        "{}",
        message(&res)
    );

    // No token at all; an expired one.
    let res = post(&app, "/api/v1/packages/mosip/b/versions", "", built.request()).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    let expired = admin::create_token(&app.state.db, "alice", "old", &["publish:mosip".into()], Some(1))
        .await
        .unwrap();
    {
        use govstore_server::db::entities::tokens;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let prefix = &expired[..12];
        tokens::Entity::update_many()
            .col_expr(tokens::Column::ExpiresAt, (govstore_server::now_ms() - 1).into())
            .filter(tokens::Column::Prefix.eq(prefix))
            .exec(&app.state.db.write)
            .await
            .unwrap();
    }
    assert!(
        admin::create_token(&app.state.db, "alice", "zero", &["publish:mosip".into()], Some(0))
            .await
            .is_err(),
        "0 days is refused"
    );
    let res = built.publish(&app, &format!("Bearer {expired}")).await;
    assert_refused(&app, &res, StatusCode::UNAUTHORIZED, "UNAUTHORIZED", "mosip/b", "1.0.0").await;

    // A namespace without keys.
    admin::create_org(&app.state.db, "keyless", "alice").await.unwrap();
    let t = admin::create_token(&app.state.db, "alice", "k", &["publish:keyless".into()], Some(1))
        .await
        .unwrap();
    let p = Publisher {
        ns: "keyless".into(),
        token: t,
        key: KeyPair::generate().unwrap(),
    };
    let built = build_simple(&app, &p, "keyless/c", "1.0.0").await;
    let res = built.publish(&app, &p.auth()).await;
    assert_refused(&app, &res, StatusCode::FORBIDDEN, "DENIED", "keyless/c", "1.0.0").await;
}

async fn manifest_and_content_refusals(b: Backend) {
    let app = TestApp::with(b, |c| c.insecure_anonymous_push = false).await;
    let p = publisher(&app, "alice", "mosip").await;
    let content = tarball(&[("deploy/a.yaml", b"a: 1\n")]);

    // An unknown spec, named with its field path.
    let t = toml(
        "mosip/d",
        "1.0.0",
        "\n[[implements]]\nspec = \"govstack/identity\"\nversion = \"1.0.2\"\nhow = \"native\"\n",
    );
    let res = build(&app, &p, &p.key, &t, &content)
        .await
        .publish(&app, &p.auth())
        .await;
    assert_refused(&app, &res, StatusCode::BAD_REQUEST, "INVALID", "mosip/d", "1.0.0").await;
    insta::assert_json_snapshot!("unknown_spec", res.json());

    // The same spec once published, but an unknown version of it.
    let admin = crate::fixture::admin_token(&app).await;
    let spec = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../catalog-examples/specs/identity.toml"
    ))
    .unwrap();
    let res = post(
        &app,
        "/api/v1/specs",
        &format!("Bearer {admin}"),
        serde_json::json!({ "toml": spec }).to_string(),
    )
    .await;
    assert_eq!(
        res.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&res.body)
    );
    let t9 = t.replace("1.0.2", "9.9.9");
    let res = build(&app, &p, &p.key, &t9, &content)
        .await
        .publish(&app, &p.auth())
        .await;
    assert_refused(&app, &res, StatusCode::BAD_REQUEST, "INVALID", "mosip/d", "1.0.0").await;
    assert!(message(&res).contains("implements[0].version"), "{}", message(&res));
    // With the spec known, the package publishes.
    let res = build(&app, &p, &p.key, &t, &content)
        .await
        .publish(&app, &p.auth())
        .await;
    assert_eq!(
        res.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&res.body)
    );

    // Hostile content.
    for (label, entry) in [("dotdot", "../../etc/passwd"), ("absolute", "/etc/passwd")] {
        let bad = tarball(&[(entry, b"root:x:0:0")]);
        let res = build(&app, &p, &p.key, &toml("mosip/e", "1.0.0", ""), &bad)
            .await
            .publish(&app, &p.auth())
            .await;
        assert_refused(&app, &res, StatusCode::BAD_REQUEST, "INVALID", "mosip/e", "1.0.0").await;
        assert!(message(&res).starts_with("content:"), "{label}: {}", message(&res));
    }

    // Links out of the tree and device files.
    use tar::EntryType;
    let hostile: [(&str, Vec<crate::fixture::Entry<'_>>); 3] = [
        ("symlink", vec![("deploy/etc", EntryType::Symlink, b"", "../../../etc")]),
        ("hardlink", vec![("deploy/passwd", EntryType::Link, b"", "/etc/passwd")]),
        ("device", vec![("deploy/sda", EntryType::Block, b"", "")]),
    ];
    for (label, entries) in hostile {
        let bad = crate::fixture::tarball_of(&entries);
        let res = build(&app, &p, &p.key, &toml("mosip/e", "1.0.0", ""), &bad)
            .await
            .publish(&app, &p.auth())
            .await;
        assert_refused(&app, &res, StatusCode::BAD_REQUEST, "INVALID", "mosip/e", "1.0.0").await;
        assert!(message(&res).starts_with("content:"), "{label}: {}", message(&res));
    }

    // A config that is not a valid govstore.toml (a bad licence), uploaded by hand.
    let mut built = build_simple(&app, &p, "mosip/f", "1.0.0").await;
    let bad_config = br#"{"package":{"description":"x","license":"Apache-2.0 OR","name":"mosip/f","version":"1.0.0"}}"#;
    let config = upload(&app, "mosip/f", &p.auth(), bad_config).await;
    let text = String::from_utf8(built.manifest.clone()).unwrap();
    let m: serde_json::Value = serde_json::from_str(&text).unwrap();
    let old = m["config"]["digest"].as_str().unwrap().to_owned();
    let old_size = format!("\"size\":{}", m["config"]["size"]);
    let replaced =
        text.replacen(&old, &config.digest.to_string(), 1)
            .replacen(&old_size, &format!("\"size\":{}", config.size), 1);
    built.manifest = replaced.into_bytes();
    built.digest = govstore_core::Digest::of(&built.manifest);
    built.payload = govstore_signing::simple_signing::payload("127.0.0.1:5000/mosip/f", &built.digest);
    built.signature = p.key.sign(&built.payload).unwrap();
    let res = built.publish(&app, &p.auth()).await;
    assert_refused(&app, &res, StatusCode::BAD_REQUEST, "INVALID", "mosip/f", "1.0.0").await;
    assert!(message(&res).contains("license"), "{}", message(&res));
}

async fn version_exists(b: Backend) {
    let app = TestApp::with(b, |c| c.insecure_anonymous_push = false).await;
    let p = publisher(&app, "alice", "mosip").await;
    let first = build_simple(&app, &p, "mosip/g", "1.0.0").await;
    assert_eq!(first.publish(&app, &p.auth()).await.status, StatusCode::CREATED);
    let changed = crate::fixture::build(
        &app,
        &p,
        &p.key,
        &toml("mosip/g", "1.0.0", ""),
        &tarball(&[("other", b"bytes")]),
    )
    .await;
    let res = changed.publish(&app, &p.auth()).await;
    assert_eq!(res.status, StatusCode::CONFLICT);
    insta::assert_json_snapshot!("version_exists", res.json());
    let m = app.get("/v2/mosip/g/manifests/1.0.0").await;
    assert_eq!(m.body, first.manifest, "the first publish's bytes stay");
}

async fn oci_cannot_bypass_publish(b: Backend) {
    let app = TestApp::with(b, |c| c.insecure_anonymous_push = false).await;
    let p = publisher(&app, "alice", "mosip").await;
    let built = build_simple(&app, &p, "mosip/h", "1.0.0").await;
    // Pushing the package manifest over OCI skips the signature check: refused.
    let res = app
        .req(
            axum::http::Method::PUT,
            "/v2/mosip/h/manifests/1.0.0",
            &[("authorization", &p.auth()), ("content-type", OCI_MANIFEST)],
            built.manifest.clone(),
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(res.code(), "DENIED");
    assert_eq!(built.publish(&app, &p.auth()).await.status, StatusCode::CREATED);
    // Once the repository holds packages, no OCI manifest write may move its tags.
    let empty = upload(&app, "mosip/h", &p.auth(), b"{}").await;
    let other = crate::common::image_manifest((&empty.digest.to_string(), 2), &[], serde_json::json!({}));
    let res = app
        .req(
            axum::http::Method::PUT,
            "/v2/mosip/h/manifests/1.0.0",
            &[("authorization", &p.auth()), ("content-type", OCI_MANIFEST)],
            other,
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(app.get("/v2/mosip/h/manifests/1.0.0").await.body, built.manifest);
}

async fn package_over_the_size_limit(b: Backend) {
    let app = TestApp::with(b, |c| {
        c.insecure_anonymous_push = false;
        c.limits.max_package_bytes = 4096;
    })
    .await;
    let p = publisher(&app, "alice", "mosip").await;
    // Random bytes do not compress: the content layer alone passes the limit.
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let noise: Vec<u8> = (0..8192)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    let built = build(
        &app,
        &p,
        &p.key,
        &toml("mosip/big", "1.0.0", ""),
        &tarball(&[("blob.bin", &noise)]),
    )
    .await;
    let res = built.publish(&app, &p.auth()).await;
    assert_refused(
        &app,
        &res,
        StatusCode::PAYLOAD_TOO_LARGE,
        "SIZE_INVALID",
        "mosip/big",
        "1.0.0",
    )
    .await;
    insta::assert_json_snapshot!("package_too_large", res.json(), { ".errors[0].message" => "[size]" });
}

/// The versions the package info endpoint lists, newest first.
async fn listed_versions(app: &TestApp, name: &str) -> Vec<String> {
    let info = crate::fixture::get_json(app, &format!("/api/v1/packages/{name}")).await;
    info["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_str().unwrap().to_owned())
        .collect()
}

/// The audit log's `version.publish` targets, newest first.
async fn published_targets(app: &TestApp) -> Vec<String> {
    let admin = crate::fixture::admin_token(app).await;
    let audit = app
        .req(
            axum::http::Method::GET,
            "/api/v1/audit?limit=1000",
            &[("authorization", &format!("Bearer {admin}"))],
            axum::body::Body::empty(),
        )
        .await;
    assert_eq!(audit.status, StatusCode::OK);
    audit.json()["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "version.publish")
        .map(|e| e["target"].as_str().unwrap().to_owned())
        .collect()
}

/// Nothing of a refused publish is linked: no signature tag, no referrer.
async fn assert_no_signature(app: &TestApp, built: &crate::fixture::Built) {
    let name = &built.name;
    let tag = built.digest.cosign_signature_tag();
    let sig = app.get(&format!("/v2/{name}/manifests/{tag}")).await;
    assert_eq!(sig.status, StatusCode::NOT_FOUND, "no signature tag after a refusal");
    let payload = govstore_core::Digest::of(&built.payload);
    let blob = app.get(&format!("/v2/{name}/blobs/{payload}")).await;
    assert_eq!(
        blob.status,
        StatusCode::NOT_FOUND,
        "no signature payload linked after a refusal"
    );
    let refs = crate::fixture::get_json(app, &format!("/v2/{name}/referrers/{}", built.digest)).await;
    assert_eq!(refs["manifests"], serde_json::json!([]), "no referrer after a refusal");
}

async fn package_over_the_version_limit(b: Backend) {
    let app = TestApp::with(b, |c| {
        c.insecure_anonymous_push = false;
        c.limits.max_versions_per_package = 2;
    })
    .await;
    let p = publisher(&app, "alice", "mosip").await;
    for version in ["1.0.0", "1.0.1"] {
        let res = build_simple(&app, &p, "mosip/many", version)
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
    // A yanked version still counts: it stays in the index.
    let res = post(
        &app,
        "/api/v1/packages/mosip/many/versions/1.0.0/yank",
        &p.auth(),
        r#"{"reason":"broken"}"#.into(),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", String::from_utf8_lossy(&res.body));

    let third = build_simple(&app, &p, "mosip/many", "1.0.2").await;
    let res = third.publish(&app, &p.auth()).await;
    assert_refused(&app, &res, StatusCode::CONFLICT, "CONFLICT", "mosip/many", "1.0.2").await;
    assert_eq!(
        message(&res),
        "mosip/many has 2 versions; this registry accepts at most 2 per package (max_versions_per_package)"
    );
    assert_eq!(res.json()["errors"][0]["detail"]["versions"], 2);
    assert_eq!(res.json()["errors"][0]["detail"]["limit"], 2);
    insta::assert_json_snapshot!("too_many_versions", res.json());
    assert_no_signature(&app, &third).await;
    assert_eq!(listed_versions(&app, "mosip/many").await, ["1.0.1", "1.0.0"]);
    assert_eq!(published_targets(&app).await, ["mosip/many@1.0.1", "mosip/many@1.0.0"]);
    let info = crate::fixture::get_json(&app, "/api/v1/packages/mosip/many").await;
    assert_eq!(info["latest"], "1.0.1");

    // Another package of the same namespace is not affected.
    for version in ["2.0.0", "2.0.1"] {
        let res = build_simple(&app, &p, "mosip/other", version)
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
    assert_eq!(listed_versions(&app, "mosip/other").await, ["2.0.1", "2.0.0"]);
    assert_eq!(listed_versions(&app, "mosip/many").await, ["1.0.1", "1.0.0"]);
}

/// A limit of 0 refuses even a new package's first version, which the cheap check before
/// the transaction cannot see: the count in the transaction refuses it, and the
/// transaction's writes (package row, manifests, tags, signature links) are rolled back.
async fn version_limit_is_checked_in_the_transaction(b: Backend) {
    let app = TestApp::with(b, |c| {
        c.insecure_anonymous_push = false;
        c.limits.max_versions_per_package = 0;
    })
    .await;
    let p = publisher(&app, "alice", "mosip").await;
    let first = build_simple(&app, &p, "mosip/none", "1.0.0").await;
    let res = first.publish(&app, &p.auth()).await;
    assert_refused(&app, &res, StatusCode::CONFLICT, "CONFLICT", "mosip/none", "1.0.0").await;
    assert_eq!(
        message(&res),
        "mosip/none has 0 versions; this registry accepts at most 0 per package (max_versions_per_package)"
    );
    assert_no_signature(&app, &first).await;
    let info = app.get("/api/v1/packages/mosip/none").await;
    assert_eq!(info.status, StatusCode::NOT_FOUND, "the package row is rolled back");
    assert!(published_targets(&app).await.is_empty(), "nothing audited");
    let search = crate::fixture::get_json(&app, "/api/v1/search?q=none").await;
    assert_eq!(search["results"], serde_json::json!([]), "nothing indexed");
}

/// A plain (unsigned) image manifest over an empty config uploaded to `repo`.
async fn unsigned_manifest(app: &TestApp, p: &Publisher, repo: &str) -> Vec<u8> {
    let empty = upload(app, repo, &p.auth(), b"{}").await;
    crate::common::image_manifest((&empty.digest.to_string(), 2), &[], serde_json::json!({}))
}

/// A manifest PUT whose headers go out now and whose body waits for `release`. `polled`
/// fires when the server starts reading the body, so after every check it makes before.
struct HeldPut {
    polled: tokio::sync::oneshot::Receiver<()>,
    release: tokio::sync::oneshot::Sender<()>,
    answer: tokio::task::JoinHandle<Res>,
}

fn held_put(app: &TestApp, repo: &str, tag: &str, auth: &str, manifest: Vec<u8>) -> HeldPut {
    let (polled_tx, polled) = tokio::sync::oneshot::channel::<()>();
    let (release, release_rx) = tokio::sync::oneshot::channel::<()>();
    let len = manifest.len();
    let stream = futures_util::stream::once(async move {
        let _ = polled_tx.send(());
        let _ = release_rx.await;
        Ok::<_, std::convert::Infallible>(bytes::Bytes::from(manifest))
    });
    let req = axum::http::Request::builder()
        .method(axum::http::Method::PUT)
        .uri(format!("/v2/{repo}/manifests/{tag}"))
        .header("authorization", auth)
        .header("content-type", OCI_MANIFEST)
        .header("content-length", len.to_string())
        .body(axum::body::Body::from_stream(stream))
        .unwrap();
    let router = app.router.clone();
    let answer = tokio::spawn(async move {
        use http_body_util::BodyExt;
        use tower::ServiceExt;
        let res = router.oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let body = res.into_body().collect().await.unwrap().to_bytes().to_vec();
        Res { status, headers, body }
    });
    HeldPut {
        polled,
        release,
        answer,
    }
}

/// The manifest a tag names, as a client pulls it (as text, for readable failures).
async fn tagged(app: &TestApp, repo: &str, tag: &str) -> String {
    let res = app.get(&format!("/v2/{repo}/manifests/{tag}")).await;
    assert_eq!(res.status, StatusCode::OK, "{repo}:{tag}");
    String::from_utf8(res.body).unwrap()
}

fn text(manifest: &[u8]) -> String {
    String::from_utf8(manifest.to_vec()).unwrap()
}

/// A plain OCI PUT that passed its early checks before a publish committed, and sends its
/// body after, is refused: the write re-checks under the lock the publish takes. Also
/// across a later publish of another version of the same package.
async fn held_oci_put_cannot_take_a_version_tag(b: Backend) {
    let app = TestApp::with(b, |c| c.insecure_anonymous_push = false).await;
    let p = publisher(&app, "alice", "mosip").await;
    let v1 = build_simple(&app, &p, "mosip/held", "1.0.0").await;
    let v2 = build_simple(&app, &p, "mosip/held", "2.0.0").await;
    let unsigned = unsigned_manifest(&app, &p, "mosip/held").await;

    // Both PUTs start before the repository holds any package.
    let mut puts = Vec::new();
    for tag in ["1.0.0", "2.0.0"] {
        let mut put = held_put(&app, "mosip/held", tag, &p.auth(), unsigned.clone());
        (&mut put.polled).await.unwrap();
        puts.push(put);
    }
    let put2 = puts.pop().unwrap();
    let put1 = puts.pop().unwrap();

    let res = v1.publish(&app, &p.auth()).await;
    assert_eq!(
        res.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&res.body)
    );
    put1.release.send(()).unwrap();
    let res = put1.answer.await.unwrap();
    assert_eq!(
        res.status,
        StatusCode::FORBIDDEN,
        "{}",
        String::from_utf8_lossy(&res.body)
    );
    assert_eq!(res.code(), "DENIED");
    assert_eq!(tagged(&app, "mosip/held", "1.0.0").await, text(&v1.manifest));

    let res = v2.publish(&app, &p.auth()).await;
    assert_eq!(
        res.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&res.body)
    );
    put2.release.send(()).unwrap();
    let res = put2.answer.await.unwrap();
    assert_eq!(
        res.status,
        StatusCode::FORBIDDEN,
        "{}",
        String::from_utf8_lossy(&res.body)
    );
    assert_eq!(tagged(&app, "mosip/held", "2.0.0").await, text(&v2.manifest));
    assert_eq!(tagged(&app, "mosip/held", "1.0.0").await, text(&v1.manifest));

    // Below HTTP too: a plain tag write or delete never touches a version tag.
    use govstore_server::db::tags::{self, Plain};
    let db = &app.state.db.write;
    let name: govstore_core::RepoName = "mosip/held".parse().unwrap();
    let repo = govstore_server::db::repositories::find(db, &name)
        .await
        .unwrap()
        .unwrap()
        .id;
    let other = crate::common::digest_of(&unsigned);
    assert_eq!(
        tags::set_plain(db, repo, "2.0.0", &other).await.unwrap(),
        Plain::VersionTag
    );
    assert_eq!(tags::delete_plain(db, repo, "1.0.0").await.unwrap(), Plain::VersionTag);
    assert_eq!(
        tags::delete_plain_pointing_at(db, repo, &v1.digest.to_string())
            .await
            .unwrap(),
        Plain::VersionTag
    );
    assert_eq!(tagged(&app, "mosip/held", "2.0.0").await, text(&v2.manifest));
    assert_eq!(tagged(&app, "mosip/held", "1.0.0").await, text(&v1.manifest));
}

/// Publishes of new packages while plain OCI PUTs of the version tag run in a loop
/// beside them: whatever the interleaving, the version tag ends on the signed manifest.
async fn oci_puts_racing_publishes_never_take_a_version_tag(b: Backend) {
    const ROUNDS: usize = 8;
    let app = TestApp::with(b, |c| c.insecure_anonymous_push = false).await;
    let p = publisher(&app, "alice", "mosip").await;
    for round in 0..ROUNDS {
        let name = format!("mosip/race{round}");
        let built = build_simple(&app, &p, &name, "1.0.0").await;
        let unsigned = unsigned_manifest(&app, &p, &name).await;
        let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let publish = {
            let (router, req, done) = (app.router.clone(), built.request(), done.clone());
            let (uri, auth) = (format!("/api/v1/packages/{name}/versions"), p.auth());
            tokio::spawn(async move {
                use tower::ServiceExt;
                let req = axum::http::Request::post(uri)
                    .header("authorization", auth)
                    .header("content-type", "application/json")
                    .body(axum::body::Body::from(req))
                    .unwrap();
                let status = router.oneshot(req).await.unwrap().status();
                done.store(true, std::sync::atomic::Ordering::SeqCst);
                status
            })
        };
        // PUTs back to back until the publish has answered, and a few after.
        let mut statuses = Vec::new();
        let mut after = 0;
        while after < 3 {
            if done.load(std::sync::atomic::Ordering::SeqCst) {
                after += 1;
            }
            let res = app
                .req(
                    axum::http::Method::PUT,
                    &format!("/v2/{name}/manifests/1.0.0"),
                    &[("authorization", &p.auth()), ("content-type", OCI_MANIFEST)],
                    unsigned.clone(),
                )
                .await;
            assert!(
                res.status == StatusCode::CREATED || res.status == StatusCode::FORBIDDEN,
                "round {round}: {} {}",
                res.status,
                String::from_utf8_lossy(&res.body)
            );
            statuses.push(res.status);
        }
        assert_eq!(publish.await.unwrap(), StatusCode::CREATED, "round {round}");
        assert_eq!(
            tagged(&app, &name, "1.0.0").await,
            text(&built.manifest),
            "round {round}: an unsigned manifest took the version tag (PUT answers: {statuses:?})"
        );
        assert_eq!(statuses.last(), Some(&StatusCode::FORBIDDEN), "round {round}");
    }
}

/// The content blob cannot be read (here: a directory where its file should be) while a
/// publish checks it: a server error, logged, answered without the OS's text.
async fn storage_error_while_checking_content_is_a_server_error(b: Backend) {
    let app = TestApp::with(b, |c| c.insecure_anonymous_push = false).await;
    let p = publisher(&app, "alice", "mosip").await;
    let content = tarball(&[("deploy/values.yaml", b"replicas: 1\n")]);
    let built = build(&app, &p, &p.key, &toml("mosip/broken", "1.0.0", ""), &content).await;
    let hex = govstore_core::Digest::of(&content)
        .to_string()
        .trim_start_matches("sha256:")
        .to_owned();
    let file = app.dir.path().join("blobs/sha256").join(&hex[..2]).join(&hex);
    assert!(file.is_file(), "the content blob is stored at {}", file.display());
    std::fs::remove_file(&file).unwrap();
    std::fs::create_dir(&file).unwrap();
    let res = built.publish(&app, &p.auth()).await;
    assert_eq!(
        res.status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "{}",
        String::from_utf8_lossy(&res.body)
    );
    assert_eq!(res.code(), "UNKNOWN");
    assert_eq!(message(&res), "internal server error");
    let api = app.get("/api/v1/packages/mosip/broken/versions/1.0.0").await;
    assert_eq!(api.status, StatusCode::NOT_FOUND, "nothing is published");
}
