//! Accounts and tokens: users, organisations (each owns the namespace of its name),
//! memberships with roles, API tokens (stored only as hashes, shown once). The
//! `govstore-server admin ...` commands call these against the configured database
//! (also re-exported as `crate::admin`). Every change is audited with the
//! actor `admin-cli`.
//!
//! Passwords (web sign-in only; the API takes tokens) are stored as argon2id PHC strings
//! with the crate's default cost (19 MiB, 2 passes, 1 lane: OWASP's recommendation) and
//! a 16-byte random salt. Hashing runs on the blocking pool, at most
//! [`CONCURRENT_HASHES`] at once, so a burst of sign-ins cannot take every core or much
//! memory. [`check_password`] spends the same work on an unknown user or a user without
//! a password as on a wrong password.

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use govstore_core::package::check_namespace;
use govstore_core::scope::Scope;
use sea_orm::TransactionTrait;
use tokio::sync::Semaphore;

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
    #[error("password hashing: {0}")]
    Hash(String),
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

/// The shortest password accepted, in characters.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// The longest password accepted, in bytes (argon2 reads all of it).
pub const MAX_PASSWORD_BYTES: usize = 1024;
/// Password hashes computed at once; more wait their turn.
pub const CONCURRENT_HASHES: usize = 2;

static HASHING: Semaphore = Semaphore::const_new(CONCURRENT_HASHES);

/// Set the password `user` signs in to the web with, replacing any; ends the user's web
/// sessions.
pub async fn set_password(db: &Db, user: &str, password: &str) -> Result<(), AdminError> {
    let u = db::accounts::user(&db.read, user)
        .await?
        .ok_or_else(|| AdminError::Missing(format!("user `{user}`")))?;
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(AdminError::Invalid(format!(
            "a password has at least {MIN_PASSWORD_CHARS} characters; this one has {chars}"
        )));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(AdminError::Invalid(format!(
            "a password has at most {MAX_PASSWORD_BYTES} bytes"
        )));
    }
    if password.chars().any(char::is_control) {
        return Err(AdminError::Invalid(
            "a password cannot contain control characters (a line break, a tab)".into(),
        ));
    }
    let hash = hash_password(password.to_owned()).await?;
    let txn = db.write.begin().await?;
    db::web_sessions::set_password_hash(&txn, u.id, Some(&hash)).await?;
    db::web_sessions::trim_user(&txn, u.id, 0).await?;
    audit::record(
        &txn,
        audit::Event {
            actor: ACTOR,
            action: "user.password",
            target: user,
            digest: None,
            detail: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// The user called `user` if `password` is theirs; `None` for a wrong password, an
/// unknown user or a user without a password, after the same work in each case.
pub async fn check_password(
    db: &Db,
    user: &str,
    password: &str,
) -> Result<Option<db::entities::users::Model>, AdminError> {
    let found = if user.len() <= 64 {
        db::accounts::user(&db.read, user).await?
    } else {
        None
    };
    let stored = found.as_ref().and_then(|u| u.password_hash.clone());
    let ok = match stored {
        Some(hash) if password.len() <= MAX_PASSWORD_BYTES => verify_password(password.to_owned(), Some(hash)).await?,
        // The same work as a real check, against a hash no password matches.
        _ => {
            verify_password(password.chars().take(MAX_PASSWORD_BYTES).collect(), None).await?;
            false
        }
    };
    Ok(found.filter(|_| ok))
}

async fn hash_password(password: String) -> Result<String, AdminError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| AdminError::Random(e.to_string()))?;
    let _permit = HASHING.acquire().await.map_err(|e| AdminError::Hash(e.to_string()))?;
    tokio::task::spawn_blocking(move || {
        argon2::Argon2::default()
            .hash_password_with_salt(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AdminError::Hash(e.to_string()))
    })
    .await
    .map_err(|e| AdminError::Hash(e.to_string()))?
}

/// Whether `password` matches the PHC string `hash` (`None`: the decoy, which nothing
/// matches). A hash that cannot be read is logged and matches nothing.
async fn verify_password(password: String, hash: Option<String>) -> Result<bool, AdminError> {
    let _permit = HASHING.acquire().await.map_err(|e| AdminError::Hash(e.to_string()))?;
    tokio::task::spawn_blocking(move || {
        let hash = match &hash {
            Some(h) => h.as_str(),
            None => decoy_hash()?,
        };
        Ok(
            match argon2::Argon2::default().verify_password(password.as_bytes(), hash) {
                Ok(()) => true,
                Err(argon2::password_hash::Error::PasswordInvalid) => false,
                Err(e) => {
                    tracing::error!(error = %e, "a stored password hash cannot be read; the password is refused");
                    false
                }
            },
        )
    })
    .await
    .map_err(|e| AdminError::Hash(e.to_string()))?
}

/// A hash of a random password with the same cost as real ones, made once.
fn decoy_hash() -> Result<&'static str, AdminError> {
    static DECOY: OnceLock<Result<String, String>> = OnceLock::new();
    DECOY
        .get_or_init(|| {
            let mut secret = [0u8; 32];
            let mut salt = [0u8; 16];
            getrandom::fill(&mut secret).map_err(|e| e.to_string())?;
            getrandom::fill(&mut salt).map_err(|e| e.to_string())?;
            argon2::Argon2::default()
                .hash_password_with_salt(&secret, &salt)
                .map(|h| h.to_string())
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map(String::as_str)
        .map_err(|e| AdminError::Hash(e.clone()))
}
