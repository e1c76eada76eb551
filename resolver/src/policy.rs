//! The stack's rules for one candidate: licence, publishers, approvals, pre-releases,
//! yanks, pins, excludes and platform. Each function returns every reason it finds, so
//! hints can tell "only the platform is in the way" from "the licence is, too".

use std::collections::BTreeSet;

use govstore_core::approval::Requires;
use govstore_core::index::IndexVersion;
use govstore_core::manifest::{Implementation, Level, License};
use govstore_core::package::PackageName;
use govstore_core::stack::{Policy, Stack};
use semver::Version;

use crate::exclusion::{ComplianceKind, Exclusion, LicenceProblem, LicenceRule};
use crate::options::ResolveOptions;
use crate::ranges::names_prerelease;

/// What the stack's rules say about one package, whatever the version: computed once
/// per package, then applied to each version by [`check_version`].
#[derive(Debug)]
pub(crate) struct PackageRules<'a> {
    pinned: Option<&'a Version>,
    locked: Option<&'a Version>,
    excluded: bool,
    untrusted: Option<String>,
    prereleases: bool,
}

impl<'a> PackageRules<'a> {
    pub(crate) fn new(name: &PackageName, stack: &'a Stack, options: &'a ResolveOptions) -> Self {
        let mut untrusted = Vec::new();
        publisher(name, &stack.policy, &mut untrusted);
        Self {
            pinned: stack.wants.pins.get(name),
            locked: options.locked.get(name),
            excluded: stack.wants.excludes.contains(name),
            untrusted: untrusted.into_iter().find_map(|e| match e {
                Exclusion::UntrustedPublisher { namespace } => Some(namespace),
                _ => None,
            }),
            prereleases: prereleases_allowed(name, stack),
        }
    }
}

/// Whether the stack may use `entry` from the catalogue, and if not, why. `licence`
/// caches the verdict on the last licence text seen, since a package's versions
/// mostly share theirs.
pub(crate) fn check_version(
    rules: &PackageRules<'_>,
    entry: &IndexVersion,
    stack: &Stack,
    licence_cache: &mut Option<(String, Option<Exclusion>)>,
) -> Vec<Exclusion> {
    let mut out = Vec::new();
    let version = &entry.version;
    let held = rules.pinned == Some(version) || rules.locked == Some(version);
    if rules.excluded {
        out.push(Exclusion::Excluded);
    }
    if let Some(pin) = rules.pinned.filter(|pin| *pin != version) {
        out.push(Exclusion::PinnedElsewhere { pin: pin.clone() });
    }
    if entry.yanked && !held {
        out.push(Exclusion::Yanked {
            reason: entry.yank_reason.clone(),
        });
    }
    if !version.pre.is_empty() && !held && !rules.prereleases {
        out.push(Exclusion::PreRelease);
    }
    if let Some(namespace) = &rules.untrusted {
        out.push(Exclusion::UntrustedPublisher {
            namespace: namespace.clone(),
        });
    }
    let text = entry.manifest.package.license.as_str();
    let verdict = match licence_cache {
        Some((cached, verdict)) if cached == text => verdict.clone(),
        _ => {
            let verdict = licence(&entry.manifest.package.license, &stack.policy);
            *licence_cache = Some((text.to_owned(), verdict.clone()));
            verdict
        }
    };
    out.extend(verdict);
    platform(entry, stack, &mut out);
    out
}

/// Pre-releases of `name` may be chosen: the policy allows them, or the stack asked for
/// one explicitly (`wants.packages."x/y" = ">=2.0.0-rc.1"`).
fn prereleases_allowed(name: &PackageName, stack: &Stack) -> bool {
    stack.policy.allow_prereleases || stack.wants.packages.get(name).is_some_and(names_prerelease)
}

/// Whether a spec version that is a pre-release (a draft) may be relied on.
pub(crate) fn spec_prerelease_allowed(version: &Version, wanted: bool, stack: &Stack) -> bool {
    version.pre.is_empty() || stack.policy.allow_prereleases || wanted
}

fn publisher(name: &PackageName, policy: &Policy, out: &mut Vec<Exclusion>) {
    let trusted = &policy.trusted_publishers;
    if !trusted.is_empty() && !trusted.iter().any(|ns| ns.as_str() == name.namespace()) {
        out.push(Exclusion::UntrustedPublisher {
            namespace: name.namespace().to_owned(),
        });
    }
}

/// Whether `entry` is approved for the stack's country (with the conditions its
/// approvals carry), when the stack asks for approval. Not part of [`check_version`]:
/// the caller asks only for versions the solver considers, since
/// [`ResolveOptions::approval_check`] may verify signatures.
pub(crate) fn approval(
    entry: &IndexVersion,
    stack: &Stack,
    options: &ResolveOptions,
) -> Result<Vec<Requires>, Exclusion> {
    let digest = &entry.digest;
    if !stack.policy.approved_only || options.approved.contains(digest) {
        return Ok(Vec::new());
    }
    let why = match &options.approval_check {
        Some(check) => match (check.0)(entry) {
            Ok(conditions) => return Ok(conditions),
            Err(why) => why,
        },
        None => options.approval_notes.get(digest).cloned(),
    };
    let country = stack.trust.country.unwrap_or(stack.stack.country);
    Err(Exclusion::NotApproved { country, why })
}

fn platform(entry: &IndexVersion, stack: &Stack, out: &mut Vec<Exclusion>) {
    for (component, requirement) in &entry.manifest.requires.platform {
        let available = stack.infrastructure.platform.get(component);
        let fits = available.is_some_and(|have| {
            let v = have.version();
            requirement.matches(&Version::new(v.major, v.minor, v.patch))
        });
        if !fits {
            out.push(Exclusion::Platform {
                component: component.clone(),
                requirement: requirement.clone(),
                available: available.cloned(),
            });
        }
    }
}

/// `None` when the licence expression can be satisfied by licences the policy allows;
/// otherwise the licences that are in the way.
///
/// The expression is evaluated as SPDX means it: `A OR B` needs one side, `A AND B`
/// both. A licence is usable when it is not denied (by name or as copyleft) and, if
/// `allow_licenses` is not empty, is on it; `LicenseRef-` licences included, so they need
/// an explicit allow once an allow-list exists. Exceptions (`WITH`) do not change the
/// verdict on the licence they qualify.
pub(crate) fn licence(license: &License, policy: &Policy) -> Option<Exclusion> {
    if policy.allow_licenses.is_empty() && policy.deny_licenses.is_empty() && !policy.deny_copyleft {
        return None;
    }
    let expression = license.expression();
    if expression.evaluate(|req| rule(&req.license, policy).is_none()) {
        return None;
    }
    let problems: BTreeSet<LicenceProblem> = expression
        .requirements()
        .filter_map(|r| {
            rule(&r.req.license, policy).map(|rule| LicenceProblem {
                licence: r.req.license.to_string(),
                rule,
            })
        })
        .collect();
    Some(Exclusion::Licence {
        expression: license.as_str().to_owned(),
        problems: problems.into_iter().collect(),
    })
}

fn rule(item: &spdx::LicenseItem, policy: &Policy) -> Option<LicenceRule> {
    let name = match item {
        spdx::LicenseItem::Spdx { id, .. } => id.name.to_owned(),
        spdx::LicenseItem::Other(reference) => reference.to_string(),
    };
    let listed = |list: &[govstore_core::stack::LicenceName]| list.iter().any(|l| l.as_str() == name);
    if listed(&policy.deny_licenses) {
        return Some(LicenceRule::Denied);
    }
    if policy.deny_copyleft && item.id().is_some_and(|id| id.is_copyleft()) {
        return Some(LicenceRule::Copyleft);
    }
    if !policy.allow_licenses.is_empty() && !listed(&policy.allow_licenses) {
        return Some(LicenceRule::NotAllowed);
    }
    None
}

/// The compliance claims of `implementation` that fall below the policy's minimum.
pub(crate) fn compliance(implementation: &Implementation, policy: &Policy) -> Vec<Exclusion> {
    let minimum = &policy.minimum_compliance;
    let claims = &implementation.compliance;
    let kinds = [
        (
            ComplianceKind::Deployment,
            minimum.deployment,
            claims.deployment.as_ref().map(|c| c.level),
        ),
        (
            ComplianceKind::Interface,
            minimum.interface,
            claims.interface.as_ref().map(|c| c.level),
        ),
        (
            ComplianceKind::Requirements,
            minimum.requirements,
            claims.requirements.as_ref().map(|c| c.level),
        ),
    ];
    kinds
        .into_iter()
        .filter_map(|(kind, minimum, claimed)| {
            let minimum = minimum?;
            let claimed = claimed.unwrap_or(Level::NotApplicable);
            (claimed < minimum).then(|| Exclusion::Compliance {
                spec: implementation.spec.clone(),
                kind,
                claimed,
                minimum,
            })
        })
        .collect()
}

/// A rank for "higher compliance": the sum of the claimed levels (n/a 0, level-1 1,
/// level-2 2) over the three kinds.
pub(crate) fn compliance_score(implementation: &Implementation) -> u8 {
    let rank = |level: Option<Level>| match level {
        Some(Level::Level2) => 2,
        Some(Level::Level1) => 1,
        _ => 0,
    };
    let c = &implementation.compliance;
    rank(c.deployment.as_ref().map(|c| c.level))
        + rank(c.interface.as_ref().map(|c| c.level))
        + rank(c.requirements.as_ref().map(|c| c.level))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn policy(allow: &[&str], deny: &[&str], copyleft: bool) -> Policy {
        Policy {
            allow_licenses: allow.iter().map(|s| s.parse().unwrap()).collect(),
            deny_licenses: deny.iter().map(|s| s.parse().unwrap()).collect(),
            deny_copyleft: copyleft,
            ..Policy::default()
        }
    }

    fn verdict(expr: &str, policy: &Policy) -> Option<String> {
        let license: License = expr.parse().unwrap();
        licence(&license, policy).map(|e| e.to_string())
    }

    #[test]
    fn or_needs_one_side_and_needs_both() {
        let deny_gpl = policy(&[], &["GPL-3.0-only"], false);
        assert_eq!(verdict("MIT OR GPL-3.0-only", &deny_gpl), None);
        assert_eq!(
            verdict("MIT AND GPL-3.0-only", &deny_gpl).as_deref(),
            Some("is licensed `MIT AND GPL-3.0-only`, which the licence policy does not allow: GPL-3.0-only is denied")
        );
        assert!(verdict("GPL-3.0-only", &deny_gpl).is_some());
        assert_eq!(verdict("Apache-2.0", &deny_gpl), None);
    }

    #[test]
    fn allow_lists_and_licence_refs() {
        let allow = policy(&["MIT", "Apache-2.0"], &[], false);
        assert_eq!(verdict("MIT", &allow), None);
        assert_eq!(verdict("Apache-2.0 OR LicenseRef-Foo", &allow), None);
        assert_eq!(
            verdict("LicenseRef-Foo", &allow).as_deref(),
            Some(
                "is licensed `LicenseRef-Foo`, which the licence policy does not allow: LicenseRef-Foo is not in allow_licenses"
            )
        );
        let allow_ref = policy(&["MIT", "LicenseRef-Foo"], &[], false);
        assert_eq!(verdict("LicenseRef-Foo", &allow_ref), None);
        // Without an allow-list, a LicenseRef is fine unless denied.
        let deny = policy(&[], &["AGPL-3.0-only"], false);
        assert_eq!(verdict("LicenseRef-Foo", &deny), None);
        let deny_ref = policy(&[], &["LicenseRef-Foo"], false);
        assert!(verdict("LicenseRef-Foo", &deny_ref).is_some());
    }

    #[test]
    fn copyleft() {
        let p = policy(&[], &[], true);
        assert!(verdict("AGPL-3.0-only", &p).is_some());
        assert!(verdict("LGPL-3.0-only", &p).unwrap().contains("is copyleft"));
        assert_eq!(verdict("MIT OR MPL-2.0", &p), None);
        assert_eq!(verdict("BSD-3-Clause", &p), None);
        assert_eq!(verdict("GPL-3.0-only WITH Classpath-exception-2.0 OR MIT", &p), None);
        assert!(verdict("GPL-3.0-only WITH Classpath-exception-2.0", &p).is_some());
    }
}
