//! Yank a version (with a reason) or undo a yank. A yanked version leaves `latest` and
//! fresh resolutions, but its bytes stay pullable by digest for those who locked it.

use govstore_core::event::Event;
use govstore_core::package::PackageName;
use govstore_core::scope::Action;
use sea_orm::TransactionTrait;

use super::{Error, Principal, Result, policy};
use crate::db::{self, audit, entities::package_versions};
use crate::state::AppState;

/// The longest yank reason, in characters.
pub const MAX_REASON_CHARS: usize = 500;

/// Yank `package@version` with `reason` (1 to 500 characters).
pub async fn yank(
    st: &AppState,
    p: &Principal,
    package: &PackageName,
    version: &semver::Version,
    reason: &str,
) -> Result<package_versions::Model> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > MAX_REASON_CHARS {
        return Err(Error::invalid("a yank needs a reason of 1 to 500 characters"));
    }
    set_yanked(st, p, package, version, Some(reason.to_owned())).await
}

/// Undo the yank of `package@version`.
pub async fn unyank(
    st: &AppState,
    p: &Principal,
    package: &PackageName,
    version: &semver::Version,
) -> Result<package_versions::Model> {
    set_yanked(st, p, package, version, None).await
}

async fn set_yanked(
    st: &AppState,
    p: &Principal,
    package: &PackageName,
    version: &semver::Version,
    reason: Option<String>,
) -> Result<package_versions::Model> {
    policy::require(&st.db.read, p, Action::Yank, package.namespace()).await?;
    let pkg = db::packages::find(&st.db.read, package.as_str())
        .await?
        .ok_or_else(|| Error::not_found(format!("no package `{package}`")))?;
    let v = db::packages::version(&st.db.read, pkg.id, &version.to_string())
        .await?
        .ok_or_else(|| Error::not_found(format!("`{package}` has no version {version}")))?;
    let already = |yanked: bool| {
        let state = if yanked { "already yanked" } else { "not yanked" };
        Error::conflict(format!("{package}@{version} is {state}"))
    };
    if v.yanked == reason.is_some() {
        return Err(already(v.yanked));
    }
    let digest = v
        .manifest_digest
        .parse()
        .map_err(|e| Error::internal(format!("stored digest of {package}@{version}: {e}")))?;
    let txn = st.db.write.begin().await?;
    if !db::packages::set_yanked(&txn, v.id, reason.as_deref()).await? {
        // Another request changed it first.
        return Err(already(reason.is_some()));
    }
    let (action, event) = match &reason {
        Some(r) => (
            "version.yank",
            Event::VersionYanked {
                package: package.clone(),
                version: version.clone(),
                digest,
                reason: r.clone(),
            },
        ),
        None => (
            "version.unyank",
            Event::VersionUnyanked {
                package: package.clone(),
                version: version.clone(),
                digest,
            },
        ),
    };
    audit::record(
        &txn,
        audit::Event {
            actor: &p.user,
            action,
            target: &format!("{package}@{version}"),
            digest: Some(&v.manifest_digest),
            detail: reason,
        },
    )
    .await?;
    db::events::append(&txn, &event).await?;
    txn.commit().await?;
    crate::search::refresh_logged(&st.search, &st.db.read, package.as_str()).await;
    db::packages::version(&st.db.read, pkg.id, &v.version)
        .await?
        .ok_or_else(|| Error::internal("yanked version vanished"))
}
