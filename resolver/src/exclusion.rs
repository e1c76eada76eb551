//! Why a candidate cannot be chosen, whatever else is chosen: the stack's policy, its
//! infrastructure, yanks, pins and excludes. These rules are checked before solving,
//! so the solver never sees such a candidate; reports and hints explain them from here.

use std::fmt;

use govstore_core::manifest::{ComponentName, CountryCode, Level};
use govstore_core::package::SpecId;
use govstore_core::stack::PlatformVersion;
use semver::{Version, VersionReq};

/// One reason a package version (or a spec implementation) is ruled out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exclusion {
    /// Yanked by its publisher, and not pinned by the stack or a lockfile.
    Yanked { reason: Option<String> },
    /// A pre-release, and the policy does not allow pre-releases.
    PreRelease,
    /// Listed in `wants.excludes`.
    Excluded,
    /// `wants.pins` fixes the package at another version.
    PinnedElsewhere { pin: Version },
    /// Its namespace is not in `policy.trusted_publishers`.
    UntrustedPublisher { namespace: String },
    /// Its licence expression cannot be satisfied under the licence policy.
    Licence {
        expression: String,
        problems: Vec<LicenceProblem>,
    },
    /// It needs a platform component the stack lacks, or at another version.
    Platform {
        component: ComponentName,
        requirement: VersionReq,
        available: Option<PlatformVersion>,
    },
    /// `policy.approved_only` is set and the country has not approved this version.
    /// `why`: what the caller found (revoked and by whom, expired, too few approvals).
    NotApproved { country: CountryCode, why: Option<String> },
    /// It claims less compliance for the spec than `policy.minimum_compliance` asks.
    Compliance {
        spec: SpecId,
        kind: ComplianceKind,
        claimed: Level,
        minimum: Level,
    },
}

/// One licence of an expression that the policy does not allow.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct LicenceProblem {
    /// The licence as written in the expression, such as `AGPL-3.0-only`.
    pub licence: String,
    pub rule: LicenceRule,
}

/// The licence policy rule a licence broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LicenceRule {
    /// In `deny_licenses`.
    Denied,
    /// Copyleft, and `deny_copyleft` is set.
    Copyleft,
    /// Not in a non-empty `allow_licenses`.
    NotAllowed,
}

/// The kinds of GovStack compliance claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ComplianceKind {
    Deployment,
    Interface,
    Requirements,
}

impl ComplianceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ComplianceKind::Deployment => "deployment",
            ComplianceKind::Interface => "interface",
            ComplianceKind::Requirements => "requirements",
        }
    }
}

impl fmt::Display for LicenceProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let licence = &self.licence;
        match self.rule {
            LicenceRule::Denied => write!(f, "{licence} is denied"),
            LicenceRule::Copyleft => write!(f, "{licence} is copyleft, which the policy denies"),
            LicenceRule::NotAllowed => write!(f, "{licence} is not in allow_licenses"),
        }
    }
}

impl Exclusion {
    /// The policy rule or fact behind the exclusion, for grouping in hints: `licence
    /// policy`, `platform`...
    pub fn rule(&self) -> &'static str {
        match self {
            Exclusion::Yanked { .. } => "yanked",
            Exclusion::PreRelease => "pre-release policy",
            Exclusion::Excluded => "wants.excludes",
            Exclusion::PinnedElsewhere { .. } => "wants.pins",
            Exclusion::UntrustedPublisher { .. } => "trusted publishers policy",
            Exclusion::Licence { .. } => "licence policy",
            Exclusion::Platform { .. } => "platform",
            Exclusion::NotApproved { .. } => "approved-only policy",
            Exclusion::Compliance { .. } => "compliance policy",
        }
    }
}

/// A clause that follows the package and version: `x-road/security-server 8.0.0` +
/// ` needs kubernetes >=1.29, and the stack has 1.27.3`.
impl fmt::Display for Exclusion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Exclusion::Yanked { reason: Some(reason) } => write!(f, "is yanked ({reason})"),
            Exclusion::Yanked { reason: None } => f.write_str("is yanked"),
            Exclusion::PreRelease => f.write_str("is a pre-release, and the policy does not allow pre-releases"),
            Exclusion::Excluded => f.write_str("is excluded by the stack (wants.excludes)"),
            Exclusion::PinnedElsewhere { pin } => write!(f, "is not the pinned version {pin}"),
            Exclusion::UntrustedPublisher { namespace } => {
                write!(f, "is published by `{namespace}`, which is not a trusted publisher")
            }
            Exclusion::Licence { expression, problems } => {
                write!(
                    f,
                    "is licensed `{expression}`, which the licence policy does not allow: "
                )?;
                write_list(f, problems)
            }
            Exclusion::Platform {
                component,
                requirement,
                available: Some(have),
            } => write!(
                f,
                "needs {component} {requirement}, and the stack has {component} {have}"
            ),
            Exclusion::Platform {
                component,
                requirement,
                available: None,
            } => {
                if requirement.comparators.is_empty() {
                    write!(f, "needs {component}, which the stack does not have")
                } else {
                    write!(f, "needs {component} {requirement}, which the stack does not have")
                }
            }
            Exclusion::NotApproved { country, why: None } => write!(f, "is not approved for {country}"),
            Exclusion::NotApproved {
                country,
                why: Some(why),
            } => {
                write!(f, "is not approved for {country} ({why})")
            }
            Exclusion::Compliance {
                spec,
                kind,
                claimed,
                minimum,
            } => {
                let claimed = match claimed {
                    Level::NotApplicable => "no".to_owned(),
                    level => level.to_string(),
                };
                write!(
                    f,
                    "claims {claimed} {} compliance for {spec}, and the policy asks for {minimum}",
                    kind.as_str()
                )
            }
        }
    }
}

/// `a`, `a and b`, `a, b and c`.
pub(crate) fn write_list<T: fmt::Display>(f: &mut fmt::Formatter<'_>, items: &[T]) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(if i + 1 == items.len() { " and " } else { ", " })?;
        }
        write!(f, "{item}")?;
    }
    Ok(())
}

/// [`write_list`] to a `String`.
pub(crate) fn list<T: fmt::Display>(items: &[T]) -> String {
    struct List<'a, T>(&'a [T]);
    impl<T: fmt::Display> fmt::Display for List<'_, T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write_list(f, self.0)
        }
    }
    List(items).to_string()
}
