//! Licence expressions (SPDX).

use std::fmt;
use std::str::FromStr;

use super::ValueError;
use crate::digest::truncate;
use crate::manifest::limits::MAX_LICENSE_LEN;

/// A licence as an SPDX expression, e.g. `MIT`, `Apache-2.0 OR MIT`, or
/// `LicenseRef-Sustainable-Use-License` for a licence that is not on the SPDX list.
///
/// Parsed strictly: identifiers are case-sensitive, deprecated identifiers are refused,
/// and `/` is not accepted for `OR`.
#[derive(Clone)]
pub struct License {
    text: String,
    expr: spdx::Expression,
}

impl License {
    /// The expression as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The parsed expression, for licence policy checks.
    pub fn expression(&self) -> &spdx::Expression {
        &self.expr
    }

    /// Whether the package may be used under OSI-approved licences only: true when the
    /// expression can be satisfied by choosing OSI-approved licences (`MIT OR
    /// LicenseRef-x` is; `LicenseRef-x` alone is not).
    pub fn is_osi_approved(&self) -> bool {
        self.expr
            .evaluate(|req| req.license.id().is_some_and(|id| id.is_osi_approved()))
    }
}

impl FromStr for License {
    type Err = ValueError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let fail = |reason: String| ValueError::License {
            input: truncate(s),
            reason,
        };
        if s.len() > MAX_LICENSE_LEN {
            return Err(ValueError::TooLong {
                what: "the licence expression",
                max: MAX_LICENSE_LEN,
            });
        }
        if s.trim() != s {
            return Err(fail("leading or trailing whitespace".to_owned()));
        }
        let expr = spdx::Expression::parse(s).map_err(|e| {
            let term = s.get(e.span.clone()).unwrap_or_default();
            let mut reason = e.reason.to_string();
            if !term.is_empty() {
                reason = format!("{reason} at `{term}`");
            }
            if matches!(
                e.reason,
                spdx::error::Reason::UnknownLicense | spdx::error::Reason::UnknownTerm
            ) {
                reason.push_str(
                    "; use an identifier from https://spdx.org/licenses/ or `LicenseRef-<name>` \
                     for a licence that is not on the list",
                );
            }
            fail(reason)
        })?;
        Ok(Self {
            text: s.to_owned(),
            expr,
        })
    }
}

impl fmt::Debug for License {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("License").field(&self.text).finish()
    }
}

impl PartialEq for License {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for License {}

string_value!(License, "an SPDX licence expression such as \"Apache-2.0\"");

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn licenses() {
        for ok in [
            "MIT",
            "Apache-2.0 OR MIT",
            "MPL-2.0",
            "LicenseRef-Sustainable-Use-License",
            "GPL-3.0-only WITH Classpath-exception-2.0",
        ] {
            let l: License = ok.parse().unwrap_or_else(|e| panic!("{ok}: {e}"));
            assert_eq!(l.as_str(), ok);
        }
        assert!("MIT".parse::<License>().unwrap().is_osi_approved());
        assert!("MIT OR LicenseRef-x".parse::<License>().unwrap().is_osi_approved());
        assert!(
            !"LicenseRef-Sustainable-Use-License"
                .parse::<License>()
                .unwrap()
                .is_osi_approved()
        );
        for bad in [
            "",
            "Apache-2.0 OR",
            "mit",
            "GPL-3.0",
            "MIT/Apache-2.0",
            " MIT",
            "Apache 2",
        ] {
            assert!(bad.parse::<License>().is_err(), "{bad:?} should be refused");
        }
    }
}
