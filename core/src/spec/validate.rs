//! Rules checked after a spec has been deserialized: limits, order and uniqueness of
//! versions, uniqueness of OpenAPI names and requirement ids. All problems are collected,
//! not only the first.

use std::collections::BTreeSet;

use super::limits::*;
use super::model::{Spec, SpecVersion};
use crate::manifest::{FieldError, FieldPath};

/// Every problem found in `spec`, in field order.
pub(crate) fn validate(spec: &Spec) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let root = FieldPath::root();
    errors.extend(text(&spec.title, MAX_TITLE_CHARS, false, &root.key("title")));
    errors.extend(
        text(&spec.description, MAX_DESCRIPTION_CHARS, true, &root.key("description"))
            .map(|e| e.with_hint("keep the description to one paragraph; the spec itself holds the rest")),
    );
    versions(&spec.versions, &root.key("versions"), &mut errors);
    errors
}

/// The problem with a free text, if any: blank, more than `max` characters, or control
/// characters (newlines are allowed where `multiline`).
fn text(value: &str, max: usize, multiline: bool, path: &FieldPath) -> Option<FieldError> {
    let chars = value.chars().count();
    let message = if value.trim().is_empty() {
        "must not be empty".to_owned()
    } else if chars > max {
        format!("is {chars} characters long; the limit is {max}")
    } else if value.chars().any(|c| c.is_control() && !(multiline && c == '\n')) {
        if multiline {
            "must not contain control characters other than newlines".to_owned()
        } else {
            "must be one line without control characters".to_owned()
        }
    } else {
        return None;
    };
    Some(FieldError::new(path.clone(), message))
}

fn too_many(len: usize, max: usize, path: &FieldPath, errors: &mut Vec<FieldError>) {
    if len > max {
        errors.push(FieldError::new(
            path.clone(),
            format!("has {len} entries; the limit is {max}"),
        ));
    }
}

fn versions(versions: &[SpecVersion], path: &FieldPath, errors: &mut Vec<FieldError>) {
    if versions.is_empty() {
        errors.push(
            FieldError::new(path.clone(), "a spec needs at least one version")
                .with_hint("add a `[[versions]]` entry with `version` and `status`"),
        );
    }
    too_many(versions.len(), MAX_VERSIONS, path, errors);
    for (i, v) in versions.iter().enumerate() {
        let entry = path.index(i);
        let here = entry.key("version");
        if !v.version.build.is_empty() {
            errors.push(
                FieldError::new(
                    here.clone(),
                    format!(
                        "version {} has build metadata `+{}`, which is not allowed",
                        v.version, v.version.build
                    ),
                )
                .with_hint(
                    "remove the `+...` part: versions that differ only in build metadata would be \
                     the same version",
                ),
            );
        }
        if let Some(previous) = i.checked_sub(1).map(|p| &versions[p].version) {
            if v.version == *previous {
                errors.push(FieldError::new(here.clone(), format!("{} is listed twice", v.version)));
            } else if v.version < *previous {
                errors.push(
                    FieldError::new(here.clone(), format!("{} is listed after {previous}", v.version))
                        .with_hint("list the versions oldest first, in SemVer order"),
                );
            }
        }

        let openapi = entry.key("openapi");
        too_many(v.openapi.len(), MAX_OPENAPI_FILES, &openapi, errors);
        let mut names = BTreeSet::new();
        for (j, file) in v.openapi.iter().enumerate() {
            let name = openapi.index(j).key("name");
            errors.extend(text(&file.name, MAX_OPENAPI_NAME_CHARS, false, &name));
            if !names.insert(file.name.as_str()) {
                errors.push(FieldError::new(
                    name,
                    format!("`{}` is listed twice in this version", file.name),
                ));
            }
        }

        let requirements = entry.key("requirements");
        too_many(v.requirements.len(), MAX_REQUIREMENTS, &requirements, errors);
        let mut ids = BTreeSet::new();
        for (j, requirement) in v.requirements.iter().enumerate() {
            let here = requirements.index(j);
            if !ids.insert(&requirement.id) {
                errors.push(FieldError::new(
                    here.key("id"),
                    format!("`{}` is listed twice in this version", requirement.id),
                ));
            }
            errors.extend(text(
                &requirement.text,
                MAX_REQUIREMENT_TEXT_CHARS,
                false,
                &here.key("text"),
            ));
        }
    }
}
