//! Hints at the end of a report: what would change the outcome. They come from the
//! places where the solver ran out of candidates (`NoVersions` in the derivation tree),
//! where the candidates ruled out before solving are the ones that matter.

use std::collections::BTreeSet;

use govstore_core::package::{PackageName, SpecId};
use pubgrub::{DerivationTree, External};
use semver::Version;

use crate::candidates::Provider;
use crate::exclusion::{Exclusion, list};
use crate::provider::{Node, Session};
use crate::ranges::VersionSet;
use crate::solution::req_text;

/// Every hint for `tree`, in the order of the tree, without repeats.
pub(crate) fn hints(session: &Session<'_>, tree: &DerivationTree<Node, VersionSet, String>) -> Vec<String> {
    let mut gaps = Vec::new();
    collect(tree, &mut gaps);
    let mut out = Vec::new();
    for (node, range) in gaps {
        match node {
            Node::Package(name) => package_hints(session, name, range, &mut out),
            Node::Spec(spec) => spec_hints(session, spec, range, &mut out),
            Node::Root | Node::Presence(_) => {}
        }
    }
    let mut seen = BTreeSet::new();
    out.retain(|h| seen.insert(h.clone()));
    out
}

fn collect<'t>(tree: &'t DerivationTree<Node, VersionSet, String>, out: &mut Vec<(&'t Node, &'t VersionSet)>) {
    match tree {
        DerivationTree::External(External::NoVersions(node, range)) => out.push((node, range)),
        DerivationTree::External(_) => {}
        DerivationTree::Derived(derived) => {
            collect(&derived.cause1, out);
            collect(&derived.cause2, out);
        }
    }
}

fn package_hints(session: &Session<'_>, name: &PackageName, range: &VersionSet, out: &mut Vec<String>) {
    let candidates = session.package(name);
    if candidates.known.is_empty() {
        out.push(match closest_name(session, name) {
            Some(other) => format!("{name} is not in the catalogue; did you mean {other}?"),
            None => format!("{name} is not in the catalogue; check the name, or list it under [[existing]] if the stack already runs it"),
        });
        return;
    }
    let all: Vec<(&Version, Vec<Exclusion>)> = candidates
        .list
        .iter()
        .filter(|c| range.contains(&c.version))
        .map(|c| (&c.version, candidates.exclusions(session, c)))
        .filter(|(_, r)| !r.is_empty())
        .collect();
    let excluded: Vec<(&Version, &[Exclusion])> = all.iter().map(|(v, r)| (*v, r.as_slice())).collect();
    version_hints(session, name, &excluded, out);
}

/// Hints about the excluded versions of one package, most useful first.
fn version_hints(
    session: &Session<'_>,
    name: &PackageName,
    excluded: &[(&Version, &[Exclusion])],
    out: &mut Vec<String>,
) {
    let mut excluded = excluded.to_vec();
    excluded.sort_by(|a, b| b.0.cmp(a.0));
    let excluded = excluded.as_slice();
    // The newest version that only the platform keeps out.
    if let Some((version, reasons)) = excluded
        .iter()
        .find(|(_, r)| r.iter().all(|e| matches!(e, Exclusion::Platform { .. })))
    {
        out.push(format!("{name} {version} would fit if {}", platform_change(reasons)));
    }
    let with = |pick: fn(&Exclusion) -> bool| -> Vec<(&Version, &Exclusion)> {
        excluded
            .iter()
            .filter_map(|(v, r)| r.iter().find(|e| pick(e)).map(|e| (*v, e)))
            .collect()
    };
    let licence = with(|e| matches!(e, Exclusion::Licence { .. }));
    if !licence.is_empty() {
        let problems: BTreeSet<String> = licence
            .iter()
            .flat_map(|(_, e)| match e {
                Exclusion::Licence { problems, .. } => problems.iter().map(ToString::to_string).collect(),
                _ => Vec::new(),
            })
            .collect();
        let problems: Vec<String> = problems.into_iter().collect();
        out.push(format!(
            "{} excluded by the licence policy: {}",
            count_versions(name, &licence, "was", "were"),
            problems.join("; ")
        ));
    }
    let yanked = with(|e| matches!(e, Exclusion::Yanked { .. }));
    if let [(version, Exclusion::Yanked { reason })] = yanked.as_slice() {
        let why = reason.as_ref().map(|r| format!(" ({r})")).unwrap_or_default();
        out.push(format!(
            "{name} {version} is yanked{why}; pin it in wants.pins, or keep it in a lockfile, to use it anyway"
        ));
    } else if !yanked.is_empty() {
        out.push(format!(
            "{} yanked; pin one in wants.pins, or keep it in a lockfile, to use it anyway",
            count_versions(name, &yanked, "is", "are")
        ));
    }
    let pre = with(|e| matches!(e, Exclusion::PreRelease));
    if let Some((version, _)) = pre.first() {
        out.push(format!(
            "{name} {version} is a pre-release; set allow_prereleases = true in [policy], or pin it, to use it"
        ));
    }
    if let Some((_, Exclusion::UntrustedPublisher { namespace })) =
        with(|e| matches!(e, Exclusion::UntrustedPublisher { .. })).first()
    {
        out.push(format!(
            "{name} is published by `{namespace}`, which is not in policy.trusted_publishers"
        ));
    }
    if !with(|e| matches!(e, Exclusion::Excluded)).is_empty() {
        out.push(format!("{name} is in wants.excludes"));
    }
    if let Some((_, Exclusion::PinnedElsewhere { pin })) =
        with(|e| matches!(e, Exclusion::PinnedElsewhere { .. })).first()
    {
        out.push(format!(
            "wants.pins holds {name} at {pin}; its other versions were not considered"
        ));
    }
    let unapproved = with(|e| matches!(e, Exclusion::NotApproved { .. }));
    if !unapproved.is_empty() {
        out.push(format!(
            "{} not approved for {} (policy.approved_only)",
            count_versions(name, &unapproved, "is", "are"),
            session.stack.stack.country
        ));
        for (version, reason) in unapproved.iter().take(5) {
            if let Exclusion::NotApproved { why: Some(why), .. } = reason {
                out.push(format!("{name} {version}: {why}"));
            }
        }
    }
}

/// `the stack's kubernetes were >=1.29 and it had redis`.
fn platform_change(reasons: &[Exclusion]) -> String {
    let changes: Vec<String> = reasons
        .iter()
        .filter_map(|e| match e {
            Exclusion::Platform {
                component,
                requirement,
                available: Some(_),
            } => Some(format!("the stack's {component} were {requirement}")),
            Exclusion::Platform {
                component,
                requirement,
                available: None,
            } => Some(if requirement.comparators.is_empty() {
                format!("the stack had {component}")
            } else {
                format!("the stack had {component} {}", req_text(requirement))
            }),
            _ => None,
        })
        .collect();
    list(&changes)
}

/// `x 9.0.0 was` or `3 versions of x were`.
fn count_versions<T>(name: &PackageName, versions: &[(&Version, T)], one: &str, many: &str) -> String {
    match versions {
        [(version, _)] => format!("{name} {version} {one}"),
        _ => format!("{} versions of {name} {many}", versions.len()),
    }
}

fn spec_hints(session: &Session<'_>, spec: &SpecId, range: &VersionSet, out: &mut Vec<String>) {
    let candidates = session.spec(spec);
    if candidates.list.is_empty() {
        out.push(format!(
            "no package in the catalogue implements {spec}; if the stack already runs a system that does, list it under [[existing]] with the spec version it implements"
        ));
        return;
    }
    let inside: Vec<_> = candidates
        .list
        .iter()
        .filter(|c| range.contains(&c.virtual_version) && !c.allowed(session))
        .collect();
    let compliance: Vec<&Exclusion> = inside
        .iter()
        .flat_map(|c| c.verdict(session).excluded.iter())
        .filter_map(|(_, r)| r.iter().find(|e| matches!(e, Exclusion::Compliance { .. })))
        .collect();
    if !compliance.is_empty() {
        let asks: BTreeSet<String> = compliance
            .iter()
            .filter_map(|e| match e {
                Exclusion::Compliance { kind, minimum, .. } => Some(format!("{} {minimum}", kind.as_str())),
                _ => None,
            })
            .collect();
        let asks: Vec<String> = asks.into_iter().collect();
        let subject = match compliance.len() {
            1 => format!("1 implementation of {spec} was"),
            n => format!("{n} implementations of {spec} were"),
        };
        out.push(format!(
            "{subject} excluded by the compliance policy, which asks for {}",
            list(&asks)
        ));
    }
    // Package-level reasons, per implementing package, without the compliance ones.
    for candidate in inside {
        let Provider::Package(name) = &candidate.provider else {
            continue;
        };
        let versions: Vec<(&Version, Vec<Exclusion>)> = candidate
            .verdict(session)
            .excluded
            .iter()
            .map(|(v, r)| {
                let kept = r
                    .iter()
                    .filter(|e| !matches!(e, Exclusion::Compliance { .. }))
                    .cloned()
                    .collect::<Vec<_>>();
                (v, kept)
            })
            .filter(|(_, r)| !r.is_empty())
            .collect();
        let borrowed: Vec<(&Version, &[Exclusion])> = versions.iter().map(|(v, r)| (*v, r.as_slice())).collect();
        version_hints(session, name, &borrowed, out);
    }
}

/// A catalogue package whose name is close to `name`: the same name in another
/// namespace, or at most two edits away.
fn closest_name(session: &Session<'_>, name: &PackageName) -> Option<String> {
    let names = session.resolver.catalogue.packages.keys();
    let mut best: Option<(usize, &PackageName)> = None;
    for other in names {
        let distance = if other.name() == name.name() {
            1
        } else {
            edit_distance(other.as_str(), name.as_str())
        };
        if distance <= 2 && best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, other));
        }
    }
    best.map(|(_, n)| n.to_string())
}

fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let substitute = prev[j - 1] + usize::from(a[i - 1] != b[j - 1]);
            cur[j] = substitute.min(prev[j] + 1).min(cur[j - 1] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}
