//! Verifying a published version end to end, trusting nothing the registry says about
//! itself:
//!
//! 1. the manifest served for the tag has the digest the API lists;
//! 2. it is a govstore package for that name and version;
//! 3. every blob streams in with its digest and size; the config is the canonical JSON
//!    of a manifest for that name and version; the content passes [`check_tarball`];
//! 4. the cosign signature manifest (`sha256-<hex>.sig`) refers to the package manifest,
//!    its payload names that digest and repository, and its signature verifies against
//!    a key registered to the namespace that is not revoked (whose key id is checked
//!    against its public key, not taken from the listing).

use std::path::PathBuf;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use govstore_core::Digest;
use govstore_core::artifact::package_layers;
use govstore_core::manifest::Manifest;
use govstore_core::oci::{Descriptor, ManifestInfo, parse_manifest};
use govstore_core::package::PackageName;
use govstore_core::tarball::{TarLimits, TarSummary, TarballError, check_tarball};
use govstore_signing::{PublicKey, simple_signing};
use serde::Serialize;

use crate::api::KeyInfo;
use crate::progress::Progress;
use crate::registry::{ClientError, RegistryClient};

/// The largest config blob read into memory.
const MAX_CONFIG_BYTES: usize = 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error("the manifest served for tag `{tag}` has digest {served}, but the registry lists {listed}")]
    ManifestDigest {
        tag: String,
        listed: Digest,
        served: Digest,
    },
    #[error("the manifest is not a govstore package for `{name}`: {message}")]
    NotAPackage { name: String, message: String },
    #[error("the config blob is not a valid package manifest: {0}")]
    Config(String),
    #[error("the config blob describes `{found}`, not `{expected}`")]
    ConfigMismatch { found: String, expected: String },
    #[error("the registry's description of the version differs from its config blob")]
    DescriptionMismatch,
    #[error("the content is not safe to unpack: {0}")]
    Content(#[from] TarballError),
    #[error("the version has no signature: `{tag}` is not in the repository")]
    SignatureMissing { tag: String },
    #[error("the signature manifest has digest {served}, but the registry lists {listed}")]
    SignatureDigest { listed: Digest, served: Digest },
    #[error("the signature manifest is malformed: {0}")]
    SignatureManifest(String),
    #[error("the signature covers manifest {signed}, not {expected}")]
    PayloadDigest { signed: Digest, expected: Digest },
    #[error("the signature is for `{found}`, not for repository `{expected}`")]
    PayloadReference { found: String, expected: String },
    #[error("the signature payload is invalid: {0}")]
    Payload(String),
    #[error("namespace `{0}` has no registered signing keys")]
    NoKeys(String),
    #[error("the registry lists key {listed}, but that public key has id {computed}")]
    KeyIdMismatch { listed: String, computed: String },
    #[error("the signature verifies only against key {key_id}, which was revoked{}", revoked_suffix(.revoked_at, .reason))]
    Revoked {
        key_id: String,
        revoked_at: Option<String>,
        reason: Option<String>,
    },
    #[error("the signature does not verify against any key of namespace `{0}`")]
    BadSignature(String),
    #[error("cannot use a temporary file: {0}")]
    Temp(String),
}

fn revoked_suffix(at: &Option<String>, reason: &Option<String>) -> String {
    let mut s = String::new();
    if let Some(at) = at {
        s.push_str(&format!(" on {at}"));
    }
    if let Some(reason) = reason {
        s.push_str(&format!(" ({reason})"));
    }
    s
}

/// Options of a verification.
#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    pub limits: TarLimits,
    /// Where the content is downloaded for its check (system default if `None`).
    pub temp_dir: Option<PathBuf>,
}

/// One verified blob.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifiedBlob {
    /// `config`, `content`, `readme` or `sbom`.
    pub role: &'static str,
    pub media_type: String,
    pub digest: Digest,
    pub size: u64,
}

/// What was verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    pub name: String,
    pub version: String,
    pub digest: Digest,
    pub yanked: bool,
    pub yank_reason: Option<String>,
    pub blobs: Vec<VerifiedBlob>,
    pub content: ContentSummary,
    pub signature_digest: Digest,
    /// The image reference the signature names.
    pub docker_reference: String,
    /// Whether that reference's host is the registry verified against (it differs on
    /// a mirror; the repository must match either way).
    pub reference_host_matches: bool,
    pub namespace: String,
    pub key_id: String,
    pub key_name: Option<String>,
}

/// [`TarSummary`] in a serialisable form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContentSummary {
    pub files: u64,
    pub directories: u64,
    pub symlinks: u64,
    pub hard_links: u64,
    pub unpacked_bytes: u64,
}

impl From<TarSummary> for ContentSummary {
    fn from(s: TarSummary) -> Self {
        Self {
            files: s.files,
            directories: s.directories,
            symlinks: s.symlinks,
            hard_links: s.hard_links,
            unpacked_bytes: s.unpacked_bytes,
        }
    }
}

/// Verifies `name@version` on the client's registry.
pub async fn verify(
    client: &RegistryClient,
    name: &PackageName,
    version: &str,
    options: &VerifyOptions,
    progress: &Arc<dyn Progress>,
) -> Result<VerifyReport, VerifyError> {
    let (ns, short) = (name.namespace(), name.name());
    let repo = name.repo_name();
    progress.step("fetching the version");
    let detail = client.version(ns, short, version).await?;
    let listed = detail.info.digest.clone();

    // 1-2. The manifest.
    let manifest = client.fetch_manifest(&repo, version).await?;
    if manifest.digest != listed {
        return Err(VerifyError::ManifestDigest {
            tag: version.to_owned(),
            listed,
            served: manifest.digest,
        });
    }
    let not_a_package = |message: String| VerifyError::NotAPackage {
        name: format!("{name}@{version}"),
        message,
    };
    let info =
        parse_manifest(manifest.media_type.as_deref(), &manifest.bytes).map_err(|e| not_a_package(e.to_string()))?;
    let layers = package_layers(&info, name.as_str(), version).map_err(|e| not_a_package(e.to_string()))?;

    // 3. The blobs.
    let mut blobs = Vec::new();
    progress.blob_start("config", &layers.config.digest, layers.config.size);
    let config_bytes = client
        .fetch_blob_bytes(&repo, &layers.config.digest, layers.config.size, MAX_CONFIG_BYTES)
        .await?;
    progress.blob_advance(layers.config.size);
    progress.blob_done("config");
    blobs.push(verified("config", &layers.config));
    let text = String::from_utf8(config_bytes).map_err(|_| VerifyError::Config("not UTF-8".into()))?;
    let config = Manifest::from_canonical_json(&text).map_err(|e| VerifyError::Config(e.to_string()))?;
    let found = format!("{}@{}", config.package.name, config.package.version);
    let expected = format!("{name}@{version}");
    if found != expected {
        return Err(VerifyError::ConfigMismatch { found, expected });
    }
    if !detail.manifest.is_null()
        && serde_json::from_str::<serde_json::Value>(&text).ok().as_ref() != Some(&detail.manifest)
    {
        return Err(VerifyError::DescriptionMismatch);
    }

    let content = fetch_content(client, &repo, &layers.content, options, progress).await?;
    blobs.push(verified("content", &layers.content));
    for (role, desc) in [("readme", &layers.readme), ("sbom", &layers.sbom)] {
        if let Some(desc) = desc {
            progress.blob_start(role, &desc.digest, desc.size);
            client
                .fetch_blob(
                    &repo,
                    &desc.digest,
                    desc.size,
                    &mut tokio::io::sink(),
                    progress.as_ref(),
                )
                .await?;
            progress.blob_done(role);
            blobs.push(verified(role, desc));
        }
    }

    // 4. The signature.
    progress.step("checking the signature");
    let tag = listed.cosign_signature_tag();
    let sig = match client.fetch_manifest(&repo, &tag).await {
        Ok(m) => m,
        Err(e) if e.is_not_found() => return Err(VerifyError::SignatureMissing { tag }),
        Err(e) => return Err(e.into()),
    };
    if let Some(listed_sig) = &detail.info.signature_digest
        && listed_sig != &sig.digest
    {
        return Err(VerifyError::SignatureDigest {
            listed: listed_sig.clone(),
            served: sig.digest,
        });
    }
    let sig_info = parse_manifest(sig.media_type.as_deref(), &sig.bytes)
        .map_err(|e| VerifyError::SignatureManifest(e.to_string()))?;
    if let Some(subject) = &sig_info.subject
        && subject.digest != listed
    {
        return Err(VerifyError::SignatureManifest(format!(
            "its subject is {}, not {listed}",
            subject.digest
        )));
    }
    let candidates = signature_layers(&sig_info)?;

    let keys = client.list_keys(ns).await?;
    if keys.is_empty() {
        return Err(VerifyError::NoKeys(ns.to_owned()));
    }
    let mut parsed_keys = Vec::new();
    for k in &keys {
        let public = PublicKey::from_pem(&k.public_key)
            .map_err(|e| VerifyError::Payload(format!("key {} is not a valid public key: {e}", k.key_id)))?;
        let computed = public.key_id();
        if computed != k.key_id {
            return Err(VerifyError::KeyIdMismatch {
                listed: k.key_id.clone(),
                computed,
            });
        }
        parsed_keys.push((k, public));
    }

    let mut first_error = None;
    let mut revoked_match: Option<&KeyInfo> = None;
    for (desc, sig_b64) in candidates {
        let payload = client
            .fetch_blob_bytes(&repo, &desc.digest, desc.size, simple_signing::MAX_PAYLOAD_LEN)
            .await?;
        let checked = check_payload(&payload, &listed, name.as_str());
        let docker_reference = match checked {
            Ok(r) => r,
            Err(e) => {
                first_error.get_or_insert(e);
                continue;
            }
        };
        let Ok(signature) = BASE64.decode(sig_b64.trim()) else {
            first_error.get_or_insert(VerifyError::SignatureManifest(
                "the signature annotation is not base64".into(),
            ));
            continue;
        };
        for (k, public) in &parsed_keys {
            if public.verify(&payload, &signature).is_err() {
                continue;
            }
            if k.revoked_at.is_some() {
                revoked_match.get_or_insert(k);
                continue;
            }
            let host = docker_reference.split('/').next().unwrap_or_default();
            return Ok(VerifyReport {
                name: name.to_string(),
                version: version.to_owned(),
                digest: listed.clone(),
                yanked: detail.info.yanked,
                yank_reason: detail.info.yank_reason.clone(),
                blobs,
                content: content.into(),
                signature_digest: sig.digest,
                reference_host_matches: host == client.docker_host(),
                docker_reference,
                namespace: ns.to_owned(),
                key_id: k.key_id.clone(),
                key_name: k.name.clone(),
            });
        }
    }
    if let Some(k) = revoked_match {
        return Err(VerifyError::Revoked {
            key_id: k.key_id.clone(),
            revoked_at: k.revoked_at.clone(),
            reason: k.revoke_reason.clone(),
        });
    }
    Err(first_error.unwrap_or_else(|| VerifyError::BadSignature(ns.to_owned())))
}

/// The simple-signing layers of a cosign signature manifest, each with its base64
/// signature annotation (the first blob, the config, is skipped).
pub fn signature_layers(sig_info: &ManifestInfo) -> Result<Vec<(&Descriptor, &String)>, VerifyError> {
    let candidates: Vec<(&Descriptor, &String)> = sig_info
        .blobs
        .iter()
        .skip(1)
        .filter(|d| d.media_type == simple_signing::PAYLOAD_MEDIA_TYPE)
        .filter_map(|d| {
            d.annotations
                .as_ref()?
                .get(simple_signing::SIGNATURE_ANNOTATION)
                .map(|s| (d, s))
        })
        .collect();
    if candidates.is_empty() {
        return Err(VerifyError::SignatureManifest(format!(
            "no `{}` layer with a `{}` annotation",
            simple_signing::PAYLOAD_MEDIA_TYPE,
            simple_signing::SIGNATURE_ANNOTATION
        )));
    }
    Ok(candidates)
}

/// Checks a payload's digest and repository; returns its docker reference.
pub fn check_payload(payload: &[u8], digest: &Digest, repo: &str) -> Result<String, VerifyError> {
    let parsed = simple_signing::parse_payload(payload).map_err(|e| VerifyError::Payload(e.to_string()))?;
    if &parsed.manifest_digest != digest {
        return Err(VerifyError::PayloadDigest {
            signed: parsed.manifest_digest,
            expected: digest.clone(),
        });
    }
    let reference = parsed.docker_reference;
    // `host[:port]/ns/name`, possibly with a `:tag`; the repository must be ours.
    let path = reference.split_once('/').map(|(_, p)| p).unwrap_or_default();
    let path = path
        .rsplit_once(':')
        .filter(|(_, tag)| !tag.contains('/'))
        .map_or(path, |(p, _)| p);
    if path != repo {
        return Err(VerifyError::PayloadReference {
            found: reference,
            expected: repo.to_owned(),
        });
    }
    Ok(reference)
}

fn verified(role: &'static str, d: &Descriptor) -> VerifiedBlob {
    VerifiedBlob {
        role,
        media_type: d.media_type.clone(),
        digest: d.digest.clone(),
        size: d.size,
    }
}

/// Downloads the content into a temporary file (verified while streaming), then checks
/// it as the registry does.
async fn fetch_content(
    client: &RegistryClient,
    repo: &govstore_core::RepoName,
    desc: &Descriptor,
    options: &VerifyOptions,
    progress: &Arc<dyn Progress>,
) -> Result<TarSummary, VerifyError> {
    let temp = match &options.temp_dir {
        Some(d) => tempfile::NamedTempFile::new_in(d),
        None => tempfile::NamedTempFile::new(),
    }
    .map_err(|e| VerifyError::Temp(e.to_string()))?;
    let std_file = temp
        .as_file()
        .try_clone()
        .map_err(|e| VerifyError::Temp(e.to_string()))?;
    let mut file = tokio::fs::File::from_std(std_file);
    progress.blob_start("content", &desc.digest, desc.size);
    client
        .fetch_blob(repo, &desc.digest, desc.size, &mut file, progress.as_ref())
        .await?;
    progress.blob_done("content");
    drop(file);
    let limits = options.limits;
    let summary = tokio::task::spawn_blocking(move || {
        let reader = std::fs::File::open(temp.path()).map_err(|e| VerifyError::Temp(e.to_string()))?;
        check_tarball(std::io::BufReader::new(reader), &limits).map_err(VerifyError::from)
    })
    .await
    .map_err(|e| VerifyError::Temp(e.to_string()))??;
    Ok(summary)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn payload_must_name_the_digest_and_the_repository() {
        let d = Digest::of(b"manifest");
        let ok = simple_signing::payload("127.0.0.1:8080/acme/registry", &d);
        assert_eq!(
            check_payload(&ok, &d, "acme/registry").unwrap(),
            "127.0.0.1:8080/acme/registry"
        );
        let mirror = simple_signing::payload("mirror.example/acme/registry:1.0.0", &d);
        assert!(check_payload(&mirror, &d, "acme/registry").is_ok());
        let other = simple_signing::payload("127.0.0.1:8080/acme/other", &d);
        assert!(matches!(
            check_payload(&other, &d, "acme/registry"),
            Err(VerifyError::PayloadReference { .. })
        ));
        let wrong = simple_signing::payload("127.0.0.1:8080/acme/registry", &Digest::of(b"x"));
        assert!(matches!(
            check_payload(&wrong, &d, "acme/registry"),
            Err(VerifyError::PayloadDigest { .. })
        ));
    }
}
