//! Without `--insecure-anonymous-push`, every write needs credentials; reads stay open.

use axum::body::Body;
use axum::http::{Method, StatusCode};

use crate::common::{Backend, OCI_MANIFEST, TestApp, digest_of};
use crate::on_both_backends;

on_both_backends!(pushes_need_credentials);

async fn pushes_need_credentials(b: Backend) {
    let app = TestApp::with(b, |c| c.insecure_anonymous_push = false).await;
    let d = digest_of(b"x");
    let attempts = [
        (Method::POST, format!("/v2/a/blobs/uploads/?digest={d}")),
        (Method::POST, "/v2/a/blobs/uploads/".to_owned()),
        (Method::PUT, "/v2/a/manifests/v1".to_owned()),
        (Method::DELETE, "/v2/a/manifests/v1".to_owned()),
        (Method::DELETE, format!("/v2/a/blobs/{d}")),
    ];
    for (method, uri) in attempts {
        let res = app
            .req(method.clone(), &uri, &[("content-type", OCI_MANIFEST)], b"x".to_vec())
            .await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{method} {uri}");
        assert_eq!(
            res.header("www-authenticate").as_deref(),
            Some("Basic realm=\"govstore\"")
        );
    }
    let res = app.req(Method::POST, "/v2/a/blobs/uploads/", &[], Body::empty()).await;
    insta::assert_json_snapshot!("push_unauthorized", res.json());
    assert_eq!(app.upload_files(), 0);
    assert_eq!(
        app.get("/v2/").await.status,
        StatusCode::OK,
        "reads need no credentials"
    );
}
