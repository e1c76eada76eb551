//! Country approvals: record a signed approval or revocation statement, after checking
//! everything about it, and read the approval state of a version.
//!
//! A statement (core `approval::Statement` in a DSSE envelope with one signature) is
//! stored only if: the caller may approve for the country (`approve:CC` and the role
//! `approver` or `owner`); the envelope is an in-toto statement with govstore's
//! predicate type for this country; its subject is a published version of this registry
//! by name and manifest digest; it was signed after that version was published and not
//! in the future; it has not expired; its signature verifies against one of the
//! country's registered, unrevoked keys; and that key's holder is an approver or owner
//! of the country (or, for a key the server holds, the signed-in user is). Then one
//! transaction writes the row, an OCI referrer of the package manifest (the envelope as
//! its one layer), the cosign attestation manifest under `sha256-<hex>.att` (every
//! envelope about that manifest, one layer each), the attestation row, the audit entry
//! and the `approval_recorded` event. The same envelope uploaded again records nothing
//! and answers what was recorded.

use govstore_core::approval::{self, Decision, Statement, Tally};
use govstore_core::event::Event;
use govstore_core::manifest::values::CountryCode;
use govstore_core::oci::{self, Descriptor, media_types};
use govstore_core::package::PackageName;
use govstore_core::scope::CountryAction;
use govstore_core::{Digest, artifact};
use govstore_signing::dsse::{ENVELOPE_MEDIA_TYPE, Envelope};
use govstore_signing::{KeyPair, PublicKey};
use sea_orm::{ConnectionTrait, SqlErr, TransactionTrait};
use serde_json::json;

use super::{Error, Kind, Principal, Result, policy};
use crate::db::{self, audit};
use crate::state::AppState;

/// How far in the future a statement's `signedAt` may be (clock skew), in seconds.
pub const MAX_CLOCK_SKEW_SECS: i64 = 300;
/// The OCI annotation naming an attestation layer's predicate type, as cosign writes it.
pub const PREDICATE_TYPE_ANNOTATION: &str = "predicateType";

/// A statement as recorded.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub row: db::approvals::Approval,
    pub country: CountryCode,
    pub signer: String,
    /// False when this exact envelope was recorded before.
    pub new: bool,
    /// The version's approval state in the country after this statement.
    pub tally: Tally,
}

fn refused(message: impl Into<String>) -> Error {
    Error::new(Kind::SignatureInvalid, message)
}

/// Record a statement signed on an approver's machine.
pub async fn submit(st: &AppState, p: &Principal, country: CountryCode, envelope: &[u8]) -> Result<Recorded> {
    let c = policy::require_country(&st.db.read, p, CountryAction::Approve, country).await?;
    let env = Envelope::from_json(envelope).map_err(|e| Error::invalid(e.to_string()))?;
    if env.signatures.len() != 1 {
        return Err(Error::invalid(format!(
            "the envelope carries {} signatures; upload one envelope per approver signature",
            env.signatures.len()
        )));
    }
    let envelope_digest = Digest::of(envelope);
    if let Some(existing) = db::approvals::by_envelope_digest(&st.db.read, &envelope_digest.to_string()).await? {
        return already_recorded(st, &c, existing).await;
    }
    let statement = parse_statement(&env, country)?;
    let (key_id, holder) = verify_key(st, &c, country, &env).await?;
    let signer = approver_holding(st, &c, country, &key_id, holder).await?;
    record(
        st,
        p,
        &c,
        country,
        envelope,
        &envelope_digest,
        &statement,
        &key_id,
        signer.id,
        &signer.name,
    )
    .await
}

/// Sign a statement with the key the server holds for the country, in the name of the
/// signed-in approver (`p`), and record it.
pub async fn sign_and_submit(
    st: &AppState,
    p: &Principal,
    country: CountryCode,
    key: &KeyPair,
    statement: &Statement,
) -> Result<Recorded> {
    let c = policy::require_country(&st.db.read, p, CountryAction::Approve, country).await?;
    let env = Envelope::sign(key, approval::PAYLOAD_TYPE, statement.to_json()).map_err(Error::internal)?;
    let bytes = env.to_json();
    let statement = parse_statement(&env, country)?;
    let (key_id, _holder) = verify_key(st, &c, country, &env).await?;
    let digest = Digest::of(&bytes);
    record(
        st, p, &c, country, &bytes, &digest, &statement, &key_id, p.user_id, &p.user,
    )
    .await
}

/// The holder of a country key, who must still be an approver or owner of the country.
pub(super) async fn approver_holding(
    st: &AppState,
    c: &db::countries::Country,
    country: CountryCode,
    key_id: &str,
    holder: i64,
) -> Result<db::entities::users::Model> {
    let signer = db::accounts::user_by_id(&st.db.read, holder)
        .await?
        .ok_or_else(|| Error::internal("the key's holder vanished"))?;
    let role = db::accounts::role(&st.db.read, c.organisation_id, holder).await?;
    if !role
        .as_deref()
        .is_some_and(|r| policy::country_role_allows(CountryAction::Approve, r))
    {
        return Err(Error::denied(format!(
            "the key {} belongs to {}, who is {} of {country}, not an approver",
            approval::short_key(key_id),
            signer.name,
            role.map_or_else(|| "no longer a member".to_owned(), |r| format!("a {r}"))
        )));
    }
    Ok(signer)
}

async fn already_recorded(st: &AppState, c: &db::countries::Country, row: db::approvals::Approval) -> Result<Recorded> {
    let country: CountryCode = c.code.parse().map_err(Error::internal)?;
    if row.country_id != c.id {
        return Err(Error::conflict("this statement is recorded for another country"));
    }
    let signer = db::accounts::user_by_id(&st.db.read, row.signer_user_id)
        .await?
        .map_or_else(String::new, |u| u.name);
    let tally = tally_of(&st.db.read, c, &row.manifest_digest, crate::now_ms() / 1000).await?;
    Ok(Recorded {
        row,
        country,
        signer,
        new: false,
        tally,
    })
}

fn parse_statement(env: &Envelope, country: CountryCode) -> Result<Statement> {
    if env.payload_type != approval::PAYLOAD_TYPE {
        return Err(Error::invalid(format!(
            "the envelope's payloadType is `{}`, not `{}`",
            env.payload_type.chars().take(100).collect::<String>(),
            approval::PAYLOAD_TYPE
        )));
    }
    let s = Statement::from_json(&env.payload).map_err(|e| Error::invalid(format!("statement: {e}")))?;
    if s.country() != country {
        return Err(Error::invalid(format!(
            "the statement is for {}, not {country}",
            s.country()
        )));
    }
    Ok(s)
}

/// The country's registered, unrevoked key that verifies the envelope: its id and holder.
pub(super) async fn verify_key(
    st: &AppState,
    c: &db::countries::Country,
    country: CountryCode,
    env: &Envelope,
) -> Result<(String, i64)> {
    let keys = db::keys::list(&st.db.read, c.organisation_id).await?;
    let mut revoked_match = false;
    for k in &keys {
        let key = PublicKey::from_pem(&k.public_key).map_err(Error::internal)?;
        if env.verified_by(&key) {
            if k.revoked_at.is_none() {
                return Ok((k.key_id.clone(), k.created_by));
            }
            revoked_match = true;
        }
    }
    if revoked_match {
        return Err(refused(format!(
            "the statement was signed with a revoked key of {country}"
        )));
    }
    let live = keys.iter().filter(|k| k.revoked_at.is_none()).count();
    Err(refused(format!(
        "the signature does not verify against any of the {live} registered, unrevoked approver keys of {country}"
    ))
    .detail(json!({ "hint": format!("register the approver's public key with `govstore key register --namespace {}`", country.as_str().to_ascii_lowercase()) })))
}

#[allow(clippy::too_many_arguments)]
async fn record(
    st: &AppState,
    p: &Principal,
    c: &db::countries::Country,
    country: CountryCode,
    envelope: &[u8],
    envelope_digest: &Digest,
    s: &Statement,
    key_id: &str,
    signer_id: i64,
    signer_name: &str,
) -> Result<Recorded> {
    let now = crate::now_ms() / 1000;
    let version = published_version(st, &s.package, &s.version, &s.digest).await?;
    if s.signed_at > now + MAX_CLOCK_SKEW_SECS {
        return Err(Error::invalid(format!(
            "the statement is signed at {}, in the future (now {})",
            s.predicate.signed_at,
            govstore_core::time::rfc3339(now)
        )));
    }
    if s.signed_at < version.published_at / 1000 {
        return Err(Error::invalid(format!(
            "the statement is signed at {}, before {}@{} was published",
            s.predicate.signed_at, s.package, s.version
        )));
    }
    if s.expired_at(now) {
        return Err(Error::invalid(format!(
            "the statement expired at {}",
            s.predicate.valid_until.as_deref().unwrap_or("")
        )));
    }

    let repo_name = s.package.repo_name();
    let envelope_text = std::str::from_utf8(envelope).map_err(|_| Error::invalid("the envelope is not UTF-8 JSON"))?;
    let envelope_size = envelope.len() as u64;
    let envelope_blob = st.blobs.put_small(envelope.to_vec()).await?;
    let empty = st.blobs.put_small(b"{}".to_vec()).await?;

    let txn = st.db.write.begin().await?;
    let repo = db::repositories::lock_for_write(&txn, &repo_name).await?;
    // The key is still unrevoked, and stays so until commit.
    if !db::keys::lock_unrevoked(&txn, c.organisation_id, key_id).await? {
        return Err(refused(format!(
            "the statement was signed with a revoked key of {country}"
        )));
    }
    let subject = subject_descriptor(&txn, repo, &s.digest).await?;
    let id = match db::approvals::insert(
        &txn,
        db::approvals::New {
            country_id: c.id,
            package: s.package.as_str(),
            version: &s.version.to_string(),
            manifest_digest: &s.digest.to_string(),
            decision: s.decision().as_str(),
            key_id,
            signer_user_id: signer_id,
            signed_at: s.signed_at,
            valid_until: s.valid_until,
            reason: s.predicate.reason.as_deref(),
            envelope: envelope_text,
            envelope_digest: &envelope_digest.to_string(),
            recorded_by: p.user_id,
        },
    )
    .await
    {
        Ok(id) => id,
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            drop(txn);
            let row = db::approvals::by_envelope_digest(&st.db.read, &envelope_digest.to_string())
                .await?
                .ok_or_else(|| Error::internal("a recorded statement vanished"))?;
            return already_recorded(st, c, row).await;
        }
        Err(e) => return Err(e.into()),
    };
    db::blobs::record_and_link(&txn, repo, &envelope_blob, envelope_size).await?;
    db::blobs::record_and_link(&txn, repo, &empty, 2).await?;
    let layer = json!({
        "mediaType": ENVELOPE_MEDIA_TYPE,
        "digest": envelope_blob.to_string(),
        "size": envelope_size,
        "annotations": { PREDICATE_TYPE_ANNOTATION: approval::PREDICATE_TYPE },
    });
    let referrer = json!({
        "schemaVersion": 2,
        "mediaType": media_types::OCI_MANIFEST,
        "artifactType": ENVELOPE_MEDIA_TYPE,
        "config": { "mediaType": media_types::OCI_EMPTY, "digest": empty.to_string(), "size": 2 },
        "layers": [layer],
        "subject": subject,
        "annotations": {
            "dev.govstore.approval.country": country.as_str(),
            "dev.govstore.approval.decision": s.decision().as_str(),
            PREDICATE_TYPE_ANNOTATION: approval::PREDICATE_TYPE,
        },
    });
    store_manifest(&txn, repo, &referrer).await?;
    // The cosign attestation manifest: every envelope about this manifest, in order.
    let mut layers = Vec::new();
    for a in db::approvals::of_subject(&txn, &s.digest.to_string()).await? {
        let d = Digest::of(a.envelope.as_bytes());
        layers.push(json!({
            "mediaType": ENVELOPE_MEDIA_TYPE,
            "digest": d.to_string(),
            "size": a.envelope.len(),
            "annotations": { PREDICATE_TYPE_ANNOTATION: approval::PREDICATE_TYPE },
        }));
    }
    let att = json!({
        "schemaVersion": 2,
        "mediaType": media_types::OCI_MANIFEST,
        "config": { "mediaType": media_types::OCI_EMPTY, "digest": empty.to_string(), "size": 2 },
        "layers": layers,
    });
    let att_digest = store_manifest(&txn, repo, &att).await?;
    db::tags::set(&txn, repo, &s.digest.cosign_attestation_tag(), &att_digest.to_string()).await?;
    db::attestations::record(
        &txn,
        db::attestations::New {
            subject: &s.digest,
            kind: db::attestations::Kind::Approval,
            signer_key_id: Some(key_id),
            media_type: ENVELOPE_MEDIA_TYPE,
            envelope: envelope_digest,
            repository: s.package.as_str(),
        },
    )
    .await?;
    let target = format!("{}@{}", s.package, s.version);
    audit::record(
        &txn,
        audit::Event {
            actor: &p.user,
            action: if s.decision() == Decision::Approved {
                "approval.approve"
            } else {
                "approval.revoke"
            },
            target: &target,
            digest: Some(&s.digest.to_string()),
            detail: Some(format!("{country}, signed by {key_id} ({signer_name})")),
        },
    )
    .await?;
    db::events::append(
        &txn,
        &Event::ApprovalRecorded {
            country,
            package: s.package.clone(),
            version: s.version.clone(),
            digest: s.digest.clone(),
            decision: s.decision(),
            key_id: key_id.to_owned(),
            statement_digest: envelope_digest.clone(),
        },
    )
    .await?;
    let tally = tally_of(&txn, c, &s.digest.to_string(), now).await?;
    if let Some(prop) = db::proposals::find(&txn, c.id, &s.digest.to_string()).await? {
        let status = match (s.decision(), tally.approved()) {
            (Decision::Revoked, _) => Some("revoked"),
            (Decision::Approved, true) => Some("approved"),
            (Decision::Approved, false) => None,
        };
        if let Some(status) = status {
            db::proposals::set_status(&txn, prop.id, status).await?;
        }
    }
    txn.commit().await?;
    tracing::info!(%country, package = %s.package, version = %s.version, decision = s.decision().as_str(), key = key_id, "approval recorded");
    crate::search::refresh_logged(&st.search, &st.db.read, s.package.as_str()).await;
    let row = db::approvals::by_id(&st.db.read, id)
        .await?
        .ok_or_else(|| Error::internal("a recorded statement vanished"))?;
    Ok(Recorded {
        row,
        country,
        signer: signer_name.to_owned(),
        new: true,
        tally,
    })
}

/// The published version the statement names, whose manifest digest must be the
/// statement's subject digest.
async fn published_version(
    st: &AppState,
    package: &PackageName,
    version: &semver::Version,
    digest: &Digest,
) -> Result<db::entities::package_versions::Model> {
    let not_published = || {
        Error::new(
            Kind::NotFound,
            format!("{package}@{version} is not a published version of this registry"),
        )
    };
    let pkg = db::packages::find(&st.db.read, package.as_str())
        .await?
        .ok_or_else(not_published)?;
    let v = db::packages::version(&st.db.read, pkg.id, &version.to_string())
        .await?
        .ok_or_else(not_published)?;
    if v.manifest_digest != digest.to_string() {
        return Err(Error::invalid(format!(
            "the statement's subject digest {digest} is not the manifest digest of {package}@{version} ({})",
            v.manifest_digest
        )));
    }
    Ok(v)
}

async fn subject_descriptor(db: &impl ConnectionTrait, repo: i64, digest: &Digest) -> Result<Descriptor> {
    let m = db::manifests::find(db, repo, &digest.to_string())
        .await?
        .ok_or_else(|| Error::internal(format!("version manifest {digest} is not stored")))?;
    Ok(Descriptor {
        media_type: m.media_type,
        digest: digest.clone(),
        size: m.size as u64,
        artifact_type: Some(artifact::ARTIFACT_TYPE.to_owned()),
        annotations: None,
    })
}

pub(super) async fn store_manifest(db: &impl ConnectionTrait, repo: i64, doc: &serde_json::Value) -> Result<Digest> {
    let bytes = serde_json::to_vec(doc).map_err(Error::internal)?;
    let digest = Digest::of(&bytes);
    let info = oci::parse_manifest(Some(media_types::OCI_MANIFEST), &bytes).map_err(Error::internal)?;
    db::manifests::insert_if_absent(db, repo, &digest, &info, &bytes).await?;
    Ok(digest)
}

/// The approval state of a manifest in a country at `now` (seconds); see
/// `db::approvals::tally`.
pub async fn tally_of(db: &impl ConnectionTrait, c: &db::countries::Country, digest: &str, now: i64) -> Result<Tally> {
    Ok(db::approvals::tally(db, c, digest, now).await?)
}
