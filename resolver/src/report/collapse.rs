//! Dropping the steps of a derivation tree that only say "there is no other version".
//!
//! When the solver tries a version and it fails, it records that no other version is
//! left (`NoVersions` over the gaps around the tried ones). Saying so adds nothing for a
//! reader, so such a step is merged into the fact it was combined with, as pubgrub's own
//! `collapse_no_versions` does. Steps that do say something stay: a package that is not
//! in the catalogue, a requirement no version meets, and candidates that the policy or
//! the platform ruled out (their reasons are the report's substance).

use std::sync::Arc;

use pubgrub::{DerivationTree, External};

use super::text::hull;
use crate::provider::{Node, Session};
use crate::ranges::VersionSet;

type Tree = DerivationTree<Node, VersionSet, String>;

pub(crate) fn collapse(session: &Session<'_>, tree: &mut Tree) {
    let DerivationTree::Derived(derived) = tree else {
        return;
    };
    collapse(session, Arc::make_mut(&mut derived.cause1));
    collapse(session, Arc::make_mut(&mut derived.cause2));
    let replacement = match (derived.cause1.as_ref(), derived.cause2.as_ref()) {
        (DerivationTree::External(External::NoVersions(node, range)), other)
        | (other, DerivationTree::External(External::NoVersions(node, range)))
            if dull(session, node, range) =>
        {
            Some(merge(other.clone(), node, range))
        }
        _ => None,
    };
    if let Some(replacement) = replacement {
        *tree = replacement;
    }
}

/// "No other version of `node` in `range`" says nothing worth reading: the gap is
/// around versions the solver tried, and nothing in it was ruled out.
fn dull(session: &Session<'_>, node: &Node, range: &VersionSet) -> bool {
    let span = hull(range);
    match node {
        Node::Root => false,
        Node::Presence(_) => true,
        Node::Package(name) => {
            let candidates = session.package(name);
            let ruled_out = candidates
                .list
                .iter()
                .any(|c| range.contains(&c.version) && !candidates.allowed(session, c));
            let tried = candidates.known.iter().any(|v| span.contains(v) && !range.contains(v));
            !ruled_out && tried
        }
        Node::Spec(spec) => {
            let candidates = session.spec(spec);
            let ruled_out = candidates
                .list
                .iter()
                .any(|c| range.contains(&c.virtual_version) && !c.allowed(session));
            let tried = candidates
                .list
                .iter()
                .any(|c| span.contains(&c.virtual_version) && !range.contains(&c.virtual_version));
            !ruled_out && tried
        }
    }
}

/// `other` with the gap folded in: a dependency of the node's versions now covers the
/// gap too. A requirement on the node is left as written.
fn merge(other: Tree, node: &Node, range: &VersionSet) -> Tree {
    match other {
        DerivationTree::External(External::FromDependencyOf(from, from_range, to, to_range)) if &from == node => {
            DerivationTree::External(External::FromDependencyOf(from, from_range.union(range), to, to_range))
        }
        other => other,
    }
}
