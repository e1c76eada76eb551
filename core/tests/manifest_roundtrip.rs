//! Valid manifests: the catalogue examples parse, canonical JSON round-trips and is
//! stable byte for byte.

#![allow(clippy::unwrap_used)] // a failing test is meant to panic

use std::path::PathBuf;

use govstore_core::manifest::{How, Manifest, ManifestError};

fn catalog_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../catalog-examples")
}

/// Every `catalog-examples/*/govstore.toml`, sorted by directory name.
fn catalog_examples() -> Vec<(String, String)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(catalog_dir()).expect("catalog-examples/ exists") {
        let dir = entry.expect("readable directory entry").path();
        let manifest = dir.join("govstore.toml");
        if manifest.is_file() {
            let name = dir.file_name().expect("a name").to_string_lossy().into_owned();
            found.push((name, std::fs::read_to_string(&manifest).expect("readable manifest")));
        }
    }
    found.sort();
    found
}

#[test]
fn every_catalog_example_is_valid_and_round_trips() {
    let examples = catalog_examples();
    assert!(
        examples.len() >= 4,
        "expected at least 4 examples, found {}",
        examples.len()
    );
    for (dir, text) in examples {
        let m = Manifest::from_toml_str(&text).unwrap_or_else(|e| panic!("catalog-examples/{dir}: {e}"));
        let json = m.canonical_json();
        let back = Manifest::from_canonical_json(&json).unwrap_or_else(|e| panic!("{dir}: {e}"));
        assert_eq!(back, m, "{dir}");
        assert_eq!(back.canonical_json(), json, "{dir}");
        let readme = m
            .package
            .readme
            .as_ref()
            .map(|r| catalog_dir().join(&dir).join(r.as_str()));
        assert!(readme.is_some_and(|r| r.is_file()), "{dir}: readme missing");
    }
}

#[test]
fn catalog_examples_say_what_the_brief_says() {
    let examples = catalog_examples();
    let get = |dir: &str| {
        let text = &examples
            .iter()
            .find(|(d, _)| d == dir)
            .unwrap_or_else(|| panic!("{dir} missing"))
            .1;
        Manifest::from_toml_str(text).unwrap()
    };

    let xroad = get("x-road-security-server");
    assert_eq!(xroad.package.name.as_str(), "x-road/security-server");
    assert_eq!(xroad.package.version.to_string(), "7.8.0");
    assert_eq!(xroad.package.license.as_str(), "MIT");
    assert_eq!(
        (
            xroad.implements[0].spec.as_str(),
            xroad.implements[0].version.to_string().as_str()
        ),
        ("govstack/information-mediator", "1.1.1")
    );

    let esignet = get("mosip-esignet");
    assert_eq!(esignet.package.version.to_string(), "1.8.0");
    assert_eq!(esignet.package.license.as_str(), "MPL-2.0");
    assert_eq!(esignet.implements[0].version.to_string(), "1.0.2");
    let im: govstore_core::package::SpecId = "govstack/information-mediator".parse().unwrap();
    assert_eq!(esignet.requires.specs[&im].to_string(), "^1.1");
    let pg = "postgresql".parse().unwrap();
    assert_eq!(esignet.requires.platform[&pg].to_string(), ">=14");

    let opencrvs = get("opencrvs-core");
    assert_eq!(opencrvs.package.name.as_str(), "opencrvs/opencrvs-core");
    assert_eq!(opencrvs.implements[0].how, How::Adaptor);
    assert!(opencrvs.package.license.is_osi_approved());

    let n8n = get("n8n");
    assert_eq!(n8n.package.license.as_str(), "LicenseRef-Sustainable-Use-License");
    assert!(!n8n.package.license.is_osi_approved());
}

#[test]
fn canonical_json_is_stable() {
    let text = include_str!("../src/manifest/reference.toml");
    let m = Manifest::from_toml_str(text).unwrap_or_else(|e| panic!("{e}"));
    let json = m.canonical_json();
    insta::assert_snapshot!(json);
    insta::assert_snapshot!(m.digest().to_string());
}

/// Formatting, comments, key order and requirement spelling do not change the
/// canonical JSON; a change of meaning does.
#[test]
fn canonical_json_ignores_presentation() {
    let a = r#"
[package]
name = "mosip/esignet"
version = "1.8.0"
description = "eSignet"
license = "MPL-2.0"
end_of_life = 2027-12-31

[requires.platform]
redis = "*"
postgresql = "14"
"#;
    let b = r#"
# the same manifest, written differently
requires = { platform = { postgresql = "^14", redis = "*" } }

[package]
license = "MPL-2.0"
end_of_life = "2027-12-31"
description = "eSignet"
version = "1.8.0"
name = "mosip/esignet"
keywords = []
"#;
    let (a, b) = (Manifest::from_toml_str(a).unwrap(), Manifest::from_toml_str(b).unwrap());
    assert_eq!(a.canonical_json(), b.canonical_json());
    assert_eq!(
        a.canonical_json(),
        r#"{"package":{"description":"eSignet","end_of_life":"2027-12-31","license":"MPL-2.0","name":"mosip/esignet","version":"1.8.0"},"requires":{"platform":{"postgresql":"^14","redis":"*"}}}"#
    );
    let mut c = a.clone();
    c.package.description.push('.');
    assert_ne!(c.digest(), a.digest());
}

#[test]
fn from_canonical_json_refuses_non_canonical_and_invalid_json() {
    let m = Manifest::from_toml_str(include_str!("../src/manifest/reference.toml")).unwrap();
    let json = m.canonical_json();

    let pretty = serde_json::to_string_pretty(&serde_json::from_str::<serde_json::Value>(&json).unwrap()).unwrap();
    assert_eq!(Manifest::from_canonical_json(&pretty), Err(ManifestError::NotCanonical));

    let unknown = json.replacen("\"package\":{", "\"package\":{\"licence\":\"MIT\",", 1);
    let err = Manifest::from_canonical_json(&unknown).unwrap_err();
    let first = &err.field_errors()[0];
    assert_eq!(first.path.to_string(), "package");
    assert!(
        first.message.starts_with("unknown field `licence`"),
        "{}",
        first.message
    );
    assert_eq!(first.hint.as_deref(), Some("did you mean `license`?"));

    let bad_country = json.replacen("\"KE\"", "\"XX\"", 1);
    let err = Manifest::from_canonical_json(&bad_country).unwrap_err();
    assert_eq!(
        err.field_errors()[0].path.to_string(),
        "package.deployment_countries[0]"
    );

    let err = Manifest::from_canonical_json(&format!("{json} x")).unwrap_err();
    assert!(matches!(err, ManifestError::Syntax { format: "JSON", .. }), "{err:?}");
}

#[test]
fn validate_checks_manifests_built_in_code() {
    let mut m = Manifest::from_toml_str(include_str!("../src/manifest/reference.toml")).unwrap();
    assert_eq!(m.validate(), Ok(()));
    m.package.keywords = (0..11).map(|i| format!("k{i}")).collect();
    m.package.description.clear();
    let err = m.validate().unwrap_err();
    let paths: Vec<String> = err.field_errors().iter().map(|e| e.path.to_string()).collect();
    assert_eq!(paths, ["package.description", "package.keywords"]);
}

/// Every requirement spelling comes back from canonical JSON as the same requirement,
/// and the canonical spelling is a fixed point.
#[test]
fn version_requirements_round_trip() {
    let reqs = [
        ("*", "*"),
        ("1", "^1"),
        ("1.2", "^1.2"),
        ("=1.2.3", "=1.2.3"),
        (">=1.2.3-alpha.1, <2", ">=1.2.3-alpha.1, <2"),
        ("~1.2", "~1.2"),
        ("1.*", "1.*"),
        ("^0.9", "^0.9"),
        ("<= 3", "<=3"),
    ];
    for (written, canonical) in reqs {
        let text = format!(
            "[package]\nname = \"a/b\"\nversion = \"1.0.0-rc.1\"\ndescription = \"d\"\nlicense = \"MIT\"\n\
             [requires.platform]\nx = \"{written}\"\n"
        );
        let m = Manifest::from_toml_str(&text).unwrap_or_else(|e| panic!("{written}: {e}"));
        let json = m.canonical_json();
        assert!(json.contains(&format!("\"x\":\"{canonical}\"")), "{written}: {json}");
        assert_eq!(Manifest::from_canonical_json(&json).unwrap(), m, "{written}");
    }
    let empty = "[package]\nname = \"a/b\"\nversion = \"1.0.0\"\ndescription = \"d\"\nlicense = \"MIT\"\n\
                 [requires.platform]\nx = \"\"\n";
    let err = Manifest::from_toml_str(empty).unwrap_err().to_string();
    assert!(
        err.starts_with("requires.platform.x: invalid version requirement \"\""),
        "{err}"
    );
}
