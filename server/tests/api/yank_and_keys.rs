//! Yanking with a reason (and undoing it), keys listed with their revocation, `me`.

use axum::http::StatusCode;
use serde_json::json;

use crate::common::{Backend, TestApp};
use crate::fixture::{build_simple, get_json, post, publisher};
use crate::on_both_backends;

on_both_backends!(yank_keeps_bytes_and_shows_its_reason, keys_and_me);

async fn yank_keeps_bytes_and_shows_its_reason(b: Backend) {
    let app = TestApp::with(b, |c| c.insecure_anonymous_push = false).await;
    let p = publisher(&app, "alice", "mojaloop").await;
    let v1 = build_simple(&app, &p, "mojaloop/switch", "17.0.0").await;
    let v2 = build_simple(&app, &p, "mojaloop/switch", "17.1.0").await;
    assert_eq!(v1.publish(&app, &p.auth()).await.status, StatusCode::CREATED);
    assert_eq!(v2.publish(&app, &p.auth()).await.status, StatusCode::CREATED);

    let yank = |reason: &str| json!({ "reason": reason }).to_string();
    let res = post(
        &app,
        "/api/v1/packages/mojaloop/switch/versions/17.1.0/yank",
        &p.auth(),
        yank("CVE-2026-0001 in the ledger"),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", String::from_utf8_lossy(&res.body));
    assert_eq!(res.json()["yank_reason"], json!("CVE-2026-0001 in the ledger"));

    let info = get_json(&app, "/api/v1/packages/mojaloop/switch").await;
    assert_eq!(info["latest"], json!("17.0.0"), "a yanked version is not the latest");
    assert_eq!(info["versions"][0]["yanked"], json!(true));
    assert_eq!(info["versions"][0]["yank_reason"], json!("CVE-2026-0001 in the ledger"));
    // Still pullable by digest, for those who locked it.
    let m = app.get(&format!("/v2/mojaloop/switch/manifests/{}", v2.digest)).await;
    assert_eq!(m.body, v2.manifest);

    let again = post(
        &app,
        "/api/v1/packages/mojaloop/switch/versions/17.1.0/yank",
        &p.auth(),
        yank("twice"),
    )
    .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    let empty = post(
        &app,
        "/api/v1/packages/mojaloop/switch/versions/17.0.0/yank",
        &p.auth(),
        yank("  "),
    )
    .await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);

    let undo = post(
        &app,
        "/api/v1/packages/mojaloop/switch/versions/17.1.0/unyank",
        &p.auth(),
        String::new(),
    )
    .await;
    assert_eq!(undo.status, StatusCode::OK);
    assert_eq!(
        get_json(&app, "/api/v1/packages/mojaloop/switch").await["latest"],
        json!("17.1.0")
    );

    let stranger = publisher(&app, "eve", "eve").await;
    let res = post(
        &app,
        "/api/v1/packages/mojaloop/switch/versions/17.0.0/yank",
        &stranger.auth(),
        yank("mine now"),
    )
    .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
}

async fn keys_and_me(b: Backend) {
    let app = TestApp::with(b, |c| c.insecure_anonymous_push = false).await;
    let p = publisher(&app, "alice", "dhis2").await;
    let me = app
        .req(
            axum::http::Method::GET,
            "/api/v1/me",
            &[("authorization", &p.auth())],
            axum::body::Body::empty(),
        )
        .await;
    insta::assert_json_snapshot!("me", me.json(), { ".token.prefix" => "[prefix]", ".token.expires_at" => "[time]" });

    let keys = get_json(&app, "/api/v1/namespaces/dhis2/keys").await;
    assert_eq!(keys["keys"][0]["key_id"], json!(p.key.public_key().key_id()));
    assert_eq!(keys["keys"][0]["revoked_at"], json!(null));

    let dup = crate::fixture::register_key(&app, &p, &p.key).await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    let bad = post(
        &app,
        "/api/v1/namespaces/dhis2/keys",
        &p.auth(),
        json!({ "public_key": "not a key" }).to_string(),
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);

    // A publisher (not an owner) may not manage keys.
    govstore_server::admin::create_user(&app.state.db, "pat", false)
        .await
        .unwrap();
    govstore_server::admin::add_member(&app.state.db, "dhis2", "pat", "publisher")
        .await
        .unwrap();
    let t = govstore_server::admin::create_token(&app.state.db, "pat", "t", &["keys:dhis2".into()], Some(1))
        .await
        .unwrap();
    let key = govstore_signing::KeyPair::generate().unwrap();
    let res = post(
        &app,
        "/api/v1/namespaces/dhis2/keys",
        &format!("Bearer {t}"),
        json!({ "public_key": key.public_key().to_pem() }).to_string(),
    )
    .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);

    let key_id = p.key.public_key().key_id();
    let res = post(
        &app,
        &format!("/api/v1/namespaces/dhis2/keys/{key_id}/revoke"),
        &p.auth(),
        json!({ "reason": "rotated" }).to_string(),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK);
    let keys = get_json(&app, "/api/v1/namespaces/dhis2/keys").await;
    assert_eq!(keys["keys"][0]["revoke_reason"], json!("rotated"));
}
