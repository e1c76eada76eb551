//! The result of a successful resolution: which package versions make up the stack,
//! who implements each spec it needs, and why each is there.

use std::collections::BTreeMap;
use std::fmt;

use govstore_core::Digest;
use govstore_core::manifest::Url;
use govstore_core::package::{PackageName, SpecId};
use govstore_core::stack::{LockedPackage, Lockfile, Stack};
use pubgrub::SelectedDependencies;
use semver::{Version, VersionReq};

use crate::candidates::Provider as CandidateProvider;
use crate::provider::{Node, Session};

/// A set of package versions that fits the stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    /// Every package in the resolved stack, sorted by name: those to install and those
    /// the stack already runs.
    pub packages: Vec<ChosenPackage>,
    /// For every spec the stack or a chosen package needs, who implements it; sorted by
    /// spec.
    pub specs: Vec<SpecChoice>,
    /// How many steps the solver took.
    pub steps: u64,
}

/// One package version of the resolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChosenPackage {
    pub name: PackageName,
    pub version: Version,
    /// The OCI manifest digest, when the catalogue has this version (a version only an
    /// existing system runs may not be in it).
    pub digest: Option<Digest>,
    /// Ids of the keys whose signatures the registry verified.
    pub key_ids: Vec<String>,
    /// The existing system that already runs this version, if any: then there is
    /// nothing to install.
    pub existing: Option<String>,
    /// The existing system that runs another version of this package, and that version:
    /// this version replaces it (an upgrade or a downgrade).
    pub replaces: Option<(String, Version)>,
    /// The spec versions it implements.
    pub implements: Vec<(SpecId, Version)>,
    /// Why it is in the stack. Never empty.
    pub satisfies: Vec<Need>,
}

impl ChosenPackage {
    /// Whether it has to be installed (the stack does not already run it).
    pub fn to_install(&self) -> bool {
        self.existing.is_none()
    }
}

/// What a spec is met by, and for whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecChoice {
    pub spec: SpecId,
    /// The spec version the provider implements.
    pub version: Version,
    pub provider: SpecProvider,
    /// Who needs the spec, with their requirements.
    pub needed_by: Vec<(Dependent, VersionReq)>,
}

/// An existing system or a chosen package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpecProvider {
    Existing { system: String },
    Package { name: PackageName, version: Version },
}

/// The stack itself or a chosen package version.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Dependent {
    Stack,
    Package { name: PackageName, version: Version },
}

/// One reason a package is in the resolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Need {
    /// `wants.packages`.
    Wanted { requirement: VersionReq },
    /// Another chosen package's `requires.packages`.
    RequiredBy {
        dependent: Dependent,
        requirement: VersionReq,
    },
    /// It implements a spec that the stack wants or a chosen package requires.
    Implements {
        spec: SpecId,
        version: Version,
        dependent: Dependent,
        requirement: VersionReq,
    },
}

impl fmt::Display for Dependent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dependent::Stack => f.write_str("the stack"),
            Dependent::Package { name, version } => write!(f, "{name} {version}"),
        }
    }
}

impl fmt::Display for SpecProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpecProvider::Existing { system } => write!(f, "existing system {system}"),
            SpecProvider::Package { name, version } => write!(f, "{name} {version}"),
        }
    }
}

/// `wanted by the stack (>=1.7)`, `required by mosip/esignet 1.8.0 (^7.5)`,
/// `implements govstack/identity 1.0.2 for the stack (^1.0)`.
impl fmt::Display for Need {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Need::Wanted { requirement } => {
                write!(f, "wanted by the stack ({})", req_text(requirement))
            }
            Need::RequiredBy { dependent, requirement } => {
                write!(f, "required by {dependent} ({})", req_text(requirement))
            }
            Need::Implements {
                spec,
                version,
                dependent,
                requirement,
            } => write!(
                f,
                "implements {spec} {version} for {dependent} ({})",
                req_text(requirement)
            ),
        }
    }
}

/// `*` reads as "any version".
pub(crate) fn req_text(req: &VersionReq) -> String {
    if req.comparators.is_empty() {
        "any version".to_owned()
    } else {
        req.to_string()
    }
}

impl Resolution {
    /// The packages to install, by name.
    pub fn to_install(&self) -> impl Iterator<Item = &ChosenPackage> {
        self.packages.iter().filter(|p| p.to_install())
    }

    /// The chosen version of `name`, if it is in the resolution.
    pub fn get(&self, name: &PackageName) -> Option<&ChosenPackage> {
        self.packages.iter().find(|p| &p.name == name)
    }

    /// The lockfile for this resolution: every package to install, from `source`, with
    /// the stack's hash. Packages without a digest (run by an existing system only) are
    /// not locked.
    pub fn to_lockfile(&self, stack: &Stack, source: &Url) -> Lockfile {
        let packages = self
            .to_install()
            .filter_map(|p| {
                Some(LockedPackage {
                    name: p.name.clone(),
                    version: p.version.clone(),
                    digest: p.digest.clone()?,
                    key_ids: p.key_ids.clone(),
                    source: source.clone(),
                })
            })
            .collect();
        let mut lock = Lockfile::new(stack.digest(), packages);
        if stack.policy.approved_only {
            lock.trust = stack.trust.clone();
            lock.trust.country = Some(stack.trust.country.unwrap_or(stack.stack.country));
        }
        lock
    }

    pub(crate) fn build(session: &Session<'_>, selected: SelectedDependencies<Node, Version>) -> Self {
        let mut packages: BTreeMap<PackageName, ChosenPackage> = BTreeMap::new();
        let mut specs: BTreeMap<SpecId, SpecChoice> = BTreeMap::new();
        for (node, version) in selected.iter() {
            match node {
                Node::Package(name) => {
                    packages.insert(name.clone(), chosen(session, name, version));
                }
                Node::Spec(spec) => {
                    if let Some(choice) = spec_choice(session, &selected, spec, version) {
                        specs.insert(spec.clone(), choice);
                    }
                }
                Node::Root | Node::Presence(_) => {}
            }
        }
        let stack = session.stack;
        for (name, requirement) in &stack.wants.packages {
            if let Some(p) = packages.get_mut(name) {
                p.satisfies.push(Need::Wanted {
                    requirement: requirement.clone(),
                });
            }
        }
        let mut spec_needs: Vec<(SpecId, Dependent, VersionReq)> = stack
            .wants
            .specs
            .iter()
            .map(|(s, r)| (s.clone(), Dependent::Stack, r.clone()))
            .collect();
        let mut package_needs: Vec<(PackageName, Dependent, VersionReq)> = Vec::new();
        for p in packages.values().filter(|p| p.existing.is_none()) {
            let Some(manifest) = session
                .resolver
                .versions(&p.name)
                .iter()
                .find(|e| e.version == p.version)
                .map(|e| &e.manifest)
            else {
                continue;
            };
            let dependent = Dependent::Package {
                name: p.name.clone(),
                version: p.version.clone(),
            };
            for (spec, req) in &manifest.requires.specs {
                spec_needs.push((spec.clone(), dependent.clone(), req.clone()));
            }
            for (dep, req) in &manifest.requires.packages {
                package_needs.push((dep.clone(), dependent.clone(), req.clone()));
            }
        }
        for (dep, dependent, requirement) in package_needs {
            if let Some(p) = packages.get_mut(&dep) {
                p.satisfies.push(Need::RequiredBy { dependent, requirement });
            }
        }
        for (spec, dependent, requirement) in spec_needs {
            let Some(choice) = specs.get_mut(&spec) else {
                continue;
            };
            if let SpecProvider::Package { name, .. } = &choice.provider
                && let Some(p) = packages.get_mut(name)
            {
                p.satisfies.push(Need::Implements {
                    spec: spec.clone(),
                    version: choice.version.clone(),
                    dependent: dependent.clone(),
                    requirement: requirement.clone(),
                });
            }
            choice.needed_by.push((dependent, requirement));
        }
        Self {
            packages: packages.into_values().collect(),
            specs: specs.into_values().collect(),
            steps: session.steps(),
        }
    }
}

fn chosen(session: &Session<'_>, name: &PackageName, version: &Version) -> ChosenPackage {
    let candidates = session.package(name);
    let candidate = candidates.get(version).map(|(_, c)| c);
    let entry = candidate
        .and_then(|c| c.index)
        .and_then(|i| session.resolver.entry(name, i));
    let existing = candidate
        .and_then(|c| c.existing)
        .and_then(|i| session.stack.existing.get(i))
        .map(|e| e.name.clone());
    let implements = match entry {
        Some(e) => e
            .manifest
            .implements
            .iter()
            .map(|i| (i.spec.clone(), i.version.clone()))
            .collect(),
        None => candidate
            .and_then(|c| c.existing)
            .and_then(|i| session.stack.existing.get(i))
            .map(|e| {
                e.implements
                    .iter()
                    .map(|i| (i.spec.clone(), i.version.clone()))
                    .collect()
            })
            .unwrap_or_default(),
    };
    let replaces = session
        .stack
        .existing
        .iter()
        .find(|e| e.package.as_ref() == Some(name))
        .and_then(|e| Some((e.name.clone(), e.version.clone()?)))
        .filter(|(_, running)| running != version);
    ChosenPackage {
        name: name.clone(),
        version: version.clone(),
        digest: entry.map(|e| e.digest.clone()),
        key_ids: entry.map(|e| e.key_ids.clone()).unwrap_or_default(),
        existing,
        replaces,
        implements,
        satisfies: Vec::new(),
    }
}

fn spec_choice(
    session: &Session<'_>,
    selected: &SelectedDependencies<Node, Version>,
    spec: &SpecId,
    version: &Version,
) -> Option<SpecChoice> {
    let candidates = session.spec(spec);
    let candidate = candidates.get(version)?;
    let provider = match &candidate.provider {
        CandidateProvider::Existing(i) => SpecProvider::Existing {
            system: session.stack.existing.get(*i)?.name.clone(),
        },
        CandidateProvider::Package(name) => SpecProvider::Package {
            name: name.clone(),
            version: selected.get(&Node::Package(name.clone()))?.clone(),
        },
    };
    Some(SpecChoice {
        spec: spec.clone(),
        version: candidate.spec_version.clone(),
        provider,
        needed_by: Vec::new(),
    })
}
