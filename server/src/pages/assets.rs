//! `GET /static/{file}`: the embedded stylesheet under its content-hashed name, cached for
//! a year (`immutable`: a new build changes the name). Any other name is a 404.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

pub async fn file(super::PagePath(file): super::PagePath<String>, headers: HeaderMap) -> Response {
    let Some(asset) = govstore_web::assets::find(&file) else {
        let nosniff = [(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"))];
        return (StatusCode::NOT_FOUND, nosniff, "no such file").into_response();
    };
    let mut res = if super::not_modified(&headers, &asset.etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        asset.bytes.into_response()
    };
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    if let Ok(v) = HeaderValue::from_str(&asset.etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    res
}
