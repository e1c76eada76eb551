//! Blob GET/HEAD with ranges, monolithic upload, mounts and deletes.

use axum::body::Body;
use axum::http::{Method, StatusCode};

use crate::common::{Backend, TestApp, digest_of};
use crate::on_both_backends;

on_both_backends!(
    monolithic_push_then_get_head_and_ranges,
    wrong_digest_stores_nothing,
    cross_repository_mount,
    blob_delete
);

async fn monolithic_push_then_get_head_and_ranges(b: Backend) {
    let app = TestApp::new(b).await;
    let base = app.get("/v2/").await;
    assert_eq!(base.status, StatusCode::OK);
    assert_eq!(
        base.header("docker-distribution-api-version").as_deref(),
        Some("registry/2.0")
    );

    let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let d = app.push_blob("govstore/blobs", &data).await;

    let got = app.get(&format!("/v2/govstore/blobs/blobs/{d}")).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.body, data);
    assert_eq!(got.header("docker-content-digest").as_deref(), Some(d.as_str()));
    assert_eq!(got.header("content-length").as_deref(), Some("100000"));

    let head = app
        .req(
            Method::HEAD,
            &format!("/v2/govstore/blobs/blobs/{d}"),
            &[],
            Body::empty(),
        )
        .await;
    assert_eq!(head.status, StatusCode::OK);
    assert!(head.body.is_empty());
    assert_eq!(head.header("content-length").as_deref(), Some("100000"));

    let part = app
        .req(
            Method::GET,
            &format!("/v2/govstore/blobs/blobs/{d}"),
            &[("range", "bytes=10-19")],
            Body::empty(),
        )
        .await;
    assert_eq!(part.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(part.body, &data[10..20]);
    assert_eq!(part.header("content-range").as_deref(), Some("bytes 10-19/100000"));

    let suffix = app
        .req(
            Method::GET,
            &format!("/v2/govstore/blobs/blobs/{d}"),
            &[("range", "bytes=-5")],
            Body::empty(),
        )
        .await;
    assert_eq!(suffix.body, &data[99_995..]);

    let bad = app
        .req(
            Method::GET,
            &format!("/v2/govstore/blobs/blobs/{d}"),
            &[("range", "bytes=200000-")],
            Body::empty(),
        )
        .await;
    assert_eq!(bad.status, StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(bad.header("content-range").as_deref(), Some("bytes */100000"));

    let unknown = app
        .get(&format!("/v2/govstore/blobs/blobs/{}", digest_of(b"nope")))
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    insta::assert_json_snapshot!("blob_unknown", unknown.json(), { ".errors[0].detail.digest" => "[digest]" });

    let no_repo = app.get(&format!("/v2/nobody/here/blobs/{d}")).await;
    assert_eq!(no_repo.status, StatusCode::NOT_FOUND);
    assert_eq!(no_repo.code(), "NAME_UNKNOWN");

    let bad_digest = app.get("/v2/govstore/blobs/blobs/sha256:xyz").await;
    assert_eq!(bad_digest.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad_digest.code(), "DIGEST_INVALID");
}

async fn wrong_digest_stores_nothing(b: Backend) {
    let app = TestApp::new(b).await;
    let claimed = digest_of(b"something else");
    let res = app
        .req(
            Method::POST,
            &format!("/v2/a/blobs/uploads/?digest={claimed}"),
            &[],
            b"actual bytes".to_vec(),
        )
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    insta::assert_json_snapshot!("monolithic_digest_mismatch", res.json(), {
        ".errors[0].detail.expected" => "[digest]", ".errors[0].detail.actual" => "[digest]"
    });
    assert_eq!(
        app.get(&format!("/v2/a/blobs/{claimed}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&format!("/v2/a/blobs/{}", digest_of(b"actual bytes")))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/v2/a/tags/list").await.code(),
        "NAME_UNKNOWN",
        "a refused upload creates no repository"
    );
    assert_eq!(app.blob_files(), 0);
    assert_eq!(app.upload_files(), 0);
}

async fn cross_repository_mount(b: Backend) {
    let app = TestApp::new(b).await;
    let d = app.push_blob("org/source", b"shared layer").await;

    let res = app
        .req(
            Method::POST,
            &format!("/v2/org/target/blobs/uploads/?mount={d}&from=org/source"),
            &[],
            Body::empty(),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED);
    assert_eq!(res.header("location"), Some(format!("/v2/org/target/blobs/{d}")));
    assert_eq!(
        app.get(&format!("/v2/org/target/blobs/{d}")).await.body,
        b"shared layer"
    );
    assert_eq!(app.blob_files(), 1, "a mount shares bytes, it does not copy them");

    // A blob the source repository does not have: the registry opens an upload instead.
    let other = digest_of(b"not there");
    let res = app
        .req(
            Method::POST,
            &format!("/v2/org/target/blobs/uploads/?mount={other}&from=org/source"),
            &[],
            Body::empty(),
        )
        .await;
    assert_eq!(res.status, StatusCode::ACCEPTED);
    assert!(
        res.header("location")
            .unwrap()
            .starts_with("/v2/org/target/blobs/uploads/")
    );

    // A blob in the store but not in the named source repository cannot be mounted from it.
    let d2 = app.push_blob("org/private", b"private layer").await;
    let res = app
        .req(
            Method::POST,
            &format!("/v2/org/target/blobs/uploads/?mount={d2}&from=org/source"),
            &[],
            Body::empty(),
        )
        .await;
    assert_eq!(res.status, StatusCode::ACCEPTED);
    assert_eq!(
        app.get(&format!("/v2/org/target/blobs/{d2}")).await.status,
        StatusCode::NOT_FOUND
    );
}

async fn blob_delete(b: Backend) {
    let app = TestApp::new(b).await;
    let d = app.push_blob("a/b", b"x").await;
    let res = app
        .req(Method::DELETE, &format!("/v2/a/b/blobs/{d}"), &[], Body::empty())
        .await;
    assert_eq!(res.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(res.code(), "UNSUPPORTED");
    assert_eq!(app.get(&format!("/v2/a/b/blobs/{d}")).await.status, StatusCode::OK);

    let app = TestApp::with(b, |c| c.allow_delete = true).await;
    let d = app.push_blob("a/b", b"x").await;
    assert_eq!(
        app.req(Method::DELETE, &format!("/v2/a/b/blobs/{d}"), &[], Body::empty())
            .await
            .status,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        app.get(&format!("/v2/a/b/blobs/{d}")).await.status,
        StatusCode::NOT_FOUND
    );
    let again = app
        .req(Method::DELETE, &format!("/v2/a/b/blobs/{d}"), &[], Body::empty())
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    assert_eq!(again.code(), "BLOB_UNKNOWN");
}
