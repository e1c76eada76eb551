//! Repository names: nested names work; path-like and malformed names are refused
//! with NAME_INVALID before anything is stored.

use axum::body::Body;
use axum::http::{Method, StatusCode};

use crate::common::{Backend, TestApp, digest_of};
use crate::on_both_backends;

on_both_backends!(path_like_names_are_refused, unknown_endpoints_and_methods);

async fn path_like_names_are_refused(b: Backend) {
    let app = TestApp::new(b).await;
    let d = digest_of(b"x");
    for name in [
        "..",
        "a/..",
        "a/%2e%2e",
        "%2e%2e/etc",
        "a/./b",
        "UPPER",
        "a//b",
        "a%2fb",
        "-lead",
        "a b",
    ] {
        let uri = format!("/v2/{}/blobs/uploads/?digest={d}", name.replace(' ', "%20"));
        let res = app.req(Method::POST, &uri, &[], b"x".to_vec()).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{name}");
        assert_eq!(res.code(), "NAME_INVALID", "{name}");
        let res = app
            .get(&format!("/v2/{}/manifests/latest", name.replace(' ', "%20")))
            .await;
        assert_eq!(res.code(), "NAME_INVALID", "{name}");
    }
    let res = app.get("/v2/a/%2e%2e/tags/list").await;
    insta::assert_json_snapshot!("name_invalid", res.json());
    assert_eq!(app.blob_files(), 0);
    assert_eq!(app.upload_files(), 0);
    assert!(!app.dir.path().join("etc").exists());

    let long = vec!["a"; 200].join("/");
    assert_eq!(app.get(&format!("/v2/{long}/tags/list")).await.code(), "NAME_INVALID");
}

async fn unknown_endpoints_and_methods(b: Backend) {
    let app = TestApp::new(b).await;
    let res = app.get("/v2/a/whatever/x").await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let res = app.req(Method::POST, "/v2/a/tags/list", &[], Body::empty()).await;
    assert_eq!(res.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(res.code(), "UNSUPPORTED");
}
