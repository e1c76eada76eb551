//! The PubGrub side: the nodes the solver decides on and the [`DependencyProvider`]
//! that answers its questions from the catalogue, the stack and the candidate lists.
//!
//! Nodes:
//!
//! - [`Node::Root`], version `0.0.0`: the stack. It depends on every wanted spec and
//!   package.
//! - [`Node::Package`]: a catalogue package. Its versions' dependencies are the
//!   manifest's `requires.packages`, `requires.specs` and `conflicts`.
//! - [`Node::Spec`]: a virtual package per spec. Its versions are the spec versions
//!   anything implements, with build metadata naming the implementer (`1.0.2+p3`); each
//!   depends on exactly that package version, or on nothing for an existing system.
//!   Choosing a version of it chooses who implements the spec; the solver backtracks
//!   across implementers like across versions.
//! - [`Node::Presence`]: a virtual package per conflict target `B`, whose versions are
//!   `B`'s versions plus [`absent`]. Every version `b` of `B` depends on `Presence(B) = b`;
//!   a package that conflicts with `B` in range `R` depends on `Presence(B)` outside `R`
//!   (which includes `absent`), so the conflict holds without forcing `B` into the stack.
//!
//! Candidates ruled out by policy or platform are never offered to the solver; the
//! report explains the gaps they leave (see [`crate::report`]).

use std::cell::{Cell, RefCell};
use std::cmp::Reverse;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::rc::Rc;

use govstore_core::package::{PackageName, SpecId};
use govstore_core::stack::Stack;
use pubgrub::{Dependencies, DependencyConstraints, DependencyProvider, PackageResolutionStatistics};
use semver::{BuildMetadata, Prerelease, Version};

use crate::candidates::{self, PackageCandidates, Provider, SpecCandidates};
use crate::index::Resolver;
use crate::options::ResolveOptions;
use crate::ranges::{VersionSet, range_of};

/// What the solver decides on.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Node {
    Root,
    Package(PackageName),
    Spec(SpecId),
    Presence(PackageName),
}

/// For logs and panics only; reports phrase nodes themselves.
impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Node::Root => f.write_str("the stack"),
            Node::Package(p) => write!(f, "{p}"),
            Node::Spec(s) => write!(f, "an implementation of {s}"),
            Node::Presence(p) => write!(f, "{p} (installed or not)"),
        }
    }
}

/// The root's only version.
pub(crate) fn root_version() -> Version {
    Version::new(0, 0, 0)
}

/// The [`Node::Presence`] version meaning "not in the stack": `0.0.0-0+absent`, which
/// no package version can be, since package versions never carry build metadata.
pub(crate) fn absent() -> Version {
    Version {
        major: 0,
        minor: 0,
        patch: 0,
        pre: Prerelease::new("0").unwrap_or(Prerelease::EMPTY),
        build: BuildMetadata::new("absent").unwrap_or(BuildMetadata::EMPTY),
    }
}

/// The solver stopped: [`ResolveOptions::max_steps`] was reached.
#[derive(Debug, thiserror::Error)]
#[error("resolution stopped after {0} steps")]
pub(crate) struct Cancelled(pub(crate) u64);

/// One resolution: the inputs and the candidate lists built so far.
pub(crate) struct Session<'a> {
    pub(crate) resolver: &'a Resolver<'a>,
    pub(crate) stack: &'a Stack,
    pub(crate) options: &'a ResolveOptions,
    /// Packages the stack names itself (wanted, pinned, locked, running), and those a
    /// previous round found in the result: their spec implementations are preferred.
    preferred: RefCell<HashSet<PackageName>>,
    packages: RefCell<HashMap<PackageName, Rc<PackageCandidates>>>,
    specs: RefCell<HashMap<SpecId, Rc<SpecCandidates>>>,
    steps: Cell<u64>,
}

impl fmt::Debug for Session<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("steps", &self.steps.get())
            .finish_non_exhaustive()
    }
}

impl<'a> Session<'a> {
    pub(crate) fn new(resolver: &'a Resolver<'a>, stack: &'a Stack, options: &'a ResolveOptions) -> Self {
        let preferred: HashSet<PackageName> = stack
            .wants
            .packages
            .keys()
            .chain(stack.wants.pins.keys())
            .chain(options.locked.keys())
            .chain(stack.existing.iter().filter_map(|e| e.package.as_ref()))
            .cloned()
            .collect();
        Self {
            resolver,
            stack,
            options,
            preferred: RefCell::new(preferred),
            packages: RefCell::default(),
            specs: RefCell::default(),
            steps: Cell::new(0),
        }
    }

    /// The candidates of a package, computed on first use.
    pub(crate) fn package(&self, name: &PackageName) -> Rc<PackageCandidates> {
        if let Some(found) = self.packages.borrow().get(name) {
            return Rc::clone(found);
        }
        let built = Rc::new(candidates::package_candidates(
            self.resolver,
            name,
            self.stack,
            self.options,
        ));
        self.packages.borrow_mut().insert(name.clone(), Rc::clone(&built));
        built
    }

    /// The implementations of a spec, computed on first use.
    pub(crate) fn spec(&self, spec: &SpecId) -> Rc<SpecCandidates> {
        if let Some(found) = self.specs.borrow().get(spec) {
            return Rc::clone(found);
        }
        let built = Rc::new(candidates::spec_candidates(
            self.resolver,
            spec,
            self.stack,
            &self.preferred.borrow(),
        ));
        self.specs.borrow_mut().insert(spec.clone(), Rc::clone(&built));
        built
    }

    pub(crate) fn steps(&self) -> u64 {
        self.steps.get()
    }

    /// Prefers `more` packages as spec implementers from now on. Returns whether that
    /// changes anything; if so, the spec candidates are rebuilt on next use (the
    /// package candidates do not depend on it and are kept).
    pub(crate) fn prefer(&self, more: HashSet<PackageName>) -> bool {
        let mut preferred = self.preferred.borrow_mut();
        let before = preferred.len();
        preferred.extend(more);
        let changed = preferred.len() != before;
        if changed {
            self.specs.borrow_mut().clear();
        }
        changed
    }

    /// The root's dependencies: what the stack wants.
    fn root_dependencies(&self) -> DependencyConstraints<Node, VersionSet> {
        let wants = &self.stack.wants;
        wants
            .specs
            .iter()
            .map(|(spec, req)| (Node::Spec(spec.clone()), range_of(req)))
            .chain(
                wants
                    .packages
                    .iter()
                    .map(|(name, req)| (Node::Package(name.clone()), range_of(req))),
            )
            .collect()
    }

    fn package_dependencies(&self, name: &PackageName, version: &Version) -> Dependencies<Node, VersionSet, String> {
        let candidates = self.package(name);
        let Some((_, candidate)) = candidates.get(version) else {
            return Dependencies::Unavailable(format!("{name} {version} is not in the catalogue"));
        };
        let mut deps: Vec<(Node, VersionSet)> = Vec::new();
        if self.resolver.conflict_targets.contains(name) {
            deps.push((Node::Presence(name.clone()), VersionSet::singleton(version.clone())));
        }
        let entry = candidate.index.and_then(|i| self.resolver.entry(name, i));
        if let (None, Some(entry)) = (candidate.existing, entry) {
            let manifest = &entry.manifest;
            for (dep, req) in &manifest.requires.packages {
                if dep != name {
                    deps.push((Node::Package(dep.clone()), range_of(req)));
                }
            }
            for (spec, req) in &manifest.requires.specs {
                deps.push((Node::Spec(spec.clone()), range_of(req)));
            }
            // An approval that holds only together with a package in a range.
            for condition in candidates.conditions(self, candidate) {
                if condition.package != *name {
                    deps.push((Node::Package(condition.package.clone()), range_of(&condition.version)));
                }
            }
            for (other, req) in &manifest.conflicts.packages {
                if other != name {
                    let allowed = range_of(req).complement().union(&VersionSet::singleton(absent()));
                    deps.push((Node::Presence(other.clone()), allowed));
                }
            }
        }
        // One constraint per node: a condition on a package the manifest requires too
        // narrows that requirement.
        let mut merged: Vec<(Node, VersionSet)> = Vec::with_capacity(deps.len());
        for (node, range) in deps {
            match merged.iter_mut().find(|(n, _)| *n == node) {
                Some((_, before)) => *before = before.intersection(&range),
                None => merged.push((node, range)),
            }
        }
        Dependencies::Available(merged.into_iter().collect())
    }

    fn spec_dependencies(&self, spec: &SpecId, version: &Version) -> Dependencies<Node, VersionSet, String> {
        let candidates = self.spec(spec);
        match candidates.get(version) {
            Some(candidate) => match &candidate.provider {
                Provider::Package(name) => {
                    let versions = candidate
                        .verdict(self)
                        .versions
                        .iter()
                        .fold(VersionSet::empty(), |set, v| {
                            set.union(&VersionSet::singleton(v.clone()))
                        });
                    Dependencies::Available([(Node::Package(name.clone()), versions)].into_iter().collect())
                }
                Provider::Existing(_) => Dependencies::Available(DependencyConstraints::default()),
            },
            None => Dependencies::Unavailable(format!("{spec} {version} is not a known implementation")),
        }
    }

    /// How many allowed candidates `range` leaves for `node`.
    fn count(&self, node: &Node, range: &VersionSet) -> usize {
        match node {
            Node::Root => 1,
            // Approvals are not checked here (that may verify signatures): a count may
            // include versions that turn out unapproved when the solver chooses.
            Node::Package(name) => self
                .package(name)
                .list
                .iter()
                .filter(|c| c.maybe_allowed() && range.contains(&c.version))
                .count(),
            Node::Spec(spec) => self
                .spec(spec)
                .list
                .iter()
                .filter(|c| c.maybe_allowed() && range.contains(&c.virtual_version))
                .count(),
            Node::Presence(name) => {
                usize::from(range.contains(&absent()))
                    + self.package(name).known.iter().filter(|v| range.contains(v)).count()
            }
        }
    }
}

impl DependencyProvider for Session<'_> {
    type P = Node;
    type V = Version;
    type VS = VersionSet;
    type M = String;
    type Err = Cancelled;
    /// (kind, conflicts, fewer candidates first). Kinds: a node with no candidate left
    /// first (to fail fast), then packages, then specs (so the packages the stack needs
    /// are known before implementers are picked), then presence markers last (when
    /// every real package is decided).
    type Priority = (u8, u32, Reverse<usize>);

    fn prioritize(&self, node: &Node, range: &VersionSet, stats: &PackageResolutionStatistics) -> Self::Priority {
        let count = self.count(node, range);
        if count == 0 {
            return (u8::MAX, u32::MAX, Reverse(0));
        }
        let kind = match node {
            Node::Root => 4,
            Node::Package(_) => 3,
            Node::Spec(_) => 2,
            Node::Presence(_) => 1,
        };
        (kind, stats.conflict_count(), Reverse(count))
    }

    fn choose_version(&self, node: &Node, range: &VersionSet) -> Result<Option<Version>, Cancelled> {
        Ok(match node {
            Node::Root => Some(root_version()).filter(|v| range.contains(v)),
            Node::Package(name) => {
                let candidates = self.package(name);
                candidates
                    .list
                    .iter()
                    .find(|c| range.contains(&c.version) && candidates.allowed(self, c))
                    .map(|c| c.version.clone())
            }
            Node::Spec(spec) => self
                .spec(spec)
                .list
                .iter()
                .find(|c| range.contains(&c.virtual_version) && c.allowed(self))
                .map(|c| c.virtual_version.clone()),
            Node::Presence(name) => {
                let none = absent();
                if range.contains(&none) {
                    Some(none)
                } else {
                    self.package(name)
                        .known
                        .iter()
                        .rev()
                        .find(|v| range.contains(v))
                        .cloned()
                }
            }
        })
    }

    fn get_dependencies(
        &self,
        node: &Node,
        version: &Version,
    ) -> Result<Dependencies<Node, VersionSet, String>, Cancelled> {
        Ok(match node {
            Node::Root => Dependencies::Available(self.root_dependencies()),
            Node::Package(name) => self.package_dependencies(name, version),
            Node::Spec(spec) => self.spec_dependencies(spec, version),
            Node::Presence(_) => Dependencies::Available(DependencyConstraints::default()),
        })
    }

    fn should_cancel(&self) -> Result<(), Cancelled> {
        let steps = self.steps.get() + 1;
        self.steps.set(steps);
        match self.options.max_steps {
            Some(max) if steps > max => Err(Cancelled(steps)),
            _ => Ok(()),
        }
    }
}
