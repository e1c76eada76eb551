//! A country's review queue: propose a published version for approval, and recommend
//! (a reviewer's `approve` or `reject`, with notes). Approvers then sign statements
//! (`service::approvals`), which may name the recommendation they rest on.

use govstore_core::manifest::values::CountryCode;
use govstore_core::package::PackageName;
use govstore_core::scope::CountryAction;
use sea_orm::TransactionTrait;

use super::{Error, Principal, Result, policy};
use crate::db::{self, audit};
use crate::state::AppState;

/// The longest note or recommendation text, in characters.
pub const MAX_NOTES_CHARS: usize = 2000;
/// The most recommendations one proposal keeps.
pub const MAX_RECOMMENDATIONS: u64 = 100;

fn check_notes(notes: Option<&str>) -> Result<()> {
    if notes.is_some_and(|n| n.chars().count() > MAX_NOTES_CHARS) {
        return Err(Error::invalid(format!(
            "notes are at most {MAX_NOTES_CHARS} characters"
        )));
    }
    Ok(())
}

/// Propose `package@version` for the country's review; an existing proposal of the same
/// version is returned as it is.
pub async fn propose(
    st: &AppState,
    p: &Principal,
    country: CountryCode,
    package: &PackageName,
    version: &semver::Version,
    note: Option<&str>,
) -> Result<(db::proposals::Proposal, bool)> {
    let c = policy::require_country(&st.db.read, p, CountryAction::Review, country).await?;
    check_notes(note)?;
    let not_published = || Error::not_found(format!("{package}@{version} is not a published version"));
    let pkg = db::packages::find(&st.db.read, package.as_str())
        .await?
        .ok_or_else(not_published)?;
    let v = db::packages::version(&st.db.read, pkg.id, &version.to_string())
        .await?
        .ok_or_else(not_published)?;
    let txn = st.db.write.begin().await?;
    let (proposal, new) = db::proposals::propose(
        &txn,
        c.id,
        package.as_str(),
        &v.version,
        &v.manifest_digest,
        note,
        p.user_id,
    )
    .await?;
    if new {
        audit::record(
            &txn,
            audit::Event {
                actor: &p.user,
                action: "review.propose",
                target: &format!("{package}@{version}"),
                digest: Some(&v.manifest_digest),
                detail: Some(country.to_string()),
            },
        )
        .await?;
    }
    txn.commit().await?;
    Ok((proposal, new))
}

/// Record a reviewer's recommendation (`approve` or `reject`) on a proposal.
pub async fn recommend(
    st: &AppState,
    p: &Principal,
    country: CountryCode,
    proposal_id: i64,
    recommendation: &str,
    notes: Option<&str>,
) -> Result<db::proposals::Recommendation> {
    let c = policy::require_country(&st.db.read, p, CountryAction::Review, country).await?;
    if !matches!(recommendation, "approve" | "reject") {
        return Err(Error::invalid("a recommendation is `approve` or `reject`"));
    }
    check_notes(notes)?;
    let proposal = db::proposals::by_id(&st.db.read, proposal_id)
        .await?
        .filter(|pr| pr.country_id == c.id)
        .ok_or_else(|| Error::not_found(format!("no proposal {proposal_id} in {country}")))?;
    let existing = db::proposals::recommendations(&st.db.read, proposal.id, MAX_RECOMMENDATIONS).await?;
    if existing.len() as u64 >= MAX_RECOMMENDATIONS {
        return Err(Error::conflict(format!(
            "proposal {proposal_id} has {MAX_RECOMMENDATIONS} recommendations already"
        )));
    }
    let txn = st.db.write.begin().await?;
    let id = db::proposals::recommend(&txn, proposal.id, p.user_id, recommendation, notes).await?;
    audit::record(
        &txn,
        audit::Event {
            actor: &p.user,
            action: "review.recommend",
            target: &format!("{}@{}", proposal.package, proposal.version),
            digest: Some(&proposal.manifest_digest),
            detail: Some(format!("{country}: {recommendation}")),
        },
    )
    .await?;
    txn.commit().await?;
    db::proposals::recommendations(&st.db.read, proposal.id, MAX_RECOMMENDATIONS)
        .await?
        .into_iter()
        .find(|r| r.id == id)
        .ok_or_else(|| Error::internal("a recommendation vanished"))
}
