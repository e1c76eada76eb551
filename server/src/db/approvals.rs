//! Verified approval and revocation statements, one row per DSSE envelope.

use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};

use super::entities::approvals::{self, Entity as Approvals};

pub use approvals::Model as Approval;

/// What the service records about one verified statement.
#[derive(Debug)]
pub struct New<'a> {
    pub country_id: i64,
    pub package: &'a str,
    pub version: &'a str,
    pub manifest_digest: &'a str,
    pub decision: &'a str,
    pub key_id: &'a str,
    pub signer_user_id: i64,
    pub signed_at: i64,
    pub valid_until: Option<i64>,
    pub reason: Option<&'a str>,
    pub envelope: &'a str,
    pub envelope_digest: &'a str,
    pub recorded_by: i64,
}

pub async fn insert(db: &impl ConnectionTrait, a: New<'_>) -> Result<i64, DbErr> {
    let res = Approvals::insert(approvals::ActiveModel {
        country_id: Set(a.country_id),
        package: Set(a.package.to_owned()),
        version: Set(a.version.to_owned()),
        manifest_digest: Set(a.manifest_digest.to_owned()),
        decision: Set(a.decision.to_owned()),
        key_id: Set(a.key_id.to_owned()),
        signer_user_id: Set(a.signer_user_id),
        signed_at: Set(a.signed_at),
        valid_until: Set(a.valid_until),
        reason: Set(a.reason.map(str::to_owned)),
        envelope: Set(a.envelope.to_owned()),
        envelope_digest: Set(a.envelope_digest.to_owned()),
        recorded_by: Set(a.recorded_by),
        recorded_at: Set(crate::now_ms()),
        ..Default::default()
    })
    .exec(db)
    .await?;
    Ok(res.last_insert_id)
}

pub async fn by_id(db: &impl ConnectionTrait, id: i64) -> Result<Option<Approval>, DbErr> {
    Approvals::find_by_id(id).one(db).await
}

/// Every statement about one manifest digest, in every country, oldest first.
pub async fn of_subject(db: &impl ConnectionTrait, digest: &str) -> Result<Vec<Approval>, DbErr> {
    Approvals::find()
        .filter(approvals::Column::ManifestDigest.eq(digest))
        .order_by_asc(approvals::Column::Id)
        .all(db)
        .await
}

pub async fn by_envelope_digest(db: &impl ConnectionTrait, digest: &str) -> Result<Option<Approval>, DbErr> {
    Approvals::find()
        .filter(approvals::Column::EnvelopeDigest.eq(digest))
        .one(db)
        .await
}

/// Every statement about a package's versions, in every country, oldest first. A
/// package has at most `max_versions_per_package` versions, and each statement needs
/// a registered key of a country, so this is bounded by what countries signed.
pub async fn of_package(db: &impl ConnectionTrait, package: &str) -> Result<Vec<Approval>, DbErr> {
    Approvals::find()
        .filter(approvals::Column::Package.eq(package))
        .order_by_asc(approvals::Column::Id)
        .all(db)
        .await
}

/// The statements of one country about one manifest digest, oldest first.
pub async fn of_digest(db: &impl ConnectionTrait, country_id: i64, digest: &str) -> Result<Vec<Approval>, DbErr> {
    Approvals::find()
        .filter(approvals::Column::CountryId.eq(country_id))
        .filter(approvals::Column::ManifestDigest.eq(digest))
        .order_by_asc(approvals::Column::Id)
        .all(db)
        .await
}

/// Every statement of one country, oldest first (the stack check reads these).
pub async fn of_country(db: &impl ConnectionTrait, country_id: i64) -> Result<Vec<Approval>, DbErr> {
    Approvals::find()
        .filter(approvals::Column::CountryId.eq(country_id))
        .order_by_asc(approvals::Column::Id)
        .all(db)
        .await
}

/// The newest `limit` statements of one country, newest first (its public page).
pub async fn recent(db: &impl ConnectionTrait, country_id: i64, limit: u64) -> Result<Vec<Approval>, DbErr> {
    Approvals::find()
        .filter(approvals::Column::CountryId.eq(country_id))
        .order_by_desc(approvals::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// The approval state of a manifest in a country at `now` (seconds): every recorded
/// statement whose key is still unrevoked, counted by `core::approval::tally`. The
/// statements were verified when recorded; here they are only read back.
pub async fn tally(
    db: &impl ConnectionTrait,
    c: &super::countries::Country,
    digest: &str,
    now: i64,
) -> Result<govstore_core::approval::Tally, DbErr> {
    use govstore_core::approval::{self, Signed, Statement};
    let (Ok(country), Ok(digest_parsed)) = (
        c.code.parse::<govstore_core::manifest::values::CountryCode>(),
        digest.parse::<govstore_core::Digest>(),
    ) else {
        return Ok(approval::Tally::default());
    };
    let rows = of_digest(db, c.id, digest).await?;
    let live: std::collections::BTreeSet<String> = super::keys::list(db, c.organisation_id)
        .await?
        .into_iter()
        .filter(|k| k.revoked_at.is_none())
        .map(|k| k.key_id)
        .collect();
    let statements: Vec<(String, Statement)> = rows
        .iter()
        .filter(|r| live.contains(&r.key_id))
        .filter_map(|r| {
            let env = govstore_signing::dsse::Envelope::from_json(r.envelope.as_bytes()).ok()?;
            Some((r.key_id.clone(), Statement::from_json(&env.payload).ok()?))
        })
        .collect();
    Ok(approval::tally(
        country,
        &digest_parsed,
        u32::try_from(c.threshold).unwrap_or(0),
        now,
        statements.iter().map(|(k, s)| Signed {
            key_id: k,
            statement: s,
        }),
    ))
}

/// The codes of the countries in which `digest` meets its threshold at `now` (seconds).
pub async fn approved_countries(db: &impl ConnectionTrait, digest: &str, now: i64) -> Result<Vec<String>, DbErr> {
    let mut ids: Vec<i64> = of_subject(db, digest)
        .await?
        .into_iter()
        .map(|a| a.country_id)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let mut out = Vec::new();
    for id in ids {
        if let Some(c) = super::countries::by_id(db, id).await?
            && tally(db, &c, digest, now).await?.approved()
        {
            out.push(c.code);
        }
    }
    out.sort();
    Ok(out)
}
