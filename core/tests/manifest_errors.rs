//! Each kind of manifest error gives a message that names the field, with its line and
//! column, and a hint where there is a next step. The messages are snapshots: changing
//! one is a visible, reviewed change.

use govstore_core::manifest::{Manifest, ManifestError};

/// A valid manifest; each case below changes one line of it.
const BASE: &str = r#"[package]
name = "mosip/esignet"
version = "1.8.0"
description = "OpenID Connect based identity verification"
license = "MPL-2.0"
deployment_countries = ["PH"]
sdgs = [16]

[[implements]]
spec = "govstack/identity"
version = "1.0.2"
how = "native"

[requires.specs]
"govstack/information-mediator" = "^1.1"

[requires.platform]
postgresql = ">=14"
"#;

/// `BASE` with `from` replaced by `to`; panics if `from` is not there, so a case can
/// never silently test the unchanged base.
fn with(from: &str, to: &str) -> String {
    assert!(BASE.contains(from), "{from:?} is not in BASE");
    BASE.replacen(from, to, 1)
}

/// The error report as the CLI shows it: one line per error, then its hint.
fn report(text: &str) -> String {
    let err = Manifest::from_toml_str(text).expect_err("the manifest should be refused");
    render(&err)
}

fn render(err: &ManifestError) -> String {
    let mut out = String::new();
    match err {
        ManifestError::Invalid(errors) => {
            for e in errors {
                out.push_str(&format!("{e}\n"));
                if let Some(hint) = &e.hint {
                    out.push_str(&format!("hint: {hint}\n"));
                }
            }
        }
        other => out.push_str(&format!("{other}\n")),
    }
    out
}

#[test]
fn base_is_valid() {
    Manifest::from_toml_str(BASE).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn unknown_field() {
    insta::assert_snapshot!(report(&with("license = ", "licence = ")));
}

#[test]
fn unknown_top_level_table() {
    insta::assert_snapshot!(report(&format!("{BASE}\n[dependencies]\nfoo = \"1\"\n")));
}

#[test]
fn package_field_outside_package() {
    insta::assert_snapshot!(report(&format!("license = \"MIT\"\n{BASE}")));
}

#[test]
fn table_written_inside_another() {
    insta::assert_snapshot!(report(&format!("{BASE}provides = [\"oidc\"]\n")));
}

#[test]
fn unknown_enum_variant() {
    insta::assert_snapshot!(report(&with("how = \"native\"", "how = \"Native\"")));
}

#[test]
fn bad_spdx_expression() {
    insta::assert_snapshot!(report(&with("license = \"MPL-2.0\"", "license = \"Apache-2.0 OR\"")));
}

#[test]
fn unknown_spdx_identifier() {
    insta::assert_snapshot!(report(&with(
        "license = \"MPL-2.0\"",
        "license = \"Sustainable-Use-License\""
    )));
}

#[test]
fn bad_version_requirement() {
    let text = format!("{BASE}\n[requires.packages]\n\"x-road/security-server\" = \">=7.5 <<8\"\n");
    insta::assert_snapshot!(report(&text));
}

#[test]
fn short_version() {
    insta::assert_snapshot!(report(&with("version = \"1.0.2\"", "version = \"1.0\"")));
}

#[test]
fn bad_package_name() {
    insta::assert_snapshot!(report(&with("name = \"mosip/esignet\"", "name = \"MOSIP/eSignet\"")));
}

#[test]
fn bad_name_as_map_key() {
    insta::assert_snapshot!(report(&with(
        "\"govstack/information-mediator\" = \"^1.1\"",
        "\"information-mediator\" = \"^1.1\""
    )));
}

#[test]
fn bad_country_code() {
    insta::assert_snapshot!(report(&with("[\"PH\"]", "[\"PH\", \"ke\"]")));
}

#[test]
fn unassigned_country_code() {
    insta::assert_snapshot!(report(&with("[\"PH\"]", "[\"UK\"]")));
}

#[test]
fn bad_date() {
    insta::assert_snapshot!(report(&with(
        "sdgs = [16]",
        "sdgs = [16]\nend_of_life = \"2027-02-30\""
    )));
}

#[test]
fn datetime_instead_of_date() {
    insta::assert_snapshot!(report(&with(
        "sdgs = [16]",
        "sdgs = [16]\nend_of_life = 2027-02-28T12:00:00Z"
    )));
}

#[test]
fn bad_sdg() {
    insta::assert_snapshot!(report(&with("sdgs = [16]", "sdgs = [16, 18]")));
}

#[test]
fn missing_field() {
    insta::assert_snapshot!(report(&with("license = \"MPL-2.0\"\n", "")));
}

#[test]
fn wrong_type() {
    insta::assert_snapshot!(report(&with("sdgs = [16]", "sdgs = 16")));
}

#[test]
fn toml_syntax_error() {
    insta::assert_snapshot!(report(&with("how = \"native\"", "how = native")));
}

#[test]
fn javascript_url() {
    insta::assert_snapshot!(report(&with(
        "sdgs = [16]",
        "sdgs = [16]\nhomepage = \"javascript:alert(1)\""
    )));
}

#[test]
fn build_metadata_in_version() {
    insta::assert_snapshot!(report(&with("version = \"1.8.0\"", "version = \"1.8.0+build.7\"")));
}

/// The rules checked after deserialization report every problem, each with its line.
#[test]
fn semantic_errors_are_all_collected() {
    let text = with(
        "sdgs = [16]",
        &format!(
            "sdgs = [16, 16]\ndescription2 = 1\nkeywords = [\"OIDC\", \"identity\", \"identity\"]\nsectors = [{}]",
            (0..11).map(|i| format!("\"s{i}\"")).collect::<Vec<_>>().join(", ")
        ),
    )
    .replace("description2 = 1\n", "");
    let text = text.replace(
        "how = \"native\"",
        "how = \"native\"\ncompliance.interface = { level = \"level-2\", test_harness = { result = \"partial\" } }",
    );
    let text = format!(
        "{text}\n[requires.packages]\n\"mosip/esignet\" = \"*\"\n\n[provides]\ncapabilities = [\"openid-connect\", \"-x\"]\n"
    );
    insta::assert_snapshot!(report(&text));
}

#[test]
fn description_too_long() {
    let long = "An identity provider. ".repeat(30);
    insta::assert_snapshot!(report(&with(
        "description = \"OpenID Connect based identity verification\"",
        &format!("description = \"{long}\"")
    )));
}

#[test]
fn too_large() {
    let text = format!("{BASE}#{}\n", "x".repeat(200 * 1024));
    insta::assert_snapshot!(report(&text));
}
