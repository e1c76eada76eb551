//! The generated catalogue both benchmarks resolve against (`resolve.rs` here and the
//! govstore-client `approved_only` bench, which includes this file by path): N packages
//! x 20 versions with realistic constraints, from a seeded generator, so every run sees
//! the same data. See `resolve.rs`'s module comment for its shape.

#![allow(dead_code)] // each bench uses a part

use govstore_core::Digest;
use govstore_core::index::{Catalogue, IndexVersion};
use govstore_core::manifest::{
    Compliance, Conflicts, How, Implementation, License, Manifest, Package, Provides, Requires,
};
use govstore_core::package::{PackageName, SpecId};
use semver::{Version, VersionReq};

pub const VERSIONS_PER_PACKAGE: usize = 20;
pub const SPECS: usize = 60;

/// A small deterministic generator (xorshift64*), so every run sees the same data.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

pub fn parse<T: std::str::FromStr>(s: &str) -> T
where
    T::Err: std::fmt::Debug,
{
    match s.parse() {
        Ok(v) => v,
        Err(e) => panic!("{s}: {e:?}"),
    }
}

pub fn package_name(i: usize) -> PackageName {
    parse(&format!("ns{}/pkg{i}", i % 300))
}

pub fn spec_id(i: usize) -> SpecId {
    parse(&format!("govstack/spec{i}"))
}

/// `n` packages of 20 versions each.
pub fn catalogue(n: usize, rng: &mut Rng) -> Catalogue {
    let licences: Vec<License> = ["Apache-2.0", "MIT", "AGPL-3.0-only", "MPL-2.0", "Apache-2.0 OR MIT"]
        .iter()
        .map(|s| parse(s))
        .collect();
    let names: Vec<PackageName> = (0..n).map(package_name).collect();
    let specs: Vec<SpecId> = (0..SPECS).map(spec_id).collect();
    let spec_versions: Vec<Version> = ["1.0.0", "1.1.0", "2.0.0"].iter().map(|s| parse(s)).collect();
    let postgres: Vec<VersionReq> = (12..=16).map(|v| parse(&format!(">={v}"))).collect();
    let kubernetes: Vec<VersionReq> = (24..=30).map(|v| parse(&format!(">=1.{v}"))).collect();
    let caret: Vec<VersionReq> = (1..=4).map(|m| parse(&format!("^{m}"))).collect();
    let spec_reqs: Vec<VersionReq> = ["^1.0", "^1.1", ">=1.0", "^2.0"].iter().map(|s| parse(s)).collect();
    let any: VersionReq = parse("*");
    let mut out = Catalogue::default();
    for i in 0..n {
        let implements_spec = (i % 8 == 3).then(|| rng.below(SPECS));
        let agpl = rng.chance(10);
        let mpl = !agpl && rng.chance(5);
        let mut versions = Vec::with_capacity(VERSIONS_PER_PACKAGE + 1);
        for k in 0..VERSIONS_PER_PACKAGE {
            let major = 1 + (k / 5) as u64;
            let minor = (k % 5) as u64;
            let mut version = Version::new(major, minor, 0);
            if k == VERSIONS_PER_PACKAGE - 1 && i % 7 == 0 {
                version.pre = parse("rc.1");
            }
            let mut requires = Requires::default();
            if i > 0 {
                for _ in 0..rng.below(3) {
                    let dep = i - 1 - rng.below(i.min(60));
                    requires
                        .packages
                        .insert(names[dep].clone(), caret[rng.below(4)].clone());
                }
            }
            if rng.chance(5) {
                requires
                    .specs
                    .insert(specs[rng.below(SPECS)].clone(), spec_reqs[rng.below(3)].clone());
            }
            if rng.chance(70) {
                requires
                    .platform
                    .insert(parse("postgresql"), postgres[major as usize - 1].clone());
            }
            if rng.chance(30) {
                requires.platform.insert(
                    parse("kubernetes"),
                    kubernetes[major as usize - 1 + rng.below(3)].clone(),
                );
            }
            let mut conflicts = Conflicts::default();
            if i > 1 && rng.chance(1) {
                conflicts
                    .packages
                    .insert(names[i - 1 - rng.below(i.min(20))].clone(), any.clone());
            }
            let implements = implements_spec
                .map(|s| Implementation {
                    spec: specs[s].clone(),
                    version: spec_versions[(major as usize - 1).min(2)].clone(),
                    how: How::Native,
                    compliance: Compliance::default(),
                })
                .into_iter()
                .collect();
            let licence = if agpl {
                &licences[2]
            } else if mpl {
                &licences[3]
            } else {
                &licences[i % 2]
            };
            let manifest = Manifest {
                package: Package {
                    name: names[i].clone(),
                    version: version.clone(),
                    title: None,
                    description: "Generated package.".to_owned(),
                    license: licence.clone(),
                    homepage: None,
                    repository: None,
                    readme: None,
                    keywords: Vec::new(),
                    maturity: None,
                    sdgs: Vec::new(),
                    sectors: Vec::new(),
                    deployment_countries: Vec::new(),
                    end_of_life: None,
                    sbom: None,
                    include: Vec::new(),
                    exclude: Vec::new(),
                },
                implements,
                requires,
                conflicts,
                provides: Provides::default(),
            };
            versions.push(IndexVersion {
                version,
                digest: Digest::of(format!("{i}/{k}").as_bytes()),
                yanked: rng.chance(2),
                yank_reason: None,
                key_ids: vec!["sha256:bench".to_owned()],
                manifest,
                approvals: Vec::new(),
            });
        }
        versions.sort_by(|a, b| a.version.cmp(&b.version));
        out.packages.insert(names[i].clone(), versions);
    }
    out
}
