//! Each kind of spec-file error, and each kind of spec-reference error in a manifest,
//! gives a message that names the field (with its line and column for TOML) and a hint
//! where there is a next step. The messages are snapshots: changing one is a visible,
//! reviewed change.

#![allow(clippy::unwrap_used)] // a failing test is meant to panic

use std::collections::BTreeMap;

use govstore_core::manifest::{FieldError, Manifest, locate_in_toml};
use govstore_core::package::SpecId;
use govstore_core::spec::{Spec, SpecError, check_spec_references};

/// A valid spec file; each case below changes one line of it.
const BASE: &str = r#"id = "govstack/identity"
title = "Identity"
description = "Identify and verify people."
homepage = "https://github.com/GovStackWorkingGroup/bb-identity"

[[versions]]
version = "1.0.1"
status = "released"

[[versions]]
version = "1.0.2"
released = "2025-09"
status = "released"
openapi = [
  { name = "Identity Provider", url = "https://github.com/GovStackWorkingGroup/bb-identity/blob/main/api/Identity-Provider.yaml" },
]
requirements = [
  { id = "identity#req-1", level = "REQUIRED", text = "Authenticate people with OpenID Connect." },
]
"#;

/// `BASE` with `from` replaced by `to`; panics if `from` is not there, so a case can
/// never silently test the unchanged base.
fn with(from: &str, to: &str) -> String {
    assert!(BASE.contains(from), "{from:?} is not in BASE");
    BASE.replacen(from, to, 1)
}

/// One line per error, then its hint, as the CLI shows them.
fn render(errors: &[FieldError]) -> String {
    let mut out = String::new();
    for e in errors {
        out.push_str(&format!("{e}\n"));
        if let Some(hint) = &e.hint {
            out.push_str(&format!("hint: {hint}\n"));
        }
    }
    out
}

fn report(text: &str) -> String {
    match Spec::from_toml_str(text).expect_err("the spec should be refused") {
        SpecError::Invalid(errors) => render(&errors),
        other => format!("{other}\n"),
    }
}

#[test]
fn base_is_valid() {
    Spec::from_toml_str(BASE).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn unknown_field() {
    insta::assert_snapshot!(report(&with("title = ", "titel = ")));
}

#[test]
fn top_level_key_after_versions() {
    let text = with(
        "homepage = \"https://github.com/GovStackWorkingGroup/bb-identity\"\n",
        "",
    );
    insta::assert_snapshot!(report(&format!(
        "{text}homepage = \"https://github.com/GovStackWorkingGroup/bb-identity\"\n"
    )));
}

#[test]
fn version_key_outside_versions() {
    insta::assert_snapshot!(report(&with(
        "title = \"Identity\"",
        "title = \"Identity\"\nversion = \"1.0.2\""
    )));
}

#[test]
fn versions_written_as_a_table() {
    let text = "id = \"govstack/identity\"\ntitle = \"Identity\"\ndescription = \"d\"\n\n[versions]\nversion = \"1.0.2\"\nstatus = \"released\"\n";
    insta::assert_snapshot!(report(text));
}

#[test]
fn openapi_written_as_a_table() {
    let text =
        format!("{BASE}\n[[versions]]\nversion = \"1.1.0\"\nstatus = \"draft\"\n[versions.openapi]\nname = \"x\"\n");
    insta::assert_snapshot!(report(&text));
}

#[test]
fn short_version() {
    insta::assert_snapshot!(report(&with("version = \"1.0.2\"", "version = \"1.0\"")));
}

#[test]
fn build_metadata_in_version() {
    insta::assert_snapshot!(report(&with("version = \"1.0.2\"", "version = \"1.0.2+govstack\"")));
}

#[test]
fn versions_out_of_order_and_listed_twice() {
    let text = format!(
        "{BASE}\n[[versions]]\nversion = \"1.0.2\"\nstatus = \"released\"\n\n[[versions]]\nversion = \"1.0.0\"\nstatus = \"released\"\n"
    );
    insta::assert_snapshot!(report(&text));
}

#[test]
fn no_versions() {
    let text = "id = \"govstack/identity\"\ntitle = \"Identity\"\ndescription = \"d\"\nversions = []\n";
    insta::assert_snapshot!(report(text));
}

#[test]
fn missing_status() {
    insta::assert_snapshot!(report(&with("status = \"released\"\n", "")));
}

#[test]
fn unknown_status() {
    insta::assert_snapshot!(report(&with("status = \"released\"", "status = \"final\"")));
}

#[test]
fn requirement_level_in_lowercase() {
    insta::assert_snapshot!(report(&with("level = \"REQUIRED\"", "level = \"required\"")));
}

#[test]
fn bad_requirement_id() {
    insta::assert_snapshot!(report(&with("id = \"identity#req-1\"", "id = \"Identity req 1\"")));
}

#[test]
fn bad_release_date() {
    insta::assert_snapshot!(report(&with("released = \"2025-09\"", "released = \"2025-13\"")));
}

#[test]
fn quarter_instead_of_date() {
    insta::assert_snapshot!(report(&with("released = \"2025-09\"", "released = \"23Q4\"")));
}

#[test]
fn javascript_url() {
    insta::assert_snapshot!(report(&with(
        "url = \"https://github.com/GovStackWorkingGroup/bb-identity/blob/main/api/Identity-Provider.yaml\"",
        "url = \"javascript:alert(1)\""
    )));
}

#[test]
fn bad_spec_id() {
    insta::assert_snapshot!(report(&with(
        "id = \"govstack/identity\"",
        "id = \"GovStack Identity\""
    )));
}

#[test]
fn toml_syntax_error() {
    insta::assert_snapshot!(report(&with("released = \"2025-09\"", "released = 2025-09")));
}

#[test]
fn too_large() {
    insta::assert_snapshot!(report(&format!("{BASE}#{}\n", "x".repeat(600 * 1024))));
}

/// The rules checked after deserialization report every problem, each with its line.
#[test]
fn semantic_errors_are_all_collected() {
    let long = "x".repeat(301);
    let text = BASE
        .replace("title = \"Identity\"", "title = \"Identity\\tBB\"")
        .replace(
            "  { name = \"Identity Provider\", url = \"https://github.com/GovStackWorkingGroup/bb-identity/blob/main/api/Identity-Provider.yaml\" },\n",
            "  { name = \"Identity Provider\", url = \"https://github.com/GovStackWorkingGroup/bb-identity/blob/main/api/Identity-Provider.yaml\" },\n  { name = \"Identity Provider\", url = \"https://example.org/a.yaml\" },\n  { name = \" \", url = \"https://example.org/b.yaml\" },\n",
        )
        .replace(
            "text = \"Authenticate people with OpenID Connect.\" },\n",
            &format!(
                "text = \"Authenticate people with OpenID Connect.\" }},\n  {{ id = \"identity#req-1\", level = \"OPTIONAL\", text = \"{long}\" }},\n"
            ),
        );
    insta::assert_snapshot!(report(&text));
}

// Spec references in a package manifest, checked against the real catalogue specs.

fn catalogue() -> BTreeMap<SpecId, Spec> {
    [
        include_str!("../../catalog-examples/specs/identity.toml"),
        include_str!("../../catalog-examples/specs/information-mediator.toml"),
        include_str!("../../catalog-examples/specs/digital-registries.toml"),
        include_str!("../../catalog-examples/specs/registration.toml"),
    ]
    .into_iter()
    .map(|text| {
        let spec = Spec::from_toml_str(text).unwrap();
        (spec.id.clone(), spec)
    })
    .collect()
}

const MANIFEST: &str = r#"[package]
name = "mosip/esignet"
version = "1.8.0"
description = "OpenID Connect based identity verification"
license = "MPL-2.0"

[[implements]]
spec = "govstack/identity"
version = "1.0.2"
how = "native"

[requires.specs]
"govstack/information-mediator" = "^1.1"
"#;

/// The errors for `MANIFEST` with `from` replaced by `to`, located in its text.
fn check(from: &str, to: &str) -> String {
    assert!(MANIFEST.contains(from), "{from:?} is not in MANIFEST");
    check_text(&MANIFEST.replacen(from, to, 1))
}

fn check_text(text: &str) -> String {
    let manifest = Manifest::from_toml_str(text).unwrap_or_else(|e| panic!("{e}"));
    let mut errors = check_spec_references(&manifest, &catalogue()).expect_err("the check should fail");
    locate_in_toml(text, &mut errors);
    render(&errors)
}

#[test]
fn manifest_base_checks_out() {
    let manifest = Manifest::from_toml_str(MANIFEST).unwrap();
    assert_eq!(check_spec_references(&manifest, &catalogue()), Ok(()));
}

#[test]
fn implements_a_version_that_does_not_exist() {
    insta::assert_snapshot!(check("version = \"1.0.2\"", "version = \"9.9.9\""));
}

#[test]
fn implements_a_misspelt_spec() {
    insta::assert_snapshot!(check("spec = \"govstack/identity\"", "spec = \"govstack/identiy\""));
}

#[test]
fn implements_a_spec_in_the_wrong_namespace() {
    insta::assert_snapshot!(check("spec = \"govstack/identity\"", "spec = \"mosip/identity\""));
}

#[test]
fn requires_a_version_no_spec_version_matches() {
    insta::assert_snapshot!(check("= \"^1.1\"", "= \"^2\""));
}

#[test]
fn requires_an_unknown_spec() {
    insta::assert_snapshot!(check(
        "\"govstack/information-mediator\" = \"^1.1\"",
        "\"acme/payroll\" = \"^1\""
    ));
}

/// A requirement matched only by a draft (pre-release) version still matches it, by
/// SemVer's rules; `^2` does not match `3.0.0-alpha`.
#[test]
fn draft_versions_count_but_only_when_semver_admits_them() {
    let text = format!("{MANIFEST}\"govstack/digital-registries\" = \"^3.0.0-alpha\"\n");
    let manifest = Manifest::from_toml_str(&text).unwrap();
    assert_eq!(check_spec_references(&manifest, &catalogue()), Ok(()));
    let text = format!("{MANIFEST}\"govstack/digital-registries\" = \">=3\"\n");
    insta::assert_snapshot!(check_text(&text));
}

/// Every problem is reported, in document order once located.
#[test]
fn every_reference_problem_is_reported() {
    let text = format!(
        "{}\n[[implements]]\nspec = \"govstack/registries\"\nversion = \"1.0.0\"\nhow = \"adaptor\"\n\n[[implements]]\nspec = \"govstack/registration\"\nversion = \"0.6.0\"\nhow = \"adaptor\"\n",
        MANIFEST.replace("\"^1.1\"", "\"~1.2\"")
    );
    insta::assert_snapshot!(check_text(&text));
}
