//! SemVer requirements as PubGrub version sets, and version sets back as text.
//!
//! Each comparator of a [`VersionReq`] becomes a [`Ranges`] and the comparators are
//! intersected. Exclusive upper bounds are `X.Y.Z-0`, the lowest pre-release of
//! `X.Y.Z`, so that `<2.0.0` does not admit `2.0.0-alpha` (which sorts before `2.0.0`).
//! Lower bounds are the plain version, so `>=1.2` does not admit `1.2.0-beta` either.
//! Whether pre-releases inside a range may be chosen at all is policy, applied when
//! candidates are listed (see [`crate::candidates`]).
//!
//! Versions may carry build metadata: spec implementations are versions of a virtual
//! package, `1.0.2+p3` meaning "spec version 1.0.2, through candidate 3". SemVer orders
//! `1.0.2 < 1.0.2+p3 < 1.0.3-0`, so every range built here treats `1.0.2+anything` like
//! `1.0.2`.

use pubgrub::Ranges;
use semver::{BuildMetadata, Comparator, Op, Prerelease, Version, VersionReq};

/// The version sets the solver works with.
pub(crate) type VersionSet = Ranges<Version>;

/// The set of versions `req` admits, pre-releases included (see the module docs).
pub(crate) fn range_of(req: &VersionReq) -> VersionSet {
    req.comparators
        .iter()
        .fold(VersionSet::full(), |acc, c| acc.intersection(&comparator(c)))
}

/// Whether `req` names a pre-release, such as `>=2.0.0-rc.1`: then the user asked for
/// pre-releases of that package explicitly.
pub(crate) fn names_prerelease(req: &VersionReq) -> bool {
    req.comparators.iter().any(|c| !c.pre.is_empty())
}

/// `X.Y.Z-0`: the lowest version with these numbers.
fn floor(major: u64, minor: u64, patch: u64) -> Version {
    Version {
        major,
        minor,
        patch,
        pre: zero_pre(),
        build: BuildMetadata::EMPTY,
    }
}

fn zero_pre() -> Prerelease {
    Prerelease::new("0").unwrap_or(Prerelease::EMPTY)
}

/// The lowest version above `v` and every `v+build`: `X.Y.(Z+1)-0` for a release,
/// `X.Y.Z-pre.0` for a pre-release.
pub(crate) fn after(v: &Version) -> Version {
    if v.pre.is_empty() {
        floor(v.major, v.minor, v.patch.saturating_add(1))
    } else {
        let pre = Prerelease::new(&format!("{}.0", v.pre)).unwrap_or_else(|_| v.pre.clone());
        Version {
            major: v.major,
            minor: v.minor,
            patch: v.patch,
            pre,
            build: BuildMetadata::EMPTY,
        }
    }
}

/// `v` and all of its build variants, and nothing else.
pub(crate) fn exactly(v: &Version) -> VersionSet {
    let mut plain = v.clone();
    plain.build = BuildMetadata::EMPTY;
    VersionSet::between(plain, after(v))
}

fn plain(major: u64, minor: u64, patch: u64, pre: &Prerelease) -> Version {
    Version {
        major,
        minor,
        patch,
        pre: pre.clone(),
        build: BuildMetadata::EMPTY,
    }
}

fn comparator(c: &Comparator) -> VersionSet {
    let major = c.major;
    let next_major = major.saturating_add(1);
    match (c.op, c.minor, c.patch) {
        (Op::Exact, Some(minor), Some(patch)) => exactly(&plain(major, minor, patch, &c.pre)),
        (Op::Exact | Op::Wildcard, Some(minor), None) => {
            VersionSet::between(Version::new(major, minor, 0), floor(major, minor.saturating_add(1), 0))
        }
        (Op::Exact | Op::Wildcard, None, _) => VersionSet::between(Version::new(major, 0, 0), floor(next_major, 0, 0)),
        (Op::Greater, Some(minor), Some(patch)) => VersionSet::higher_than(after(&plain(major, minor, patch, &c.pre))),
        (Op::Greater, Some(minor), None) => VersionSet::higher_than(Version::new(major, minor.saturating_add(1), 0)),
        (Op::Greater, None, _) => VersionSet::higher_than(Version::new(next_major, 0, 0)),
        (Op::GreaterEq, minor, patch) => {
            VersionSet::higher_than(plain(major, minor.unwrap_or(0), patch.unwrap_or(0), &c.pre))
        }
        (Op::Less, Some(minor), Some(patch)) => {
            if c.pre.is_empty() {
                VersionSet::strictly_lower_than(floor(major, minor, patch))
            } else {
                VersionSet::strictly_lower_than(plain(major, minor, patch, &c.pre))
            }
        }
        (Op::Less, Some(minor), None) => VersionSet::strictly_lower_than(floor(major, minor, 0)),
        (Op::Less, None, _) => VersionSet::strictly_lower_than(floor(major, 0, 0)),
        (Op::LessEq, Some(minor), Some(patch)) => {
            VersionSet::strictly_lower_than(after(&plain(major, minor, patch, &c.pre)))
        }
        (Op::LessEq, Some(minor), None) => VersionSet::strictly_lower_than(floor(major, minor.saturating_add(1), 0)),
        (Op::LessEq, None, _) => VersionSet::strictly_lower_than(floor(next_major, 0, 0)),
        (Op::Tilde, Some(minor), patch) => VersionSet::between(
            plain(major, minor, patch.unwrap_or(0), &c.pre),
            floor(major, minor.saturating_add(1), 0),
        ),
        (Op::Tilde, None, _) => VersionSet::between(Version::new(major, 0, 0), floor(next_major, 0, 0)),
        (Op::Caret, minor, patch) => caret(major, minor, patch, &c.pre),
        // `Op` is non-exhaustive; an operator this code does not know admits nothing.
        _ => VersionSet::empty(),
    }
}

fn caret(major: u64, minor: Option<u64>, patch: Option<u64>, pre: &Prerelease) -> VersionSet {
    let low = plain(major, minor.unwrap_or(0), patch.unwrap_or(0), pre);
    let high = match (major, minor, patch) {
        (0, None, _) => floor(1, 0, 0),
        (0, Some(0), None) => floor(0, 1, 0),
        (0, Some(0), Some(p)) => floor(0, 0, p.saturating_add(1)),
        (0, Some(m), _) => floor(0, m.saturating_add(1), 0),
        (x, _, _) => floor(x.saturating_add(1), 0, 0),
    };
    VersionSet::between(low, high)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn set(req: &str) -> VersionSet {
        range_of(&VersionReq::parse(req).unwrap())
    }

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    /// For versions without pre-releases, the ranges agree with `VersionReq::matches`.
    #[test]
    fn agrees_with_semver_on_releases() {
        let reqs = [
            "*",
            "^1.2.3",
            "^1.2",
            "^1",
            "^0.2.3",
            "^0.0.3",
            "^0.0",
            "^0",
            "~1.2.3",
            "~1.2",
            "~1",
            "=1.2.3",
            "=1.2",
            "=1",
            ">1.2.3",
            ">1.2",
            ">1",
            ">=1.2.3",
            ">=1.2",
            "<1.2.3",
            "<1.2",
            "<1",
            "<=1.2.3",
            "<=1.2",
            "<=1",
            "1.*",
            "1.2.*",
            ">=7.5, <8",
            "1.2.3",
        ];
        let mut versions = Vec::new();
        for major in 0..3 {
            for minor in 0..4 {
                for patch in 0..5 {
                    versions.push(Version::new(major, minor, patch));
                }
            }
        }
        versions.extend([v("7.4.9"), v("7.5.0"), v("7.9.9"), v("8.0.0")]);
        for req in reqs {
            let parsed = VersionReq::parse(req).unwrap();
            let range = range_of(&parsed);
            for version in &versions {
                assert_eq!(range.contains(version), parsed.matches(version), "{req} vs {version}");
            }
        }
    }

    #[test]
    fn prerelease_bounds() {
        assert!(!set("<2.0.0").contains(&v("2.0.0-alpha")));
        assert!(set("<2.0.0").contains(&v("1.9.0")));
        assert!(!set("^1.0").contains(&v("2.0.0-rc.1")));
        assert!(!set(">=1.2").contains(&v("1.2.0-beta")));
        // Inside the range, pre-releases are admitted; policy decides.
        assert!(set("^1.0").contains(&v("1.5.0-rc.1")));
        assert!(set(">=2.0.0-rc.1").contains(&v("2.0.0-rc.2")));
        assert!(set("=2.0.0-rc.1").contains(&v("2.0.0-rc.1")));
        assert!(!set("=2.0.0-rc.1").contains(&v("2.0.0-rc.1.1")));
        assert!(names_prerelease(&VersionReq::parse(">=2.0.0-rc.1").unwrap()));
        assert!(!names_prerelease(&VersionReq::parse(">=2.0.0").unwrap()));
    }

    #[test]
    fn build_metadata_is_transparent() {
        assert!(set("=1.0.2").contains(&v("1.0.2+p3")));
        assert!(set("^1.0").contains(&v("1.0.2+p3")));
        assert!(!set(">1.0.2").contains(&v("1.0.2+p3")));
        assert!(set("<=1.0.2").contains(&v("1.0.2+p3")));
        assert!(!set("<1.0.2").contains(&v("1.0.2+p3")));
        assert!(exactly(&v("1.0.2+p3")).contains(&v("1.0.2+e0")));
        assert!(!exactly(&v("1.0.2")).contains(&v("1.0.3-0")));
    }
}
