//! Country approvals: the in-toto statement a country's approver signs, and the rule
//! that decides whether a version is approved.
//!
//! A statement is an in-toto Statement v1 whose one `subject` is a package manifest
//! (`name` = `ns/name@version`, `digest.sha256` = its manifest digest) with the
//! predicate type [`PREDICATE_TYPE`]. The predicate names the country, the decision
//! (`approved` or `revoked`), optional conditions, `validUntil`, the reason, the
//! reviewer recommendation it rests on, the approver's account and `signedAt`. It travels
//! in a DSSE envelope (`govstore_signing::dsse`) with payload type [`PAYLOAD_TYPE`], one
//! envelope per approver signature.
//!
//! The rule ([`tally`]) is the same on the server and in the CLI: for one country and one
//! digest, the latest revocation (by `signedAt`) cancels every approval signed before
//! it; an approval counts while unexpired; the version is approved when the distinct
//! keys of counted approvals reach the threshold. Readers ignore unknown predicate
//! fields; the predicate type's `/v1` is its format version.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::Digest;
use crate::manifest::values::CountryCode;
use crate::package::PackageName;
use crate::time;

/// The in-toto Statement type.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
/// govstore's predicate type for country approvals; `/v1` is the format's version.
pub const PREDICATE_TYPE: &str = "https://govstore.dev/approval/v1";
/// The DSSE payload type of an in-toto statement.
pub const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
/// The largest statement read, in bytes.
pub const MAX_STATEMENT_BYTES: usize = 64 * 1024;
/// The longest reason, condition text or recommendation note, in characters.
pub const MAX_TEXT_CHARS: usize = 2000;
/// The most structured conditions a statement may carry.
pub const MAX_CONDITIONS: usize = 32;

/// What a statement decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Approved,
    Revoked,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Approved => "approved",
            Decision::Revoked => "revoked",
        }
    }
}

/// A structured condition: the approval holds only together with a package in a range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requires {
    pub package: PackageName,
    pub version: semver::VersionReq,
}

/// Conditions on an approval: free text plus optional structured ones.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conditions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requires: Vec<Requires>,
}

impl Conditions {
    pub fn is_empty(&self) -> bool {
        self.text.is_none() && self.requires.is_empty()
    }
}

/// The reviewer's recommendation an approval rests on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recommendation {
    pub reviewer: String,
    /// `approve` or `reject`.
    pub recommendation: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// RFC 3339 UTC.
    pub at: String,
}

/// The predicate, as it appears in the statement (camelCase keys).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Predicate {
    pub country: CountryCode,
    pub decision: Decision,
    #[serde(default, skip_serializing_if = "Conditions::is_empty")]
    pub conditions: Conditions,
    /// RFC 3339 UTC; absent: valid until revoked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recommendation: Option<Recommendation>,
    /// The approver's account on the registry that recorded it (informative: the key
    /// is what counts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approver: Option<String>,
    /// RFC 3339 UTC.
    pub signed_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct SubjectDigest {
    sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Subject {
    name: String,
    digest: SubjectDigest,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireStatement {
    #[serde(rename = "_type")]
    type_: String,
    subject: Vec<Subject>,
    predicate_type: String,
    predicate: Predicate,
}

/// A checked approval statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub package: PackageName,
    pub version: semver::Version,
    pub digest: Digest,
    pub predicate: Predicate,
    /// `signedAt` in seconds since the epoch.
    pub signed_at: i64,
    /// `validUntil` in seconds since the epoch.
    pub valid_until: Option<i64>,
}

/// Why a statement was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatementError {
    #[error("the statement is {0} bytes; at most {MAX_STATEMENT_BYTES}")]
    TooLarge(usize),
    #[error("the statement is not valid JSON for an approval: {0}")]
    Json(String),
    #[error("`_type` is `{0}`, not `{STATEMENT_TYPE}`")]
    StatementType(String),
    #[error("`predicateType` is `{0}`, not `{PREDICATE_TYPE}`")]
    PredicateType(String),
    #[error("the statement has {0} subjects; an approval names exactly one package version")]
    Subjects(usize),
    #[error("subject name `{0}` is not `namespace/name@version`")]
    SubjectName(String),
    #[error("subject digest `{0}` is not a SHA-256 hex digest")]
    SubjectDigest(String),
    #[error("`{field}` is `{value}`, not an RFC 3339 UTC time such as 2027-12-31T23:59:59Z")]
    Time { field: &'static str, value: String },
    #[error("`validUntil` ({0}) is not after `signedAt`")]
    ValidityOrder(String),
    #[error("a revocation needs a reason")]
    ReasonMissing,
    #[error("`{field}` has {chars} characters; at most {MAX_TEXT_CHARS}")]
    TextTooLong { field: &'static str, chars: usize },
    #[error("{0} structured conditions; at most {MAX_CONDITIONS}")]
    TooManyConditions(usize),
}

fn check_text(field: &'static str, text: Option<&str>) -> Result<(), StatementError> {
    let chars = text.map_or(0, |t| t.chars().count());
    if chars > MAX_TEXT_CHARS {
        return Err(StatementError::TextTooLong { field, chars });
    }
    Ok(())
}

fn parse_time(field: &'static str, value: &str) -> Result<i64, StatementError> {
    time::parse_rfc3339(value).ok_or_else(|| StatementError::Time {
        field,
        value: crate::digest::truncate(value),
    })
}

impl Statement {
    /// A new statement about `package@version` (manifest `digest`).
    pub fn new(package: PackageName, version: semver::Version, digest: Digest, predicate: Predicate) -> Self {
        let signed_at = time::parse_rfc3339(&predicate.signed_at).unwrap_or_default();
        let valid_until = predicate.valid_until.as_deref().and_then(time::parse_rfc3339);
        Self {
            package,
            version,
            digest,
            predicate,
            signed_at,
            valid_until,
        }
    }

    /// The subject's name, `ns/name@version`.
    pub fn subject_name(&self) -> String {
        format!("{}@{}", self.package, self.version)
    }

    /// The statement's JSON: the payload a DSSE envelope carries.
    pub fn to_json(&self) -> Vec<u8> {
        let wire = WireStatement {
            type_: STATEMENT_TYPE.to_owned(),
            subject: vec![Subject {
                name: self.subject_name(),
                digest: SubjectDigest {
                    sha256: self.digest.hex().to_owned(),
                },
            }],
            predicate_type: PREDICATE_TYPE.to_owned(),
            predicate: self.predicate.clone(),
        };
        serde_json::to_vec(&wire).expect("a statement always serializes")
    }

    /// Read and check a statement: the types, exactly one subject naming a package
    /// version by SHA-256, times in RFC 3339 UTC with `validUntil` after `signedAt`, a
    /// reason on a revocation, and the sizes. Unknown fields are ignored.
    pub fn from_json(bytes: &[u8]) -> Result<Self, StatementError> {
        if bytes.len() > MAX_STATEMENT_BYTES {
            return Err(StatementError::TooLarge(bytes.len()));
        }
        let wire: WireStatement = serde_json::from_slice(bytes).map_err(|e| StatementError::Json(e.to_string()))?;
        if wire.type_ != STATEMENT_TYPE {
            return Err(StatementError::StatementType(crate::digest::truncate(&wire.type_)));
        }
        if wire.predicate_type != PREDICATE_TYPE {
            return Err(StatementError::PredicateType(crate::digest::truncate(
                &wire.predicate_type,
            )));
        }
        let [subject] = <[Subject; 1]>::try_from(wire.subject).map_err(|v| StatementError::Subjects(v.len()))?;
        let name_err = || StatementError::SubjectName(crate::digest::truncate(&subject.name));
        let (package, version) = subject.name.rsplit_once('@').ok_or_else(name_err)?;
        let package: PackageName = package.parse().map_err(|_| name_err())?;
        let version: semver::Version = version.parse().map_err(|_| name_err())?;
        let digest: Digest = format!("sha256:{}", subject.digest.sha256)
            .parse()
            .map_err(|_| StatementError::SubjectDigest(crate::digest::truncate(&subject.digest.sha256)))?;
        let p = wire.predicate;
        let signed_at = parse_time("signedAt", &p.signed_at)?;
        let valid_until = p
            .valid_until
            .as_deref()
            .map(|v| parse_time("validUntil", v))
            .transpose()?;
        if let Some(until) = valid_until
            && until <= signed_at
        {
            return Err(StatementError::ValidityOrder(time::rfc3339(until)));
        }
        if p.decision == Decision::Revoked && p.reason.as_deref().is_none_or(|r| r.trim().is_empty()) {
            return Err(StatementError::ReasonMissing);
        }
        check_text("reason", p.reason.as_deref())?;
        check_text("conditions.text", p.conditions.text.as_deref())?;
        if let Some(r) = &p.recommendation {
            check_text("recommendation.notes", r.notes.as_deref())?;
            check_text("recommendation.reviewer", Some(&r.reviewer))?;
        }
        check_text("approver", p.approver.as_deref())?;
        if p.conditions.requires.len() > MAX_CONDITIONS {
            return Err(StatementError::TooManyConditions(p.conditions.requires.len()));
        }
        Ok(Self {
            package,
            version,
            digest,
            predicate: p,
            signed_at,
            valid_until,
        })
    }

    pub fn country(&self) -> CountryCode {
        self.predicate.country
    }

    pub fn decision(&self) -> Decision {
        self.predicate.decision
    }

    /// Whether the statement has expired at `now` (seconds).
    pub fn expired_at(&self, now: i64) -> bool {
        self.valid_until.is_some_and(|u| u <= now)
    }
}

/// One statement whose signature a caller verified, with the key that verified it.
#[derive(Debug, Clone)]
pub struct Signed<'a> {
    pub key_id: &'a str,
    pub statement: &'a Statement,
}

/// The approval state of one version in one country.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Tally {
    /// Distinct keys whose approvals count now.
    pub approving_keys: BTreeSet<String>,
    /// How many are needed.
    pub threshold: u32,
    /// The latest revocation: key, reason, when (seconds).
    pub revoked: Option<(String, String, i64)>,
    /// Approvals that expired, by key, with their `validUntil` (seconds).
    pub expired: BTreeMap<String, i64>,
    /// Approvals signed before the latest revocation, by key.
    pub cancelled: BTreeSet<String>,
    /// The earliest `validUntil` among the counted approvals.
    pub valid_until: Option<i64>,
}

impl Tally {
    /// Whether the threshold is met now.
    pub fn approved(&self) -> bool {
        self.threshold > 0 && self.approving_keys.len() >= self.threshold as usize
    }

    /// Why the version is not approved, in one line (`None` when it is).
    pub fn why_not(&self, country: CountryCode) -> Option<String> {
        if self.approved() {
            return None;
        }
        if let Some((key, reason, at)) = &self.revoked {
            return Some(format!(
                "approval revoked in {country} on {} by key {}: {reason}",
                time::rfc3339(*at),
                short_key(key)
            ));
        }
        let mut parts = vec![format!(
            "{} of {} approvals needed in {country}",
            self.approving_keys.len(),
            self.threshold
        )];
        if !self.expired.is_empty() {
            let list: Vec<String> = self
                .expired
                .iter()
                .map(|(k, at)| format!("{} expired {}", short_key(k), time::rfc3339(*at)))
                .collect();
            parts.push(format!("expired: {}", list.join(", ")));
        }
        Some(parts.join("; "))
    }
}

/// A key id shortened for messages: `sha256:` and the first 12 hex digits.
pub fn short_key(key_id: &str) -> &str {
    key_id.get(..19).unwrap_or(key_id)
}

/// Count the verified statements of one country about one digest at `now` (seconds).
/// Statements of other countries or digests are ignored; so is everything signed
/// before the latest revocation.
pub fn tally<'a>(
    country: CountryCode,
    digest: &Digest,
    threshold: u32,
    now: i64,
    signed: impl IntoIterator<Item = Signed<'a>>,
) -> Tally {
    let relevant: Vec<Signed<'a>> = signed
        .into_iter()
        .filter(|s| s.statement.country() == country && s.statement.digest == *digest)
        .collect();
    let revocation = relevant
        .iter()
        .filter(|s| s.statement.decision() == Decision::Revoked)
        .max_by_key(|s| s.statement.signed_at);
    let mut t = Tally {
        threshold,
        revoked: revocation.map(|s| {
            (
                s.key_id.to_owned(),
                s.statement.predicate.reason.clone().unwrap_or_default(),
                s.statement.signed_at,
            )
        }),
        ..Tally::default()
    };
    let cutoff = revocation.map(|s| s.statement.signed_at);
    for s in relevant.iter().filter(|s| s.statement.decision() == Decision::Approved) {
        if cutoff.is_some_and(|c| s.statement.signed_at <= c) {
            t.cancelled.insert(s.key_id.to_owned());
        } else if s.statement.expired_at(now) {
            t.expired
                .insert(s.key_id.to_owned(), s.statement.valid_until.unwrap_or_default());
        } else {
            t.approving_keys.insert(s.key_id.to_owned());
            if let Some(u) = s.statement.valid_until {
                t.valid_until = Some(t.valid_until.map_or(u, |v: i64| v.min(u)));
            }
        }
    }
    // An approval signed after the revocation makes the revocation history, not the state.
    if !t.approving_keys.is_empty() && t.approved() {
        t.revoked = None;
    }
    // A key that approved again after an expired approval counts once, as approving.
    for k in &t.approving_keys {
        t.expired.remove(k);
    }
    t
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn sl() -> CountryCode {
        "SL".parse().unwrap()
    }

    fn statement(decision: Decision, signed_at: i64, until: Option<i64>) -> Statement {
        Statement::new(
            "mosip/esignet".parse().unwrap(),
            "1.8.0".parse().unwrap(),
            Digest::of(b"m"),
            Predicate {
                country: sl(),
                decision,
                conditions: Conditions::default(),
                valid_until: until.map(time::rfc3339),
                reason: (decision == Decision::Revoked).then(|| "CVE-2026-1".to_owned()),
                recommendation: None,
                approver: Some("amara".into()),
                signed_at: time::rfc3339(signed_at),
            },
        )
    }

    #[test]
    fn json_round_trip_and_shape() {
        let s = statement(Decision::Approved, 1_800_000_000, Some(1_830_000_000));
        let json = s.to_json();
        let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(v["_type"], STATEMENT_TYPE);
        assert_eq!(v["subject"][0]["name"], "mosip/esignet@1.8.0");
        assert_eq!(v["subject"][0]["digest"]["sha256"], Digest::of(b"m").hex());
        assert_eq!(v["predicate"]["validUntil"], "2027-12-28T13:20:00Z");
        assert_eq!(v["predicate"]["decision"], "approved");
        assert_eq!(Statement::from_json(&json).unwrap(), s);
    }

    #[test]
    fn refusals() {
        let good: serde_json::Value =
            serde_json::from_slice(&statement(Decision::Approved, 1_800_000_000, None).to_json()).unwrap();
        let with = |f: &dyn Fn(&mut serde_json::Value)| {
            let mut v = good.clone();
            f(&mut v);
            Statement::from_json(v.to_string().as_bytes()).unwrap_err()
        };
        assert!(matches!(
            with(&|v| v["_type"] = "x".into()),
            StatementError::StatementType(_)
        ));
        assert!(matches!(
            with(&|v| v["predicateType"] = "x".into()),
            StatementError::PredicateType(_)
        ));
        assert!(matches!(
            with(&|v| v["subject"] = serde_json::json!([])),
            StatementError::Subjects(0)
        ));
        assert!(matches!(
            with(&|v| v["subject"][0]["name"] = "esignet".into()),
            StatementError::SubjectName(_)
        ));
        assert!(matches!(
            with(&|v| v["subject"][0]["digest"]["sha256"] = "zz".into()),
            StatementError::SubjectDigest(_)
        ));
        assert!(matches!(
            with(&|v| v["predicate"]["signedAt"] = "yesterday".into()),
            StatementError::Time { .. }
        ));
        assert!(matches!(
            with(&|v| v["predicate"]["validUntil"] = "2020-01-01T00:00:00Z".into()),
            StatementError::ValidityOrder(_)
        ));
        assert!(matches!(
            with(&|v| v["predicate"]["decision"] = "revoked".into()),
            StatementError::ReasonMissing
        ));
        assert!(matches!(
            with(&|v| v["predicate"]["country"] = "XX".into()),
            StatementError::Json(_)
        ));
        assert!(matches!(
            with(&|v| v["predicate"]["reason"] = "x".repeat(MAX_TEXT_CHARS + 1).into()),
            StatementError::TextTooLong { .. }
        ));
        // Unknown fields are ignored.
        let mut v = good.clone();
        v["predicate"]["addedLater"] = 1.into();
        v["later"] = true.into();
        assert!(Statement::from_json(v.to_string().as_bytes()).is_ok());
    }

    #[test]
    fn tally_counts_distinct_unexpired_keys_after_the_latest_revocation() {
        let now = 1_800_000_000;
        let a1 = statement(Decision::Approved, now - 100, None);
        let a2 = statement(Decision::Approved, now - 90, Some(now + 1000));
        let a3_expired = statement(Decision::Approved, now - 80, Some(now - 1));
        let signed = |k, s| Signed {
            key_id: k,
            statement: s,
        };
        let d = Digest::of(b"m");

        let t = tally(sl(), &d, 2, now, [signed("k1", &a1), signed("k1", &a1)]);
        assert!(!t.approved(), "one key twice is one approval");
        assert_eq!(t.why_not(sl()).unwrap(), "1 of 2 approvals needed in SL");

        let t = tally(
            sl(),
            &d,
            2,
            now,
            [signed("k1", &a1), signed("k2", &a2), signed("k3", &a3_expired)],
        );
        assert!(t.approved());
        assert_eq!(t.valid_until, Some(now + 1000));
        assert!(t.expired.contains_key("k3"));

        let t = tally(sl(), &d, 2, now, [signed("k1", &a1), signed("k3", &a3_expired)]);
        assert!(t.why_not(sl()).unwrap().contains("expired"), "{:?}", t.why_not(sl()));

        let rev = statement(Decision::Revoked, now - 50, None);
        let t = tally(
            sl(),
            &d,
            2,
            now,
            [signed("k1", &a1), signed("k2", &a2), signed("k3", &rev)],
        );
        assert!(!t.approved());
        assert!(t.why_not(sl()).unwrap().contains("CVE-2026-1"));

        // Approvals signed after the revocation count again.
        let b1 = statement(Decision::Approved, now - 10, None);
        let b2 = statement(Decision::Approved, now - 5, None);
        let t = tally(
            sl(),
            &d,
            2,
            now,
            [
                signed("k1", &a1),
                signed("k3", &rev),
                signed("k1", &b1),
                signed("k2", &b2),
            ],
        );
        assert!(t.approved());

        // Another country's statements and another digest are ignored; threshold 0 approves nothing.
        let t = tally("KE".parse().unwrap(), &d, 1, now, [signed("k1", &a1)]);
        assert!(!t.approved());
        let t = tally(sl(), &Digest::of(b"other"), 1, now, [signed("k1", &a1)]);
        assert!(!t.approved());
        let t = tally(sl(), &d, 0, now, [signed("k1", &a1)]);
        assert!(!t.approved());
    }
}
