//! Requests the API cannot even read (a malformed query or path, a method a route does
//! not have) answer in the JSON error envelope, like every other API error.

use axum::body::Body;
use axum::http::{Method, StatusCode};
use govstore_server::api::openapi::OPERATIONS;

use crate::common::{Backend, Res, TestApp};
use crate::on_both_backends;

on_both_backends!(
    query_and_path_rejections_are_json,
    wrong_method_is_json_405,
    every_route_rejects_in_json
);

fn assert_envelope(res: &Res, status: StatusCode, code: &str, what: &str) {
    assert_eq!(res.status, status, "{what}: {}", String::from_utf8_lossy(&res.body));
    assert_eq!(
        res.header("content-type").as_deref(),
        Some("application/json"),
        "{what}"
    );
    assert_eq!(res.code(), code, "{what}");
    let message = res.json()["errors"][0]["message"].as_str().unwrap().to_owned();
    assert!(
        !message.is_empty() && message.chars().count() <= 201,
        "{what}: {message}"
    );
}

async fn query_and_path_rejections_are_json(b: Backend) {
    let app = TestApp::new(b).await;
    let cases = [
        ("limit_not_a_number", "/api/v1/packages?limit=abc"),
        ("offset_too_large", "/api/v1/search?q=id&offset=99999999999999999999999"),
        ("search_limit_negative", "/api/v1/search?q=id&limit=-1"),
        ("audit_before_not_a_number", "/api/v1/audit?before=yesterday"),
        ("path_not_utf8", "/api/v1/packages/%FF/esignet"),
        (
            "version_path_not_utf8",
            "/api/v1/packages/mosip/esignet/versions/%FF%FE",
        ),
    ];
    for (label, uri) in cases {
        let res = app.get(uri).await;
        assert_envelope(&res, StatusCode::BAD_REQUEST, "INVALID", uri);
        insta::assert_json_snapshot!(format!("rejected_{label}"), res.json());
    }
    // A long bad value is not echoed whole.
    let long = format!("/api/v1/search?q=id&kind={}&limit={}", "k".repeat(10), "9".repeat(5000));
    let res = app.get(&long).await;
    assert_envelope(&res, StatusCode::BAD_REQUEST, "INVALID", "long query");
    let post = app
        .req(
            Method::POST,
            "/api/v1/namespaces/%FF/keys",
            &[("content-type", "application/json")],
            Body::from("{}"),
        )
        .await;
    assert_envelope(&post, StatusCode::BAD_REQUEST, "INVALID", "POST with a bad path");
}

async fn wrong_method_is_json_405(b: Backend) {
    let app = TestApp::new(b).await;
    let res = app.req(Method::DELETE, "/api/v1/packages", &[], Body::empty()).await;
    assert_envelope(
        &res,
        StatusCode::METHOD_NOT_ALLOWED,
        "UNSUPPORTED",
        "DELETE /api/v1/packages",
    );
    assert_eq!(res.header("allow").as_deref(), Some("GET,HEAD"));
    insta::assert_json_snapshot!("method_not_allowed", res.json());
    let res = app.req(Method::PUT, "/api/v1/specs", &[], Body::empty()).await;
    assert_envelope(&res, StatusCode::METHOD_NOT_ALLOWED, "UNSUPPORTED", "PUT /api/v1/specs");
    assert_eq!(res.header("allow").as_deref(), Some("GET,HEAD,POST"));
    // Unknown paths stay 404 in the envelope.
    let res = app
        .req(Method::DELETE, "/api/v1/nothing-here", &[], Body::empty())
        .await;
    assert_envelope(&res, StatusCode::NOT_FOUND, "NOT_FOUND", "unknown path");
}

/// Every documented route: a path parameter that is not UTF-8 and a method it does not
/// have both answer in the envelope (so a handler taking axum's own extractors is caught).
async fn every_route_rejects_in_json(b: Backend) {
    let app = TestApp::new(b).await;
    let params = ["{ns}", "{name}", "{version}", "{key_id}"];
    let concrete = |path: &str, bad: &str| {
        let mut p = path.to_owned();
        for (param, good) in params.iter().zip(["x", "y", "1.0.0", "k"]) {
            p = p.replace(param, if *param == bad { "%FF" } else { good });
        }
        p
    };
    for (path, method) in OPERATIONS {
        let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        for bad in params.iter().filter(|p| path.contains(*p)) {
            let uri = concrete(path, bad);
            let res = app.req(m.clone(), &uri, &[], Body::empty()).await;
            assert_envelope(&res, StatusCode::BAD_REQUEST, "INVALID", &format!("{method} {uri}"));
        }
        let allowed: Vec<&str> = OPERATIONS.iter().filter(|(p, _)| p == path).map(|(_, m)| *m).collect();
        for other in ["get", "post", "put", "delete", "patch"] {
            if allowed.contains(&other) {
                continue;
            }
            let m = Method::from_bytes(other.to_uppercase().as_bytes()).unwrap();
            let uri = concrete(path, "");
            let res = app.req(m, &uri, &[], Body::empty()).await;
            assert_envelope(
                &res,
                StatusCode::METHOD_NOT_ALLOWED,
                "UNSUPPORTED",
                &format!("{other} {uri}"),
            );
            assert!(res.header("allow").is_some(), "{other} {uri}: no Allow header");
        }
    }
}
