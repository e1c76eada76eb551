//! Rules checked after a manifest has been deserialized: limits on what a publisher
//! writes, grammar of free-form words, duplicates, and rules across fields. All problems
//! are collected, not only the first.

use std::collections::BTreeSet;

use super::error::{FieldError, FieldPath};
use super::limits::*;
use super::model::{HarnessResult, Level, Manifest, Package};
use super::values::{Evidence, check_word};

/// Every problem found in `m`, table by table.
pub(crate) fn validate(m: &Manifest) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let root = FieldPath::root();
    package(&m.package, &root.key("package"), &mut errors);
    implements(m, &root.key("implements"), &mut errors);
    dependencies(m, &mut errors);
    let caps = root.key("provides").key("capabilities");
    words(
        &m.provides.capabilities,
        "capability",
        MAX_CAPABILITIES,
        MAX_CAPABILITY_LEN,
        &caps,
        &mut errors,
    );
    errors
}

fn package(p: &Package, path: &FieldPath, errors: &mut Vec<FieldError>) {
    if !p.version.build.is_empty() {
        errors.push(
            FieldError::new(
                path.key("version"),
                format!(
                    "version {} has build metadata `+{}`, which is not allowed",
                    p.version, p.version.build
                ),
            )
            .with_hint(
                "remove the `+...` part: OCI tags cannot contain `+`, and versions that differ only in \
                 build metadata would be the same version",
            ),
        );
    }

    if let Some(title) = &p.title {
        title_rules(title, &path.key("title"), errors);
    }

    let description = path.key("description");
    let chars = p.description.chars().count();
    if p.description.trim().is_empty() {
        errors.push(FieldError::new(description, "must not be empty"));
    } else if chars > MAX_DESCRIPTION_CHARS {
        errors.push(
            FieldError::new(
                description,
                format!("is {chars} characters long; the limit is {MAX_DESCRIPTION_CHARS}"),
            )
            .with_hint("keep the description to one paragraph and put the rest in the README"),
        );
    } else if p.description.chars().any(|c| c.is_control() && c != '\n') {
        errors.push(FieldError::new(description, "must not contain control characters"));
    }

    words(
        &p.keywords,
        "keyword",
        MAX_KEYWORDS,
        MAX_KEYWORD_LEN,
        &path.key("keywords"),
        errors,
    );
    words(
        &p.sectors,
        "sector",
        MAX_SECTORS,
        MAX_SECTOR_LEN,
        &path.key("sectors"),
        errors,
    );
    duplicates(p.sdgs.iter(), &path.key("sdgs"), errors);
    duplicates(p.deployment_countries.iter(), &path.key("deployment_countries"), errors);
    globs(&p.include, &path.key("include"), errors);
    globs(&p.exclude, &path.key("exclude"), errors);
}

/// `package.title`: one line of text, neither blank nor padded, at most
/// [`MAX_TITLE_CHARS`] characters.
fn title_rules(title: &str, path: &FieldPath, errors: &mut Vec<FieldError>) {
    let chars = title.chars().count();
    let problem = if title.trim().is_empty() {
        FieldError::new(path.clone(), "must not be empty")
            .with_hint("leave `title` out if the package has no other name")
    } else if title.chars().any(char::is_control) {
        FieldError::new(path.clone(), "must be one line, without control characters")
    } else if chars > MAX_TITLE_CHARS {
        FieldError::new(
            path.clone(),
            format!("is {chars} characters long; the limit is {MAX_TITLE_CHARS}"),
        )
        .with_hint("the title is the product's name; describe it in `description`")
    } else if title.trim() != title {
        FieldError::new(path.clone(), "must not start or end with spaces")
    } else {
        return;
    };
    errors.push(problem);
}

/// A list of words (keywords, sectors, capabilities): a count limit, the word grammar,
/// no duplicates.
fn words(
    list: &[String],
    what: &str,
    max_count: usize,
    max_len: usize,
    path: &FieldPath,
    errors: &mut Vec<FieldError>,
) {
    if list.len() > max_count {
        errors.push(FieldError::new(
            path.clone(),
            format!("has {} entries; the limit is {max_count}", list.len()),
        ));
    }
    for (i, word) in list.iter().enumerate() {
        if let Err(reason) = check_word(word, max_len) {
            errors.push(FieldError::new(
                path.index(i),
                format!("{word:?} is not a valid {what}: {reason}"),
            ));
        }
    }
    duplicates(list.iter(), path, errors);
}

/// Reports the second and later occurrences of each value.
fn duplicates<'a, T: Ord + std::fmt::Display + 'a>(
    items: impl Iterator<Item = &'a T>,
    path: &FieldPath,
    errors: &mut Vec<FieldError>,
) {
    let mut seen = BTreeSet::new();
    for (i, item) in items.enumerate() {
        if !seen.insert(item) {
            errors.push(FieldError::new(path.index(i), format!("`{item}` is listed twice")));
        }
    }
}

fn globs(list: &[String], path: &FieldPath, errors: &mut Vec<FieldError>) {
    if list.len() > MAX_GLOBS {
        errors.push(FieldError::new(
            path.clone(),
            format!("has {} patterns; the limit is {MAX_GLOBS}", list.len()),
        ));
    }
    for (i, glob) in list.iter().enumerate() {
        let problem = if glob.is_empty() {
            Some("the pattern is empty".to_owned())
        } else if glob.len() > MAX_GLOB_LEN {
            Some(format!("the pattern is longer than {MAX_GLOB_LEN} bytes"))
        } else if glob.chars().any(char::is_control) {
            Some("the pattern contains control characters".to_owned())
        } else if glob.starts_with('/') || glob.contains('\\') || glob.split('/').any(|p| p == "..") {
            Some(format!(
                "{glob:?} must be a `/`-separated pattern inside the package directory"
            ))
        } else {
            None
        };
        if let Some(message) = problem {
            errors.push(FieldError::new(path.index(i), message));
        }
    }
}

fn implements(m: &Manifest, path: &FieldPath, errors: &mut Vec<FieldError>) {
    if m.implements.len() > MAX_IMPLEMENTS {
        errors.push(FieldError::new(
            path.clone(),
            format!("has {} entries; the limit is {MAX_IMPLEMENTS}", m.implements.len()),
        ));
    }
    let mut seen = BTreeSet::new();
    for (i, imp) in m.implements.iter().enumerate() {
        let entry = path.index(i);
        if !seen.insert((&imp.spec, &imp.version)) {
            errors.push(FieldError::new(
                entry.clone(),
                format!("{} {} is listed twice", imp.spec, imp.version),
            ));
        }
        let compliance = entry.key("compliance");
        if let Some(c) = &imp.compliance.deployment {
            evidence_for_level(c.level, c.evidence.as_ref(), &compliance.key("deployment"), errors);
        }
        if let Some(c) = &imp.compliance.interface {
            let here = compliance.key("interface");
            evidence_for_level(c.level, c.evidence.as_ref(), &here, errors);
            if let Some(h) = &c.test_harness {
                let consistent = match c.level {
                    Level::NotApplicable => true,
                    Level::Level1 => h.result != HarnessResult::Failed,
                    Level::Level2 => h.result == HarnessResult::Passed,
                };
                if !consistent {
                    errors.push(
                        FieldError::new(
                            here.key("level"),
                            format!(
                                "{} is not consistent with the test-harness result `{}`",
                                c.level, h.result
                            ),
                        )
                        .with_hint(
                            "level-1 needs at least one service API to pass the test harness, \
                             level-2 all of them",
                        ),
                    );
                }
            }
        }
        if let Some(c) = &imp.compliance.requirements {
            let here = compliance.key("requirements");
            evidence_for_level(c.level, c.evidence.as_ref(), &here, errors);
            for (name, tally) in [("required", &c.required), ("recommended", &c.recommended)] {
                if let Some(t) = tally.filter(|t| t.met > t.total) {
                    errors.push(FieldError::new(
                        here.key(name),
                        format!("met ({}) is more than total ({})", t.met, t.total),
                    ));
                }
            }
        }
    }
}

fn evidence_for_level(level: Level, evidence: Option<&Evidence>, path: &FieldPath, errors: &mut Vec<FieldError>) {
    if level != Level::NotApplicable && evidence.is_none() {
        errors.push(
            FieldError::new(
                path.key("evidence"),
                format!("a {} claim needs evidence", level.as_str()),
            )
            .with_hint("link the compliance report, or describe how compliance was assessed"),
        );
    }
}

fn dependencies(m: &Manifest, errors: &mut Vec<FieldError>) {
    let own = &m.package.name;
    let requires = FieldPath::root().key("requires");
    let conflicts = FieldPath::root().key("conflicts");
    let maps = [
        (requires.key("specs"), m.requires.specs.len()),
        (requires.key("packages"), m.requires.packages.len()),
        (requires.key("platform"), m.requires.platform.len()),
        (conflicts.key("packages"), m.conflicts.packages.len()),
    ];
    for (path, len) in maps {
        if len > MAX_DEPENDENCIES {
            errors.push(FieldError::new(
                path,
                format!("has {len} entries; the limit is {MAX_DEPENDENCIES}"),
            ));
        }
    }
    if m.requires.packages.contains_key(own) {
        errors.push(FieldError::new(
            requires.key("packages").key(own.as_str()),
            "a package cannot require itself",
        ));
    }
    if m.conflicts.packages.contains_key(own) {
        errors.push(
            FieldError::new(
                conflicts.key("packages").key(own.as_str()),
                "a package cannot conflict with itself",
            )
            .with_hint("two versions of one package are never installed together in a stack"),
        );
    }
}
