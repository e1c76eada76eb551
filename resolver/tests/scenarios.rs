//! Scenario files: `tests/scenarios/*.toml`, each a small catalogue, a stack profile and
//! the expected outcome, either the chosen set or a failure whose report is
//! snapshot-tested (`tests/snapshots/`).
//!
//! ```toml
//! description = "What the scenario shows."
//!
//! stack = """                      # before any table: a whole stack.toml
//! [stack]
//! ...
//! """
//!
//! [[package]]                      # one or more versions sharing their metadata
//! name = "x-road/security-server"
//! versions = ["7.5.2", "7.8.0"]    # or version = "..."
//! license = "MIT"                  # default Apache-2.0
//! yanked = false
//! implements = [{ spec = "govstack/information-mediator", version = "1.1.1", deployment = "level-1" }]
//! requires = { specs = { ... }, packages = { ... }, platform = { postgresql = ">=14" } }
//! conflicts = { "other/package" = "*" }
//!
//! [options]                        # optional
//! locked = { "a/b" = "1.0.0" }     # versions from a lockfile
//! approved = ["a/b@1.0.0"]         # approved package versions
//!
//! [expected]
//! packages = { "x-road/security-server" = "7.8.0" }   # the whole chosen set
//! specs = { "govstack/information-mediator" = "x-road/security-server 7.8.0" }
//! install = ["x-road/security-server"]                # optional: what is not already run
//! # or: failure = true (the report is snapshot-tested)
//! ```
//!
//! Every scenario is also resolved against the catalogue with its version lists
//! reversed, and must give the same result or report.

#![allow(clippy::unwrap_used)] // a failing test is meant to panic

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use govstore_core::stack::Stack;
use govstore_resolver::{Resolution, ResolveError, ResolveOptions, Resolver};
use serde::Deserialize;
use support::{PackageSpec, catalogue, digest_of, reversed, summary};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Scenario {
    description: String,
    #[serde(default, rename = "package")]
    packages: Vec<PackageSpec>,
    stack: String,
    #[serde(default)]
    options: OptionsSpec,
    expected: Expected,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct OptionsSpec {
    #[serde(default)]
    locked: BTreeMap<String, String>,
    #[serde(default)]
    approved: Vec<String>,
    /// `name@version` -> why it is not approved (revoked, expired), as a caller found.
    #[serde(default)]
    approval_notes: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expected {
    #[serde(default)]
    packages: Option<BTreeMap<String, String>>,
    #[serde(default)]
    specs: BTreeMap<String, String>,
    #[serde(default)]
    install: Option<Vec<String>>,
    #[serde(default)]
    failure: bool,
}

fn scenario_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

fn options(spec: &OptionsSpec) -> ResolveOptions {
    ResolveOptions {
        locked: spec
            .locked
            .iter()
            .map(|(k, v)| (k.parse().unwrap(), v.parse().unwrap()))
            .collect(),
        approved: spec
            .approved
            .iter()
            .map(|s| {
                let (name, version) = s.split_once('@').unwrap();
                digest_of(name, version)
            })
            .collect(),
        approval_notes: spec
            .approval_notes
            .iter()
            .map(|(k, v)| {
                let (name, version) = k.split_once('@').unwrap();
                (digest_of(name, version), v.clone())
            })
            .collect(),
        approval_check: None,
        max_steps: Some(100_000),
    }
}

/// The result as text: the summary, or the report.
fn outcome(result: &Result<Resolution, ResolveError>) -> String {
    match result {
        Ok(resolution) => summary(resolution),
        Err(e) => e.to_string(),
    }
}

/// Internal names must never reach people.
fn assert_plain(name: &str, report: &str) {
    for leak in [
        "+p", "+e", "absent", "0.0.0-0", "-0 ", "Presence", "∅", "root", "virtual",
    ] {
        assert!(!report.contains(leak), "{name}: the report shows `{leak}`:\n{report}");
    }
}

fn check(path: &Path) {
    let name = path.file_stem().unwrap().to_string_lossy().into_owned();
    let text = std::fs::read_to_string(path).unwrap();
    let scenario: Scenario = toml::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
    let stack = Stack::from_toml_str(&scenario.stack).unwrap_or_else(|e| panic!("{name}: stack: {e}"));
    let catalogue = catalogue(&scenario.packages);
    let options = options(&scenario.options);
    let result = Resolver::new(&catalogue).resolve(&stack, &options);

    let again = Resolver::new(&reversed(&catalogue)).resolve(&stack, &options);
    assert_eq!(
        outcome(&result),
        outcome(&again),
        "{name}: the result depends on the order of the catalogue's lists"
    );

    let expected = &scenario.expected;
    match result {
        Ok(resolution) => {
            assert!(
                !expected.failure,
                "{name}: expected a failure, got:\n{}",
                summary(&resolution)
            );
            let chosen: BTreeMap<String, String> = resolution
                .packages
                .iter()
                .map(|p| (p.name.to_string(), p.version.to_string()))
                .collect();
            if let Some(packages) = &expected.packages {
                assert_eq!(&chosen, packages, "{name}:\n{}", summary(&resolution));
            }
            for (spec, provider) in &expected.specs {
                let found = resolution
                    .specs
                    .iter()
                    .find(|s| s.spec.as_str() == spec)
                    .map(|s| s.provider.to_string());
                assert_eq!(
                    found.as_deref(),
                    Some(provider.as_str()),
                    "{name}: {spec}\n{}",
                    summary(&resolution)
                );
            }
            if let Some(install) = &expected.install {
                let to_install: Vec<String> = resolution.to_install().map(|p| p.name.to_string()).collect();
                assert_eq!(&to_install, install, "{name}:\n{}", summary(&resolution));
            }
            for p in &resolution.packages {
                assert!(!p.satisfies.is_empty(), "{name}: {} is there for no reason", p.name);
            }
        }
        Err(error) => {
            assert!(expected.failure, "{name}: unexpected failure:\n{error}");
            let report = error.to_string();
            assert_plain(&name, &report);
            insta::with_settings!({
                description => scenario.description.trim(),
                omit_expression => true,
                prepend_module_to_snapshot => false,
            }, {
                insta::assert_snapshot!(name.as_str(), report);
            });
        }
    }
}

#[test]
fn scenarios() {
    let files = scenario_files();
    assert!(
        files.len() >= 40,
        "expected at least 40 scenarios, found {}",
        files.len()
    );
    // Run them all, then list every failure, rather than stop at the first.
    let failed: Vec<String> = files
        .iter()
        .filter(|file| std::panic::catch_unwind(|| check(file)).is_err())
        .map(|file| file.display().to_string())
        .collect();
    assert!(
        failed.is_empty(),
        "{} scenario(s) failed:\n{}",
        failed.len(),
        failed.join("\n")
    );
}
