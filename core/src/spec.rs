//! Building-block specifications: the spec file, its model, its validation, its
//! canonical JSON, and the check of the specs a package manifest names.
//!
//! A spec such as `govstack/identity` is a first-class registry entry: packages say which
//! of its versions they implement (`[[implements]]`) or need from the rest of the stack
//! (`[requires.specs]`), and [`check_spec_references`] holds them to the versions that
//! exist. A spec is published from a TOML file (`govstore spec publish FILE`);
//! [`Spec::from_toml_str`] parses and validates it, and [`Spec::canonical_json`] gives the
//! exact bytes the registry stores.
//!
//! # The spec file
//!
//! - `id`: `namespace/name`, such as `govstack/identity`.
//! - `title`: at most 100 characters, one line.
//! - `description`: at most 1000 characters.
//! - `homepage` (optional): an http(s) URL.
//! - `[[versions]]`, oldest first, at least one:
//!   - `version`: full SemVer without build metadata. GovStack writes `1.0`; write
//!     `1.0.0`.
//!   - `released` (optional): `YYYY-MM-DD`, or `YYYY-MM` when only the month is known.
//!   - `status`: `released`, `draft` or `deprecated`.
//!   - `openapi` (optional): `{ name, url }` for each OpenAPI file of the version.
//!   - `requirements` (optional): `{ id, level, text }`, with `id` as
//!     `<scope>#<name>` (`govstack-cfr-security#req-1`), `level` as `REQUIRED`,
//!     `RECOMMENDED` or `OPTIONAL`, and a one-line `text` of at most 300 characters.
//!
//! ```toml
//! id = "govstack/identity"
//! title = "Identity"
//! description = "Identify and verify people, and manage their identity data."
//! homepage = "https://specs.govstack.global/identity"
//!
//! [[versions]]
//! version = "1.0.0"
//! status = "released"
//!
//! [[versions]]
//! version = "1.0.2"
//! released = "2025-09"
//! status = "released"
//! openapi = [
//!   { name = "Identity Provider", url = "https://github.com/GovStackWorkingGroup/bb-identity/blob/main/api/Identity-Provider.yaml" },
//! ]
//! requirements = [
//!   { id = "identity#req-1", level = "REQUIRED", text = "Authenticate people with OpenID Connect." },
//! ]
//! ```
//!
//! Unknown fields are errors everywhere. Limits are in [`limits`]. Errors are
//! [`FieldError`](crate::manifest::FieldError)s, exactly as for manifests: the field as a
//! TOML path, the line and column, and a hint where there is a next step:
//!
//! ```text
//! versions[1].version: invalid version "1.0": unexpected end of input while parsing minor version number; write all three parts, e.g. "1.0.0" (line 9, column 11)
//! versions[0]: unknown field `title`, expected one of `version`, ... (line 7, column 1)
//! ```
//!
//! # Canonical JSON
//!
//! The same rules as for manifests ([`crate::manifest::canonical`]): keys sorted, no
//! whitespace, absent and empty fields left out, versions in SemVer's display form.

mod check;
mod error;
pub mod limits;
mod model;
mod parse;
mod validate;
mod values;

pub use check::{KnownSpecs, check_spec_references};
pub use error::SpecError;
pub use model::{OpenApiFile, Requirement, RequirementLevel, Spec, SpecVersion, Status};
pub use values::{ReleaseDate, RequirementId, SpecValueError};

use semver::Version;

use crate::digest::Digest;
use crate::manifest::canonical;

impl Spec {
    /// Parses and validates a spec file.
    pub fn from_toml_str(text: &str) -> Result<Self, SpecError> {
        parse::from_toml(text)
    }

    /// Parses and validates canonical JSON, and checks that it is canonical: that
    /// [`Spec::canonical_json`] of the result gives back exactly `text`.
    pub fn from_canonical_json(text: &str) -> Result<Self, SpecError> {
        let spec = parse::from_json(text)?;
        if spec.canonical_json() != text {
            return Err(SpecError::NotCanonical);
        }
        Ok(spec)
    }

    /// Checks the rules that apply after deserialization (limits, order and uniqueness),
    /// for a spec built in code.
    pub fn validate(&self) -> Result<(), SpecError> {
        let errors = validate::validate(self);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(SpecError::Invalid(errors))
        }
    }

    /// The canonical JSON form.
    pub fn canonical_json(&self) -> String {
        let value = serde_json::to_value(self)
            .expect("a spec always serializes to a JSON value: it has no maps with non-string keys");
        let mut out = String::new();
        canonical::write(&value, &mut out);
        out
    }

    /// The digest of the canonical JSON.
    pub fn digest(&self) -> Digest {
        Digest::of(self.canonical_json().as_bytes())
    }

    /// The entry for `version`, whatever its status.
    pub fn version(&self, version: &Version) -> Option<&SpecVersion> {
        self.versions.iter().find(|v| v.version == *version)
    }

    /// Whether `version` is one of the spec's versions, whatever its status.
    pub fn has_version(&self, version: &Version) -> bool {
        self.version(version).is_some()
    }

    /// The newest version with status `released`, if any.
    pub fn latest_released(&self) -> Option<&SpecVersion> {
        self.versions
            .iter()
            .filter(|v| v.status == Status::Released)
            .max_by(|a, b| a.version.cmp(&b.version))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
id = "govstack/identity"
title = "Identity"
description = "Identify and verify people, and manage their identity data."
homepage = "https://specs.govstack.global/identity"

[[versions]]
version = "1.0.0"
status = "released"

[[versions]]
version = "1.0.2"
released = "2025-09"
status = "released"
openapi = [
  { name = "Identity Provider", url = "https://github.com/GovStackWorkingGroup/bb-identity/blob/main/api/Identity-Provider.yaml" },
]
requirements = [
  { id = "identity#req-1", level = "REQUIRED", text = "Authenticate people with OpenID Connect." },
]

[[versions]]
version = "1.1.0-draft.1"
status = "draft"
"#;

    #[test]
    fn example_parses_and_round_trips() {
        let spec = Spec::from_toml_str(EXAMPLE).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(spec.id.as_str(), "govstack/identity");
        assert_eq!(spec.versions.len(), 3);
        assert!(spec.has_version(&Version::new(1, 0, 2)));
        assert!(!spec.has_version(&Version::new(1, 0, 1)));
        assert_eq!(
            spec.latest_released().map(|v| v.version.to_string()),
            Some("1.0.2".to_owned())
        );
        let v = spec.version(&Version::new(1, 0, 2)).unwrap();
        assert_eq!(v.requirements[0].level, RequirementLevel::Required);
        assert_eq!(v.released.map(|d| d.to_string()).as_deref(), Some("2025-09"));
        let json = spec.canonical_json();
        let back = Spec::from_canonical_json(&json).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, spec);
        assert_eq!(back.digest(), spec.digest());
        assert_eq!(spec.validate(), Ok(()));
    }

    /// The example in the module documentation is valid.
    #[test]
    fn module_doc_example_is_valid() {
        let doc = include_str!("spec.rs");
        let start = doc.find("//! ```toml\n").unwrap() + "//! ```toml\n".len();
        let end = start + doc[start..].find("//! ```\n").unwrap();
        let text: String = doc[start..end]
            .lines()
            .map(|l| l.strip_prefix("//! ").unwrap_or(l.trim_start_matches("//!")))
            .collect::<Vec<_>>()
            .join("\n");
        Spec::from_toml_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    }

    #[test]
    fn canonical_json_is_canonical() {
        let spec = Spec::from_toml_str(EXAMPLE).unwrap();
        let json = spec.canonical_json();
        assert!(json.starts_with(r#"{"description":"#), "{json}");
        assert!(json.contains(r#""version":"1.1.0-draft.1""#), "{json}");
        let pretty = serde_json::to_string_pretty(&serde_json::from_str::<serde_json::Value>(&json).unwrap()).unwrap();
        assert_eq!(Spec::from_canonical_json(&pretty), Err(SpecError::NotCanonical));
    }

    #[test]
    fn validate_checks_specs_built_in_code() {
        let mut spec = Spec::from_toml_str(EXAMPLE).unwrap();
        spec.versions.swap(0, 1);
        spec.title = String::new();
        let err = spec.validate().unwrap_err();
        let paths: Vec<String> = err.field_errors().iter().map(|e| e.path.to_string()).collect();
        assert_eq!(paths, ["title", "versions[1].version"]);
    }
}
