//! Phrasing nodes and version sets for people: no virtual package names, no build
//! metadata, no `-0` bounds.
//!
//! Version sets that pubgrub derives are often unions and complements of singletons;
//! for a package they are shown through the versions that exist (`x 7.5.2`, or just `x`
//! when every version is in the set), for a spec through the implementations they hold.

use std::ops::Bound;

use govstore_core::package::{PackageName, SpecId};
use semver::{BuildMetadata, Version};

use crate::candidates::{Provider, SpecCandidate};
use crate::exclusion::list;
use crate::provider::{Session, absent};
use crate::ranges::{VersionSet, after};

/// A requirement-like text for `range`: `^1.2.0`, `>=7.5.0, <8.0.0`, `7.5.2`,
/// `<1.0.0 or >=2.0.0`; empty for every version.
pub(crate) fn range_text(range: &VersionSet) -> String {
    if *range == VersionSet::full() {
        return String::new();
    }
    if range.is_empty() {
        return "(no version)".to_owned();
    }
    let parts: Vec<String> = range.iter().map(|(lo, hi)| segment(lo, hi)).collect();
    parts.join(" or ")
}

/// ` ^1.2.0` (with a leading space) or nothing, to follow a name.
pub(crate) fn suffix(range: &VersionSet) -> String {
    let text = range_text(range);
    if text.is_empty() { text } else { format!(" {text}") }
}

fn plain(v: &Version) -> Version {
    let mut v = v.clone();
    v.build = BuildMetadata::EMPTY;
    v
}

fn is_floor(v: &Version) -> bool {
    v.pre.as_str() == "0" && v.build.is_empty()
}

fn segment(lo: &Bound<Version>, hi: &Bound<Version>) -> String {
    use Bound::{Excluded, Included, Unbounded};
    match (lo, hi) {
        (Unbounded, Unbounded) => return "any version".to_owned(),
        (Included(a), Included(b)) if plain(a) == plain(b) => return plain(a).to_string(),
        (Included(a), Excluded(b)) if after(a) == *b => return plain(a).to_string(),
        (Included(a), Excluded(b)) if a.pre.is_empty() && is_floor(b) && b.patch == 0 => {
            let caret = (a.major > 0 && b.major == a.major + 1 && b.minor == 0)
                || (a.major == 0 && a.minor > 0 && b.major == 0 && b.minor == a.minor + 1);
            if caret {
                return format!("^{}", plain(a));
            }
        }
        _ => {}
    }
    let low = match lo {
        Unbounded => None,
        Included(a) if is_floor(a) && a.patch > 0 => Some(format!(">{}.{}.{}", a.major, a.minor, a.patch - 1)),
        Included(a) => Some(format!(">={}", plain(a))),
        Excluded(a) => Some(format!(">{}", plain(a))),
    };
    let high = match hi {
        Unbounded => None,
        Excluded(b) if is_floor(b) => Some(format!("<{}.{}.{}", b.major, b.minor, b.patch)),
        Excluded(b) => Some(format!("<{}", plain(b))),
        Included(b) => Some(format!("<={}", plain(b))),
    };
    match (low, high) {
        (Some(l), Some(h)) => format!("{l}, {h}"),
        (Some(l), None) => l,
        (None, Some(h)) => h,
        (None, None) => "any version".to_owned(),
    }
}

/// `x-road/security-server 7.5.2`, `x-road/security-server` (every version), or
/// `x-road/security-server >=7.5.0, <8.0.0`.
pub(crate) fn package_set(session: &Session<'_>, name: &PackageName, range: &VersionSet) -> String {
    let known = &session.package(name).known;
    let inside: Vec<&Version> = known.iter().filter(|v| range.contains(v)).collect();
    if !known.is_empty() && inside.len() == known.len() {
        return name.to_string();
    }
    match inside.as_slice() {
        [one] => format!("{name} {one}"),
        [] => format!("{name}{}", suffix(range)),
        several => {
            let simple = range.simplify(known.iter());
            if simple.iter().count() == 1 {
                format!("{name}{}", suffix(&simple))
            } else {
                format!("{name} {}", list(several))
            }
        }
    }
}

/// Whether `range` holds every version of the package.
pub(crate) fn covers_package(session: &Session<'_>, name: &PackageName, range: &VersionSet) -> bool {
    let known = &session.package(name).known;
    !known.is_empty() && known.iter().all(|v| range.contains(v))
}

/// Who provides a spec candidate: `mosip/esignet` or `existing system national-id`.
pub(crate) fn provider_text(session: &Session<'_>, provider: &Provider) -> String {
    match provider {
        Provider::Package(name) => name.to_string(),
        Provider::Existing(i) => session.stack.existing.get(*i).map_or_else(
            || "an existing system".to_owned(),
            |e| format!("existing system {}", e.name),
        ),
    }
}

/// A provider with the versions that implement the spec version: `x 7.5.2 and 7.6.0`.
pub(crate) fn provider_versions(session: &Session<'_>, candidate: &SpecCandidate) -> String {
    let verdict = candidate.verdict(session);
    let mut versions: Vec<&Version> = verdict
        .versions
        .iter()
        .chain(verdict.excluded.iter().map(|(v, _)| v))
        .collect();
    versions.sort();
    let name = provider_text(session, &candidate.provider);
    if versions.is_empty() {
        name
    } else {
        format!("{name} {}", list(&versions))
    }
}

/// The smallest build-free range that holds `range`: for a spec, the requirement it
/// came from before the solver cut implementations out of it; for a package, the span
/// of versions it is about.
pub(crate) fn hull(range: &VersionSet) -> VersionSet {
    let mut segments = range.iter();
    let Some((first_lo, first_hi)) = segments.next() else {
        return VersionSet::empty();
    };
    let last_hi = segments.last().map_or(first_hi, |(_, hi)| hi);
    let lo = match first_lo {
        Bound::Included(v) | Bound::Excluded(v) if !v.build.is_empty() => Bound::Included(plain(v)),
        other => other.clone(),
    };
    let hi = match last_hi {
        Bound::Included(v) | Bound::Excluded(v) if !v.build.is_empty() => Bound::Excluded(after(v)),
        other => other.clone(),
    };
    VersionSet::from_range_bounds((lo, hi))
}

/// `an implementation of govstack/identity ^1.0.0`, `govstack/identity 1.0.2 from
/// mosip/esignet`, or `an implementation of govstack/identity ^1.0.0 other than
/// mosip/esignet`.
pub(crate) fn spec_set(session: &Session<'_>, spec: &SpecId, range: &VersionSet) -> String {
    let candidates = session.spec(spec);
    let hull = hull(range);
    let inside: Vec<&SpecCandidate> = candidates
        .list
        .iter()
        .filter(|c| range.contains(&c.virtual_version))
        .collect();
    let left_out: Vec<String> = candidates
        .list
        .iter()
        .filter(|c| hull.contains(&c.virtual_version) && !range.contains(&c.virtual_version))
        .map(|c| provider_text(session, &c.provider))
        .collect();
    if let [one] = inside.as_slice()
        && (!left_out.is_empty() || range.as_singleton().is_some())
    {
        return format!(
            "{spec} {} from {}",
            one.spec_version,
            provider_text(session, &one.provider)
        );
    }
    let mut text = format!("an implementation of {spec}{}", suffix(&hull));
    if !left_out.is_empty() {
        text.push_str(&format!(" other than {}", list(&left_out)));
    }
    text
}

/// The version set of a presence marker without the `absent` point, whichever way
/// reads simpler.
pub(crate) fn without_absent(range: &VersionSet) -> VersionSet {
    let point = VersionSet::singleton(absent());
    let minus = range.intersection(&point.complement());
    let plus = range.union(&point);
    if plus.iter().count() < minus.iter().count() {
        plus
    } else {
        minus
    }
}

/// A presence marker as a term: `x 2.1.0`, `x not installed`, `x 2.1.0 or not installed`.
pub(crate) fn presence_set(session: &Session<'_>, name: &PackageName, range: &VersionSet) -> String {
    let has_absent = range.contains(&absent());
    let real = range.intersection(&VersionSet::singleton(absent()).complement());
    let real_empty = session.package(name).known.iter().all(|v| !real.contains(v));
    match (has_absent, real_empty) {
        (true, true) => format!("{name} not installed"),
        (false, _) => package_set(session, name, &without_absent(&real)),
        (true, false) => format!("{} or no {name}", package_set(session, name, &without_absent(&real))),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::ranges::range_of;

    fn text(req: &str) -> String {
        range_text(&range_of(&semver::VersionReq::parse(req).unwrap()))
    }

    #[test]
    fn requirement_texts() {
        assert_eq!(text("*"), "");
        assert_eq!(text("^1.2"), "^1.2.0");
        assert_eq!(text("^0.3.1"), "^0.3.1");
        assert_eq!(text(">=7.5, <8"), "^7.5.0");
        assert_eq!(text(">=7.5, <9"), ">=7.5.0, <9.0.0");
        assert_eq!(text("=7.5.2"), "7.5.2");
        assert_eq!(text(">1.2.3"), ">1.2.3");
        assert_eq!(text("<=1.2.3"), "<1.2.4");
        assert_eq!(text(">=1.29"), ">=1.29.0");
        assert_eq!(text("~1.2.3"), ">=1.2.3, <1.3.0");
        let v = Version::parse("1.0.2+p3").unwrap();
        assert_eq!(range_text(&VersionSet::singleton(v)), "1.0.2");
        let gap = range_of(&semver::VersionReq::parse("^1").unwrap())
            .intersection(&VersionSet::singleton(Version::new(1, 5, 0)).complement());
        assert_eq!(range_text(&gap), ">=1.0.0, <1.5.0 or >1.5.0, <2.0.0");
    }
}
