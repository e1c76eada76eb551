//! The public API around a resolution: lockfiles in and out, the step limit, and how
//! needs read.

#![allow(clippy::unwrap_used)] // a failing test is meant to panic

mod support;

use govstore_core::manifest::Url;
use govstore_core::stack::{Lockfile, Stack};
use govstore_resolver::{Need, ResolveError, ResolveOptions, Resolver, resolve};
use support::{ImplSpec, PackageSpec, RequiresSpec, catalogue};

fn package(name: &str, versions: &[&str]) -> PackageSpec {
    PackageSpec {
        name: name.to_owned(),
        versions: versions.iter().map(|v| (*v).to_owned()).collect(),
        ..PackageSpec::default()
    }
}

fn stack(wants: &str) -> Stack {
    Stack::from_toml_str(&format!(
        "[stack]\ncountry = \"KE\"\nname = \"Test\"\n[wants]\n{wants}\n"
    ))
    .unwrap()
}

#[test]
fn lockfile_round_trip_keeps_versions() {
    let mut esignet = package("mosip/esignet", &["1.7.1", "1.8.0"]);
    esignet.requires = RequiresSpec {
        specs: [("govstack/information-mediator".to_owned(), "^1.1".to_owned())].into(),
        ..RequiresSpec::default()
    };
    let mut xroad = package("x-road/security-server", &["7.8.0"]);
    xroad.implements = vec![ImplSpec {
        spec: "govstack/information-mediator".to_owned(),
        version: "1.1.1".to_owned(),
        ..ImplSpec::default()
    }];
    let catalogue = catalogue(&[esignet, xroad]);
    let stack = stack("packages = { \"mosip/esignet\" = \"*\" }");
    let resolution = resolve(&catalogue, &stack, &ResolveOptions::default()).unwrap();
    let source: Url = "https://registry.example.gov".parse().unwrap();
    let lock = resolution.to_lockfile(&stack, &source);
    let names: Vec<String> = lock
        .packages
        .iter()
        .map(|p| format!("{}@{}", p.name, p.version))
        .collect();
    assert_eq!(names, ["mosip/esignet@1.8.0", "x-road/security-server@7.8.0"]);
    assert_eq!(lock.stack, stack.digest());
    let read = Lockfile::from_toml_str(&lock.to_toml_string()).unwrap();
    assert_eq!(read, lock);

    // A lockfile holding the older eSignet keeps it.
    let mut older = read.clone();
    older.packages[0].version = "1.7.1".parse().unwrap();
    let options = ResolveOptions::default().with_lockfile(&older);
    let again = resolve(&catalogue, &stack, &options).unwrap();
    assert_eq!(
        again
            .get(&"mosip/esignet".parse().unwrap())
            .unwrap()
            .version
            .to_string(),
        "1.7.1"
    );

    let needs: Vec<String> = resolution
        .packages
        .iter()
        .flat_map(|p| p.satisfies.iter().map(Need::to_string))
        .collect();
    assert_eq!(
        needs,
        [
            "wanted by the stack (any version)",
            "implements govstack/information-mediator 1.1.1 for mosip/esignet 1.8.0 (^1.1)",
        ]
    );
    assert_eq!(resolution.specs[0].provider.to_string(), "x-road/security-server 7.8.0");
}

#[test]
fn step_limit_stops_resolution() {
    // A chain of packages, each needing the next: more steps than the limit allows.
    let mut packages = Vec::new();
    for i in 0..30 {
        let mut p = package(&format!("chain/p{i}"), &["1.0.0", "2.0.0"]);
        if i < 29 {
            p.requires.packages.insert(format!("chain/p{}", i + 1), "*".to_owned());
        }
        packages.push(p);
    }
    let catalogue = catalogue(&packages);
    let stack = stack("packages = { \"chain/p0\" = \"*\" }");
    let options = ResolveOptions {
        max_steps: Some(10),
        ..ResolveOptions::default()
    };
    let err = Resolver::new(&catalogue).resolve(&stack, &options).unwrap_err();
    assert!(matches!(err, ResolveError::TooComplex { .. }), "{err}");
    assert!(err.no_solution().is_none());
    assert!(
        err.to_string().starts_with("resolution stopped after 11 steps"),
        "{err}"
    );
    let ok = Resolver::new(&catalogue)
        .resolve(&stack, &ResolveOptions::default())
        .unwrap();
    assert_eq!(ok.packages.len(), 30);
    assert!(ok.packages.iter().all(|p| p.version.to_string() == "2.0.0"));
}

#[test]
fn reports_expose_explanation_and_hints() {
    let catalogue = catalogue(&[package("mosip/esignet", &["1.8.0"])]);
    let stack = stack("packages = { \"mosip/esignet\" = \"^2\" }");
    let err = resolve(&catalogue, &stack, &ResolveOptions::default()).unwrap_err();
    let report = err.no_solution().unwrap();
    assert_eq!(
        report.explanation(),
        "Because the stack wants mosip/esignet ^2.0.0 and no version of mosip/esignet matching ^2.0.0 exists (it has 1.8.0), the stack cannot be resolved."
    );
    assert!(report.hints().is_empty());
    assert!(
        err.to_string()
            .starts_with("no set of packages fits the stack \"Test\" (KE):\n\n  Because")
    );
}

/// An approval that holds only together with a package in a range: under
/// `approved_only` the resolver then requires that package in that range, and a stack
/// that cannot have it gets no solution.
#[test]
fn an_approval_condition_is_required_like_a_dependency() {
    use std::sync::Arc;

    use govstore_core::approval::Requires;
    use govstore_resolver::ApprovalCheck;

    let esignet = package("mosip/esignet", &["1.8.0"]);
    let identity = package("govstack/identity-adapter", &["1.0.3", "2.0.0"]);
    let catalogue = catalogue(&[esignet, identity]);
    let approved_stack = |wants: &str| {
        Stack::from_toml_str(&format!(
            "[stack]\ncountry = \"SL\"\nname = \"Test\"\n[policy]\napproved_only = true\n\
             [trust]\ncountry = \"SL\"\nkeys = [\"sha256:0000000000000000000000000000000000000000000000000000000000000001\"]\nthreshold = 1\n[wants]\n{wants}\n"
        ))
        .unwrap()
    };
    // eSignet is approved only together with the adapter 1.0.x; every version is approved.
    let check = ApprovalCheck(Arc::new(|v: &govstore_core::index::IndexVersion| {
        if v.manifest.package.name.as_str() == "mosip/esignet" {
            Ok(vec![Requires {
                package: "govstack/identity-adapter".parse().unwrap(),
                version: "~1.0".parse().unwrap(),
            }])
        } else {
            Ok(Vec::new())
        }
    }));
    let options = ResolveOptions {
        approval_check: Some(check),
        ..ResolveOptions::default()
    };

    let stack = approved_stack("packages = { \"mosip/esignet\" = \"*\" }");
    let r = resolve(&catalogue, &stack, &options).unwrap();
    let names: Vec<String> = r.packages.iter().map(|p| format!("{}@{}", p.name, p.version)).collect();
    assert_eq!(names, ["govstack/identity-adapter@1.0.3", "mosip/esignet@1.8.0"]);

    // Wanting the adapter 2.x as well cannot be met with eSignet's approval.
    let stack = approved_stack("packages = { \"mosip/esignet\" = \"*\", \"govstack/identity-adapter\" = \"^2\" }");
    let err = resolve(&catalogue, &stack, &options).unwrap_err();
    assert!(matches!(err, ResolveError::NoSolution(_)), "{err}");
    assert!(err.to_string().contains("govstack/identity-adapter"), "{err}");
}
