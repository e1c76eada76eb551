//! How a govstore package version is laid out as an OCI artifact.
//!
//! ```text
//! image manifest  artifactType = application/vnd.govstore.package.v1+json
//!   config        application/vnd.govstore.package.config.v1+json   canonical JSON of govstore.toml
//!   layers[0]     application/vnd.govstore.package.content.v1.tar+gzip  the content (deterministic)
//!   layers[..]    text/markdown (README), application/spdx+json or
//!                 application/vnd.cyclonedx+json (SBOM), each titled by annotation
//!   annotations   org.opencontainers.image.title = <namespace>/<name>,
//!                 org.opencontainers.image.version = <version>
//! ```
//!
//! The manifest bytes are built here, deterministically, so the client that signs a
//! digest and the server that checks it agree on every byte.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::digest::Digest;
use crate::oci::{Descriptor, ManifestInfo, media_types};

pub const ARTIFACT_TYPE: &str = media_types::GOVSTORE_PACKAGE;
pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.govstore.package.config.v1+json";
pub const CONTENT_MEDIA_TYPE: &str = "application/vnd.govstore.package.content.v1.tar+gzip";
pub const README_MEDIA_TYPE: &str = "text/markdown";
pub const SBOM_SPDX_MEDIA_TYPE: &str = "application/spdx+json";
pub const SBOM_CYCLONEDX_MEDIA_TYPE: &str = "application/vnd.cyclonedx+json";
pub const TITLE_ANNOTATION: &str = "org.opencontainers.image.title";
pub const VERSION_ANNOTATION: &str = "org.opencontainers.image.version";

/// A blob of the artifact: its digest and size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blob {
    pub digest: Digest,
    pub size: u64,
}

/// The parts of a package version's artifact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageArtifact {
    /// `namespace/name`.
    pub name: String,
    pub version: String,
    pub config: Blob,
    pub content: Blob,
    pub readme: Option<Blob>,
    /// The SBOM and its media type (SPDX or CycloneDX JSON).
    pub sbom: Option<(Blob, &'static str)>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArtifactError {
    #[error("artifactType must be `{ARTIFACT_TYPE}`")]
    NotAPackage,
    #[error("the config must have media type `{CONFIG_MEDIA_TYPE}`")]
    Config,
    #[error("the first layer must be the content, media type `{CONTENT_MEDIA_TYPE}`")]
    Content,
    #[error("layer {0} has media type `{1}`, which a package may not carry")]
    UnexpectedLayer(usize, String),
    #[error("a package has at most one {0} layer")]
    Duplicate(&'static str),
    #[error("annotation `{0}` must be `{1}`")]
    Annotation(&'static str, String),
}

fn descriptor(media_type: &str, blob: &Blob, title: Option<&str>) -> Value {
    let mut d = json!({ "mediaType": media_type, "digest": blob.digest.to_string(), "size": blob.size });
    if let Some(t) = title {
        d["annotations"] = json!({ TITLE_ANNOTATION: t });
    }
    d
}

impl PackageArtifact {
    /// The OCI image manifest's bytes (compact JSON, keys in a fixed order).
    pub fn manifest_bytes(&self) -> Vec<u8> {
        let mut layers = vec![descriptor(CONTENT_MEDIA_TYPE, &self.content, Some("content.tar.gz"))];
        if let Some(r) = &self.readme {
            layers.push(descriptor(README_MEDIA_TYPE, r, Some("README.md")));
        }
        if let Some((s, mt)) = &self.sbom {
            layers.push(descriptor(mt, s, Some("sbom.json")));
        }
        let doc = json!({
            "schemaVersion": 2,
            "mediaType": media_types::OCI_MANIFEST,
            "artifactType": ARTIFACT_TYPE,
            "config": descriptor(CONFIG_MEDIA_TYPE, &self.config, None),
            "layers": layers,
            "annotations": { TITLE_ANNOTATION: self.name, VERSION_ANNOTATION: self.version },
        });
        // serde_json's map is ordered by key, so the bytes are deterministic.
        serde_json::to_vec(&doc).unwrap_or_default()
    }
}

/// The layers of a pushed package manifest, by role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageLayers {
    pub config: Descriptor,
    pub content: Descriptor,
    pub readme: Option<Descriptor>,
    pub sbom: Option<Descriptor>,
    pub annotations: BTreeMap<String, String>,
}

/// Check that a parsed OCI manifest is a govstore package for `name` at `version`
/// and sort its layers by role.
pub fn package_layers(info: &ManifestInfo, name: &str, version: &str) -> Result<PackageLayers, ArtifactError> {
    if info.artifact_type.as_deref() != Some(ARTIFACT_TYPE) || info.media_type != media_types::OCI_MANIFEST {
        return Err(ArtifactError::NotAPackage);
    }
    let mut blobs = info.blobs.iter();
    let config = blobs
        .next()
        .filter(|c| c.media_type == CONFIG_MEDIA_TYPE)
        .ok_or(ArtifactError::Config)?;
    let content = blobs
        .next()
        .filter(|c| c.media_type == CONTENT_MEDIA_TYPE)
        .ok_or(ArtifactError::Content)?;
    let (mut readme, mut sbom) = (None, None);
    for (i, d) in blobs.enumerate() {
        let slot = match d.media_type.as_str() {
            README_MEDIA_TYPE => (&mut readme, "README"),
            SBOM_SPDX_MEDIA_TYPE | SBOM_CYCLONEDX_MEDIA_TYPE => (&mut sbom, "SBOM"),
            other => return Err(ArtifactError::UnexpectedLayer(i + 1, other.to_owned())),
        };
        if slot.0.replace(d.clone()).is_some() {
            return Err(ArtifactError::Duplicate(slot.1));
        }
    }
    for (key, want) in [(TITLE_ANNOTATION, name), (VERSION_ANNOTATION, version)] {
        if info.annotations.get(key).map(String::as_str) != Some(want) {
            return Err(ArtifactError::Annotation(key, want.to_owned()));
        }
    }
    Ok(PackageLayers {
        config: config.clone(),
        content: content.clone(),
        readme,
        sbom,
        annotations: info.annotations.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oci::parse_manifest;

    fn blob(b: &[u8]) -> Blob {
        Blob {
            digest: Digest::of(b),
            size: b.len() as u64,
        }
    }

    #[test]
    fn built_manifest_parses_back_into_its_layers() {
        let a = PackageArtifact {
            name: "mosip/esignet".into(),
            version: "1.8.0".into(),
            config: blob(b"{}"),
            content: blob(b"tar"),
            readme: Some(blob(b"# eSignet")),
            sbom: None,
        };
        let bytes = a.manifest_bytes();
        assert_eq!(bytes, a.manifest_bytes(), "deterministic");
        let info = parse_manifest(None, &bytes).expect("valid OCI manifest");
        let layers = package_layers(&info, "mosip/esignet", "1.8.0").expect("a package");
        assert_eq!(layers.content.digest, Digest::of(b"tar"));
        assert_eq!(layers.readme.map(|r| r.size), Some(9));
        assert_eq!(
            package_layers(&info, "mosip/esignet", "1.7.1"),
            Err(ArtifactError::Annotation(VERSION_ANNOTATION, "1.7.1".into()))
        );
    }
}
