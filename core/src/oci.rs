//! OCI documents: the media types govstore accepts and the validation of image
//! manifests and image indexes pushed to the registry.
//!
//! Parsing here is pure: it reads a manifest's bytes and tells the server what the
//! manifest references (blobs, child manifests, a subject) so that the server can
//! check those exist before storing anything.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::digest::{Digest, truncate};

/// Media types of the documents the registry stores as manifests.
pub mod media_types {
    pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
    pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
    pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
    pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
    /// The OCI 1.1 empty JSON config (`{}`) used by artifacts without a config.
    pub const OCI_EMPTY: &str = "application/vnd.oci.empty.v1+json";
    /// govstore's own artifact type for packages.
    pub const GOVSTORE_PACKAGE: &str = "application/vnd.govstore.package.v1+json";
}

/// The most descriptors (layers or child manifests) one manifest may list.
pub const MAX_DESCRIPTORS: usize = 1_000;
/// The most annotations one manifest or descriptor may carry.
pub const MAX_ANNOTATIONS: usize = 256;

/// Whether a manifest lists content blobs or other manifests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManifestKind {
    /// An image manifest: a config blob and layer blobs.
    Image,
    /// An image index (or Docker manifest list): other manifests.
    Index,
}

/// Which media types are manifests, and of which kind.
pub fn manifest_kind(media_type: &str) -> Option<ManifestKind> {
    use media_types::*;
    match media_type {
        OCI_MANIFEST | DOCKER_MANIFEST => Some(ManifestKind::Image),
        OCI_INDEX | DOCKER_MANIFEST_LIST => Some(ManifestKind::Index),
        _ => None,
    }
}

/// An OCI content descriptor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    pub media_type: String,
    pub digest: Digest,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
}

/// The facts about a pushed manifest that the registry stores and checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestInfo {
    pub media_type: String,
    pub kind: ManifestKind,
    /// The artifact type the referrers API reports: the manifest's `artifactType`, or
    /// for an image manifest without one, its config's media type (OCI 1.1).
    pub artifact_type: Option<String>,
    pub subject: Option<Descriptor>,
    /// Blobs an image manifest references (config first, then layers).
    pub blobs: Vec<Descriptor>,
    /// Manifests an index references.
    pub manifests: Vec<Descriptor>,
    pub annotations: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestDocError {
    #[error("manifest is not a JSON object: {0}")]
    NotJson(String),
    #[error("manifest has no media type: set `mediaType` in the document or the Content-Type header")]
    NoMediaType,
    #[error("media type `{0}` is not a manifest type this registry accepts")]
    UnsupportedMediaType(String),
    #[error("Content-Type `{header}` does not match the document's mediaType `{document}`")]
    MediaTypeMismatch { header: String, document: String },
    #[error("schemaVersion must be 2")]
    SchemaVersion,
    #[error("field `{field}` is invalid: {reason}")]
    Field { field: String, reason: String },
    #[error("manifest lists more than {MAX_DESCRIPTORS} descriptors")]
    TooManyDescriptors,
    #[error("too many annotations (at most {MAX_ANNOTATIONS})")]
    TooManyAnnotations,
}

fn field_err(field: impl Into<String>, reason: impl Into<String>) -> ManifestDocError {
    ManifestDocError::Field {
        field: field.into(),
        reason: reason.into(),
    }
}

/// RFC 6838 `type/subtype` with restricted-name characters (parameters are not allowed
/// in descriptors).
pub fn is_valid_media_type(s: &str) -> bool {
    let restricted = |part: &str| {
        !part.is_empty()
            && part.len() <= 127
            && part.as_bytes()[0].is_ascii_alphanumeric()
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
    };
    match s.split_once('/') {
        Some((t, st)) => restricted(t) && restricted(st),
        None => false,
    }
}

/// Parse and validate a manifest's bytes. `content_type` is the request's
/// Content-Type header, if any (parameters after `;` are ignored).
pub fn parse_manifest(content_type: Option<&str>, body: &[u8]) -> Result<ManifestInfo, ManifestDocError> {
    let doc: Value = serde_json::from_slice(body).map_err(|e| ManifestDocError::NotJson(e.to_string()))?;
    let Value::Object(obj) = &doc else {
        return Err(ManifestDocError::NotJson("the top level is not an object".into()));
    };
    let header = content_type
        .map(|c| c.split(';').next().unwrap_or("").trim())
        .filter(|c| !c.is_empty());
    let document = match obj.get("mediaType") {
        None => None,
        Some(Value::String(s)) => Some(s.as_str()),
        Some(_) => return Err(field_err("mediaType", "must be a string")),
    };
    let media_type = match (header, document) {
        (_, Some(d)) if manifest_kind(d).is_none() => {
            return Err(ManifestDocError::UnsupportedMediaType(truncate(d)));
        }
        (Some(h), Some(d)) if h != d => {
            return Err(ManifestDocError::MediaTypeMismatch {
                header: truncate(h),
                document: d.to_owned(),
            });
        }
        (_, Some(d)) => d,
        (Some(h), None) => h,
        (None, None) => return Err(ManifestDocError::NoMediaType),
    };
    let kind = manifest_kind(media_type).ok_or_else(|| ManifestDocError::UnsupportedMediaType(truncate(media_type)))?;

    if obj.get("schemaVersion").and_then(Value::as_u64) != Some(2) {
        return Err(ManifestDocError::SchemaVersion);
    }

    let artifact_type = optional_media_type(obj.get("artifactType"), "artifactType")?;
    let subject = obj.get("subject").map(|v| descriptor(v, "subject")).transpose()?;
    if subject.as_ref().is_some_and(|s| manifest_kind(&s.media_type).is_none()) {
        return Err(field_err("subject.mediaType", "a subject must be a manifest"));
    }
    let annotations = annotations(obj.get("annotations"), "annotations")?;

    let mut info = ManifestInfo {
        media_type: media_type.to_owned(),
        kind,
        artifact_type,
        subject,
        blobs: Vec::new(),
        manifests: Vec::new(),
        annotations,
    };
    match kind {
        ManifestKind::Image => {
            let config = obj
                .get("config")
                .ok_or_else(|| field_err("config", "is required in an image manifest"))?;
            let config = descriptor(config, "config")?;
            if info.artifact_type.is_none() && media_type == media_types::OCI_MANIFEST {
                info.artifact_type = Some(config.media_type.clone());
            }
            info.blobs.push(config);
            let layers = descriptor_list(obj.get("layers"), "layers")?;
            info.blobs.extend(layers);
        }
        ManifestKind::Index => {
            if obj.contains_key("config") || obj.contains_key("layers") {
                return Err(field_err("config", "an index must not have config or layers"));
            }
            info.manifests = descriptor_list(obj.get("manifests"), "manifests")?;
            if let Some((i, d)) = info
                .manifests
                .iter()
                .enumerate()
                .find(|(_, d)| manifest_kind(&d.media_type).is_none())
            {
                return Err(field_err(
                    format!("manifests[{i}].mediaType"),
                    format!("`{}` is not a manifest type", truncate(&d.media_type)),
                ));
            }
        }
    }
    Ok(info)
}

fn optional_media_type(v: Option<&Value>, field: &str) -> Result<Option<String>, ManifestDocError> {
    match v {
        None => Ok(None),
        Some(Value::String(s)) if is_valid_media_type(s) => Ok(Some(s.clone())),
        Some(_) => Err(field_err(
            field,
            "must be a media type such as `application/vnd.example+json`",
        )),
    }
}

fn descriptor_list(v: Option<&Value>, field: &str) -> Result<Vec<Descriptor>, ManifestDocError> {
    let items = match v {
        None => return Err(field_err(field, "is required")),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(field_err(field, "must be an array")),
    };
    if items.len() > MAX_DESCRIPTORS {
        return Err(ManifestDocError::TooManyDescriptors);
    }
    items
        .iter()
        .enumerate()
        .map(|(i, d)| descriptor(d, &format!("{field}[{i}]")))
        .collect()
}

fn annotations(v: Option<&Value>, field: &str) -> Result<BTreeMap<String, String>, ManifestDocError> {
    match v {
        None => Ok(BTreeMap::new()),
        Some(Value::Object(map)) => {
            if map.len() > MAX_ANNOTATIONS {
                return Err(ManifestDocError::TooManyAnnotations);
            }
            map.iter()
                .map(|(k, v)| match v {
                    Value::String(s) => Ok((k.clone(), s.clone())),
                    _ => Err(field_err(
                        format!("{field}.{}", truncate(k)),
                        "annotation values must be strings",
                    )),
                })
                .collect()
        }
        Some(_) => Err(field_err(field, "must be an object of strings")),
    }
}

fn descriptor(v: &Value, field: &str) -> Result<Descriptor, ManifestDocError> {
    let Value::Object(obj) = v else {
        return Err(field_err(field, "must be a descriptor object"));
    };
    let media_type = match obj.get("mediaType") {
        Some(Value::String(s)) if is_valid_media_type(s) => s.clone(),
        _ => {
            return Err(field_err(
                format!("{field}.mediaType"),
                "is required and must be a media type",
            ));
        }
    };
    let digest = match obj.get("digest") {
        Some(Value::String(s)) => s
            .parse::<Digest>()
            .map_err(|e| field_err(format!("{field}.digest"), e.to_string()))?,
        _ => return Err(field_err(format!("{field}.digest"), "is required")),
    };
    let size = obj.get("size").and_then(Value::as_u64).ok_or_else(|| {
        field_err(
            format!("{field}.size"),
            "is required and must be a non-negative integer",
        )
    })?;
    let artifact_type = optional_media_type(obj.get("artifactType"), &format!("{field}.artifactType"))?;
    let ann = annotations(obj.get("annotations"), &format!("{field}.annotations"))?;
    Ok(Descriptor {
        media_type,
        digest,
        size,
        artifact_type,
        annotations: if ann.is_empty() { None } else { Some(ann) },
    })
}

/// The image index the referrers API answers with.
pub fn referrers_index(descriptors: Vec<Descriptor>) -> Value {
    serde_json::json!({
        "schemaVersion": 2,
        "mediaType": media_types::OCI_INDEX,
        "manifests": descriptors,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    fn image(extra: &str) -> String {
        format!(
            r#"{{"schemaVersion":2,"mediaType":"{}","config":{{"mediaType":"application/vnd.govstore.package.v1+json","digest":"{D}","size":0}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"{D}","size":0}}]{extra}}}"#,
            media_types::OCI_MANIFEST
        )
    }

    #[test]
    fn image_manifest_with_subject() {
        let body = image(&format!(
            r#","subject":{{"mediaType":"{}","digest":"{D}","size":10}},"annotations":{{"a":"b"}}"#,
            media_types::OCI_MANIFEST
        ));
        let info = parse_manifest(Some(media_types::OCI_MANIFEST), body.as_bytes()).expect("valid");
        assert_eq!(info.kind, ManifestKind::Image);
        assert_eq!(info.blobs.len(), 2);
        assert_eq!(info.artifact_type.as_deref(), Some(media_types::GOVSTORE_PACKAGE));
        assert_eq!(info.subject.map(|s| s.size), Some(10));
        assert_eq!(info.annotations.get("a").map(String::as_str), Some("b"));
    }

    #[test]
    fn rejections() {
        let ok = image("");
        let cases: Vec<(Option<&str>, String)> = vec![
            (None, "not json".into()),
            (None, "[]".into()),
            (
                Some("application/x-unknown"),
                ok.replace(media_types::OCI_MANIFEST, "application/x-unknown"),
            ),
            (Some(media_types::OCI_INDEX), ok.clone()),
            (None, ok.replace("\"schemaVersion\":2", "\"schemaVersion\":1")),
            (None, ok.replace(D, "sha256:nothex")),
            (None, ok.replace("\"size\":0}]", "\"size\":-1}]")),
            (None, ok.replace("\"config\"", "\"konfig\"")),
        ];
        for (ct, body) in cases {
            assert!(parse_manifest(ct, body.as_bytes()).is_err(), "{body} should be refused");
        }
    }

    #[test]
    fn media_types() {
        assert!(is_valid_media_type("application/vnd.oci.image.layer.v1.tar+gzip"));
        assert!(!is_valid_media_type("application"));
        assert!(!is_valid_media_type("application/x; charset=utf-8"));
    }
}
