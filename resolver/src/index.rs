//! What the resolver precomputes about a catalogue once, to resolve many stacks
//! against it: who implements each spec, and which packages others conflict with.

use std::cmp::Reverse;
use std::collections::{HashMap, HashSet};

use govstore_core::index::{Catalogue, IndexVersion};
use govstore_core::package::{PackageName, SpecId};
use semver::{BuildMetadata, Version};

use crate::policy::compliance_score;

/// A catalogue prepared for resolution. Building one reads every manifest once; each
/// [`Resolver::resolve`](crate::Resolver::resolve) then reads only the packages it needs.
#[derive(Debug)]
pub struct Resolver<'c> {
    pub(crate) catalogue: &'c Catalogue,
    /// Per spec, its implementing packages grouped by spec version, in the order that
    /// does not depend on the stack: higher compliance, newer spec version, name.
    pub(crate) spec_groups: HashMap<SpecId, Vec<SpecGroup>>,
    /// Packages named in some package's `[conflicts]`.
    pub(crate) conflict_targets: HashSet<PackageName>,
}

/// The versions of one package that implement one spec version.
#[derive(Debug, Clone)]
pub(crate) struct SpecGroup {
    pub(crate) package: PackageName,
    pub(crate) spec_version: Version,
    /// The spec version with build metadata `p<k>`, unique within the spec.
    pub(crate) virtual_version: Version,
    /// (index into the package's catalogue versions, index into its `implements`).
    pub(crate) entries: Vec<(usize, usize)>,
    /// The highest compliance score any of the versions claims.
    pub(crate) score: u8,
}

impl<'c> Resolver<'c> {
    /// Indexes `catalogue`.
    pub fn new(catalogue: &'c Catalogue) -> Self {
        let mut groups: HashMap<SpecId, HashMap<(&PackageName, &Version), SpecGroup>> = HashMap::new();
        let mut conflict_targets = HashSet::new();
        for (name, versions) in &catalogue.packages {
            for (vi, entry) in versions.iter().enumerate() {
                for (ii, imp) in entry.manifest.implements.iter().enumerate() {
                    let group = groups
                        .entry(imp.spec.clone())
                        .or_default()
                        .entry((name, &imp.version))
                        .or_insert_with(|| SpecGroup {
                            package: name.clone(),
                            spec_version: imp.version.clone(),
                            virtual_version: imp.version.clone(),
                            entries: Vec::new(),
                            score: 0,
                        });
                    group.entries.push((vi, ii));
                    group.score = group.score.max(compliance_score(imp));
                }
                for target in entry.manifest.conflicts.packages.keys() {
                    if target != name {
                        conflict_targets.insert(target.clone());
                    }
                }
            }
        }
        let spec_groups = groups
            .into_iter()
            .map(|(spec, by_key)| {
                let mut list: Vec<SpecGroup> = by_key.into_values().collect();
                list.sort_by(|a, b| {
                    (Reverse(a.score), Reverse(&a.spec_version), &a.package).cmp(&(
                        Reverse(b.score),
                        Reverse(&b.spec_version),
                        &b.package,
                    ))
                });
                for (k, group) in list.iter_mut().enumerate() {
                    group.virtual_version.build = BuildMetadata::new(&format!("p{k}")).unwrap_or(BuildMetadata::EMPTY);
                    group
                        .entries
                        .sort_by(|x, y| versions_of(catalogue, &group.package, x, y));
                }
                (spec, list)
            })
            .collect();
        Self {
            catalogue,
            spec_groups,
            conflict_targets,
        }
    }

    /// The catalogue versions of `name`, if it is in the catalogue.
    pub(crate) fn versions(&self, name: &PackageName) -> &'c [IndexVersion] {
        self.catalogue.packages.get(name).map(Vec::as_slice).unwrap_or_default()
    }

    /// One catalogue version.
    pub(crate) fn entry(&self, name: &PackageName, index: usize) -> Option<&'c IndexVersion> {
        self.versions(name).get(index)
    }
}

/// Orders two entries of `package` by version, so groups do not depend on the order
/// of the catalogue's lists.
fn versions_of(
    catalogue: &Catalogue,
    package: &PackageName,
    x: &(usize, usize),
    y: &(usize, usize),
) -> std::cmp::Ordering {
    let versions = catalogue.packages.get(package).map(Vec::as_slice).unwrap_or_default();
    let vx = versions.get(x.0).map(|e| &e.version);
    let vy = versions.get(y.0).map(|e| &e.version);
    vx.cmp(&vy).then(x.1.cmp(&y.1))
}
