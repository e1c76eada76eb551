//! Verifying an export with no registry: against the keys the operator pinned, from
//! the bytes in the export alone (already re-hashed by [`crate::layout`]).
//!
//! [`verify`] checks, refusing with a message that names what failed:
//!
//! 1. `index.json` names exactly one bundle image index and one trust material blob
//!    (a JSON document of a known version);
//! 2. the bundle statements (DSSE envelopes in the trust material) are signed by at
//!    least the pinned threshold of distinct pinned keys, over this index digest
//!    ([`crate::bundles::verify`]); a pinned key counts only if a public key in the
//!    trust material hashes to its id (ids written in the file are never used);
//! 3. each member's manifest is a govstore package of that name and version (its
//!    config says so), its cosign signature (the `.sig` manifest in the export, a
//!    simple-signing payload naming this digest and repository) verifies against an
//!    unrevoked publisher key of its namespace from the trust material;
//! 4. each member's approvals (envelopes in the trust material) are tallied against
//!    the pinned country keys ([`CountryTrust::tally`]); a member short of the
//!    threshold (revoked, expired, missing) is a *problem*, which the caller refuses
//!    unless the operator overrides it.
//!
//! The bundle's own cosign `.sig` is verified too when present and counted in the
//! report, but the DSSE statements are what the threshold is counted on.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::Path;

use base64::Engine as _;
use govstore_core::Digest;
use govstore_core::artifact::package_layers;
use govstore_core::bundle::{self, Bundle, BundleRef, Member};
use govstore_core::index::IndexVersion;
use govstore_core::manifest::Manifest;
use govstore_core::manifest::Url;
use govstore_core::oci::{Descriptor, media_types, parse_manifest};
use govstore_core::stack::{Lockfile, Trust};
use govstore_signing::PublicKey;
use govstore_signing::simple_signing::MAX_PAYLOAD_LEN;
use serde::Serialize;

use super::{ANN_REF_NAME, ANN_TRUST, ExportError, MAX_TRUST_BYTES, TRUST_MEDIA_TYPE, TRUST_VERSION, TrustMaterial};
use crate::approvals::CountryTrust;
use crate::bundles::{self, Verified};
use crate::cache::Cache;
use crate::layout::{LayoutReport, ReadLayout};
use crate::registry::MAX_MANIFEST_BYTES;
use crate::trust::TrustFile;
use crate::verify::{check_payload, signature_layers};

/// The largest package config read.
const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// An export that verified, with what is needed to install or push it.
#[derive(Debug, Clone)]
pub struct Offline {
    pub verified: Verified,
    /// The operator's pins for the bundle's country.
    pub pinned: Trust,
    pub trust: TrustMaterial,
    pub members: Vec<CheckedMember>,
    /// Members short of the approval threshold, `name@version: why`.
    pub problems: Vec<String>,
    /// Those of `problems` that were never approved (or too few approvals, or by keys
    /// not pinned), as opposed to approvals revoked or expired: no flag overrides them.
    pub missing: Vec<String>,
    pub report: VerifyReport,
    /// The descriptors of `index.json`.
    pub roots: Vec<Descriptor>,
}

/// A member whose manifest and publisher signature verified.
#[derive(Debug, Clone)]
pub struct CheckedMember {
    pub member: Member,
    /// The publisher key whose signature verified.
    pub signer: String,
    signer_key: PublicKey,
    /// The cosign signature manifest.
    pub signature: Digest,
    /// Every blob an install needs: manifest, config, layers, signature manifest and
    /// its blobs.
    pub blobs: Vec<Digest>,
}

/// What was verified, and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    pub bundle: String,
    pub digest: String,
    /// The layout read: blobs re-hashed, bytes, manifests.
    pub archive: LayoutReport,
    /// Distinct pinned keys whose bundle statements (DSSE) verified, and the pinned
    /// threshold.
    pub bundle_statements: usize,
    pub threshold: u32,
    /// Distinct pinned keys whose cosign signature of the bundle index verified.
    pub bundle_cosign_signatures: usize,
    /// Member publisher signatures verified (one per member).
    pub publisher_signatures: usize,
    /// Approvals by pinned keys counted, over all members.
    pub approvals: usize,
    /// Pinned country keys used (present in the export and signing).
    pub country_keys: Vec<String>,
    /// Publisher keys whose signatures verified.
    pub publisher_keys: Vec<String>,
    pub members: Vec<MemberReport>,
    /// Members short of the approval threshold.
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MemberReport {
    pub name: String,
    pub version: String,
    pub digest: String,
    pub publisher_key: String,
    pub approvals: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

fn refused(message: impl Into<String>) -> ExportError {
    ExportError::refused(message)
}

fn annotation<'a>(d: &'a Descriptor, key: &str) -> Option<&'a str> {
    d.annotations.as_ref()?.get(key).map(String::as_str)
}

/// A blob of the export, read whole (at most `max` bytes).
fn read_blob(layout: &ReadLayout, digest: &Digest, max: u64, what: &str) -> Result<Vec<u8>, ExportError> {
    let path = layout
        .blob_path(digest)
        .ok_or_else(|| refused(format!("the export is incomplete: it lacks the {what} ({digest})")))?;
    let file = std::fs::File::open(&path).map_err(|e| ExportError::Io(format!("{}: {e}", path.display())))?;
    let mut bytes = Vec::new();
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| ExportError::Io(format!("{}: {e}", path.display())))?;
    if bytes.len() as u64 > max {
        return Err(refused(format!("the {what} ({digest}) is larger than {max} bytes")));
    }
    Ok(bytes)
}

/// Verifies a read export; see the module documentation. `asked` is the bundle the
/// operator named, if any; `now` is in seconds (approval expiry).
pub fn verify(
    layout: &ReadLayout,
    asked: Option<&BundleRef>,
    trust_file: &TrustFile,
    now: i64,
) -> Result<Offline, ExportError> {
    let roots: Vec<Descriptor> = layout
        .index
        .get("manifests")
        .cloned()
        .map(serde_json::from_value)
        .transpose()
        .map_err(|e| refused(format!("index.json: {e}")))?
        .unwrap_or_default();

    // 1. The trust material and the bundle index.
    let trust_roots: Vec<&Descriptor> = roots.iter().filter(|d| annotation(d, ANN_TRUST).is_some()).collect();
    let [trust_root] = trust_roots.as_slice() else {
        return Err(refused(format!(
            "the export is not a govstore bundle export: index.json names {} trust material blobs (annotated `{ANN_TRUST}`), not one",
            trust_roots.len()
        )));
    };
    if trust_root.media_type != TRUST_MEDIA_TYPE {
        return Err(refused(format!(
            "the trust material has media type `{}`, not `{TRUST_MEDIA_TYPE}`",
            trust_root.media_type
        )));
    }
    let trust_bytes = read_blob(layout, &trust_root.digest, MAX_TRUST_BYTES, "trust material")?;
    let version = serde_json::from_slice::<serde_json::Value>(&trust_bytes)
        .ok()
        .and_then(|v| v.get("version").and_then(serde_json::Value::as_u64));
    if version != Some(u64::from(TRUST_VERSION)) {
        return Err(refused(format!(
            "the trust material is format {}; this govstore reads format {TRUST_VERSION}",
            version.map_or_else(|| "unknown".to_owned(), |v| v.to_string())
        )));
    }
    let trust: TrustMaterial =
        serde_json::from_slice(&trust_bytes).map_err(|e| refused(format!("the trust material is not valid: {e}")))?;

    let bundle_roots: Vec<&Descriptor> = roots
        .iter()
        .filter(|d| d.media_type == media_types::OCI_INDEX && d.artifact_type.as_deref() == Some(bundle::ARTIFACT_TYPE))
        .collect();
    let [bundle_root] = bundle_roots.as_slice() else {
        return Err(refused(format!(
            "the export names {} bundle indexes in index.json; a bundle export names exactly one",
            bundle_roots.len()
        )));
    };
    let index = read_blob(
        layout,
        &bundle_root.digest,
        bundle::MAX_INDEX_BYTES as u64,
        "bundle index",
    )?;
    let b = Bundle::from_index_json(&index).map_err(|e| refused(format!("the bundle index: {e}")))?;
    let own = b.reference();
    if let Some(asked) = asked {
        let same =
            asked.country == own.country && asked.name == own.name && asked.version.is_none_or(|v| v == b.version);
        if !same {
            return Err(refused(format!("the export holds {own}, not {asked}")));
        }
    }
    if trust.bundle.reference != own.to_string() || trust.country.code != b.country.as_str() {
        return Err(refused(format!(
            "the trust material is for {} (country {}), but the export's bundle is {own}",
            trust.bundle.reference, trust.country.code
        )));
    }

    // 2. Bundle statements against the pinned keys.
    let cc = b.country;
    let pinned = trust_file.trust(cc).ok_or_else(|| {
        refused(format!(
            "no approver keys of {cc} are pinned, so no bundle of {cc} can be trusted; check the key ids against the ministry's own record, then `govstore trust add {cc} --key ID --key ID --threshold N`",
            cc = cc.as_str()
        ))
    })?;
    let pems: Vec<String> = trust
        .country
        .keys
        .iter()
        .filter_map(|k| k["public_key"].as_str().map(str::to_owned))
        .collect();
    let ct = CountryTrust::new(&pinned, cc, &pems).map_err(|_| {
        refused(format!(
            "none of the {} approver keys pinned for {} is among the {} keys the export carries, so its signatures cannot be checked",
            pinned.keys.len(),
            cc.as_str(),
            pems.len()
        ))
    })?;
    let asked_ref = asked.cloned().unwrap_or_else(|| own.clone());
    let verified = bundles::verify(&asked_ref, &index, &trust.bundle.envelopes, &ct)
        .map_err(|e| refused(format!("the bundle's signatures: {e}")))?;
    let bundle_cosign = bundle_cosign_signatures(layout, &roots, &verified.digest, &own.repository(), &pinned, &ct);

    // 3-4. Members.
    let mut members = Vec::new();
    let mut reports = Vec::new();
    let mut problems = Vec::new();
    let mut missing = Vec::new();
    let mut approvals = 0usize;
    for m in &b.members {
        let checked = check_member(layout, &roots, &trust, m)?;
        let mm = trust
            .members
            .iter()
            .find(|x| x.name == m.name.as_str() && x.digest == m.digest.to_string());
        let config = read_config(layout, m)?;
        let iv = IndexVersion {
            version: m.version.clone(),
            digest: m.digest.clone(),
            yanked: false,
            yank_reason: None,
            key_ids: vec![checked.signer.clone()],
            manifest: config,
            approvals: mm.map(|x| x.approvals.clone()).unwrap_or_default(),
        };
        let tally = ct.tally(m.name.as_str(), &iv, now);
        approvals += tally.approving_keys.len();
        let problem = tally.why_not(cc);
        if let Some(why) = &problem {
            let text = format!("{}@{}: {why}", m.name, m.version);
            if tally.revoked.is_none() && tally.expired.is_empty() {
                missing.push(text.clone());
            }
            problems.push(text);
        }
        reports.push(MemberReport {
            name: m.name.to_string(),
            version: m.version.to_string(),
            digest: m.digest.to_string(),
            publisher_key: checked.signer.clone(),
            approvals: tally.approving_keys.len(),
            problem,
        });
        members.push(checked);
    }
    let publisher_keys: BTreeSet<String> = members.iter().map(|c| c.signer.clone()).collect();
    let report = VerifyReport {
        bundle: own.to_string(),
        digest: verified.digest.to_string(),
        archive: layout.report(),
        bundle_statements: verified.signers.len(),
        threshold: ct.threshold,
        bundle_cosign_signatures: bundle_cosign,
        publisher_signatures: members.len(),
        approvals,
        country_keys: pinned.keys.iter().filter(|id| ct.key(id).is_some()).cloned().collect(),
        publisher_keys: publisher_keys.into_iter().collect(),
        members: reports,
        problems: problems.clone(),
    };
    Ok(Offline {
        verified,
        pinned,
        trust,
        members,
        problems,
        missing,
        report,
        roots,
    })
}

/// Pinned keys whose cosign simple signature of the bundle index (the `.sig` in the
/// export) verifies.
fn bundle_cosign_signatures(
    layout: &ReadLayout,
    roots: &[Descriptor],
    digest: &Digest,
    repository: &str,
    pinned: &Trust,
    ct: &CountryTrust,
) -> usize {
    let tag = digest.cosign_signature_tag();
    let Some(root) = roots.iter().find(|d| annotation(d, ANN_REF_NAME) == Some(tag.as_str())) else {
        return 0;
    };
    let Ok(bytes) = read_blob(layout, &root.digest, MAX_MANIFEST_BYTES as u64, "bundle signature") else {
        return 0;
    };
    let Ok(info) = parse_manifest(None, &bytes) else {
        return 0;
    };
    let Ok(layers) = signature_layers(&info) else {
        return 0;
    };
    let mut keys = BTreeSet::new();
    for (d, sig_b64) in layers {
        let Ok(payload) = read_blob(layout, &d.digest, MAX_PAYLOAD_LEN as u64, "signature payload") else {
            continue;
        };
        // A bundle's payload names its repository without a host (`sl/national-id`).
        let Ok(parsed) = govstore_signing::simple_signing::parse_payload(&payload) else {
            continue;
        };
        let named = parsed.docker_reference.as_str();
        if &parsed.manifest_digest != digest || !(named == repository || named.ends_with(&format!("/{repository}"))) {
            continue;
        }
        let Ok(sig) = base64::engine::general_purpose::STANDARD.decode(sig_b64.trim()) else {
            continue;
        };
        for id in &pinned.keys {
            if let Some(k) = ct.key(id)
                && k.verify(&payload, &sig).is_ok()
            {
                keys.insert(id.clone());
            }
        }
    }
    keys.len()
}

fn read_config(layout: &ReadLayout, m: &Member) -> Result<Manifest, ExportError> {
    let label = format!("{}@{}", m.name, m.version);
    let bytes = read_blob(
        layout,
        &m.digest,
        MAX_MANIFEST_BYTES as u64,
        &format!("manifest of {label}"),
    )?;
    let info = parse_manifest(None, &bytes).map_err(|e| refused(format!("{label}: its manifest: {e}")))?;
    let layers = package_layers(&info, m.name.as_str(), &m.version.to_string())
        .map_err(|e| refused(format!("{label} is not a govstore package: {e}")))?;
    let config = read_blob(
        layout,
        &layers.config.digest,
        MAX_CONFIG_BYTES,
        &format!("config of {label}"),
    )?;
    let text = String::from_utf8(config).map_err(|_| refused(format!("{label}: its config is not UTF-8")))?;
    let manifest = Manifest::from_canonical_json(&text).map_err(|e| refused(format!("{label}: its config: {e}")))?;
    let found = format!("{}@{}", manifest.package.name, manifest.package.version);
    if found != label {
        return Err(refused(format!("{label}: its config describes {found}")));
    }
    Ok(manifest)
}

/// A member's manifest and publisher signature, against the unrevoked keys of its
/// namespace in the trust material.
fn check_member(
    layout: &ReadLayout,
    roots: &[Descriptor],
    trust: &TrustMaterial,
    m: &Member,
) -> Result<CheckedMember, ExportError> {
    let label = format!("{}@{}", m.name, m.version);
    let bytes = read_blob(
        layout,
        &m.digest,
        MAX_MANIFEST_BYTES as u64,
        &format!("manifest of {label}"),
    )?;
    let info = parse_manifest(None, &bytes).map_err(|e| refused(format!("{label}: its manifest: {e}")))?;
    package_layers(&info, m.name.as_str(), &m.version.to_string())
        .map_err(|e| refused(format!("{label} is not a govstore package: {e}")))?;
    let mut blobs = vec![m.digest.clone()];
    blobs.extend(info.blobs.iter().map(|d| d.digest.clone()));

    let tag = m.digest.cosign_signature_tag();
    let sig_root = roots
        .iter()
        .find(|d| annotation(d, ANN_REF_NAME) == Some(tag.as_str()))
        .ok_or_else(|| refused(format!("{label}: the export holds no publisher signature ({tag})")))?;
    let sig_bytes = read_blob(
        layout,
        &sig_root.digest,
        MAX_MANIFEST_BYTES as u64,
        &format!("signature of {label}"),
    )?;
    let sig_info =
        parse_manifest(None, &sig_bytes).map_err(|e| refused(format!("{label}: its signature manifest: {e}")))?;
    if let Some(subject) = &sig_info.subject
        && subject.digest != m.digest
    {
        return Err(refused(format!(
            "{label}: its signature manifest's subject is {}, not {}",
            subject.digest, m.digest
        )));
    }
    blobs.push(sig_root.digest.clone());
    blobs.extend(sig_info.blobs.iter().map(|d| d.digest.clone()));

    let ns = m.name.namespace();
    let keys: Vec<(String, PublicKey, Option<String>, Option<String>)> = trust
        .publishers
        .iter()
        .filter(|p| p.namespace == ns)
        .flat_map(|p| p.keys.iter())
        .filter_map(|k| {
            let public = PublicKey::from_pem(&k.public_key).ok()?;
            Some((public.key_id(), public, k.revoked_at.clone(), k.revoke_reason.clone()))
        })
        .collect();
    if keys.is_empty() {
        return Err(refused(format!(
            "{label}: the export carries no signing key of namespace `{ns}`"
        )));
    }
    let layers = signature_layers(&sig_info).map_err(|e| refused(format!("{label}: {e}")))?;
    let mut first_error = None;
    let mut revoked = None;
    for (d, sig_b64) in layers {
        let payload = read_blob(
            layout,
            &d.digest,
            MAX_PAYLOAD_LEN as u64,
            &format!("signature payload of {label}"),
        )?;
        if let Err(e) = check_payload(&payload, &m.digest, m.name.as_str()) {
            first_error.get_or_insert(e.to_string());
            continue;
        }
        let Ok(sig) = base64::engine::general_purpose::STANDARD.decode(sig_b64.trim()) else {
            first_error.get_or_insert("the signature annotation is not base64".to_owned());
            continue;
        };
        for (id, public, revoked_at, reason) in &keys {
            if public.verify(&payload, &sig).is_err() {
                continue;
            }
            if let Some(at) = revoked_at {
                revoked.get_or_insert(format!(
                    "{label} is signed by key {id} of `{ns}`, which was revoked at {at}{}",
                    reason.as_ref().map(|r| format!(" ({r})")).unwrap_or_default()
                ));
                continue;
            }
            blobs.sort();
            blobs.dedup();
            return Ok(CheckedMember {
                member: m.clone(),
                signer: id.clone(),
                signer_key: public.clone(),
                signature: sig_root.digest.clone(),
                blobs,
            });
        }
    }
    Err(refused(revoked.unwrap_or_else(|| {
        format!(
            "{label}: the publisher signature does not verify against any key of namespace `{ns}` in the export{}",
            first_error.map(|e| format!(" ({e})")).unwrap_or_default()
        )
    })))
}

impl Offline {
    /// Moves every member's verified blobs from the staged export into `cache` (which
    /// should be new, on the same file system), with each signature reference and
    /// signer key, so that an offline install finds exactly what was verified.
    pub fn seed_cache(&self, layout: &ReadLayout, cache: &Cache) -> Result<(), ExportError> {
        let io = |e: std::io::Error| ExportError::Io(format!("cannot stage the verified blobs: {e}"));
        let cache_err = |e: crate::cache::CacheError| ExportError::Io(e.to_string());
        for c in &self.members {
            for d in &c.blobs {
                let dest = cache.blob_path(d);
                if dest.exists() {
                    continue;
                }
                let src = layout
                    .blob_path(d)
                    .ok_or_else(|| refused(format!("the export is incomplete: it lacks {d}")))?;
                if let Some(parent) = dest.parent() {
                    std::fs::create_dir_all(parent).map_err(io)?;
                }
                move_or_copy(&src, &dest).map_err(io)?;
            }
            cache
                .put_signature_ref(&c.member.digest, &c.signature)
                .map_err(cache_err)?;
            cache.put_key(&c.signer_key).map_err(cache_err)?;
        }
        Ok(())
    }

    /// The lockfile the bundle installs as: members from `source`, each locked to
    /// the publisher key whose signature verified, under the operator's pins.
    pub fn lockfile(&self, source: &Url) -> Lockfile {
        let signers: BTreeMap<&Digest, &str> = self
            .members
            .iter()
            .map(|c| (&c.member.digest, c.signer.as_str()))
            .collect();
        bundles::lockfile(
            &self.verified.bundle,
            source,
            |m| {
                signers
                    .get(&m.digest)
                    .map(|s| vec![(*s).to_owned()])
                    .unwrap_or_default()
            },
            self.pinned.clone(),
        )
    }
}

fn move_or_copy(src: &Path, dest: &Path) -> std::io::Result<()> {
    match std::fs::rename(src, dest) {
        Ok(()) => Ok(()),
        Err(_) => std::fs::copy(src, dest).map(|_| ()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::collections::BTreeMap;
    use std::io::{self, Read};

    use super::*;
    use crate::layout::{BlobEntry, BlobSource, Limits, read_layout, write_layout};

    struct Mem(BTreeMap<Digest, Vec<u8>>);

    impl BlobSource for Mem {
        fn open(&self, digest: &Digest) -> io::Result<Box<dyn Read + '_>> {
            let bytes = self.0.get(digest).ok_or_else(|| io::Error::other("missing"))?;
            Ok(Box::new(bytes.as_slice()))
        }
    }

    /// An export holding one blob named in index.json with `annotations`.
    fn export_with(blob: &[u8], media_type: &str, annotations: serde_json::Value) -> (tempfile::TempDir, ReadLayout) {
        let digest = Digest::of(blob);
        let index = serde_json::json!({
            "schemaVersion": 2,
            "manifests": [{"mediaType": media_type, "digest": digest.to_string(), "size": blob.len(), "annotations": annotations}],
        });
        let index = serde_json::to_vec(&index).unwrap();
        let source = Mem(BTreeMap::from([(digest.clone(), blob.to_vec())]));
        let entries = [BlobEntry {
            digest,
            size: blob.len() as u64,
        }];
        let mut tar = Vec::new();
        write_layout(&mut tar, &index, &entries, &source).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let layout = read_layout(tar.as_slice(), dir.path(), &Limits::default()).unwrap();
        (dir, layout)
    }

    #[test]
    fn an_export_without_trust_material_is_refused() {
        let (_dir, layout) = export_with(b"{}", "application/json", serde_json::json!({}));
        let err = verify(&layout, None, &TrustFile::default(), 0).unwrap_err();
        assert!(err.to_string().contains("0 trust material blobs"), "{err}");
    }

    #[test]
    fn trust_material_of_another_format_is_refused() {
        let (_dir, layout) = export_with(
            br#"{"version":2}"#,
            TRUST_MEDIA_TYPE,
            serde_json::json!({ ANN_TRUST: "2" }),
        );
        let err = verify(&layout, None, &TrustFile::default(), 0).unwrap_err();
        assert!(err.to_string().contains("format 2"), "{err}");
    }
}
