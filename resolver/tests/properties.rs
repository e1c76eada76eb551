//! Property tests on small random catalogues and stacks:
//!
//! - every solution the resolver finds satisfies every constraint, as judged by a
//!   checker written here, independently of the solver (plain `VersionReq::matches` and
//!   the stack's rules read straight from the profile);
//! - whenever an exhaustive search over every assignment finds a solution, the
//!   resolver finds one too;
//! - the result does not depend on the order of the catalogue's lists.
//!
//! The catalogues have up to four packages of up to three versions, with dependencies,
//! conflicts, one spec with implementations at two spec versions, platform
//! requirements, licences the policy may deny, yanks and pins; stacks may run an
//! existing system and an existing package version.

#![allow(clippy::unwrap_used)] // a failing test is meant to panic

mod support;

use std::collections::BTreeMap;

use govstore_core::index::Catalogue;
use govstore_core::manifest::Manifest;
use govstore_core::package::{PackageName, SpecId};
use govstore_core::stack::Stack;
use govstore_resolver::{Resolution, ResolveOptions, Resolver, SpecProvider};
use proptest::prelude::*;
use semver::{Version, VersionReq};
use support::{PackageSpec, RequiresSpec, catalogue, reversed};

const NAMES: [&str; 4] = ["p/a", "p/b", "p/c", "p/d"];
const VERSIONS: [&str; 4] = ["1.0.0", "1.1.0", "2.0.0", "2.1.0"];
const REQS: [&str; 7] = ["*", "^1", "^2", ">=1.1", "<2", "=1.0.0", ">=2.1"];
const SPEC: &str = "s/x";
const SPEC_VERSIONS: [&str; 2] = ["1.0.0", "2.0.0"];

#[derive(Debug, Clone)]
struct GenVersion {
    version: usize,
    deps: Vec<(usize, usize)>,
    conflicts: Vec<(usize, usize)>,
    spec_req: Option<usize>,
    implements: Option<usize>,
    kubernetes: Option<usize>,
    agpl: bool,
    yanked: bool,
}

#[derive(Debug, Clone)]
struct GenStack {
    wants: Vec<(usize, usize)>,
    want_spec: Option<usize>,
    deny_agpl: bool,
    existing_spec: Option<usize>,
    existing_package: Option<(usize, usize)>,
    pin: Option<(usize, usize)>,
}

fn gen_version() -> impl Strategy<Value = GenVersion> {
    (
        0..VERSIONS.len(),
        prop::collection::vec((0..NAMES.len(), 0..REQS.len()), 0..=2),
        prop::collection::vec((0..NAMES.len(), 0..REQS.len()), 0..=1),
        prop::option::weighted(0.3, 0..REQS.len()),
        prop::option::weighted(0.4, 0..SPEC_VERSIONS.len()),
        prop::option::weighted(0.3, 0..2usize),
        prop::bool::weighted(0.2),
        prop::bool::weighted(0.1),
    )
        .prop_map(
            |(version, deps, conflicts, spec_req, implements, kubernetes, agpl, yanked)| GenVersion {
                version,
                deps,
                conflicts,
                spec_req,
                implements,
                kubernetes,
                agpl,
                yanked,
            },
        )
}

fn gen_catalogue() -> impl Strategy<Value = Vec<Vec<GenVersion>>> {
    prop::collection::vec(prop::collection::vec(gen_version(), 1..=3), 2..=NAMES.len())
}

fn gen_stack() -> impl Strategy<Value = GenStack> {
    (
        prop::collection::vec((0..NAMES.len(), 0..REQS.len()), 1..=2),
        prop::option::weighted(0.4, 0..REQS.len()),
        any::<bool>(),
        prop::option::weighted(0.3, 0..SPEC_VERSIONS.len()),
        prop::option::weighted(0.2, (0..NAMES.len(), 0..VERSIONS.len())),
        prop::option::weighted(0.2, (0..NAMES.len(), 0..VERSIONS.len())),
    )
        .prop_map(
            |(wants, want_spec, deny_agpl, existing_spec, existing_package, pin)| GenStack {
                wants,
                want_spec,
                deny_agpl,
                existing_spec,
                existing_package,
                pin,
            },
        )
}

/// The catalogue's package specs: one per version, versions of a package distinct.
fn package_specs(generated: &[Vec<GenVersion>]) -> Vec<PackageSpec> {
    let mut out = Vec::new();
    for (p, versions) in generated.iter().enumerate() {
        let mut seen = Vec::new();
        for v in versions {
            if seen.contains(&v.version) {
                continue;
            }
            seen.push(v.version);
            let mut requires = RequiresSpec::default();
            for (dep, req) in &v.deps {
                if *dep != p && *dep < generated.len() {
                    requires.packages.insert(NAMES[*dep].to_owned(), REQS[*req].to_owned());
                }
            }
            if let Some(req) = v.spec_req {
                requires.specs.insert(SPEC.to_owned(), REQS[req].to_owned());
            }
            if let Some(k) = v.kubernetes {
                requires
                    .platform
                    .insert("kubernetes".to_owned(), [">=1.27", ">=1.29"][k].to_owned());
            }
            let conflicts = v
                .conflicts
                .iter()
                .filter(|(c, _)| *c != p && *c < generated.len())
                .map(|(c, r)| (NAMES[*c].to_owned(), REQS[*r].to_owned()))
                .collect();
            out.push(PackageSpec {
                name: NAMES[p].to_owned(),
                version: Some(VERSIONS[v.version].to_owned()),
                license: Some(if v.agpl { "AGPL-3.0-only" } else { "MIT" }.to_owned()),
                yanked: v.yanked,
                implements: v
                    .implements
                    .map(|s| support::ImplSpec {
                        spec: SPEC.to_owned(),
                        version: SPEC_VERSIONS[s].to_owned(),
                        ..Default::default()
                    })
                    .into_iter()
                    .collect(),
                requires,
                conflicts,
                ..Default::default()
            });
        }
    }
    out
}

fn stack_text(s: &GenStack, packages: usize) -> String {
    let mut text = String::from("[stack]\ncountry = \"KE\"\nname = \"Random\"\n");
    if let Some(v) = s.existing_spec {
        text.push_str(&format!(
            "[[existing]]\nname = \"spec-system\"\nimplements = [{{ spec = \"{SPEC}\", version = \"{}\" }}]\n",
            SPEC_VERSIONS[v]
        ));
    }
    if let Some((p, v)) = s.existing_package.filter(|(p, _)| *p < packages) {
        text.push_str(&format!(
            "[[existing]]\nname = \"running\"\npackage = \"{}\"\nversion = \"{}\"\n",
            NAMES[p], VERSIONS[v]
        ));
    }
    text.push_str("[infrastructure.platform]\nkubernetes = \"1.28.2\"\n");
    if s.deny_agpl {
        text.push_str("[policy]\ndeny_licenses = [\"AGPL-3.0-only\"]\n");
    }
    text.push_str("[wants]\n");
    let wants: BTreeMap<&str, &str> = s
        .wants
        .iter()
        .filter(|(p, _)| *p < packages)
        .map(|(p, r)| (NAMES[*p], REQS[*r]))
        .collect();
    let pin = s.pin.filter(|(p, _)| *p < packages);
    let entries: Vec<String> = wants.iter().map(|(n, r)| format!("{n:?} = {r:?}")).collect();
    text.push_str(&format!("packages = {{ {} }}\n", entries.join(", ")));
    if let Some(r) = s.want_spec {
        text.push_str(&format!("specs = {{ {SPEC:?} = {:?} }}\n", REQS[r]));
    }
    if let Some((p, v)) = pin {
        text.push_str(&format!("pins = {{ {:?} = {:?} }}\n", NAMES[p], VERSIONS[v]));
    }
    text
}

/// A candidate assignment: package -> version, and who provides the spec.
#[derive(Debug, Clone)]
struct Assignment {
    packages: BTreeMap<PackageName, Version>,
    spec_provider: Option<Provider>,
}

#[derive(Debug, Clone, PartialEq)]
enum Provider {
    Existing,
    Package(PackageName),
}

/// The existing version of `name` the stack runs, if any.
fn running(stack: &Stack, name: &PackageName) -> Option<Version> {
    stack
        .existing
        .iter()
        .find(|e| e.package.as_ref() == Some(name))
        .and_then(|e| e.version.clone())
}

fn manifest_of<'c>(catalogue: &'c Catalogue, name: &PackageName, version: &Version) -> Option<(&'c Manifest, bool)> {
    catalogue
        .packages
        .get(name)?
        .iter()
        .find(|e| &e.version == version)
        .map(|e| (&e.manifest, e.yanked))
}

/// Whether `assignment` satisfies every constraint of the stack; `Err` says which not.
/// Written from the rules, not from the resolver's code.
fn check(catalogue: &Catalogue, stack: &Stack, a: &Assignment) -> Result<(), String> {
    let spec: SpecId = SPEC.parse().unwrap();
    let mut spec_reqs: Vec<VersionReq> = stack.wants.specs.get(&spec).cloned().into_iter().collect();
    for (name, req) in &stack.wants.packages {
        match a.packages.get(name) {
            Some(v) if req.matches(v) => {}
            other => return Err(format!("want {name} {req}, got {other:?}")),
        }
    }
    for (name, version) in &a.packages {
        if stack.wants.excludes.contains(name) {
            return Err(format!("{name} is excluded"));
        }
        if let Some(pin) = stack.wants.pins.get(name)
            && pin != version
        {
            return Err(format!("{name} {version} is not the pin {pin}"));
        }
        for (other, v) in &a.packages {
            if other == name {
                continue;
            }
            let installed = running(stack, other).as_ref() != Some(v);
            if let Some((m, _)) = manifest_of(catalogue, other, v).filter(|_| installed)
                && let Some(req) = m.conflicts.packages.get(name)
                && req.matches(version)
            {
                return Err(format!("{other} {v} conflicts with {name} {version}"));
            }
        }
        if running(stack, name).as_ref() == Some(version) {
            continue; // the stack runs it: nothing to install, nothing to check
        }
        let Some((m, yanked)) = manifest_of(catalogue, name, version) else {
            return Err(format!("{name} {version} does not exist"));
        };
        if yanked && stack.wants.pins.get(name) != Some(version) {
            return Err(format!("{name} {version} is yanked"));
        }
        let denied = |id: &str| stack.policy.deny_licenses.iter().any(|l| l.as_str() == id);
        let licence_ok = m
            .package
            .license
            .expression()
            .evaluate(|r| r.license.id().is_none_or(|id| !denied(id.name)));
        if !licence_ok {
            return Err(format!("{name} {version}: licence"));
        }
        for (component, req) in &m.requires.platform {
            let have = stack
                .infrastructure
                .platform
                .get(component)
                .map(|p| p.version().clone());
            if !have.is_some_and(|h| req.matches(&h)) {
                return Err(format!("{name} {version}: platform {component} {req}"));
            }
        }
        for (dep, req) in &m.requires.packages {
            match a.packages.get(dep) {
                Some(v) if req.matches(v) => {}
                other => {
                    return Err(format!("{name} {version} requires {dep} {req}, got {other:?}"));
                }
            }
        }
        spec_reqs.extend(m.requires.specs.get(&spec).cloned());
    }
    if spec_reqs.is_empty() {
        return Ok(());
    }
    let offered: Vec<Version> = match &a.spec_provider {
        None => return Err("a spec is needed and nobody provides it".to_owned()),
        Some(Provider::Existing) => stack
            .existing
            .iter()
            .flat_map(|e| e.implements.iter())
            .filter(|i| i.spec == spec)
            .map(|i| i.version.clone())
            .collect(),
        Some(Provider::Package(p)) => {
            let Some(v) = a.packages.get(p) else {
                return Err(format!("spec provider {p} is not chosen"));
            };
            manifest_of(catalogue, p, v)
                .map(|(m, _)| {
                    m.implements
                        .iter()
                        .filter(|i| i.spec == spec)
                        .map(|i| i.version.clone())
                        .collect()
                })
                .unwrap_or_default()
        }
    };
    if offered.iter().any(|sv| spec_reqs.iter().all(|r| r.matches(sv))) {
        Ok(())
    } else {
        Err(format!("the spec provider offers {offered:?}, needed {spec_reqs:?}"))
    }
}

fn assignment_of(resolution: &Resolution) -> Assignment {
    Assignment {
        packages: resolution
            .packages
            .iter()
            .map(|p| (p.name.clone(), p.version.clone()))
            .collect(),
        spec_provider: resolution.specs.first().map(|s| match &s.provider {
            SpecProvider::Existing { .. } => Provider::Existing,
            SpecProvider::Package { name, .. } => Provider::Package(name.clone()),
        }),
    }
}

/// Every assignment: each package absent or at one of its versions (or the version
/// the stack runs), the spec from nobody, an existing system or a chosen package.
fn exhaustive(catalogue: &Catalogue, stack: &Stack) -> Option<Assignment> {
    let names: Vec<PackageName> = catalogue.packages.keys().cloned().collect();
    let options: Vec<Vec<Option<Version>>> = names
        .iter()
        .map(|n| {
            let mut o: Vec<Option<Version>> = vec![None];
            o.extend(catalogue.packages[n].iter().map(|e| Some(e.version.clone())));
            if let Some(v) = running(stack, n)
                && !o.contains(&Some(v.clone()))
            {
                o.push(Some(v));
            }
            o
        })
        .collect();
    let mut index = vec![0usize; names.len()];
    loop {
        let packages: BTreeMap<PackageName, Version> = names
            .iter()
            .zip(&index)
            .filter_map(|(n, &i)| options_at(&options, n, &names, i).map(|v| (n.clone(), v)))
            .collect();
        let mut providers = vec![None, Some(Provider::Existing)];
        providers.extend(packages.keys().map(|n| Some(Provider::Package(n.clone()))));
        for spec_provider in providers {
            let a = Assignment {
                packages: packages.clone(),
                spec_provider,
            };
            if check(catalogue, stack, &a).is_ok() {
                return Some(a);
            }
        }
        // next combination
        let mut k = 0;
        loop {
            if k == names.len() {
                return None;
            }
            index[k] += 1;
            if index[k] < options[k].len() {
                break;
            }
            index[k] = 0;
            k += 1;
        }
    }
}

fn options_at(
    options: &[Vec<Option<Version>>],
    name: &PackageName,
    names: &[PackageName],
    i: usize,
) -> Option<Version> {
    let k = names.iter().position(|n| n == name)?;
    options[k][i].clone()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn solutions_hold_and_none_is_missed(generated in gen_catalogue(), stack_gen in gen_stack()) {
        let specs = package_specs(&generated);
        let catalogue = catalogue(&specs);
        let text = stack_text(&stack_gen, generated.len());
        let Ok(stack) = Stack::from_toml_str(&text) else {
            // e.g. a pin that contradicts a wanted requirement: refused by validation.
            return Ok(());
        };
        let options = ResolveOptions { max_steps: Some(1_000_000), ..ResolveOptions::default() };
        let result = Resolver::new(&catalogue).resolve(&stack, &options);
        let again = Resolver::new(&reversed(&catalogue)).resolve(&stack, &options);
        prop_assert_eq!(&result, &again, "order dependence");
        match result {
            Ok(resolution) => {
                let a = assignment_of(&resolution);
                if let Err(e) = check(&catalogue, &stack, &a) {
                    return Err(TestCaseError::fail(format!("invalid solution: {e}\n{a:?}\n{text}")));
                }
            }
            Err(error) => {
                if let Some(a) = exhaustive(&catalogue, &stack) {
                    return Err(TestCaseError::fail(format!(
                        "the resolver found nothing but this works: {a:?}\n{error}\n{text}\n{specs:#?}"
                    )));
                }
            }
        }
    }
}
