//! Tag listing: lexical order, `n`, `last`, `Link`.

use serde_json::json;

use axum::http::StatusCode;

use crate::common::{Backend, OCI_MANIFEST, TestApp, image_manifest};
use crate::on_both_backends;

on_both_backends!(tags_sorted_and_paginated);

async fn tags_sorted_and_paginated(b: Backend) {
    let app = TestApp::new(b).await;
    let c = app.push_blob("a/b/c", b"{}").await;
    let m = image_manifest((&c, 2), &[], json!({}));
    for tag in ["v2", "V1", "1.10.0", "1.9.0", "latest", "_x"] {
        assert_eq!(
            app.put_manifest("a/b/c", tag, OCI_MANIFEST, &m).await.status,
            StatusCode::CREATED
        );
    }
    let all = app.get("/v2/a/b/c/tags/list").await;
    assert_eq!(
        all.json(),
        json!({ "name": "a/b/c", "tags": ["1.10.0", "1.9.0", "V1", "_x", "latest", "v2"] })
    );
    assert!(all.header("link").is_none());

    let page = app.get("/v2/a/b/c/tags/list?n=2").await;
    assert_eq!(page.json()["tags"], json!(["1.10.0", "1.9.0"]));
    assert_eq!(
        page.header("link").as_deref(),
        Some("</v2/a/b/c/tags/list?n=2&last=1.9.0>; rel=\"next\"")
    );
    let next = app.get("/v2/a/b/c/tags/list?n=2&last=1.9.0").await;
    assert_eq!(next.json()["tags"], json!(["V1", "_x"]));
    let last = app.get("/v2/a/b/c/tags/list?n=2&last=latest").await;
    assert_eq!(last.json()["tags"], json!(["v2"]));
    assert!(last.header("link").is_none());
    assert_eq!(app.get("/v2/a/b/c/tags/list?n=0").await.json()["tags"], json!([]));

    let bad = app.get("/v2/a/b/c/tags/list?n=lots").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let unknown = app.get("/v2/no/such/repo/tags/list").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    insta::assert_json_snapshot!("name_unknown", unknown.json());
}
