//! The manifest's validated scalar values: licence expressions, country codes, dates, SDG
//! numbers, URLs, relative paths, platform component names and compliance evidence.
//!
//! Each type can only be built through `FromStr` (or `TryFrom<i64>` for [`Sdg`]), and its
//! serde `Deserialize` goes through the same check, so a [`super::Manifest`] never holds a
//! value that was not validated, whether it came from TOML or JSON.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

use super::countries;
use super::limits::MAX_EVIDENCE_CHARS;
use crate::digest::truncate;

/// Why a scalar value was refused. Messages quote the input and say what is expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    #[error("{input:?} is not a valid SPDX expression: {reason}")]
    License { input: String, reason: String },
    #[error("{input:?} is not an ISO 3166-1 alpha-2 country code{advice}")]
    Country { input: String, advice: String },
    #[error("{input:?} is not a valid date: {reason}")]
    Date { input: String, reason: &'static str },
    #[error("{0} is not a UN Sustainable Development Goal: expected a number from 1 to 17")]
    Sdg(i64),
    #[error("{input:?} is not a valid URL: {reason}")]
    Url { input: String, reason: &'static str },
    #[error("{input:?} is not a valid relative path: {reason}")]
    Path { input: String, reason: &'static str },
    #[error("{input:?} is not a valid component name: {reason}")]
    Component { input: String, reason: String },
    #[error("{what} is longer than {max} bytes")]
    TooLong { what: &'static str, max: usize },
    #[error("evidence is {len} characters long; the limit is {MAX_EVIDENCE_CHARS}")]
    EvidenceTooLong { len: usize },
    #[error("evidence must not be empty")]
    EvidenceEmpty,
    #[error("evidence must not contain control characters other than newlines")]
    EvidenceControl,
    #[error("invalid version {input:?}: {reason}{advice}")]
    Version {
        input: String,
        reason: String,
        advice: &'static str,
    },
    #[error("invalid version requirement {input:?}: {reason}")]
    VersionReq { input: String, reason: String },
}

/// Implements `Display`, `AsRef<str>`, string `Serialize` and `FromStr`-backed
/// `Deserialize` for a type with an `as_str` method.
macro_rules! string_value {
    ($ty:ty, $expecting:literal) => {
        impl ::std::fmt::Display for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl ::serde::Serialize for $ty {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $ty {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl ::serde::de::Visitor<'_> for V {
                    type Value = $ty;
                    fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        f.write_str($expecting)
                    }
                    fn visit_str<E: ::serde::de::Error>(self, v: &str) -> Result<$ty, E> {
                        v.parse().map_err(E::custom)
                    }
                }
                d.deserialize_str(V)
            }
        }
    };
}

/// Rejects C0 and C1 control characters (newlines included).
fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

mod date;
mod license;
mod links;
pub(crate) mod semver_de;

pub use date::Date;
pub use license::License;
pub use links::{Evidence, RelativePath, Url};

/// An ISO 3166-1 alpha-2 country code, uppercase, such as `KE` or `EE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CountryCode([u8; 2]);

impl CountryCode {
    pub fn as_str(&self) -> &str {
        // Only built from two ASCII uppercase letters.
        std::str::from_utf8(&self.0).unwrap_or("??")
    }
}

impl FromStr for CountryCode {
    type Err = ValueError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let fail = |advice: String| ValueError::Country {
            input: truncate(s),
            advice,
        };
        let upper = s.to_ascii_uppercase();
        if s.len() != 2 || !s.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(fail(": expected two uppercase letters such as \"KE\"".to_owned()));
        }
        if !countries::is_assigned(&upper) {
            return Err(fail(": no country has this code".to_owned()));
        }
        if upper != s {
            return Err(fail(format!(": codes are uppercase, write {upper:?}")));
        }
        let b = s.as_bytes();
        Ok(Self([b[0], b[1]]))
    }
}

string_value!(CountryCode, "an ISO 3166-1 alpha-2 country code such as \"KE\"");

/// A UN Sustainable Development Goal, 1 to 17.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Sdg(u8);

impl Sdg {
    pub fn get(self) -> u8 {
        self.0
    }
}

impl TryFrom<i64> for Sdg {
    type Error = ValueError;

    fn try_from(n: i64) -> Result<Self, Self::Error> {
        match u8::try_from(n) {
            Ok(g @ 1..=17) => Ok(Self(g)),
            _ => Err(ValueError::Sdg(n)),
        }
    }
}

impl<'de> Deserialize<'de> for Sdg {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Sdg;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an SDG number from 1 to 17")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Sdg, E> {
                Sdg::try_from(v).map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Sdg, E> {
                Sdg::try_from(i64::try_from(v).unwrap_or(i64::MAX)).map_err(E::custom)
            }
        }
        d.deserialize_i64(V)
    }
}

impl fmt::Display for Sdg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The name of a platform component in `[requires.platform]`, such as `kubernetes`,
/// `postgresql` or `elasticsearch`: 1 to 64 lowercase letters, digits and single `-`,
/// starting with a letter.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ComponentName(String);

impl ComponentName {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for ComponentName {
    type Err = ValueError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Err(reason) = check_word(s, 64) {
            return Err(ValueError::Component {
                input: truncate(s),
                reason,
            });
        }
        Ok(Self(s.to_owned()))
    }
}

string_value!(ComponentName, "a component name such as \"postgresql\"");

/// The grammar shared by component names, keywords, sectors and capabilities:
/// lowercase letters, digits and single `-`, starting with a letter, not ending with `-`.
pub(crate) fn check_word(s: &str, max: usize) -> Result<(), String> {
    if s.is_empty() {
        return Err("it is empty".to_owned());
    }
    if s.len() > max {
        return Err(format!("longer than {max} characters"));
    }
    if !s
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err("use lowercase letters, digits and `-`".to_owned());
    }
    if !s.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err("it must start with a letter".to_owned());
    }
    if s.ends_with('-') || s.contains("--") {
        return Err("dashes must be single and not at the end".to_owned());
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn countries() {
        assert_eq!("KE".parse::<CountryCode>().map(|c| c.to_string()), Ok("KE".to_owned()));
        assert_eq!(
            "ke".parse::<CountryCode>().unwrap_err().to_string(),
            "\"ke\" is not an ISO 3166-1 alpha-2 country code: codes are uppercase, write \"KE\""
        );
        assert_eq!(
            "XX".parse::<CountryCode>().unwrap_err().to_string(),
            "\"XX\" is not an ISO 3166-1 alpha-2 country code: no country has this code"
        );
        assert!("KEN".parse::<CountryCode>().is_err());
        assert!("K1".parse::<CountryCode>().is_err());
        assert!("ÉE".parse::<CountryCode>().is_err());
    }

    #[test]
    fn sdgs() {
        assert_eq!(Sdg::try_from(1).map(Sdg::get), Ok(1));
        assert_eq!(Sdg::try_from(17).map(Sdg::get), Ok(17));
        for bad in [0, 18, -1, 256] {
            assert_eq!(Sdg::try_from(bad), Err(ValueError::Sdg(bad)));
        }
    }
}
