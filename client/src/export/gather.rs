//! Making an export: collect a verified bundle's content from its registry and write
//! it as one deterministic OCI image layout.
//!
//! [`gather`] fetches, by digest or cosign tag, the bundle index's referrers and tags
//! (`.sig`, `.att`, OCI referrers), every member manifest with its blobs, and each
//! member's `.sig`, `.att` and referrers, from the member's own repository. Manifests
//! are small and kept in memory (read whole, as everywhere); every other blob is
//! streamed into the local cache (checked while streaming, re-hashed if already
//! there) and streamed out of it again by [`write_layout`], never held whole. The
//! trust material is built from sorted parts, and `index.json` lists its descriptors
//! in a fixed order, so the same bundle state gives the same bytes.
//!
//! A differential export (`--since`, [`Since`]) is the same plan less the blobs of the
//! base bundle's immutable closure ([`base_closure`]: its member manifests and their
//! configs and layers, all fixed by the base index digest, so every export of the base
//! holds them). Signatures, attestations and approvals are always written in full:
//! their cosign tags and referrer lists can change after the base was exported, and
//! they are small. `index.json` is unchanged but for three annotations naming the base
//! ([`crate::layout::ANN_SINCE`] and the others), so it still names everything the
//! bundle needs and a reader completes it from the base export.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Read};

use futures_util::{StreamExt, TryStreamExt};
use govstore_core::bundle::{self, Bundle};
use govstore_core::oci::{Descriptor, manifest_kind, media_types, parse_manifest};
use govstore_core::{Digest, RepoName};
use serde_json::{Value, json};

use super::{
    ANN_REF_NAME, ANN_SUBJECT, ANN_TRUST, BundleMaterial, CountryMaterial, ExportError, MemberMaterial,
    PublisherMaterial, TRUST_MEDIA_TYPE, TRUST_VERSION, TrustMaterial,
};
use crate::cache::{BlobState, Cache};
use crate::index::IndexClient;
use crate::layout::{ANN_BASE, ANN_BASE_REF, ANN_SINCE, BlobEntry, BlobSource, write_layout};
use crate::registry::{Conditional, MAX_MANIFEST_BYTES, RegistryClient};

/// What [`gather`] needs about a bundle already verified online against pinned keys.
#[derive(Debug, Clone)]
pub struct BundleInput {
    pub bundle: Bundle,
    /// The index bytes as fetched (their digest is the bundle digest).
    pub index: Vec<u8>,
    /// The bundle statements (DSSE envelopes) the registry serves.
    pub envelopes: Vec<Value>,
    /// `GET /api/v1/countries/{cc}` as the registry answered.
    pub country: Value,
    /// For a differential export: the base it builds on.
    pub since: Option<Since>,
}

/// The base of a differential export.
#[derive(Debug, Clone)]
pub struct Since {
    /// The base bundle (verified by the caller against the pinned keys).
    pub bundle: Bundle,
    /// The base bundle's image index digest.
    pub digest: Digest,
    /// The blobs the export leaves out ([`base_closure`]).
    pub blobs: BTreeSet<Digest>,
}

/// The immutable closure of a bundle: each member manifest and the blobs it
/// references (config, layers), read from the cache or fetched from the member's
/// repository, sizes checked.
pub async fn base_closure(client: &RegistryClient, cache: &Cache, b: &Bundle) -> Result<BTreeSet<Digest>, ExportError> {
    let mut out = BTreeSet::new();
    for m in &b.members {
        let repo = m.name.repo_name();
        let bytes = match cache.read_blob(&m.digest, MAX_MANIFEST_BYTES).ok().flatten() {
            Some(bytes) if Digest::of(&bytes) == m.digest => bytes,
            _ => {
                client
                    .fetch_manifest(&repo, &m.digest.to_string())
                    .await
                    .map_err(ExportError::registry(format!(
                        "manifest {} of {}",
                        m.digest,
                        repo.as_str()
                    )))?
                    .bytes
            }
        };
        if Digest::of(&bytes) != m.digest || bytes.len() as u64 != m.size {
            return Err(ExportError::refused(format!(
                "manifest {} of {} does not match the base bundle's record of it",
                m.digest,
                repo.as_str()
            )));
        }
        let info = parse_manifest(None, &bytes)
            .map_err(|e| ExportError::refused(format!("manifest {} of {}: {e}", m.digest, repo.as_str())))?;
        out.insert(m.digest.clone());
        out.extend(info.blobs.into_iter().map(|d| d.digest));
    }
    Ok(out)
}

/// An export ready to write: `index.json`, the blobs, and where their bytes are.
#[derive(Debug)]
pub struct Plan {
    pub index_json: Vec<u8>,
    pub blobs: Vec<BlobEntry>,
    /// Manifests and the trust material, by digest.
    small: BTreeMap<Digest, Vec<u8>>,
    cache: Cache,
    pub trust: TrustMaterial,
    /// Manifests in the export (bundle index, members, referrers).
    pub manifests: usize,
    /// For a differential export: blobs left out (held by the base export), and
    /// their bytes.
    pub omitted: usize,
    pub omitted_bytes: u64,
}

impl BlobSource for Plan {
    fn open(&self, digest: &Digest) -> io::Result<Box<dyn Read + '_>> {
        if let Some(bytes) = self.small.get(digest) {
            return Ok(Box::new(bytes.as_slice()));
        }
        let file = std::fs::File::open(self.cache.blob_path(digest))?;
        Ok(Box::new(io::BufReader::with_capacity(256 * 1024, file)))
    }
}

impl Plan {
    /// Writes the export to `out`; see [`write_layout`].
    pub fn write(&self, out: impl io::Write) -> Result<crate::layout::WriteSummary, ExportError> {
        Ok(write_layout(out, &self.index_json, &self.blobs, self)?)
    }
}

/// Collects what the export of `input` holds; see the module documentation.
pub async fn gather(client: &RegistryClient, cache: &Cache, input: &BundleInput) -> Result<Plan, ExportError> {
    let b = &input.bundle;
    let index_digest = Digest::of(&input.index);
    let bundle_repo: RepoName = b
        .reference()
        .repository()
        .parse()
        .map_err(|e| ExportError::refused(format!("{}: {e}", b.reference().repository())))?;
    let mut c = Collector {
        client,
        cache,
        manifests: BTreeMap::new(),
        blobs: BTreeMap::new(),
        roots: Vec::new(),
    };

    // The bundle index, its members (from their own repositories), its referrers.
    c.manifests.insert(index_digest.clone(), input.index.clone());
    c.roots.push(Root {
        digest: index_digest.clone(),
        media_type: media_types::OCI_INDEX.to_owned(),
        size: input.index.len() as u64,
        artifact_type: Some(bundle::ARTIFACT_TYPE.to_owned()),
        annotations: BTreeMap::from([(ANN_REF_NAME.to_owned(), b.version.to_string())]),
    });
    for m in &b.members {
        let repo = m.name.repo_name();
        c.manifest_by_digest(&repo, &m.digest, m.size).await?;
    }
    c.tagged_and_referrers(&bundle_repo, &index_digest, true).await?;
    for m in &b.members {
        c.tagged_and_referrers(&m.name.repo_name(), &m.digest, false).await?;
    }

    // The trust material.
    let trust = trust_material(client, cache, input, &index_digest).await?;
    let mut trust_bytes = serde_json::to_vec_pretty(&trust).map_err(|e| ExportError::Io(e.to_string()))?;
    trust_bytes.push(b'\n');
    let trust_digest = Digest::of(&trust_bytes);

    // A differential export leaves out what the base export holds.
    let omit = |d: &Digest| input.since.as_ref().is_some_and(|s| s.blobs.contains(d));
    let omitted: Vec<u64> = c
        .blobs
        .iter()
        .filter(|(d, _)| omit(d))
        .map(|(_, (size, _))| *size)
        .collect();
    c.blobs.retain(|d, _| !omit(d));
    c.manifests.retain(|d, _| !omit(d));

    // Blob bytes: into the cache, streamed and checked, FETCH_JOBS at a time.
    let fetches = c
        .blobs
        .iter()
        .filter(|(digest, _)| !c.manifests.contains_key(*digest))
        .map(|(digest, (size, repo))| ensure_cached(client, cache, repo, digest, *size));
    futures_util::stream::iter(fetches)
        .buffer_unordered(FETCH_JOBS)
        .try_collect::<Vec<()>>()
        .await?;

    // index.json: the bundle first, then the referrers by tag name or subject and
    // digest, then the trust material.
    let mut descriptors: Vec<Value> = Vec::new();
    let (first, rest) = c.roots.split_at(1);
    let mut rest: Vec<&Root> = rest.iter().collect();
    rest.sort_by(|a, b| (a.sort_key(), &a.digest).cmp(&(b.sort_key(), &b.digest)));
    for r in first.iter().chain(rest) {
        descriptors.push(r.to_json());
    }
    descriptors.push(json!({
        "mediaType": TRUST_MEDIA_TYPE,
        "digest": trust_digest.to_string(),
        "size": trust_bytes.len(),
        "annotations": { ANN_TRUST: TRUST_VERSION.to_string() },
    }));
    let mut index_doc = json!({
        "schemaVersion": 2,
        "mediaType": media_types::OCI_INDEX,
        "manifests": descriptors,
    });
    if let Some(since) = &input.since {
        index_doc["annotations"] = json!({
            ANN_SINCE: since.bundle.version.to_string(),
            ANN_BASE: since.digest.to_string(),
            ANN_BASE_REF: since.bundle.reference().to_string(),
        });
    }
    let index_json = serde_json::to_vec(&index_doc).map_err(|e| ExportError::Io(e.to_string()))?;

    let mut blobs: Vec<BlobEntry> = c
        .blobs
        .iter()
        .map(|(digest, (size, _))| BlobEntry {
            digest: digest.clone(),
            size: *size,
        })
        .collect();
    for (digest, bytes) in &c.manifests {
        blobs.push(BlobEntry {
            digest: digest.clone(),
            size: bytes.len() as u64,
        });
    }
    blobs.push(BlobEntry {
        digest: trust_digest.clone(),
        size: trust_bytes.len() as u64,
    });
    let manifests = c.manifests.len();
    let mut small = c.manifests;
    small.insert(trust_digest, trust_bytes);
    Ok(Plan {
        index_json,
        blobs,
        small,
        cache: cache.clone(),
        trust,
        manifests,
        omitted: omitted.len(),
        omitted_bytes: omitted.iter().sum(),
    })
}

/// One descriptor of `index.json` besides the trust material.
#[derive(Debug)]
struct Root {
    digest: Digest,
    media_type: String,
    size: u64,
    artifact_type: Option<String>,
    annotations: BTreeMap<String, String>,
}

impl Root {
    fn sort_key(&self) -> String {
        self.annotations
            .get(ANN_REF_NAME)
            .or_else(|| self.annotations.get(ANN_SUBJECT))
            .cloned()
            .unwrap_or_default()
    }

    fn to_json(&self) -> Value {
        let mut d = json!({
            "mediaType": self.media_type,
            "digest": self.digest.to_string(),
            "size": self.size,
        });
        if let Some(t) = &self.artifact_type {
            d["artifactType"] = json!(t);
        }
        if !self.annotations.is_empty() {
            d["annotations"] = json!(self.annotations);
        }
        d
    }
}

struct Collector<'a> {
    client: &'a RegistryClient,
    cache: &'a Cache,
    /// Manifest bytes by digest.
    manifests: BTreeMap<Digest, Vec<u8>>,
    /// Every blob (manifests included) with its size and a repository that has it.
    blobs: BTreeMap<Digest, (u64, RepoName)>,
    roots: Vec<Root>,
}

impl Collector<'_> {
    /// Records a manifest's bytes and walks what it references (child manifests are
    /// fetched from the same repository).
    async fn add_manifest(&mut self, repo: &RepoName, digest: &Digest, bytes: Vec<u8>) -> Result<String, ExportError> {
        let info = parse_manifest(None, &bytes)
            .map_err(|e| ExportError::refused(format!("manifest {digest} of {}: {e}", repo.as_str())))?;
        self.blobs.insert(digest.clone(), (bytes.len() as u64, repo.clone()));
        self.manifests.insert(digest.clone(), bytes);
        for d in &info.blobs {
            self.blobs
                .entry(d.digest.clone())
                .or_insert_with(|| (d.size, repo.clone()));
        }
        for d in &info.manifests {
            Box::pin(self.manifest_by_digest(repo, &d.digest, d.size)).await?;
        }
        Ok(info.media_type)
    }

    async fn manifest_by_digest(&mut self, repo: &RepoName, digest: &Digest, size: u64) -> Result<(), ExportError> {
        if self.manifests.contains_key(digest) {
            return Ok(());
        }
        let bytes = match self.cache.read_blob(digest, MAX_MANIFEST_BYTES).ok().flatten() {
            Some(bytes) => bytes,
            None => {
                let m = self
                    .client
                    .fetch_manifest(repo, &digest.to_string())
                    .await
                    .map_err(ExportError::registry(format!("manifest {digest} of {}", repo.as_str())))?;
                m.bytes
            }
        };
        if bytes.len() as u64 != size {
            return Err(ExportError::refused(format!(
                "manifest {digest} of {} is {} bytes, but is referenced as {size}",
                repo.as_str(),
                bytes.len()
            )));
        }
        self.add_manifest(repo, digest, bytes).await?;
        Ok(())
    }

    /// The cosign `.sig` and `.att` manifests of `subject` (by tag) and its OCI
    /// referrers, each a root of `index.json`. `required`: a missing `.sig` refuses.
    async fn tagged_and_referrers(
        &mut self,
        repo: &RepoName,
        subject: &Digest,
        bundle: bool,
    ) -> Result<(), ExportError> {
        for tag in [subject.cosign_signature_tag(), subject.cosign_attestation_tag()] {
            let fetched = match self.client.fetch_manifest(repo, &tag).await {
                Ok(m) => m,
                Err(e) if e.is_not_found() && tag.ends_with(".att") && !bundle => continue,
                Err(e) => {
                    return Err(ExportError::registry(format!(
                        "the cosign tag {tag} of {}",
                        repo.as_str()
                    ))(e));
                }
            };
            let media_type = self.add_manifest(repo, &fetched.digest, fetched.bytes.clone()).await?;
            self.push_root(&fetched.digest, &fetched.bytes, media_type, (ANN_REF_NAME, tag));
        }
        let digest = subject.to_string();
        let mut segments = vec!["v2"];
        segments.extend(repo.as_str().split('/'));
        segments.extend(["referrers", digest.as_str()]);
        let body = match self.client.get_conditional(&segments, None).await {
            Ok(Conditional::Fresh { body, .. }) => body,
            Ok(Conditional::NotModified) => Vec::new(),
            Err(e) => return Err(ExportError::registry(format!("the referrers of {subject}"))(e)),
        };
        let listed: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let mut referrers: Vec<(Digest, u64)> = listed["manifests"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|d| serde_json::from_value::<Descriptor>(d.clone()).ok())
            .filter(|d| manifest_kind(&d.media_type).is_some())
            .map(|d| (d.digest, d.size))
            .collect();
        referrers.sort();
        for (d, size) in referrers {
            if self.roots.iter().any(|r| r.digest == d) {
                continue;
            }
            self.manifest_by_digest(repo, &d, size).await?;
            let bytes = self.manifests.get(&d).cloned().unwrap_or_default();
            let info = parse_manifest(None, &bytes)
                .map_err(|e| ExportError::refused(format!("referrer {d} of {subject}: {e}")))?;
            self.push_root(&d, &bytes, info.media_type, (ANN_SUBJECT, digest.clone()));
        }
        Ok(())
    }

    fn push_root(&mut self, digest: &Digest, bytes: &[u8], media_type: String, annotation: (&str, String)) {
        if self.roots.iter().any(|r| &r.digest == digest) {
            return;
        }
        let artifact_type = serde_json::from_slice::<Value>(bytes)
            .ok()
            .and_then(|v| v["artifactType"].as_str().map(str::to_owned));
        self.roots.push(Root {
            digest: digest.clone(),
            media_type,
            size: bytes.len() as u64,
            artifact_type,
            annotations: BTreeMap::from([(annotation.0.to_owned(), annotation.1)]),
        });
    }
}

/// Blobs downloaded at once: the registry answers several requests in parallel, and a
/// blob's download waits on the network while another's bytes are hashed.
const FETCH_JOBS: usize = 4;

/// Makes sure the cache holds the blob (re-hashed if there, else downloaded while
/// checked).
async fn ensure_cached(
    client: &RegistryClient,
    cache: &Cache,
    repo: &RepoName,
    digest: &Digest,
    size: u64,
) -> Result<(), ExportError> {
    let io = |e: crate::cache::CacheError| ExportError::Io(e.to_string());
    if cache.verified_blob(digest, size).map_err(io)? == BlobState::Valid {
        return Ok(());
    }
    let tmp = cache.temp_file().map_err(io)?;
    let std_file = tmp.as_file().try_clone().map_err(|e| ExportError::Io(e.to_string()))?;
    let mut file = tokio::fs::File::from_std(std_file);
    client
        .fetch_blob(repo, digest, size, &mut file, &crate::progress::NoProgress)
        .await
        .map_err(ExportError::registry(format!("blob {digest} of {}", repo.as_str())))?;
    drop(file);
    cache.persist_blob(tmp, digest).map_err(io)?;
    Ok(())
}

/// The trust material: country record and keys, publisher keys, bundle statements
/// and approvals, every list sorted.
async fn trust_material(
    client: &RegistryClient,
    cache: &Cache,
    input: &BundleInput,
    index_digest: &Digest,
) -> Result<TrustMaterial, ExportError> {
    let b = &input.bundle;
    let mut envelopes = input.envelopes.clone();
    envelopes.sort_by_cached_key(Value::to_string);
    envelopes.dedup();

    let mut country_keys: Vec<Value> = input.country["keys"].as_array().cloned().unwrap_or_default();
    country_keys.sort_by_cached_key(|k| k["key_id"].as_str().unwrap_or_default().to_owned());
    let country = CountryMaterial {
        code: b.country.as_str().to_owned(),
        name: input.country["name"].as_str().map(str::to_owned),
        threshold: input.country["threshold"]
            .as_u64()
            .and_then(|t| u32::try_from(t).ok())
            .unwrap_or(0),
        keys: country_keys,
    };

    let namespaces: BTreeSet<&str> = b.members.iter().map(|m| m.name.namespace()).collect();
    let mut publishers = Vec::new();
    for ns in namespaces {
        let mut keys = client
            .list_keys(ns)
            .await
            .map_err(ExportError::registry(format!("the signing keys of namespace `{ns}`")))?;
        keys.sort_by(|a, b| a.key_id.cmp(&b.key_id));
        publishers.push(PublisherMaterial {
            namespace: ns.to_owned(),
            keys,
        });
    }

    let index = IndexClient::new(client.clone(), cache.clone(), false);
    let mut members = Vec::new();
    for m in &b.members {
        let doc = index
            .package(&m.name)
            .await
            .map_err(|e| ExportError::Refused(format!("{}: {e}", m.name)))?;
        let approvals = doc
            .as_ref()
            .and_then(|(d, _)| d.versions.iter().find(|v| v.digest == m.digest))
            .map(|v| v.approvals.clone())
            .ok_or_else(|| {
                ExportError::refused(format!(
                    "{}@{} ({}) is not in {}'s index",
                    m.name,
                    m.version,
                    m.digest,
                    client.base_url()
                ))
            })?;
        members.push(MemberMaterial {
            name: m.name.to_string(),
            version: m.version.to_string(),
            digest: m.digest.to_string(),
            approvals,
        });
    }
    Ok(TrustMaterial {
        version: TRUST_VERSION,
        media_type: TRUST_MEDIA_TYPE.to_owned(),
        registry: client.base_url().to_owned(),
        bundle: BundleMaterial {
            reference: b.reference().to_string(),
            digest: index_digest.to_string(),
            envelopes,
        },
        country,
        publishers,
        members,
    })
}
