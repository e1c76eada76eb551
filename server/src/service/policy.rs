//! Authorisation rules. An action on a namespace needs both a token scope that
//! allows it and a role in the organisation that owns the namespace: `publish` and
//! `yank` need `owner` or `publisher`, `keys` needs `owner` (in a country's
//! organisation also `approver`: approvers register their own keys). A country action
//! needs the scope `review:CC`, `approve:CC` or `country-admin:CC` and a role in the
//! country's organisation: `review` needs `reviewer`, `approver` or `owner`; `approve`
//! needs `approver` or `owner`; `country-admin` needs `owner`. An admin user's token
//! with the `admin` scope may do everything.

use govstore_core::manifest::values::CountryCode;
use govstore_core::scope::{Action, CountryAction, Scope};
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
    let country_keys = action == Action::Keys
        && role.as_deref() == Some("approver")
        && db::countries::by_code(db, &namespace.to_ascii_uppercase())
            .await?
            .is_some_and(|c| c.organisation_id == org.id);
    let allowed = country_keys
        || matches!(
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

/// Whether `role` may do `action` in a country.
pub fn country_role_allows(action: CountryAction, role: &str) -> bool {
    matches!(
        (action, role),
        (_, "owner") | (CountryAction::Review, "reviewer" | "approver") | (CountryAction::Approve, "approver")
    )
}

/// Check that `p` may do `action` for `country`; returns the country.
pub async fn require_country(
    db: &impl ConnectionTrait,
    p: &Principal,
    action: CountryAction,
    country: CountryCode,
) -> Result<db::countries::Country> {
    let c = db::countries::by_code(db, country.as_str())
        .await?
        .ok_or_else(|| Error::not_found(format!("country {country} is not set up on this registry")))?;
    if is_admin(p) {
        return Ok(c);
    }
    if !p.scopes.iter().any(|s| s.allows_country(action, country)) {
        return Err(Error::denied(format!(
            "this token lacks the scope `{}:{country}`",
            action.as_str()
        )));
    }
    let role = db::accounts::role(db, c.organisation_id, p.user_id).await?;
    if !role.as_deref().is_some_and(|r| country_role_allows(action, r)) {
        let need = match action {
            CountryAction::Review => "a reviewer, approver or owner",
            CountryAction::Approve => "an approver or owner",
            CountryAction::Admin => "an owner",
        };
        return Err(Error::denied(format!("{} is not {need} of {country}", p.user)));
    }
    Ok(c)
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
