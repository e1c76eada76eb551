//! Calendar dates (`end_of_life`, test-harness runs).

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use super::ValueError;
use crate::digest::truncate;

/// A calendar date, `YYYY-MM-DD`. In TOML it may be written as a string or as a bare
/// local date (`end_of_life = 2027-12-31`); in JSON it is always a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Date {
    year: u16,
    month: u8,
    day: u8,
}

impl Date {
    pub fn year(&self) -> u16 {
        self.year
    }
    pub fn month(&self) -> u8 {
        self.month
    }
    pub fn day(&self) -> u8 {
        self.day
    }
}

fn days_in_month(year: u16, month: u8) -> u8 {
    let leap = (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

impl FromStr for Date {
    type Err = ValueError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let fail = |reason| ValueError::Date {
            input: truncate(s),
            reason,
        };
        let b = s.as_bytes();
        let shape_ok = b.len() == 10
            && b[4] == b'-'
            && b[7] == b'-'
            && b.iter()
                .enumerate()
                .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
        if !shape_ok {
            return Err(fail("expected YYYY-MM-DD"));
        }
        let num = |r: std::ops::Range<usize>| s[r].parse::<u16>().map_err(|_| fail("expected YYYY-MM-DD"));
        let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
        if year < 1900 {
            return Err(fail("the year must be 1900 or later"));
        }
        let month = u8::try_from(month)
            .ok()
            .filter(|m| (1..=12).contains(m))
            .ok_or_else(|| fail("no such month"))?;
        let day = u8::try_from(day)
            .ok()
            .filter(|d| (1..=days_in_month(year, month)).contains(d))
            .ok_or_else(|| fail("no such day in that month"))?;
        Ok(Self { year, month, day })
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Date;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a date YYYY-MM-DD")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Date, E> {
                v.parse().map_err(E::custom)
            }
            // TOML's bare dates and datetimes arrive as a one-entry map.
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Date, A::Error> {
                let dt = toml::value::Datetime::deserialize(de::value::MapAccessDeserializer::new(map))?;
                match (dt.date, dt.time, dt.offset) {
                    (Some(date), None, None) => date.to_string().parse().map_err(de::Error::custom),
                    _ => Err(de::Error::custom(format!(
                        "{:?} is not a valid date: expected a date without a time, YYYY-MM-DD",
                        dt.to_string()
                    ))),
                }
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
    fn dates() {
        for ok in ["2027-12-31", "2028-02-29", "2000-02-29", "1900-01-01"] {
            assert_eq!(ok.parse::<Date>().map(|d| d.to_string()), Ok(ok.to_owned()));
        }
        for bad in [
            "2027-02-29",
            "1900-02-29",
            "2027-13-01",
            "2027-00-10",
            "2027-04-31",
            "2027-1-1",
            "27-01-01",
            "2027/01/01",
            "+027-01-01",
            "1899-12-31",
            "",
        ] {
            assert!(bad.parse::<Date>().is_err(), "{bad:?} should be refused");
        }
        assert!("2027-06-01".parse::<Date>().unwrap() < "2027-06-02".parse::<Date>().unwrap());
    }
}
