//! The real example catalogue (`catalog-examples/*/govstore.toml`) resolved for the
//! three example stacks (`catalog-examples/stack-*.toml`): the outcomes are
//! snapshot-tested, the failure's report included.

#![allow(clippy::unwrap_used)] // a failing test is meant to panic

mod support;

use std::path::{Path, PathBuf};

use govstore_core::index::{Catalogue, IndexVersion};
use govstore_core::manifest::{Manifest, Url};
use govstore_core::stack::{Lockfile, Stack};
use govstore_resolver::{ResolveOptions, Resolver};

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../catalog-examples")
}

/// Every example package, each version with its manifest digest, none yanked.
fn example_catalogue() -> Catalogue {
    let mut catalogue = Catalogue::default();
    for entry in std::fs::read_dir(examples()).unwrap() {
        let path = entry.unwrap().path().join("govstore.toml");
        if !path.is_file() {
            continue;
        }
        let manifest = Manifest::from_toml_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        catalogue
            .packages
            .entry(manifest.package.name.clone())
            .or_default()
            .push(IndexVersion {
                version: manifest.package.version.clone(),
                digest: manifest.digest(),
                yanked: false,
                yank_reason: None,
                key_ids: vec!["sha256:example".to_owned()],
                manifest,
                approvals: Vec::new(),
            });
    }
    for versions in catalogue.packages.values_mut() {
        versions.sort_by(|a, b| a.version.cmp(&b.version));
    }
    catalogue
}

fn stack(name: &str) -> Stack {
    let text = std::fs::read_to_string(examples().join(name)).unwrap();
    Stack::from_toml_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn resolve(name: &str) -> String {
    let catalogue = example_catalogue();
    assert!(catalogue.packages.len() >= 20, "the example catalogue is missing");
    let stack = stack(name);
    match Resolver::new(&catalogue).resolve(&stack, &ResolveOptions::default()) {
        Ok(resolution) => {
            let source: Url = "https://registry.example.gov".parse().unwrap();
            let lock = resolution.to_lockfile(&stack, &source);
            assert_eq!(lock.stack, stack.digest());
            assert_eq!(Lockfile::from_toml_str(&lock.to_toml_string()).unwrap(), lock);
            assert_eq!(lock.packages.len(), resolution.to_install().count());
            support::summary(&resolution)
        }
        Err(e) => e.to_string(),
    }
}

#[test]
fn running_xroad_and_mosip_on_kubernetes() {
    let outcome = resolve("stack-xroad-mosip-kubernetes.toml");
    assert!(
        outcome.contains("x-road/security-server 7.8.0 (replaces 7.5.2 run by national-xroad)\n"),
        "{outcome}"
    );
    insta::assert_snapshot!(outcome);
}

#[test]
fn greenfield_on_vms() {
    let outcome = resolve("stack-greenfield-vms.toml");
    assert!(outcome.contains("mosip/esignet 1.8.0\n"), "{outcome}");
    insta::assert_snapshot!(outcome);
}

#[test]
fn no_copyleft_cannot_be_resolved() {
    let outcome = resolve("stack-no-copyleft.toml");
    assert!(outcome.starts_with("no set of packages fits the stack"), "{outcome}");
    assert!(outcome.contains("MPL-2.0 is copyleft"), "{outcome}");
    insta::assert_snapshot!(outcome);
}
