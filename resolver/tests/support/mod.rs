//! Test support: catalogues written compactly, as scenario files and property tests
//! use them, turned into real `Catalogue`s through the real manifest parser.

#![allow(dead_code, clippy::unwrap_used)] // each test binary uses part of it

use std::collections::BTreeMap;
use std::fmt::Write as _;

use govstore_core::Digest;
use govstore_core::index::{Catalogue, IndexVersion};
use govstore_core::manifest::Manifest;
use govstore_core::package::PackageName;
use govstore_resolver::Resolution;
use serde::Deserialize;

/// One `[[package]]` of a scenario: one or more versions sharing their metadata.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackageSpec {
    pub name: String,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub versions: Vec<String>,
    #[serde(default)]
    pub license: Option<String>,
    #[serde(default)]
    pub yanked: bool,
    #[serde(default)]
    pub yank_reason: Option<String>,
    #[serde(default)]
    pub implements: Vec<ImplSpec>,
    #[serde(default)]
    pub requires: RequiresSpec,
    #[serde(default)]
    pub conflicts: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImplSpec {
    pub spec: String,
    pub version: String,
    #[serde(default)]
    pub deployment: Option<String>,
    #[serde(default)]
    pub interface: Option<String>,
    #[serde(default)]
    pub requirements: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequiresSpec {
    #[serde(default)]
    pub specs: BTreeMap<String, String>,
    #[serde(default)]
    pub packages: BTreeMap<String, String>,
    #[serde(default)]
    pub platform: BTreeMap<String, String>,
}

/// The digest a test catalogue gives `name@version`.
pub fn digest_of(name: &str, version: &str) -> Digest {
    Digest::of(format!("{name}@{version}").as_bytes())
}

fn quoted_map(out: &mut String, table: &str, map: &BTreeMap<String, String>) {
    if map.is_empty() {
        return;
    }
    writeln!(out, "[{table}]").unwrap();
    for (k, v) in map {
        writeln!(out, "{k:?} = {v:?}").unwrap();
    }
}

/// The `govstore.toml` of one version.
pub fn manifest_text(p: &PackageSpec, version: &str) -> String {
    let mut out = String::new();
    writeln!(out, "[package]").unwrap();
    writeln!(out, "name = {:?}", p.name).unwrap();
    writeln!(out, "version = {version:?}").unwrap();
    writeln!(out, "description = \"Test package.\"").unwrap();
    writeln!(out, "license = {:?}", p.license.as_deref().unwrap_or("Apache-2.0")).unwrap();
    for imp in &p.implements {
        writeln!(out, "[[implements]]").unwrap();
        writeln!(out, "spec = {:?}", imp.spec).unwrap();
        writeln!(out, "version = {:?}", imp.version).unwrap();
        writeln!(out, "how = \"native\"").unwrap();
        for (kind, level) in [
            ("deployment", &imp.deployment),
            ("interface", &imp.interface),
            ("requirements", &imp.requirements),
        ] {
            if let Some(level) = level {
                writeln!(out, "[implements.compliance.{kind}]").unwrap();
                writeln!(out, "level = {level:?}").unwrap();
                if level != "n/a" {
                    writeln!(out, "evidence = \"Test evidence.\"").unwrap();
                }
            }
        }
    }
    quoted_map(&mut out, "requires.specs", &p.requires.specs);
    quoted_map(&mut out, "requires.packages", &p.requires.packages);
    quoted_map(&mut out, "requires.platform", &p.requires.platform);
    quoted_map(&mut out, "conflicts.packages", &p.conflicts);
    out
}

/// Every version of `p` as an index entry.
pub fn index_versions(p: &PackageSpec) -> Vec<IndexVersion> {
    let mut versions: Vec<String> = p.versions.clone();
    versions.extend(p.version.clone());
    assert!(!versions.is_empty(), "{}: give `version` or `versions`", p.name);
    versions
        .iter()
        .map(|v| {
            let text = manifest_text(p, v);
            let manifest = Manifest::from_toml_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
            IndexVersion {
                version: manifest.package.version.clone(),
                digest: digest_of(&p.name, v),
                yanked: p.yanked,
                yank_reason: p.yank_reason.clone(),
                key_ids: vec![format!("sha256:{}", Digest::of(p.name.as_bytes()).hex())],
                manifest,
                approvals: Vec::new(),
            }
        })
        .collect()
}

/// A catalogue of `packages`; entries with the same name are merged.
pub fn catalogue(packages: &[PackageSpec]) -> Catalogue {
    let mut catalogue = Catalogue::default();
    for p in packages {
        let name: PackageName = p.name.parse().unwrap();
        catalogue.packages.entry(name).or_default().extend(index_versions(p));
    }
    for versions in catalogue.packages.values_mut() {
        versions.sort_by(|a, b| a.version.cmp(&b.version));
    }
    catalogue
}

/// The same catalogue with every package's versions in reverse order, to check that
/// results do not depend on list order.
pub fn reversed(catalogue: &Catalogue) -> Catalogue {
    let mut out = catalogue.clone();
    for versions in out.packages.values_mut() {
        versions.reverse();
    }
    out
}

/// `name version` per package, plus who provides each spec: a compact, comparable
/// picture of a resolution.
pub fn summary(resolution: &Resolution) -> String {
    let mut out = String::new();
    for p in &resolution.packages {
        let state = match (&p.existing, &p.replaces) {
            (Some(system), _) => format!(" (already run by {system})"),
            (None, Some((system, old))) => format!(" (replaces {old} run by {system})"),
            (None, None) => String::new(),
        };
        writeln!(out, "{} {}{state}", p.name, p.version).unwrap();
        for need in &p.satisfies {
            writeln!(out, "  {need}").unwrap();
        }
    }
    for s in &resolution.specs {
        writeln!(out, "spec {} {} from {}", s.spec, s.version, s.provider).unwrap();
    }
    out
}
