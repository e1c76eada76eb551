//! `govstore manifest check`, run as a user would run it: the built binary, in a package
//! directory, with its stdout, stderr and exit code snapshotted.

#![allow(clippy::unwrap_used)] // a failing test is meant to panic

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Runs `govstore <args>` in `dir` and returns exit code, stdout and stderr as one text.
fn run(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_govstore"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("the govstore binary runs");
    format!(
        "exit: {}\n--- stdout\n{}--- stderr\n{}",
        out.status.code().map_or("signal".to_owned(), |c| c.to_string()),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

#[test]
fn summary_of_a_catalog_example() {
    let dir = repo().join("catalog-examples/mosip-esignet");
    insta::assert_snapshot!(run(&dir, &["manifest", "check"]));
}

#[test]
fn summary_of_a_non_open_licence() {
    let dir = repo().join("catalog-examples");
    insta::assert_snapshot!(run(&dir, &["manifest", "check", "n8n"]));
}

#[test]
fn json_is_the_canonical_json() {
    let dir = repo().join("catalog-examples/x-road-security-server");
    let out = run(&dir, &["manifest", "check", "--json"]);
    let text = std::fs::read_to_string(dir.join("govstore.toml")).unwrap();
    let expected = govstore_core::manifest::Manifest::from_toml_str(&text)
        .unwrap()
        .canonical_json();
    assert_eq!(out, format!("exit: 0\n--- stdout\n{expected}\n--- stderr\n"));
    insta::assert_snapshot!(out);
}

#[test]
fn unknown_field_with_hint() {
    insta::assert_snapshot!(run(&fixture("unknown-field"), &["manifest", "check"]));
}

#[test]
fn every_rule_violation_is_reported() {
    insta::assert_snapshot!(run(&fixture("invalid"), &["manifest", "check", "--json"]));
}

#[test]
fn files_the_manifest_names_must_exist() {
    insta::assert_snapshot!(run(&fixture("missing-readme"), &["manifest", "check"]));
}

#[test]
fn no_manifest_in_directory() {
    let empty = tempfile::tempdir().unwrap();
    insta::assert_snapshot!(run(empty.path(), &["manifest", "check"]));
}

#[test]
fn directory_does_not_exist() {
    let empty = tempfile::tempdir().unwrap();
    insta::assert_snapshot!(run(empty.path(), &["manifest", "check", "no-such-package"]));
}

#[test]
fn syntax_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("govstore.toml"),
        "[package]\nname = \"a/b\nversion = \"1.0.0\"\n",
    )
    .unwrap();
    insta::assert_snapshot!(run(dir.path(), &["manifest", "check"]));
}
