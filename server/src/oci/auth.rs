//! Who may push. Until accounts and tokens exist, pushing needs the explicit
//! `--insecure-anonymous-push` flag; without it every write answers 401.

use axum::http::HeaderMap;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn require_push(st: &AppState, _headers: &HeaderMap) -> ApiResult<()> {
    if st.config.insecure_anonymous_push {
        Ok(())
    } else {
        Err(ApiError::unauthorized())
    }
}
