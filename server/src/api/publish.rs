//! `POST /api/v1/packages/{ns}/{name}/versions`: publish a signed package version.
//!
//! Parses the request (names, base64 payload and signature, sizes), authenticates, and
//! calls [`crate::service::publish`], which checks everything and makes the version
//! visible in one transaction.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use govstore_core::package::PackageName;
use govstore_core::scope::Action;
use govstore_signing::simple_signing;
use serde::Deserialize;
use serde_json::json;

use super::body;
use super::extract::Path;
use crate::auth::{require, require_principal};
use crate::error::{ApiError, ApiResult};
use crate::service::publish;
use crate::state::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PublishRequest {
    manifest: String,
    payload: String,
    signature: String,
}

fn b64(field: &str, s: &str, limit: usize) -> ApiResult<Vec<u8>> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .map_err(|_| ApiError::invalid(format!("{field} is not base64")))?;
    if bytes.len() > limit {
        return Err(ApiError::invalid(format!("{field} is larger than {limit} bytes")));
    }
    Ok(bytes)
}

pub async fn publish(
    State(st): State<AppState>,
    Path((ns, name)): Path<(String, String)>,
    headers: HeaderMap,
    b: Body,
) -> ApiResult<Response> {
    let p = require_principal(&st, &headers).await?;
    let package: PackageName = format!("{ns}/{name}")
        .parse()
        .map_err(|e: govstore_core::package::QualifiedNameError| ApiError::invalid(e.to_string()))?;
    // Refuse before reading a large body; the service checks again.
    require(&st, &p, Action::Publish, package.namespace()).await?;
    let max_manifest = st.config.limits.max_manifest_bytes as usize;
    let req: PublishRequest = body::json(b, 2 * max_manifest + 4 * simple_signing::MAX_PAYLOAD_LEN).await?;
    let request = publish::Request {
        package,
        manifest: req.manifest.into_bytes(),
        payload: b64("payload", &req.payload, simple_signing::MAX_PAYLOAD_LEN)?,
        signature: b64("signature", &req.signature, 1024)?,
    };
    let done = publish::publish(&st, &p, request).await?;
    let body = json!({
        "name": done.package.as_str(),
        "version": done.version,
        "digest": done.digest.to_string(),
        "signature_digest": done.signature_digest.to_string(),
        "key_id": done.key_id,
    });
    Ok((StatusCode::CREATED, Json(body)).into_response())
}
