//! The OCI Distribution API (spec v1.1) under `/v2`.
//!
//! One dispatcher parses the path (names may contain `/`) and the method, then calls
//! the endpoint's handler. Handlers validate input with `govstore_core`, then call
//! `db` and `storage`; they never touch SQL or paths themselves.

pub(crate) mod auth;
mod blobs;
mod manifests;
pub mod range;
mod referrers;
pub mod route;
mod tags;
mod uploads;

use std::collections::HashMap;

use axum::Router;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;

use crate::error::{ApiError, ApiResult, Code};
use crate::state::AppState;
use route::Route;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v2", any(dispatch))
        .route("/v2/", any(dispatch))
        .route("/v2/{*rest}", any(dispatch))
}

/// The query string as a map; a repeated key keeps its last value.
pub(crate) type QueryMap = HashMap<String, String>;

async fn dispatch(State(st): State<AppState>, method: Method, uri: Uri, headers: HeaderMap, body: Body) -> Response {
    let mut res = match handle(st, &method, &uri, &headers, body).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    };
    res.headers_mut().insert(
        "docker-distribution-api-version",
        HeaderValue::from_static("registry/2.0"),
    );
    res
}

async fn handle(st: AppState, method: &Method, uri: &Uri, headers: &HeaderMap, body: Body) -> ApiResult<Response> {
    let Some(route) = route::parse(uri.path())? else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            Code::Unsupported,
            "no such endpoint",
        ));
    };
    let query: QueryMap = Query::<QueryMap>::try_from_uri(uri)
        .map(|q| q.0)
        .map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, Code::Unsupported, "malformed query string"))?;
    let head = method == Method::HEAD;
    match (route, method.clone()) {
        (Route::Base, Method::GET | Method::HEAD) => Ok((
            [(header::CONTENT_TYPE, "application/json")],
            if head { Body::empty() } else { Body::from("{}") },
        )
            .into_response()),
        (Route::Tags { name }, Method::GET) => tags::list(&st, &name, &query).await,
        (Route::Manifest { name, reference }, Method::GET | Method::HEAD) => {
            manifests::get(&st, &name, &reference, head).await
        }
        (Route::Manifest { name, reference }, Method::PUT) => {
            auth::require_push(&st, headers, &name).await?;
            auth::require_not_package(&st, &name).await?;
            manifests::put(&st, &name, &reference, headers, body).await
        }
        (Route::Manifest { name, reference }, Method::DELETE) => {
            auth::require_push(&st, headers, &name).await?;
            auth::require_not_package(&st, &name).await?;
            manifests::delete(&st, &name, &reference).await
        }
        (Route::Blob { name, digest }, Method::GET | Method::HEAD) => {
            blobs::get(&st, &name, &digest, headers, head).await
        }
        (Route::Blob { name, digest }, Method::DELETE) => {
            auth::require_push(&st, headers, &name).await?;
            auth::require_not_package(&st, &name).await?;
            blobs::delete(&st, &name, &digest).await
        }
        (Route::UploadStart { name }, Method::POST) => {
            auth::require_push(&st, headers, &name).await?;
            uploads::start(&st, &name, &query, body).await
        }
        (Route::Upload { name, id }, Method::GET) => uploads::status(&st, &name, &id).await,
        (Route::Upload { name, id }, Method::PATCH) => {
            auth::require_push(&st, headers, &name).await?;
            uploads::patch(&st, &name, &id, headers, body).await
        }
        (Route::Upload { name, id }, Method::PUT) => {
            auth::require_push(&st, headers, &name).await?;
            uploads::finish(&st, &name, &id, &query, headers, body).await
        }
        (Route::Upload { name, id }, Method::DELETE) => {
            auth::require_push(&st, headers, &name).await?;
            uploads::cancel(&st, &name, &id).await
        }
        (Route::Referrers { name, digest }, Method::GET) => referrers::list(&st, &name, &digest, &query).await,
        (_, m) => Err(ApiError::unsupported(format!(
            "method {m} is not allowed on this endpoint"
        ))),
    }
}

/// A header value from a string this server built (digests, paths, numbers).
pub(crate) fn hv(s: impl AsRef<str>) -> HeaderValue {
    HeaderValue::from_str(s.as_ref()).unwrap_or_else(|_| HeaderValue::from_static(""))
}

pub use uploads::expire as expire_uploads;
