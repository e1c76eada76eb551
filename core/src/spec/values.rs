//! The spec file's validated scalar values: requirement ids and release dates.
//!
//! As in [`crate::manifest::values`], each type can only be built through `FromStr`, and
//! its serde `Deserialize` goes through the same check.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use super::limits::MAX_REQUIREMENT_ID_LEN;
use crate::digest::truncate;
use crate::manifest::values::check_word;
use crate::manifest::{Date, ValueError};

/// Why a spec value was refused. Messages quote the input and say what is expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecValueError {
    #[error(
        "{input:?} is not a valid requirement id: {reason}; expected `<scope>#<name>` such as \"govstack-cfr-security#req-1\""
    )]
    RequirementId { input: String, reason: String },
    #[error(
        "{input:?} is not a valid release date: {reason}; write YYYY-MM-DD, or YYYY-MM when only the month is known"
    )]
    ReleaseDate { input: String, reason: &'static str },
}

/// The id of a requirement in a spec, `<scope>#<name>`: `govstack-cfr-security#req-1`
/// for GovStack's cross-functional requirements, `identity#req-1` for a building-block
/// spec's own. Both parts are lowercase letters, digits and single `-`, starting with a
/// letter; at most [`MAX_REQUIREMENT_ID_LEN`] bytes in all.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequirementId {
    full: String,
    hash: usize,
}

impl RequirementId {
    /// The whole id.
    pub fn as_str(&self) -> &str {
        &self.full
    }

    /// The part before `#`: the spec or requirement category it belongs to.
    pub fn scope(&self) -> &str {
        &self.full[..self.hash]
    }

    /// The part after `#`.
    pub fn name(&self) -> &str {
        &self.full[self.hash + 1..]
    }
}

impl FromStr for RequirementId {
    type Err = SpecValueError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let fail = |reason: String| SpecValueError::RequirementId {
            input: truncate(s),
            reason,
        };
        if s.len() > MAX_REQUIREMENT_ID_LEN {
            return Err(fail(format!("longer than {MAX_REQUIREMENT_ID_LEN} bytes")));
        }
        let mut parts = s.split('#');
        let (Some(scope), Some(name), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(fail("it must contain exactly one `#`".to_owned()));
        };
        check_word(scope, MAX_REQUIREMENT_ID_LEN).map_err(|reason| fail(format!("the part before `#`: {reason}")))?;
        check_word(name, MAX_REQUIREMENT_ID_LEN).map_err(|reason| fail(format!("the part after `#`: {reason}")))?;
        Ok(Self {
            full: s.to_owned(),
            hash: scope.len(),
        })
    }
}

impl fmt::Display for RequirementId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.full)
    }
}

impl Serialize for RequirementId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.full)
    }
}

impl<'de> Deserialize<'de> for RequirementId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = RequirementId;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a requirement id such as \"govstack-cfr-security#req-1\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RequirementId, E> {
                v.parse().map_err(E::custom)
            }
        }
        d.deserialize_str(V)
    }
}

/// When a spec version was released: a day, or only a month when that is all the
/// source says (GovStack often announces releases by month, `2025-09`).
///
/// In TOML, a day may be a string or a bare date (`released = 2025-09-15`); a month is
/// always a string (`released = "2025-09"`). Ordered by time, a month before the days in
/// it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReleaseDate {
    /// Only the month is known.
    Month { year: u16, month: u8 },
    /// The day is known.
    Day(Date),
}

impl ReleaseDate {
    pub fn year(&self) -> u16 {
        match self {
            ReleaseDate::Month { year, .. } => *year,
            ReleaseDate::Day(d) => d.year(),
        }
    }

    pub fn month(&self) -> u8 {
        match self {
            ReleaseDate::Month { month, .. } => *month,
            ReleaseDate::Day(d) => d.month(),
        }
    }

    /// The day of the month, when known.
    pub fn day(&self) -> Option<u8> {
        match self {
            ReleaseDate::Month { .. } => None,
            ReleaseDate::Day(d) => Some(d.day()),
        }
    }

    fn key(&self) -> (u16, u8, u8) {
        (self.year(), self.month(), self.day().unwrap_or(0))
    }
}

impl Ord for ReleaseDate {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key().cmp(&other.key())
    }
}

impl PartialOrd for ReleaseDate {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The reason in a [`ValueError::Date`], worded for a date or a month.
fn date_reason(e: ValueError) -> &'static str {
    match e {
        ValueError::Date { reason, .. } if reason != "expected YYYY-MM-DD" => reason,
        _ => "it is neither a date nor a month",
    }
}

impl FromStr for ReleaseDate {
    type Err = SpecValueError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let fail = |reason| SpecValueError::ReleaseDate {
            input: truncate(s),
            reason,
        };
        let b = s.as_bytes();
        let month_shape =
            b.len() == 7 && b[4] == b'-' && b.iter().enumerate().all(|(i, c)| i == 4 || c.is_ascii_digit());
        if month_shape {
            // The first of the month checks the year and the month by Date's rules.
            let first: Date = format!("{s}-01").parse().map_err(|e| fail(date_reason(e)))?;
            return Ok(ReleaseDate::Month {
                year: first.year(),
                month: first.month(),
            });
        }
        s.parse::<Date>()
            .map(ReleaseDate::Day)
            .map_err(|e| fail(date_reason(e)))
    }
}

impl fmt::Display for ReleaseDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReleaseDate::Month { year, month } => write!(f, "{year:04}-{month:02}"),
            ReleaseDate::Day(d) => d.fmt(f),
        }
    }
}

impl Serialize for ReleaseDate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ReleaseDate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ReleaseDate;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a date YYYY-MM-DD, or a month YYYY-MM")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ReleaseDate, E> {
                v.parse().map_err(E::custom)
            }
            // A TOML bare date arrives as a one-entry map; `Date` reads it.
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<ReleaseDate, A::Error> {
                Date::deserialize(de::value::MapAccessDeserializer::new(map)).map(ReleaseDate::Day)
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn requirement_ids() {
        for ok in [
            "govstack-cfr-security#req-1",
            "identity#req-12",
            "deployment#req-4",
            "a#b",
        ] {
            let id: RequirementId = ok.parse().unwrap_or_else(|e| panic!("{ok}: {e}"));
            assert_eq!(id.to_string(), ok);
        }
        let id: RequirementId = "govstack-cfr-security#req-16".parse().unwrap();
        assert_eq!((id.scope(), id.name()), ("govstack-cfr-security", "req-16"));
        for bad in [
            "",
            "req-1",
            "a#b#c",
            "#req-1",
            "security#",
            "Security#req-1",
            "security#REQ-1",
            "security #req-1",
            "1security#req-1",
            "security#req--1",
            "security#1",
        ] {
            assert!(bad.parse::<RequirementId>().is_err(), "{bad:?} should be refused");
        }
        let long = format!("a#{}", "b".repeat(MAX_REQUIREMENT_ID_LEN));
        assert!(long.parse::<RequirementId>().is_err());
        assert_eq!(
            "security#1".parse::<RequirementId>().unwrap_err().to_string(),
            "\"security#1\" is not a valid requirement id: the part after `#`: it must start with a letter; \
             expected `<scope>#<name>` such as \"govstack-cfr-security#req-1\""
        );
    }

    #[test]
    fn release_dates() {
        for ok in ["2025-09", "2025-09-15", "2024-02-29", "1900-01"] {
            let d: ReleaseDate = ok.parse().unwrap_or_else(|e| panic!("{ok}: {e}"));
            assert_eq!(d.to_string(), ok);
        }
        let month: ReleaseDate = "2025-09".parse().unwrap();
        assert_eq!((month.year(), month.month(), month.day()), (2025, 9, None));
        for bad in [
            "2025-13",
            "2025-00",
            "2025-9",
            "2025",
            "2025-02-30",
            "1899-12",
            "23Q4",
            "",
        ] {
            assert!(bad.parse::<ReleaseDate>().is_err(), "{bad:?} should be refused");
        }
        assert_eq!(
            "2025-13".parse::<ReleaseDate>().unwrap_err().to_string(),
            "\"2025-13\" is not a valid release date: no such month; write YYYY-MM-DD, or YYYY-MM when only the month is known"
        );
        let order: Vec<ReleaseDate> = ["2025-08-31", "2025-09", "2025-09-01", "2025-10"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
    }

    #[test]
    fn release_dates_from_toml_and_json() {
        #[derive(Deserialize)]
        struct T {
            d: ReleaseDate,
        }
        let t: T = toml::from_str("d = 2025-09-15").unwrap();
        assert_eq!(t.d.to_string(), "2025-09-15");
        let t: T = toml::from_str("d = \"2025-09\"").unwrap();
        assert_eq!(t.d.to_string(), "2025-09");
        assert!(toml::from_str::<T>("d = 2025-09-15T10:00:00Z").is_err());
        let t: T = serde_json::from_str(r#"{"d":"2022-05"}"#).unwrap();
        assert_eq!(serde_json::to_string(&t.d).unwrap(), "\"2022-05\"");
    }
}
