//! Stack profiles: `stack.toml`, what a country runs and needs, and the lockfile
//! (`govstore.lock`) resolution writes for it.
//!
//! A country describes its stack once; `govstore resolve` finds a set of packages that
//! fits it. [`Stack::from_toml_str`] parses and validates the profile;
//! [`Stack::digest`] is the hash a [`Lockfile`] records.
//!
//! # Tables
//!
//! - `[stack]`: `country` (ISO 3166-1 alpha-2, uppercase) and `name`.
//! - `[[existing]]`, one per system the country already runs: `name` (lowercase words
//!   joined by `-`), optionally `package` (the catalogue package it is) and `version`
//!   (the version it runs, needs `package`), and `implements`, a list of
//!   `{ spec, version }`. A wanted or required spec that an existing system implements
//!   at a matching version needs no new package, and a required package that an
//!   existing system runs at a matching version is not installed again.
//! - `[infrastructure]`: `orchestrator` (`kubernetes`, `openshift`, `docker` or `vm`)
//!   and `[infrastructure.platform]`, a table from component names (as in manifests'
//!   `[requires.platform]`) to versions. Versions may have one to three numeric parts
//!   (`"16"`, `"16.2"`, `"1.29.4"`); missing parts count as zero. A package version whose
//!   `requires.platform` names a component the stack lacks, or a version outside the
//!   range, cannot be chosen.
//! - `[policy]`:
//!   - `allow_licenses` and `deny_licenses`: SPDX identifiers (or `LicenseRef-<name>`).
//!     A package's licence expression is evaluated as SPDX means it: `MIT OR
//!     GPL-3.0-only` is usable when either side is, `MIT AND GPL-3.0-only` only when both
//!     are. A licence is usable when it is not denied and, if `allow_licenses` is not
//!     empty, is on it; so a `LicenseRef-` licence needs to be allowed explicitly once an
//!     allow-list exists. `deny_copyleft = true` denies every licence the SPDX list marks
//!     copyleft.
//!   - `[policy.minimum_compliance]`: `deployment`, `interface`, `requirements`, each
//!     `n/a`, `level-1` or `level-2`: the lowest compliance level a package must claim
//!     for a spec it is chosen to implement.
//!   - `trusted_publishers`: namespaces; when not empty, only their packages are used.
//!   - `allow_prereleases`: whether pre-release versions may be chosen (a pinned one
//!     always may).
//!   - `approved_only`: whether only versions the country approved may be chosen.
//! - `[wants]`: `specs` (spec id to a version requirement), `packages` (package name to a
//!   version requirement), `pins` (package name to an exact version; if the package is
//!   in the stack, it is at that version, even a yanked or pre-release one) and
//!   `excludes` (package names never to install).
//!
//! Unknown fields are errors everywhere. Limits are in [`limits`].
//!
//! # Example
//!
//! A profile that uses every field:
//!
//! ```toml
#![doc = include_str!("reference.toml")]
//! ```
//!
//! # Errors
//!
//! As for manifests, every error names its field as a TOML path with the line and
//! column, and a hint where there is a next step:
//!
//! ```text
//! stack.country: "ke" is not an ISO 3166-1 alpha-2 country code: codes are uppercase, write "KE" (line 2, column 11)
//! infrastructure: unknown field `postgresql`, expected `orchestrator` or `platform` (line 9, column 1)
//! wants.pins."mosip/esignet": the pin 1.6.0 does not match `wants.packages` >=1.7 (line 21, column 26)
//! ```
//!
//! # Canonical JSON and the stack's hash
//!
//! [`Stack::canonical_json`] follows the manifest's rules ([`crate::manifest::canonical`]):
//! keys sorted, no whitespace, absent and empty fields left out, platform versions as
//! written. [`Stack::digest`] is its SHA-256: two profiles that say the same thing have
//! the same hash, whatever their comments, order or spacing.

mod error;
#[cfg(test)]
mod error_tests;
pub mod limits;
mod lock;
mod model;
mod parse;
mod validate;
mod values;

pub use error::{LockfileError, StackError};
pub use lock::{LOCKFILE_FORMAT, LOCKFILE_VERSION, LockedPackage, Lockfile};
pub use model::{
    ExistingImplementation, ExistingSystem, Infrastructure, MinimumCompliance, Orchestrator, Policy, Stack, StackInfo,
    Trust, Wants,
};
pub use values::{LicenceName, Namespace, PlatformVersion, StackValueError};

use crate::digest::Digest;
use crate::manifest::canonical;

impl Stack {
    /// Parses and validates a `stack.toml`.
    pub fn from_toml_str(text: &str) -> Result<Self, StackError> {
        parse::stack_from_toml(text)
    }

    /// Checks the rules that apply after deserialization, for a stack built in code.
    pub fn validate(&self) -> Result<(), StackError> {
        let errors = validate::validate(self);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(StackError::Invalid(errors))
        }
    }

    /// The canonical JSON form.
    pub fn canonical_json(&self) -> String {
        let value = serde_json::to_value(self)
            .unwrap_or_else(|e| serde_json::Value::String(format!("unserializable stack: {e}")));
        let mut out = String::new();
        canonical::write(&value, &mut out);
        out
    }

    /// The SHA-256 of the canonical JSON: the `stack` a lockfile records.
    pub fn digest(&self) -> Digest {
        Digest::of(self.canonical_json().as_bytes())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const REFERENCE: &str = include_str!("reference.toml");

    #[test]
    fn reference_example_parses() {
        let stack = Stack::from_toml_str(REFERENCE).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(stack.stack.country.as_str(), "KE");
        assert_eq!(stack.existing.len(), 2);
        assert_eq!(stack.infrastructure.orchestrator, Some(Orchestrator::Kubernetes));
        assert_eq!(stack.infrastructure.platform.len(), 4);
        assert_eq!(stack.policy.deny_licenses.len(), 2);
        assert_eq!(stack.wants.specs.len(), 2);
        assert_eq!(stack.validate(), Ok(()));
    }

    #[test]
    fn digest_ignores_comments_order_and_spacing() {
        let a = Stack::from_toml_str(REFERENCE).unwrap();
        let reordered = "[wants]\nexcludes = [\"mosip/id-repository\"]\npins = { \"mosip/esignet\" = \"1.8.0\" }\n\
             packages = { \"mosip/esignet\" = \">=1.7\" }\n\
             specs = { \"govstack/consent\" = \"^1.0\", \"govstack/identity\" = \"^1.0\" }\n";
        let mut text = REFERENCE.replace(&REFERENCE[REFERENCE.find("[wants]").unwrap()..], "");
        text.insert_str(0, "# comment\n");
        let text = format!("{reordered}\n{text}");
        // `[wants]` first, then the rest: TOML needs root keys before tables; there are none.
        let b = Stack::from_toml_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(a, b);
        assert_eq!(a.digest(), b.digest());
        assert!(
            a.canonical_json().starts_with("{\"existing\":["),
            "{}",
            a.canonical_json()
        );
        let mut c = a.clone();
        c.policy.allow_prereleases = true;
        assert_ne!(a.digest(), c.digest());
    }

    /// Only `[stack]` is required; empty tables are left out of the canonical form.
    #[test]
    fn minimal_stack() {
        let stack = Stack::from_toml_str("[stack]\ncountry = \"EE\"\nname = \"Estonia\"\n").unwrap();
        assert!(stack.existing.is_empty() && stack.wants.is_empty());
        assert_eq!(stack.canonical_json(), r#"{"stack":{"country":"EE","name":"Estonia"}}"#);
    }
}
