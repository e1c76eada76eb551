//! Signing keys registered to organisations (namespaces).

use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Set};

use super::entities::signing_keys::{self, Entity as SigningKeys};

pub async fn list(db: &impl ConnectionTrait, organisation_id: i64) -> Result<Vec<signing_keys::Model>, DbErr> {
    SigningKeys::find()
        .filter(signing_keys::Column::OrganisationId.eq(organisation_id))
        .order_by_asc(signing_keys::Column::Id)
        .all(db)
        .await
}

pub async fn find(
    db: &impl ConnectionTrait,
    organisation_id: i64,
    key_id: &str,
) -> Result<Option<signing_keys::Model>, DbErr> {
    SigningKeys::find()
        .filter(signing_keys::Column::OrganisationId.eq(organisation_id))
        .filter(signing_keys::Column::KeyId.eq(key_id))
        .one(db)
        .await
}

pub async fn insert(
    db: &impl ConnectionTrait,
    organisation_id: i64,
    key_id: &str,
    name: &str,
    public_key: &str,
    created_by: i64,
) -> Result<signing_keys::Model, DbErr> {
    let now = crate::now_ms();
    let res = SigningKeys::insert(signing_keys::ActiveModel {
        organisation_id: Set(organisation_id),
        key_id: Set(key_id.to_owned()),
        name: Set(name.to_owned()),
        public_key: Set(public_key.to_owned()),
        created_by: Set(created_by),
        created_at: Set(now),
        revoked_at: Set(None),
        revoke_reason: Set(None),
        ..Default::default()
    })
    .exec(db)
    .await?;
    SigningKeys::find_by_id(res.last_insert_id)
        .one(db)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("signing key vanished after insert".into()))
}

/// Lock the key's row for the rest of the transaction if it is still unrevoked; `false`
/// if it was revoked meanwhile. A publish verified against this key takes the lock, so
/// a revocation either commits before (and the publish is refused) or waits for it.
pub async fn lock_unrevoked(db: &impl ConnectionTrait, organisation_id: i64, key_id: &str) -> Result<bool, DbErr> {
    use sea_orm::sea_query::Expr;
    let res = SigningKeys::update_many()
        .col_expr(
            signing_keys::Column::RevokedAt,
            Expr::col(signing_keys::Column::RevokedAt),
        )
        .filter(signing_keys::Column::OrganisationId.eq(organisation_id))
        .filter(signing_keys::Column::KeyId.eq(key_id))
        .filter(signing_keys::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(res.rows_affected > 0)
}

/// Revoke a key with a reason; `false` if it was revoked already (decided by the
/// update, so concurrent revocations record one).
pub async fn revoke(db: &impl ConnectionTrait, id: i64, reason: &str) -> Result<bool, DbErr> {
    let res = SigningKeys::update_many()
        .col_expr(signing_keys::Column::RevokedAt, crate::now_ms().into())
        .col_expr(signing_keys::Column::RevokeReason, reason.into())
        .filter(signing_keys::Column::Id.eq(id))
        .filter(signing_keys::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(res.rows_affected > 0)
}
