//! The JSON documents of the registry's `/api/v1` API.
//!
//! Fields the client does not know are ignored, so that a newer server can add some.

use govstore_core::Digest;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `GET /api/v1/me`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub user: String,
    #[serde(default)]
    pub admin: bool,
    #[serde(default)]
    pub orgs: Vec<OrgRole>,
    #[serde(default)]
    pub token: Option<TokenInfo>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgRole {
    pub name: String,
    pub role: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenInfo {
    pub prefix: String,
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub expires_at: Option<String>,
}

/// `POST /api/v1/namespaces/{ns}/keys` body.
#[derive(Debug, Clone, Serialize)]
pub struct RegisterKey<'a> {
    pub public_key: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<&'a str>,
}

/// `POST /api/v1/namespaces/{ns}/keys` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisteredKey {
    pub key_id: String,
    #[serde(default)]
    pub name: Option<String>,
    pub created_at: String,
}

/// One key of `GET /api/v1/namespaces/{ns}/keys`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyInfo {
    pub key_id: String,
    #[serde(default)]
    pub name: Option<String>,
    pub public_key: String,
    pub created_at: String,
    #[serde(default)]
    pub revoked_at: Option<String>,
    #[serde(default)]
    pub revoke_reason: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct KeyList {
    pub keys: Vec<KeyInfo>,
}

/// `POST /api/v1/packages/{ns}/{name}/versions` body.
#[derive(Debug, Clone, Serialize)]
pub struct PublishRequest {
    /// The OCI manifest, exactly the bytes that were signed, as a string.
    pub manifest: String,
    /// The simple-signing payload, base64.
    pub payload: String,
    /// The DER signature, base64.
    pub signature: String,
}

/// `POST /api/v1/packages/{ns}/{name}/versions` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedVersion {
    pub name: String,
    pub version: String,
    pub digest: Digest,
    pub signature_digest: Digest,
    pub key_id: String,
}

/// A version as the registry lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionInfo {
    pub version: String,
    pub digest: Digest,
    #[serde(default)]
    pub published_at: Option<String>,
    #[serde(default)]
    pub yanked: bool,
    #[serde(default)]
    pub yank_reason: Option<String>,
    #[serde(default)]
    pub key_id: Option<String>,
    #[serde(default)]
    pub signature_digest: Option<Digest>,
}

/// `GET /api/v1/packages/{ns}/{name}/versions/{version}`: the version and its manifest
/// (the `govstore.toml`, as canonical JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionDetail {
    #[serde(flatten)]
    pub info: VersionInfo,
    #[serde(default)]
    pub manifest: Value,
}

/// `GET /api/v1/packages/{ns}/{name}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageInfo {
    pub name: String,
    /// The human title of the latest version, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default)]
    pub namespace: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub license: Option<String>,
    #[serde(default)]
    pub latest: Option<String>,
    /// Newest first.
    #[serde(default)]
    pub versions: Vec<VersionInfo>,
}

/// `GET /api/v1/search`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchResults {
    pub total: u64,
    pub results: Vec<SearchHit>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchHit {
    /// `package` (installable) or `listing` (DPG registry metadata, not installable).
    #[serde(default = "package_kind")]
    pub kind: String,
    /// A listing's id (its page is `/listings/{id}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    pub name: String,
    /// Packages: the human title (`title` in govstore.toml), when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Whether this hit matches only some of the query's words (ranked after full matches).
    #[serde(default)]
    pub partial: bool,
    /// Packages: the latest version. Listings have none.
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub license: Option<String>,
    #[serde(default)]
    pub implements: Vec<String>,
    #[serde(default)]
    pub yanked: bool,
    #[serde(default = "installable")]
    pub installable: bool,
    /// Packages: all-time downloads as last indexed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub downloads: Option<u64>,
    /// Listings: the catalogue packages the listing describes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub see_also: Vec<String>,
}

fn package_kind() -> String {
    "package".to_owned()
}

fn installable() -> bool {
    true
}

/// `POST /api/v1/specs` answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpecPublished {
    pub id: String,
    #[serde(default)]
    pub versions: Vec<Value>,
}

/// The error envelope every failed API and OCI call answers with.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct ErrorEnvelope {
    pub errors: Vec<ErrorItem>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct ErrorItem {
    pub code: String,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub detail: Option<Value>,
}
