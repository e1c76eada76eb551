//! Publishing a package directory: read and validate `govstore.toml`, pack the content,
//! build the OCI manifest, sign its digest, upload the blobs, and ask the registry to
//! publish the version.
//!
//! The steps are public on their own ([`prepare`], [`sign`], [`push`]) for callers that
//! want to show or check something in between; [`publish`] runs them all. The server's
//! demo catalogue is published through exactly this code.

use std::fs::File;
use std::io::{self, BufReader};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use govstore_core::Digest;
use govstore_core::artifact::{self, Blob, PackageArtifact};
use govstore_core::manifest::{Manifest, ManifestError};
use govstore_core::tarball::TarLimits;
use govstore_signing::{KeyPair, SigningError, simple_signing};
use serde::Deserialize;
use serde::de::IgnoredAny;

use crate::api::{PublishRequest, PublishedVersion};
use crate::pack::{self, CONTENT_FILE_NAME, Filter, PackError, Packed};
use crate::progress::Progress;
use crate::registry::{BlobSource, BlobUpload, ClientError, RegistryClient, UploadOutcome};

/// The manifest's file name inside a package directory.
pub const MANIFEST_FILE: &str = "govstore.toml";

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("directory `{0}` does not exist")]
    NoDirectory(PathBuf),
    #[error("no `{MANIFEST_FILE}` in `{0}`")]
    NoManifest(PathBuf),
    #[error("cannot read `{path}`: {source}")]
    Read { path: PathBuf, source: io::Error },
    /// `govstore.toml` does not parse or validate; `text` is what was read, so that a
    /// caller can point into it.
    #[error("`{path}` is not a valid package manifest: {error}")]
    Manifest {
        path: PathBuf,
        text: String,
        error: ManifestError,
    },
    #[error("{field}: `{file}` does not exist in `{dir}`")]
    MissingFile {
        field: &'static str,
        file: String,
        dir: PathBuf,
    },
    #[error("package.sbom: `{file}` is neither SPDX JSON (`spdxVersion`) nor CycloneDX JSON (`bomFormat`)")]
    SbomFormat { file: String },
    #[error(transparent)]
    Pack(#[from] PackError),
    #[error("cannot sign: {0}")]
    Signing(#[from] SigningError),
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error("packing stopped unexpectedly: {0}")]
    Task(String),
}

/// Options of a publication.
#[derive(Debug, Clone, Default)]
pub struct PublishOptions {
    /// The limits the content must meet (the registry's own are checked on its side).
    pub limits: TarLimits,
    /// Where the packed content is written while it is uploaded (system default if `None`).
    pub temp_dir: Option<PathBuf>,
}

/// A package read, validated and packed; nothing signed or sent yet.
#[derive(Debug)]
pub struct PreparedPackage {
    pub dir: PathBuf,
    pub manifest: Manifest,
    pub artifact: PackageArtifact,
    /// The packed content (a temporary file, removed on drop).
    pub content: Packed,
    /// Every blob of the artifact: config, content, then README and SBOM if any.
    pub blobs: Vec<BlobUpload>,
}

/// A prepared package's manifest and its signature.
#[derive(Debug, Clone)]
pub struct SignedPackage {
    /// The OCI image manifest, exactly as signed and sent.
    pub manifest_bytes: Vec<u8>,
    pub digest: Digest,
    /// `host[:port]/<ns>/<name>`, as written in the payload.
    pub docker_reference: String,
    /// The simple-signing payload.
    pub payload: Vec<u8>,
    /// DER ECDSA signature over `payload`.
    pub signature: Vec<u8>,
    /// The id of the key that signed.
    pub key_id: String,
}

/// What [`publish`] did.
#[derive(Debug, Clone)]
pub struct PublishOutcome {
    pub published: PublishedVersion,
    /// Each blob's label and whether it was sent or already there.
    pub uploads: Vec<(String, UploadOutcome)>,
    /// Files and links in the content.
    pub files: usize,
    /// The compressed content size.
    pub content_size: u64,
}

/// Reads and validates `dir/govstore.toml`.
pub fn read_manifest(dir: &Path) -> Result<Manifest, PublishError> {
    let path = dir.join(MANIFEST_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(if dir.is_dir() {
                PublishError::NoManifest(dir.to_owned())
            } else {
                PublishError::NoDirectory(dir.to_owned())
            });
        }
        Err(source) => return Err(PublishError::Read { path, source }),
    };
    Manifest::from_toml_str(&text).map_err(|error| PublishError::Manifest { path, text, error })
}

/// Reads the manifest, checks the files it names, packs the content and describes
/// every blob. Blocking: file IO and compression.
pub fn prepare(dir: &Path, options: &PublishOptions) -> Result<PreparedPackage, PublishError> {
    let manifest = read_manifest(dir)?;
    let p = &manifest.package;
    let named = |field: &'static str, file: &str| -> Result<PathBuf, PublishError> {
        let path = dir.join(file);
        if path.is_file() {
            Ok(path)
        } else {
            Err(PublishError::MissingFile {
                field,
                file: file.to_owned(),
                dir: dir.to_owned(),
            })
        }
    };
    let readme = p
        .readme
        .as_ref()
        .map(|f| named("package.readme", f.as_str()))
        .transpose()?;
    let sbom = p.sbom.as_ref().map(|f| named("package.sbom", f.as_str())).transpose()?;

    let filter = Filter::new(&p.include, &p.exclude)?;
    let content = pack::pack(dir, &filter, &options.limits, options.temp_dir.as_deref())?;

    let config = Bytes::from(manifest.canonical_json().into_bytes());
    let config_blob = Blob {
        digest: Digest::of(&config),
        size: config.len() as u64,
    };
    let content_blob = Blob {
        digest: content.digest.clone(),
        size: content.size,
    };
    let mut blobs = vec![
        BlobUpload {
            label: "config".into(),
            digest: config_blob.digest.clone(),
            size: config_blob.size,
            source: BlobSource::Bytes(config),
        },
        BlobUpload {
            label: CONTENT_FILE_NAME.into(),
            digest: content_blob.digest.clone(),
            size: content_blob.size,
            source: BlobSource::File(content.path().to_owned()),
        },
    ];
    let mut file_blob = |label: &str, path: PathBuf| -> Result<Blob, PublishError> {
        let (digest, size) = pack::digest_file(&path)?;
        blobs.push(BlobUpload {
            label: label.into(),
            digest: digest.clone(),
            size,
            source: BlobSource::File(path),
        });
        Ok(Blob { digest, size })
    };
    let readme_blob = readme.map(|path| file_blob("README", path)).transpose()?;
    let sbom_blob = match sbom {
        Some(path) => {
            let media_type = sbom_media_type(&path, p.sbom.as_ref().map(|s| s.as_str()).unwrap_or_default())?;
            Some((file_blob("SBOM", path)?, media_type))
        }
        None => None,
    };

    let artifact = PackageArtifact {
        name: p.name.to_string(),
        version: p.version.to_string(),
        config: config_blob,
        content: content_blob,
        readme: readme_blob,
        sbom: sbom_blob,
    };
    Ok(PreparedPackage {
        dir: dir.to_owned(),
        manifest,
        artifact,
        content,
        blobs,
    })
}

/// SPDX or CycloneDX, from the document's own marker field, read as a stream.
fn sbom_media_type(path: &Path, file: &str) -> Result<&'static str, PublishError> {
    #[derive(Deserialize)]
    struct Marker {
        #[serde(rename = "spdxVersion")]
        spdx: Option<IgnoredAny>,
        #[serde(rename = "bomFormat")]
        bom_format: Option<String>,
    }
    let reader = File::open(path).map_err(|source| PublishError::Read {
        path: path.to_owned(),
        source,
    })?;
    let unknown = || PublishError::SbomFormat { file: file.to_owned() };
    let marker: Marker = serde_json::from_reader(BufReader::new(reader)).map_err(|_| unknown())?;
    match (marker.spdx, marker.bom_format.as_deref()) {
        (Some(_), _) => Ok(artifact::SBOM_SPDX_MEDIA_TYPE),
        (None, Some("CycloneDX")) => Ok(artifact::SBOM_CYCLONEDX_MEDIA_TYPE),
        _ => Err(unknown()),
    }
}

/// Builds the OCI manifest and signs its digest for `docker_reference`
/// (`host[:port]/<ns>/<name>`).
pub fn sign(prepared: &PreparedPackage, docker_reference: &str, key: &KeyPair) -> Result<SignedPackage, PublishError> {
    let manifest_bytes = prepared.artifact.manifest_bytes();
    let digest = Digest::of(&manifest_bytes);
    let payload = simple_signing::payload(docker_reference, &digest);
    let signature = key.sign(&payload)?;
    Ok(SignedPackage {
        manifest_bytes,
        digest,
        docker_reference: docker_reference.to_owned(),
        payload,
        signature,
        key_id: key.public_key().key_id(),
    })
}

/// Uploads the blobs (skipping those the repository has) and publishes the version.
pub async fn push(
    client: &RegistryClient,
    prepared: &PreparedPackage,
    signed: &SignedPackage,
    progress: &Arc<dyn Progress>,
) -> Result<PublishOutcome, PublishError> {
    let name = &prepared.manifest.package.name;
    let repo = name.repo_name();
    let mut uploads = Vec::new();
    for blob in &prepared.blobs {
        let outcome = client.upload_blob(&repo, blob, progress).await?;
        uploads.push((blob.label.clone(), outcome));
    }
    progress.step("publishing");
    let request = PublishRequest {
        manifest: String::from_utf8_lossy(&signed.manifest_bytes).into_owned(),
        payload: BASE64.encode(&signed.payload),
        signature: BASE64.encode(&signed.signature),
    };
    let published = client.publish_version(name.namespace(), name.name(), &request).await?;
    Ok(PublishOutcome {
        published,
        uploads,
        files: prepared.content.entries.len(),
        content_size: prepared.content.size,
    })
}

/// Publishes the package in `dir`, signed with `key`, to the client's registry.
pub async fn publish(
    client: &RegistryClient,
    dir: &Path,
    key: &KeyPair,
    options: &PublishOptions,
    progress: &Arc<dyn Progress>,
) -> Result<PublishOutcome, PublishError> {
    progress.step("packing");
    let (owned_dir, owned_options) = (dir.to_owned(), options.clone());
    let prepared = tokio::task::spawn_blocking(move || prepare(&owned_dir, &owned_options))
        .await
        .map_err(|e| PublishError::Task(e.to_string()))??;
    let reference = client.docker_reference(&prepared.manifest.package.name.repo_name());
    let signed = sign(&prepared, &reference, key)?;
    push(client, &prepared, &signed, progress).await
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn package(extra: &str) -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        let manifest = format!(
            "[package]\nname = \"acme/registry\"\nversion = \"1.2.3\"\ndescription = \"A test package\"\nlicense = \"Apache-2.0\"\n{extra}"
        );
        std::fs::write(d.path().join(MANIFEST_FILE), manifest).unwrap();
        std::fs::create_dir(d.path().join("charts")).unwrap();
        std::fs::write(d.path().join("charts/values.yaml"), "a: 1\n").unwrap();
        d
    }

    #[test]
    fn prepares_the_artifact_the_registry_expects() {
        let d = package("readme = \"README.md\"\nsbom = \"sbom.json\"\n");
        std::fs::write(d.path().join("README.md"), "# Registry\n").unwrap();
        std::fs::write(
            d.path().join("sbom.json"),
            r#"{"bomFormat":"CycloneDX","specVersion":"1.5"}"#,
        )
        .unwrap();
        let p = prepare(d.path(), &PublishOptions::default()).unwrap();
        assert_eq!(
            p.blobs.iter().map(|b| b.label.as_str()).collect::<Vec<_>>(),
            ["config", "content.tar.gz", "README", "SBOM"]
        );
        assert_eq!(p.artifact.config.digest, p.manifest.digest());
        assert_eq!(
            p.artifact.sbom.as_ref().map(|s| s.1),
            Some(artifact::SBOM_CYCLONEDX_MEDIA_TYPE)
        );
        let bytes = p.artifact.manifest_bytes();
        let info = govstore_core::oci::parse_manifest(None, &bytes).unwrap();
        let layers = artifact::package_layers(&info, "acme/registry", "1.2.3").unwrap();
        assert_eq!(layers.content.digest, p.content.digest);
        assert_eq!(layers.readme.map(|r| r.size), Some(11));
        // Prepared twice, the same manifest digest.
        let again = prepare(d.path(), &PublishOptions::default()).unwrap();
        assert_eq!(Digest::of(&again.artifact.manifest_bytes()), Digest::of(&bytes));
    }

    #[test]
    fn names_missing_files_and_unknown_sboms() {
        let d = package("readme = \"README.md\"\n");
        let err = prepare(d.path(), &PublishOptions::default()).unwrap_err();
        assert!(
            matches!(
                err,
                PublishError::MissingFile {
                    field: "package.readme",
                    ..
                }
            ),
            "{err}"
        );
        let d = package("sbom = \"sbom.json\"\n");
        std::fs::write(d.path().join("sbom.json"), r#"{"name":"x"}"#).unwrap();
        let err = prepare(d.path(), &PublishOptions::default()).unwrap_err();
        assert!(matches!(err, PublishError::SbomFormat { .. }), "{err}");
        std::fs::write(
            d.path().join("sbom.json"),
            r#"{"SPDXID":"SPDXRef-DOCUMENT","spdxVersion":"SPDX-2.3"}"#,
        )
        .unwrap();
        let p = prepare(d.path(), &PublishOptions::default()).unwrap();
        assert_eq!(p.artifact.sbom.map(|s| s.1), Some(artifact::SBOM_SPDX_MEDIA_TYPE));
        let empty = tempfile::tempdir().unwrap();
        assert!(matches!(read_manifest(empty.path()), Err(PublishError::NoManifest(_))));
        assert!(matches!(
            read_manifest(&empty.path().join("nope")),
            Err(PublishError::NoDirectory(_))
        ));
    }

    #[test]
    fn signature_covers_the_manifest_digest_for_the_reference() {
        let d = package("");
        let p = prepare(d.path(), &PublishOptions::default()).unwrap();
        let key = KeyPair::generate().unwrap();
        let s = sign(&p, "127.0.0.1:8080/acme/registry", &key).unwrap();
        assert_eq!(s.digest, Digest::of(&s.manifest_bytes));
        key.public_key().verify(&s.payload, &s.signature).unwrap();
        let parsed = simple_signing::parse_payload(&s.payload).unwrap();
        assert_eq!(parsed.manifest_digest, s.digest);
        assert_eq!(parsed.docker_reference, "127.0.0.1:8080/acme/registry");
        assert_eq!(s.key_id, key.public_key().key_id());
    }
}
