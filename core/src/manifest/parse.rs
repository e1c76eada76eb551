//! Turning text into a [`Manifest`]: TOML (`govstore.toml`) and canonical JSON.
//!
//! Deserialization runs under `serde_path_to_error`, so its first error names the field;
//! then the rules in `validate` run and report every problem they find. For TOML, each
//! error gets the line and column of the field, taken from the toml parser's spans.

use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::error::{FieldError, FieldPath, Location, ManifestError, Segment};
use super::limits::MAX_MANIFEST_BYTES;
use super::model::Manifest;
use super::validate::validate;

/// The `[package]` fields, for hints when one is written outside `[package]`.
const PACKAGE_FIELDS: &[&str] = &[
    "name",
    "version",
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

pub(crate) fn from_toml(text: &str) -> Result<Manifest, ManifestError> {
    if text.len() > MAX_MANIFEST_BYTES {
        return Err(ManifestError::TooLarge { size: text.len() });
    }
    let de = toml::Deserializer::parse(text).map_err(|e| ManifestError::Syntax {
        format: "TOML",
        message: e.message().to_owned(),
        location: e.span().map(|s| Location::of_offset(text, s.start)),
    })?;
    let manifest = Manifest::deserialize_tracked(de).map_err(|e| {
        let path = convert_path(e.path());
        let inner = e.into_inner();
        let location = inner.span().map(|s| Location::of_offset(text, s.start));
        ManifestError::Invalid(vec![field_error(path, inner.message(), location)])
    })?;
    let mut errors = validate(&manifest);
    if errors.is_empty() {
        return Ok(manifest);
    }
    if let Ok(root) = DeTable::parse(text) {
        for error in &mut errors {
            error.location =
                span_of(&root, &error.path).map(|s| Location::of_offset(text, s.start));
        }
    }
    // Document order; the sort is stable, so errors on one field keep the rules' order.
    errors.sort_by_key(|e| e.location.map_or((usize::MAX, 0), |l| (l.line, l.column)));
    Err(ManifestError::Invalid(errors))
}

pub(crate) fn from_json(text: &str) -> Result<Manifest, ManifestError> {
    if text.len() > MAX_MANIFEST_BYTES {
        return Err(ManifestError::TooLarge { size: text.len() });
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let manifest = Manifest::deserialize_tracked(&mut de).map_err(|e| {
        let path = convert_path(e.path());
        json_error(path, e.into_inner())
    })?;
    de.end().map_err(|e| json_error(FieldPath::root(), e))?;
    let errors = validate(&manifest);
    if !errors.is_empty() {
        return Err(ManifestError::Invalid(errors));
    }
    Ok(manifest)
}

impl Manifest {
    fn deserialize_tracked<'de, D: serde::Deserializer<'de>>(
        de: D,
    ) -> Result<Self, serde_path_to_error::Error<D::Error>> {
        serde_path_to_error::deserialize(de)
    }
}

fn json_error(path: FieldPath, e: serde_json::Error) -> ManifestError {
    let location = (e.line() > 0).then(|| Location {
        line: e.line(),
        column: e.column(),
    });
    let full = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    let message = full.strip_suffix(&suffix).unwrap_or(&full);
    if e.is_data() {
        ManifestError::Invalid(vec![field_error(path, message, location)])
    } else {
        ManifestError::Syntax {
            format: "JSON",
            message: message.to_owned(),
            location,
        }
    }
}

fn convert_path(path: &serde_path_to_error::Path) -> FieldPath {
    use serde_path_to_error::Segment as S;
    path.iter()
        .filter_map(|seg| match seg {
            S::Seq { index } => Some(Segment::Index(*index)),
            S::Map { key } => Some(Segment::Key(key.clone())),
            S::Enum { variant } => Some(Segment::Key(variant.clone())),
            S::Unknown => None,
        })
        .collect()
}

/// A field error from a serde message, with the unknown name dropped from the path
/// (`package: unknown field `licence``, not `package.licence: ...`) and a hint where one
/// can be given.
fn field_error(mut path: FieldPath, message: &str, location: Option<Location>) -> FieldError {
    let unknown = unknown_name(message);
    if let (Some((given, _)), Some(Segment::Key(last))) = (&unknown, path.segments().last()) {
        if last == given && message.starts_with("unknown field") {
            path.pop();
        }
    }
    let mut error = FieldError::new(path.clone(), message);
    error.location = location;
    error.hint = match unknown {
        Some((given, candidates)) => name_hint(&path, &given, &candidates),
        None => misplaced_table_hint(&path),
    };
    error
}

/// `provides = [...]` written after `[requires.platform]` lands in that table; say so.
fn misplaced_table_hint(path: &FieldPath) -> Option<String> {
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

/// For serde's `unknown field `x`, expected one of `a`, `b`` (and `unknown variant`),
/// the unknown name and the expected ones.
fn unknown_name(message: &str) -> Option<(String, Vec<String>)> {
    let rest = message
        .strip_prefix("unknown field ")
        .or_else(|| message.strip_prefix("unknown variant "))?;
    let mut names = rest.split('`').skip(1).step_by(2).map(str::to_owned);
    let given = names.next()?;
    Some((given, names.collect()))
}

fn name_hint(path: &FieldPath, given: &str, candidates: &[String]) -> Option<String> {
    let closest = candidates
        .iter()
        .map(|c| (edit_distance(&given.to_lowercase(), &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= (given.chars().count() / 3).max(1))
        .min_by_key(|(d, _)| *d);
    if let Some((_, name)) = closest {
        return Some(format!("did you mean `{name}`?"));
    }
    if path.is_root() && PACKAGE_FIELDS.contains(&given) {
        return Some(format!("`{given}` belongs in the `[package]` table"));
    }
    if path.is_root() && ["dependencies", "depends", "requirements"].contains(&given) {
        return Some("dependencies go in `[requires.packages]`, `[requires.specs]` and `[requires.platform]`".to_owned());
    }
    if !path.is_root() && TABLES.contains(&given) {
        return Some(table_hint(given));
    }
    None
}

/// Levenshtein distance, by characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitute = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = substitute.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The span of the deepest value along `path` that the document has.
fn span_of(root: &Spanned<DeTable<'_>>, path: &FieldPath) -> Option<Range<usize>> {
    let (first, rest) = path.segments().split_first()?;
    let Segment::Key(first) = first else {
        return None;
    };
    let mut current: &Spanned<DeValue<'_>> = root.get_ref().get(first.as_str())?;
    for segment in rest {
        let next = match segment {
            Segment::Key(key) => current.get_ref().get(key.as_str()),
            Segment::Index(i) => current.get_ref().get(*i),
        };
        match next {
            Some(value) => current = value,
            None => break,
        }
    }
    Some(current.span())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn edit_distances() {
        assert_eq!(edit_distance("licence", "license"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn hints_for_unknown_names() {
        let candidates: Vec<String> = PACKAGE_FIELDS.iter().map(|s| s.to_string()).collect();
        let package = FieldPath::root().key("package");
        assert_eq!(
            name_hint(&package, "licence", &candidates).as_deref(),
            Some("did you mean `license`?")
        );
        assert_eq!(name_hint(&package, "authors", &candidates), None);
        let tables: Vec<String> = TABLES.iter().map(|s| s.to_string()).collect();
        assert_eq!(
            name_hint(&FieldPath::root(), "license", &tables).as_deref(),
            Some("`license` belongs in the `[package]` table")
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
