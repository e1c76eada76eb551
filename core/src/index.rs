//! The sparse index: one cacheable document per package with every version's
//! compatibility metadata, and one per spec listing its implementations. The registry
//! serves them (`/api/v1/index/...`, with ETags); the CLI resolves from them; the
//! resolver reads them through [`Catalogue`].
//!
//! ```text
//! GET /api/v1/index/packages/{ns}/{name}  -> PackageIndex
//! GET /api/v1/index/specs/{ns}/{name}     -> SpecIndex
//! ```
//!
//! Both documents are versioned wire formats ([`crate::wire`], [`INDEX_FORMAT`]): they
//! carry `"format": 1`, readers ignore fields they do not know (in the document, in its
//! versions and implementations, and in a version's manifest, where a newer registry may
//! serve manifest fields this govstore does not know yet), and [`from_json`] refuses a
//! document of a newer major format with a message that says to upgrade govstore.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};

use crate::digest::Digest;
use crate::manifest::Manifest;
use crate::package::{PackageName, SpecId};
use crate::wire::{FormatError, FormatVersion, WireFormat};

/// The format of the index documents: `format`, 1 when missing.
pub const INDEX_FORMAT: WireFormat = WireFormat {
    document: "the registry's index document",
    field: "format",
    current: FormatVersion::V1,
    oldest: 1,
};

/// Why an index document could not be read.
#[derive(Debug, thiserror::Error)]
pub enum IndexDocumentError {
    /// A format this govstore does not read (a newer registry); see [`FormatError::hint`].
    #[error(transparent)]
    Format(#[from] FormatError),
    /// Not a document of the expected shape.
    #[error("{0}")]
    Invalid(#[from] serde_json::Error),
}

/// Reads an index document ([`PackageIndex`] or [`SpecIndex`]) from its JSON: its
/// format first, then the document, ignoring fields this govstore does not know.
pub fn from_json<T: DeserializeOwned>(text: &str) -> Result<T, IndexDocumentError> {
    INDEX_FORMAT.check_json(text)?;
    Ok(serde_json::from_str(text)?)
}

/// Every published version of one package.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PackageIndex {
    /// The document's format ([`INDEX_FORMAT`]); 1 when missing.
    #[serde(default)]
    pub format: FormatVersion,
    pub name: PackageName,
    /// Oldest first by SemVer precedence.
    pub versions: Vec<IndexVersion>,
}

/// One version as the resolver sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexVersion {
    pub version: semver::Version,
    /// The OCI manifest digest: what a lockfile pins.
    pub digest: Digest,
    pub yanked: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub yank_reason: Option<String>,
    /// Ids of the keys whose signatures the registry verified for this version.
    pub key_ids: Vec<String>,
    /// The package's `govstore.toml` (implements, requires, conflicts, provides,
    /// licence, maturity...). Fields this govstore does not know are dropped.
    #[serde(deserialize_with = "manifest_ignoring_unknown_fields")]
    pub manifest: Manifest,
    /// Countries' approval and revocation statements about this version, as DSSE
    /// envelopes (`core::approval`), oldest first. Clients verify them against the
    /// country keys their stack pins; the registry's word is not trusted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub approvals: Vec<IndexApproval>,
}

/// One country statement in the index: the country it is for and the DSSE envelope
/// (`{"payloadType", "payload", "signatures"}`) as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexApproval {
    pub country: crate::manifest::values::CountryCode,
    pub envelope: serde_json::Value,
}

/// The package versions that implement one spec, at which spec version and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpecIndex {
    /// The document's format ([`INDEX_FORMAT`]); 1 when missing.
    #[serde(default)]
    pub format: FormatVersion,
    pub spec: SpecId,
    pub implementations: Vec<Implementation>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Implementation {
    pub package: PackageName,
    pub version: semver::Version,
    pub spec_version: semver::Version,
}

impl PackageIndex {
    /// A document in the current format.
    pub fn new(name: PackageName, versions: Vec<IndexVersion>) -> Self {
        Self {
            format: INDEX_FORMAT.current,
            name,
            versions,
        }
    }
}

impl SpecIndex {
    /// A document in the current format.
    pub fn new(spec: SpecId, implementations: Vec<Implementation>) -> Self {
        Self {
            format: INDEX_FORMAT.current,
            spec,
            implementations,
        }
    }
}

/// The most unknown fields dropped from one manifest before giving up.
const MAX_UNKNOWN_MANIFEST_FIELDS: usize = 64;

/// A manifest as the registry serves it, with the fields this govstore does not know
/// dropped: the manifest model itself denies them (a typo in a `govstore.toml` is an
/// error), but a newer registry may serve fields added after this govstore was built.
/// Every other error (a wrong type, an unknown `how`) still refuses the document.
fn manifest_ignoring_unknown_fields<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Manifest, D::Error> {
    use serde::de::Error as _;
    use serde_path_to_error::Segment;
    let mut value = serde_json::Value::deserialize(deserializer)?;
    for _ in 0..=MAX_UNKNOWN_MANIFEST_FIELDS {
        let err = match serde_path_to_error::deserialize::<_, Manifest>(&value) {
            Ok(manifest) => return Ok(manifest),
            Err(err) => err,
        };
        let shown = err.to_string();
        let unknown = err
            .inner()
            .to_string()
            .strip_prefix("unknown field `")
            .and_then(|rest| rest.split_once('`'))
            .map(|(name, _)| name.to_owned());
        let Some(unknown) = unknown else {
            return Err(D::Error::custom(shown));
        };
        // The path names the unknown field last, or stops at the table holding it.
        let mut path: Vec<Segment> = err.path().iter().cloned().collect();
        if matches!(path.last(), Some(Segment::Map { key }) if key == &unknown) {
            path.pop();
        }
        let mut table = Some(&mut value);
        for seg in &path {
            table = match (seg, table) {
                (Segment::Map { key }, Some(t)) => t.get_mut(key.as_str()),
                (Segment::Seq { index }, Some(t)) => t.get_mut(*index),
                _ => None,
            };
        }
        let removed = table
            .and_then(serde_json::Value::as_object_mut)
            .is_some_and(|map| map.remove(&unknown).is_some());
        if !removed {
            return Err(D::Error::custom(shown));
        }
    }
    Err(D::Error::custom(format!(
        "the manifest has more than {MAX_UNKNOWN_MANIFEST_FIELDS} fields this govstore does not know"
    )))
}

/// What the resolver needs to know about the catalogue, held in memory: the CLI fills
/// it from index documents, the server from its database, tests from scenario files.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Catalogue {
    pub packages: BTreeMap<PackageName, Vec<IndexVersion>>,
}

impl Catalogue {
    pub fn insert(&mut self, index: PackageIndex) {
        self.packages.insert(index.name, index.versions);
    }

    /// Implementations of `spec` across the catalogue, derived from the manifests.
    pub fn implementations(&self, spec: &SpecId) -> Vec<Implementation> {
        let mut out = Vec::new();
        for (name, versions) in &self.packages {
            for v in versions {
                for i in v.manifest.implements.iter().filter(|i| &i.spec == spec) {
                    out.push(Implementation {
                        package: name.clone(),
                        version: v.version.clone(),
                        spec_version: i.version.clone(),
                    });
                }
            }
        }
        out
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;

    fn document() -> serde_json::Value {
        json!({
            "format": 1,
            "name": "mosip/esignet",
            "versions": [{
                "version": "1.8.0",
                "digest": Digest::of(b"x").to_string(),
                "yanked": false,
                "key_ids": ["k"],
                "manifest": {
                    "package": { "name": "mosip/esignet", "version": "1.8.0", "description": "d", "license": "MIT" },
                    "implements": [{ "spec": "govstack/identity", "version": "1.0.2", "how": "native" }],
                },
            }],
        })
    }

    fn read(doc: &serde_json::Value) -> Result<PackageIndex, IndexDocumentError> {
        from_json(&doc.to_string())
    }

    #[test]
    fn writes_its_format_first() {
        let doc = read(&document()).unwrap();
        assert_eq!(doc.format, FormatVersion::V1);
        let again = PackageIndex::new(doc.name.clone(), doc.versions.clone());
        assert_eq!(again, doc);
        assert!(
            serde_json::to_string(&again)
                .unwrap()
                .starts_with(r#"{"format":1,"name":"#)
        );
        let spec = SpecIndex::new("govstack/identity".parse().unwrap(), Vec::new());
        assert_eq!(
            serde_json::to_string(&spec).unwrap(),
            r#"{"format":1,"spec":"govstack/identity","implementations":[]}"#
        );
    }

    /// Documents served before the format existed have none: format 1.
    #[test]
    fn a_missing_format_is_format_1() {
        let mut doc = document();
        doc.as_object_mut().unwrap().remove("format");
        assert_eq!(read(&doc).unwrap(), read(&document()).unwrap());
        let spec: SpecIndex = from_json(r#"{"spec":"govstack/identity","implementations":[]}"#).unwrap();
        assert_eq!(spec.format, FormatVersion::V1);
    }

    #[test]
    fn unknown_fields_are_ignored_everywhere() {
        let mut doc = document();
        doc["format"] = json!("1.9");
        doc["mirrors"] = json!(["https://mirror.example.gov"]);
        let v = &mut doc["versions"][0];
        v["downloads"] = json!(12);
        v["manifest"]["sbom_format"] = json!("spdx");
        v["manifest"]["package"]["funding"] = json!({ "url": "https://example.org" });
        v["manifest"]["implements"][0]["profile"] = json!("eu");
        v["manifest"]["requires"] = json!({ "hardware": { "gpu": true }, "specs": { "govstack/consent": "^1.0" } });
        let read_back = read(&doc).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(read_back.format, FormatVersion::new(1, 9));
        let mut expected = read(&document()).unwrap();
        expected.format = FormatVersion::new(1, 9);
        expected.versions[0].manifest.requires.specs =
            [("govstack/consent".parse().unwrap(), "^1.0".parse().unwrap())].into();
        assert_eq!(read_back, expected);

        let spec: SpecIndex = from_json(
            r#"{"spec":"govstack/identity","etc":{},"implementations":[{"package":"mosip/esignet","version":"1.8.0","spec_version":"1.0.2","levels":[1]}]}"#,
        )
        .unwrap();
        assert_eq!(spec.implementations.len(), 1);
    }

    /// Only unknown fields are dropped: a manifest value of the wrong type or an unknown
    /// `how` still refuses the document.
    #[test]
    fn other_manifest_errors_still_refuse_the_document() {
        let mut doc = document();
        doc["versions"][0]["manifest"]["extra"] = json!(1);
        doc["versions"][0]["manifest"]["implements"][0]["how"] = json!("bridge");
        let err = read(&doc).unwrap_err().to_string();
        assert!(err.contains("unknown variant `bridge`"), "{err}");
        let mut doc = document();
        doc["versions"][0]["manifest"]["package"]["version"] = json!(18);
        assert!(matches!(read(&doc), Err(IndexDocumentError::Invalid(_))));
    }

    /// A newer major is refused for its format before its shape is looked at.
    #[test]
    fn a_newer_major_format_is_refused() {
        let doc = json!({ "format": 2, "package": "mosip/esignet", "releases": {} });
        let err = read(&doc).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the registry's index document uses format 2; this govstore understands format 1"
        );
        let IndexDocumentError::Format(format) = err else {
            panic!()
        };
        assert_eq!(format.hint(), "upgrade govstore to a release that understands format 2");
    }
}
