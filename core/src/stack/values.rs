//! The stack profile's validated scalar values: platform component versions, licence
//! identifiers and publisher namespaces.
//!
//! Like the manifest's values, each can only be built through `FromStr`, and serde goes
//! through the same check, so a [`super::Stack`] never holds an unchecked value.

use std::fmt;
use std::str::FromStr;

use semver::Version;
use serde::{Deserialize, Serialize};

use crate::digest::truncate;
use crate::package::check_namespace;

/// Why a stack value was refused. Messages quote the input and say what is expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StackValueError {
    #[error("invalid platform version {input:?}: {reason}")]
    PlatformVersion { input: String, reason: String },
    #[error("{input:?} is not an SPDX licence identifier: {reason}")]
    Licence { input: String, reason: String },
    #[error("invalid publisher namespace: {0}")]
    Namespace(String),
}

/// Implements `Display`, `AsRef<str>` and string serde (through `FromStr`) for a type
/// with an `as_str` method.
macro_rules! text_value {
    ($ty:ty) => {
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

/// The version of a platform component the stack runs, such as `1.29.4` for
/// Kubernetes or `16.2` for PostgreSQL.
///
/// Platform products rarely use full SemVer, so one to three numeric parts are accepted
/// (`16`, `16.2`, `16.2.1`), optionally followed by a SemVer pre-release or build part
/// (`1.29.4-eks.1`). Missing parts count as zero when compared with a requirement:
/// `16.2` is `16.2.0`. The text is kept as written, for messages and the canonical form.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PlatformVersion {
    text: String,
    version: Version,
}

impl PlatformVersion {
    /// The version as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The version as SemVer, missing parts filled with zeros.
    pub fn version(&self) -> &Version {
        &self.version
    }
}

impl FromStr for PlatformVersion {
    type Err = StackValueError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let fail = |reason: &str| StackValueError::PlatformVersion {
            input: truncate(s),
            reason: reason.to_owned(),
        };
        if s.len() > 64 {
            return Err(fail("longer than 64 characters"));
        }
        let split = s.find(['-', '+']).unwrap_or(s.len());
        let (numbers, rest) = s.split_at(split);
        let parts: Vec<&str> = numbers.split('.').collect();
        if parts.len() > 3 {
            return Err(fail("expected at most three numeric parts, e.g. \"1.29.4\""));
        }
        for part in &parts {
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(fail("expected numbers separated by dots, e.g. \"16.2\""));
            }
            if part.len() > 1 && part.starts_with('0') {
                return Err(fail("numbers must not have leading zeros"));
            }
        }
        let mut full: Vec<&str> = parts.clone();
        full.resize(3, "0");
        let text = format!("{}{rest}", full.join("."));
        let version = Version::parse(&text).map_err(|e| fail(&e.to_string()))?;
        Ok(Self {
            text: s.to_owned(),
            version,
        })
    }
}

text_value!(PlatformVersion);

/// One licence in a licence policy: an SPDX licence identifier from the SPDX list
/// (`MIT`, `AGPL-3.0-only`), or `LicenseRef-<name>` for a licence that is not on the
/// list. Deprecated identifiers are refused, as in manifests.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LicenceName(String);

impl LicenceName {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is a `LicenseRef-` name rather than an SPDX list identifier.
    pub fn is_reference(&self) -> bool {
        self.0.starts_with("LicenseRef-")
    }
}

impl FromStr for LicenceName {
    type Err = StackValueError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let fail = |reason: String| StackValueError::Licence {
            input: truncate(s),
            reason,
        };
        if let Some(name) = s.strip_prefix("LicenseRef-") {
            let ok = !name.is_empty()
                && name.len() <= 128
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
            if !ok {
                return Err(fail("after `LicenseRef-`, use letters, digits, `-` and `.`".to_owned()));
            }
            return Ok(Self(s.to_owned()));
        }
        if s.ends_with('+') {
            return Err(fail(
                "write one identifier without `+`, such as `GPL-3.0-or-later`".to_owned(),
            ));
        }
        match spdx::license_id(s) {
            Some(id) if id.is_deprecated() => Err(fail(format!(
                "`{s}` is deprecated on the SPDX list; use its replacement, such as `{s}-only` or `{s}-or-later`"
            ))),
            Some(_) => Ok(Self(s.to_owned())),
            None => {
                let same_but_case = spdx::identifiers::LICENSES
                    .iter()
                    .find(|l| l.name.eq_ignore_ascii_case(s));
                Err(fail(match same_but_case {
                    Some(l) => format!("identifiers are case-sensitive, write `{}`", l.name),
                    None => "not on the SPDX list (https://spdx.org/licenses/); use \
                             `LicenseRef-<name>` for other licences"
                        .to_owned(),
                }))
            }
        }
    }
}

text_value!(LicenceName);

/// A publisher namespace (the part before `/` in `mosip/esignet`), as in
/// `policy.trusted_publishers`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Namespace(String);

impl Namespace {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Namespace {
    type Err = StackValueError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        check_namespace(s, "namespace").map_err(|e| StackValueError::Namespace(e.to_string()))?;
        Ok(Self(s.to_owned()))
    }
}

text_value!(Namespace);

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn platform_versions() {
        let v: PlatformVersion = "16.2".parse().unwrap();
        assert_eq!(v.as_str(), "16.2");
        assert_eq!(v.version(), &Version::new(16, 2, 0));
        let v: PlatformVersion = "1.29.4-eks.1".parse().unwrap();
        assert_eq!(v.version().to_string(), "1.29.4-eks.1");
        assert_eq!(
            "17".parse::<PlatformVersion>().unwrap().version(),
            &Version::new(17, 0, 0)
        );
        for bad in ["", "1.2.3.4", "v1.2", "1..2", "01.2", "1.2-", "latest"] {
            assert!(bad.parse::<PlatformVersion>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn licence_names() {
        for ok in ["MIT", "AGPL-3.0-only", "LicenseRef-Camunda-License"] {
            assert_eq!(ok.parse::<LicenceName>().unwrap().as_str(), ok);
        }
        let err = "GPL-3.0".parse::<LicenceName>().unwrap_err().to_string();
        assert!(err.contains("deprecated"), "{err}");
        let err = "mit".parse::<LicenceName>().unwrap_err().to_string();
        assert!(err.contains("write `MIT`"), "{err}");
        assert!("Apache 2".parse::<LicenceName>().is_err());
        assert!("LicenseRef-".parse::<LicenceName>().is_err());
        assert!("MIT OR Apache-2.0".parse::<LicenceName>().is_err());
    }

    #[test]
    fn namespaces() {
        assert!("mosip".parse::<Namespace>().is_ok());
        assert!("Mosip".parse::<Namespace>().is_err());
        assert!("mosip/esignet".parse::<Namespace>().is_err());
    }
}
