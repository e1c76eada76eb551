//! govstore-resolver: which package versions fit a country's stack.
//!
//! Given the catalogue ([`Catalogue`], from the sparse index or the registry's
//! database) and a stack profile ([`Stack`], from `stack.toml`), [`resolve`] finds one
//! version per package such that:
//!
//! - every spec the stack wants (`wants.specs`) is implemented at a matching spec version
//!   by an existing system of the stack or by a chosen package;
//! - every package the stack wants (`wants.packages`) is chosen at a matching version;
//! - every chosen package's `requires.specs` are met the same way, its
//!   `requires.packages` are chosen at matching versions, and no package it `conflicts`
//!   with is chosen in the conflicting range;
//! - every chosen version's `requires.platform` is met by the stack's
//!   `[infrastructure.platform]`, and the version passes the stack's policy: licence
//!   (SPDX expressions evaluated properly), trusted publishers, approvals, pre-releases
//!   (only when allowed, pinned or locked), minimum compliance for the specs it fills,
//!   not yanked (unless pinned or locked), not excluded, and the pinned version if pinned.
//!
//! It is PubGrub ([`pubgrub`] 0.4) underneath: specs are virtual packages whose versions
//! name their implementers, so the solver backtracks across implementers as across
//! versions (the `provider` module documents the encoding). Results are
//! deterministic and prefer, in order, what the stack already runs (existing systems,
//! then lockfile versions), higher compliance, and newer versions.
//!
//! When nothing fits, the error's report ([`NoSolution`]) explains why in plain words,
//! from the solver's derivation tree, and ends with hints:
//!
//! ```text
//! no set of packages fits the stack "Kenya digital ID" (KE):
//!
//!   Because the stack wants x-road/security-server >=8.0.0 and x-road/security-server
//!   has no usable version matching >=8.0.0 (8.0.0: needs kubernetes >=1.29, and the
//!   stack has kubernetes 1.27.3), the stack cannot be resolved.
//!
//! hint: x-road/security-server 8.0.0 would fit if the stack's kubernetes were >=1.29
//! ```
//!
//! The crate does no IO.
//!
//! ```
//! use govstore_core::index::Catalogue;
//! use govstore_core::stack::Stack;
//! use govstore_resolver::{resolve, ResolveOptions};
//!
//! let stack = Stack::from_toml_str("[stack]\ncountry = \"EE\"\nname = \"Estonia\"\n").unwrap();
//! let resolution = resolve(&Catalogue::default(), &stack, &ResolveOptions::default()).unwrap();
//! assert!(resolution.packages.is_empty());
//! ```

mod candidates;
mod error;
mod exclusion;
mod index;
mod options;
mod policy;
mod provider;
mod ranges;
mod report;
mod solution;

use std::collections::HashSet;

use govstore_core::index::Catalogue;
use govstore_core::package::PackageName;
use govstore_core::stack::Stack;
use pubgrub::PubGrubError;

pub use error::ResolveError;
pub use exclusion::{ComplianceKind, Exclusion, LicenceProblem, LicenceRule};
pub use index::Resolver;
pub use options::{ApprovalCheck, ApprovalFn, ResolveOptions};
pub use report::NoSolution;
pub use solution::{ChosenPackage, Dependent, Need, Resolution, SpecChoice, SpecProvider};

use provider::{Node, Session, root_version};

/// Resolves `stack` against `catalogue`. To resolve several stacks against one
/// catalogue, build a [`Resolver`] once and call [`Resolver::resolve`].
pub fn resolve(catalogue: &Catalogue, stack: &Stack, options: &ResolveOptions) -> Result<Resolution, ResolveError> {
    Resolver::new(catalogue).resolve(stack, options)
}

/// At most this many solves: the first, and re-solves that prefer packages already in
/// the result as spec implementers.
const ROUNDS: usize = 3;

impl Resolver<'_> {
    /// Resolves `stack`. See the [crate documentation](crate).
    pub fn resolve(&self, stack: &Stack, options: &ResolveOptions) -> Result<Resolution, ResolveError> {
        let session = Session::new(self, stack, options);
        let mut round = 0;
        loop {
            round += 1;
            let resolution = match pubgrub::resolve(&session, Node::Root, root_version()) {
                Ok(selected) => Resolution::build(&session, selected),
                Err(PubGrubError::NoSolution(tree)) => {
                    return Err(ResolveError::NoSolution(Box::new(NoSolution::build(&session, &tree))));
                }
                Err(_) => {
                    return Err(ResolveError::TooComplex { steps: session.steps() });
                }
            };
            if round == ROUNDS || !session.prefer(better_implementers(&resolution)) {
                return Ok(resolution);
            }
        }
    }
}

/// Packages already in `resolution` that implement a spec which another package was
/// added only to implement, at a spec version every dependent accepts. Preferring them
/// as implementers gives a smaller stack.
fn better_implementers(resolution: &Resolution) -> HashSet<PackageName> {
    let mut out = HashSet::new();
    for choice in &resolution.specs {
        let SpecProvider::Package { name: current, .. } = &choice.provider else {
            continue;
        };
        let only_for_specs = resolution
            .get(current)
            .is_some_and(|p| p.satisfies.iter().all(|n| matches!(n, Need::Implements { .. })));
        if !only_for_specs {
            continue;
        }
        for other in &resolution.packages {
            if &other.name == current {
                continue;
            }
            let fits = other.implements.iter().any(|(spec, version)| {
                spec == &choice.spec && choice.needed_by.iter().all(|(_, req)| req.matches(version))
            });
            if fits {
                out.insert(other.name.clone());
            }
        }
    }
    out
}
