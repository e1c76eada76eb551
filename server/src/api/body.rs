//! Reading JSON request bodies with a size limit, answering in the API's envelope
//! (axum's own `Json` extractor answers rejections in plain text).

use axum::body::Body;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, ApiResult};

pub async fn json<T: DeserializeOwned>(body: Body, limit: usize) -> ApiResult<T> {
    let bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| ApiError::too_large(format!("request body is larger than {limit} bytes")))?;
    serde_json::from_slice(&bytes).map_err(|e| ApiError::invalid(format!("request body: {e}")))
}
