//! The sparse index: one cacheable document per package with every version's
//! compatibility metadata, and one per spec listing its implementations. The registry
//! serves them (`/api/v1/index/...`, with ETags); the CLI resolves from them; the
//! resolver reads them through [`Catalogue`].
//!
//! ```text
//! GET /api/v1/index/packages/{ns}/{name}  -> PackageIndex
//! GET /api/v1/index/specs/{ns}/{name}     -> SpecIndex
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::digest::Digest;
use crate::manifest::Manifest;
use crate::package::{PackageName, SpecId};

/// Every published version of one package.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackageIndex {
    pub name: PackageName,
    /// Oldest first by SemVer precedence.
    pub versions: Vec<IndexVersion>,
}

/// One version as the resolver sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexVersion {
    pub version: semver::Version,
    /// The OCI manifest digest: what a lockfile pins.
    pub digest: Digest,
    pub yanked: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub yank_reason: Option<String>,
    /// Ids of the keys whose signatures the registry verified for this version.
    pub key_ids: Vec<String>,
    /// The package's `govstore.toml` (implements, requires, conflicts, provides,
    /// licence, maturity...).
    pub manifest: Manifest,
}

/// The package versions that implement one spec, at which spec version and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpecIndex {
    pub spec: SpecId,
    pub implementations: Vec<Implementation>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Implementation {
    pub package: PackageName,
    pub version: semver::Version,
    pub spec_version: semver::Version,
}

/// What the resolver needs to know about the catalogue, held in memory: the CLI fills
/// it from index documents, the server from its database, tests from scenario files.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Catalogue {
    pub packages: BTreeMap<PackageName, Vec<IndexVersion>>,
}

impl Catalogue {
    pub fn insert(&mut self, index: PackageIndex) {
        self.packages.insert(index.name, index.versions);
    }

    /// Implementations of `spec` across the catalogue, derived from the manifests.
    pub fn implementations(&self, spec: &SpecId) -> Vec<Implementation> {
        let mut out = Vec::new();
        for (name, versions) in &self.packages {
            for v in versions {
                for i in v.manifest.implements.iter().filter(|i| &i.spec == spec) {
                    out.push(Implementation {
                        package: name.clone(),
                        version: v.version.clone(),
                        spec_version: i.version.clone(),
                    });
                }
            }
        }
        out
    }
}
