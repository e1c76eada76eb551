//! Turning text into a [`Spec`]: the spec file (TOML) and canonical JSON, through the
//! parsing shared with manifests, with the spec's size limit, rules and hints.

use super::error::SpecError;
use super::limits::MAX_SPEC_BYTES;
use super::model::Spec;
use super::validate::validate;
use crate::manifest::document::{self, Rules};
use crate::manifest::{FieldPath, Segment};

/// The top-level keys.
const TOP_FIELDS: &[&str] = &["id", "title", "description", "homepage", "versions"];
/// The keys of a `[[versions]]` entry.
const VERSION_FIELDS: &[&str] = &["version", "released", "status", "openapi", "requirements"];
/// The keys of an `openapi` entry.
const OPENAPI_FIELDS: &[&str] = &["name", "url"];
/// The keys of a `requirements` entry that are not also top-level keys.
const REQUIREMENT_FIELDS: &[&str] = &["level", "text"];

const RULES: Rules<Spec> = Rules {
    max_bytes: MAX_SPEC_BYTES,
    validate,
    unknown_hint,
    other_hint,
};

pub(crate) fn from_toml(text: &str) -> Result<Spec, SpecError> {
    document::from_toml(text, &RULES).map_err(SpecError::from)
}

pub(crate) fn from_json(text: &str) -> Result<Spec, SpecError> {
    document::from_json(text, &RULES).map_err(SpecError::from)
}

/// Whether `path` is one `[[versions]]` entry.
fn is_version_entry(path: &FieldPath) -> bool {
    matches!(path.segments(), [Segment::Key(k), Segment::Index(_)] if k == "versions")
}

/// Fields written in the wrong table: in TOML, every key after a `[[versions]]` header
/// belongs to that version, so a top-level key written late lands there.
fn unknown_hint(path: &FieldPath, given: &str) -> Option<String> {
    if path.is_root() && VERSION_FIELDS.contains(&given) {
        return Some(format!(
            "`{given}` belongs in a version: start a `[[versions]]` entry and write it there"
        ));
    }
    if !is_version_entry(path) {
        return None;
    }
    if TOP_FIELDS.contains(&given) {
        return Some(format!(
            "`{given}` is a top-level key; keys written after a `[[versions]]` header belong to \
             that version, so write it before the first `[[versions]]`"
        ));
    }
    if OPENAPI_FIELDS.contains(&given) {
        return Some(format!(
            "`{given}` belongs in an OpenAPI file entry: `openapi = [{{ name = \"...\", url = \"...\" }}]`"
        ));
    }
    if REQUIREMENT_FIELDS.contains(&given) {
        return Some(format!(
            "`{given}` belongs in a requirement entry: \
             `requirements = [{{ id = \"...\", level = \"REQUIRED\", text = \"...\" }}]`"
        ));
    }
    None
}

/// `[versions]` (one bracket) makes a table where a list of tables is expected.
fn other_hint(path: &FieldPath, message: &str) -> Option<String> {
    if !message.starts_with("invalid type: map, expected a sequence") {
        return None;
    }
    let name = match path.segments() {
        [Segment::Key(k)] if k == "versions" => "versions",
        [Segment::Key(v), Segment::Index(_), Segment::Key(k)]
            if v == "versions" && (k == "openapi" || k == "requirements") =>
        {
            return Some(format!(
                "`{k}` is a list: write `[[versions.{k}]]` with two brackets, or `{k} = [{{ ... }}]`"
            ));
        }
        _ => return None,
    };
    Some(format!(
        "`{name}` is a list: write `[[{name}]]` with two brackets, once per version"
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Every field the hints name is one the model accepts where the hint says.
    #[test]
    fn field_lists_are_the_models() {
        let base = "id = \"a/b\"\ntitle = \"t\"\ndescription = \"d\"\n";
        for field in TOP_FIELDS {
            let text = format!("{field} = 0\n");
            let err = from_toml(&text).unwrap_err().to_string();
            assert!(!err.contains("unknown field"), "{field}: {err}");
        }
        for field in VERSION_FIELDS {
            let text = format!("{base}[[versions]]\n{field} = 0\n");
            let err = from_toml(&text).unwrap_err().to_string();
            assert!(!err.contains("unknown field"), "{field}: {err}");
        }
        for field in OPENAPI_FIELDS {
            let text = format!("{base}[[versions]]\n[[versions.openapi]]\n{field} = 0\n");
            let err = from_toml(&text).unwrap_err().to_string();
            assert!(!err.contains("unknown field"), "{field}: {err}");
        }
        for field in REQUIREMENT_FIELDS {
            let text = format!("{base}[[versions]]\n[[versions.requirements]]\n{field} = 0\n");
            let err = from_toml(&text).unwrap_err().to_string();
            assert!(!err.contains("unknown field"), "{field}: {err}");
        }
    }
}
