//! Turning text into a [`Manifest`]: TOML (`govstore.toml`) and canonical JSON.
//!
//! The parsing itself is shared with other documents (see [`super::document`]); this
//! module adds the manifest's size limit, its rules and its hints.

use super::document::{self, Rules};
use super::error::{FieldPath, ManifestError, Segment};
use super::limits::MAX_MANIFEST_BYTES;
use super::model::Manifest;
use super::validate::validate;

/// The `[package]` fields, for hints when one is written outside `[package]`.
const PACKAGE_FIELDS: &[&str] = &[
    "name",
    "version",
    "title",
    "description",
    "license",
    "homepage",
    "repository",
    "readme",
    "keywords",
    "maturity",
    "sdgs",
    "sectors",
    "deployment_countries",
    "end_of_life",
    "sbom",
    "include",
    "exclude",
];

/// The top-level tables.
const TABLES: &[&str] = &["package", "implements", "requires", "conflicts", "provides"];

const RULES: Rules<Manifest> = Rules {
    max_bytes: MAX_MANIFEST_BYTES,
    validate,
    unknown_hint,
    other_hint: misplaced_table_hint,
};

pub(crate) fn from_toml(text: &str) -> Result<Manifest, ManifestError> {
    document::from_toml(text, &RULES).map_err(ManifestError::from)
}

pub(crate) fn from_json(text: &str) -> Result<Manifest, ManifestError> {
    document::from_json(text, &RULES).map_err(ManifestError::from)
}

/// `provides = [...]` written after `[requires.platform]` lands in that table; say so.
fn misplaced_table_hint(path: &FieldPath, _message: &str) -> Option<String> {
    let [_, .., Segment::Key(last)] = path.segments() else {
        return None;
    };
    TABLES.contains(&last.as_str()).then(|| table_hint(last))
}

fn table_hint(name: &str) -> String {
    format!(
        "`{name}` is a top-level table; keys written after a `[table]` header belong to that table, \
         so start a `[{name}]` table instead"
    )
}

/// A hint for an unknown name that is not a misspelling of an expected one.
fn unknown_hint(path: &FieldPath, given: &str) -> Option<String> {
    if path.is_root() && PACKAGE_FIELDS.contains(&given) {
        return Some(format!("`{given}` belongs in the `[package]` table"));
    }
    if path.is_root() && ["dependencies", "depends", "requirements"].contains(&given) {
        return Some(
            "dependencies go in `[requires.packages]`, `[requires.specs]` and `[requires.platform]`".to_owned(),
        );
    }
    if !path.is_root() && TABLES.contains(&given) {
        return Some(table_hint(given));
    }
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn hints_for_unknown_names() {
        let package = FieldPath::root().key("package");
        assert_eq!(unknown_hint(&package, "authors"), None);
        assert_eq!(
            unknown_hint(&FieldPath::root(), "license").as_deref(),
            Some("`license` belongs in the `[package]` table")
        );
        assert_eq!(
            unknown_hint(&package, "requires").as_deref(),
            Some(table_hint("requires").as_str())
        );
    }

    /// Every field in `PACKAGE_FIELDS` is one the model accepts.
    #[test]
    fn package_fields_are_the_models() {
        for field in PACKAGE_FIELDS {
            let text = format!("[package]\n{field} = 0\n");
            let err = from_toml(&text).unwrap_err().to_string();
            assert!(!err.contains("unknown field"), "{field}: {err}");
        }
    }
}
