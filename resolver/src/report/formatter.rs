//! The [`ReportFormatter`]: one sentence per step of the derivation tree, in the words
//! of the stack profile and the manifests.

use std::cmp::Ordering;

use govstore_core::package::{PackageName, SpecId};
use pubgrub::{Derived, External, Map, ReportFormatter, Term};
use semver::Version;

use super::text::{
    covers_package, hull, package_set, presence_set, provider_text, provider_versions, range_text, spec_set, suffix,
    without_absent,
};
use crate::exclusion::{Exclusion, list};
use crate::provider::{Node, Session};
use crate::ranges::{VersionSet, exactly};

type Ext = External<Node, VersionSet, String>;
type Terms = Map<Node, Term<VersionSet>>;

/// Formats a derivation tree of one [`Session`].
pub(crate) struct Formatter<'s, 'a> {
    pub(crate) session: &'s Session<'a>,
}

impl Formatter<'_, '_> {
    /// A node and a version set, as a noun phrase.
    fn phrase(&self, node: &Node, range: &VersionSet) -> String {
        match node {
            Node::Root => "the stack".to_owned(),
            Node::Package(name) => package_set(self.session, name, range),
            Node::Spec(spec) => spec_set(self.session, spec, range),
            Node::Presence(name) => presence_set(self.session, name, range),
        }
    }

    /// `x cannot be used`, for a single positive term.
    fn forbidden(&self, node: &Node, range: &VersionSet) -> String {
        match node {
            Node::Root => "the stack cannot be resolved".to_owned(),
            Node::Package(name) if covers_package(self.session, name, range) => {
                format!("no version of {name} can be used")
            }
            Node::Spec(spec)
                if self
                    .session
                    .spec(spec)
                    .list
                    .iter()
                    .all(|c| range.contains(&c.virtual_version)) =>
            {
                format!("no implementation of {spec} can be used")
            }
            _ => format!("{} cannot be used", self.phrase(node, range)),
        }
    }

    /// Whether `external` is a package's link to its own conflict marker (`b 2.1.0`
    /// means `b` installed at 2.1.0): true but not worth saying.
    fn own_marker(external: &Ext) -> bool {
        matches!(external, External::FromDependencyOf(Node::Package(a), _, Node::Presence(b), _) if a == b)
    }

    /// The order two facts read best in: what the stack wants, then what packages need,
    /// then what is missing.
    fn rank(external: &Ext) -> u8 {
        match external {
            External::FromDependencyOf(Node::Root, ..) => 0,
            External::FromDependencyOf(..) => 1,
            External::NoVersions(..) => 2,
            _ => 3,
        }
    }

    /// `a and b`, in reading order, with the stack's wants merged
    /// (`the stack wants x and y`) and conflict markers left out.
    fn both(&self, e1: &Ext, e2: &Ext) -> String {
        let (first, second) = match Self::rank(e1).cmp(&Self::rank(e2)) {
            Ordering::Greater => (e2, e1),
            _ => (e1, e2),
        };
        if Self::own_marker(first) {
            return self.format_external(second);
        }
        if Self::own_marker(second) {
            return self.format_external(first);
        }
        if let (
            External::FromDependencyOf(Node::Root, _, to1, r1),
            External::FromDependencyOf(Node::Root, _, to2, r2),
        ) = (first, second)
        {
            return format!("the stack wants {} and {}", self.wanted(to1, r1), self.wanted(to2, r2));
        }
        format!("{} and {}", self.format_external(first), self.format_external(second))
    }

    /// What the stack wants, as written in `[wants]`.
    fn wanted(&self, node: &Node, range: &VersionSet) -> String {
        match node {
            Node::Spec(spec) => format!("an implementation of {spec}{}", suffix(range)),
            Node::Package(name) => format!("{name}{}", suffix(range)),
            other => self.phrase(other, range),
        }
    }

    fn no_versions(&self, node: &Node, range: &VersionSet) -> String {
        match node {
            Node::Package(name) => self.no_package_versions(name, range),
            Node::Spec(spec) => self.no_spec_versions(spec, range),
            Node::Root => "the stack cannot be resolved".to_owned(),
            Node::Presence(name) => format!("no version of {name} fits{}", suffix(&without_absent(range))),
        }
    }

    fn no_package_versions(&self, name: &PackageName, range: &VersionSet) -> String {
        let candidates = self.session.package(name);
        if candidates.known.is_empty() {
            return format!("{name} is not in the catalogue");
        }
        let all: Vec<(&Version, Vec<Exclusion>)> = candidates
            .list
            .iter()
            .filter(|c| range.contains(&c.version))
            .map(|c| (&c.version, candidates.exclusions(self.session, c)))
            .filter(|(_, r)| !r.is_empty())
            .collect();
        let mut excluded: Vec<(&Version, &[Exclusion])> = all.iter().map(|(v, r)| (*v, r.as_slice())).collect();
        excluded.sort_by(|a, b| a.0.cmp(b.0));
        let wanted = range_text(&hull(range));
        let matching = if wanted.is_empty() {
            String::new()
        } else {
            format!(" matching {wanted}")
        };
        if excluded.is_empty() {
            let newest: Vec<String> = candidates.known.iter().rev().take(5).map(ToString::to_string).collect();
            return format!("no version of {name}{matching} exists (it has {})", list(&newest));
        }
        let items = excluded.into_iter().map(|(v, r)| (v.to_string(), reasons(r))).collect();
        format!("{name} has no usable version{matching} ({})", groups(items))
    }

    fn no_spec_versions(&self, spec: &SpecId, range: &VersionSet) -> String {
        let candidates = self.session.spec(spec);
        if candidates.list.is_empty() {
            return format!("nothing in the catalogue or the stack implements {spec}");
        }
        let wanted = suffix(&hull(range));
        let mut items: Vec<String> = Vec::new();
        for c in candidates
            .list
            .iter()
            .filter(|c| range.contains(&c.virtual_version) && !c.allowed(self.session))
        {
            let name = provider_text(self.session, &c.provider);
            let mut by_reason: Vec<(Vec<&Version>, String)> = Vec::new();
            for (version, excluded) in &c.verdict(self.session).excluded {
                let reason = reasons(excluded);
                match by_reason.iter_mut().find(|(_, r)| *r == reason) {
                    Some((versions, _)) => versions.push(version),
                    None => by_reason.push((vec![version], reason)),
                }
            }
            for (versions, reason) in by_reason {
                items.push(match versions.as_slice() {
                    [one] => format!("{name} {one} {reason}"),
                    many => format!("{name} {}: each {reason}", list(many)),
                });
            }
        }
        if items.is_empty() {
            let others: Vec<String> = candidates
                .list
                .iter()
                .take(4)
                .map(|c| format!("{} implements {}", provider_versions(self.session, c), c.spec_version))
                .collect();
            return format!("nothing implements {spec}{wanted} ({})", others.join("; "));
        }
        format!(
            "there is no usable implementation of {spec}{wanted} ({})",
            items.join("; ")
        )
    }
}

/// `needs kubernetes >=1.29, and the stack has kubernetes 1.27.3; it also is yanked`.
fn reasons(excluded: &[Exclusion]) -> String {
    let texts: Vec<String> = excluded.iter().map(ToString::to_string).collect();
    texts.join("; it also ")
}

/// `8.0.0 is yanked; 8.1.0 and 8.2.0: each needs kubernetes >=1.29, ...`: subjects with
/// the same reason share it.
fn groups(items: Vec<(String, String)>) -> String {
    let mut grouped: Vec<(Vec<String>, String)> = Vec::new();
    for (subject, reason) in items {
        match grouped.iter_mut().find(|(_, r)| *r == reason) {
            Some((subjects, _)) => subjects.push(subject),
            None => grouped.push((vec![subject], reason)),
        }
    }
    grouped
        .into_iter()
        .map(|(subjects, reason)| match subjects.as_slice() {
            [one] => format!("{one} {reason}"),
            many if many.len() > 4 => format!("{} and {} more: each {reason}", many[..3].join(", "), many.len() - 3),
            many => format!("{}: each {reason}", list(many)),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

impl ReportFormatter<Node, VersionSet, String> for Formatter<'_, '_> {
    type Output = String;

    fn format_external(&self, external: &Ext) -> String {
        match external {
            External::NotRoot(..) => "the stack is being resolved".to_owned(),
            External::NoVersions(node, range) => self.no_versions(node, range),
            External::Custom(node, range, message) => {
                format!("{} is unavailable: {message}", self.phrase(node, range))
            }
            External::FromDependencyOf(from, from_range, to, to_range) => {
                let subject = self.phrase(from, from_range);
                match (from, to) {
                    (Node::Root, to) => format!("the stack wants {}", self.wanted(to, to_range)),
                    (Node::Spec(spec), Node::Package(name)) => {
                        let implementer = package_set(self.session, name, to_range);
                        let candidates = self.session.spec(spec);
                        let inside: Vec<_> = candidates
                            .list
                            .iter()
                            .filter(|c| from_range.contains(&c.virtual_version))
                            .collect();
                        let span = hull(from_range);
                        let in_span = candidates
                            .list
                            .iter()
                            .filter(|c| span.contains(&c.virtual_version))
                            .count();
                        match inside.as_slice() {
                            [one] if candidates.list.len() == 1 => format!(
                                "the only implementation of {spec} is {implementer} ({})",
                                one.spec_version
                            ),
                            [one] if in_span == 1 && span != exactly(&one.virtual_version) => {
                                format!(
                                    "the only implementation of {spec}{} is {implementer} ({})",
                                    suffix(&span),
                                    one.spec_version
                                )
                            }
                            [one] => {
                                format!("{implementer} implements {spec} {}", one.spec_version)
                            }
                            _ => format!("{subject} is implemented by {implementer}"),
                        }
                    }
                    (_, Node::Package(name)) => {
                        format!("{subject} requires {name}{}", suffix(to_range))
                    }
                    (_, Node::Spec(spec)) => {
                        format!("{subject} requires an implementation of {spec}{}", suffix(to_range))
                    }
                    (Node::Package(a), Node::Presence(b)) if a == b => {
                        format!("{subject} would be installed")
                    }
                    (_, Node::Presence(b)) => {
                        let conflict = without_absent(&to_range.complement());
                        format!("{subject} conflicts with {b}{}", suffix(&conflict))
                    }
                    (_, Node::Root) => format!("{subject} requires the stack"),
                }
            }
        }
    }

    fn format_terms(&self, terms: &Terms) -> String {
        let mut sorted: Vec<(&Node, &Term<VersionSet>)> = terms.iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(b.0));
        match sorted.as_slice() {
            [] | [(Node::Root, Term::Positive(_))] => "the stack cannot be resolved".to_owned(),
            [(node, Term::Positive(range))] | [(Node::Root, Term::Positive(_)), (node, Term::Positive(range))] => {
                self.forbidden(node, range)
            }
            [(node, Term::Negative(range))] => format!("{} is required", self.phrase(node, range)),
            [(Node::Root, Term::Positive(_)), (node, Term::Negative(range))] => {
                format!("the stack requires {}", self.phrase(node, range))
            }
            [(a, Term::Positive(ra)), (Node::Presence(b), Term::Negative(rb))]
            | [(Node::Presence(b), Term::Negative(rb)), (a, Term::Positive(ra))] => {
                let conflict = without_absent(&rb.complement());
                format!(
                    "{} conflicts with {}",
                    self.phrase(a, ra),
                    package_set(self.session, b, &conflict)
                )
            }
            [(a, Term::Positive(ra)), (b, Term::Negative(rb))] | [(b, Term::Negative(rb)), (a, Term::Positive(ra))] => {
                format!("{} requires {}", self.phrase(a, ra), self.phrase(b, rb))
            }
            [(a, Term::Positive(ra)), (b, Term::Positive(rb))] => format!(
                "{} and {} cannot be used together",
                self.phrase(a, ra),
                self.phrase(b, rb)
            ),
            several => {
                let parts: Vec<String> = several
                    .iter()
                    .filter(|(n, _)| **n != Node::Root)
                    .map(|(n, t)| match t {
                        Term::Positive(r) => self.phrase(n, r),
                        Term::Negative(r) => format!("not {}", self.phrase(n, r)),
                    })
                    .collect();
                format!("{} cannot all hold together", list(&parts))
            }
        }
    }

    fn explain_both_external(&self, e1: &Ext, e2: &Ext, terms: &Terms) -> String {
        format!("Because {}, {}.", self.both(e1, e2), self.format_terms(terms))
    }

    fn explain_both_ref(
        &self,
        ref1: usize,
        d1: &Derived<Node, VersionSet, String>,
        ref2: usize,
        d2: &Derived<Node, VersionSet, String>,
        terms: &Terms,
    ) -> String {
        format!(
            "Because {} ({ref1}) and {} ({ref2}), {}.",
            self.format_terms(&d1.terms),
            self.format_terms(&d2.terms),
            self.format_terms(terms)
        )
    }

    fn explain_ref_and_external(
        &self,
        reference: usize,
        derived: &Derived<Node, VersionSet, String>,
        external: &Ext,
        terms: &Terms,
    ) -> String {
        if Self::own_marker(external) {
            return format!(
                "Because {} ({reference}), {}.",
                self.format_terms(&derived.terms),
                self.format_terms(terms)
            );
        }
        format!(
            "Because {} ({reference}) and {}, {}.",
            self.format_terms(&derived.terms),
            self.format_external(external),
            self.format_terms(terms)
        )
    }

    fn and_explain_external(&self, external: &Ext, terms: &Terms) -> String {
        if Self::own_marker(external) {
            return format!("So {}.", self.format_terms(terms));
        }
        format!(
            "And because {}, {}.",
            self.format_external(external),
            self.format_terms(terms)
        )
    }

    fn and_explain_ref(&self, reference: usize, derived: &Derived<Node, VersionSet, String>, terms: &Terms) -> String {
        format!(
            "And because {} ({reference}), {}.",
            self.format_terms(&derived.terms),
            self.format_terms(terms)
        )
    }

    fn and_explain_prior_and_external(&self, prior: &Ext, external: &Ext, terms: &Terms) -> String {
        format!(
            "And because {}, {}.",
            self.both(prior, external),
            self.format_terms(terms)
        )
    }
}
