//! A signed publish makes the version visible everywhere at once: API, OCI tag, cosign
//! signature tag, referrers, audit log. Concurrent publishes of one version: one wins.

use axum::http::StatusCode;
use base64::Engine as _;
use govstore_signing::simple_signing;
use serde_json::json;

use crate::common::{Backend, TestApp};
use crate::fixture::{admin_token, build_simple, get_json, publisher};
use crate::on_both_backends;

on_both_backends!(
    publish_makes_a_signed_version_visible,
    twenty_concurrent_publishes_one_wins,
    concurrent_first_publishes_of_a_new_package_all_land,
    tokens_work_as_oci_basic_passwords,
    a_version_carries_its_signature_as_an_attestation
);

/// The publisher signature is one attestation of the version's manifest digest, in a
/// table that holds any number per artifact (approvals come next); the `.sig` tag and
/// the referrer still name the same signature manifest.
async fn a_version_carries_its_signature_as_an_attestation(b: Backend) {
    let app = TestApp::with(b, |c| c.insecure_anonymous_push = false).await;
    let p = publisher(&app, "alice", "mosip").await;
    let built = build_simple(&app, &p, "mosip/esignet", "1.8.0").await;
    let res = built.publish(&app, &p.auth()).await;
    assert_eq!(res.status, StatusCode::CREATED);
    let published: serde_json::Value = res.json();
    let rows = govstore_server::db::attestations::of(&app.state.db.read, &built.digest)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].kind, "signature");
    assert_eq!(rows[0].signer_key_id.as_deref(), published["key_id"].as_str());
    assert_eq!(rows[0].envelope_digest, published["signature_digest"].as_str().unwrap());
    assert_eq!(rows[0].repository, "mosip/esignet");
    let tag = built.digest.cosign_signature_tag();
    let sig = app.get(&format!("/v2/mosip/esignet/manifests/{tag}")).await;
    assert_eq!(
        sig.headers["docker-content-digest"].to_str().unwrap(),
        rows[0].envelope_digest
    );
}

async fn publish_makes_a_signed_version_visible(b: Backend) {
    let app = TestApp::with(b, |c| c.insecure_anonymous_push = false).await;
    let p = publisher(&app, "alice", "mosip").await;
    let built = build_simple(&app, &p, "mosip/esignet", "1.8.0").await;
    let digest = built.digest.to_string();

    // Before publishing, nothing is visible by tag or in the API.
    assert_eq!(
        app.get("/v2/mosip/esignet/manifests/1.8.0").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/api/v1/packages/mosip/esignet").await.status,
        StatusCode::NOT_FOUND
    );

    let res = built.publish(&app, &p.auth()).await;
    assert_eq!(
        res.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&res.body)
    );
    let out = res.json();
    assert_eq!(out["digest"], json!(digest));
    assert_eq!(out["key_id"], json!(p.key.public_key().key_id()));
    insta::assert_json_snapshot!("published", out, { ".digest" => "[digest]", ".signature_digest" => "[digest]", ".key_id" => "[key]" });

    let info = get_json(&app, "/api/v1/packages/mosip/esignet").await;
    assert_eq!(info["latest"], json!("1.8.0"));
    assert_eq!(info["owners"], json!([{ "user": "alice", "role": "owner" }]));
    assert_eq!(info["versions"][0]["digest"], json!(digest));
    let version = get_json(&app, "/api/v1/packages/mosip/esignet/versions/1.8.0").await;
    assert_eq!(version["manifest"]["package"]["name"], json!("mosip/esignet"));

    // The OCI tag serves exactly the signed bytes.
    let m = app.get("/v2/mosip/esignet/manifests/1.8.0").await;
    assert_eq!(m.status, StatusCode::OK);
    assert_eq!(m.body, built.manifest);

    // The cosign-layout signature verifies the payload against the registered key.
    let sig_tag = format!("/v2/mosip/esignet/manifests/sha256-{}.sig", built.digest.hex());
    let sig = app.get(&sig_tag).await;
    assert_eq!(sig.status, StatusCode::OK);
    let sig_manifest = sig.json();
    let layer = &sig_manifest["layers"][0];
    assert_eq!(layer["mediaType"], json!(simple_signing::PAYLOAD_MEDIA_TYPE));
    assert_eq!(sig_manifest["subject"]["digest"], json!(digest));
    let payload = app
        .get(&format!(
            "/v2/mosip/esignet/blobs/{}",
            layer["digest"].as_str().unwrap()
        ))
        .await
        .body;
    let signature = base64::engine::general_purpose::STANDARD
        .decode(
            layer["annotations"][simple_signing::SIGNATURE_ANNOTATION]
                .as_str()
                .unwrap(),
        )
        .unwrap();
    p.key
        .public_key()
        .verify(&payload, &signature)
        .expect("signature verifies");
    assert_eq!(
        simple_signing::parse_payload(&payload).unwrap().manifest_digest,
        built.digest
    );

    // ... and is found through the referrers API.
    let refs = get_json(&app, &format!("/v2/mosip/esignet/referrers/{digest}")).await;
    assert_eq!(
        refs["manifests"][0]["artifactType"],
        json!(simple_signing::SIGNATURE_ARTIFACT_TYPE)
    );

    let search = get_json(&app, "/api/v1/search?q=esignet").await;
    assert_eq!(search["results"][0]["name"], json!("mosip/esignet"));

    let admin = admin_token(&app).await;
    let audit = app
        .req(
            axum::http::Method::GET,
            "/api/v1/audit",
            &[("authorization", &format!("Bearer {admin}"))],
            axum::body::Body::empty(),
        )
        .await;
    let events = audit.json()["events"].clone();
    let publish = events
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == json!("version.publish"))
        .expect("publish audited");
    assert_eq!(publish["actor"], json!("alice"));
    assert_eq!(publish["digest"], json!(digest));
    // Tokens are audited by prefix only: the secret appears nowhere.
    assert!(!audit.body.windows(p.token.len()).any(|w| w == p.token.as_bytes()));
}

async fn twenty_concurrent_publishes_one_wins(b: Backend) {
    let app = TestApp::with(b, |c| c.insecure_anonymous_push = false).await;
    let p = publisher(&app, "alice", "opencrvs").await;
    let built = build_simple(&app, &p, "opencrvs/core", "2.0.0").await;
    let request = built.request();
    let auth = p.auth();
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let router = app.router.clone();
        let (request, auth) = (request.clone(), auth.clone());
        tasks.push(tokio::spawn(async move {
            use tower::ServiceExt;
            let req = axum::http::Request::post("/api/v1/packages/opencrvs/core/versions")
                .header("authorization", auth)
                .header("content-type", "application/json")
                .body(axum::body::Body::from(request))
                .unwrap();
            router.oneshot(req).await.unwrap().status()
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::CREATED).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::CREATED || *s == StatusCode::CONFLICT),
        "{statuses:?}"
    );
    let info = get_json(&app, "/api/v1/packages/opencrvs/core").await;
    assert_eq!(info["versions"].as_array().unwrap().len(), 1);
}

/// The first versions of a new package published at once: each creates the package
/// row unless another just did, and every one lands (none fails on the package's name).
async fn concurrent_first_publishes_of_a_new_package_all_land(b: Backend) {
    let app = TestApp::with(b, |c| c.insecure_anonymous_push = false).await;
    let p = publisher(&app, "alice", "opencrvs").await;
    let versions = ["1.0.0", "1.1.0", "1.2.0", "2.0.0", "2.1.0"];
    let mut requests = Vec::new();
    for v in versions {
        requests.push(build_simple(&app, &p, "opencrvs/core", v).await.request());
    }
    let mut tasks = Vec::new();
    for request in requests {
        let (router, auth) = (app.router.clone(), p.auth());
        tasks.push(tokio::spawn(async move {
            use tower::ServiceExt;
            let req = axum::http::Request::post("/api/v1/packages/opencrvs/core/versions")
                .header("authorization", auth)
                .header("content-type", "application/json")
                .body(axum::body::Body::from(request))
                .unwrap();
            router.oneshot(req).await.unwrap().status()
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert!(statuses.iter().all(|s| *s == StatusCode::CREATED), "{statuses:?}");
    let info = get_json(&app, "/api/v1/packages/opencrvs/core").await;
    let mut listed: Vec<&str> = info["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_str().unwrap())
        .collect();
    listed.sort_unstable();
    assert_eq!(listed, versions);
}

async fn tokens_work_as_oci_basic_passwords(b: Backend) {
    let app = TestApp::with(b, |c| c.insecure_anonymous_push = false).await;
    let p = publisher(&app, "alice", "x-road").await;
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("anyone:{}", p.token))
    );
    let digest = govstore_core::Digest::of(b"layer");
    let res = app
        .req(
            axum::http::Method::POST,
            &format!("/v2/x-road/other/blobs/uploads/?digest={digest}"),
            &[("authorization", &basic)],
            b"layer".to_vec(),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED);
    let wrong = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD
            .encode("anyone:gvs_AAAAAAAA_0123456789012345678901234567890123456789")
    );
    let res = app
        .req(
            axum::http::Method::POST,
            &format!("/v2/x-road/other/blobs/uploads/?digest={digest}"),
            &[("authorization", &wrong)],
            b"layer".to_vec(),
        )
        .await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    // Another namespace: the token has no scope there.
    let res = app
        .req(
            axum::http::Method::POST,
            &format!("/v2/mosip/x/blobs/uploads/?digest={digest}"),
            &[("authorization", &basic)],
            b"layer".to_vec(),
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
}
