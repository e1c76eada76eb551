//! The candidates for each node, in the order the resolver prefers them, each with the
//! reasons (if any) it is ruled out before solving.
//!
//! Preference, for a package: the version the stack already runs, then the version
//! the lockfile names, then higher compliance, then newer. For a spec: an existing
//! system or a package the stack already runs, then implementations by packages the
//! stack wants, pins or has locked, then higher compliance for that spec, then newer
//! spec versions, then the package's name; among the versions of the implementing
//! package, the package's own order.
//! Every key ends in something unique, so the order, and so the result, never depends on
//! the order of the catalogue's lists.

use std::cell::OnceCell;
use std::cmp::Reverse;
use std::collections::HashSet;

use govstore_core::approval::Requires;
use govstore_core::package::{PackageName, SpecId};
use govstore_core::stack::Stack;
use semver::{BuildMetadata, Version};

use crate::exclusion::Exclusion;
use crate::index::Resolver;
use crate::options::ResolveOptions;
use crate::policy;
use crate::provider::Session;

/// The versions of one package.
#[derive(Debug)]
pub(crate) struct PackageCandidates {
    pub(crate) name: PackageName,
    /// Most preferred first.
    pub(crate) list: Vec<Candidate>,
    /// Every version, ascending.
    pub(crate) known: Vec<Version>,
}

/// One version of a package.
#[derive(Debug)]
pub(crate) struct Candidate {
    pub(crate) version: Version,
    /// Index into the catalogue's versions of the package, if the catalogue has it.
    pub(crate) index: Option<usize>,
    /// Index into `stack.existing`, if the stack already runs this version.
    pub(crate) existing: Option<usize>,
    /// Why it cannot be chosen, apart from approval; empty when it can.
    pub(crate) excluded: Vec<Exclusion>,
    /// Whether the stack's `approved_only` applies to it (a catalogue version the stack
    /// does not already run).
    needs_approval: bool,
    /// The approval verdict (approved with its conditions, or not with why), worked out
    /// on first use: checking an approval may verify signatures, and the solver looks
    /// at few versions.
    approval: OnceCell<Result<Vec<Requires>, Exclusion>>,
}

impl Candidate {
    /// Whether it may still be allowed, without working out its approval: for counts.
    pub(crate) fn maybe_allowed(&self) -> bool {
        self.excluded.is_empty() && self.approval.get().is_none_or(Result::is_ok)
    }
}

impl PackageCandidates {
    pub(crate) fn get(&self, version: &Version) -> Option<(usize, &Candidate)> {
        self.list.iter().enumerate().find(|(_, c)| &c.version == version)
    }

    /// Whether `c` may be chosen: its other rules first, then (only if those allow it)
    /// its approval, checked now if not yet.
    pub(crate) fn allowed(&self, session: &Session<'_>, c: &Candidate) -> bool {
        c.excluded.is_empty() && self.approval(session, c).is_none()
    }

    /// Why `c` lacks approval, if it does, checked on first use.
    fn approval<'c>(&self, session: &Session<'_>, c: &'c Candidate) -> Option<&'c Exclusion> {
        self.verdict(session, c).and_then(|v| v.as_ref().err())
    }

    /// The conditions `c`'s approvals carry (none when it needs no approval).
    pub(crate) fn conditions<'c>(&self, session: &Session<'_>, c: &'c Candidate) -> &'c [Requires] {
        self.verdict(session, c)
            .and_then(|v| v.as_ref().ok())
            .map_or(&[], Vec::as_slice)
    }

    fn verdict<'c>(&self, session: &Session<'_>, c: &'c Candidate) -> Option<&'c Result<Vec<Requires>, Exclusion>> {
        if !c.needs_approval {
            return None;
        }
        let index = c.index?;
        Some(
            c.approval
                .get_or_init(|| match session.resolver.entry(&self.name, index) {
                    Some(entry) => policy::approval(entry, session.stack, session.options),
                    None => Ok(Vec::new()),
                }),
        )
    }

    /// Every reason `c` cannot be chosen, its approval included (checked now if not
    /// yet): for reports, which explain every version in a gap.
    pub(crate) fn exclusions(&self, session: &Session<'_>, c: &Candidate) -> Vec<Exclusion> {
        let mut out = c.excluded.clone();
        if let Some(e) = self.approval(session, c) {
            // Where the rules list it: before the platform's reasons.
            let at = out
                .iter()
                .position(|x| matches!(x, Exclusion::Platform { .. }))
                .unwrap_or(out.len());
            out.insert(at, e.clone());
        }
        out
    }
}

/// The implementations of one spec: virtual versions `spec-version+e<i>` (existing
/// system `i`) and `spec-version+p<k>` (the `k`th implementing package, at that spec
/// version, whichever of its versions).
#[derive(Debug)]
pub(crate) struct SpecCandidates {
    /// Most preferred first.
    pub(crate) list: Vec<SpecCandidate>,
}

#[derive(Debug)]
pub(crate) struct SpecCandidate {
    /// The spec version with build metadata naming the provider.
    pub(crate) virtual_version: Version,
    pub(crate) spec_version: Version,
    pub(crate) provider: Provider,
    /// For a package: the catalogue entries (version index, `implements` index) that
    /// implement this spec version.
    entries: Vec<(usize, usize)>,
    /// Which of those versions may be chosen for the spec, worked out on first use: most
    /// specs have many implementers and the solver looks at few of them.
    verdict: OnceCell<Verdict>,
}

/// For a package provider: its versions that implement the spec version and may be
/// chosen for it (most preferred first), and those that may not, with why.
#[derive(Debug, Default)]
pub(crate) struct Verdict {
    pub(crate) versions: Vec<Version>,
    pub(crate) excluded: Vec<(Version, Vec<Exclusion>)>,
}

impl SpecCandidate {
    /// The verdict on the provider's versions; empty for an existing system.
    pub(crate) fn verdict(&self, session: &Session<'_>) -> &Verdict {
        self.verdict.get_or_init(|| match &self.provider {
            Provider::Existing(_) => Verdict::default(),
            Provider::Package(name) => judge(session, name, &self.entries),
        })
    }

    pub(crate) fn allowed(&self, session: &Session<'_>) -> bool {
        match self.provider {
            Provider::Existing(_) => true,
            Provider::Package(_) => !self.verdict(session).versions.is_empty(),
        }
    }

    /// Whether it may still be allowed, without working it out: for priorities.
    pub(crate) fn maybe_allowed(&self) -> bool {
        self.verdict
            .get()
            .is_none_or(|v| !v.versions.is_empty() || matches!(self.provider, Provider::Existing(_)))
    }
}

impl SpecCandidates {
    pub(crate) fn get(&self, virtual_version: &Version) -> Option<&SpecCandidate> {
        self.list.iter().find(|c| c.virtual_version == *virtual_version)
    }
}

/// Who provides a spec version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Provider {
    /// `stack.existing[i]`.
    Existing(usize),
    /// A catalogue package (some of its versions; possibly one the stack already runs).
    Package(PackageName),
}

pub(crate) fn package_candidates(
    resolver: &Resolver<'_>,
    name: &PackageName,
    stack: &Stack,
    options: &ResolveOptions,
) -> PackageCandidates {
    let versions = resolver.versions(name);
    let running = stack.existing.iter().enumerate().find_map(|(i, e)| {
        (e.package.as_ref() == Some(name)).then_some(())?;
        e.version.as_ref().map(|v| (i, v))
    });
    let rules = policy::PackageRules::new(name, stack, options);
    let mut licence_cache = None;
    let mut list: Vec<Candidate> = versions
        .iter()
        .enumerate()
        .map(|(index, entry)| {
            let existing = running.filter(|(_, v)| **v == entry.version).map(|(i, _)| i);
            let excluded = if existing.is_some() {
                held_back(name, &entry.version, stack)
            } else {
                policy::check_version(&rules, entry, stack, &mut licence_cache)
            };
            Candidate {
                version: entry.version.clone(),
                index: Some(index),
                existing,
                excluded,
                needs_approval: existing.is_none() && stack.policy.approved_only,
                approval: OnceCell::new(),
            }
        })
        .collect();
    if let Some((i, version)) = running
        && !list.iter().any(|c| &c.version == version)
    {
        list.push(Candidate {
            version: version.clone(),
            index: None,
            existing: Some(i),
            excluded: held_back(name, version, stack),
            needs_approval: false,
            approval: OnceCell::new(),
        });
    }
    let score = |c: &Candidate| {
        c.index.and_then(|i| versions.get(i)).map_or(0, |e| {
            e.manifest
                .implements
                .iter()
                .map(policy::compliance_score)
                .max()
                .unwrap_or(0)
        })
    };
    let locked = options.locked.get(name);
    list.sort_by_cached_key(|c| {
        (
            c.existing.is_none(),
            locked != Some(&c.version),
            Reverse(score(c)),
            Reverse(c.version.clone()),
        )
    });
    let mut known: Vec<Version> = list.iter().map(|c| c.version.clone()).collect();
    known.sort();
    known.dedup();
    PackageCandidates {
        name: name.clone(),
        list,
        known,
    }
}

/// The only rules that apply to a version the stack already runs: the stack's own
/// pins and excludes.
fn held_back(name: &PackageName, version: &Version, stack: &Stack) -> Vec<Exclusion> {
    let mut out = Vec::new();
    if stack.wants.excludes.contains(name) {
        out.push(Exclusion::Excluded);
    }
    if let Some(pin) = stack.wants.pins.get(name).filter(|pin| *pin != version) {
        out.push(Exclusion::PinnedElsewhere { pin: pin.clone() });
    }
    out
}

fn build(prefix: char, n: usize) -> BuildMetadata {
    BuildMetadata::new(&format!("{prefix}{n}")).unwrap_or(BuildMetadata::EMPTY)
}

/// The implementations of `spec`, in preference order. Cheap: the groups come
/// precomputed from the index in their stack-independent order, and only those the
/// stack runs or names move to the front; which versions of each package may fill the
/// spec is worked out later, on demand ([`SpecCandidate::verdict`]).
pub(crate) fn spec_candidates(
    resolver: &Resolver<'_>,
    spec: &SpecId,
    stack: &Stack,
    preferred: &HashSet<PackageName>,
) -> SpecCandidates {
    let mut existing: Vec<(Reverse<&Version>, &str, SpecCandidate)> = Vec::new();
    for (i, system) in stack.existing.iter().enumerate() {
        for imp in system.implements.iter().filter(|imp| &imp.spec == spec) {
            let mut virtual_version = imp.version.clone();
            virtual_version.build = build('e', i);
            existing.push((
                Reverse(&imp.version),
                &system.name,
                SpecCandidate {
                    virtual_version,
                    spec_version: imp.version.clone(),
                    provider: Provider::Existing(i),
                    entries: Vec::new(),
                    verdict: OnceCell::new(),
                },
            ));
        }
    }
    existing.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    let groups = resolver.spec_groups.get(spec).map(Vec::as_slice).unwrap_or_default();
    let runs = |package: &PackageName, entries: &[(usize, usize)]| {
        stack.existing.iter().any(|e| {
            e.package.as_ref() == Some(package)
                && e.version.as_ref().is_some_and(|running| {
                    entries
                        .iter()
                        .any(|(vi, _)| resolver.entry(package, *vi).is_some_and(|x| &x.version == running))
                })
        })
    };
    // Groups the stack runs, then those it names, each in the index's order; then the rest.
    let mut front: Vec<(bool, usize)> = Vec::new();
    let mut rest: Vec<usize> = Vec::new();
    for (k, group) in groups.iter().enumerate() {
        let named = preferred.contains(&group.package);
        let running = !stack.existing.is_empty() && runs(&group.package, &group.entries);
        if running || named {
            front.push((!running, k));
        } else {
            rest.push(k);
        }
    }
    front.sort();
    let order = front.into_iter().map(|(_, k)| k).chain(rest);
    let list = existing
        .into_iter()
        .map(|(_, _, c)| c)
        .chain(order.filter_map(|k| groups.get(k)).map(|group| SpecCandidate {
            virtual_version: group.virtual_version.clone(),
            spec_version: group.spec_version.clone(),
            provider: Provider::Package(group.package.clone()),
            entries: group.entries.clone(),
            verdict: OnceCell::new(),
        }))
        .collect();
    SpecCandidates { list }
}

/// Which of `name`'s versions in `entries` may fill the spec: those the package's own
/// rules allow and whose claims meet the compliance policy (unless the stack already
/// runs them), in the package's preference order. Approvals are checked in that order
/// only up to the first approved version (so the verdict is empty exactly when none is
/// approved); the less preferred ones are listed as allowed, and the package's own
/// candidates check their approval if the solver ever gets to them.
fn judge(session: &Session<'_>, name: &PackageName, entries: &[(usize, usize)]) -> Verdict {
    let stack = session.stack;
    let candidates = session.package(name);
    let mut judged: Vec<(usize, &Candidate, Vec<Exclusion>)> = Vec::new();
    for &(vi, ii) in entries {
        let Some(entry) = session.resolver.entry(name, vi) else {
            continue;
        };
        let Some(imp) = entry.manifest.implements.get(ii) else {
            continue;
        };
        let Some((rank, cand)) = candidates.get(&entry.version) else {
            continue;
        };
        let mut reasons = cand.excluded.clone();
        if cand.existing.is_none() {
            reasons.extend(policy::compliance(imp, &stack.policy));
            let wanted_pre = stack
                .wants
                .specs
                .get(&imp.spec)
                .is_some_and(crate::ranges::names_prerelease);
            if !policy::spec_prerelease_allowed(&imp.version, wanted_pre, stack) {
                reasons.push(Exclusion::PreRelease);
            }
        }
        judged.push((rank, cand, reasons));
    }
    judged.sort_by_key(|(rank, _, _)| *rank);
    let mut allowed = Vec::new();
    let mut excluded = Vec::new();
    let mut approved_one = false;
    for (_, cand, mut reasons) in judged {
        if reasons.is_empty() && !approved_one {
            if candidates.allowed(session, cand) {
                approved_one = true;
            } else {
                reasons = candidates.exclusions(session, cand);
            }
        }
        if reasons.is_empty() {
            allowed.push(cand.version.clone());
        } else {
            excluded.push((cand.version.clone(), reasons));
        }
    }
    excluded.sort_by(|a, b| a.0.cmp(&b.0));
    Verdict {
        versions: allowed,
        excluded,
    }
}
