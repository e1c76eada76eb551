//! Countries: organisations with an ISO code and an approval policy.

use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Set};

use super::entities::countries::{self, Entity as Countries};
use super::entities::memberships::{self, Entity as Memberships};

pub use countries::Model as Country;

pub async fn insert(
    db: &impl ConnectionTrait,
    organisation_id: i64,
    code: &str,
    name: &str,
    threshold: u32,
    default_validity_days: Option<u32>,
) -> Result<Country, DbErr> {
    let res = Countries::insert(countries::ActiveModel {
        organisation_id: Set(organisation_id),
        code: Set(code.to_owned()),
        name: Set(name.to_owned()),
        threshold: Set(threshold as i32),
        default_validity_days: Set(default_validity_days.map(|d| d as i32)),
        created_at: Set(crate::now_ms()),
        ..Default::default()
    })
    .exec(db)
    .await?;
    Countries::find_by_id(res.last_insert_id)
        .one(db)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("country vanished after insert".into()))
}

/// The country with this upper-case code.
pub async fn by_code(db: &impl ConnectionTrait, code: &str) -> Result<Option<Country>, DbErr> {
    Countries::find().filter(countries::Column::Code.eq(code)).one(db).await
}

pub async fn by_id(db: &impl ConnectionTrait, id: i64) -> Result<Option<Country>, DbErr> {
    Countries::find_by_id(id).one(db).await
}

/// Every country, by code (a registry has at most a few hundred).
pub async fn all(db: &impl ConnectionTrait) -> Result<Vec<Country>, DbErr> {
    Countries::find().order_by_asc(countries::Column::Code).all(db).await
}

/// The countries `user_id` is a member of, with the role held in each.
pub async fn of_user(db: &impl ConnectionTrait, user_id: i64) -> Result<Vec<(Country, String)>, DbErr> {
    let roles = Memberships::find()
        .filter(memberships::Column::UserId.eq(user_id))
        .all(db)
        .await?;
    let mut out = Vec::new();
    for m in roles {
        if let Some(c) = Countries::find()
            .filter(countries::Column::OrganisationId.eq(m.organisation_id))
            .one(db)
            .await?
        {
            out.push((c, m.role));
        }
    }
    out.sort_by(|a, b| a.0.code.cmp(&b.0.code));
    Ok(out)
}

/// Change the approval policy.
pub async fn set_policy(
    db: &impl ConnectionTrait,
    id: i64,
    threshold: u32,
    default_validity_days: Option<u32>,
) -> Result<(), DbErr> {
    Countries::update_many()
        .col_expr(countries::Column::Threshold, (threshold as i32).into())
        .col_expr(
            countries::Column::DefaultValidityDays,
            default_validity_days.map(|d| d as i32).into(),
        )
        .filter(countries::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Set (or with `None`, remove) the country's stack profile.
pub async fn set_stack(db: &impl ConnectionTrait, id: i64, stack_toml: Option<&str>) -> Result<(), DbErr> {
    Countries::update_many()
        .col_expr(countries::Column::StackToml, stack_toml.map(str::to_owned).into())
        .col_expr(
            countries::Column::StackUpdatedAt,
            stack_toml.map(|_| crate::now_ms()).into(),
        )
        .filter(countries::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}
