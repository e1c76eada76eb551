//! The spec file's data model.
//!
//! Every struct denies unknown fields; optional values are skipped when absent and empty
//! lists when empty, so serializing a model is deterministic. Values are validated types;
//! limits and rules across fields are checked afterwards by [`super::validate`].

use std::fmt;

use semver::Version;
use serde::{Deserialize, Serialize};

use super::values::{ReleaseDate, RequirementId};
use crate::manifest::Url;
use crate::manifest::values::semver_de;
use crate::package::SpecId;

/// A building-block specification and its versions. See the [module documentation](super)
/// for the file format.
///
/// Build one with [`Spec::from_toml_str`] or [`Spec::from_canonical_json`].
/// Deserializing it directly with serde checks every value's grammar but not the limits
/// and rules across fields; call [`Spec::validate`] afterwards if you do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// `namespace/name`, such as `govstack/identity`.
    pub id: SpecId,
    /// The name people use, such as `Identity`.
    pub title: String,
    /// A one-paragraph summary.
    pub description: String,
    /// Where the specification is published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub homepage: Option<Url>,
    /// The versions, oldest first.
    pub versions: Vec<SpecVersion>,
}

/// One `[[versions]]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpecVersion {
    /// Full SemVer without build metadata: GovStack's `1.0` is `1.0.0` here.
    #[serde(deserialize_with = "semver_de::version")]
    pub version: Version,
    /// When it was released, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub released: Option<ReleaseDate>,
    pub status: Status,
    /// The OpenAPI files that define the version's service APIs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub openapi: Vec<OpenApiFile>,
    /// Requirements the version states, each with its level.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requirements: Vec<Requirement>,
}

/// Where a spec version stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Published as a release.
    Released,
    /// Published for review or in development; it may still change.
    Draft,
    /// Replaced; implementations should move to a later version.
    Deprecated,
}

/// An OpenAPI file of a spec version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenApiFile {
    /// What the API is for, such as `Identity Provider`.
    pub name: String,
    /// Where the file is.
    pub url: Url,
}

/// A requirement a spec version states.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    /// Such as `govstack-cfr-security#req-1`.
    pub id: RequirementId,
    pub level: RequirementLevel,
    /// A short statement of the requirement; the spec holds the full text.
    pub text: String,
}

/// How binding a requirement is, written as GovStack writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RequirementLevel {
    /// Must be met: GovStack lists a product only if it meets all of them.
    Required,
    /// Should be met: the share met is shown to buyers.
    Recommended,
    /// May be met.
    Optional,
}

/// `as_str` (the name written in spec files) and `Display` for the unit enums.
macro_rules! names {
    ($ty:ident { $($variant:ident => $name:literal),* $(,)? }) => {
        impl $ty {
            /// The name written in spec files.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $name),*
                }
            }

            /// Every variant, in order.
            pub const ALL: &[$ty] = &[$($ty::$variant),*];
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

names!(Status { Released => "released", Draft => "draft", Deprecated => "deprecated" });
names!(RequirementLevel {
    Required => "REQUIRED",
    Recommended => "RECOMMENDED",
    Optional => "OPTIONAL",
});

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// `as_str` is the name serde reads and writes.
    #[test]
    fn names_match_serde() {
        fn check<T: Serialize + for<'de> Deserialize<'de> + fmt::Display + PartialEq + fmt::Debug>(all: &[T]) {
            for v in all {
                let json = format!("\"{v}\"");
                assert_eq!(serde_json::to_string(v).unwrap(), json);
                assert_eq!(&serde_json::from_str::<T>(&json).unwrap(), v);
            }
        }
        check(Status::ALL);
        check(RequirementLevel::ALL);
    }
}
