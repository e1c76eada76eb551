//! Manifests: push by tag and digest, fetch, media-type and reference checks, indexes,
//! size limits, deletes. Every refusal leaves nothing stored.

use axum::body::Body;
use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::common::{Backend, OCI_INDEX, OCI_MANIFEST, TestApp, digest_of, image_manifest};
use crate::on_both_backends;

on_both_backends!(
    push_and_pull_by_tag_and_digest,
    refusals_store_nothing,
    index_of_manifests,
    oversized_manifest,
    manifest_and_tag_delete,
    invalid_reference_is_unknown_on_pull
);

async fn push_and_pull_by_tag_and_digest(b: Backend) {
    let app = TestApp::new(b).await;
    let c = app.push_blob("mosip/esignet", b"{}").await;
    let l = app.push_blob("mosip/esignet", b"layer bytes").await;
    let m = image_manifest((&c, 2), &[(&l, 11)], json!({}));
    let d = digest_of(&m);

    let res = app.put_manifest("mosip/esignet", "1.8.0", OCI_MANIFEST, &m).await;
    assert_eq!(
        res.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&res.body)
    );
    assert_eq!(res.header("docker-content-digest"), Some(d.clone()));
    assert_eq!(res.header("location"), Some(format!("/v2/mosip/esignet/manifests/{d}")));

    for reference in ["1.8.0", d.as_str()] {
        let got = app.get(&format!("/v2/mosip/esignet/manifests/{reference}")).await;
        assert_eq!(got.status, StatusCode::OK);
        assert_eq!(got.body, m);
        assert_eq!(got.header("content-type").as_deref(), Some(OCI_MANIFEST));
        assert_eq!(got.header("docker-content-digest"), Some(d.clone()));
        let head = app
            .req(
                Method::HEAD,
                &format!("/v2/mosip/esignet/manifests/{reference}"),
                &[],
                Body::empty(),
            )
            .await;
        assert_eq!(head.status, StatusCode::OK);
        assert_eq!(head.header("content-length"), Some(m.len().to_string()));
        assert!(head.body.is_empty());
    }

    // By digest, no tag; pushing the same bytes again is idempotent.
    let res = app.put_manifest("mosip/esignet", &d, OCI_MANIFEST, &m).await;
    assert_eq!(res.status, StatusCode::CREATED);

    let missing = app.get("/v2/mosip/esignet/manifests/9.9.9").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    insta::assert_json_snapshot!("manifest_unknown", missing.json());
}

async fn refusals_store_nothing(b: Backend) {
    let app = TestApp::new(b).await;
    let c = app.push_blob("r", b"{}").await;
    let good = image_manifest((&c, 2), &[], json!({}));
    let absent = digest_of(b"never pushed");

    let cases: Vec<(&str, &str, Vec<u8>, &str, StatusCode)> = vec![
        (
            "malformed_json",
            OCI_MANIFEST,
            b"{not json".to_vec(),
            "MANIFEST_INVALID",
            StatusCode::BAD_REQUEST,
        ),
        (
            "unknown_media_type",
            "application/x-unknown",
            String::from_utf8(good.clone())
                .unwrap()
                .replace(OCI_MANIFEST, "application/x-unknown")
                .into_bytes(),
            "MANIFEST_INVALID",
            StatusCode::BAD_REQUEST,
        ),
        (
            "content_type_mismatch",
            OCI_INDEX,
            good.clone(),
            "MANIFEST_INVALID",
            StatusCode::BAD_REQUEST,
        ),
        (
            "blob_unknown",
            OCI_MANIFEST,
            image_manifest((&c, 2), &[(&absent, 12)], json!({})),
            "MANIFEST_BLOB_UNKNOWN",
            StatusCode::BAD_REQUEST,
        ),
        (
            "size_mismatch",
            OCI_MANIFEST,
            image_manifest((&c, 3), &[], json!({})),
            "MANIFEST_INVALID",
            StatusCode::BAD_REQUEST,
        ),
        (
            "schema_version",
            OCI_MANIFEST,
            image_manifest((&c, 2), &[], json!({"schemaVersion": 1})),
            "MANIFEST_INVALID",
            StatusCode::BAD_REQUEST,
        ),
        (
            "bad_layer_digest",
            OCI_MANIFEST,
            image_manifest((&c, 2), &[("sha256:1234", 1)], json!({})),
            "MANIFEST_INVALID",
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (label, ct, body, code, status) in cases {
        let res = app.put_manifest("r", "v1", ct, &body).await;
        assert_eq!(res.status, status, "{label}: {}", String::from_utf8_lossy(&res.body));
        assert_eq!(res.code(), code, "{label}");
        insta::assert_json_snapshot!(format!("manifest_refused_{label}"), res.json(), {
            ".errors[0].detail.digest" => "[digest]"
        });
    }

    // A digest in the URL that does not match the body.
    let res = app.put_manifest("r", &absent, OCI_MANIFEST, &good).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert_eq!(res.code(), "DIGEST_INVALID");

    let tags = app.get("/v2/r/tags/list").await;
    assert_eq!(tags.json()["tags"], json!([]), "no refused manifest left a tag");
    assert_eq!(
        app.get(&format!("/v2/r/manifests/{}", digest_of(&good))).await.status,
        StatusCode::NOT_FOUND
    );
}

async fn index_of_manifests(b: Backend) {
    let app = TestApp::new(b).await;
    let c = app.push_blob("idx", b"{}").await;
    let m = image_manifest((&c, 2), &[], json!({}));
    let md = digest_of(&m);
    let index = |d: &str| {
        serde_json::to_vec(&json!({
            "schemaVersion": 2, "mediaType": OCI_INDEX,
            "manifests": [{ "mediaType": OCI_MANIFEST, "digest": d, "size": m.len() }]
        }))
        .unwrap()
    };
    let res = app.put_manifest("idx", "bundle", OCI_INDEX, &index(&md)).await;
    assert_eq!(
        res.code(),
        "MANIFEST_BLOB_UNKNOWN",
        "the child manifest is not pushed yet"
    );
    app.put_manifest("idx", &md, OCI_MANIFEST, &m).await;
    let res = app.put_manifest("idx", "bundle", OCI_INDEX, &index(&md)).await;
    assert_eq!(res.status, StatusCode::CREATED);
    let got = app.get("/v2/idx/manifests/bundle").await;
    assert_eq!(got.header("content-type").as_deref(), Some(OCI_INDEX));
}

async fn oversized_manifest(b: Backend) {
    let app = TestApp::with(b, |c| c.limits.max_manifest_bytes = 512).await;
    let c = app.push_blob("big", b"{}").await;
    let m = image_manifest((&c, 2), &[], json!({ "annotations": { "filler": "x".repeat(600) } }));
    let res = app.put_manifest("big", "v1", OCI_MANIFEST, &m).await;
    assert_eq!(res.status, StatusCode::PAYLOAD_TOO_LARGE);
    insta::assert_json_snapshot!("manifest_too_large", res.json());
    // The same without a Content-Length header (a streamed body).
    let stream = futures_util::stream::iter(vec![Ok::<_, std::io::Error>(bytes::Bytes::from(m.clone()))]);
    let res = app
        .req(
            Method::PUT,
            "/v2/big/manifests/v1",
            &[("content-type", OCI_MANIFEST)],
            Body::from_stream(stream),
        )
        .await;
    assert_eq!(res.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(app.get("/v2/big/manifests/v1").await.status, StatusCode::NOT_FOUND);
}

async fn manifest_and_tag_delete(b: Backend) {
    let app = TestApp::with(b, |c| c.allow_delete = true).await;
    let c = app.push_blob("del", b"{}").await;
    let m = image_manifest((&c, 2), &[], json!({}));
    let d = digest_of(&m);
    app.put_manifest("del", "a", OCI_MANIFEST, &m).await;
    app.put_manifest("del", "b", OCI_MANIFEST, &m).await;

    assert_eq!(
        app.req(Method::DELETE, "/v2/del/manifests/a", &[], Body::empty())
            .await
            .status,
        StatusCode::ACCEPTED
    );
    assert_eq!(app.get("/v2/del/tags/list").await.json()["tags"], json!(["b"]));
    assert_eq!(
        app.get(&format!("/v2/del/manifests/{d}")).await.status,
        StatusCode::OK,
        "deleting a tag keeps the manifest"
    );

    assert_eq!(
        app.req(Method::DELETE, &format!("/v2/del/manifests/{d}"), &[], Body::empty())
            .await
            .status,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        app.get(&format!("/v2/del/manifests/{d}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/v2/del/tags/list").await.json()["tags"],
        json!([]),
        "tags of a deleted manifest go too"
    );
    let again = app
        .req(Method::DELETE, &format!("/v2/del/manifests/{d}"), &[], Body::empty())
        .await;
    assert_eq!(again.code(), "MANIFEST_UNKNOWN");

    let app = TestApp::new(b).await;
    let c = app.push_blob("keep", b"{}").await;
    app.put_manifest("keep", "a", OCI_MANIFEST, &image_manifest((&c, 2), &[], json!({})))
        .await;
    let res = app
        .req(Method::DELETE, "/v2/keep/manifests/a", &[], Body::empty())
        .await;
    assert_eq!(res.status, StatusCode::METHOD_NOT_ALLOWED);
    insta::assert_json_snapshot!("delete_disabled", res.json());
}

/// A reference that is neither a tag nor a digest names no manifest that could exist:
/// GET and HEAD answer 404 `MANIFEST_UNKNOWN` (as the distribution-spec conformance suite
/// expects, with `.INVALID_MANIFEST_NAME`); a PUT under it is refused as invalid.
async fn invalid_reference_is_unknown_on_pull(b: Backend) {
    let app = TestApp::new(b).await;
    let c = app.push_blob("r", b"{}").await;
    let m = image_manifest((&c, 2), &[], json!({}));
    assert_eq!(
        app.put_manifest("r", "v1", OCI_MANIFEST, &m).await.status,
        StatusCode::CREATED
    );
    let long = "x".repeat(300);
    for reference in [
        ".INVALID_MANIFEST_NAME",
        "-lead",
        "sha256:zz",
        "sha512:00",
        long.as_str(),
    ] {
        let uri = format!("/v2/r/manifests/{reference}");
        let got = app.get(&uri).await;
        assert_eq!(got.status, StatusCode::NOT_FOUND, "GET {reference}");
        assert_eq!(got.code(), "MANIFEST_UNKNOWN", "GET {reference}");
        let shown = got.json()["errors"][0]["detail"]["reference"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(shown.len() <= 128, "the reference is echoed clipped: {shown}");
        let head = app.req(Method::HEAD, &uri, &[], Body::empty()).await;
        assert_eq!(head.status, StatusCode::NOT_FOUND, "HEAD {reference}");
        assert!(head.body.is_empty());
        let put = app.put_manifest("r", reference, OCI_MANIFEST, &m).await;
        assert_eq!(put.status, StatusCode::BAD_REQUEST, "PUT {reference}");
        assert_eq!(put.code(), "MANIFEST_INVALID", "PUT {reference}");
    }
    let got = app.get("/v2/r/manifests/.INVALID_MANIFEST_NAME").await;
    insta::assert_json_snapshot!("manifest_unknown_invalid_reference", got.json());
    let tags = app.get("/v2/r/tags/list").await;
    assert_eq!(tags.json()["tags"], json!(["v1"]), "no refused PUT left a tag");
}
