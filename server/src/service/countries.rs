//! Countries: create one (the operator, `admin create-country`), change its approval
//! policy and its members (its owners, `country-admin:CC`).
//!
//! A country is an organisation named by its lower-case ISO code (so its approver keys
//! are that namespace's signing keys, and its bundles live under `<cc>/...`) plus a
//! `countries` row with the upper-case code, its English name and its policy: how many
//! distinct approver keys must sign (the threshold) and an optional default validity
//! that `govstore approve` applies when no `--until` is given.

use govstore_core::event::Event;
use govstore_core::manifest::values::CountryCode;
use govstore_core::scope::CountryAction;
use sea_orm::TransactionTrait;

use super::accounts::AdminError;
use super::{Error, Principal, Result, policy};
use crate::db::{self, Db, audit};
use crate::state::AppState;

/// The roles a country's members may hold.
pub const ROLES: [&str; 3] = ["owner", "approver", "reviewer"];
/// The highest threshold a country may set.
pub const MAX_THRESHOLD: u32 = 16;
/// The longest default validity, in days (ten years).
pub const MAX_VALIDITY_DAYS: u32 = 3650;

const ACTOR: &str = "admin (command line)";

fn check_policy(threshold: u32, validity_days: Option<u32>) -> std::result::Result<(), String> {
    if !(1..=MAX_THRESHOLD).contains(&threshold) {
        return Err(format!(
            "the threshold is 1 to {MAX_THRESHOLD} approvers, not {threshold}"
        ));
    }
    if validity_days.is_some_and(|d| d == 0 || d > MAX_VALIDITY_DAYS) {
        return Err(format!("the default validity is 1 to {MAX_VALIDITY_DAYS} days"));
    }
    Ok(())
}

/// Create country `code` with its first owner (an existing user) and its policy.
pub async fn create(
    db: &Db,
    code: CountryCode,
    owner: &str,
    threshold: u32,
    validity_days: Option<u32>,
) -> std::result::Result<db::countries::Country, AdminError> {
    check_policy(threshold, validity_days).map_err(AdminError::Invalid)?;
    let user = db::accounts::user(&db.read, owner)
        .await?
        .ok_or_else(|| AdminError::Missing(format!("user `{owner}`")))?;
    let ns = code.as_str().to_ascii_lowercase();
    if db::countries::by_code(&db.read, code.as_str()).await?.is_some() {
        return Err(AdminError::Exists(format!("country {code}")));
    }
    if db::accounts::organisation(&db.read, &ns).await?.is_some() {
        return Err(AdminError::Exists(format!(
            "organisation `{ns}` (a country's organisation is named by its code)"
        )));
    }
    let name = govstore_core::country_names::name_of(code.as_str()).unwrap_or(code.as_str());
    let txn = db.write.begin().await?;
    let org = db::accounts::create_organisation(&txn, &ns).await?;
    db::accounts::set_role(&txn, org, user.id, "owner").await?;
    let country = db::countries::insert(&txn, org, code.as_str(), name, threshold, validity_days).await?;
    audit::record(
        &txn,
        audit::Event {
            actor: ACTOR,
            action: "country.create",
            target: code.as_str(),
            digest: None,
            detail: Some(format!("owner {owner}, threshold {threshold}")),
        },
    )
    .await?;
    db::events::append(
        &txn,
        &Event::CountryPolicyChanged {
            country: code,
            threshold,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(country)
}

/// Give `user` a role in country `code` (the operator).
pub async fn add_member_as_operator(
    db: &Db,
    code: CountryCode,
    user: &str,
    role: &str,
) -> std::result::Result<(), AdminError> {
    if !ROLES.contains(&role) {
        return Err(AdminError::Invalid(format!(
            "role `{role}` is not one of a country's roles: owner, approver, reviewer"
        )));
    }
    let c = db::countries::by_code(&db.read, code.as_str())
        .await?
        .ok_or_else(|| AdminError::Missing(format!("country {code}")))?;
    let u = db::accounts::user(&db.read, user)
        .await?
        .ok_or_else(|| AdminError::Missing(format!("user `{user}`")))?;
    let txn = db.write.begin().await?;
    db::accounts::set_role(&txn, c.organisation_id, u.id, role).await?;
    audit::record(
        &txn,
        audit::Event {
            actor: ACTOR,
            action: "country.member",
            target: code.as_str(),
            digest: None,
            detail: Some(format!("{user} as {role}")),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Give `user` a role in the country (a country owner).
pub async fn add_member(st: &AppState, p: &Principal, code: CountryCode, user: &str, role: &str) -> Result<()> {
    let c = policy::require_country(&st.db.read, p, CountryAction::Admin, code).await?;
    if !ROLES.contains(&role) {
        return Err(Error::invalid(format!(
            "role `{role}` is not one of a country's roles: owner, approver, reviewer"
        )));
    }
    let u = db::accounts::user(&st.db.read, user)
        .await?
        .ok_or_else(|| Error::not_found(format!("no user `{user}`")))?;
    let txn = st.db.write.begin().await?;
    db::accounts::set_role(&txn, c.organisation_id, u.id, role).await?;
    audit::record(
        &txn,
        audit::Event {
            actor: &p.user,
            action: "country.member",
            target: code.as_str(),
            digest: None,
            detail: Some(format!("{user} as {role}")),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Change the country's approval policy (a country owner).
pub async fn set_policy(
    st: &AppState,
    p: &Principal,
    code: CountryCode,
    threshold: u32,
    validity_days: Option<u32>,
) -> Result<db::countries::Country> {
    let c = policy::require_country(&st.db.read, p, CountryAction::Admin, code).await?;
    check_policy(threshold, validity_days).map_err(Error::invalid)?;
    let txn = st.db.write.begin().await?;
    db::countries::set_policy(&txn, c.id, threshold, validity_days).await?;
    audit::record(
        &txn,
        audit::Event {
            actor: &p.user,
            action: "country.policy",
            target: code.as_str(),
            digest: None,
            detail: Some(format!("threshold {threshold}, validity {validity_days:?} days")),
        },
    )
    .await?;
    db::events::append(
        &txn,
        &Event::CountryPolicyChanged {
            country: code,
            threshold,
        },
    )
    .await?;
    txn.commit().await?;
    db::countries::by_id(&st.db.read, c.id)
        .await?
        .ok_or_else(|| Error::internal("country vanished"))
}

/// Set the country's own stack profile (a country owner): a valid `stack.toml` of this
/// country, at most `core::stack::limits::MAX_STACK_BYTES`; the workspace checks each
/// proposed version against it. An empty text removes it.
pub async fn set_stack(st: &AppState, p: &Principal, code: CountryCode, text: &str) -> Result<db::countries::Country> {
    let c = policy::require_country(&st.db.read, p, CountryAction::Admin, code).await?;
    let stored = if text.trim().is_empty() {
        None
    } else {
        let stack = crate::catalogue_check::parse_stack(text.as_bytes()).map_err(|e| Error::invalid(e.to_string()))?;
        if stack.stack.country != code {
            return Err(Error::invalid(format!(
                "the stack is for {}, not {code}: its [stack] country must be {code}",
                stack.stack.country
            )));
        }
        Some(text)
    };
    let txn = st.db.write.begin().await?;
    db::countries::set_stack(&txn, c.id, stored).await?;
    audit::record(
        &txn,
        audit::Event {
            actor: &p.user,
            action: "country.stack",
            target: code.as_str(),
            digest: stored
                .map(|t| govstore_core::Digest::of(t.as_bytes()).to_string())
                .as_deref(),
            detail: Some(
                if stored.is_some() {
                    "stack profile set"
                } else {
                    "stack profile removed"
                }
                .to_owned(),
            ),
        },
    )
    .await?;
    txn.commit().await?;
    db::countries::by_id(&st.db.read, c.id)
        .await?
        .ok_or_else(|| Error::internal("country vanished"))
}
