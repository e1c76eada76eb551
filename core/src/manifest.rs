//! Package manifests: `govstore.toml`, its model, its validation and its canonical JSON.
//!
//! A publisher describes a package version in `govstore.toml`. [`Manifest::from_toml_str`]
//! parses and validates it; [`Manifest::canonical_json`] gives the exact bytes stored as
//! the OCI config blob of the package version, and [`Manifest::from_canonical_json`]
//! reads them back.
//!
//! # Tables
//!
//! - `[package]`: `name` (`namespace/name`), `version` (SemVer 2.0 without build
//!   metadata), `description` (at most 500 characters), optionally `title` (the
//!   product's human name, one line of at most 80 characters, such as `"Keycloak"`), `license` (an SPDX expression,
//!   strictly parsed; `LicenseRef-<name>` for a licence that is not on the SPDX list), and
//!   optionally `homepage` and `repository` (http(s) URLs), `readme` and `sbom` (paths
//!   relative to the manifest), `keywords` and `sectors` (lowercase words), `maturity`
//!   (`experimental`, `beta`, `stable`, `mature` or `deprecated`), `sdgs` (1 to 17),
//!   `deployment_countries` (ISO 3166-1 alpha-2, uppercase), `end_of_life` (a date), and
//!   `include`/`exclude` (glob patterns for the package content).
//! - `[[implements]]`, one per spec version: `spec`, `version` (full SemVer), `how`
//!   (`native`, `updated` or `adaptor`), and optional `compliance.deployment`,
//!   `compliance.interface` (with `test_harness`) and `compliance.requirements` claims,
//!   each with a `level` (`n/a`, `level-1`, `level-2`) and `evidence` (a URL or a short
//!   text; required when the level is not `n/a`).
//! - `[requires]`: `specs`, `packages` and `platform`, each a table from a name to a
//!   SemVer requirement (`"^1.1"`, `">=7.5, <8"`). A requirement without an operator is a
//!   caret requirement, as in Cargo: `"1.1"` means `"^1.1"`.
//! - `[conflicts]`: `packages`, the same shape as `requires.packages`.
//! - `[provides]`: `capabilities`, lowercase words naming what the package offers besides
//!   its specs.
//!
//! Unknown fields are errors everywhere, so a misspelt field is reported rather than
//! ignored. Limits are in [`limits`].
//!
//! # Example
//!
//! A manifest that uses every field:
//!
//! ```toml
#![doc = include_str!("manifest/reference.toml")]
//! ```
//!
//! # Errors
//!
//! Every error names its field as a TOML path and, for TOML input, the line and column:
//!
//! ```text
//! package.license: "Apache-2.0 OR" is not a valid SPDX expression: expected one of `<license>`, `(` here (line 5, column 11)
//! requires.packages."x-road/security-server": invalid version requirement ">=7.5 <<8": expected comma after minor version number, found '<' (line 21, column 28)
//! package: unknown field `licence`, expected one of `name`, `version`, ... (line 5, column 1)
//! ```
//!
//! Errors found while deserializing stop at the first one; the rules checked afterwards
//! (limits, duplicates, evidence, rules across fields) report every problem at once.
//!
//! # Canonical JSON
//!
//! Object keys sorted, no whitespace, absent and empty fields left out, versions and
//! requirements in SemVer's own display form (`"1.1"` becomes `"^1.1"`). The same
//! manifest always gives the same bytes, hence the same digest. See [`canonical`] for the
//! exact rules.

pub mod canonical;
mod countries;
pub(crate) mod document;
pub(crate) mod error;
pub mod limits;
mod model;
mod parse;
mod validate;
pub mod values;

pub use error::{FieldError, FieldPath, Location, ManifestError, Segment};
pub use model::{
    Claim, Compliance, Conflicts, HarnessResult, How, Implementation, InterfaceClaim, Level, Manifest, Maturity,
    Package, Provides, RequirementsClaim, Requires, Tally, TestHarness,
};
pub use values::{ComponentName, CountryCode, Date, Evidence, License, RelativePath, Sdg, Url, ValueError};

use crate::digest::Digest;

impl Manifest {
    /// Parses and validates a `govstore.toml`.
    pub fn from_toml_str(text: &str) -> Result<Self, ManifestError> {
        parse::from_toml(text)
    }

    /// Parses and validates canonical JSON, and checks that it is canonical: that
    /// [`Manifest::canonical_json`] of the result gives back exactly `text`.
    pub fn from_canonical_json(text: &str) -> Result<Self, ManifestError> {
        let manifest = parse::from_json(text)?;
        if manifest.canonical_json() != text {
            return Err(ManifestError::NotCanonical);
        }
        Ok(manifest)
    }

    /// Checks the rules that apply after deserialization (limits, duplicates, evidence,
    /// rules across fields), for a manifest built in code.
    pub fn validate(&self) -> Result<(), ManifestError> {
        let errors = validate::validate(self);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ManifestError::Invalid(errors))
        }
    }

    /// The canonical JSON form.
    pub fn canonical_json(&self) -> String {
        let value = serde_json::to_value(self)
            .expect("a manifest always serializes to a JSON value: all its map keys are strings");
        let mut out = String::new();
        canonical::write(&value, &mut out);
        out
    }

    /// The digest of the canonical JSON, which is the digest of the config blob.
    pub fn digest(&self) -> Digest {
        Digest::of(self.canonical_json().as_bytes())
    }
}

/// Sets the line and column of each error from the TOML `text` it is about, then sorts
/// the errors in document order.
///
/// For errors found after a manifest was parsed, such as those of
/// [`crate::spec::check_spec_references`], so that a command can point into the
/// `govstore.toml` the user wrote. Errors whose path the text does not have keep no
/// location and go last; if `text` is not TOML, nothing changes.
pub fn locate_in_toml(text: &str, errors: &mut [FieldError]) {
    document::locate(text, errors);
}

#[cfg(test)]
mod tests {
    use super::*;

    const REFERENCE: &str = include_str!("manifest/reference.toml");

    #[test]
    fn reference_example_parses_and_round_trips() {
        let m = Manifest::from_toml_str(REFERENCE).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(m.package.name.as_str(), "example/civil-registry");
        assert_eq!(m.package.title.as_deref(), Some("Civil Registry"));
        assert_eq!(m.implements.len(), 2);
        assert_eq!(m.requires.specs.len(), 2);
        assert_eq!(
            m.package.end_of_life.map(|d| d.to_string()).as_deref(),
            Some("2028-06-30")
        );
        let json = m.canonical_json();
        let back = Manifest::from_canonical_json(&json).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, m);
        assert_eq!(back.canonical_json(), json);
        assert_eq!(back.digest(), m.digest());
    }

    fn with_title(title: &str) -> String {
        format!(
            "[package]\nname = \"a/b\"\nversion = \"1.0.0\"\ntitle = {}\ndescription = \"d\"\nlicense = \"MIT\"\n",
            toml::Value::String(title.to_owned())
        )
    }

    /// The title is optional, carried in the canonical JSON when present and absent from
    /// it otherwise (so manifests without one keep their digest).
    #[test]
    fn title_is_optional_and_canonical() {
        let m = Manifest::from_toml_str(&with_title("Payment Hub EE")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(m.package.title.as_deref(), Some("Payment Hub EE"));
        let json = m.canonical_json();
        assert!(json.contains(r#""title":"Payment Hub EE""#), "{json}");
        assert_eq!(
            Manifest::from_canonical_json(&json).unwrap_or_else(|e| panic!("{e}")),
            m
        );
        let without = "[package]\nname = \"a/b\"\nversion = \"1.0.0\"\ndescription = \"d\"\nlicense = \"MIT\"\n";
        let m = Manifest::from_toml_str(without).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(m.package.title, None);
        assert!(!m.canonical_json().contains("title"));
    }

    #[test]
    fn a_title_is_one_short_line() {
        let error = |title: &str| match Manifest::from_toml_str(&with_title(title)) {
            Ok(_) => panic!("{title:?} was accepted"),
            Err(e) => e.to_string(),
        };
        let long = "x".repeat(limits::MAX_TITLE_CHARS + 1);
        for (title, expected) in [
            ("", "package.title: must not be empty"),
            ("  ", "package.title: must not be empty"),
            (
                "Payment\nHub",
                "package.title: must be one line, without control characters",
            ),
            (
                "Tab\there",
                "package.title: must be one line, without control characters",
            ),
            (long.as_str(), "package.title: is 81 characters long; the limit is 80"),
            (" Keycloak", "package.title: must not start or end with spaces"),
        ] {
            let e = error(title);
            assert!(e.contains(expected), "{title:?}: {e}");
        }
        let longest = "é".repeat(limits::MAX_TITLE_CHARS);
        assert!(Manifest::from_toml_str(&with_title(&longest)).is_ok());
    }
}
