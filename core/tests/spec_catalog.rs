//! The catalogue in `catalog-examples/` holds together: every spec file parses and says
//! what our sources say, every package directory follows the layout and naming scheme in
//! `catalog-examples/README.md`, and every spec a package implements or requires exists
//! in `catalog-examples/specs/` with a matching version.

#![allow(clippy::unwrap_used)] // a failing test is meant to panic

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use govstore_core::manifest::Manifest;
use govstore_core::package::SpecId;
use govstore_core::spec::{RequirementLevel, Spec, Status, check_spec_references};
use semver::Version;

fn catalog_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../catalog-examples")
}

/// Every `catalog-examples/specs/*.toml` as (file stem, parsed spec), sorted.
fn spec_files() -> Vec<(String, Spec)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(catalog_dir().join("specs")).expect("specs/ exists") {
        let path = entry.expect("readable directory entry").path();
        if path.extension().is_some_and(|e| e == "toml") {
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&path).expect("readable spec file");
            let spec = Spec::from_toml_str(&text).unwrap_or_else(|e| panic!("catalog-examples/specs/{stem}.toml: {e}"));
            found.push((stem, spec));
        }
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found
}

fn known_specs() -> BTreeMap<SpecId, Spec> {
    spec_files()
        .into_iter()
        .map(|(_, spec)| (spec.id.clone(), spec))
        .collect()
}

/// Every package directory (one with a `govstore.toml`) as (directory name, manifest).
fn packages() -> Vec<(String, Manifest)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(catalog_dir()).expect("catalog-examples/ exists") {
        let dir = entry.expect("readable directory entry").path();
        let manifest = dir.join("govstore.toml");
        if manifest.is_file() {
            let name = dir.file_name().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&manifest).expect("readable manifest");
            let m = Manifest::from_toml_str(&text).unwrap_or_else(|e| panic!("catalog-examples/{name}: {e}"));
            found.push((name, m));
        }
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found
}

fn versions(spec: &Spec) -> Vec<String> {
    spec.versions.iter().map(|v| v.version.to_string()).collect()
}

#[test]
fn every_spec_file_parses_and_round_trips() {
    let files = spec_files();
    let ids: Vec<&str> = files.iter().map(|(_, s)| s.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "govstack/cfr",
            "govstack/cloud-infrastructure",
            "govstack/cms",
            "govstack/consent",
            "govstack/digital-registries",
            "govstack/emarketplace",
            "govstack/esignature",
            "govstack/gis",
            "govstack/identity",
            "govstack/information-mediator",
            "govstack/messaging",
            "govstack/payments",
            "govstack/registration",
            "govstack/scheduler",
            "govstack/wallet",
            "govstack/workflow",
        ]
    );
    for (stem, spec) in &files {
        assert_eq!(
            spec.id.name(),
            stem,
            "specs/{stem}.toml: the file is named after the id"
        );
        let json = spec.canonical_json();
        let back = Spec::from_canonical_json(&json).unwrap_or_else(|e| panic!("{stem}: {e}"));
        assert_eq!(&back, spec, "{stem}");
        assert!(spec.latest_released().is_some(), "{stem}: no released version");
        for v in &spec.versions {
            for file in &v.openapi {
                let prefix = format!(
                    "https://github.com/GovStackWorkingGroup/bb-{}/blob/main/api/",
                    match spec.id.name() {
                        "cloud-infrastructure" => "cloud-infrastructure-hosting",
                        other => other,
                    }
                );
                assert!(
                    file.url.as_str().starts_with(&prefix),
                    "{stem} {}: {} is not in the BB repository's api/ folder",
                    v.version,
                    file.url
                );
            }
        }
    }
}

/// The versions and facts in `shared/data/govstack/README.md`.
#[test]
fn specs_say_what_the_sources_say() {
    let specs = known_specs();
    let get = |id: &str| &specs[&id.parse::<SpecId>().unwrap()];

    assert_eq!(
        versions(get("govstack/identity")),
        ["0.8.0", "0.9.0", "1.0.0", "1.0.1", "1.0.2"]
    );
    assert_eq!(
        versions(get("govstack/information-mediator")),
        ["0.8.0", "0.9.0", "1.0.0", "1.1.0", "1.1.1"]
    );
    let payments = get("govstack/payments");
    assert_eq!(versions(payments), ["0.9.2", "1.0.0", "2.0.0", "2.1.0", "3.0.0"]);
    let released: Vec<String> = payments
        .versions
        .iter()
        .filter_map(|v| v.released.map(|d| d.to_string()))
        .collect();
    assert_eq!(released, ["2022-05", "2023-10", "2024-07", "2025-12"]);
    assert_eq!(
        versions(get("govstack/registration")),
        ["0.7.0", "0.8.0", "0.9.0", "1.0.0"]
    );
    let registries = get("govstack/digital-registries");
    assert_eq!(
        versions(registries),
        ["0.7.0", "0.8.0", "0.9.0", "1.0.0", "2.0.0", "3.0.0-alpha"]
    );
    assert_eq!(
        registries.latest_released().map(|v| v.version.to_string()),
        Some("2.0.0".to_owned())
    );
    let consent = get("govstack/consent");
    assert_eq!(versions(consent), ["0.8.0", "0.9.0", "1.0.0", "1.1.0"]);
    assert_eq!(
        consent.version(&Version::new(1, 1, 0)).map(|v| v.status),
        Some(Status::Draft)
    );
    assert_eq!(versions(get("govstack/messaging")), ["0.9.0", "1.0.0"]);
    assert_eq!(versions(get("govstack/workflow")), ["0.9.2", "0.9.3", "1.0.0"]);
    assert_eq!(versions(get("govstack/scheduler")), ["0.9.0", "1.0.0", "1.1.0"]);
    assert_eq!(versions(get("govstack/esignature")), ["0.8.0", "0.9.0", "1.0.0"]);
    assert_eq!(versions(get("govstack/emarketplace")), ["0.1.0"]);
    assert_eq!(versions(get("govstack/gis")), ["0.1.0", "0.2.0", "0.3.0", "0.4.0"]);
    assert_eq!(versions(get("govstack/wallet")), ["0.1.0", "0.2.0", "1.0.0"]);
    assert_eq!(
        versions(get("govstack/cloud-infrastructure")),
        ["0.8.0", "0.9.0", "1.0.0", "1.0.1"]
    );
    assert_eq!(versions(get("govstack/cms")), ["0.1.0"]);

    let cfr = get("govstack/cfr");
    assert_eq!(versions(cfr), ["1.0.0", "2.0.0", "2.1.0"]);
    let cfr2 = cfr.version(&Version::new(2, 0, 0)).unwrap();
    let level = |id: &str| cfr2.requirements.iter().find(|r| r.id.as_str() == id).map(|r| r.level);
    for required in [
        "govstack-cfr-deployment#req-1",
        "govstack-cfr-deployment#req-2",
        "govstack-cfr-architecture#req-2",
        "govstack-cfr-security#req-1",
        "govstack-cfr-security#req-3",
        "govstack-cfr-security#req-16",
    ] {
        assert_eq!(level(required), Some(RequirementLevel::Required), "{required}");
    }
    for recommended in [
        "govstack-cfr-deployment#req-4",
        "govstack-cfr-security#req-15",
        "govstack-cfr-development#req-3",
    ] {
        assert_eq!(level(recommended), Some(RequirementLevel::Recommended), "{recommended}");
    }
}

/// The catalogue cannot rot: a spec version a package names must exist.
#[test]
fn every_package_names_known_spec_versions() {
    let specs = known_specs();
    let mut problems = Vec::new();
    let mut implementing = 0;
    for (dir, manifest) in packages() {
        if !manifest.implements.is_empty() {
            implementing += 1;
        }
        if let Err(errors) = check_spec_references(&manifest, &specs) {
            for e in errors {
                let hint = e.hint.as_ref().map(|h| format!(" (hint: {h})")).unwrap_or_default();
                problems.push(format!("catalog-examples/{dir}: {e}{hint}"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(implementing >= 15, "only {implementing} packages implement a spec");
}

/// What `catalog-examples/README.md` promises about directories.
#[test]
fn package_directories_follow_the_layout() {
    let packages = packages();
    assert!(
        packages.len() >= 20,
        "expected at least 20 packages, found {}",
        packages.len()
    );
    let mut seen = BTreeSet::new();
    let mut newest: BTreeMap<String, (String, Version)> = BTreeMap::new();
    for (dir, m) in &packages {
        let path = catalog_dir().join(dir);
        let name = &m.package.name;
        let version = &m.package.version;
        assert!(
            seen.insert((name.to_string(), version.clone())),
            "{dir}: {name} {version} is in two directories"
        );

        let readme = m.package.readme.as_ref().map(|r| path.join(r.as_str()));
        assert!(readme.as_deref().is_some_and(Path::is_file), "{dir}: readme missing");
        let deploy = path.join("deploy");
        let files = std::fs::read_dir(&deploy)
            .unwrap_or_else(|e| panic!("{dir}: deploy/: {e}"))
            .count();
        assert!(files > 0, "{dir}: deploy/ is empty");

        let base = if name.name() == name.namespace() || name.name().starts_with(&format!("{}-", name.namespace())) {
            name.name().to_owned()
        } else {
            format!("{}-{}", name.namespace(), name.name())
        };
        let line = format!("{base}-{}.{}", version.major, version.minor);
        assert!(
            *dir == base || *dir == line,
            "{dir}: expected `{base}` or `{line}` for {name} {version}"
        );
        if *dir == base {
            newest.insert(name.to_string(), (dir.clone(), version.clone()));
        }
    }
    for (dir, m) in &packages {
        let name = m.package.name.to_string();
        let (plain, newest_version) = newest
            .get(&name)
            .unwrap_or_else(|| panic!("{dir}: no plain directory for {name}"));
        assert!(
            m.package.version <= *newest_version,
            "{dir}: {} is newer than {newest_version} in {plain}",
            m.package.version
        );
    }
}
