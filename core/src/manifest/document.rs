//! Parsing a strict serde document from TOML or JSON, with errors that name the field.
//!
//! Shared by every document govstore reads from publishers (`govstore.toml` manifests,
//! spec files): deserialization runs under `serde_path_to_error`, so its first error
//! names the field; then the document's own rules run and report every problem they find.
//! For TOML, each error gets the line and column of the field, taken from the toml
//! parser's spans. What differs between documents (size limit, rules, hints) is in
//! [`Rules`].

use std::ops::Range;

use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::error::{FieldError, FieldPath, Location, Segment};

/// Why a document was refused, before the document's own error type wraps it.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Larger than [`Rules::max_bytes`].
    TooLarge { size: usize },
    /// Not TOML (or not JSON).
    Syntax {
        format: &'static str,
        message: String,
        location: Option<Location>,
    },
    /// One or more fields are wrong. Never empty.
    Invalid(Vec<FieldError>),
}

/// What one kind of document adds to the shared parsing.
#[derive(Debug)]
pub(crate) struct Rules<T> {
    /// The largest input accepted, in bytes.
    pub(crate) max_bytes: usize,
    /// The rules checked after deserialization; every problem, in the document's order.
    pub(crate) validate: fn(&T) -> Vec<FieldError>,
    /// A hint for an unknown field or variant `given` at `path`, such as a field that
    /// belongs in another table. When it gives none, the expected name closest to
    /// `given`, if any, is suggested.
    pub(crate) unknown_hint: fn(&FieldPath, &str) -> Option<String>,
    /// A hint for another deserialization error, from its path and message.
    pub(crate) other_hint: fn(&FieldPath, &str) -> Option<String>,
}

/// Parses and validates a TOML document.
pub(crate) fn from_toml<T: DeserializeOwned>(text: &str, rules: &Rules<T>) -> Result<T, Failure> {
    if text.len() > rules.max_bytes {
        return Err(Failure::TooLarge { size: text.len() });
    }
    let de = toml::Deserializer::parse(text).map_err(|e| Failure::Syntax {
        format: "TOML",
        message: e.message().to_owned(),
        location: e.span().map(|s| Location::of_offset(text, s.start)),
    })?;
    let value: T = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = convert_path(e.path());
        let inner = e.into_inner();
        let location = inner.span().map(|s| Location::of_offset(text, s.start));
        Failure::Invalid(vec![field_error(path, inner.message(), location, rules)])
    })?;
    let mut errors = (rules.validate)(&value);
    if errors.is_empty() {
        return Ok(value);
    }
    locate(text, &mut errors);
    Err(Failure::Invalid(errors))
}

/// Parses and validates a JSON document. Whether it is canonical is for the caller.
pub(crate) fn from_json<T: DeserializeOwned>(text: &str, rules: &Rules<T>) -> Result<T, Failure> {
    if text.len() > rules.max_bytes {
        return Err(Failure::TooLarge { size: text.len() });
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = convert_path(e.path());
        json_error(path, e.into_inner(), rules)
    })?;
    de.end().map_err(|e| json_error(FieldPath::root(), e, rules))?;
    let errors = (rules.validate)(&value);
    if !errors.is_empty() {
        return Err(Failure::Invalid(errors));
    }
    Ok(value)
}

/// Sets each error's location from the TOML `text` it is about (the deepest value along
/// its path that the text has), then sorts the errors in document order. The sort is
/// stable, so errors on one field keep their order. Leaves the errors unchanged if
/// `text` is not TOML.
pub(crate) fn locate(text: &str, errors: &mut [FieldError]) {
    let Ok(root) = DeTable::parse(text) else {
        return;
    };
    for error in errors.iter_mut() {
        error.location = span_of(&root, &error.path).map(|s| Location::of_offset(text, s.start));
    }
    errors.sort_by_key(|e| e.location.map_or((usize::MAX, 0), |l| (l.line, l.column)));
}

fn json_error<T>(path: FieldPath, e: serde_json::Error, rules: &Rules<T>) -> Failure {
    let location = (e.line() > 0).then(|| Location {
        line: e.line(),
        column: e.column(),
    });
    let full = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    let message = full.strip_suffix(&suffix).unwrap_or(&full);
    if e.is_data() {
        Failure::Invalid(vec![field_error(path, message, location, rules)])
    } else {
        Failure::Syntax {
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
fn field_error<T>(mut path: FieldPath, message: &str, location: Option<Location>, rules: &Rules<T>) -> FieldError {
    let unknown = unknown_name(message);
    let names_unknown_field = message.starts_with("unknown field")
        && matches!(
            (&unknown, path.segments().last()),
            (Some((given, _)), Some(Segment::Key(last))) if last == given
        );
    if names_unknown_field {
        path.pop();
    }
    let mut error = FieldError::new(path.clone(), message);
    error.location = location;
    error.hint = match unknown {
        Some((given, candidates)) => (rules.unknown_hint)(&path, &given)
            .or_else(|| closest(&given, &candidates).map(|name| format!("did you mean `{name}`?"))),
        None => (rules.other_hint)(&path, message),
    };
    error
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

/// The candidate closest to `given`, ignoring case, if it is within a third of `given`'s
/// length (at least 1) in edits.
pub(crate) fn closest<'a, S: AsRef<str>>(given: &str, candidates: &'a [S]) -> Option<&'a str> {
    let given_lower = given.to_lowercase();
    candidates
        .iter()
        .map(|c| {
            let c = c.as_ref();
            (edit_distance(&given_lower, &c.to_lowercase()), c)
        })
        .filter(|(d, _)| *d <= (given.chars().count() / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Edit distance by characters, counting insertions, deletions, substitutions and
/// transpositions of two adjacent characters (`titel` is one edit from `title`).
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // Rows i-1 and i-2 of the distance table, and the row being built.
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let substitute = prev[j - 1] + usize::from(a[i - 1] != b[j - 1]);
            let mut best = substitute.min(prev[j] + 1).min(cur[j - 1] + 1);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(before[j - 2] + 1);
            }
            cur[j] = best;
        }
        before = std::mem::replace(&mut prev, cur);
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
        assert_eq!(edit_distance("titel", "title"), 1);
        assert_eq!(edit_distance("ab", "ba"), 1);
        assert_eq!(edit_distance("abc", ""), 3);
        assert_eq!(edit_distance("identiy", "identity"), 1);
    }

    #[test]
    fn closest_names() {
        let names = ["license", "homepage", "version"];
        assert_eq!(closest("licence", &names), Some("license"));
        assert_eq!(closest("Version", &names), Some("version"));
        assert_eq!(closest("authors", &names), None);
        // One edit is always allowed, even for short names.
        assert_eq!(closest("a", &["b"]), Some("b"));
    }

    #[test]
    fn locate_sorts_in_document_order() {
        let text = "a = 1\n[t]\nb = [1, 2]\n";
        let mut errors = vec![
            FieldError::new(FieldPath::root().key("t").key("b").index(1), "second"),
            FieldError::new(FieldPath::root().key("missing"), "nowhere"),
            FieldError::new(FieldPath::root().key("a"), "first"),
        ];
        locate(text, &mut errors);
        let order: Vec<(&str, Option<Location>)> = errors.iter().map(|e| (e.message.as_str(), e.location)).collect();
        assert_eq!(
            order,
            [
                ("first", Some(Location { line: 1, column: 5 })),
                ("second", Some(Location { line: 3, column: 9 })),
                ("nowhere", None),
            ]
        );
    }
}
