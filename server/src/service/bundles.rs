//! Country bundles: make a bundle version and add approver signatures to it, after
//! checking everything about them; read a bundle's state.
//!
//! A signature upload carries the bundle's image index (canonical bytes, see
//! `core::bundle`), one DSSE envelope with a bundle statement over the index digest,
//! and the cosign simple-signing signature of the index by the same key. It is stored
//! only if: the caller may approve for the country; the index is canonical and names
//! this country; the statement names this bundle and index digest; it is signed by one
//! of the country's registered, unrevoked keys whose holder is an approver; the bundle
//! version is new or is this very index (versions are immutable); and every member is a
//! published version of this registry, by name, version and manifest digest, holding a
//! valid approval threshold in the country now (otherwise the refusal lists each member
//! that lacks one, and why). Then one transaction writes, in the repository
//! `<cc>/<name>`: the members' manifests and their blobs (so OCI clients copy the
//! bundle with `--all`), the index tagged by the version, the envelope as an OCI
//! referrer of the index, the cosign attestation (`sha256-<hex>.att`, every envelope)
//! and signature (`sha256-<hex>.sig`, every simple signature) manifests; the rows, the
//! audit entry and the `bundle_signed` event. The same envelope again records nothing.

use base64::Engine as _;
use govstore_core::Digest;
use govstore_core::bundle::{self, Bundle, BundleRef, BundleStatement, BundleVersion};
use govstore_core::event::Event;
use govstore_core::manifest::values::CountryCode;
use govstore_core::oci::{self, Descriptor, media_types};
use govstore_core::reference::RepoName;
use govstore_core::scope::CountryAction;
use govstore_signing::PublicKey;
use govstore_signing::dsse::{ENVELOPE_MEDIA_TYPE, Envelope};
use govstore_signing::simple_signing::{self, PAYLOAD_MEDIA_TYPE, SIGNATURE_ANNOTATION, SIGNATURE_ARTIFACT_TYPE};
use sea_orm::{ConnectionTrait, SqlErr, TransactionTrait};
use serde::Serialize;
use serde_json::json;

use super::approvals::{MAX_CLOCK_SKEW_SECS, PREDICATE_TYPE_ANNOTATION, approver_holding, store_manifest, verify_key};
use super::{Error, Kind, Principal, Result, policy};
use crate::db::{self, audit};
use crate::state::AppState;

/// One approver's signature over a bundle, as uploaded.
#[derive(Debug)]
pub struct Signing {
    /// The image index, canonical bytes.
    pub index: Vec<u8>,
    /// The DSSE envelope (JSON) of the bundle statement, one signature.
    pub envelope: Vec<u8>,
    /// The DER signature over the cosign simple-signing payload of the index.
    pub simple_signature: Vec<u8>,
}

/// A bundle version as the API and pages show it.
#[derive(Debug, Clone, Serialize)]
pub struct State {
    pub reference: String,
    pub repository: String,
    pub version: String,
    pub digest: String,
    pub members: Vec<MemberState>,
    pub threshold: u32,
    pub threshold_met: bool,
    pub signatures: Vec<SignatureState>,
    /// The DSSE envelopes (JSON), for clients that verify them.
    pub envelopes: Vec<serde_json::Value>,
    /// The other versions of this bundle, oldest first.
    pub versions: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MemberState {
    pub name: String,
    pub version: String,
    pub digest: String,
    /// Approved in the country now.
    pub approved: bool,
    /// Why not, when not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why_not: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SignatureState {
    pub key_id: String,
    pub signer: String,
    pub signed_at: String,
}

fn refused(message: impl Into<String>) -> Error {
    Error::new(Kind::SignatureInvalid, message)
}

/// Record one approver's signature over a bundle, making the bundle version if it is
/// new. Returns the bundle's state after it, and whether this signature is new (false:
/// the same envelope was recorded before).
pub async fn sign(st: &AppState, p: &Principal, country: CountryCode, up: Signing) -> Result<(State, bool)> {
    let c = policy::require_country(&st.db.read, p, CountryAction::Approve, country).await?;
    let b = Bundle::from_index_json(&up.index).map_err(|e| Error::invalid(e.to_string()))?;
    if b.to_index_json() != up.index {
        return Err(Error::invalid(
            "the bundle index is not in canonical form (keys sorted, no whitespace, members sorted by name): make it with `govstore bundle create`",
        ));
    }
    if b.country != country {
        return Err(Error::invalid(format!(
            "the bundle is for {}, not {country}",
            b.country
        )));
    }
    let index_digest = Digest::of(&up.index);
    let env = Envelope::from_json(&up.envelope).map_err(|e| Error::invalid(e.to_string()))?;
    if env.signatures.len() != 1 {
        return Err(Error::invalid(format!(
            "the envelope carries {} signatures; upload one envelope per approver signature",
            env.signatures.len()
        )));
    }
    if env.payload_type != bundle::STATEMENT_PAYLOAD_TYPE {
        return Err(Error::invalid(format!(
            "the envelope's payloadType is not `{}`",
            bundle::STATEMENT_PAYLOAD_TYPE
        )));
    }
    let s = BundleStatement::from_json(&env.payload).map_err(|e| Error::invalid(e.to_string()))?;
    if s.bundle != b.reference() || s.digest != index_digest {
        return Err(refused(format!(
            "the statement signs {}, {}; this upload is {}, {index_digest}",
            s.bundle,
            s.digest,
            b.reference()
        )));
    }
    let signed_at = govstore_core::time::parse_rfc3339(&s.signed_at).ok_or_else(|| {
        Error::invalid(format!(
            "the statement's signedAt {:?} is not an RFC 3339 UTC time such as 2026-12-07T10:00:00Z",
            s.signed_at
        ))
    })?;
    let now = crate::now_ms() / 1000;
    if signed_at > now + MAX_CLOCK_SKEW_SECS {
        return Err(Error::invalid(format!(
            "the statement is signed at {}, in the future",
            s.signed_at
        )));
    }
    let (key_id, holder) = verify_key(st, &c, country, &env).await?;
    let signer = approver_holding(st, &c, country, &key_id, holder).await?;
    let repository = b.reference().repository();
    let key = country_key(st, &c, &key_id).await?;
    let payload = simple_signing::payload(&repository, &index_digest);
    if key.verify(&payload, &up.simple_signature).is_err() {
        return Err(refused(format!(
            "the cosign signature of the index does not verify against the key that signed the statement ({})",
            govstore_core::approval::short_key(&key_id)
        )));
    }
    let repo_name: RepoName = repository
        .parse()
        .map_err(|e| Error::invalid(format!("repository {repository}: {e}")))?;
    if db::packages::find(&st.db.read, &repository).await?.is_some() {
        return Err(Error::conflict(format!(
            "{repository} is a package of this registry; choose another bundle name"
        )));
    }
    let envelope_digest = Digest::of(&up.envelope);
    let members = check_members(st, &c, &b, now).await?;

    let envelope_text =
        std::str::from_utf8(&up.envelope).map_err(|_| Error::invalid("the envelope is not UTF-8 JSON"))?;
    let envelope_blob = st.blobs.put_small(up.envelope.clone()).await?;
    let payload_blob = st.blobs.put_small(payload.clone()).await?;
    let empty = st.blobs.put_small(b"{}".to_vec()).await?;
    let index_info = oci::parse_manifest(Some(media_types::OCI_INDEX), &up.index)
        .map_err(|e| Error::invalid(format!("the bundle index: {e}")))?;

    let txn = st.db.write.begin().await?;
    let repo = db::repositories::lock_for_write(&txn, &repo_name).await?;
    if !db::keys::lock_unrevoked(&txn, c.organisation_id, &key_id).await? {
        return Err(refused(format!(
            "the statement was signed with a revoked key of {country}"
        )));
    }
    let version = b.version.to_string();
    let bundle_id = match db::bundles::find(&txn, c.id, b.name.as_str(), &version).await? {
        Some(existing) if existing.index_digest != index_digest.to_string() => {
            return Err(Error::conflict(format!(
                "{} is already another bundle ({}); bundle versions never change: make the next version",
                b.reference(),
                existing.index_digest
            )));
        }
        Some(existing) => existing.id,
        None => {
            for m in &members {
                link_member(&txn, repo, m).await?;
            }
            db::manifests::insert_if_absent(&txn, repo, &index_digest, &index_info, &up.index).await?;
            db::tags::set(&txn, repo, &version, &index_digest.to_string()).await?;
            db::bundles::insert(
                &txn,
                c.id,
                b.name.as_str(),
                &version,
                &index_digest.to_string(),
                b.members.len(),
                p.user_id,
            )
            .await?
        }
    };
    let sig_b64 = base64::engine::general_purpose::STANDARD.encode(&up.simple_signature);
    match db::bundles::insert_signature(
        &txn,
        db::bundles::NewSignature {
            bundle_id,
            key_id: &key_id,
            signer_user_id: signer.id,
            signed_at,
            envelope: envelope_text,
            envelope_digest: &envelope_digest.to_string(),
            simple_signature: &sig_b64,
        },
    )
    .await
    {
        Ok(_) => {}
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            drop(txn);
            return Ok((state(st, country, &b.reference()).await?, false));
        }
        Err(e) => return Err(e.into()),
    }
    db::blobs::record_and_link(&txn, repo, &envelope_blob, up.envelope.len() as u64).await?;
    db::blobs::record_and_link(&txn, repo, &payload_blob, payload.len() as u64).await?;
    db::blobs::record_and_link(&txn, repo, &empty, 2).await?;
    let subject = Descriptor {
        media_type: media_types::OCI_INDEX.to_owned(),
        digest: index_digest.clone(),
        size: up.index.len() as u64,
        artifact_type: Some(bundle::ARTIFACT_TYPE.to_owned()),
        annotations: None,
    };
    let referrer = json!({
        "schemaVersion": 2,
        "mediaType": media_types::OCI_MANIFEST,
        "artifactType": ENVELOPE_MEDIA_TYPE,
        "config": { "mediaType": media_types::OCI_EMPTY, "digest": empty.to_string(), "size": 2 },
        "layers": [{
            "mediaType": ENVELOPE_MEDIA_TYPE,
            "digest": envelope_blob.to_string(),
            "size": up.envelope.len(),
            "annotations": { PREDICATE_TYPE_ANNOTATION: bundle::PREDICATE_TYPE },
        }],
        "subject": subject,
        "annotations": {
            "dev.govstore.bundle.country": country.as_str(),
            PREDICATE_TYPE_ANNOTATION: bundle::PREDICATE_TYPE,
        },
    });
    store_manifest(&txn, repo, &referrer).await?;
    let signatures = db::bundles::signatures(&txn, bundle_id).await?;
    let att_layers: Vec<serde_json::Value> = signatures
        .iter()
        .map(|s| {
            json!({
                "mediaType": ENVELOPE_MEDIA_TYPE,
                "digest": Digest::of(s.envelope.as_bytes()).to_string(),
                "size": s.envelope.len(),
                "annotations": { PREDICATE_TYPE_ANNOTATION: bundle::PREDICATE_TYPE },
            })
        })
        .collect();
    let att = json!({
        "schemaVersion": 2,
        "mediaType": media_types::OCI_MANIFEST,
        "config": { "mediaType": media_types::OCI_EMPTY, "digest": empty.to_string(), "size": 2 },
        "layers": att_layers,
    });
    let att_digest = store_manifest(&txn, repo, &att).await?;
    db::tags::set(
        &txn,
        repo,
        &index_digest.cosign_attestation_tag(),
        &att_digest.to_string(),
    )
    .await?;
    let sig_layers: Vec<serde_json::Value> = signatures
        .iter()
        .map(|s| {
            json!({
                "mediaType": PAYLOAD_MEDIA_TYPE,
                "digest": payload_blob.to_string(),
                "size": payload.len(),
                "annotations": { SIGNATURE_ANNOTATION: s.simple_signature },
            })
        })
        .collect();
    let sig = json!({
        "schemaVersion": 2,
        "mediaType": media_types::OCI_MANIFEST,
        "artifactType": SIGNATURE_ARTIFACT_TYPE,
        "config": { "mediaType": media_types::OCI_EMPTY, "digest": empty.to_string(), "size": 2 },
        "layers": sig_layers,
    });
    let sig_digest = store_manifest(&txn, repo, &sig).await?;
    db::tags::set(
        &txn,
        repo,
        &index_digest.cosign_signature_tag(),
        &sig_digest.to_string(),
    )
    .await?;
    let target = b.reference().to_string();
    audit::record(
        &txn,
        audit::Event {
            actor: &p.user,
            action: "bundle.sign",
            target: &target,
            digest: Some(&index_digest.to_string()),
            detail: Some(format!("signed by {key_id} ({})", signer.name)),
        },
    )
    .await?;
    db::events::append(
        &txn,
        &Event::BundleSigned {
            country,
            bundle: b.name.to_string(),
            version: version.clone(),
            digest: index_digest.clone(),
            key_id: key_id.clone(),
            statement_digest: envelope_digest,
        },
    )
    .await?;
    txn.commit().await?;
    tracing::info!(bundle = %target, key = key_id, "bundle signed");
    Ok((state(st, country, &b.reference()).await?, true))
}

/// The country key with this id (registered; revocation is checked in the transaction).
async fn country_key(st: &AppState, c: &db::countries::Country, key_id: &str) -> Result<PublicKey> {
    let keys = db::keys::list(&st.db.read, c.organisation_id).await?;
    let k = keys
        .iter()
        .find(|k| k.key_id == key_id)
        .ok_or_else(|| Error::internal("a verified key vanished"))?;
    PublicKey::from_pem(&k.public_key).map_err(Error::internal)
}

/// A member as stored in its package repository.
struct StoredMember {
    manifest: db::entities::manifests::Model,
}

/// Every member must be a published version with this digest and hold a valid
/// approval threshold in the country now; the refusal lists every one that does not.
async fn check_members(st: &AppState, c: &db::countries::Country, b: &Bundle, now: i64) -> Result<Vec<StoredMember>> {
    let mut problems = Vec::new();
    let mut out = Vec::with_capacity(b.members.len());
    for m in &b.members {
        let label = format!("{}@{}", m.name, m.version);
        let Some(pkg) = db::packages::find(&st.db.read, m.name.as_str()).await? else {
            problems.push(format!("{label}: not a package of this registry"));
            continue;
        };
        let Some(v) = db::packages::version(&st.db.read, pkg.id, &m.version.to_string()).await? else {
            problems.push(format!("{label}: not a published version"));
            continue;
        };
        if v.manifest_digest != m.digest.to_string() {
            problems.push(format!(
                "{label}: the bundle names {}, the published manifest is {}",
                m.digest, v.manifest_digest
            ));
            continue;
        }
        let tally = db::approvals::tally(&st.db.read, c, &v.manifest_digest, now).await?;
        if let Some(why) = tally.why_not(b.country) {
            problems.push(format!("{label}: {why}"));
            continue;
        }
        let repo_name = m.name.repo_name();
        let manifest = match db::repositories::find(&st.db.read, &repo_name).await? {
            Some(r) => db::manifests::find(&st.db.read, r.id, &v.manifest_digest).await?,
            None => None,
        };
        let manifest = manifest.ok_or_else(|| Error::internal(format!("the manifest of {label} is not stored")))?;
        if manifest.size as u64 != m.size {
            problems.push(format!(
                "{label}: the bundle gives its manifest {} bytes, it has {}",
                m.size, manifest.size
            ));
            continue;
        }
        out.push(StoredMember { manifest });
    }
    if problems.is_empty() {
        return Ok(out);
    }
    Err(Error::new(
        Kind::Denied,
        format!(
            "{} of the bundle's {} members cannot be in a bundle of {}: {}",
            problems.len(),
            b.members.len(),
            b.country,
            problems.join("; ")
        ),
    )
    .detail(json!({ "members": problems, "hint": "approve each missing version first (`govstore approve`), then sign the bundle again" })))
}

/// Puts a member's manifest and its blobs into the bundle's repository.
async fn link_member(db: &impl ConnectionTrait, repo: i64, m: &StoredMember) -> Result<()> {
    let info = oci::parse_manifest(Some(&m.manifest.media_type), &m.manifest.content).map_err(Error::internal)?;
    for d in &info.blobs {
        db::blobs::link(db, repo, &d.digest).await?;
    }
    let digest: Digest = m.manifest.digest.parse().map_err(Error::internal)?;
    db::manifests::insert_if_absent(db, repo, &digest, &info, &m.manifest.content).await?;
    Ok(())
}

/// A bundle version's state: members with their approval now, signatures, threshold.
pub async fn state(st: &AppState, country: CountryCode, r: &BundleRef) -> Result<State> {
    let not_found = || Error::new(Kind::NotFound, format!("{r} is not a bundle of this registry"));
    let c = db::countries::by_code(&st.db.read, country.as_str())
        .await?
        .ok_or_else(not_found)?;
    let version = r
        .version
        .ok_or_else(|| Error::invalid("name the bundle's version: COUNTRY/NAME@VERSION"))?;
    let row = db::bundles::find(&st.db.read, c.id, r.name.as_str(), &version.to_string())
        .await?
        .ok_or_else(not_found)?;
    let repo_name: RepoName = r.repository().parse().map_err(Error::internal)?;
    let repo = db::repositories::find(&st.db.read, &repo_name)
        .await?
        .ok_or_else(not_found)?;
    let index = db::manifests::find(&st.db.read, repo.id, &row.index_digest)
        .await?
        .ok_or_else(|| Error::internal(format!("the index of {r} is not stored")))?;
    let b = Bundle::from_index_json(&index.content).map_err(Error::internal)?;
    let now = crate::now_ms() / 1000;
    let mut members = Vec::with_capacity(b.members.len());
    for m in &b.members {
        let tally = db::approvals::tally(&st.db.read, &c, &m.digest.to_string(), now).await?;
        let why_not = tally.why_not(country);
        members.push(MemberState {
            name: m.name.to_string(),
            version: m.version.to_string(),
            digest: m.digest.to_string(),
            approved: why_not.is_none(),
            why_not,
        });
    }
    let rows = db::bundles::signatures(&st.db.read, row.id).await?;
    let mut signatures = Vec::with_capacity(rows.len());
    let mut envelopes = Vec::with_capacity(rows.len());
    let mut keys = std::collections::BTreeSet::new();
    for s in &rows {
        let signer = db::accounts::user_by_id(&st.db.read, s.signer_user_id)
            .await?
            .map_or_else(String::new, |u| u.name);
        keys.insert(s.key_id.clone());
        signatures.push(SignatureState {
            key_id: s.key_id.clone(),
            signer,
            signed_at: govstore_core::time::rfc3339(s.signed_at),
        });
        envelopes.push(serde_json::from_str(&s.envelope).map_err(Error::internal)?);
    }
    let threshold = u32::try_from(c.threshold).unwrap_or(u32::MAX);
    let versions = db::bundles::versions(&st.db.read, c.id, r.name.as_str())
        .await?
        .into_iter()
        .map(|v| v.version)
        .collect();
    Ok(State {
        reference: r.to_string(),
        repository: r.repository(),
        version: version.to_string(),
        digest: row.index_digest,
        members,
        threshold,
        threshold_met: keys.len() >= threshold as usize && threshold > 0,
        signatures,
        envelopes,
        versions,
    })
}

/// The bundles of a country: (name, versions oldest first).
pub async fn list(st: &AppState, country: CountryCode) -> Result<Vec<(String, Vec<String>)>> {
    let c = db::countries::by_code(&st.db.read, country.as_str())
        .await?
        .ok_or_else(|| Error::new(Kind::NotFound, format!("{country} is not a country of this registry")))?;
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for b in db::bundles::of_country(&st.db.read, c.id).await? {
        match out.iter_mut().find(|(n, _)| *n == b.name) {
            Some((_, versions)) => versions.push(b.version),
            None => out.push((b.name, vec![b.version])),
        }
    }
    for (_, versions) in &mut out {
        versions.sort_by_key(|v| v.parse::<BundleVersion>().ok());
    }
    out.sort();
    Ok(out)
}
