//! Versioned wire formats: the rule every document govstore writes for another
//! govstore to read follows (the sparse index's documents, `govstore.lock`, the install
//! receipt).
//!
//! - Each document carries its format as a whole number, the **major** version: `1`
//!   today. It is named `format` in the index documents; the lockfile (`version`) and
//!   the receipt (`receipt_version`) keep the name they have carried from the start.
//! - Readers ignore fields they do not know, so adding a field needs no new format.
//!   A change that an older reader must not ignore (a field whose absence would change
//!   what it decides, a field removed or given another meaning) starts a new major.
//! - A missing format field means format 1: documents written before the field existed.
//! - A reader accepts the majors it understands (see [`WireFormat`]) and refuses a newer
//!   one with [`FormatError::Newer`], whose message and [`FormatError::hint`] tell the
//!   user to upgrade govstore. It checks the format before the rest of the document, so
//!   a newer document whose shape changed is refused for its format, not its shape.
//! - Readers also accept the string `"MAJOR.MINOR"` (`"1.3"`): the minor is shown but
//!   never refused, so writers may adopt minors later without breaking today's readers.
//!   Writers write the bare integer while the minor is 0.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// A document's format version: the major decides whether a reader may read it; the
/// minor (0 unless written as `"MAJOR.MINOR"`) is informative only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FormatVersion {
    pub major: u32,
    pub minor: u32,
}

impl FormatVersion {
    /// Format 1, the format of documents written before formats were versioned.
    pub const V1: FormatVersion = FormatVersion::new(1, 0);

    pub const fn new(major: u32, minor: u32) -> Self {
        Self { major, minor }
    }

    /// A major version alone (minor 0).
    pub const fn major(major: u32) -> Self {
        Self::new(major, 0)
    }
}

impl Default for FormatVersion {
    /// A missing format field means format 1.
    fn default() -> Self {
        Self::V1
    }
}

impl fmt::Display for FormatVersion {
    /// `1`, or `1.3` when there is a minor.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.minor == 0 {
            write!(f, "{}", self.major)
        } else {
            write!(f, "{}.{}", self.major, self.minor)
        }
    }
}

impl std::str::FromStr for FormatVersion {
    type Err = String;

    /// `"1"` or `"1.3"`: digits only.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let number = |part: &str| {
            if part.is_empty() || part.len() > 9 || !part.bytes().all(|b| b.is_ascii_digit()) {
                None
            } else {
                part.parse::<u32>().ok()
            }
        };
        let (major, minor) = match s.split_once('.') {
            Some((major, minor)) => (number(major), number(minor)),
            None => (number(s), Some(0)),
        };
        match (major, minor) {
            (Some(major), Some(minor)) => Ok(Self::new(major, minor)),
            _ => Err(format!(
                "{:?} is not a format version: expected a whole number such as 1, or \"MAJOR.MINOR\" such as \"1.2\"",
                crate::digest::truncate(s)
            )),
        }
    }
}

impl Serialize for FormatVersion {
    /// The integer while the minor is 0 (`1`), else the string `"1.3"`.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.minor == 0 {
            serializer.serialize_u32(self.major)
        } else {
            serializer.collect_str(self)
        }
    }
}

impl<'de> Deserialize<'de> for FormatVersion {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = FormatVersion;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a format version: a whole number such as 1, or \"MAJOR.MINOR\" such as \"1.2\"")
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<FormatVersion, E> {
                u32::try_from(v)
                    .map(FormatVersion::major)
                    .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<FormatVersion, E> {
                u64::try_from(v)
                    .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
                    .and_then(|v| self.visit_u64(v))
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<FormatVersion, E> {
                v.parse().map_err(E::custom)
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// One versioned document type: what it is called, the field that holds its format,
/// and the majors this govstore reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WireFormat {
    /// The document, as an error's subject: `the registry's index document`.
    pub document: &'static str,
    /// The field holding the format: `format`, `version`, `receipt_version`.
    pub field: &'static str,
    /// The format this govstore writes; also the newest major it reads.
    pub current: FormatVersion,
    /// The oldest major this govstore still reads.
    pub oldest: u32,
}

impl WireFormat {
    /// Whether a document in format `found` may be read.
    pub fn check(&self, found: FormatVersion) -> Result<(), FormatError> {
        if found.major > self.current.major {
            return Err(FormatError::Newer {
                subject: self.document.to_owned(),
                found,
                understood: self.current.major,
            });
        }
        if found.major < self.oldest {
            return Err(FormatError::Older {
                subject: self.document.to_owned(),
                found,
                oldest: self.oldest,
                understood: self.current.major,
            });
        }
        Ok(())
    }

    /// Checks the format of a JSON document before it is parsed as a whole: its
    /// top-level [`field`](Self::field), format 1 when missing. Text that is not a JSON
    /// object, or whose field is not a format version, passes: parsing the document
    /// reports what is wrong with it.
    pub fn check_json(&self, text: &str) -> Result<FormatVersion, FormatError> {
        let mut de = serde_json::Deserializer::from_str(text);
        self.checked(Peek { field: self.field }.deserialize(&mut de).ok())
    }

    /// [`check_json`](Self::check_json) for a TOML document.
    pub fn check_toml(&self, text: &str) -> Result<FormatVersion, FormatError> {
        let found = toml::Deserializer::parse(text)
            .ok()
            .and_then(|de| Peek { field: self.field }.deserialize(de).ok());
        self.checked(found)
    }

    /// `peeked` is `None` when the document could not be read, `Some(None)` when it has
    /// no format field.
    fn checked(&self, peeked: Option<Option<FormatVersion>>) -> Result<FormatVersion, FormatError> {
        match peeked {
            Some(found) => {
                let found = found.unwrap_or_default();
                self.check(found).map(|()| found)
            }
            None => Ok(self.current),
        }
    }
}

/// Why a document's format cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    /// Written by a newer govstore.
    #[error("{subject} uses format {found}; this govstore understands format {understood}")]
    Newer {
        subject: String,
        found: FormatVersion,
        understood: u32,
    },
    /// A format older than any this govstore reads (or 0, which never existed).
    #[error(
        "{subject} uses format {found}, which this govstore no longer reads; it understands {}",
        formats(*.oldest, *.understood)
    )]
    Older {
        subject: String,
        found: FormatVersion,
        oldest: u32,
        understood: u32,
    },
}

impl FormatError {
    /// The same error about a more precise subject (`the lockfile `x/govstore.lock``).
    pub fn with_subject(mut self, new: impl Into<String>) -> Self {
        match &mut self {
            FormatError::Newer { subject, .. } | FormatError::Older { subject, .. } => *subject = new.into(),
        }
        self
    }

    /// The format the document says it is in.
    pub fn found(&self) -> FormatVersion {
        match self {
            FormatError::Newer { found, .. } | FormatError::Older { found, .. } => *found,
        }
    }

    /// The next step for the user.
    pub fn hint(&self) -> String {
        match self {
            FormatError::Newer { found, .. } => {
                format!("upgrade govstore to a release that understands format {}", found.major)
            }
            FormatError::Older { .. } => "write it again with this govstore".to_owned(),
        }
    }
}

/// `format 1`, `formats 1 to 3`.
fn formats(oldest: u32, newest: u32) -> String {
    if oldest >= newest {
        format!("format {newest}")
    } else {
        format!("formats {oldest} to {newest}")
    }
}

/// Reads one top-level field of a map as a [`FormatVersion`], skipping every other
/// value without building it. `Ok(None)` when the field is absent.
struct Peek<'a> {
    field: &'a str,
}

impl<'de> DeserializeSeed<'de> for Peek<'_> {
    type Value = Option<FormatVersion>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Peek<'_> {
    type Value = Option<FormatVersion>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a document")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut found = None;
        while let Some(key) = map.next_key::<String>()? {
            if key == self.field && found.is_none() {
                found = Some(map.next_value::<FormatVersion>()?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const DOC: WireFormat = WireFormat {
        document: "the test document",
        field: "format",
        current: FormatVersion::V1,
        oldest: 1,
    };

    #[test]
    fn reads_integers_and_major_minor_strings() {
        let read = |s: &str| serde_json::from_str::<FormatVersion>(s);
        assert_eq!(read("1").unwrap(), FormatVersion::V1);
        assert_eq!(read("\"1\"").unwrap(), FormatVersion::V1);
        assert_eq!(read("\"1.3\"").unwrap(), FormatVersion::new(1, 3));
        assert_eq!(read("\"12.0\"").unwrap(), FormatVersion::major(12));
        for bad in [
            "-1",
            "1.5",
            "\"\"",
            "\"1.\"",
            "\".1\"",
            "\"v1\"",
            "\"1.2.3\"",
            "\"+1\"",
            "4294967296",
            "null",
        ] {
            assert!(read(bad).is_err(), "{bad}");
        }
        assert_eq!(
            toml::from_str::<toml::Table>("v = 1").unwrap()["v"]
                .clone()
                .try_into::<FormatVersion>()
                .unwrap(),
            FormatVersion::V1
        );
    }

    #[test]
    fn writes_the_integer_while_the_minor_is_zero() {
        assert_eq!(serde_json::to_string(&FormatVersion::V1).unwrap(), "1");
        assert_eq!(serde_json::to_string(&FormatVersion::new(1, 3)).unwrap(), "\"1.3\"");
        assert_eq!(FormatVersion::new(2, 1).to_string(), "2.1");
        assert_eq!(FormatVersion::default(), FormatVersion::V1);
    }

    #[test]
    fn accepts_the_same_major_and_refuses_a_newer_one() {
        assert_eq!(
            DOC.check_json(r#"{"a":[{"format":9}],"format":1}"#),
            Ok(FormatVersion::V1)
        );
        assert_eq!(
            DOC.check_json(r#"{"format":"1.7","b":{}}"#),
            Ok(FormatVersion::new(1, 7))
        );
        // Missing: format 1.
        assert_eq!(DOC.check_json(r#"{"b":null}"#), Ok(FormatVersion::V1));
        assert_eq!(DOC.check_toml("a = 1\n[t]\nformat = 5\n"), Ok(FormatVersion::V1));
        let err = DOC.check_json(r#"{"x":{"y":[1,2]},"format":2}"#).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the test document uses format 2; this govstore understands format 1"
        );
        assert!(err.hint().starts_with("upgrade govstore"), "{}", err.hint());
        assert_eq!(err.found(), FormatVersion::major(2));
        let err = DOC.check_toml("format = \"3.1\"\n[[x]]\ny = 1\n").unwrap_err();
        assert_eq!(
            err.with_subject("`a.lock`").to_string(),
            "`a.lock` uses format 3.1; this govstore understands format 1"
        );
        let err = DOC.check_json(r#"{"format":0}"#).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the test document uses format 0, which this govstore no longer reads; it understands format 1"
        );
        assert_eq!(err.hint(), "write it again with this govstore");
    }

    /// What cannot be peeked is left to the document's own parser.
    #[test]
    fn unreadable_documents_pass_to_the_parser() {
        for text in ["", "[1]", "{", r#"{"format":"two"}"#, "not json"] {
            assert_eq!(DOC.check_json(text), Ok(FormatVersion::V1), "{text}");
        }
        assert_eq!(DOC.check_toml("= broken"), Ok(FormatVersion::V1));
    }
}
