//! Accounts and tokens: users, organisations (each owns the namespace of its name),
//! memberships with roles, API tokens (stored only as hashes, shown once). The
//! `govstore-server admin ...` commands call these against the configured database
//! (also re-exported as `crate::admin`). Every change is audited with the
//! actor `admin-cli`.

use govstore_core::package::check_namespace;
use govstore_core::scope::Scope;
use sea_orm::TransactionTrait;

use crate::auth::token;
use crate::db::{self, Db, audit};

const ACTOR: &str = "admin-cli";

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0} already exists")]
    Exists(String),
    #[error("{0} does not exist")]
    Missing(String),
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error("no randomness for the token: {0}")]
    Random(String),
}

pub async fn create_user(db: &Db, name: &str, admin: bool) -> Result<(), AdminError> {
    check_namespace(name, "user name").map_err(|e| AdminError::Invalid(e.to_string()))?;
    if db::accounts::user(&db.read, name).await?.is_some() {
        return Err(AdminError::Exists(format!("user `{name}`")));
    }
    let txn = db.write.begin().await?;
    db::accounts::create_user(&txn, name, admin).await?;
    let detail = admin.then(|| "admin".to_owned());
    audit::record(
        &txn,
        audit::Event {
            actor: ACTOR,
            action: "user.create",
            target: name,
            digest: None,
            detail,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Create an organisation (which owns the namespace of its name) with its first owner.
pub async fn create_org(db: &Db, name: &str, owner: &str) -> Result<(), AdminError> {
    check_namespace(name, "organisation name").map_err(|e| AdminError::Invalid(e.to_string()))?;
    let user = db::accounts::user(&db.read, owner)
        .await?
        .ok_or_else(|| AdminError::Missing(format!("user `{owner}`")))?;
    if db::accounts::organisation(&db.read, name).await?.is_some() {
        return Err(AdminError::Exists(format!("organisation `{name}`")));
    }
    let txn = db.write.begin().await?;
    let org = db::accounts::create_organisation(&txn, name).await?;
    db::accounts::set_role(&txn, org, user.id, "owner").await?;
    audit::record(
        &txn,
        audit::Event {
            actor: ACTOR,
            action: "org.create",
            target: name,
            digest: None,
            detail: Some(format!("owner {owner}")),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

pub async fn add_member(db: &Db, org: &str, user: &str, role: &str) -> Result<(), AdminError> {
    if !matches!(role, "owner" | "publisher") {
        return Err(AdminError::Invalid(format!(
            "role `{role}` is not `owner` or `publisher`"
        )));
    }
    let o = db::accounts::organisation(&db.read, org)
        .await?
        .ok_or_else(|| AdminError::Missing(format!("organisation `{org}`")))?;
    let u = db::accounts::user(&db.read, user)
        .await?
        .ok_or_else(|| AdminError::Missing(format!("user `{user}`")))?;
    let txn = db.write.begin().await?;
    db::accounts::set_role(&txn, o.id, u.id, role).await?;
    audit::record(
        &txn,
        audit::Event {
            actor: ACTOR,
            action: "org.member",
            target: org,
            digest: None,
            detail: Some(format!("{user} as {role}")),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Make a token; returns it. It is shown once: only its prefix and hash are stored.
pub async fn create_token(
    db: &Db,
    user: &str,
    name: &str,
    scopes: &[String],
    expires_in_days: Option<u32>,
) -> Result<String, AdminError> {
    let u = db::accounts::user(&db.read, user)
        .await?
        .ok_or_else(|| AdminError::Missing(format!("user `{user}`")))?;
    if scopes.is_empty() {
        return Err(AdminError::Invalid("a token needs at least one --scope".into()));
    }
    let mut parsed = Vec::new();
    for s in scopes {
        let scope: Scope = s
            .parse()
            .map_err(|e: govstore_core::scope::ScopeError| AdminError::Invalid(e.to_string()))?;
        if scope == Scope::Admin && !u.admin {
            return Err(AdminError::Invalid(format!(
                "user `{user}` is not an admin, so its tokens cannot have the `admin` scope"
            )));
        }
        parsed.push(scope.to_string());
    }
    if name.is_empty() || name.len() > 64 {
        return Err(AdminError::Invalid("a token name is 1 to 64 characters".into()));
    }
    if expires_in_days.is_some_and(|d| d == 0 || d > 3650) {
        return Err(AdminError::Invalid("a token expires in 1 to 3650 days".into()));
    }
    let expires_at = expires_in_days.map(|d| crate::now_ms() + i64::from(d) * 86_400_000);
    let t = token::generate().map_err(|e| AdminError::Random(e.to_string()))?;
    let txn = db.write.begin().await?;
    db::accounts::insert_token(&txn, u.id, name, &t.prefix, &t.hash, &parsed, expires_at).await?;
    let detail = Some(format!("{} for {user}, scopes {}", name, parsed.join(" ")));
    audit::record(
        &txn,
        audit::Event {
            actor: ACTOR,
            action: "token.create",
            target: &t.prefix,
            digest: None,
            detail,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(t.token)
}

pub async fn revoke_token(db: &Db, prefix: &str) -> Result<(), AdminError> {
    let txn = db.write.begin().await?;
    if !db::accounts::revoke_token(&txn, prefix).await? {
        return Err(AdminError::Missing(format!(
            "an unrevoked token with prefix `{prefix}`"
        )));
    }
    audit::record(
        &txn,
        audit::Event {
            actor: ACTOR,
            action: "token.revoke",
            target: prefix,
            digest: None,
            detail: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
