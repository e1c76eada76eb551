//! Manifest errors. Every error names the field it is about, as a path written the way
//! TOML would spell it (`requires.packages."x-road/security-server"`, `implements[0].how`),
//! and carries the line and column when the input was TOML.

use std::fmt;

use super::document::Failure;
use super::limits::MAX_MANIFEST_BYTES;

/// One step of a [`FieldPath`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Segment {
    /// A table key or struct field.
    Key(String),
    /// An array index, from 0.
    Index(usize),
}

/// Where in a manifest a value is: `package.keywords[3]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct FieldPath(Vec<Segment>);

impl FieldPath {
    /// The document root.
    pub fn root() -> Self {
        Self(Vec::new())
    }

    /// This path with a key appended.
    pub fn key(&self, key: impl Into<String>) -> Self {
        let mut p = self.clone();
        p.0.push(Segment::Key(key.into()));
        p
    }

    /// This path with an array index appended.
    pub fn index(&self, index: usize) -> Self {
        let mut p = self.clone();
        p.0.push(Segment::Index(index));
        p
    }

    pub fn segments(&self) -> &[Segment] {
        &self.0
    }

    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn pop(&mut self) -> Option<Segment> {
        self.0.pop()
    }
}

impl FromIterator<Segment> for FieldPath {
    fn from_iter<I: IntoIterator<Item = Segment>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

/// Whether `key` can be written bare in TOML.
fn is_bare_key(key: &str) -> bool {
    !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(top level)");
        }
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Segment::Key(k) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    if is_bare_key(k) {
                        f.write_str(k)?;
                    } else {
                        write!(f, "{k:?}")?;
                    }
                }
                Segment::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// A 1-based line and column (in characters) in the manifest text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Location {
    pub line: usize,
    pub column: usize,
}

impl Location {
    /// The location of byte `offset` in `text`.
    pub fn of_offset(text: &str, offset: usize) -> Self {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        Self { line, column }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

/// A problem with one field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field.
    pub path: FieldPath,
    /// What is wrong, without the path.
    pub message: String,
    /// Where the field is in the TOML text, when known.
    pub location: Option<Location>,
    /// A next step, such as the field name that was probably meant.
    pub hint: Option<String>,
}

impl FieldError {
    pub fn new(path: FieldPath, message: impl Into<String>) -> Self {
        Self {
            path,
            message: message.into(),
            location: None,
            hint: None,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

/// `path: message`, then ` (line L, column C)` when known. The hint is not included.
impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)?;
        if let Some(loc) = self.location {
            write!(f, " ({loc})")?;
        }
        Ok(())
    }
}

/// Why a manifest was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    /// The input is larger than [`MAX_MANIFEST_BYTES`].
    #[error("the manifest is {size} bytes; the limit is {MAX_MANIFEST_BYTES}")]
    TooLarge { size: usize },
    /// The input is not TOML (or not JSON, for canonical JSON).
    #[error("{}", syntax_message(.format, .message, .location))]
    Syntax {
        format: &'static str,
        message: String,
        location: Option<Location>,
    },
    /// One or more fields are wrong. Never empty.
    #[error("{}", join(.0))]
    Invalid(Vec<FieldError>),
    /// The JSON is a valid manifest but not in canonical form.
    #[error("the manifest JSON is valid but not canonical: expected the exact output of `canonical_json`")]
    NotCanonical,
}

impl ManifestError {
    /// The field errors, for [`ManifestError::Invalid`]; empty otherwise.
    pub fn field_errors(&self) -> &[FieldError] {
        match self {
            ManifestError::Invalid(errors) => errors,
            _ => &[],
        }
    }
}

impl From<Failure> for ManifestError {
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::TooLarge { size } => ManifestError::TooLarge { size },
            Failure::Syntax {
                format,
                message,
                location,
            } => ManifestError::Syntax {
                format,
                message,
                location,
            },
            Failure::Invalid(errors) => ManifestError::Invalid(errors),
        }
    }
}

/// `invalid TOML at line L, column C: message`.
pub(crate) fn syntax_message(format: &str, message: &str, location: &Option<Location>) -> String {
    match location {
        Some(loc) => format!("invalid {format} at {loc}: {message}"),
        None => format!("invalid {format}: {message}"),
    }
}

/// One error a line.
pub(crate) fn join(errors: &[FieldError]) -> String {
    errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_written_like_toml() {
        let p = FieldPath::root()
            .key("requires")
            .key("packages")
            .key("x-road/security-server");
        assert_eq!(p.to_string(), "requires.packages.\"x-road/security-server\"");
        let p = FieldPath::root()
            .key("implements")
            .index(0)
            .key("compliance")
            .key("interface");
        assert_eq!(p.to_string(), "implements[0].compliance.interface");
        assert_eq!(FieldPath::root().to_string(), "(top level)");
    }

    #[test]
    fn locations_count_lines_and_characters() {
        let text = "a = 1\nbé = \"x\"\n";
        assert_eq!(Location::of_offset(text, 0), Location { line: 1, column: 1 });
        assert_eq!(Location::of_offset(text, 6), Location { line: 2, column: 1 });
        // `=` after the two-byte `é`.
        assert_eq!(Location::of_offset(text, 10), Location { line: 2, column: 4 });
        assert_eq!(Location::of_offset(text, 1000), Location { line: 3, column: 1 });
    }
}
