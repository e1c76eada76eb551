//! Country bundles and the approver signatures over them.

use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Set};

use super::entities::bundle_signatures::{self, Entity as Signatures};
use super::entities::bundles::{self, Entity as Bundles};

pub use bundle_signatures::Model as BundleSignature;
pub use bundles::Model as Bundle;

pub async fn find(
    db: &impl ConnectionTrait,
    country_id: i64,
    name: &str,
    version: &str,
) -> Result<Option<Bundle>, DbErr> {
    Bundles::find()
        .filter(bundles::Column::CountryId.eq(country_id))
        .filter(bundles::Column::Name.eq(name))
        .filter(bundles::Column::Version.eq(version))
        .one(db)
        .await
}

/// Every version of one bundle, oldest first.
pub async fn versions(db: &impl ConnectionTrait, country_id: i64, name: &str) -> Result<Vec<Bundle>, DbErr> {
    Bundles::find()
        .filter(bundles::Column::CountryId.eq(country_id))
        .filter(bundles::Column::Name.eq(name))
        .order_by_asc(bundles::Column::Id)
        .all(db)
        .await
}

/// Every bundle version of a country, oldest first.
pub async fn of_country(db: &impl ConnectionTrait, country_id: i64) -> Result<Vec<Bundle>, DbErr> {
    Bundles::find()
        .filter(bundles::Column::CountryId.eq(country_id))
        .order_by_asc(bundles::Column::Id)
        .all(db)
        .await
}

/// Records a new bundle version. The unique index on (country, name, version) refuses a
/// second one; the caller holds the repository's write lock.
pub async fn insert(
    db: &impl ConnectionTrait,
    country_id: i64,
    name: &str,
    version: &str,
    index_digest: &str,
    members: usize,
    created_by: i64,
) -> Result<i64, DbErr> {
    let res = Bundles::insert(bundles::ActiveModel {
        country_id: Set(country_id),
        name: Set(name.to_owned()),
        version: Set(version.to_owned()),
        index_digest: Set(index_digest.to_owned()),
        members: Set(i32::try_from(members).unwrap_or(i32::MAX)),
        created_by: Set(created_by),
        created_at: Set(crate::now_ms()),
        ..Default::default()
    })
    .exec(db)
    .await?;
    Ok(res.last_insert_id)
}

/// What the service records about one verified bundle signature.
#[derive(Debug)]
pub struct NewSignature<'a> {
    pub bundle_id: i64,
    pub key_id: &'a str,
    pub signer_user_id: i64,
    pub signed_at: i64,
    pub envelope: &'a str,
    pub envelope_digest: &'a str,
    pub simple_signature: &'a str,
}

pub async fn insert_signature(db: &impl ConnectionTrait, s: NewSignature<'_>) -> Result<i64, DbErr> {
    let res = Signatures::insert(bundle_signatures::ActiveModel {
        bundle_id: Set(s.bundle_id),
        key_id: Set(s.key_id.to_owned()),
        signer_user_id: Set(s.signer_user_id),
        signed_at: Set(s.signed_at),
        envelope: Set(s.envelope.to_owned()),
        envelope_digest: Set(s.envelope_digest.to_owned()),
        simple_signature: Set(s.simple_signature.to_owned()),
        recorded_at: Set(crate::now_ms()),
        ..Default::default()
    })
    .exec(db)
    .await?;
    Ok(res.last_insert_id)
}

/// A bundle's signatures, oldest first.
pub async fn signatures(db: &impl ConnectionTrait, bundle_id: i64) -> Result<Vec<BundleSignature>, DbErr> {
    Signatures::find()
        .filter(bundle_signatures::Column::BundleId.eq(bundle_id))
        .order_by_asc(bundle_signatures::Column::Id)
        .all(db)
        .await
}
