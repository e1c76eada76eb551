//! Country bundles: sign (and so make) a bundle version (`approve:CC`), list a
//! country's bundles, read one version's members, signatures and threshold (public).
//!
//! `POST /api/v1/countries/{cc}/bundles` takes `{"index": b64, "envelope": {DSSE},
//! "cosign_signature": b64}`: the canonical image index bytes, one approver's bundle
//! statement and the same key's signature over the cosign simple-signing payload of the
//! index (see `service::bundles`). 201 when this signature is new, 200 when it was
//! recorded before; the answer is the bundle's state either way.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use govstore_core::bundle::BundleRef;
use govstore_core::manifest::values::CountryCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::body;
use super::extract::Path;
use crate::auth::require_principal;
use crate::error::{ApiError, ApiResult};
use crate::service::bundles;
use crate::state::AppState;

/// An upload: a 1 MiB index and a small envelope, base64 and JSON.
const MAX_BODY: usize = 2 * 1024 * 1024;

fn code(raw: &str) -> ApiResult<CountryCode> {
    raw.to_ascii_uppercase()
        .parse()
        .map_err(|e: govstore_core::manifest::values::ValueError| ApiError::invalid(e.to_string()))
}

#[derive(Deserialize)]
pub struct SignBody {
    index: String,
    envelope: Value,
    cosign_signature: String,
}

pub async fn sign(
    State(st): State<AppState>,
    Path(cc): Path<String>,
    headers: HeaderMap,
    b: Body,
) -> ApiResult<Response> {
    let cc = code(&cc)?;
    let p = require_principal(&st, &headers).await?;
    crate::service::policy::require_country(&st.db.read, &p, govstore_core::scope::CountryAction::Approve, cc)
        .await
        .map_err(ApiError::from)?;
    let req: SignBody = body::json(b, MAX_BODY).await?;
    let b64 = base64::engine::general_purpose::STANDARD;
    let index = b64
        .decode(req.index.as_bytes())
        .map_err(|_| ApiError::invalid("`index` is not base64"))?;
    let simple_signature = b64
        .decode(req.cosign_signature.as_bytes())
        .map_err(|_| ApiError::invalid("`cosign_signature` is not base64"))?;
    let envelope = serde_json::to_vec(&req.envelope).map_err(|_| ApiError::invalid("`envelope` is not JSON"))?;
    let (state, new) = bundles::sign(
        &st,
        &p,
        cc,
        bundles::Signing {
            index,
            envelope,
            simple_signature,
        },
    )
    .await?;
    let status = if new { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(json!(state))).into_response())
}

pub async fn list(State(st): State<AppState>, Path(cc): Path<String>) -> ApiResult<Json<Value>> {
    let cc = code(&cc)?;
    let out: Vec<Value> = bundles::list(&st, cc)
        .await?
        .into_iter()
        .map(|(name, versions)| {
            json!({
                "name": name,
                "reference": format!("{cc}/{name}"),
                "latest": versions.last(),
                "versions": versions,
            })
        })
        .collect();
    Ok(Json(json!({ "country": cc.as_str(), "bundles": out })))
}

pub async fn get(
    State(st): State<AppState>,
    Path((cc, name, version)): Path<(String, String, String)>,
) -> ApiResult<Json<Value>> {
    let cc = code(&cc)?;
    let r: BundleRef = format!("{cc}/{name}@{version}")
        .parse()
        .map_err(|e: govstore_core::bundle::BundleError| ApiError::invalid(e.to_string()))?;
    Ok(Json(json!(bundles::state(&st, cc, &r).await?)))
}
