//! Rules checked after a stack profile has been deserialized: limits, names, duplicates
//! and rules across fields. Every problem is collected, not only the first.

use std::collections::BTreeSet;
use std::fmt::Display;

use semver::Version;

use super::limits::*;
use super::model::{Infrastructure, Policy, Stack, Wants};
use crate::manifest::values::check_word;
use crate::manifest::{ComponentName, FieldError, FieldPath};

/// Every problem found in `stack`, table by table.
pub(crate) fn validate(stack: &Stack) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let root = FieldPath::root();
    info(stack, &root.key("stack"), &mut errors);
    existing(stack, &root.key("existing"), &mut errors);
    infrastructure(&stack.infrastructure, &root.key("infrastructure"), &mut errors);
    policy(&stack.policy, &root.key("policy"), &mut errors);
    wants(&stack.wants, &root.key("wants"), &mut errors);
    trust(stack, &root.key("trust"), &mut errors);
    errors
}

/// `[trust]`: key ids well-formed and distinct, a threshold the keys can meet, and
/// both present when `approved_only` asks for approvals.
fn trust(stack: &Stack, path: &FieldPath, errors: &mut Vec<FieldError>) {
    let t = &stack.trust;
    if t.keys.len() > MAX_TRUSTED_KEYS {
        errors.push(FieldError::new(
            path.key("keys"),
            format!("has {} keys; the limit is {MAX_TRUSTED_KEYS}", t.keys.len()),
        ));
        return;
    }
    let mut seen = BTreeSet::new();
    for (i, k) in t.keys.iter().enumerate() {
        if k.parse::<crate::Digest>().is_err() {
            errors.push(
                FieldError::new(path.key("keys").index(i), format!("{:?} is not a key id", crate::digest::truncate(k)))
                    .with_hint("a key id is `sha256:` and 64 hex digits, as the country's page and `govstore key list --namespace CC` show"),
            );
        } else if !seen.insert(k.as_str()) {
            errors.push(FieldError::new(
                path.key("keys").index(i),
                format!("{k} is listed twice"),
            ));
        }
    }
    if let Some(n) = t.threshold
        && (n == 0 || n as usize > t.keys.len())
    {
        errors.push(FieldError::new(
            path.key("threshold"),
            format!(
                "is {n}; it must be at least 1 and at most the {} pinned keys",
                t.keys.len()
            ),
        ));
    }
    if stack.policy.approved_only && (t.keys.is_empty() || t.threshold.is_none()) {
        errors.push(
            FieldError::new(
                path.clone(),
                "approved_only needs the country's approver keys and a threshold in [trust]",
            )
            .with_hint("add [trust] with keys = [\"sha256:...\"] and threshold = 2; `govstore country show CC` prints the keys the registry lists for a country, to check against the ministry's own record"),
        );
    }
}

fn info(stack: &Stack, path: &FieldPath, errors: &mut Vec<FieldError>) {
    let name = &stack.stack.name;
    let path = path.key("name");
    let chars = name.chars().count();
    if name.trim().is_empty() {
        errors.push(FieldError::new(path, "must not be empty"));
    } else if chars > MAX_NAME_CHARS {
        errors.push(FieldError::new(
            path,
            format!("is {chars} characters long; the limit is {MAX_NAME_CHARS}"),
        ));
    } else if name.chars().any(char::is_control) {
        errors.push(FieldError::new(path, "must be one line without control characters"));
    }
}

fn existing(stack: &Stack, path: &FieldPath, errors: &mut Vec<FieldError>) {
    if stack.existing.len() > MAX_EXISTING {
        errors.push(FieldError::new(
            path.clone(),
            format!("has {} entries; the limit is {MAX_EXISTING}", stack.existing.len()),
        ));
        return;
    }
    let mut names = BTreeSet::new();
    let mut packages = BTreeSet::new();
    for (i, system) in stack.existing.iter().enumerate() {
        let path = path.index(i);
        if let Err(reason) = check_word(&system.name, MAX_SYSTEM_NAME_LEN) {
            errors.push(
                FieldError::new(path.key("name"), format!("{:?}: {reason}", system.name))
                    .with_hint("name systems with lowercase words joined by `-`, such as `national-xroad`"),
            );
        } else if !names.insert(system.name.as_str()) {
            errors.push(FieldError::new(
                path.key("name"),
                format!("`{}` names another existing system too", system.name),
            ));
        }
        if let Some(package) = system.package.as_ref().filter(|p| !packages.insert(p.as_str())) {
            errors.push(FieldError::new(
                path.key("package"),
                format!("another existing system is already `{package}`; a stack runs one version of a package"),
            ));
        }
        if let Some(version) = &system.version {
            no_build(version, &path.key("version"), errors);
            if system.package.is_none() {
                errors.push(
                    FieldError::new(path.key("version"), "a version needs `package`")
                        .with_hint("say which catalogue package this system is, or leave the version out"),
                );
            }
        }
        if system.implements.is_empty() && system.version.is_none() {
            errors.push(
                FieldError::new(path.clone(), format!("existing system `{}` says nothing the resolver can use", system.name))
                    .with_hint("list the specs it implements (`implements = [{ spec = \"...\", version = \"...\" }]`), or give `package` and `version`"),
            );
        }
        if system.implements.len() > MAX_EXISTING_IMPLEMENTS {
            errors.push(FieldError::new(
                path.key("implements"),
                format!(
                    "has {} entries; the limit is {MAX_EXISTING_IMPLEMENTS}",
                    system.implements.len()
                ),
            ));
        }
        let mut seen = BTreeSet::new();
        for (j, imp) in system.implements.iter().enumerate() {
            let path = path.key("implements").index(j);
            no_build(&imp.version, &path.key("version"), errors);
            if !seen.insert((imp.spec.as_str(), &imp.version)) {
                errors.push(FieldError::new(
                    path,
                    format!("{} {} is listed twice", imp.spec, imp.version),
                ));
            }
        }
    }
}

fn infrastructure(infra: &Infrastructure, path: &FieldPath, errors: &mut Vec<FieldError>) {
    count(infra.platform.len(), &path.key("platform"), errors);
    let Some(orchestrator) = infra.orchestrator else {
        return;
    };
    let kubernetes: ComponentName = match "kubernetes".parse() {
        Ok(name) => name,
        Err(_) => return,
    };
    let has_kubernetes = infra.platform.contains_key(&kubernetes);
    if orchestrator.runs_kubernetes() && !has_kubernetes {
        errors.push(
            FieldError::new(
                path.key("orchestrator"),
                format!("the orchestrator is {orchestrator} but `platform` gives no kubernetes version"),
            )
            .with_hint("add `kubernetes = \"1.29.4\"` (your version) under `[infrastructure.platform]`"),
        );
    }
    if !orchestrator.runs_kubernetes() && has_kubernetes {
        errors.push(FieldError::new(
            path.key("platform").key("kubernetes"),
            format!("the orchestrator is {orchestrator}, which does not run Kubernetes"),
        ));
    }
}

fn policy(policy: &Policy, path: &FieldPath, errors: &mut Vec<FieldError>) {
    let allow = path.key("allow_licenses");
    let deny = path.key("deny_licenses");
    count(policy.allow_licenses.len(), &allow, errors);
    count(policy.deny_licenses.len(), &deny, errors);
    count(policy.trusted_publishers.len(), &path.key("trusted_publishers"), errors);
    duplicates(policy.allow_licenses.iter(), &allow, errors);
    duplicates(policy.deny_licenses.iter(), &deny, errors);
    duplicates(
        policy.trusted_publishers.iter(),
        &path.key("trusted_publishers"),
        errors,
    );
    for (i, licence) in policy.allow_licenses.iter().enumerate() {
        if policy.deny_licenses.contains(licence) {
            errors.push(FieldError::new(
                allow.index(i),
                format!("{licence} is both allowed and denied"),
            ));
        } else if policy.deny_copyleft && spdx::license_id(licence.as_str()).is_some_and(|id| id.is_copyleft()) {
            errors.push(
                FieldError::new(
                    allow.index(i),
                    format!("{licence} is a copyleft licence, which `deny_copyleft` denies"),
                )
                .with_hint("remove it from `allow_licenses`, or set `deny_copyleft = false` and deny copyleft licences one by one"),
            );
        }
    }
}

fn wants(wants: &Wants, path: &FieldPath, errors: &mut Vec<FieldError>) {
    count(wants.specs.len(), &path.key("specs"), errors);
    count(wants.packages.len(), &path.key("packages"), errors);
    count(wants.pins.len(), &path.key("pins"), errors);
    count(wants.excludes.len(), &path.key("excludes"), errors);
    duplicates(wants.excludes.iter(), &path.key("excludes"), errors);
    for (i, name) in wants.excludes.iter().enumerate() {
        if wants.packages.contains_key(name) {
            errors.push(FieldError::new(
                path.key("excludes").index(i),
                format!("{name} is both wanted (`wants.packages`) and excluded"),
            ));
        }
    }
    for (name, version) in &wants.pins {
        let pin = path.key("pins").key(name.as_str());
        no_build(version, &pin, errors);
        if wants.excludes.contains(name) {
            errors.push(FieldError::new(
                pin.clone(),
                format!("{name} is both pinned and excluded"),
            ));
        }
        if let Some(req) = wants.packages.get(name) {
            let mut plain = version.clone();
            plain.pre = semver::Prerelease::EMPTY;
            if !req.matches(version) && !req.matches(&plain) {
                errors.push(FieldError::new(
                    pin,
                    format!("the pin {version} does not match `wants.packages` {req}"),
                ));
            }
        }
    }
}

fn no_build(version: &Version, path: &FieldPath, errors: &mut Vec<FieldError>) {
    if !version.build.is_empty() {
        errors.push(
            FieldError::new(
                path.clone(),
                format!("version {version} has build metadata, which is not allowed"),
            )
            .with_hint("remove the `+...` part"),
        );
    }
}

fn count(len: usize, path: &FieldPath, errors: &mut Vec<FieldError>) {
    if len > MAX_ENTRIES {
        errors.push(FieldError::new(
            path.clone(),
            format!("has {len} entries; the limit is {MAX_ENTRIES}"),
        ));
    }
}

fn duplicates<'a, T: Ord + Display + 'a>(
    items: impl Iterator<Item = &'a T>,
    path: &FieldPath,
    errors: &mut Vec<FieldError>,
) {
    let mut seen = BTreeSet::new();
    for (i, item) in items.enumerate() {
        if !seen.insert(item) {
            errors.push(FieldError::new(path.index(i), format!("{item} is listed twice")));
        }
    }
}
