//! Publish a signed package version.
//!
//! The client has uploaded the blobs through the OCI API; the request carries the OCI
//! manifest bytes, the cosign simple-signing payload and the signature. Everything is
//! checked before anything becomes visible: the caller's scope and role, the manifest's
//! shape, the blobs' presence and sizes, the package manifest (config) and its spec
//! references, the content tarball's entries, the payload, and the signature against
//! the namespace's registered, unrevoked keys. Then one transaction stores the
//! manifest, its version tag, the signature (cosign `sha256-<hex>.sig` tag, a referrer
//! through `subject`, and an attestation row), the version row (whose unique index
//! decides races), the audit entry and the `version_published` event. A package has at
//! most `max_versions_per_package` versions, yanked ones included; the count is checked
//! in the same transaction, before the row.

use base64::Engine as _;
use govstore_core::artifact::{self, PackageLayers};
use govstore_core::event::Event;
use govstore_core::manifest::Manifest;
use govstore_core::oci::{self, Descriptor, media_types};
use govstore_core::package::PackageName;
use govstore_core::scope::Action;
use govstore_core::spec::check_spec_references;
use govstore_core::tarball::{TarLimits, TarballError, check_tarball};
use govstore_core::{Digest, RepoName};
use govstore_signing::PublicKey;
use govstore_signing::simple_signing::{self, PAYLOAD_MEDIA_TYPE, SIGNATURE_ANNOTATION, SIGNATURE_ARTIFACT_TYPE};
use sea_orm::{SqlErr, TransactionTrait};
use serde_json::json;

use super::{Error, Kind, Principal, Result, policy};
use crate::db::{self, audit, entities::package_versions};
use crate::state::AppState;

/// What a publisher sends: the package's name (from the request path), the OCI
/// manifest, and the signed simple-signing payload.
#[derive(Debug)]
pub struct Request {
    pub package: PackageName,
    pub manifest: Vec<u8>,
    pub payload: Vec<u8>,
    pub signature: Vec<u8>,
}

/// A version now visible.
#[derive(Debug, Clone)]
pub struct Published {
    pub package: PackageName,
    pub version: String,
    pub digest: Digest,
    pub signature_digest: Digest,
    pub key_id: String,
    /// The number of its `version_published` event.
    pub seq: i64,
}

fn version_exists(name: &str, version: &str) -> Error {
    Error::new(
        Kind::VersionExists,
        format!("{name}@{version} is already published; versions are immutable"),
    )
    .detail(json!({ "hint": "bump the version in govstore.toml and publish again" }))
}

fn signature_invalid(message: impl Into<String>) -> Error {
    Error::new(Kind::SignatureInvalid, message)
}

/// A package may have at most `max_versions_per_package` versions; yanked ones count,
/// as they stay in the index.
async fn check_version_count(
    db: &impl sea_orm::ConnectionTrait,
    package: &PackageName,
    package_id: i64,
    limit: u64,
) -> Result<()> {
    let count = db::packages::count_versions(db, package_id).await?;
    if count < limit {
        return Ok(());
    }
    Err(Error::conflict(format!(
        "{package} has {count} versions; this registry accepts at most {limit} per package (max_versions_per_package)"
    ))
    .detail(json!({
        "versions": count,
        "limit": limit,
        "hint": "yanked versions count too; the registry's operator can raise max_versions_per_package",
    })))
}

/// Publish: check everything, then make the version visible in one transaction.
pub async fn publish(st: &AppState, p: &Principal, req: Request) -> Result<Published> {
    let package = req.package;
    let org_id = policy::require(&st.db.read, p, Action::Publish, package.namespace()).await?;

    // The OCI manifest: a govstore package for this name, at the version it names.
    let max_manifest = st.config.limits.max_manifest_bytes as usize;
    let manifest_bytes = req.manifest;
    if manifest_bytes.len() > max_manifest {
        return Err(Error::too_large(format!(
            "manifest is larger than {max_manifest} bytes"
        )));
    }
    let info = oci::parse_manifest(Some(media_types::OCI_MANIFEST), &manifest_bytes)
        .map_err(|e| Error::invalid(format!("manifest: {e}")))?;
    let version = info
        .annotations
        .get(artifact::VERSION_ANNOTATION)
        .cloned()
        .ok_or_else(|| {
            Error::invalid(format!(
                "manifest: annotation `{}` is missing",
                artifact::VERSION_ANNOTATION
            ))
        })?;
    let layers = artifact::package_layers(&info, package.as_str(), &version)
        .map_err(|e| Error::invalid(format!("manifest: {e}")))?;
    let digest = Digest::of(&manifest_bytes);
    let total: u64 = info.blobs.iter().map(|d| d.size).sum();
    let max_package = st.config.limits.max_package_bytes;
    if total > max_package {
        return Err(Error::too_large(format!(
            "the package is {total} bytes; this registry accepts at most {max_package}"
        ))
        .detail(json!({ "hint": "exclude build output and large assets with package.exclude in govstore.toml" })));
    }

    // The signature covers exactly this manifest, for this repository.
    let signed = simple_signing::parse_payload(&req.payload).map_err(|e| signature_invalid(format!("payload: {e}")))?;
    if signed.manifest_digest != digest {
        return Err(signature_invalid(format!(
            "the payload signs {}, not this manifest ({digest})",
            signed.manifest_digest
        )));
    }
    let reference = signed.docker_reference.as_str();
    if reference != package.as_str() && !reference.ends_with(&format!("/{package}")) {
        return Err(signature_invalid(format!(
            "the payload names `{reference}`, not `{package}`"
        )));
    }
    let key_id = verify_signature(st, org_id, package.namespace(), &req.payload, &req.signature).await?;

    // Cheap refusals of a known version, or of a package at its version limit, before
    // reading blobs (the insert and the count in the transaction decide races).
    let max_versions = st.config.limits.max_versions_per_package;
    if let Some(existing) = db::packages::find(&st.db.read, package.as_str()).await? {
        if db::packages::version(&st.db.read, existing.id, &version)
            .await?
            .is_some()
        {
            return Err(version_exists(package.as_str(), &version));
        }
        check_version_count(&st.db.read, &package, existing.id, max_versions).await?;
    }

    let repo_name = package.repo_name();
    check_blobs(st, &repo_name, &info.blobs).await?;
    let manifest = read_config(st, &layers, &package, &version).await?;
    check_content(st, &layers.content).await?;

    let subject = Descriptor {
        media_type: media_types::OCI_MANIFEST.to_owned(),
        digest: digest.clone(),
        size: manifest_bytes.len() as u64,
        artifact_type: Some(artifact::ARTIFACT_TYPE.to_owned()),
        annotations: None,
    };
    let (sig_manifest, sig_blobs) = signature_manifest(st, req.payload, &req.signature, &subject).await?;
    let sig_digest = Digest::of(&sig_manifest);
    let sig_info = oci::parse_manifest(None, &sig_manifest).map_err(Error::internal)?;
    let semver: semver::Version = version
        .parse()
        .map_err(|e| Error::invalid(format!("version `{version}`: {e}")))?;

    let txn = st.db.write.begin().await?;
    let repo = db::repositories::lock_for_write(&txn, &repo_name).await?;
    for (d, size) in &sig_blobs {
        db::blobs::record_and_link(&txn, repo, d, *size).await?;
    }
    db::manifests::insert_if_absent(&txn, repo, &digest, &info, &manifest_bytes).await?;
    db::manifests::insert_if_absent(&txn, repo, &sig_digest, &sig_info, &sig_manifest).await?;
    db::tags::set(&txn, repo, &version, &digest.to_string()).await?;
    db::tags::set(&txn, repo, &digest.cosign_signature_tag(), &sig_digest.to_string()).await?;
    let package_id = db::packages::upsert(
        &txn,
        org_id,
        package.as_str(),
        &manifest.package.description,
        manifest.package.license.as_str(),
    )
    .await?;
    // The key that verified the signature is still unrevoked, and stays so until commit.
    if !db::keys::lock_unrevoked(&txn, org_id, &key_id).await? {
        return Err(signature_invalid(format!(
            "the signature was made with a revoked key of `{}`",
            package.namespace()
        )));
    }
    // After `upsert`, which updates an existing package's row: concurrent publishes of
    // one package wait here for each other, so the count sees every committed version.
    // Returning drops the transaction, which rolls back everything written above.
    check_version_count(&txn, &package, package_id, max_versions).await?;
    let row = package_versions::ActiveModel {
        package_id: sea_orm::Set(package_id),
        version: sea_orm::Set(version.clone()),
        manifest_digest: sea_orm::Set(digest.to_string()),
        config: sea_orm::Set(manifest.canonical_json()),
        signature_digest: sea_orm::Set(sig_digest.to_string()),
        key_id: sea_orm::Set(key_id.clone()),
        published_by: sea_orm::Set(p.user_id),
        published_at: sea_orm::Set(crate::now_ms()),
        yanked: sea_orm::Set(false),
        yank_reason: sea_orm::Set(None),
        content_digest: sea_orm::Set(Some(layers.content.digest.to_string())),
        ..Default::default()
    };
    if let Err(e) = db::packages::insert_version(&txn, row).await {
        return Err(match e.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => version_exists(package.as_str(), &version),
            _ => e.into(),
        });
    }
    db::attestations::record(
        &txn,
        db::attestations::New {
            subject: &digest,
            kind: db::attestations::Kind::Signature,
            signer_key_id: Some(&key_id),
            media_type: SIGNATURE_ARTIFACT_TYPE,
            envelope: &sig_digest,
            repository: package.as_str(),
        },
    )
    .await?;
    let target = format!("{package}@{version}");
    audit::record(
        &txn,
        audit::Event {
            actor: &p.user,
            action: "version.publish",
            target: &target,
            digest: Some(&digest.to_string()),
            detail: Some(format!("signed by {key_id}")),
        },
    )
    .await?;
    let seq = db::events::append(
        &txn,
        &Event::VersionPublished {
            package: package.clone(),
            version: semver,
            digest: digest.clone(),
            signature_digest: sig_digest.clone(),
            key_id: key_id.clone(),
        },
    )
    .await?;
    if let Err(e) = txn.commit().await {
        return Err(match e.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => version_exists(package.as_str(), &version),
            _ => e.into(),
        });
    }
    tracing::info!(package = %package, %version, %digest, key = %key_id, user = %p.user, seq, "published");
    crate::search::refresh_logged(&st.search, &st.db.read, package.as_str()).await;
    Ok(Published {
        package,
        version,
        digest,
        signature_digest: sig_digest,
        key_id,
        seq,
    })
}

/// The key id of the namespace's registered, unrevoked key that verifies the signature.
async fn verify_signature(st: &AppState, org_id: i64, ns: &str, payload: &[u8], signature: &[u8]) -> Result<String> {
    let keys = db::keys::list(&st.db.read, org_id).await?;
    let live: Vec<_> = keys.iter().filter(|k| k.revoked_at.is_none()).collect();
    if live.is_empty() {
        return Err(
            Error::denied(format!("namespace `{ns}` has no registered, unrevoked signing key"))
                .detail(json!({ "hint": "register a public key with `govstore key register`" })),
        );
    }
    for k in &live {
        let key = PublicKey::from_pem(&k.public_key).map_err(Error::internal)?;
        if key.verify(payload, signature).is_ok() {
            return Ok(k.key_id.clone());
        }
    }
    let revoked_match = keys
        .iter()
        .filter(|k| k.revoked_at.is_some())
        .any(|k| PublicKey::from_pem(&k.public_key).is_ok_and(|key| key.verify(payload, signature).is_ok()));
    Err(signature_invalid(if revoked_match {
        format!("the signature was made with a revoked key of `{ns}`")
    } else {
        format!(
            "the signature does not verify against any of the {} registered, unrevoked keys of `{ns}`",
            live.len()
        )
    }))
}

/// Every blob the manifest lists is in the repository with the size it claims.
async fn check_blobs(st: &AppState, repo: &RepoName, blobs: &[Descriptor]) -> Result<()> {
    let missing = |d: &Descriptor| {
        Error::new(
            Kind::BlobUnknown,
            format!("blob {} is not uploaded to `{repo}`", d.digest),
        )
        .detail(json!({ "hint": "upload the package's blobs through the OCI API first" }))
    };
    let Some(r) = db::repositories::find(&st.db.read, repo).await? else {
        return Err(blobs
            .first()
            .map_or_else(|| Error::invalid("manifest lists no blobs"), missing));
    };
    let wanted: Vec<String> = blobs.iter().map(|d| d.digest.to_string()).collect();
    let sizes = db::blobs::linked_sizes(&st.db.read, r.id, &wanted).await?;
    for d in blobs {
        match sizes.get(&d.digest.to_string()) {
            None => return Err(missing(d)),
            Some(&s) if s != d.size => {
                return Err(Error::invalid(format!(
                    "manifest says {} has {} bytes; it has {s}",
                    d.digest, d.size
                )));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// The config blob: the package's `govstore.toml` as canonical JSON, for this name and
/// version, naming only known specs and spec versions.
async fn read_config(st: &AppState, layers: &PackageLayers, package: &PackageName, version: &str) -> Result<Manifest> {
    let limit = govstore_core::manifest::limits::MAX_MANIFEST_BYTES as u64;
    let bytes = match st.blobs.read_small(&layers.config.digest, limit).await {
        Ok(Some(b)) => b,
        Ok(None) => {
            return Err(Error::internal(format!(
                "config blob {} is recorded but not stored",
                layers.config.digest
            )));
        }
        Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
            return Err(Error::too_large(format!(
                "the package manifest (config) is larger than {limit} bytes"
            )));
        }
        Err(e) => return Err(e.into()),
    };
    let text = String::from_utf8(bytes).map_err(|_| Error::invalid("config: not UTF-8"))?;
    let manifest = Manifest::from_canonical_json(&text).map_err(|e| Error::invalid(format!("govstore.toml: {e}")))?;
    if manifest.package.name != *package || manifest.package.version.to_string() != version {
        return Err(Error::invalid(format!(
            "govstore.toml describes {}@{}, but the publish is for {package}@{version}",
            manifest.package.name, manifest.package.version
        )));
    }
    let known = db::specs::all(&st.db.read).await?;
    if let Err(errors) = check_spec_references(&manifest, &known) {
        let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
        return Err(Error::invalid(format!("govstore.toml: {}", messages.join("; ")))
            .detail(json!({ "errors": messages, "hint": "publish the spec first with `govstore spec publish`, or fix the version" })));
    }
    Ok(manifest)
}

/// The content tarball has no entry that could escape or surprise an installer. A
/// failure to read the stored blob is the server's, not the publisher's.
async fn check_content(st: &AppState, content: &Descriptor) -> Result<()> {
    let reader = st
        .blobs
        .open_reader(&content.digest)
        .await?
        .ok_or_else(|| Error::internal(format!("content blob {} is recorded but not stored", content.digest)))?;
    let result = tokio::task::spawn_blocking(move || check_tarball(reader, &TarLimits::default()))
        .await
        .map_err(Error::internal)?;
    match result {
        Ok(_) => Ok(()),
        Err(TarballError::Read(e)) => Err(Error::internal(format!("reading content blob {}: {e}", content.digest))),
        Err(e) => Err(Error::invalid(format!("content: {e}"))),
    }
}

/// The cosign signature manifest: an empty config, one layer holding the payload with
/// the signature in its annotation, and `subject` naming the package manifest. Stores
/// its two small blobs; returns the manifest bytes and the blobs to link.
async fn signature_manifest(
    st: &AppState,
    payload: Vec<u8>,
    signature: &[u8],
    subject: &Descriptor,
) -> Result<(Vec<u8>, Vec<(Digest, u64)>)> {
    let payload_size = payload.len() as u64;
    let payload_digest = st.blobs.put_small(payload).await?;
    let empty_digest = st.blobs.put_small(b"{}".to_vec()).await?;
    let sig_b64 = base64::engine::general_purpose::STANDARD.encode(signature);
    let doc = json!({
        "schemaVersion": 2,
        "mediaType": media_types::OCI_MANIFEST,
        "artifactType": SIGNATURE_ARTIFACT_TYPE,
        "config": { "mediaType": media_types::OCI_EMPTY, "digest": empty_digest.to_string(), "size": 2 },
        "layers": [{
            "mediaType": PAYLOAD_MEDIA_TYPE,
            "digest": payload_digest.to_string(),
            "size": payload_size,
            "annotations": { SIGNATURE_ANNOTATION: sig_b64 },
        }],
        "subject": subject,
    });
    let bytes = serde_json::to_vec(&doc).map_err(Error::internal)?;
    Ok((bytes, vec![(payload_digest, payload_size), (empty_digest, 2)]))
}
