//! The closure check: everything `index.json` references, and everything those
//! manifests reference in turn, is in the export with the size it is declared with.
//!
//! Starting from `index.json`'s descriptors, every descriptor must name a blob the
//! export holds, with the declared size. A descriptor whose media type is a manifest
//! or image index (OCI or Docker) has its blob read (at most
//! [`Limits::max_manifest_size`] bytes) and parsed with
//! [`govstore_core::oci::parse_manifest`], and its `config`, `layers[]`,
//! `manifests[]` and `subject` are checked the same way.
//!
//! A `subject` must be present too: an export carries the referrers (signatures,
//! approvals) of manifests it contains, so a referrer whose subject is missing means
//! the export is incomplete. Blobs that nothing references are allowed and reported.
//! Each blob takes the media type of the first descriptor (depth first, in document
//! order) that names it.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::Read;
use std::path::Path;

use govstore_core::Digest;
use govstore_core::oci::{Descriptor, manifest_kind, media_types, parse_manifest};
use serde_json::Value;

use super::read::VerifiedBlob;
use super::{LayoutError, Limits};

/// Parses `index.json`: a JSON object with `schemaVersion` 2, an optional
/// `mediaType` that must be the OCI image index's, and a `manifests` array of
/// descriptors. Unknown fields are ignored. The error is a reason, for the caller to
/// wrap.
pub fn parse_index(bytes: &[u8]) -> Result<(Value, Vec<Descriptor>), String> {
    let doc: Value = serde_json::from_slice(bytes).map_err(|e| format!("it is not JSON ({e})"))?;
    let Value::Object(obj) = &doc else {
        return Err("it is not a JSON object".to_owned());
    };
    if obj.get("schemaVersion").and_then(Value::as_u64) != Some(2) {
        return Err("`schemaVersion` must be 2".to_owned());
    }
    match obj.get("mediaType") {
        None => {}
        Some(Value::String(s)) if s == media_types::OCI_INDEX => {}
        Some(_) => return Err(format!("`mediaType` must be `{}`", media_types::OCI_INDEX)),
    }
    let Some(Value::Array(items)) = obj.get("manifests") else {
        return Err("`manifests` must be an array".to_owned());
    };
    let descriptors = items
        .iter()
        .enumerate()
        .map(|(i, v)| {
            serde_json::from_value::<Descriptor>(v.clone())
                .map_err(|e| format!("`manifests[{i}]` is not a descriptor: {e}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((doc, descriptors))
}

/// Checks the closure of `roots` over `blobs` (the verified blobs, stored under
/// `blob_dir/<hex>`), setting each reached blob's media type.
pub fn check_closure(
    roots: &[Descriptor],
    blobs: &mut BTreeMap<Digest, VerifiedBlob>,
    blob_dir: &Path,
    limits: &Limits,
) -> Result<(), LayoutError> {
    check_closure_with(roots, blobs, blob_dir, limits, &mut |_| Ok(None))
}

/// A source of blobs the export lacks (a differential export's base): given the
/// descriptor of a missing blob, it stores the blob under `blob_dir/<hex>`, re-hashed,
/// and returns it, or returns `None` if it has no such blob.
pub type Supply<'a> = dyn FnMut(&Descriptor) -> Result<Option<VerifiedBlob>, LayoutError> + 'a;

/// [`check_closure`], taking each missing blob from `supply` when it has it.
pub fn check_closure_with(
    roots: &[Descriptor],
    blobs: &mut BTreeMap<Digest, VerifiedBlob>,
    blob_dir: &Path,
    limits: &Limits,
    supply: &mut Supply<'_>,
) -> Result<(), LayoutError> {
    let mut stack: Vec<(Descriptor, String)> = roots
        .iter()
        .rev()
        .map(|d| (d.clone(), "index.json".to_owned()))
        .collect();
    let mut parsed: BTreeSet<Digest> = BTreeSet::new();
    while let Some((d, referenced_by)) = stack.pop() {
        if !blobs.contains_key(&d.digest)
            && let Some(supplied) = supply(&d)?
        {
            blobs.insert(d.digest.clone(), supplied);
        }
        let Some(blob) = blobs.get_mut(&d.digest) else {
            return Err(LayoutError::MissingBlob {
                digest: d.digest,
                referenced_by,
            });
        };
        if blob.size != d.size {
            return Err(LayoutError::BlobSizeMismatch {
                digest: d.digest,
                declared: d.size,
                actual: blob.size,
                referenced_by,
            });
        }
        if blob.media_type.is_none() {
            blob.media_type = Some(d.media_type.clone());
        }
        if manifest_kind(&d.media_type).is_none() || !parsed.insert(d.digest.clone()) {
            continue;
        }
        let body = read_manifest(&d, blob_dir, limits)?;
        let info = parse_manifest(Some(&d.media_type), &body).map_err(|e| LayoutError::BadManifest {
            digest: d.digest.clone(),
            reason: e.to_string(),
        })?;
        let by = format!("manifest {}", d.digest);
        let children = info.subject.into_iter().chain(info.blobs).chain(info.manifests);
        let children: Vec<Descriptor> = children.collect();
        stack.extend(children.into_iter().rev().map(|c| (c, by.clone())));
    }
    Ok(())
}

fn read_manifest(d: &Descriptor, blob_dir: &Path, limits: &Limits) -> Result<Vec<u8>, LayoutError> {
    if d.size > limits.max_manifest_size {
        return Err(LayoutError::ManifestTooLarge {
            digest: d.digest.clone(),
            size: d.size,
            max: limits.max_manifest_size,
        });
    }
    let path = blob_dir.join(d.digest.hex());
    let staging = |source| LayoutError::Staging {
        path: path.display().to_string(),
        source,
    };
    let file = File::open(&path).map_err(staging)?;
    let mut body = Vec::new();
    file.take(limits.max_manifest_size)
        .read_to_end(&mut body)
        .map_err(staging)?;
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_json_must_be_an_image_index() {
        assert!(parse_index(br#"{"schemaVersion":2,"manifests":[]}"#).is_ok());
        assert!(parse_index(br#"{"schemaVersion":2,"manifests":[],"extra":1}"#).is_ok());
        assert!(parse_index(br#"{"schemaVersion":1,"manifests":[]}"#).is_err());
        assert!(parse_index(br#"{"schemaVersion":2}"#).is_err());
        assert!(parse_index(br#"{"schemaVersion":2,"manifests":[{"digest":"x"}]}"#).is_err());
        assert!(parse_index(b"[]").is_err());
        assert!(parse_index(b"not json").is_err());
    }
}
