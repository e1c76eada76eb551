//! The OpenAPI document is served, stable (snapshot), and documents every route.

use axum::http::{Method, StatusCode};

use crate::common::{Backend, TestApp};
use crate::on_both_backends;

on_both_backends!(openapi_document_covers_every_route);

async fn openapi_document_covers_every_route(b: Backend) {
    let app = TestApp::new(b).await;
    let res = app.get("/api/v1/openapi.json").await;
    assert_eq!(res.status, StatusCode::OK);
    let doc = res.json();
    insta::assert_json_snapshot!("openapi", doc, { ".info.version" => "[version]" });
    for (path, method) in govstore_server::api::openapi::OPERATIONS {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} is not documented"
        );
        // The router answers that method on that path (never with the fallback 404).
        let concrete = path
            .replace("{ns}", "x")
            .replace("{name}", "y")
            .replace("{version}", "1.0.0")
            .replace("{key_id}", "k");
        let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let res = app.req(m, &concrete, &[], axum::body::Body::empty()).await;
        let body = String::from_utf8_lossy(&res.body);
        assert!(!body.contains("no such API endpoint"), "{method} {path} is not routed");
        assert_ne!(res.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
    }
    let documented: usize = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|p| p.as_object().unwrap().len())
        .sum();
    assert_eq!(
        documented,
        govstore_server::api::openapi::OPERATIONS.len(),
        "every documented operation is listed"
    );
}
