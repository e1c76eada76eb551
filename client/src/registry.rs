//! The HTTP client of a govstore registry: its OCI Distribution API (blobs and
//! manifests, streamed) and its JSON API.
//!
//! Every request carries `Authorization: Bearer <token>` when the client has a token,
//! except to an upload location on another origin. Failed calls come back as
//! [`ClientError::Api`] with the code and message of the registry's error envelope.

use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use govstore_core::oci::media_types;
use govstore_core::{Digest, RepoName};
use reqwest::header::{ACCEPT, CONTENT_LENGTH, CONTENT_TYPE, ETAG, IF_NONE_MATCH, LOCATION};
use reqwest::{Method, RequestBuilder, Response, StatusCode, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use sha2::{Digest as _, Sha256};
use tokio::io::{AsyncWrite, AsyncWriteExt};

use crate::api::{
    ErrorEnvelope, KeyInfo, KeyList, Me, PackageInfo, PublishRequest, PublishedVersion, RegisterKey, RegisteredKey,
    SearchResults, SpecPublished, VersionDetail, VersionInfo,
};
use crate::config::normalize_registry_url;
use crate::progress::Progress;

/// The largest manifest fetched, as the server's own default limit.
pub const MAX_MANIFEST_BYTES: usize = 4 * 1024 * 1024;
/// The largest JSON answer read.
const MAX_JSON_BYTES: usize = 16 * 1024 * 1024;
/// How much of an unexpected error body is kept for the message.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// Why a registry call failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("`{0}` is not a valid registry URL")]
    BadUrl(String),
    #[error("cannot reach the registry at {url}: {message}")]
    Connect { url: String, message: String },
    /// The registry refused the call with its error envelope.
    #[error("{code}: {message}")]
    Api {
        status: u16,
        code: String,
        message: String,
        detail: Option<Value>,
    },
    /// The registry failed without an error envelope.
    #[error("the registry answered {status} to {method} {path}{}", body_suffix(.body))]
    Status {
        status: u16,
        method: String,
        path: String,
        body: String,
    },
    #[error("the registry sent an invalid {what}: {message}")]
    InvalidResponse { what: String, message: String },
    #[error(
        "{what} should have digest {expected}, but the content received has digest {actual}: it was changed after publishing or corrupted on the way"
    )]
    DigestMismatch {
        what: String,
        expected: Digest,
        actual: Digest,
    },
    #[error(
        "{what} should be {expected} bytes but the registry sent {actual}: it was changed after publishing or cut short on the way"
    )]
    SizeMismatch { what: String, expected: u64, actual: u64 },
    #[error("{what} is larger than the {max} bytes allowed")]
    TooLarge { what: String, max: usize },
    #[error("cannot read `{path}`: {source}")]
    File { path: PathBuf, source: io::Error },
    #[error("cannot write {what}: {source}")]
    Write { what: String, source: io::Error },
}

fn body_suffix(body: &str) -> String {
    if body.is_empty() {
        String::new()
    } else {
        format!(": {body}")
    }
}

impl ClientError {
    /// The error code of the registry's envelope (`UNAUTHORIZED`, `DENIED`...).
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Api { code, .. } => Some(code),
            _ => None,
        }
    }

    /// The HTTP status, if the registry answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api { status, .. } | Self::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }
}

/// A blob to upload.
#[derive(Debug, Clone)]
pub struct BlobUpload {
    /// Names the blob in progress reports.
    pub label: String,
    pub digest: Digest,
    pub size: u64,
    pub source: BlobSource,
}

/// Where a blob's bytes are.
#[derive(Debug, Clone)]
pub enum BlobSource {
    Bytes(Bytes),
    /// Streamed from the file, never read whole.
    File(PathBuf),
}

/// What [`RegistryClient::upload_blob`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadOutcome {
    Uploaded,
    /// The repository already had the blob.
    AlreadyPresent,
}

/// A fetched manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedManifest {
    pub bytes: Vec<u8>,
    /// The digest of `bytes`, computed here.
    pub digest: Digest,
    pub media_type: Option<String>,
}

/// The answer to [`RegistryClient::get_conditional`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conditional {
    /// The cached copy is current.
    NotModified,
    /// A new document and its `ETag`.
    Fresh { body: Vec<u8>, etag: Option<String> },
}

/// A client of one registry, with or without a token.
#[derive(Clone)]
pub struct RegistryClient {
    http: reqwest::Client,
    base: Url,
    token: Option<String>,
}

impl std::fmt::Debug for RegistryClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryClient")
            .field("base", &self.base.as_str())
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl RegistryClient {
    /// A client of the registry at `base_url` (`https://host[:port][/path]`).
    pub fn new(base_url: &str, token: Option<String>) -> Result<Self, ClientError> {
        let normalized = normalize_registry_url(base_url).map_err(|_| ClientError::BadUrl(base_url.to_owned()))?;
        let base = Url::parse(&normalized).map_err(|_| ClientError::BadUrl(base_url.to_owned()))?;
        let http = reqwest::Client::builder()
            .user_agent(concat!("govstore/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(30))
            .read_timeout(Duration::from_secs(300))
            .build()
            .map_err(|e| ClientError::Connect {
                url: normalized.clone(),
                message: chain(&e),
            })?;
        Ok(Self {
            http,
            base,
            token: token.filter(|t| !t.is_empty()),
        })
    }

    /// The registry URL, normalised (no trailing `/`).
    pub fn base_url(&self) -> &str {
        self.base.as_str().trim_end_matches('/')
    }

    pub fn has_token(&self) -> bool {
        self.token.is_some()
    }

    /// `host[:port]`, as it starts the registry's image references
    /// (`127.0.0.1:8080/mosip/esignet`); the port only when the URL names one.
    pub fn docker_host(&self) -> String {
        let host = self.base.host_str().unwrap_or_default();
        match self.base.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        }
    }

    /// The image reference of a repository: `host[:port]/<ns>/<name>`.
    pub fn docker_reference(&self, repo: &RepoName) -> String {
        format!("{}/{}", self.docker_host(), repo.as_str())
    }

    fn url(&self, segments: &[&str]) -> Result<Url, ClientError> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|()| ClientError::BadUrl(self.base.to_string()))?
            .pop_if_empty()
            .extend(segments);
        Ok(url)
    }

    fn repo_url(&self, repo: &RepoName, tail: &[&str]) -> Result<Url, ClientError> {
        let mut segments = vec!["v2"];
        segments.extend(repo.as_str().split('/'));
        segments.extend_from_slice(tail);
        self.url(&segments)
    }

    fn request(&self, method: Method, url: Url) -> RequestBuilder {
        let same_origin = url.origin() == self.base.origin();
        let builder = self.http.request(method, url);
        match &self.token {
            Some(token) if same_origin => builder.bearer_auth(token),
            _ => builder,
        }
    }

    async fn send(&self, builder: RequestBuilder) -> Result<Response, ClientError> {
        let (client, request) = builder.build_split();
        let request = request.map_err(|e| ClientError::BadUrl(chain(&e)))?;
        let method = request.method().to_string();
        let path = request.url().path().to_owned();
        let response = client.execute(request).await.map_err(|e| self.transport(&e))?;
        if response.status().is_success() {
            return Ok(response);
        }
        Err(self.failure(response, method, path).await)
    }

    fn transport(&self, e: &reqwest::Error) -> ClientError {
        let message = if e.is_timeout() {
            "the request timed out".to_owned()
        } else {
            innermost(e)
        };
        ClientError::Connect {
            url: self.base_url().to_owned(),
            message,
        }
    }

    async fn failure(&self, response: Response, method: String, path: String) -> ClientError {
        let status = response.status();
        let body = read_limited(response, MAX_ERROR_BODY).await.unwrap_or_default();
        if let Ok(envelope) = serde_json::from_slice::<ErrorEnvelope>(&body)
            && let Some(first) = envelope.errors.into_iter().next()
        {
            return ClientError::Api {
                status: status.as_u16(),
                code: first.code,
                message: first.message,
                detail: first.detail.filter(|d| !d.is_null()),
            };
        }
        // HEAD answers have no body; give the usual codes their envelope names.
        let code = match status {
            StatusCode::UNAUTHORIZED => Some("UNAUTHORIZED"),
            StatusCode::FORBIDDEN => Some("DENIED"),
            StatusCode::NOT_FOUND => Some("NOT_FOUND"),
            _ => None,
        };
        if let (Some(code), true) = (code, body.is_empty()) {
            return ClientError::Api {
                status: status.as_u16(),
                code: code.to_owned(),
                message: status.canonical_reason().unwrap_or("error").to_lowercase(),
                detail: None,
            };
        }
        let text = String::from_utf8_lossy(&body);
        let text: String = text.trim().chars().take(200).collect();
        ClientError::Status {
            status: status.as_u16(),
            method,
            path,
            body: text,
        }
    }

    async fn json<T: DeserializeOwned>(&self, builder: RequestBuilder, what: &str) -> Result<T, ClientError> {
        let response = self.send(builder.header(ACCEPT, "application/json")).await?;
        let body = read_limited(response, MAX_JSON_BYTES).await?;
        serde_json::from_slice(&body).map_err(|e| ClientError::InvalidResponse {
            what: what.to_owned(),
            message: e.to_string(),
        })
    }

    async fn get_json<T: DeserializeOwned>(&self, segments: &[&str], what: &str) -> Result<T, ClientError> {
        let url = self.url(segments)?;
        self.json(self.request(Method::GET, url), what).await
    }

    async fn post_json<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        segments: &[&str],
        body: &B,
        what: &str,
    ) -> Result<T, ClientError> {
        let url = self.url(segments)?;
        self.json(self.request(Method::POST, url).json(body), what).await
    }

    // ---- JSON API ----

    /// `GET /api/v1/me`: who the token belongs to.
    pub async fn me(&self) -> Result<Me, ClientError> {
        self.get_json(&["api", "v1", "me"], "account description").await
    }

    /// Registers a public key (PEM) for a namespace.
    pub async fn register_key(
        &self,
        namespace: &str,
        public_key_pem: &str,
        name: Option<&str>,
    ) -> Result<RegisteredKey, ClientError> {
        let body = RegisterKey {
            public_key: public_key_pem,
            name,
        };
        self.post_json(
            &["api", "v1", "namespaces", namespace, "keys"],
            &body,
            "key registration",
        )
        .await
    }

    /// The keys of a namespace, revoked ones included.
    pub async fn list_keys(&self, namespace: &str) -> Result<Vec<KeyInfo>, ClientError> {
        let list: KeyList = self
            .get_json(&["api", "v1", "namespaces", namespace, "keys"], "key list")
            .await?;
        Ok(list.keys)
    }

    /// Revokes a key of a namespace.
    pub async fn revoke_key(&self, namespace: &str, key_id: &str, reason: &str) -> Result<Value, ClientError> {
        let body = serde_json::json!({ "reason": reason });
        self.post_json(
            &["api", "v1", "namespaces", namespace, "keys", key_id, "revoke"],
            &body,
            "key revocation",
        )
        .await
    }

    /// Publishes a version whose blobs are uploaded already.
    pub async fn publish_version(
        &self,
        namespace: &str,
        name: &str,
        request: &PublishRequest,
    ) -> Result<PublishedVersion, ClientError> {
        self.post_json(
            &["api", "v1", "packages", namespace, name, "versions"],
            request,
            "publish answer",
        )
        .await
    }

    /// Yanks a version.
    pub async fn yank(
        &self,
        namespace: &str,
        name: &str,
        version: &str,
        reason: &str,
    ) -> Result<VersionInfo, ClientError> {
        let body = serde_json::json!({ "reason": reason });
        self.post_json(
            &["api", "v1", "packages", namespace, name, "versions", version, "yank"],
            &body,
            "version",
        )
        .await
    }

    /// Takes a yank back.
    pub async fn unyank(&self, namespace: &str, name: &str, version: &str) -> Result<VersionInfo, ClientError> {
        let body = serde_json::json!({});
        self.post_json(
            &["api", "v1", "packages", namespace, name, "versions", version, "unyank"],
            &body,
            "version",
        )
        .await
    }

    /// A package and its versions, newest first.
    pub async fn package(&self, namespace: &str, name: &str) -> Result<PackageInfo, ClientError> {
        self.get_json(&["api", "v1", "packages", namespace, name], "package description")
            .await
    }

    /// One version with its manifest.
    pub async fn version(&self, namespace: &str, name: &str, version: &str) -> Result<VersionDetail, ClientError> {
        self.get_json(
            &["api", "v1", "packages", namespace, name, "versions", version],
            "version description",
        )
        .await
    }

    /// A country: policy, members and approver keys (`GET /api/v1/countries/{cc}`).
    pub async fn country(&self, code: &str) -> Result<Value, ClientError> {
        self.get_json(&["api", "v1", "countries", code], "country description")
            .await
    }

    /// Records a signed approval or revocation statement (a DSSE envelope).
    pub async fn submit_approval(&self, code: &str, envelope: &Value) -> Result<Value, ClientError> {
        self.post_json(
            &["api", "v1", "countries", code, "approvals"],
            envelope,
            "approval answer",
        )
        .await
    }

    /// Sets a country's own stack profile (TOML text; empty removes it).
    pub async fn set_country_stack(&self, code: &str, toml_text: &str) -> Result<Value, ClientError> {
        let url = self.url(&["api", "v1", "countries", code, "stack"])?;
        let request = self
            .request(Method::PUT, url)
            .header(CONTENT_TYPE, "application/toml")
            .body(toml_text.to_owned());
        self.json(request, "country description").await
    }

    /// Records one approver's signature over a bundle (making the bundle version if new).
    pub async fn sign_bundle(&self, code: &str, body: &Value) -> Result<Value, ClientError> {
        self.post_json(&["api", "v1", "countries", code, "bundles"], body, "bundle state")
            .await
    }

    /// A bundle version's state: members, signatures (with their envelopes), threshold.
    pub async fn bundle(&self, code: &str, name: &str, version: &str) -> Result<Value, ClientError> {
        self.get_json(
            &["api", "v1", "countries", code, "bundles", name, version],
            "bundle state",
        )
        .await
    }

    /// Every country's approvals of a package's versions.
    pub async fn package_approvals(&self, namespace: &str, name: &str) -> Result<Value, ClientError> {
        self.get_json(
            &["api", "v1", "packages", namespace, name, "approvals"],
            "approval list",
        )
        .await
    }

    /// Searches the catalogue.
    pub async fn search(&self, query: &str, limit: u32) -> Result<SearchResults, ClientError> {
        let url = self.url(&["api", "v1", "search"])?;
        let builder = self
            .request(Method::GET, url)
            .query(&[("q", query), ("limit", &limit.to_string())]);
        self.json(builder, "search result").await
    }

    /// Publishes a spec document (its TOML text).
    pub async fn publish_spec(&self, toml_text: &str) -> Result<SpecPublished, ClientError> {
        let body = serde_json::json!({ "toml": toml_text });
        self.post_json(&["api", "v1", "specs"], &body, "spec answer").await
    }

    /// Every spec, as the registry lists them.
    pub async fn list_specs(&self) -> Result<Value, ClientError> {
        self.get_json(&["api", "v1", "specs"], "spec list").await
    }

    /// One spec, as the registry describes it.
    pub async fn spec(&self, namespace: &str, name: &str) -> Result<Value, ClientError> {
        self.get_json(&["api", "v1", "specs", namespace, name], "spec description")
            .await
    }

    /// The URL of a document under the registry, as the local cache keys it.
    pub fn document_url(&self, segments: &[&str]) -> Result<String, ClientError> {
        self.url(segments).map(String::from)
    }

    /// A conditional `GET` of a JSON document (the sparse index): with the `ETag` of a
    /// cached copy, a `304 Not Modified` answer comes back as [`Conditional::NotModified`].
    pub async fn get_conditional(&self, segments: &[&str], etag: Option<&str>) -> Result<Conditional, ClientError> {
        let url = self.url(segments)?;
        let mut builder = self.request(Method::GET, url).header(ACCEPT, "application/json");
        if let Some(tag) = etag {
            builder = builder.header(IF_NONE_MATCH, tag);
        }
        let (client, request) = builder.build_split();
        let request = request.map_err(|e| ClientError::BadUrl(chain(&e)))?;
        let method = request.method().to_string();
        let path = request.url().path().to_owned();
        let response = client.execute(request).await.map_err(|e| self.transport(&e))?;
        if response.status() == StatusCode::NOT_MODIFIED {
            return Ok(Conditional::NotModified);
        }
        if !response.status().is_success() {
            return Err(self.failure(response, method, path).await);
        }
        let etag = header_str(&response, ETAG.as_str());
        let body = read_limited(response, MAX_JSON_BYTES).await?;
        Ok(Conditional::Fresh { body, etag })
    }

    // ---- OCI Distribution API ----

    /// Whether the repository has the blob (`HEAD /v2/<repo>/blobs/<digest>`).
    pub async fn blob_exists(&self, repo: &RepoName, digest: &Digest) -> Result<bool, ClientError> {
        let url = self.repo_url(repo, &["blobs", &digest.to_string()])?;
        match self.send(self.request(Method::HEAD, url)).await {
            Ok(_) => Ok(true),
            Err(e) if e.is_not_found() => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Uploads a blob unless the repository has it: `POST .../blobs/uploads/`, then one
    /// `PUT <location>?digest=` streaming the bytes with their length. The registry
    /// checks the digest.
    pub async fn upload_blob(
        &self,
        repo: &RepoName,
        blob: &BlobUpload,
        progress: &Arc<dyn Progress>,
    ) -> Result<UploadOutcome, ClientError> {
        if self.blob_exists(repo, &blob.digest).await? {
            progress.blob_skipped(&blob.label, &blob.digest, blob.size);
            return Ok(UploadOutcome::AlreadyPresent);
        }
        progress.blob_start(&blob.label, &blob.digest, blob.size);
        let start = self.repo_url(repo, &["blobs", "uploads", ""])?;
        let response = self
            .send(self.request(Method::POST, start).header(CONTENT_LENGTH, 0))
            .await?;
        let location = response
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| ClientError::InvalidResponse {
                what: "upload session".into(),
                message: "no Location header".into(),
            })?;
        let mut put = self.base.join(location).map_err(|e| ClientError::InvalidResponse {
            what: "upload location".into(),
            message: e.to_string(),
        })?;
        put.query_pairs_mut().append_pair("digest", &blob.digest.to_string());

        let body = match &blob.source {
            BlobSource::Bytes(bytes) => {
                progress.blob_advance(bytes.len() as u64);
                reqwest::Body::from(bytes.clone())
            }
            BlobSource::File(path) => {
                let file = tokio::fs::File::open(path).await.map_err(|source| ClientError::File {
                    path: path.clone(),
                    source,
                })?;
                let reporter = Arc::clone(progress);
                let stream = tokio_util::io::ReaderStream::with_capacity(file, 256 * 1024).inspect(move |chunk| {
                    if let Ok(c) = chunk {
                        reporter.blob_advance(c.len() as u64);
                    }
                });
                reqwest::Body::wrap_stream(stream)
            }
        };
        let request = self
            .request(Method::PUT, put)
            .header(CONTENT_TYPE, "application/octet-stream")
            .header(CONTENT_LENGTH, blob.size)
            .body(body);
        self.send(request).await?;
        progress.blob_done(&blob.label);
        Ok(UploadOutcome::Uploaded)
    }

    /// Fetches a manifest by tag or digest. When `reference` is a digest, the bytes
    /// must have it; a `Docker-Content-Digest` answer header must match the bytes.
    pub async fn fetch_manifest(&self, repo: &RepoName, reference: &str) -> Result<FetchedManifest, ClientError> {
        let url = self.repo_url(repo, &["manifests", reference])?;
        let accept = [
            media_types::OCI_MANIFEST,
            media_types::OCI_INDEX,
            media_types::DOCKER_MANIFEST,
            media_types::DOCKER_MANIFEST_LIST,
        ]
        .join(", ");
        let response = self.send(self.request(Method::GET, url).header(ACCEPT, accept)).await?;
        let media_type = header_str(&response, CONTENT_TYPE.as_str());
        let announced = header_str(&response, "docker-content-digest");
        let bytes = read_limited(response, MAX_MANIFEST_BYTES).await.map_err(|e| match e {
            ClientError::TooLarge { max, .. } => ClientError::TooLarge {
                what: format!("manifest {reference}"),
                max,
            },
            other => other,
        })?;
        let digest = Digest::of(&bytes);
        let what = format!("manifest {}:{reference}", repo.as_str());
        if let Ok(expected) = reference.parse::<Digest>()
            && expected != digest
        {
            return Err(ClientError::DigestMismatch {
                what,
                expected,
                actual: digest,
            });
        }
        if let Some(announced) = announced {
            let expected = announced.parse::<Digest>().map_err(|e| ClientError::InvalidResponse {
                what: "Docker-Content-Digest header".into(),
                message: e.to_string(),
            })?;
            if expected != digest {
                return Err(ClientError::DigestMismatch {
                    what,
                    expected,
                    actual: digest,
                });
            }
        }
        Ok(FetchedManifest {
            bytes,
            digest,
            media_type,
        })
    }

    /// Streams a blob into `out`, checking its size and digest as it arrives. Returns
    /// the number of bytes. On a mismatch, `out` holds unverified bytes: discard them.
    pub async fn fetch_blob<W: AsyncWrite + Unpin>(
        &self,
        repo: &RepoName,
        digest: &Digest,
        size: u64,
        out: &mut W,
        progress: &dyn Progress,
    ) -> Result<u64, ClientError> {
        let url = self.repo_url(repo, &["blobs", &digest.to_string()])?;
        let response = self.send(self.request(Method::GET, url)).await?;
        let what = format!("a blob of {}", repo.as_str());
        let mut hasher = Sha256::new();
        let mut received = 0u64;
        let mut stream = response.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| self.transport(&e))?;
            received += chunk.len() as u64;
            if received > size {
                return Err(ClientError::SizeMismatch {
                    what: format!("blob {digest} of {}", repo.as_str()),
                    expected: size,
                    actual: received,
                });
            }
            hasher.update(&chunk);
            out.write_all(&chunk).await.map_err(|source| ClientError::Write {
                what: what.clone(),
                source,
            })?;
            progress.blob_advance(chunk.len() as u64);
        }
        out.flush().await.map_err(|source| ClientError::Write {
            what: what.clone(),
            source,
        })?;
        if received != size {
            return Err(ClientError::SizeMismatch {
                what: format!("blob {digest} of {}", repo.as_str()),
                expected: size,
                actual: received,
            });
        }
        let actual = Digest::from_sha256(hasher.finalize().into());
        if &actual != digest {
            return Err(ClientError::DigestMismatch {
                what,
                expected: digest.clone(),
                actual,
            });
        }
        Ok(received)
    }

    /// Fetches a small blob into memory (at most `max` bytes), verified.
    pub async fn fetch_blob_bytes(
        &self,
        repo: &RepoName,
        digest: &Digest,
        size: u64,
        max: usize,
    ) -> Result<Vec<u8>, ClientError> {
        if size > max as u64 {
            return Err(ClientError::TooLarge {
                what: format!("blob {digest}"),
                max,
            });
        }
        let mut out = Vec::with_capacity(size as usize);
        self.fetch_blob(repo, digest, size, &mut out, &crate::progress::NoProgress)
            .await?;
        Ok(out)
    }
}

fn header_str(response: &Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Reads a body, refusing more than `max` bytes.
async fn read_limited(response: Response, max: usize) -> Result<Vec<u8>, ClientError> {
    let url = response.url().origin().ascii_serialization();
    let mut out = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| ClientError::Connect {
            url: url.clone(),
            message: innermost(&e),
        })?;
        if out.len() + chunk.len() > max {
            return Err(ClientError::TooLarge {
                what: "the answer".into(),
                max,
            });
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// The deepest cause of an error, which for network errors is the useful one
/// ("Connection refused (os error 111)").
fn innermost(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// An error and its causes on one line.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cur = c.source();
    }
    out
}
