//! `Query` and `Path` extractors that answer rejections in the API's JSON envelope
//! (axum's own answer in plain text). Handlers use these in place of axum's:
//! `use super::extract::{Path, Query};`, the same patterns (`Query(q): Query<T>`).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::error::ApiError;

/// Longest rejection text passed on: it may echo client input.
const MAX_MESSAGE_CHARS: usize = 200;

/// The query string, deserialised into `T`; a malformed one answers 400 `INVALID`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<T>(pub T);

/// The path parameters, deserialised into `T`; one that cannot be (not UTF-8, not a
/// number) answers 400 `INVALID`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Path<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Self(v)),
            Err(e) => Err(rejection(
                e.status(),
                "malformed query string",
                &e.body_text(),
                "Failed to deserialize query string: ",
            )),
        }
    }
}

impl<T, S> FromRequestParts<S> for Path<T>
where
    T: serde::de::DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(Self(v)),
            Err(e) => Err(rejection(e.status(), "malformed path", &e.body_text(), "Invalid URL: ")),
        }
    }
}

/// A client's mistake as 400 `INVALID`: `what`, then axum's text without its `prefix`,
/// clipped. A route that does not match its handler's parameters (axum answers 500) is
/// an internal error.
fn rejection(status: axum::http::StatusCode, what: &str, text: &str, prefix: &str) -> ApiError {
    if status.is_server_error() {
        return ApiError::internal(format_args!("extractor: {text}"));
    }
    let text = text.strip_prefix(prefix).unwrap_or(text);
    let mut message: String = format!("{what}: {text}").chars().take(MAX_MESSAGE_CHARS).collect();
    if what.chars().count() + 2 + text.chars().count() > MAX_MESSAGE_CHARS {
        message.push('…');
    }
    ApiError::invalid(message)
}

/// The answer to a method a route does not have: 405 `UNSUPPORTED` (axum adds `Allow`).
pub async fn method_not_allowed(method: axum::http::Method) -> ApiError {
    ApiError::unsupported(format!("method {method} is not allowed on this endpoint"))
}
