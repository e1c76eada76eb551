//! Users, organisations, memberships and API tokens.

use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Set};

use super::entities::memberships::{self, Entity as Memberships};
use super::entities::organisations::{self, Entity as Organisations};
use super::entities::tokens::{self, Entity as Tokens};
use super::entities::users::{self, Entity as Users};

pub async fn user(db: &impl ConnectionTrait, name: &str) -> Result<Option<users::Model>, DbErr> {
    Users::find().filter(users::Column::Name.eq(name)).one(db).await
}

pub async fn user_by_id(db: &impl ConnectionTrait, id: i64) -> Result<Option<users::Model>, DbErr> {
    Users::find_by_id(id).one(db).await
}

pub async fn create_user(db: &impl ConnectionTrait, name: &str, admin: bool) -> Result<i64, DbErr> {
    let res = Users::insert(users::ActiveModel {
        name: Set(name.to_owned()),
        admin: Set(admin),
        created_at: Set(crate::now_ms()),
        ..Default::default()
    })
    .exec(db)
    .await?;
    Ok(res.last_insert_id)
}

pub async fn organisation(db: &impl ConnectionTrait, name: &str) -> Result<Option<organisations::Model>, DbErr> {
    Organisations::find()
        .filter(organisations::Column::Name.eq(name))
        .one(db)
        .await
}

pub async fn create_organisation(db: &impl ConnectionTrait, name: &str) -> Result<i64, DbErr> {
    let res = Organisations::insert(organisations::ActiveModel {
        name: Set(name.to_owned()),
        created_at: Set(crate::now_ms()),
        ..Default::default()
    })
    .exec(db)
    .await?;
    Ok(res.last_insert_id)
}

/// Give `user_id` `role` in the organisation, replacing any role it had.
pub async fn set_role(db: &impl ConnectionTrait, organisation_id: i64, user_id: i64, role: &str) -> Result<(), DbErr> {
    Memberships::delete_by_id((organisation_id, user_id)).exec(db).await?;
    Memberships::insert(memberships::ActiveModel {
        organisation_id: Set(organisation_id),
        user_id: Set(user_id),
        role: Set(role.to_owned()),
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

pub async fn role(db: &impl ConnectionTrait, organisation_id: i64, user_id: i64) -> Result<Option<String>, DbErr> {
    Ok(Memberships::find_by_id((organisation_id, user_id))
        .one(db)
        .await?
        .map(|m| m.role))
}

/// The organisations a user belongs to, with the role, by name.
pub async fn memberships_of(db: &impl ConnectionTrait, user_id: i64) -> Result<Vec<(String, String)>, DbErr> {
    let ms = Memberships::find()
        .filter(memberships::Column::UserId.eq(user_id))
        .all(db)
        .await?;
    let ids: Vec<i64> = ms.iter().map(|m| m.organisation_id).collect();
    let orgs = Organisations::find()
        .filter(organisations::Column::Id.is_in(ids))
        .order_by_asc(organisations::Column::Name)
        .all(db)
        .await?;
    Ok(orgs
        .into_iter()
        .filter_map(|o| {
            ms.iter()
                .find(|m| m.organisation_id == o.id)
                .map(|m| (o.name, m.role.clone()))
        })
        .collect())
}

/// Store a token's hash and metadata (never the token itself).
pub async fn insert_token(
    db: &impl ConnectionTrait,
    user_id: i64,
    name: &str,
    prefix: &str,
    hash: &str,
    scopes: &[String],
    expires_at: Option<i64>,
) -> Result<(), DbErr> {
    Tokens::insert(tokens::ActiveModel {
        user_id: Set(user_id),
        name: Set(name.to_owned()),
        prefix: Set(prefix.to_owned()),
        hash: Set(hash.to_owned()),
        scopes: Set(serde_json::to_string(scopes).map_err(|e| DbErr::Custom(e.to_string()))?),
        expires_at: Set(expires_at),
        created_at: Set(crate::now_ms()),
        revoked_at: Set(None),
        last_used_at: Set(None),
        ..Default::default()
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

pub async fn token_with_user(
    db: &impl ConnectionTrait,
    prefix: &str,
) -> Result<Option<(tokens::Model, users::Model)>, DbErr> {
    let Some(t) = Tokens::find().filter(tokens::Column::Prefix.eq(prefix)).one(db).await? else {
        return Ok(None);
    };
    Ok(Users::find_by_id(t.user_id).one(db).await?.map(|u| (t, u)))
}

pub async fn touch_token(db: &impl ConnectionTrait, id: i64, now: i64) -> Result<(), DbErr> {
    Tokens::update_many()
        .col_expr(tokens::Column::LastUsedAt, now.into())
        .filter(tokens::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Revoke a token by its visible prefix. Returns whether one was revoked.
pub async fn revoke_token(db: &impl ConnectionTrait, prefix: &str) -> Result<bool, DbErr> {
    let res = Tokens::update_many()
        .col_expr(tokens::Column::RevokedAt, crate::now_ms().into())
        .filter(tokens::Column::Prefix.eq(prefix))
        .filter(tokens::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(res.rows_affected > 0)
}

/// The members of an organisation with their roles, by user name.
pub async fn members(db: &impl ConnectionTrait, organisation_id: i64) -> Result<Vec<(String, String)>, DbErr> {
    let ms = Memberships::find()
        .filter(memberships::Column::OrganisationId.eq(organisation_id))
        .all(db)
        .await?;
    let ids: Vec<i64> = ms.iter().map(|m| m.user_id).collect();
    let users = Users::find()
        .filter(users::Column::Id.is_in(ids))
        .order_by_asc(users::Column::Name)
        .all(db)
        .await?;
    Ok(users
        .into_iter()
        .filter_map(|u| ms.iter().find(|m| m.user_id == u.id).map(|m| (u.name, m.role.clone())))
        .collect())
}
