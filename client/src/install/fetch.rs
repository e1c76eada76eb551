//! Getting each locked package into the local cache, verified: the manifest by the
//! digest the lockfile pins, its config, its signature (against the namespace's keys,
//! and one the lockfile lists), then its blobs, each checked while streaming or, when
//! already cached, re-hashed.
//!
//! Online, everything missing is fetched and cached; offline, what is missing is
//! collected and reported together ([`InstallError::NotCached`]).

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use govstore_core::Digest;
use govstore_core::artifact::{PackageLayers, package_layers};
use govstore_core::manifest::Manifest;
use govstore_core::oci::{Descriptor, parse_manifest};
use govstore_signing::PublicKey;
use govstore_signing::simple_signing::MAX_PAYLOAD_LEN;

use govstore_core::stack::LockedPackage;

use super::{InstallError, label};
use crate::cache::{BlobState, Cache};
use crate::progress::Progress;
use crate::registry::{MAX_MANIFEST_BYTES, RegistryClient};
use crate::verify::{VerifyError, check_payload, signature_layers};

/// The largest config blob read into memory.
const MAX_CONFIG_BYTES: usize = 1024 * 1024;

/// Where bytes come from: the registry (and the cache), or the cache alone.
#[derive(Debug, Clone, Copy)]
pub(super) enum Origin<'a> {
    Online(&'a RegistryClient),
    Offline,
}

/// A public key trusted for a namespace.
#[derive(Debug, Clone)]
pub(super) struct TrustedKey {
    pub key_id: String,
    pub public: PublicKey,
    /// When and why it was revoked, if the registry says so (unknown offline).
    pub revoked: Option<(Option<String>, Option<String>)>,
}

/// Keys by namespace.
pub(super) type Keys = BTreeMap<String, Vec<TrustedKey>>;

/// A package whose manifest, config and signature check out.
#[derive(Debug, Clone)]
pub(super) struct Checked {
    pub package: LockedPackage,
    pub layers: PackageLayers,
    pub key_id: String,
}

impl Checked {
    /// The blobs to have in the cache, with their roles: content, then README and SBOM.
    pub fn blobs(&self) -> Vec<(&'static str, &Descriptor)> {
        let mut out = vec![("content", &self.layers.content)];
        out.extend(self.layers.readme.iter().map(|d| ("README", d)));
        out.extend(self.layers.sbom.iter().map(|d| ("SBOM", d)));
        out
    }
}

fn failed(p: &LockedPackage, problem: impl Into<VerifyError>) -> InstallError {
    InstallError::Verify {
        package: label(p),
        problem: problem.into(),
    }
}

fn missing(what: String) -> InstallError {
    InstallError::NotCached { missing: vec![what] }
}

/// The keys of every namespace in `packages`. Online: the registry's listing (each id
/// checked against its key, revocations included), cached for later offline use.
/// Offline: the cached keys whose ids the lockfile lists (a missing one is reported by
/// [`check`] with its package).
pub(super) async fn load_keys(
    origin: Origin<'_>,
    cache: &Cache,
    packages: &[LockedPackage],
) -> Result<Keys, InstallError> {
    let mut keys = Keys::new();
    let namespaces: BTreeSet<&str> = packages.iter().map(|p| p.name.namespace()).collect();
    match origin {
        Origin::Online(client) => {
            for ns in namespaces {
                let listed = client.list_keys(ns).await.map_err(|e| InstallError::Keys {
                    namespace: ns.to_owned(),
                    problem: e.into(),
                })?;
                let mut trusted = Vec::new();
                for k in listed {
                    let bad = |problem| InstallError::Keys {
                        namespace: ns.to_owned(),
                        problem,
                    };
                    let public = PublicKey::from_pem(&k.public_key).map_err(|e| {
                        bad(VerifyError::Payload(format!(
                            "key {} is not a valid public key: {e}",
                            k.key_id
                        )))
                    })?;
                    let computed = public.key_id();
                    if computed != k.key_id {
                        return Err(bad(VerifyError::KeyIdMismatch {
                            listed: k.key_id,
                            computed,
                        }));
                    }
                    cache.put_key(&public)?;
                    let revoked = k
                        .revoked_at
                        .is_some()
                        .then(|| (k.revoked_at.clone(), k.revoke_reason.clone()));
                    trusted.push(TrustedKey {
                        key_id: k.key_id,
                        public,
                        revoked,
                    });
                }
                keys.insert(ns.to_owned(), trusted);
            }
        }
        Origin::Offline => {
            // Keys not in the cache are reported with the package that needs them.
            for p in packages {
                let entry = keys.entry(p.name.namespace().to_owned()).or_default();
                for id in &p.key_ids {
                    if entry.iter().any(|k| &k.key_id == id) {
                        continue;
                    }
                    if let Some(public) = cache.key(id) {
                        entry.push(TrustedKey {
                            key_id: id.clone(),
                            public,
                            revoked: None,
                        });
                    }
                }
            }
        }
    }
    Ok(keys)
}

/// A small blob (config, signature payload): from the cache, else fetched and cached.
async fn small_blob(
    origin: Origin<'_>,
    cache: &Cache,
    p: &LockedPackage,
    d: &Descriptor,
    max: usize,
    what: &str,
) -> Result<Vec<u8>, InstallError> {
    if d.size > max as u64 {
        return Err(failed(
            p,
            VerifyError::Config(format!("the {what} is larger than {max} bytes")),
        ));
    }
    if let Some(bytes) = cache.read_blob(&d.digest, max)? {
        return Ok(bytes);
    }
    let Origin::Online(client) = origin else {
        return Err(missing(format!("the {what} of {} ({})", label(p), d.digest)));
    };
    let bytes = client
        .fetch_blob_bytes(&p.name.repo_name(), &d.digest, d.size, max)
        .await
        .map_err(|e| failed(p, e))?;
    cache.put_blob(&d.digest, &bytes)?;
    Ok(bytes)
}

/// A manifest by digest: from the cache, else fetched (checked against the digest).
async fn manifest(
    origin: Origin<'_>,
    cache: &Cache,
    p: &LockedPackage,
    digest: &Digest,
    what: &str,
) -> Result<Vec<u8>, InstallError> {
    if let Some(bytes) = cache.read_blob(digest, MAX_MANIFEST_BYTES)? {
        return Ok(bytes);
    }
    let Origin::Online(client) = origin else {
        return Err(missing(format!("the {what} of {} ({digest})", label(p))));
    };
    let fetched = client
        .fetch_manifest(&p.name.repo_name(), &digest.to_string())
        .await
        .map_err(|e| failed(p, e))?;
    cache.put_blob(&fetched.digest, &fetched.bytes)?;
    Ok(fetched.bytes)
}

/// Checks one package's manifest, config and signature.
pub(super) async fn check(
    origin: Origin<'_>,
    cache: &Cache,
    p: &LockedPackage,
    keys: &Keys,
) -> Result<Checked, InstallError> {
    let name = p.name.as_str();
    let version = p.version.to_string();
    let bytes = manifest(origin, cache, p, &p.digest, "manifest").await?;
    let not_a_package = |message: String| {
        failed(
            p,
            VerifyError::NotAPackage {
                name: label(p),
                message,
            },
        )
    };
    let info = parse_manifest(None, &bytes).map_err(|e| not_a_package(e.to_string()))?;
    let layers = package_layers(&info, name, &version).map_err(|e| not_a_package(e.to_string()))?;

    let config = small_blob(origin, cache, p, &layers.config, MAX_CONFIG_BYTES, "config").await?;
    let text = String::from_utf8(config).map_err(|_| failed(p, VerifyError::Config("not UTF-8".into())))?;
    let config = Manifest::from_canonical_json(&text).map_err(|e| failed(p, VerifyError::Config(e.to_string())))?;
    let found = format!("{}@{}", config.package.name, config.package.version);
    if found != label(p) {
        return Err(failed(
            p,
            VerifyError::ConfigMismatch {
                found,
                expected: label(p),
            },
        ));
    }

    let key_id = signature(origin, cache, p, keys).await?;
    Ok(Checked {
        package: p.clone(),
        layers,
        key_id,
    })
}

/// Verifies the cosign signature of the package's manifest; returns the signer's key id.
async fn signature(origin: Origin<'_>, cache: &Cache, p: &LockedPackage, keys: &Keys) -> Result<String, InstallError> {
    let tag = p.digest.cosign_signature_tag();
    let sig_bytes = match origin {
        Origin::Online(client) => {
            let sig = match client.fetch_manifest(&p.name.repo_name(), &tag).await {
                Ok(m) => m,
                Err(e) if e.is_not_found() => {
                    return Err(failed(p, VerifyError::SignatureMissing { tag }));
                }
                Err(e) => return Err(failed(p, e)),
            };
            cache.put_blob(&sig.digest, &sig.bytes)?;
            cache.put_signature_ref(&p.digest, &sig.digest)?;
            sig.bytes
        }
        Origin::Offline => {
            let Some(d) = cache.signature_ref(&p.digest) else {
                return Err(missing(format!("the signature of {} ({tag})", label(p))));
            };
            manifest(origin, cache, p, &d, "signature").await?
        }
    };
    let info =
        parse_manifest(None, &sig_bytes).map_err(|e| failed(p, VerifyError::SignatureManifest(e.to_string())))?;
    if let Some(subject) = &info.subject
        && subject.digest != p.digest
    {
        return Err(failed(
            p,
            VerifyError::SignatureManifest(format!("its subject is {}, not {}", subject.digest, p.digest)),
        ));
    }
    let candidates = signature_layers(&info).map_err(|e| failed(p, e))?;
    let ns = p.name.namespace();
    let ns_keys = keys.get(ns).map(Vec::as_slice).unwrap_or_default();
    if let Origin::Offline = origin {
        if p.key_ids.is_empty() {
            return Err(missing(format!(
                "the signing key of {} (the lockfile names none)",
                label(p)
            )));
        }
        let absent: Vec<String> = p
            .key_ids
            .iter()
            .filter(|id| !ns_keys.iter().any(|k| &k.key_id == *id))
            .map(|id| format!("signing key {id} of {}", label(p)))
            .collect();
        if !absent.is_empty() {
            return Err(InstallError::NotCached { missing: absent });
        }
    }
    if ns_keys.is_empty() {
        return Err(failed(p, VerifyError::NoKeys(ns.to_owned())));
    }
    let mut first_error: Option<VerifyError> = None;
    let mut revoked: Option<&TrustedKey> = None;
    let mut unlisted: Option<&TrustedKey> = None;
    for (desc, sig_b64) in candidates {
        let payload = small_blob(origin, cache, p, desc, MAX_PAYLOAD_LEN, "signature payload").await?;
        if let Err(e) = check_payload(&payload, &p.digest, p.name.as_str()) {
            first_error.get_or_insert(e);
            continue;
        }
        let Ok(sig) = BASE64.decode(sig_b64.trim()) else {
            first_error.get_or_insert(VerifyError::SignatureManifest(
                "the signature annotation is not base64".into(),
            ));
            continue;
        };
        for k in ns_keys {
            if k.public.verify(&payload, &sig).is_err() {
                continue;
            }
            if k.revoked.is_some() {
                revoked.get_or_insert(k);
            } else if !p.key_ids.is_empty() && !p.key_ids.contains(&k.key_id) {
                unlisted.get_or_insert(k);
            } else {
                return Ok(k.key_id.clone());
            }
        }
    }
    if let Some(k) = revoked {
        let (revoked_at, reason) = k.revoked.clone().unwrap_or_default();
        return Err(failed(
            p,
            VerifyError::Revoked {
                key_id: k.key_id.clone(),
                revoked_at,
                reason,
            },
        ));
    }
    if let Some(k) = unlisted {
        return Err(InstallError::Signer {
            package: label(p),
            key_id: k.key_id.clone(),
            locked: p.key_ids.clone(),
        });
    }
    Err(failed(
        p,
        first_error.unwrap_or_else(|| VerifyError::BadSignature(ns.to_owned())),
    ))
}

/// Whether a blob is in the cache with the right bytes (re-hashed off the runtime).
pub(super) async fn cached(cache: &Cache, d: &Descriptor) -> Result<bool, InstallError> {
    let (cache, digest, size) = (cache.clone(), d.digest.clone(), d.size);
    let state = tokio::task::spawn_blocking(move || cache.verified_blob(&digest, size))
        .await
        .map_err(|e| InstallError::Internal(e.to_string()))??;
    Ok(state == BlobState::Valid)
}

/// Downloads a blob into the cache, checked while streaming; nothing is kept on a
/// mismatch.
pub(super) async fn download(
    client: &RegistryClient,
    cache: &Cache,
    p: &LockedPackage,
    d: &Descriptor,
    progress: &dyn Progress,
) -> Result<(), InstallError> {
    let tmp = cache.temp_file()?;
    let std_file = tmp
        .as_file()
        .try_clone()
        .map_err(|e| InstallError::Internal(e.to_string()))?;
    let mut file = tokio::fs::File::from_std(std_file);
    client
        .fetch_blob(&p.name.repo_name(), &d.digest, d.size, &mut file, progress)
        .await
        .map_err(|e| failed(p, e))?;
    drop(file);
    cache.persist_blob(tmp, &d.digest)?;
    Ok(())
}
