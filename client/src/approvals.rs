//! Country approvals as the client checks them: never on the registry's word.
//!
//! A stack that sets `approved_only` pins its country's approver keys by id and a
//! threshold in `[trust]`. [`CountryTrust`] holds the pinned keys (public keys the
//! registry lists, kept only when the id computed here from the key itself is pinned)
//! and [`CountryTrust::tally`] verifies each DSSE envelope the sparse index carries for
//! a version: payload type, statement shape, subject (this package, version and
//! manifest digest: a statement about another version is ignored), and a signature by
//! a pinned key; then counts them with `core::approval::tally` (latest revocation
//! cancels earlier approvals, expired ones do not count, distinct keys).

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use govstore_core::Digest;
use govstore_core::approval::{self, Signed, Statement, Tally};
use govstore_core::index::IndexVersion;
use govstore_core::manifest::values::CountryCode;
use govstore_core::stack::Trust;
use govstore_signing::PublicKey;
use govstore_signing::dsse::Envelope;

use crate::verified::VerifiedSignatures;

/// Why a stack's trust could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    #[error("the stack sets approved_only but [trust] pins no keys and threshold")]
    NotPinned,
    #[error(
        "none of the {pinned} approver keys the stack pins for {country} is a key the registry lists for {country}"
    )]
    NoPinnedKeyListed { country: CountryCode, pinned: usize },
}

/// The approver keys a stack (or the operator's trust file) trusts for one country, and
/// how many must agree.
#[derive(Debug, Clone)]
pub struct CountryTrust {
    pub country: CountryCode,
    pub threshold: u32,
    keys: Vec<(String, PublicKey)>,
    /// Pinned ids the registry did not list (reported, never trusted blindly).
    pub missing: BTreeSet<String>,
    /// Signatures by pinned keys verified before, consulted before verifying one.
    verified: Option<Arc<VerifiedSignatures>>,
}

impl CountryTrust {
    /// A stack's or lockfile's `[trust]` (its country defaulting to `default_country`,
    /// the stack's), with the public keys (PEM) the registry lists for the country. A
    /// listed key counts only if the id computed here from it is pinned.
    pub fn new(t: &Trust, default_country: CountryCode, listed_pems: &[String]) -> Result<Self, TrustError> {
        let country = t.country.unwrap_or(default_country);
        let threshold = t.threshold.ok_or(TrustError::NotPinned)?;
        if t.keys.is_empty() {
            return Err(TrustError::NotPinned);
        }
        let pinned: BTreeSet<&str> = t.keys.iter().map(String::as_str).collect();
        let mut keys = Vec::new();
        for pem in listed_pems {
            if let Ok(k) = PublicKey::from_pem(pem) {
                let id = k.key_id();
                if pinned.contains(id.as_str()) && !keys.iter().any(|(i, _)| *i == id) {
                    keys.push((id, k));
                }
            }
        }
        if keys.is_empty() {
            return Err(TrustError::NoPinnedKeyListed {
                country,
                pinned: pinned.len(),
            });
        }
        let missing = pinned
            .iter()
            .filter(|p| !keys.iter().any(|(i, _)| i == *p))
            .map(|p| (*p).to_owned())
            .collect();
        Ok(Self {
            country,
            threshold,
            keys,
            missing,
            verified: None,
        })
    }

    /// The public key pinned under `key_id`, if any.
    pub fn key(&self, key_id: &str) -> Option<&PublicKey> {
        self.keys.iter().find(|(id, _)| id == key_id).map(|(_, k)| k)
    }

    /// A trust over given keys (tests, benchmarks).
    pub fn from_keys(country: CountryCode, threshold: u32, keys: Vec<PublicKey>) -> Self {
        Self {
            country,
            threshold,
            keys: keys.into_iter().map(|k| (k.key_id(), k)).collect(),
            missing: BTreeSet::new(),
            verified: None,
        }
    }

    /// Consults (and adds to) `verified` before verifying a signature by a pinned key.
    pub fn with_verified(mut self, verified: Arc<VerifiedSignatures>) -> Self {
        self.verified = Some(verified);
        self
    }

    /// The version's approval state at `now` (seconds), from the envelopes the index
    /// carries, each verified here.
    pub fn tally(&self, package: &str, v: &IndexVersion, now: i64) -> Tally {
        let verified: Vec<(String, Statement)> = v
            .approvals
            .iter()
            .filter(|a| a.country == self.country)
            .filter_map(|a| self.verify(package, v, &a.envelope))
            .collect();
        approval::tally(
            self.country,
            &v.digest,
            self.threshold,
            now,
            verified.iter().map(|(k, s)| Signed {
                key_id: k,
                statement: s,
            }),
        )
    }

    /// Whether the version is approved at `now` (with the structured conditions its
    /// counted approvals carry), else why not: the same answer as
    /// [`CountryTrust::tally`], with fewer signature checks. Revocations are verified
    /// first (the latest one cancels the approvals signed before it), then unexpired
    /// approvals signed after it, stopping once `threshold` distinct keys verified;
    /// the remaining ones are verified only if they carry conditions, so no condition
    /// of a valid approval is missed. Only when the threshold falls short is the full
    /// tally worked out, for its reasons.
    pub fn approved(&self, package: &str, v: &IndexVersion, now: i64) -> Result<Vec<approval::Requires>, String> {
        let parsed: Vec<Parsed> = v
            .approvals
            .iter()
            .filter(|a| a.country == self.country)
            .filter_map(|a| self.parse(package, v, &a.envelope))
            .collect();
        let cutoff = parsed
            .iter()
            .filter(|p| p.statement.decision() == approval::Decision::Revoked)
            .filter(|p| self.signer(p).is_some())
            .map(|p| p.statement.signed_at)
            .max();
        let mut keys = BTreeSet::new();
        let mut conditions: Vec<approval::Requires> = Vec::new();
        for p in &parsed {
            let s = &p.statement;
            let counts = s.decision() == approval::Decision::Approved
                && cutoff.is_none_or(|c| s.signed_at > c)
                && !s.expired_at(now);
            let enough = keys.len() >= self.threshold as usize;
            if !counts || (enough && s.predicate.conditions.requires.is_empty()) {
                continue;
            }
            if let Some(id) = self.signer(p) {
                keys.insert(id);
                for r in &s.predicate.conditions.requires {
                    if !conditions.contains(r) {
                        conditions.push(r.clone());
                    }
                }
            }
        }
        if self.threshold > 0 && keys.len() >= self.threshold as usize {
            return Ok(conditions);
        }
        Err(self
            .tally(package, v, now)
            .why_not(self.country)
            .unwrap_or_else(|| format!("not approved in {}", self.country)))
    }

    fn verify(&self, package: &str, v: &IndexVersion, envelope: &serde_json::Value) -> Option<(String, Statement)> {
        let p = self.parse(package, v, envelope)?;
        let id = self.signer(&p)?;
        Some((id, p.statement))
    }

    /// The envelope's statement, if it is an approval statement about this version in
    /// this country (not yet verified).
    fn parse(&self, package: &str, v: &IndexVersion, envelope: &serde_json::Value) -> Option<Parsed> {
        let env = Envelope::from_value(envelope).ok()?;
        if env.payload_type != approval::PAYLOAD_TYPE {
            return None;
        }
        let statement = Statement::from_json(&env.payload).ok()?;
        if statement.digest != v.digest
            || statement.version != v.version
            || statement.package.as_str() != package
            || statement.country() != self.country
        {
            return None;
        }
        Some(Parsed { env, statement })
    }

    fn signer(&self, p: &Parsed) -> Option<String> {
        self.signed_by(&p.env)
    }

    /// The pinned key that signed the envelope, if one did. A signature names its key:
    /// it is checked against that pinned key only (one without a matching keyid is
    /// tried against every pinned key).
    pub fn signed_by(&self, env: &Envelope) -> Option<String> {
        let message = govstore_signing::dsse::pae(&env.payload_type, &env.payload);
        for sig in &env.signatures {
            let named = self.keys.iter().find(|(id, _)| *id == sig.keyid);
            let candidates: Vec<&(String, PublicKey)> = match named {
                Some(k) => vec![k],
                None => self.keys.iter().collect(),
            };
            for (id, k) in candidates {
                let record = VerifiedSignatures::record(id, &message, &sig.sig);
                if self.verified.as_ref().is_some_and(|v| v.contains(&record)) {
                    return Some(id.clone());
                }
                if k.verify(&message, &sig.sig).is_ok() {
                    if let Some(v) = &self.verified {
                        v.insert(record);
                    }
                    return Some(id.clone());
                }
            }
        }
        None
    }
}

/// An envelope and its statement, before its signature is checked.
struct Parsed {
    env: Envelope,
    statement: Statement,
}

/// What [`checker`] answers: the approval's conditions, or why not approved.
pub type Checked = Result<Vec<approval::Requires>, Option<String>>;

/// A memoising check for the resolver (`ResolveOptions::approval_check`): each version
/// is verified once per run, on first use, so only the candidates the solver considers
/// cost signature checks. `Ok(conditions)` when approved at `now`, else why not.
pub fn checker(trust: CountryTrust, now: i64) -> impl Fn(&IndexVersion) -> Checked + Send + Sync + 'static {
    let memo: Mutex<HashMap<Digest, Checked>> = Mutex::new(HashMap::new());
    move |v: &IndexVersion| {
        if let Some(r) = memo.lock().ok().and_then(|m| m.get(&v.digest).cloned()) {
            return r;
        }
        let r = trust.approved(v.manifest.package.name.as_str(), v, now).map_err(Some);
        if let Ok(mut m) = memo.lock() {
            m.insert(v.digest.clone(), r.clone());
        }
        r
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use govstore_core::approval::{Conditions, Decision, Predicate, Requires};
    use govstore_core::index::IndexApproval;
    use govstore_core::manifest::Manifest;
    use govstore_signing::KeyPair;

    use super::*;

    fn version() -> IndexVersion {
        let text = "[package]\nname = \"mosip/esignet\"\nversion = \"1.8.0\"\ndescription = \"Test.\"\nlicense = \"MPL-2.0\"\n";
        IndexVersion {
            version: semver::Version::new(1, 8, 0),
            digest: Digest::of(b"esignet 1.8.0"),
            yanked: false,
            yank_reason: None,
            key_ids: Vec::new(),
            manifest: Manifest::from_toml_str(text).unwrap(),
            approvals: Vec::new(),
        }
    }

    fn envelope(
        v: &IndexVersion,
        key: &KeyPair,
        decision: Decision,
        at: &str,
        requires: Vec<Requires>,
    ) -> IndexApproval {
        let predicate = Predicate {
            country: "SL".parse().unwrap(),
            decision,
            conditions: Conditions { text: None, requires },
            valid_until: None,
            reason: Some("Reviewed.".into()),
            recommendation: None,
            approver: None,
            signed_at: at.into(),
        };
        let s = Statement::new(
            v.manifest.package.name.clone(),
            v.version.clone(),
            v.digest.clone(),
            predicate,
        );
        let env = Envelope::sign(key, approval::PAYLOAD_TYPE, s.to_json()).unwrap();
        IndexApproval {
            country: "SL".parse().unwrap(),
            envelope: serde_json::from_slice(&env.to_json()).unwrap(),
        }
    }

    /// `approved` (which stops verifying at the threshold) answers as the full tally
    /// does, returns the conditions of every valid approval, and remembers verified
    /// signatures so a second trust with the same record verifies none again.
    #[test]
    fn approved_agrees_with_the_tally_and_carries_conditions() {
        let keys: Vec<KeyPair> = (0..4).map(|_| KeyPair::generate().unwrap()).collect();
        let sl: CountryCode = "SL".parse().unwrap();
        let trust = CountryTrust::from_keys(sl, 2, keys[..3].iter().map(KeyPair::public_key).collect());
        let now = govstore_core::time::parse_rfc3339("2027-01-01T00:00:00Z").unwrap();
        let adapter = Requires {
            package: "govstack/identity-adapter".parse().unwrap(),
            version: "~1.0".parse().unwrap(),
        };
        let mut v = version();
        let name = "mosip/esignet";
        v.approvals = vec![
            envelope(&v, &keys[0], Decision::Approved, "2026-06-01T00:00:00Z", vec![]),
            envelope(&v, &keys[3], Decision::Approved, "2026-06-01T00:00:00Z", vec![]),
        ];
        assert!(
            trust.approved(name, &v, now).is_err(),
            "a stranger's key does not count"
        );
        assert_eq!(
            trust.approved(name, &v, now).unwrap_err(),
            trust.tally(name, &v, now).why_not(sl).unwrap()
        );

        v.approvals.push(envelope(
            &v,
            &keys[1],
            Decision::Approved,
            "2026-06-02T00:00:00Z",
            vec![],
        ));
        v.approvals.push(envelope(
            &v,
            &keys[2],
            Decision::Approved,
            "2026-06-03T00:00:00Z",
            vec![adapter.clone()],
        ));
        assert!(trust.tally(name, &v, now).approved());
        assert_eq!(
            trust.approved(name, &v, now).unwrap(),
            vec![adapter.clone()],
            "the third approver's condition counts"
        );

        // A revocation after them cancels all three.
        v.approvals.push(envelope(
            &v,
            &keys[1],
            Decision::Revoked,
            "2026-07-01T00:00:00Z",
            vec![],
        ));
        let why = trust.approved(name, &v, now).unwrap_err();
        assert!(why.contains("Reviewed."), "{why}");

        // The record of verified signatures: a second run verifies nothing again.
        let record = Arc::new(VerifiedSignatures::in_memory());
        let first = trust.clone().with_verified(record.clone());
        assert!(first.approved(name, &v, now).is_err());
        assert!(!record.is_empty());
        let seen = record.len();
        let second = trust.with_verified(record.clone());
        assert!(second.approved(name, &v, now).is_err());
        assert_eq!(record.len(), seen, "nothing new was verified");
    }
}
