//! Bundles on the client: make one from a lockfile, sign it as an approver, and verify
//! one as an operator against the country keys pinned in the trust file, never on the
//! registry's word.
//!
//! Verification ([`verify`]) takes the index bytes as fetched (their digest computed
//! here), the bundle statements' envelopes, and the pinned [`CountryTrust`]: the index
//! must be a bundle of the reference asked for, and at least `threshold` distinct pinned
//! keys must have signed a statement naming this bundle and this very index digest.

use base64::Engine as _;
use govstore_core::Digest;
use govstore_core::bundle::{self, Bundle, BundleRef, BundleStatement, BundleVersion, Member};
use govstore_core::stack::{LockedPackage, Lockfile, Trust};
use govstore_signing::KeyPair;
use govstore_signing::dsse::Envelope;
use govstore_signing::simple_signing;
use serde_json::{Value, json};

use crate::approvals::CountryTrust;

#[derive(Debug, thiserror::Error)]
pub enum BundleCheckError {
    #[error(transparent)]
    Format(#[from] bundle::BundleError),
    #[error("the registry served {served} for {asked}")]
    Other { asked: String, served: String },
    #[error(
        "{reference} ({digest}) carries {found} valid signature(s) by keys pinned for {country}; {threshold} are needed{detail}"
    )]
    Threshold {
        reference: String,
        digest: Digest,
        country: String,
        found: usize,
        threshold: u32,
        detail: String,
    },
    #[error("signing failed: {0}")]
    Signing(String),
}

/// The bundle of `lock`'s packages, with the manifest sizes `size_of` gives.
pub fn from_lock(
    reference: &BundleRef,
    version: BundleVersion,
    lock: &Lockfile,
    mut size_of: impl FnMut(&LockedPackage) -> u64,
) -> Result<Bundle, bundle::BundleError> {
    let members = lock
        .packages
        .iter()
        .map(|p| Member {
            name: p.name.clone(),
            version: p.version.clone(),
            digest: p.digest.clone(),
            size: size_of(p),
        })
        .collect();
    Bundle::new(
        reference,
        version,
        members,
        crate::install::lock_hash(lock),
        lock.stack.clone(),
    )
}

/// One approver's signature upload for the index `index` (canonical bytes): the bundle
/// statement in a DSSE envelope and the cosign simple signature of the index, both by
/// `key`, as the body of `POST /api/v1/countries/{cc}/bundles`.
pub fn signature_upload(
    b: &Bundle,
    index: &[u8],
    key: &KeyPair,
    signer: Option<&str>,
    now: &str,
) -> Result<Value, BundleCheckError> {
    let digest = Digest::of(index);
    let statement = b.statement(&digest, signer, now);
    let env = Envelope::sign(key, bundle::STATEMENT_PAYLOAD_TYPE, statement.to_json())
        .map_err(|e| BundleCheckError::Signing(e.to_string()))?;
    let payload = simple_signing::payload(&b.reference().repository(), &digest);
    let sig = key
        .sign(&payload)
        .map_err(|e| BundleCheckError::Signing(e.to_string()))?;
    let b64 = base64::engine::general_purpose::STANDARD;
    let envelope: Value =
        serde_json::from_slice(&env.to_json()).map_err(|e| BundleCheckError::Signing(e.to_string()))?;
    Ok(json!({
        "index": b64.encode(index),
        "envelope": envelope,
        "cosign_signature": b64.encode(sig),
    }))
}

/// A bundle checked against the pinned keys.
#[derive(Debug, Clone)]
pub struct Verified {
    pub bundle: Bundle,
    pub digest: Digest,
    /// The pinned keys whose signatures verified, sorted.
    pub signers: Vec<String>,
}

/// Checks the index bytes `index` (as fetched) against `asked` and the statements in
/// `envelopes` against `trust`: see the module docs.
pub fn verify(
    asked: &BundleRef,
    index: &[u8],
    envelopes: &[Value],
    trust: &CountryTrust,
) -> Result<Verified, BundleCheckError> {
    let b = Bundle::from_index_json(index)?;
    let served = b.reference();
    let same =
        served.country == asked.country && served.name == asked.name && asked.version.is_none_or(|v| v == b.version);
    if !same || b.country != trust.country {
        return Err(BundleCheckError::Other {
            asked: asked.to_string(),
            served: served.to_string(),
        });
    }
    let digest = Digest::of(index);
    let mut signers = std::collections::BTreeSet::new();
    let mut other = 0usize;
    for value in envelopes {
        let Ok(env) = Envelope::from_value(value) else {
            other += 1;
            continue;
        };
        let Ok(s) = BundleStatement::from_json(&env.payload) else {
            other += 1;
            continue;
        };
        if env.payload_type != bundle::STATEMENT_PAYLOAD_TYPE || s.bundle != served || s.digest != digest {
            other += 1;
            continue;
        }
        match trust.signed_by(&env) {
            Some(id) => {
                signers.insert(id);
            }
            None => other += 1,
        }
    }
    if signers.len() < trust.threshold as usize || trust.threshold == 0 {
        let detail = if other > 0 {
            format!(" ({other} other signature(s) are by keys not pinned, or for another bundle or index)")
        } else {
            String::new()
        };
        return Err(BundleCheckError::Threshold {
            reference: served.to_string(),
            digest,
            country: trust.country.to_string(),
            found: signers.len(),
            threshold: trust.threshold,
            detail,
        });
    }
    Ok(Verified {
        bundle: b,
        digest,
        signers: signers.into_iter().collect(),
    })
}

/// The lockfile a bundle installs as: its members from `source`, under the country's
/// pinned `trust` (so each member's approvals are checked again at install).
pub fn lockfile(
    b: &Bundle,
    source: &govstore_core::manifest::Url,
    key_ids: impl Fn(&Member) -> Vec<String>,
    trust: Trust,
) -> Lockfile {
    Lockfile {
        version: Default::default(),
        stack: b.stack.clone(),
        trust,
        packages: b
            .members
            .iter()
            .map(|m| LockedPackage {
                name: m.name.clone(),
                version: m.version.clone(),
                digest: m.digest.clone(),
                key_ids: key_ids(m),
                source: source.clone(),
            })
            .collect(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn bundle() -> Bundle {
        let r: BundleRef = "SL/national-id".parse().unwrap();
        let m = Member {
            name: "mosip/id-repo".parse().unwrap(),
            version: semver::Version::new(1, 2, 0),
            digest: Digest::of(b"m"),
            size: 700,
        };
        Bundle::new(
            &r,
            "2026.1".parse().unwrap(),
            vec![m],
            Digest::of(b"lock"),
            Digest::of(b"stack"),
        )
        .unwrap()
    }

    fn envelope(up: &Value) -> Value {
        up["envelope"].clone()
    }

    #[test]
    fn two_of_three_pinned_signatures_verify_and_strangers_do_not_count() {
        let keys: Vec<KeyPair> = (0..4).map(|_| KeyPair::generate().unwrap()).collect();
        let sl = "SL".parse().unwrap();
        let trust = CountryTrust::from_keys(sl, 2, keys[..3].iter().map(KeyPair::public_key).collect());
        let b = bundle();
        let index = b.to_index_json();
        let now = "2026-12-07T10:00:00Z";
        let up = |k: &KeyPair| envelope(&signature_upload(&b, &index, k, None, now).unwrap());
        let asked: BundleRef = "SL/national-id@2026.1".parse().unwrap();

        let err = verify(&asked, &index, &[up(&keys[0]), up(&keys[3])], &trust).unwrap_err();
        assert!(err.to_string().contains("1 valid signature(s)"), "{err}");
        assert!(err.to_string().contains("1 other"), "{err}");
        let ok = verify(&asked, &index, &[up(&keys[0]), up(&keys[0]), up(&keys[2])], &trust).unwrap();
        assert_eq!(ok.signers.len(), 2);

        // A signature over another index does not count for this one.
        let mut other = b.clone();
        other.members[0].size = 701;
        let other_index = other.to_index_json();
        let stray = envelope(&signature_upload(&other, &other_index, &keys[1], None, now).unwrap());
        assert!(verify(&asked, &index, &[up(&keys[0]), stray], &trust).is_err());

        // Another bundle than the one asked for is refused.
        let wrong: BundleRef = "SL/national-id@2026.2".parse().unwrap();
        assert!(matches!(
            verify(&wrong, &index, &[up(&keys[0]), up(&keys[1])], &trust),
            Err(BundleCheckError::Other { .. })
        ));
    }
}
