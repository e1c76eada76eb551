//! Copying a verified export into a registry over the OCI Distribution API.
//!
//! Only after [`super::offline::verify`] accepted the export: every blob is uploaded
//! (skipped when the repository has it) streaming from the staged file, then every
//! manifest is `PUT`, children before parents, so that a registry which checks
//! references (as govstore does) sees each one complete:
//!
//! - in each member's package repository: its blobs, its manifest (by digest), its
//!   cosign `.sig` and `.att` manifests (by tag) and its other referrers (by digest);
//! - in the bundle's repository (`<cc>/<name>`): every member manifest and blob, the
//!   bundle index (tagged by its version), its `.sig` and `.att` (by tag) and its
//!   referrers (by digest).
//!
//! This is plain OCI: a govstore registry refuses to take package manifests this way
//! (a package becomes visible only through its publish API, with its signature
//! checked there), so importing into govstore needs server support that re-records a
//! signed version and its approvals; a plain OCI registry accepts the copy.

use std::collections::BTreeSet;
use std::sync::Arc;

use govstore_core::oci::{Descriptor, manifest_kind, parse_manifest};
use govstore_core::{Digest, RepoName};
use serde::Serialize;

use super::offline::Offline;
use super::{ANN_REF_NAME, ANN_SUBJECT, ExportError};
use crate::layout::ReadLayout;
use crate::progress::{NoProgress, Progress};
use crate::registry::{BlobSource, BlobUpload, MAX_MANIFEST_BYTES, RegistryClient, UploadOutcome};

/// What [`push`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PushReport {
    pub registry: String,
    pub blobs_uploaded: usize,
    pub blobs_present: usize,
    pub manifests: usize,
    /// `repository:tag` for every tag written.
    pub tags: Vec<String>,
    pub repositories: Vec<String>,
}

/// One manifest PUT.
struct Put<'a> {
    repo: RepoName,
    digest: Digest,
    media_type: String,
    reference: String,
    _layout: &'a ReadLayout,
}

/// Pushes a verified export to `client`'s registry, authenticating manifest `PUT`s
/// with `token`.
pub async fn push(
    client: &RegistryClient,
    token: Option<&str>,
    layout: &ReadLayout,
    offline: &Offline,
) -> Result<PushReport, ExportError> {
    let b = &offline.verified.bundle;
    let bundle_repo: RepoName = b
        .reference()
        .repository()
        .parse()
        .map_err(|e| ExportError::refused(format!("{}: {e}", b.reference().repository())))?;
    let mut report = PushReport {
        registry: client.base_url().to_owned(),
        ..PushReport::default()
    };
    let mut repos = BTreeSet::new();
    let http = reqwest::Client::new();
    let mut done = BTreeSet::new();
    let by_digest = |d: &Digest| offline.roots.iter().find(|r| &r.digest == d);

    // Referrer roots of a subject, split by tag name or by subject annotation.
    let referrers_of = |subject: &Digest| -> Vec<&Descriptor> {
        let sig = subject.cosign_signature_tag();
        let att = subject.cosign_attestation_tag();
        let s = subject.to_string();
        offline
            .roots
            .iter()
            .filter(|r| {
                let ann = r.annotations.as_ref();
                let name = ann.and_then(|a| a.get(ANN_REF_NAME));
                let subj = ann.and_then(|a| a.get(ANN_SUBJECT));
                name.is_some_and(|n| *n == sig || *n == att) || subj.is_some_and(|x| *x == s)
            })
            .collect()
    };

    for m in &b.members {
        let repo = m.name.repo_name();
        repos.insert(repo.as_str().to_owned());
        upload_tree(client, layout, &repo, &m.digest, &mut report).await?;
        send_put(
            &http,
            client,
            token,
            layout,
            &mut done,
            &mut report,
            put(
                &repo,
                &m.digest,
                manifest_media_type(layout, &m.digest)?,
                m.digest.to_string(),
                layout,
            ),
        )
        .await?;
        push_referrers(
            &http,
            client,
            token,
            layout,
            &mut done,
            &mut report,
            &repo,
            &referrers_of(&m.digest),
        )
        .await?;
        // The bundle repository holds the member too.
        upload_tree(client, layout, &bundle_repo, &m.digest, &mut report).await?;
        send_put(
            &http,
            client,
            token,
            layout,
            &mut done,
            &mut report,
            put(
                &bundle_repo,
                &m.digest,
                manifest_media_type(layout, &m.digest)?,
                m.digest.to_string(),
                layout,
            ),
        )
        .await?;
    }
    repos.insert(bundle_repo.as_str().to_owned());
    let index = &offline.verified.digest;
    let root = by_digest(index).ok_or_else(|| ExportError::refused("index.json does not name the bundle"))?;
    send_put(
        &http,
        client,
        token,
        layout,
        &mut done,
        &mut report,
        put(
            &bundle_repo,
            index,
            root.media_type.clone(),
            b.version.to_string(),
            layout,
        ),
    )
    .await?;
    push_referrers(
        &http,
        client,
        token,
        layout,
        &mut done,
        &mut report,
        &bundle_repo,
        &referrers_of(index),
    )
    .await?;

    report.repositories = repos.into_iter().collect();
    Ok(report)
}

/// Uploads each referrer's blobs into `repo` and `PUT`s it under its cosign tag name
/// (or by digest when it has none).
#[allow(clippy::too_many_arguments)]
async fn push_referrers(
    http: &reqwest::Client,
    client: &RegistryClient,
    token: Option<&str>,
    layout: &ReadLayout,
    done: &mut BTreeSet<(String, String)>,
    report: &mut PushReport,
    repo: &RepoName,
    referrers: &[&Descriptor],
) -> Result<(), ExportError> {
    for r in referrers {
        upload_tree(client, layout, repo, &r.digest, report).await?;
        let reference = r
            .annotations
            .as_ref()
            .and_then(|a| a.get(ANN_REF_NAME))
            .cloned()
            .unwrap_or_else(|| r.digest.to_string());
        send_put(
            http,
            client,
            token,
            layout,
            done,
            report,
            put(repo, &r.digest, r.media_type.clone(), reference, layout),
        )
        .await?;
    }
    Ok(())
}

/// `PUT`s one manifest (once per repository and reference).
async fn send_put(
    http: &reqwest::Client,
    client: &RegistryClient,
    token: Option<&str>,
    layout: &ReadLayout,
    done: &mut BTreeSet<(String, String)>,
    report: &mut PushReport,
    p: Put<'_>,
) -> Result<(), ExportError> {
    let p = &p;
    if !done.insert((p.repo.as_str().to_owned(), p.reference.clone())) {
        return Ok(());
    }
    let path = layout
        .blob_path(&p.digest)
        .ok_or_else(|| ExportError::refused(format!("the export lacks manifest {}", p.digest)))?;
    let bytes = std::fs::read(&path).map_err(|e| ExportError::Io(format!("{}: {e}", path.display())))?;
    let url = format!("{}/v2/{}/manifests/{}", client.base_url(), p.repo.as_str(), p.reference);
    let mut req = http
        .put(&url)
        .header(reqwest::header::CONTENT_TYPE, p.media_type.as_str())
        .body(bytes);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req
        .send()
        .await
        .map_err(|e| ExportError::Io(format!("PUT {url}: {e}")))?;
    if !resp.status().is_success() {
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        let text: String = text.chars().take(400).collect();
        return Err(ExportError::Refused(format!(
            "{} refused manifest {} for {}:{} ({status}): {text}",
            client.base_url(),
            p.digest,
            p.repo.as_str(),
            p.reference
        )));
    }
    report.manifests += 1;
    if p.reference.parse::<Digest>().is_err() {
        report.tags.push(format!("{}:{}", p.repo.as_str(), p.reference));
    }
    Ok(())
}

fn put<'a>(repo: &RepoName, digest: &Digest, media_type: String, reference: String, layout: &'a ReadLayout) -> Put<'a> {
    Put {
        repo: repo.clone(),
        digest: digest.clone(),
        media_type,
        reference,
        _layout: layout,
    }
}

fn read_manifest(layout: &ReadLayout, digest: &Digest) -> Result<Vec<u8>, ExportError> {
    let path = layout
        .blob_path(digest)
        .ok_or_else(|| ExportError::refused(format!("the export lacks manifest {digest}")))?;
    let bytes = std::fs::read(&path).map_err(|e| ExportError::Io(format!("{}: {e}", path.display())))?;
    if bytes.len() > MAX_MANIFEST_BYTES {
        return Err(ExportError::refused(format!("manifest {digest} is too large")));
    }
    Ok(bytes)
}

fn manifest_media_type(layout: &ReadLayout, digest: &Digest) -> Result<String, ExportError> {
    let bytes = read_manifest(layout, digest)?;
    let info = parse_manifest(None, &bytes).map_err(|e| ExportError::refused(format!("manifest {digest}: {e}")))?;
    Ok(info.media_type)
}

/// Uploads the blobs a manifest references (not child manifests) into `repo`.
async fn upload_tree(
    client: &RegistryClient,
    layout: &ReadLayout,
    repo: &RepoName,
    digest: &Digest,
    report: &mut PushReport,
) -> Result<(), ExportError> {
    let bytes = read_manifest(layout, digest)?;
    let info = parse_manifest(None, &bytes).map_err(|e| ExportError::refused(format!("manifest {digest}: {e}")))?;
    let progress: Arc<dyn Progress> = Arc::new(NoProgress);
    for d in &info.blobs {
        if manifest_kind(&d.media_type).is_some() {
            continue;
        }
        let path = layout
            .blob_path(&d.digest)
            .ok_or_else(|| ExportError::refused(format!("the export lacks blob {}", d.digest)))?;
        let upload = BlobUpload {
            label: d.digest.to_string(),
            digest: d.digest.clone(),
            size: d.size,
            source: BlobSource::File(path),
        };
        match client
            .upload_blob(repo, &upload, &progress)
            .await
            .map_err(ExportError::registry(format!(
                "uploading blob {} to {}",
                d.digest,
                repo.as_str()
            )))? {
            UploadOutcome::Uploaded => report.blobs_uploaded += 1,
            UploadOutcome::AlreadyPresent => report.blobs_present += 1,
        }
    }
    Ok(())
}
