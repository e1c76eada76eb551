//! Signing keys of a namespace: register and revoke (owners). Publishes verify against
//! the namespace's registered, unrevoked keys.

use govstore_core::event::Event;
use govstore_core::scope::Action;
use govstore_signing::PublicKey;
use sea_orm::{SqlErr, TransactionTrait};

use super::{Error, Principal, Result, policy};
use crate::db::{self, audit, entities::signing_keys};
use crate::state::AppState;

fn already_registered(key_id: &str, ns: &str) -> Error {
    Error::conflict(format!("key {key_id} is already registered to `{ns}`"))
}

/// Register `public_key` (PEM) under `name` (1 to 64 characters) for namespace `ns`.
pub async fn register(
    st: &AppState,
    p: &Principal,
    ns: &str,
    public_key: &str,
    name: Option<String>,
) -> Result<signing_keys::Model> {
    let org = policy::require(&st.db.read, p, Action::Keys, ns).await?;
    let key = PublicKey::from_pem(public_key)
        .map_err(|e| Error::invalid(format!("public_key is not a P-256 public key in PEM: {e}")))?;
    let name = name.unwrap_or_else(|| "key".into());
    if name.is_empty() || name.chars().count() > 64 {
        return Err(Error::invalid("name is 1 to 64 characters"));
    }
    let key_id = key.key_id();
    if db::keys::find(&st.db.read, org, &key_id).await?.is_some() {
        return Err(already_registered(&key_id, ns));
    }
    let txn = st.db.write.begin().await?;
    let row = match db::keys::insert(&txn, org, &key_id, &name, &key.to_pem(), p.user_id).await {
        Ok(row) => row,
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            return Err(already_registered(&key_id, ns));
        }
        Err(e) => return Err(e.into()),
    };
    audit::record(
        &txn,
        audit::Event {
            actor: &p.user,
            action: "key.register",
            target: ns,
            digest: Some(&key_id),
            detail: Some(name),
        },
    )
    .await?;
    let event = Event::KeyRegistered {
        namespace: ns.to_owned(),
        key_id: key_id.clone(),
    };
    db::events::append(&txn, &event).await?;
    txn.commit().await?;
    Ok(row)
}

/// Revoke key `key_id` of namespace `ns` with `reason` (1 to 500 characters).
pub async fn revoke(st: &AppState, p: &Principal, ns: &str, key_id: &str, reason: &str) -> Result<signing_keys::Model> {
    let org = policy::require(&st.db.read, p, Action::Keys, ns).await?;
    if reason.trim().is_empty() || reason.chars().count() > 500 {
        return Err(Error::invalid("reason is 1 to 500 characters"));
    }
    let key = db::keys::find(&st.db.read, org, key_id)
        .await?
        .ok_or_else(|| Error::not_found(format!("no key {key_id} in `{ns}`")))?;
    let already = || Error::conflict(format!("key {key_id} is already revoked"));
    if key.revoked_at.is_some() {
        return Err(already());
    }
    let txn = st.db.write.begin().await?;
    if !db::keys::revoke(&txn, key.id, reason).await? {
        return Err(already());
    }
    audit::record(
        &txn,
        audit::Event {
            actor: &p.user,
            action: "key.revoke",
            target: ns,
            digest: Some(key_id),
            detail: Some(reason.to_owned()),
        },
    )
    .await?;
    let event = Event::KeyRevoked {
        namespace: ns.to_owned(),
        key_id: key_id.to_owned(),
        reason: reason.to_owned(),
    };
    db::events::append(&txn, &event).await?;
    txn.commit().await?;
    db::keys::find(&st.db.read, org, key_id)
        .await?
        .ok_or_else(|| Error::internal("revoked key vanished"))
}
