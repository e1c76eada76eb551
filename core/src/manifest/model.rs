//! The manifest's data model: one struct per `govstore.toml` table.
//!
//! Every struct denies unknown fields, optional values are skipped when absent and empty
//! lists and maps when empty, and maps are `BTreeMap`s, so serializing a model is
//! deterministic. Field-level values are validated types (see [`super::values`]);
//! limits and cross-field rules are checked afterwards by [`super::validate`].

use std::collections::BTreeMap;
use std::fmt;

use semver::{Version, VersionReq};
use serde::{Deserialize, Serialize};

use super::values::{ComponentName, CountryCode, Date, Evidence, License, RelativePath, Sdg, Url, semver_de};
use crate::package::{PackageName, SpecId};

/// A whole `govstore.toml`. See the [module documentation](super) for an example.
///
/// Build one with [`Manifest::from_toml_str`] or [`Manifest::from_canonical_json`].
/// Deserializing it directly with serde checks every value's grammar but not the limits
/// and rules across fields; call [`Manifest::validate`] afterwards if you do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// `[package]`: what the package is.
    pub package: Package,
    /// `[[implements]]`: the specifications the package implements.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub implements: Vec<Implementation>,
    /// `[requires]`: what the package needs from the rest of the stack.
    #[serde(default, skip_serializing_if = "Requires::is_empty")]
    pub requires: Requires,
    /// `[conflicts]`: what must not be installed alongside it.
    #[serde(default, skip_serializing_if = "Conflicts::is_empty")]
    pub conflicts: Conflicts,
    /// `[provides]`: capabilities the package offers besides its specs.
    #[serde(default, skip_serializing_if = "Provides::is_empty")]
    pub provides: Provides,
}

/// `[package]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Package {
    /// `namespace/name`; the namespace belongs to the publishing organisation.
    pub name: PackageName,
    /// SemVer 2.0 version, without build metadata.
    #[serde(deserialize_with = "semver_de::version")]
    pub version: Version,
    /// The product's human name, as people know it (`Keycloak`, `Payment Hub EE`): one
    /// line, shown beside the package name in search results, pages and the CLI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// A one-paragraph summary (the README holds the long text).
    pub description: String,
    /// The licence, as an SPDX expression.
    pub license: License,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub homepage: Option<Url>,
    /// The source repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<Url>,
    /// The README, relative to the manifest's directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readme: Option<RelativePath>,
    /// Search keywords.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maturity: Option<Maturity>,
    /// UN Sustainable Development Goals the package contributes to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sdgs: Vec<Sdg>,
    /// Sectors the package serves, such as `health` or `civil-registration`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sectors: Vec<String>,
    /// Countries where the package is deployed (ISO 3166-1 alpha-2).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deployment_countries: Vec<CountryCode>,
    /// The date after which this version gets no more maintenance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_of_life: Option<Date>,
    /// The software bill of materials (CycloneDX or SPDX), relative to the manifest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sbom: Option<RelativePath>,
    /// Glob patterns of files to put in the package (default: everything).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub include: Vec<String>,
    /// Glob patterns of files to leave out.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude: Vec<String>,
}

/// How far along a package is, as its publisher states it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Maturity {
    /// Early work; interfaces may change without notice.
    Experimental,
    /// Feature-complete and in pilots, not yet in production use.
    Beta,
    /// In production use.
    Stable,
    /// In production in several places for years, with long-term maintenance.
    Mature,
    /// Superseded or unmaintained; do not start new deployments.
    Deprecated,
}

/// One `[[implements]]` entry: a spec version the package implements.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Implementation {
    /// The spec, such as `govstack/identity`.
    pub spec: SpecId,
    /// The spec version, such as `1.0.2`.
    #[serde(deserialize_with = "semver_de::version")]
    pub version: Version,
    /// How the package complies.
    pub how: How,
    /// The compliance levels the publisher claims, with evidence.
    #[serde(default, skip_serializing_if = "Compliance::is_empty")]
    pub compliance: Compliance,
}

/// GovStack's three ways to comply with a spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum How {
    /// Built to the spec.
    Native,
    /// Existing software changed to follow the spec.
    Updated,
    /// An adaptor in front of existing software.
    Adaptor,
}

/// Compliance claims, in the shape of GovStack's compliance reports. Each is optional;
/// an absent one is not claimed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Compliance {
    /// Deployment compliance: can be deployed as the spec and the cross-functional
    /// requirements ask (containers, backups...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment: Option<Claim>,
    /// Interface compliance: the spec's APIs, checked by the GovStack test harness.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interface: Option<InterfaceClaim>,
    /// Requirement-specification compliance: the spec's REQUIRED and RECOMMENDED
    /// requirements.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requirements: Option<RequirementsClaim>,
}

impl Compliance {
    pub fn is_empty(&self) -> bool {
        self.deployment.is_none() && self.interface.is_none() && self.requirements.is_none()
    }
}

/// A compliance level, as in GovStack's reports (`N/A`, `LEVEL_1`, `LEVEL_2`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Level {
    #[serde(rename = "n/a")]
    NotApplicable,
    #[serde(rename = "level-1")]
    Level1,
    #[serde(rename = "level-2")]
    Level2,
}

/// A claimed level with its evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Claim {
    pub level: Level,
    /// Required for `level-1` and `level-2`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<Evidence>,
}

/// Interface compliance: a level, evidence and the test-harness result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InterfaceClaim {
    pub level: Level,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<Evidence>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_harness: Option<TestHarness>,
}

/// A run of the spec's API test harness against the package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestHarness {
    pub result: HarnessResult,
    /// The harness report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<Url>,
    /// When the harness ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<Date>,
}

/// The outcome of a test-harness run. GovStack's level 1 needs at least one service API
/// to pass, level 2 all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HarnessResult {
    /// Every service API passed.
    Passed,
    /// Some service APIs passed.
    Partial,
    /// No service API passed.
    Failed,
}

/// Requirement-specification compliance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequirementsClaim {
    pub level: Level,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<Evidence>,
    /// REQUIRED requirements met, of those that apply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required: Option<Tally>,
    /// RECOMMENDED requirements met, of those that apply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recommended: Option<Tally>,
}

/// `met` of `total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tally {
    pub met: u32,
    pub total: u32,
}

/// `[requires]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requires {
    /// Specs some other package in the stack must implement, with the spec versions.
    #[serde(
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "semver_de::req_map"
    )]
    pub specs: BTreeMap<SpecId, VersionReq>,
    /// Packages that must be installed.
    #[serde(
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "semver_de::req_map"
    )]
    pub packages: BTreeMap<PackageName, VersionReq>,
    /// Platform components the country's infrastructure must provide.
    #[serde(
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "semver_de::req_map"
    )]
    pub platform: BTreeMap<ComponentName, VersionReq>,
}

impl Requires {
    pub fn is_empty(&self) -> bool {
        self.specs.is_empty() && self.packages.is_empty() && self.platform.is_empty()
    }
}

/// `[conflicts]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Conflicts {
    /// Package versions that cannot be installed in the same stack.
    #[serde(
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "semver_de::req_map"
    )]
    pub packages: BTreeMap<PackageName, VersionReq>,
}

impl Conflicts {
    pub fn is_empty(&self) -> bool {
        self.packages.is_empty()
    }
}

/// `[provides]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provides {
    /// Capability names, such as `openid-connect-provider`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub capabilities: Vec<String>,
}

impl Provides {
    pub fn is_empty(&self) -> bool {
        self.capabilities.is_empty()
    }
}

/// `as_str` (the name used in manifests) and `Display` for the unit enums.
macro_rules! names {
    ($ty:ident { $($variant:ident => $name:literal),* $(,)? }) => {
        impl $ty {
            /// The name written in manifests.
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

names!(Maturity {
    Experimental => "experimental",
    Beta => "beta",
    Stable => "stable",
    Mature => "mature",
    Deprecated => "deprecated",
});
names!(How { Native => "native", Updated => "updated", Adaptor => "adaptor" });
names!(Level { NotApplicable => "n/a", Level1 => "level-1", Level2 => "level-2" });
names!(HarnessResult { Passed => "passed", Partial => "partial", Failed => "failed" });

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
        check(Maturity::ALL);
        check(How::ALL);
        check(Level::ALL);
        check(HarnessResult::ALL);
    }
}
