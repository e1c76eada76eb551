//! OCI repository names, tags and manifest references, validated by the grammar of the
//! OCI Distribution Specification v1.1.
//!
//! Names are checked on the raw, undecoded request path, so a percent-encoded segment
//! (`%2e%2e`) is rejected rather than decoded into a path that could escape the store.

use std::fmt;
use std::str::FromStr;

use crate::digest::{Digest, truncate};

/// The longest repository name accepted. The spec leaves room for registries to set a
/// limit; 255 matches distribution and fits any filesystem or database column.
pub const MAX_NAME_LEN: usize = 255;
/// The longest tag, by the spec's grammar.
pub const MAX_TAG_LEN: usize = 128;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("repository name is empty")]
    EmptyName,
    #[error("repository name is longer than {MAX_NAME_LEN} characters")]
    NameTooLong,
    #[error(
        "repository name `{0}` is invalid: each `/`-separated part must be lowercase letters and digits, \
         separated by `.`, `_`, `__` or dashes"
    )]
    InvalidName(String),
    #[error("tag `{0}` is invalid: up to 128 of letters, digits, `_`, `.` and `-`, not starting with `.` or `-`")]
    InvalidTag(String),
    #[error("reference `{0}` is neither a tag nor a sha256 digest")]
    InvalidReference(String),
}

/// A repository name such as `mosip/esignet` or `a/b/c`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RepoName(String);

impl RepoName {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
fn is_path_component(c: &str) -> bool {
    let b = c.as_bytes();
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        // A separator run: `.`, `_`, `__` or one or more `-`.
        let start = i;
        match b[i] {
            b'.' => i += 1,
            b'_' => {
                i += 1;
                if i < b.len() && b[i] == b'_' {
                    i += 1;
                }
            }
            b'-' => {
                while i < b.len() && b[i] == b'-' {
                    i += 1;
                }
            }
            _ => return false,
        }
        debug_assert!(i > start);
        if i >= b.len() || !alnum(b[i]) {
            return false;
        }
    }
    true
}

impl FromStr for RepoName {
    type Err = NameError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() {
            return Err(NameError::EmptyName);
        }
        if s.len() > MAX_NAME_LEN {
            return Err(NameError::NameTooLong);
        }
        if !s.split('/').all(is_path_component) {
            return Err(NameError::InvalidName(truncate(s)));
        }
        Ok(Self(s.to_owned()))
    }
}

impl fmt::Display for RepoName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A tag: `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tag(String);

impl Tag {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Tag {
    type Err = NameError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let b = s.as_bytes();
        let first_ok = b.first().is_some_and(|&c| c.is_ascii_alphanumeric() || c == b'_');
        let rest_ok = b
            .iter()
            .all(|&c| c.is_ascii_alphanumeric() || c == b'_' || c == b'.' || c == b'-');
        if !first_ok || !rest_ok || b.len() > MAX_TAG_LEN {
            return Err(NameError::InvalidTag(truncate(s)));
        }
        Ok(Self(s.to_owned()))
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a manifest request names: a tag or a digest.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Reference {
    Tag(Tag),
    Digest(Digest),
}

impl FromStr for Reference {
    type Err = NameError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.contains(':') {
            return s
                .parse()
                .map(Reference::Digest)
                .map_err(|_| NameError::InvalidReference(truncate(s)));
        }
        s.parse().map(Reference::Tag)
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reference::Tag(t) => t.fmt(f),
            Reference::Digest(d) => d.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_names() {
        for ok in [
            "a",
            "mosip/esignet",
            "a/b/c",
            "x-road/security-server",
            "a__b",
            "a.b_c--d",
            "0",
        ] {
            assert!(ok.parse::<RepoName>().is_ok(), "{ok} should be valid");
        }
        for bad in [
            "", "..", "a/..", "a/%2e%2e", "%2e", "A", "a//b", "/a", "a/", "-a", "a-", "a___b", "a..b", "a/./b", "a b",
            "a\\b",
        ] {
            assert!(bad.parse::<RepoName>().is_err(), "{bad:?} should be invalid");
        }
        assert_eq!("a".repeat(256).parse::<RepoName>(), Err(NameError::NameTooLong));
    }

    #[test]
    fn tags_and_references() {
        for ok in ["1.0.0", "latest", "_x", "v1.2.3-rc.1", "sha256-abc.sig"] {
            assert!(ok.parse::<Tag>().is_ok(), "{ok} should be valid");
        }
        for bad in ["", ".x", "-x", "a+b", "a/b", &"a".repeat(129)] {
            assert!(bad.parse::<Tag>().is_err(), "{bad:?} should be invalid");
        }
        assert!(matches!("1.0.0".parse::<Reference>(), Ok(Reference::Tag(_))));
        assert!(matches!(
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855".parse::<Reference>(),
            Ok(Reference::Digest(_))
        ));
        assert!("sha256:zz".parse::<Reference>().is_err());
    }
}
