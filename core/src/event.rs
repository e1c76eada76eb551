//! The registry's event sequence: typed records of every state change that others follow.
//!
//! The server appends one [`Event`] per change, in the same transaction as the change,
//! under a sequence number that is gap-free and in commit order. Search indexes of every
//! replica, the stack check's cache, other instances (`GET /api/v1/events?after=N`) and,
//! later, the transparency log follow the sequence by number: "events after N".
//!
//! Wire format: the canonical JSON of an event (keys sorted, no whitespace, no nulls),
//! internally tagged by `type`. Readers ignore unknown fields, and an event type they do
//! not know reads as [`Event::Unknown`], so a newer server's events never break an older
//! follower. [`FORMAT`] is the format's version; a follower refuses a newer major one.

use serde::{Deserialize, Serialize};

use crate::Digest;
use crate::approval::Decision;
use crate::manifest::values::CountryCode;
use crate::package::{PackageName, SpecId};

/// The event format's version, as `/api/v1/events` reports it.
pub const FORMAT: u32 = 1;

/// One state change, as others see it. Never carries secrets or account details (the
/// audit log, for admins, records who did it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// A signed package version became visible.
    VersionPublished {
        package: PackageName,
        version: semver::Version,
        digest: Digest,
        signature_digest: Digest,
        key_id: String,
    },
    /// A version was yanked, with the publisher's reason.
    VersionYanked {
        package: PackageName,
        version: semver::Version,
        digest: Digest,
        reason: String,
    },
    /// A yank was undone.
    VersionUnyanked {
        package: PackageName,
        version: semver::Version,
        digest: Digest,
    },
    /// A namespace registered a signing key.
    KeyRegistered { namespace: String, key_id: String },
    /// A namespace revoked a signing key.
    KeyRevoked {
        namespace: String,
        key_id: String,
        reason: String,
    },
    /// A spec document was published or updated; `digest` is its canonical JSON's.
    SpecPublished { spec: SpecId, digest: Digest },
    /// A country's approver signed an approval or a revocation of a version;
    /// `statement_digest` is the DSSE envelope's digest (its bytes are served with the
    /// version's approvals).
    ApprovalRecorded {
        country: CountryCode,
        package: PackageName,
        version: semver::Version,
        digest: Digest,
        decision: Decision,
        key_id: String,
        statement_digest: Digest,
    },
    /// A country was created or its approval policy changed.
    CountryPolicyChanged { country: CountryCode, threshold: u32 },
    /// A country's approver signed a bundle version (`digest`: its image index);
    /// `statement_digest` is the DSSE envelope's digest.
    BundleSigned {
        country: CountryCode,
        bundle: String,
        version: String,
        digest: Digest,
        key_id: String,
        statement_digest: Digest,
    },
    /// An event type this version of govstore does not know (written by a newer one).
    #[serde(other)]
    Unknown,
}

impl Event {
    /// The event's type, as stored in its own column so followers can filter cheaply.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::VersionPublished { .. } => "version_published",
            Self::VersionYanked { .. } => "version_yanked",
            Self::VersionUnyanked { .. } => "version_unyanked",
            Self::KeyRegistered { .. } => "key_registered",
            Self::KeyRevoked { .. } => "key_revoked",
            Self::SpecPublished { .. } => "spec_published",
            Self::ApprovalRecorded { .. } => "approval_recorded",
            Self::CountryPolicyChanged { .. } => "country_policy_changed",
            Self::BundleSigned { .. } => "bundle_signed",
            Self::Unknown => "unknown",
        }
    }

    /// What the event is about: the package, namespace or spec it changed.
    pub fn subject(&self) -> String {
        match self {
            Self::VersionPublished { package, .. }
            | Self::VersionYanked { package, .. }
            | Self::VersionUnyanked { package, .. }
            | Self::ApprovalRecorded { package, .. } => package.to_string(),
            Self::CountryPolicyChanged { country, .. } => country.to_string(),
            Self::BundleSigned { country, bundle, .. } => format!("{country}/{bundle}"),
            Self::KeyRegistered { namespace, .. } | Self::KeyRevoked { namespace, .. } => namespace.clone(),
            Self::SpecPublished { spec, .. } => spec.to_string(),
            Self::Unknown => String::new(),
        }
    }

    /// The package whose versions (and so whose search document and index entry) this
    /// event changed, if any.
    pub fn package(&self) -> Option<&PackageName> {
        match self {
            Self::VersionPublished { package, .. }
            | Self::VersionYanked { package, .. }
            | Self::VersionUnyanked { package, .. }
            | Self::ApprovalRecorded { package, .. } => Some(package),
            _ => None,
        }
    }

    /// The canonical JSON form: keys sorted, no whitespace, no nulls.
    pub fn canonical_json(&self) -> String {
        let value = serde_json::to_value(self).expect("an event always serializes: its map keys are strings");
        let mut out = String::new();
        crate::manifest::canonical::write(&value, &mut out);
        out
    }

    /// Read an event written by [`Event::canonical_json`] (by this or a newer govstore).
    pub fn from_json(json: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(json)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn published() -> Event {
        Event::VersionPublished {
            package: "mosip/esignet".parse().unwrap(),
            version: "1.8.0".parse().unwrap(),
            digest: Digest::of(b"manifest"),
            signature_digest: Digest::of(b"sig"),
            key_id: "sha256:abc".into(),
        }
    }

    #[test]
    fn canonical_json_is_sorted_and_round_trips() {
        let json = published().canonical_json();
        assert!(json.starts_with(r#"{"digest":"sha256:"#), "{json}");
        assert!(json.contains(r#""type":"version_published""#), "{json}");
        assert_eq!(Event::from_json(&json).unwrap(), published());
    }

    #[test]
    fn readers_ignore_unknown_fields_and_types() {
        let mut value: serde_json::Value = serde_json::from_str(&published().canonical_json()).unwrap();
        value["added_later"] = serde_json::json!({"x": 1});
        assert_eq!(Event::from_json(&value.to_string()).unwrap(), published());
        let newer = r#"{"type":"witness_cosigned","origin":"registry.example.gov","size":42}"#;
        assert_eq!(Event::from_json(newer).unwrap(), Event::Unknown);
    }
}
