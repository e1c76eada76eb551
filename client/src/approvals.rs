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
use std::sync::Mutex;

use govstore_core::Digest;
use govstore_core::approval::{self, Signed, Statement, Tally};
use govstore_core::index::IndexVersion;
use govstore_core::manifest::values::CountryCode;
use govstore_core::stack::Trust;
use govstore_signing::PublicKey;
use govstore_signing::dsse::Envelope;

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

/// The approver keys a stack trusts for one country, and how many must agree.
#[derive(Debug, Clone)]
pub struct CountryTrust {
    pub country: CountryCode,
    pub threshold: u32,
    keys: Vec<(String, PublicKey)>,
    /// Pinned ids the registry did not list (reported, never trusted blindly).
    pub missing: BTreeSet<String>,
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
        })
    }

    /// A trust over given keys (tests, benchmarks).
    pub fn from_keys(country: CountryCode, threshold: u32, keys: Vec<PublicKey>) -> Self {
        Self {
            country,
            threshold,
            keys: keys.into_iter().map(|k| (k.key_id(), k)).collect(),
            missing: BTreeSet::new(),
        }
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

    fn verify(&self, package: &str, v: &IndexVersion, envelope: &serde_json::Value) -> Option<(String, Statement)> {
        let bytes = serde_json::to_vec(envelope).ok()?;
        let env = Envelope::from_json(&bytes).ok()?;
        if env.payload_type != approval::PAYLOAD_TYPE {
            return None;
        }
        let s = Statement::from_json(&env.payload).ok()?;
        if s.digest != v.digest
            || s.version != v.version
            || s.package.as_str() != package
            || s.country() != self.country
        {
            return None;
        }
        // A signature names its key: check it against that pinned key only (an envelope
        // without a matching keyid is tried against every pinned key).
        let message = govstore_signing::dsse::pae(&env.payload_type, &env.payload);
        for sig in &env.signatures {
            let named = self.keys.iter().find(|(id, _)| *id == sig.keyid);
            let candidates: Vec<&(String, PublicKey)> = match named {
                Some(k) => vec![k],
                None => self.keys.iter().collect(),
            };
            if let Some((id, _)) = candidates
                .into_iter()
                .find(|(_, k)| k.verify(&message, &sig.sig).is_ok())
            {
                return Some((id.clone(), s));
            }
        }
        None
    }
}

/// A memoising check for the resolver (`ResolveOptions::approval_check`): each version
/// is verified once per run, on first use, so only the candidates the solver considers
/// cost signature checks. `Ok(())` when approved at `now`, else why not.
pub fn checker(
    trust: CountryTrust,
    now: i64,
) -> impl Fn(&IndexVersion) -> Result<(), Option<String>> + Send + Sync + 'static {
    let memo: Mutex<HashMap<Digest, Result<(), Option<String>>>> = Mutex::new(HashMap::new());
    move |v: &IndexVersion| {
        if let Some(r) = memo.lock().ok().and_then(|m| m.get(&v.digest).cloned()) {
            return r;
        }
        let r = match trust
            .tally(v.manifest.package.name.as_str(), v, now)
            .why_not(trust.country)
        {
            None => Ok(()),
            Some(why) => Err(Some(why)),
        };
        if let Ok(mut m) = memo.lock() {
            m.insert(v.digest.clone(), r.clone());
        }
        r
    }
}
