//! Authorisation rules. An action on a namespace needs both a token scope that
//! allows it and a role in the organisation that owns the namespace: `publish` and
//! `yank` need `owner` or `publisher`, `keys` needs `owner`. An admin user's token with
//! the `admin` scope may do everything.

use axum::http::StatusCode;
use govstore_core::scope::{Action, Scope};

use super::Principal;
use crate::db;
use crate::error::{ApiError, ApiResult, Code};
use crate::state::AppState;

fn denied(message: String) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, Code::Denied, message)
}

fn is_admin(p: &Principal) -> bool {
    p.admin && p.scopes.contains(&Scope::Admin)
}

/// Check that `p` may do `action` in `namespace`; returns the organisation's id.
pub async fn require(st: &AppState, p: &Principal, action: Action, namespace: &str) -> ApiResult<i64> {
    let org = db::accounts::organisation(&st.db.read, namespace)
        .await?
        .ok_or_else(|| {
            denied(format!(
                "namespace `{namespace}` belongs to no organisation on this registry"
            ))
        })?;
    if is_admin(p) {
        return Ok(org.id);
    }
    if !p.scopes.iter().any(|s| s.allows(action, namespace)) {
        return Err(denied(format!(
            "this token lacks the scope `{}:{namespace}`",
            action.as_str()
        )));
    }
    let role = db::accounts::role(&st.db.read, org.id, p.user_id).await?;
    let allowed = matches!(
        (action, role.as_deref()),
        (_, Some("owner")) | (Action::Publish | Action::Yank, Some("publisher"))
    );
    if !allowed {
        let need = if action == Action::Keys {
            "an owner"
        } else {
            "an owner or publisher"
        };
        return Err(denied(format!(
            "{} is not {need} of organisation `{namespace}`",
            p.user
        )));
    }
    Ok(org.id)
}

pub fn require_admin(p: &Principal) -> ApiResult<()> {
    if is_admin(p) {
        Ok(())
    } else {
        Err(denied("this needs an admin user's token with the `admin` scope".into()))
    }
}

pub fn require_specs(p: &Principal) -> ApiResult<()> {
    if is_admin(p) || p.scopes.contains(&Scope::Specs) {
        Ok(())
    } else {
        Err(denied("this token lacks the scope `specs`".into()))
    }
}
