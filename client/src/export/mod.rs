//! Air-gap exports of a country bundle: what goes into one, and how one is checked
//! with no registry at all.
//!
//! An export is an OCI image layout in a tar ([`crate::layout`] is the file format).
//! Its `index.json` lists:
//!
//! - the bundle's image index, annotated `org.opencontainers.image.ref.name` = the
//!   bundle version (`2026.1`), so `skopeo copy oci-archive:FILE:2026.1` finds it;
//! - every referrer of the bundle and of its members, each as its own descriptor:
//!   cosign signature and attestation manifests annotated with their cosign tag name
//!   (`sha256-<hex>.sig`, `sha256-<hex>.att`), OCI referrers (DSSE approval and
//!   bundle statements) annotated [`ANN_SUBJECT`] with the digest they refer to;
//! - the trust material ([`TrustMaterial`], media type [`TRUST_MEDIA_TYPE`]),
//!   annotated [`ANN_TRUST`]: the country record and its approver keys, each member
//!   namespace's publisher keys, the bundle statements and every member's approval
//!   statements (DSSE envelopes).
//!
//! Nothing in the trust material is trusted as such: keys count only when the id
//! computed here from the PEM is one the operator pinned (country keys), and every
//! envelope and signature is verified ([`offline`]). Publisher keys come from the
//! export itself, so their check is defence in depth: what makes a member trusted is
//! its manifest digest in the bundle index that the pinned country keys signed, and
//! the country's approvals of that digest.
//!
//! - [`gather`]: collect a bundle's content from a registry (online) and write the
//!   export deterministically;
//! - [`offline`]: verify a read export against the pinned keys, and stage its members
//!   in a cache for an offline install;
//! - [`push`]: copy a verified export into a registry over the OCI API.

pub mod gather;
pub mod offline;
pub mod push;

use govstore_core::index::IndexApproval;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::api::KeyInfo;
use crate::layout::LayoutError;
use crate::registry::ClientError;

/// The media type of the trust material blob.
pub const TRUST_MEDIA_TYPE: &str = "application/vnd.govstore.trust.v1+json";
/// The trust material format this code writes and reads.
pub const TRUST_VERSION: u32 = 1;
/// The `index.json` annotation marking the trust material descriptor.
pub const ANN_TRUST: &str = "dev.govstore.export.trust";
/// The `index.json` annotation naming the manifest a referrer refers to.
pub const ANN_SUBJECT: &str = "dev.govstore.export.subject";
/// The OCI annotation naming a reference (tag) in a layout.
pub const ANN_REF_NAME: &str = "org.opencontainers.image.ref.name";
/// The largest trust material blob read.
pub const MAX_TRUST_BYTES: u64 = 64 * 1024 * 1024;

/// The verification material an export carries, as one JSON document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrustMaterial {
    /// [`TRUST_VERSION`].
    pub version: u32,
    #[serde(rename = "mediaType")]
    pub media_type: String,
    /// The registry the export was made from (the lockfile `source` of an install).
    pub registry: String,
    pub bundle: BundleMaterial,
    pub country: CountryMaterial,
    /// Per member namespace, sorted by namespace.
    pub publishers: Vec<PublisherMaterial>,
    /// Per member, in the bundle's order.
    pub members: Vec<MemberMaterial>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BundleMaterial {
    /// `CC/name@version`.
    pub reference: String,
    pub digest: String,
    /// The bundle statements (DSSE envelopes), sorted by their JSON text.
    pub envelopes: Vec<Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CountryMaterial {
    pub code: String,
    #[serde(default)]
    pub name: Option<String>,
    /// The threshold the registry records (the operator's pinned one is what counts).
    pub threshold: u32,
    /// The approver keys as the registry lists them (`key_id`, `public_key` PEM,
    /// `created_at`, `revoked_at`, `holder`...), sorted by `key_id`.
    pub keys: Vec<Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublisherMaterial {
    pub namespace: String,
    /// Sorted by `key_id`.
    pub keys: Vec<KeyInfo>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberMaterial {
    pub name: String,
    pub version: String,
    pub digest: String,
    /// Every country statement about this version (all countries), oldest first as
    /// the index serves them.
    pub approvals: Vec<IndexApproval>,
}

/// Why an export could not be made, or was refused.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Layout(#[from] LayoutError),
    #[error("{what}: {source}")]
    Registry {
        what: String,
        #[source]
        source: ClientError,
    },
    /// The export is refused: the message names what failed.
    #[error("{0}")]
    Refused(String),
    #[error("{0}")]
    Io(String),
}

impl ExportError {
    pub(crate) fn refused(message: impl Into<String>) -> Self {
        Self::Refused(message.into())
    }

    pub(crate) fn registry(what: impl Into<String>) -> impl FnOnce(ClientError) -> Self {
        let what = what.into();
        move |source| Self::Registry { what, source }
    }
}
