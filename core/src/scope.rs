//! API token scopes: what a token may do, and to which namespaces.
//!
//! A scope is `admin`, `specs`, `<action>:<namespace glob>` with action `publish`,
//! `yank` or `keys`, or `<country action>:<CC>` with country action `review`, `approve`
//! or `country-admin` and an ISO 3166-1 alpha-2 code (`approve:SL`). The glob matches
//! whole namespaces; `*` stands for any run of characters (`mosip`, `mosip-*`, `*`). A
//! token's scopes only narrow what its user may do: the user must also hold the role the
//! action needs in the namespace's or country's organisation.

use std::fmt;
use std::str::FromStr;

use crate::digest::truncate;
use crate::manifest::values::CountryCode;

/// What a scoped action is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    Publish,
    Yank,
    Keys,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Publish => "publish",
            Action::Yank => "yank",
            Action::Keys => "keys",
        }
    }
}

/// What a country-scoped action is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CountryAction {
    /// Propose versions for review and recommend (role `reviewer`, `approver` or `owner`).
    Review,
    /// Sign approvals and revocations (role `approver` or `owner`).
    Approve,
    /// Manage the country's members, keys and policy (role `owner`).
    Admin,
}

impl CountryAction {
    pub fn as_str(self) -> &'static str {
        match self {
            CountryAction::Review => "review",
            CountryAction::Approve => "approve",
            CountryAction::Admin => "country-admin",
        }
    }

    pub const ALL: [CountryAction; 3] = [CountryAction::Review, CountryAction::Approve, CountryAction::Admin];
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// Everything, for an admin user.
    Admin,
    /// Publishing spec documents.
    Specs,
    /// One action on namespaces matching a glob.
    Namespaced { action: Action, glob: String },
    /// One action for one country.
    Country {
        action: CountryAction,
        country: CountryCode,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "scope `{0}` is invalid: use `admin`, `specs`, `publish:`, `yank:` or `keys:` followed by a namespace or glob such as `mosip` or `mosip-*`, or `review:`, `approve:` or `country-admin:` followed by a country code such as `SL`"
)]
pub struct ScopeError(String);

impl FromStr for Scope {
    type Err = ScopeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ScopeError(truncate(s));
        match s {
            "admin" => return Ok(Scope::Admin),
            "specs" => return Ok(Scope::Specs),
            _ => {}
        }
        let (action, glob) = s.split_once(':').ok_or_else(err)?;
        let country_action = match action {
            "review" => Some(CountryAction::Review),
            "approve" => Some(CountryAction::Approve),
            "country-admin" => Some(CountryAction::Admin),
            _ => None,
        };
        if let Some(action) = country_action {
            let country = glob.parse::<CountryCode>().map_err(|_| err())?;
            return Ok(Scope::Country { action, country });
        }
        let action = match action {
            "publish" => Action::Publish,
            "yank" => Action::Yank,
            "keys" => Action::Keys,
            _ => return Err(err()),
        };
        let ok = !glob.is_empty()
            && glob.len() <= 64
            && glob
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'*');
        if !ok {
            return Err(err());
        }
        Ok(Scope::Namespaced {
            action,
            glob: glob.to_owned(),
        })
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Admin => f.write_str("admin"),
            Scope::Specs => f.write_str("specs"),
            Scope::Namespaced { action, glob } => write!(f, "{}:{glob}", action.as_str()),
            Scope::Country { action, country } => write!(f, "{}:{country}", action.as_str()),
        }
    }
}

impl Scope {
    /// Whether this scope allows `action` on `namespace`.
    pub fn allows(&self, action: Action, namespace: &str) -> bool {
        match self {
            Scope::Admin => true,
            Scope::Specs => false,
            Scope::Namespaced { action: a, glob } => *a == action && glob_match(glob.as_bytes(), namespace.as_bytes()),
            Scope::Country { .. } => false,
        }
    }

    /// Whether this scope allows the country action `action` for `country`.
    pub fn allows_country(&self, action: CountryAction, country: CountryCode) -> bool {
        match self {
            Scope::Admin => true,
            Scope::Country { action: a, country: c } => *a == action && *c == country,
            _ => false,
        }
    }
}

/// `*`-only glob matching over whole strings.
fn glob_match(pattern: &[u8], text: &[u8]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some((b'*', rest)) => (0..=text.len()).any(|i| glob_match(rest, &text[i..])),
        Some((c, rest)) => text.first() == Some(c) && glob_match(rest, &text[1..]),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn scope(s: &str) -> Scope {
        s.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn parse_and_match() {
        assert!(scope("publish:mosip").allows(Action::Publish, "mosip"));
        assert!(!scope("publish:mosip").allows(Action::Publish, "mosip-labs"));
        assert!(!scope("publish:mosip").allows(Action::Yank, "mosip"));
        assert!(scope("yank:mosip-*").allows(Action::Yank, "mosip-labs"));
        assert!(!scope("yank:mosip-*").allows(Action::Yank, "mosip"));
        assert!(scope("keys:*").allows(Action::Keys, "anything"));
        assert!(scope("admin").allows(Action::Keys, "x"));
        assert!(!scope("specs").allows(Action::Publish, "x"));
        assert_eq!(scope("publish:a-*").to_string(), "publish:a-*");
        let sl: CountryCode = "SL".parse().unwrap();
        assert!(scope("approve:SL").allows_country(CountryAction::Approve, sl));
        assert!(!scope("review:SL").allows_country(CountryAction::Approve, sl));
        assert!(!scope("approve:KE").allows_country(CountryAction::Approve, sl));
        assert!(!scope("approve:SL").allows(Action::Publish, "sl"));
        assert!(scope("admin").allows_country(CountryAction::Admin, sl));
        assert_eq!(scope("country-admin:SL").to_string(), "country-admin:SL");
        for bad in [
            "",
            "publish",
            "publish:",
            "write:x",
            "publish:A",
            "publish:a/b",
            "root",
            "approve:sl",
            "approve:XX",
            "review:*",
        ] {
            assert!(bad.parse::<Scope>().is_err(), "{bad}");
        }
    }
}
