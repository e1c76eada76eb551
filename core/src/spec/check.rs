//! Checking the specs a package manifest names against the specs the registry knows:
//! every `[[implements]]` entry must name a known spec and one of its versions, and
//! every `[requires.specs]` requirement must name a known spec and match at least one of
//! its versions.

use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;

use super::model::{Spec, Status};
use crate::manifest::document::edit_distance;
use crate::manifest::{FieldError, FieldPath, Manifest};
use crate::package::SpecId;

/// How many similar ids an unknown-spec hint names at most.
const MAX_SUGGESTIONS: usize = 3;

/// The specs known to the registry (or to a test, or to an offline catalogue).
pub trait KnownSpecs {
    /// The spec with this id, if known.
    fn spec(&self, id: &SpecId) -> Option<&Spec>;

    /// Every known id, for suggesting one when an id is unknown.
    fn ids(&self) -> Vec<&SpecId>;
}

impl KnownSpecs for BTreeMap<SpecId, Spec> {
    fn spec(&self, id: &SpecId) -> Option<&Spec> {
        self.get(id)
    }

    fn ids(&self) -> Vec<&SpecId> {
        self.keys().collect()
    }
}

impl<S: BuildHasher> KnownSpecs for HashMap<SpecId, Spec, S> {
    fn spec(&self, id: &SpecId) -> Option<&Spec> {
        self.get(id)
    }

    fn ids(&self) -> Vec<&SpecId> {
        self.keys().collect()
    }
}

/// A list of specs, searched in order; for a few specs.
impl KnownSpecs for [Spec] {
    fn spec(&self, id: &SpecId) -> Option<&Spec> {
        self.iter().find(|s| s.id == *id)
    }

    fn ids(&self) -> Vec<&SpecId> {
        self.iter().map(|s| &s.id).collect()
    }
}

/// Checks that every spec `manifest` names in `implements` and `requires.specs` is known,
/// with a version that exists (`implements`) or that the requirement matches
/// (`requires.specs`; SemVer's rules, so `^1.1` does not match `2.0.0-alpha`). A draft or
/// deprecated spec version counts as existing.
///
/// Returns every problem, `implements` first, each naming its field:
///
/// ```text
/// implements[0].version: govstack/identity has no version 9.9.9; known versions: 0.8.0, 0.9.0, 1.0.0, 1.0.1, 1.0.2
/// requires.specs."govstack/identiy": unknown spec `govstack/identiy`
/// ```
///
/// The errors carry no location; [`crate::manifest::locate_in_toml`] adds it from the
/// manifest's text.
pub fn check_spec_references<K: KnownSpecs + ?Sized>(manifest: &Manifest, known: &K) -> Result<(), Vec<FieldError>> {
    let mut errors = Vec::new();
    let implements = FieldPath::root().key("implements");
    for (i, imp) in manifest.implements.iter().enumerate() {
        let entry = implements.index(i);
        let Some(spec) = known.spec(&imp.spec) else {
            errors.push(unknown_spec(entry.key("spec"), &imp.spec, known));
            continue;
        };
        if !spec.has_version(&imp.version) {
            errors.push(FieldError::new(
                entry.key("version"),
                format!(
                    "{} has no version {}; known versions: {}",
                    spec.id,
                    imp.version,
                    version_list(spec)
                ),
            ));
        }
    }
    let specs = FieldPath::root().key("requires").key("specs");
    for (id, req) in &manifest.requires.specs {
        let here = specs.key(id.as_str());
        let Some(spec) = known.spec(id) else {
            errors.push(unknown_spec(here, id, known));
            continue;
        };
        if !spec.versions.iter().any(|v| req.matches(&v.version)) {
            errors.push(FieldError::new(
                here,
                format!(
                    "no version of {} matches {req}; known versions: {}",
                    spec.id,
                    version_list(spec)
                ),
            ));
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}

/// `0.8.0, 0.9.0, 1.0.0, 3.0.0-alpha (draft)`.
fn version_list(spec: &Spec) -> String {
    spec.versions
        .iter()
        .map(|v| match v.status {
            Status::Released => v.version.to_string(),
            other => format!("{} ({other})", v.version),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn unknown_spec<K: KnownSpecs + ?Sized>(path: FieldPath, id: &SpecId, known: &K) -> FieldError {
    let error = FieldError::new(path, format!("unknown spec `{id}`"));
    let similar = similar_ids(id, &known.ids());
    match similar.as_slice() {
        [] => error.with_hint(
            "a spec must be published to the registry before packages can name it; \
             check the id, or publish the spec first",
        ),
        [one] => error.with_hint(format!("did you mean `{one}`?")),
        many => error.with_hint(format!(
            "did you mean one of {}?",
            many.iter().map(|id| format!("`{id}`")).collect::<Vec<_>>().join(", ")
        )),
    }
}

/// Known ids that `id` may be a misspelling of, closest first: within a third of its
/// length in edits (of its name, within the same namespace), the same name in another
/// namespace, or a name that contains the other.
fn similar_ids<'a>(id: &SpecId, known: &[&'a SpecId]) -> Vec<&'a SpecId> {
    let mut scored: Vec<(usize, &SpecId)> = known
        .iter()
        .filter_map(|k| {
            let (given, candidate) = if k.namespace() == id.namespace() {
                (id.name(), k.name())
            } else {
                (id.as_str(), k.as_str())
            };
            let distance = edit_distance(given, candidate);
            let close = distance <= (given.chars().count() / 3).max(1);
            let same_name = k.name() == id.name();
            let contains = k.name().contains(id.name()) || id.name().contains(k.name());
            (close || same_name || contains).then_some((distance, *k))
        })
        .collect();
    scored.sort();
    scored.truncate(MAX_SUGGESTIONS);
    scored.into_iter().map(|(_, k)| k).collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ids(list: &[&str]) -> Vec<SpecId> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    #[test]
    fn similar_ids_are_close_or_share_the_name() {
        let known = ids(&[
            "govstack/identity",
            "govstack/information-mediator",
            "govstack/digital-registries",
            "govstack/registration",
            "govstack/cfr",
        ]);
        let refs: Vec<&SpecId> = known.iter().collect();
        let similar = |id: &str| -> Vec<String> {
            similar_ids(&id.parse().unwrap(), &refs)
                .into_iter()
                .map(ToString::to_string)
                .collect()
        };
        assert_eq!(similar("govstack/identiy"), ["govstack/identity"]);
        assert_eq!(similar("mosip/identity"), ["govstack/identity"]);
        assert_eq!(similar("govstack/registries"), ["govstack/digital-registries"]);
        assert_eq!(similar("govstack/mediator"), ["govstack/information-mediator"]);
        assert!(similar("acme/payroll").is_empty());
    }
}
