//! Web sign-in: users' password hashes and the sessions of signed-in browsers.
//!
//! A session is looked up by the SHA-256 (hex) of the id its cookie carries; the id is
//! never stored. Rows past their end (`expires_at`) or idle too long are deleted at each
//! sign-in ([`delete_stale`]) and refused when read, so a stale row is never a session.

use sea_orm::{ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};

use super::entities::tokens::{self, Entity as Tokens};
use super::entities::users::{self, Entity as Users};
use super::entities::web_sessions::{self, Entity as WebSessions};

/// Set (or with `None` remove) the password hash of a user.
pub async fn set_password_hash(db: &impl ConnectionTrait, user_id: i64, hash: Option<&str>) -> Result<(), DbErr> {
    Users::update_many()
        .col_expr(users::Column::PasswordHash, hash.map(str::to_owned).into())
        .filter(users::Column::Id.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

/// A session to store.
#[derive(Debug)]
pub struct NewSession<'a> {
    pub id_hash: &'a str,
    pub user_id: i64,
    /// `password` or `token`.
    pub method: &'a str,
    pub token_id: Option<i64>,
    pub csrf: &'a str,
    pub now: i64,
    pub expires_at: i64,
}

pub async fn insert(db: &impl ConnectionTrait, s: NewSession<'_>) -> Result<(), DbErr> {
    WebSessions::insert(web_sessions::ActiveModel {
        id_hash: Set(s.id_hash.to_owned()),
        user_id: Set(s.user_id),
        method: Set(s.method.to_owned()),
        token_id: Set(s.token_id),
        csrf: Set(s.csrf.to_owned()),
        created_at: Set(s.now),
        expires_at: Set(s.expires_at),
        last_seen_at: Set(s.now),
        ..Default::default()
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// The session whose id hashes to `id_hash`, with its user and, for a session made
/// with a token, that token. Stale or not, as stored: the caller checks the times.
pub async fn find(
    db: &impl ConnectionTrait,
    id_hash: &str,
) -> Result<Option<(web_sessions::Model, users::Model, Option<tokens::Model>)>, DbErr> {
    let Some(s) = WebSessions::find()
        .filter(web_sessions::Column::IdHash.eq(id_hash))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let Some(user) = Users::find_by_id(s.user_id).one(db).await? else {
        return Ok(None);
    };
    let token = match s.token_id {
        Some(id) => match Tokens::find_by_id(id).one(db).await? {
            Some(t) => Some(t),
            // The token is gone: so is the session.
            None => return Ok(None),
        },
        None => None,
    };
    Ok(Some((s, user, token)))
}

/// Record that the session was used at `now`.
pub async fn touch(db: &impl ConnectionTrait, id: i64, now: i64) -> Result<(), DbErr> {
    WebSessions::update_many()
        .col_expr(web_sessions::Column::LastSeenAt, now.into())
        .filter(web_sessions::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// End the session whose id hashes to `id_hash`. Returns whether there was one.
pub async fn delete(db: &impl ConnectionTrait, id_hash: &str) -> Result<bool, DbErr> {
    let res = WebSessions::delete_many()
        .filter(web_sessions::Column::IdHash.eq(id_hash))
        .exec(db)
        .await?;
    Ok(res.rows_affected > 0)
}

/// Delete every session that ended by `now` or was last seen before `idle_since`.
pub async fn delete_stale(db: &impl ConnectionTrait, now: i64, idle_since: i64) -> Result<u64, DbErr> {
    let res = WebSessions::delete_many()
        .filter(
            Condition::any()
                .add(web_sessions::Column::ExpiresAt.lte(now))
                .add(web_sessions::Column::LastSeenAt.lt(idle_since)),
        )
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}

/// Keep at most `keep` of a user's sessions, the most recently made; delete the others.
pub async fn trim_user(db: &impl ConnectionTrait, user_id: i64, keep: u64) -> Result<(), DbErr> {
    let kept: Vec<i64> = WebSessions::find()
        .select_only()
        .column(web_sessions::Column::Id)
        .filter(web_sessions::Column::UserId.eq(user_id))
        .order_by_desc(web_sessions::Column::Id)
        .limit(keep)
        .into_tuple()
        .all(db)
        .await?;
    WebSessions::delete_many()
        .filter(web_sessions::Column::UserId.eq(user_id))
        .filter(web_sessions::Column::Id.is_not_in(kept))
        .exec(db)
        .await?;
    Ok(())
}
