//! Values that point somewhere: URLs, paths inside the package, compliance evidence.

use std::str::FromStr;

use super::{ValueError, has_control};
use crate::digest::truncate;
use crate::manifest::limits::{MAX_EVIDENCE_CHARS, MAX_PATH_LEN, MAX_URL_LEN};

/// An absolute `https://` or `http://` URL with a host. Other schemes (`javascript:`,
/// `file:`, `data:`) are refused, because catalogue pages render these as links.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Url(String);

impl Url {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Url {
    type Err = ValueError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let fail = |reason| ValueError::Url {
            input: truncate(s),
            reason,
        };
        if s.len() > MAX_URL_LEN {
            return Err(ValueError::TooLong {
                what: "the URL",
                max: MAX_URL_LEN,
            });
        }
        let Some(rest) = s.strip_prefix("https://").or_else(|| s.strip_prefix("http://")) else {
            return Err(fail("expected an https:// or http:// URL"));
        };
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(fail("URLs must not contain spaces or control characters"));
        }
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if authority.contains('@') {
            return Err(fail("URLs must not contain credentials"));
        }
        let host = authority.split(':').next().unwrap_or_default();
        if host.is_empty() {
            return Err(fail("the URL has no host"));
        }
        let host_ok = host.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '.')
            && !host.starts_with(['.', '-'])
            && !host.contains("..");
        if !host_ok {
            return Err(fail("the host may contain only letters, digits, `-` and `.`"));
        }
        Ok(Self(s.to_owned()))
    }
}

string_value!(Url, "an https:// URL");

/// A `/`-separated path inside the package directory, such as `README.md` or
/// `sbom/cyclonedx.json`: not absolute, no `..`, no backslashes, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RelativePath(String);

impl RelativePath {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for RelativePath {
    type Err = ValueError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let fail = |reason| ValueError::Path {
            input: truncate(s),
            reason,
        };
        if s.is_empty() {
            return Err(fail("the path is empty"));
        }
        if s.len() > MAX_PATH_LEN {
            return Err(ValueError::TooLong {
                what: "the path",
                max: MAX_PATH_LEN,
            });
        }
        if s.starts_with('/') || s.contains(':') {
            return Err(fail("the path must be relative to the package directory"));
        }
        if s.contains('\\') {
            return Err(fail("use `/` to separate directories"));
        }
        if has_control(s) {
            return Err(fail("the path contains control characters"));
        }
        if s.split('/').any(|part| part == "..") {
            return Err(fail("`..` would leave the package directory"));
        }
        if s.split('/').any(str::is_empty) {
            return Err(fail("the path has an empty component"));
        }
        Ok(Self(s.to_owned()))
    }
}

string_value!(RelativePath, "a relative path such as \"README.md\"");

/// Evidence for a compliance claim: a link to a report, or a short text.
///
/// Written as one string; a string starting with `https://` or `http://` is a URL and
/// must be valid as one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Evidence {
    Url(Url),
    Text(String),
}

impl Evidence {
    pub fn as_str(&self) -> &str {
        match self {
            Evidence::Url(u) => u.as_str(),
            Evidence::Text(t) => t,
        }
    }
}

impl FromStr for Evidence {
    type Err = ValueError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.starts_with("https://") || s.starts_with("http://") {
            return s.parse().map(Evidence::Url);
        }
        let len = s.chars().count();
        if s.trim().is_empty() {
            return Err(ValueError::EvidenceEmpty);
        }
        if len > MAX_EVIDENCE_CHARS {
            return Err(ValueError::EvidenceTooLong { len });
        }
        if s.chars().any(|c| c.is_control() && c != '\n') {
            return Err(ValueError::EvidenceControl);
        }
        Ok(Evidence::Text(s.to_owned()))
    }
}

string_value!(Evidence, "a URL or a short text");

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        for ok in [
            "https://x-road.global",
            "https://github.com/nordic-institute/X-Road",
            "http://example.org:8080/a?b#c",
        ] {
            assert!(ok.parse::<Url>().is_ok(), "{ok}");
        }
        for bad in [
            "javascript:alert(1)",
            "ftp://x.org",
            "https://",
            "https:///path",
            "https://a b.org",
            "https://u:p@x.org",
            "x.org",
            "https://ex_ample.org",
        ] {
            assert!(bad.parse::<Url>().is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn paths() {
        for ok in ["README.md", "docs/README.md", "./README.md", "sbom/bom.cdx.json"] {
            assert!(ok.parse::<RelativePath>().is_ok(), "{ok}");
        }
        for bad in ["", "/etc/passwd", "../x", "a/../../x", "a\\b", "C:/x", "a//b", "a/\n"] {
            assert!(bad.parse::<RelativePath>().is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn evidence() {
        assert!(matches!("https://example.org/r".parse(), Ok(Evidence::Url(_))));
        assert!(matches!("Self-assessed".parse(), Ok(Evidence::Text(_))));
        assert!("https://".parse::<Evidence>().is_err());
        assert!("two\nlines".parse::<Evidence>().is_ok());
        assert_eq!("bell\u{7}".parse::<Evidence>(), Err(ValueError::EvidenceControl));
        assert_eq!(" ".parse::<Evidence>(), Err(ValueError::EvidenceEmpty));
        assert!("x".repeat(MAX_EVIDENCE_CHARS + 1).parse::<Evidence>().is_err());
    }
}
