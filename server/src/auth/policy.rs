//! The authorisation rules for handlers: [`crate::service::policy`], answered as
//! `ApiError`s.

use govstore_core::scope::Action;

use super::Principal;
use crate::error::ApiResult;
use crate::service::policy;
use crate::state::AppState;

/// Check that `p` may do `action` in `namespace`; returns the organisation's id.
pub async fn require(st: &AppState, p: &Principal, action: Action, namespace: &str) -> ApiResult<i64> {
    Ok(policy::require(&st.db.read, p, action, namespace).await?)
}

pub fn require_admin(p: &Principal) -> ApiResult<()> {
    Ok(policy::require_admin(p)?)
}

pub fn require_specs(p: &Principal) -> ApiResult<()> {
    Ok(policy::require_specs(p)?)
}
