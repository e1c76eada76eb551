//! Package names (`mosip/esignet`) and spec ids (`govstack/identity`).
//!
//! Both are `namespace/name`: exactly two parts, each 1 to 64 characters of lowercase
//! ASCII letters, digits and single dashes, starting with a letter and not ending with a
//! dash. The grammar is a strict subset of the OCI repository-name grammar, so every
//! package name is also a repository name ([`PackageName::repo_name`]).
//!
//! The types can only be built through [`FromStr`], and their serde implementations go
//! through it too, so no manifest, request body or database row can smuggle in a name
//! that was never checked.

use std::fmt;
use std::str::FromStr;

use crate::digest::truncate;
use crate::reference::RepoName;

/// The longest namespace or name part, in characters.
pub const MAX_PART_LEN: usize = 64;

/// Why a `namespace/name` string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind} `{input}`: {rule}")]
pub struct QualifiedNameError {
    /// `package name` or `spec id`.
    pub kind: &'static str,
    /// The refused input, shortened if long.
    pub input: String,
    /// The rule it broke.
    pub rule: NameRule,
}

/// The grammar rule a name broke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameRule {
    /// No `/`, or more than one.
    NotTwoParts,
    /// `/x` or `x/`.
    EmptyPart,
    /// A part longer than [`MAX_PART_LEN`].
    PartTooLong,
    /// A part starting with something other than a lowercase letter.
    MustStartWithLetter,
    /// A part ending with `-`.
    EndsWithDash,
    /// `--` inside a part.
    DoubleDash,
    /// An uppercase ASCII letter.
    Uppercase,
    /// Anything else outside `[a-z0-9-]`.
    InvalidCharacter(char),
}

impl fmt::Display for NameRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NameRule::NotTwoParts => f.write_str("expected exactly two parts, `namespace/name`"),
            NameRule::EmptyPart => f.write_str("the namespace and the name must not be empty"),
            NameRule::PartTooLong => {
                write!(f, "each part must be at most {MAX_PART_LEN} characters")
            }
            NameRule::MustStartWithLetter => f.write_str("each part must start with a lowercase letter"),
            NameRule::EndsWithDash => f.write_str("a part must not end with `-`"),
            NameRule::DoubleDash => f.write_str("dashes must be single (`--` is not allowed)"),
            NameRule::Uppercase => f.write_str("uppercase letters are not allowed; use lowercase"),
            NameRule::InvalidCharacter(c) => write!(
                f,
                "character {c:?} is not allowed; use lowercase letters, digits and `-`"
            ),
        }
    }
}

/// Checks one part and returns the first rule it breaks.
fn check_part(part: &str) -> Result<(), NameRule> {
    let mut chars = part.chars();
    let Some(first) = chars.next() else {
        return Err(NameRule::EmptyPart);
    };
    if part.len() > MAX_PART_LEN {
        return Err(NameRule::PartTooLong);
    }
    for c in part.chars() {
        match c {
            'a'..='z' | '0'..='9' | '-' => {}
            'A'..='Z' => return Err(NameRule::Uppercase),
            other => return Err(NameRule::InvalidCharacter(other)),
        }
    }
    if !first.is_ascii_lowercase() {
        return Err(NameRule::MustStartWithLetter);
    }
    if part.ends_with('-') {
        return Err(NameRule::EndsWithDash);
    }
    if part.contains("--") {
        return Err(NameRule::DoubleDash);
    }
    Ok(())
}

/// Checks a namespace (an organisation's name) or a user name by the grammar of one
/// part of a package name.
pub fn check_namespace(s: &str, kind: &'static str) -> Result<(), QualifiedNameError> {
    check_part(s).map_err(|rule| QualifiedNameError {
        kind,
        input: truncate(s),
        rule,
    })
}

/// Parses `namespace/name` and returns the index of the `/`.
fn parse_qualified(s: &str, kind: &'static str) -> Result<usize, QualifiedNameError> {
    let fail = |rule| QualifiedNameError {
        kind,
        input: truncate(s),
        rule,
    };
    let mut parts = s.split('/');
    let (Some(namespace), Some(name), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(fail(NameRule::NotTwoParts));
    };
    check_part(namespace).map_err(fail)?;
    check_part(name).map_err(fail)?;
    Ok(namespace.len())
}

macro_rules! qualified_name {
    ($(#[$doc:meta])* $ty:ident, $kind:literal, $expecting:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $ty {
            full: String,
            slash: usize,
        }

        impl $ty {
            /// The whole `namespace/name`.
            pub fn as_str(&self) -> &str {
                &self.full
            }

            /// The part before the `/`.
            pub fn namespace(&self) -> &str {
                &self.full[..self.slash]
            }

            /// The part after the `/`.
            pub fn name(&self) -> &str {
                &self.full[self.slash + 1..]
            }
        }

        impl FromStr for $ty {
            type Err = QualifiedNameError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let slash = parse_qualified(s, $kind)?;
                Ok(Self { full: s.to_owned(), slash })
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.full)
            }
        }

        impl AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                &self.full
            }
        }

        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.full)
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct Visitor;
                impl serde::de::Visitor<'_> for Visitor {
                    type Value = $ty;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str($expecting)
                    }
                    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<$ty, E> {
                        v.parse().map_err(E::custom)
                    }
                }
                d.deserialize_str(Visitor)
            }
        }
    };
}

qualified_name!(
    /// A package name such as `mosip/esignet` or `x-road/security-server`.
    PackageName,
    "package name",
    "a package name `namespace/name`"
);

qualified_name!(
    /// A building-block specification id such as `govstack/identity`.
    SpecId,
    "spec id",
    "a spec id `namespace/name`"
);

impl PackageName {
    /// The OCI repository that holds this package's versions.
    pub fn repo_name(&self) -> RepoName {
        // Each part is `[a-z][a-z0-9]*(-[a-z0-9]+)*`, which the OCI grammar
        // `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*` accepts, and the whole is at most 129 bytes.
        self.full
            .parse()
            .expect("the package-name grammar is a subset of the OCI repository-name grammar")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn accepts_real_names() {
        for ok in [
            "mosip/esignet",
            "x-road/security-server",
            "govstack/identity",
            "opencrvs/opencrvs-core",
            "n8n/n8n",
            "a/b",
            "a1/b-2-c",
        ] {
            let name: PackageName = ok.parse().unwrap_or_else(|e| panic!("{ok}: {e}"));
            assert_eq!(name.to_string(), ok);
            assert_eq!(name.repo_name().as_str(), ok);
            assert!(ok.parse::<SpecId>().is_ok());
        }
        let max = format!("{}/{}", "a".repeat(64), "b".repeat(64));
        assert_eq!(max.parse::<PackageName>().map(|n| n.repo_name().to_string()), Ok(max));
    }

    #[test]
    fn parts() {
        let name: PackageName = "x-road/security-server".parse().unwrap();
        assert_eq!((name.namespace(), name.name()), ("x-road", "security-server"));
    }

    #[test]
    fn refuses_each_rule_with_its_reason() {
        let cases = [
            ("esignet", NameRule::NotTwoParts),
            ("a/b/c", NameRule::NotTwoParts),
            ("", NameRule::NotTwoParts),
            ("/b", NameRule::EmptyPart),
            ("a/", NameRule::EmptyPart),
            ("Mosip/esignet", NameRule::Uppercase),
            ("mosip/eSignet", NameRule::Uppercase),
            ("1mosip/esignet", NameRule::MustStartWithLetter),
            ("mosip/-esignet", NameRule::MustStartWithLetter),
            ("mosip-/esignet", NameRule::EndsWithDash),
            ("x--road/server", NameRule::DoubleDash),
            ("x_road/server", NameRule::InvalidCharacter('_')),
            ("x.road/server", NameRule::InvalidCharacter('.')),
            ("x road/server", NameRule::InvalidCharacter(' ')),
            ("mosip/ésignet", NameRule::InvalidCharacter('é')),
        ];
        for (input, rule) in cases {
            let err = input.parse::<PackageName>().expect_err(input);
            assert_eq!(err.rule, rule, "{input}");
            assert_eq!(err.kind, "package name");
        }
        let long = format!("a/{}", "b".repeat(65));
        assert_eq!(long.parse::<SpecId>().map_err(|e| e.rule), Err(NameRule::PartTooLong));
    }

    #[test]
    fn messages_are_clear() {
        let err = "Mosip/esignet".parse::<PackageName>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid package name `Mosip/esignet`: uppercase letters are not allowed; use lowercase"
        );
        let err = "identity".parse::<SpecId>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid spec id `identity`: expected exactly two parts, `namespace/name`"
        );
    }

    #[test]
    fn serde_goes_through_validation() {
        let name: PackageName = serde_json::from_str("\"mosip/esignet\"").unwrap();
        assert_eq!(serde_json::to_string(&name).unwrap(), "\"mosip/esignet\"");
        let err = serde_json::from_str::<PackageName>("\"MOSIP/esignet\"").unwrap_err();
        assert!(err.to_string().contains("uppercase letters are not allowed"), "{err}");
        assert!(serde_json::from_str::<SpecId>("42").is_err());
    }
}
