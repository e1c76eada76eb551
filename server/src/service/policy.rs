//! Authorisation rules. An action on a namespace needs both a token scope that
//! allows it and a role in the organisation that owns the namespace: `publish` and
//! `yank` need `owner` or `publisher`, `keys` needs `owner`. An admin user's token with
//! the `admin` scope may do everything.

use govstore_core::scope::{Action, Scope};
use sea_orm::ConnectionTrait;

use super::{Error, Principal, Result};
use crate::db;

fn is_admin(p: &Principal) -> bool {
    p.admin && p.scopes.contains(&Scope::Admin)
}

/// Check that `p` may do `action` in `namespace`; returns the organisation's id.
pub async fn require(db: &impl ConnectionTrait, p: &Principal, action: Action, namespace: &str) -> Result<i64> {
    let org = db::accounts::organisation(db, namespace).await?.ok_or_else(|| {
        Error::denied(format!(
            "namespace `{namespace}` belongs to no organisation on this registry"
        ))
    })?;
    if is_admin(p) {
        return Ok(org.id);
    }
    if !p.scopes.iter().any(|s| s.allows(action, namespace)) {
        return Err(Error::denied(format!(
            "this token lacks the scope `{}:{namespace}`",
            action.as_str()
        )));
    }
    let role = db::accounts::role(db, org.id, p.user_id).await?;
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
        return Err(Error::denied(format!(
            "{} is not {need} of organisation `{namespace}`",
            p.user
        )));
    }
    Ok(org.id)
}

pub fn require_admin(p: &Principal) -> Result<()> {
    if is_admin(p) {
        Ok(())
    } else {
        Err(Error::denied("this needs an admin user's token with the `admin` scope"))
    }
}

pub fn require_specs(p: &Principal) -> Result<()> {
    if is_admin(p) || p.scopes.contains(&Scope::Specs) {
        Ok(())
    } else {
        Err(Error::denied("this token lacks the scope `specs`"))
    }
}
