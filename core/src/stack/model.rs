//! The stack profile's data model: one struct per `stack.toml` table.
//!
//! Every struct denies unknown fields; optional values and empty lists and maps are
//! skipped when serializing, and maps are `BTreeMap`s, so the canonical JSON (and so the
//! stack's hash) is deterministic. Limits and rules across fields are checked afterwards
//! by [`super::validate`].

use std::collections::BTreeMap;
use std::fmt;

use semver::{Version, VersionReq};
use serde::{Deserialize, Serialize};

use super::values::{LicenceName, Namespace, PlatformVersion};
use crate::manifest::values::semver_de;
use crate::manifest::{ComponentName, CountryCode, Level};
use crate::package::{PackageName, SpecId};

/// A whole `stack.toml`. See the [module documentation](super) for an example.
///
/// Build one with [`Stack::from_toml_str`](super::Stack::from_toml_str).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stack {
    /// `[stack]`: whose stack this is.
    pub stack: StackInfo,
    /// `[[existing]]`: systems the country already runs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub existing: Vec<ExistingSystem>,
    /// `[infrastructure]`: the platform the country provides.
    #[serde(default, skip_serializing_if = "Infrastructure::is_empty")]
    pub infrastructure: Infrastructure,
    /// `[policy]`: what the country allows.
    #[serde(default, skip_serializing_if = "Policy::is_default")]
    pub policy: Policy,
    /// `[wants]`: what the country needs.
    #[serde(default, skip_serializing_if = "Wants::is_empty")]
    pub wants: Wants,
    /// `[trust]`: whose approvals count, checked by the client itself.
    #[serde(default, skip_serializing_if = "Trust::is_empty")]
    pub trust: Trust,
}

/// `[trust]`: the country whose approvals `approved_only` needs, the approver keys the
/// stack pins (key ids, `sha256:<hex>` of the SPKI DER, as `govstore key list` and the
/// country's page show them) and how many distinct pinned keys must have approved a
/// version. The client verifies every approval itself against these keys; the
/// registry's own view of the country's keys or threshold is never used.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trust {
    /// Whose approvals: defaults to `[stack] country`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<CountryCode>,
    /// Pinned approver key ids.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<String>,
    /// Distinct pinned keys needed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<u32>,
}

impl Trust {
    pub fn is_empty(&self) -> bool {
        self.country.is_none() && self.keys.is_empty() && self.threshold.is_none()
    }
}

/// `[stack]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StackInfo {
    /// ISO 3166-1 alpha-2, uppercase.
    pub country: CountryCode,
    /// A short name for the stack, such as `Kenya national digital ID`.
    pub name: String,
}

/// One `[[existing]]` entry: a system the country already runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExistingSystem {
    /// A short identifier, lowercase words with `-`, such as `national-xroad`.
    pub name: String,
    /// The catalogue package it is, if it is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<PackageName>,
    /// The package version it runs; needs `package`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "optional_version"
    )]
    pub version: Option<Version>,
    /// The spec versions it implements.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub implements: Vec<ExistingImplementation>,
}

/// A spec version an existing system implements.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExistingImplementation {
    pub spec: SpecId,
    #[serde(deserialize_with = "semver_de::version")]
    pub version: Version,
}

/// `[infrastructure]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Infrastructure {
    /// How workloads run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orchestrator: Option<Orchestrator>,
    /// Platform components and their versions, named as in manifests'
    /// `[requires.platform]`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub platform: BTreeMap<ComponentName, PlatformVersion>,
}

impl Infrastructure {
    pub fn is_empty(&self) -> bool {
        self.orchestrator.is_none() && self.platform.is_empty()
    }
}

/// How a country runs its workloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Orchestrator {
    /// Kubernetes; `platform.kubernetes` gives its version.
    Kubernetes,
    /// Red Hat OpenShift; `platform.kubernetes` gives the Kubernetes version it ships.
    Openshift,
    /// Docker or Docker Compose on hosts.
    Docker,
    /// Plain virtual machines, no orchestrator.
    Vm,
}

impl Orchestrator {
    /// The name written in `stack.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            Orchestrator::Kubernetes => "kubernetes",
            Orchestrator::Openshift => "openshift",
            Orchestrator::Docker => "docker",
            Orchestrator::Vm => "vm",
        }
    }

    /// Whether it runs Kubernetes (and so needs `platform.kubernetes`).
    pub fn runs_kubernetes(self) -> bool {
        matches!(self, Orchestrator::Kubernetes | Orchestrator::Openshift)
    }
}

impl fmt::Display for Orchestrator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `[policy]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// When not empty, a package's licence expression must be satisfiable with these
    /// licences alone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow_licenses: Vec<LicenceName>,
    /// Licences that must not be relied on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deny_licenses: Vec<LicenceName>,
    /// Deny every licence the SPDX list marks as copyleft (GPL, LGPL, AGPL, MPL, EUPL...).
    #[serde(default, skip_serializing_if = "is_false")]
    pub deny_copyleft: bool,
    /// The lowest compliance level accepted for a package that fills a spec.
    #[serde(default, skip_serializing_if = "MinimumCompliance::is_empty")]
    pub minimum_compliance: MinimumCompliance,
    /// When not empty, only packages from these namespaces are used.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trusted_publishers: Vec<Namespace>,
    /// Whether pre-release versions (`2.0.0-rc.1`) may be chosen.
    #[serde(default, skip_serializing_if = "is_false")]
    pub allow_prereleases: bool,
    /// Whether only versions the country has approved may be chosen.
    #[serde(default, skip_serializing_if = "is_false")]
    pub approved_only: bool,
}

impl Policy {
    pub fn is_default(&self) -> bool {
        self == &Policy::default()
    }
}

/// `[policy.minimum_compliance]`: one level per kind of GovStack compliance claim.
/// An absent kind, like `n/a`, asks for nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MinimumCompliance {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment: Option<Level>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interface: Option<Level>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requirements: Option<Level>,
}

impl MinimumCompliance {
    pub fn is_empty(&self) -> bool {
        self.deployment.is_none() && self.interface.is_none() && self.requirements.is_none()
    }
}

/// `[wants]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Wants {
    /// Specs the stack needs, met by an existing system or by a package.
    #[serde(
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "semver_de::req_map"
    )]
    pub specs: BTreeMap<SpecId, VersionReq>,
    /// Packages the stack needs.
    #[serde(
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "semver_de::req_map"
    )]
    pub packages: BTreeMap<PackageName, VersionReq>,
    /// Exact versions: if the package is in the stack, it is at this version, even if it
    /// is yanked or a pre-release.
    #[serde(
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "version_map"
    )]
    pub pins: BTreeMap<PackageName, Version>,
    /// Packages never to install.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub excludes: Vec<PackageName>,
}

impl Wants {
    pub fn is_empty(&self) -> bool {
        self.specs.is_empty() && self.packages.is_empty() && self.pins.is_empty() && self.excludes.is_empty()
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn optional_version<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Version>, D::Error> {
    semver_de::version(d).map(Some)
}

fn version_map<'de, D: serde::Deserializer<'de>>(d: D) -> Result<BTreeMap<PackageName, Version>, D::Error> {
    struct V(Version);
    impl<'de> Deserialize<'de> for V {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            semver_de::version(d).map(V)
        }
    }
    let map = BTreeMap::<PackageName, V>::deserialize(d)?;
    Ok(map.into_iter().map(|(k, V(v))| (k, v)).collect())
}
