//! Resolution benchmark: a generated catalogue of N packages x 20 versions with
//! realistic constraints, and 100 different stacks resolved against it.
//!
//! ```text
//! cargo bench -p govstore-resolver --bench resolve              # 1,000, 10,000, 100,000
//! cargo bench -p govstore-resolver --bench resolve -- 10000     # one size
//! BENCH_DEBUG=1 cargo bench ...   # also print a few failure reports and failure times
//! ```
//!
//! Prints, per catalogue size: time to build and index the catalogue, and over the 100
//! stacks the p50/p90/p99/max resolution time, how many resolved, the mean number of
//! packages per resolution and of solver steps, and peak memory (VmHWM: the process
//! peak, reset before resolving so the second figure is what resolving added on top of
//! the catalogue).
//!
//! The catalogue: 60 specs with versions 1.0.0, 1.1.0 and 2.0.0; package `i` lives in
//! namespace `ns<i % 300>`; its 20 versions are `M.m.0` for majors 1 to 4 and minors
//! 0 to 4, plus a release candidate every few packages. Each version requires 0 to 2
//! packages from the 60 before it (a caret requirement on one of their majors), one in
//! eight of the packages implements a spec (at a spec version
//! depending on the major), one in twenty requires a spec, most need PostgreSQL and some
//! Kubernetes at a minimum
//! version that rises with the major, one in ten is AGPL and one in twenty MPL, 2% are
//! yanked and 1% conflict with a neighbour. A stack wants 3 to 8 packages from the top
//! fifth and 1 to 3 specs, runs Kubernetes 1.27 to 1.30 and PostgreSQL 14 to 16, may
//! deny AGPL, and may already run a system implementing a spec.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

#[path = "support/generated.rs"]
mod generated;

use generated::{Rng, SPECS, VERSIONS_PER_PACKAGE, catalogue, package_name, spec_id};
use govstore_core::stack::Stack;
use govstore_resolver::{ResolveOptions, Resolver};

const STACKS: usize = 100;

/// One stack profile, as `stack.toml` text, so stacks go through the real parser.
fn stack(n: usize, rng: &mut Rng) -> Stack {
    let top = n - n / 5;
    let mut wants = BTreeMap::new();
    for _ in 0..3 + rng.below(6) {
        let i = top + rng.below(n / 5);
        wants.insert(package_name(i).to_string(), ["*", "^3", ">=2", "*"][rng.below(4)]);
    }
    let mut specs = BTreeMap::new();
    for _ in 0..1 + rng.below(3) {
        specs.insert(
            spec_id(rng.below(SPECS)).to_string(),
            ["^1.0", "^1", ">=1.0", "^2.0"][rng.below(4)],
        );
    }
    let mut text = format!("[stack]\ncountry = \"KE\"\nname = \"Bench {}\"\n", rng.next() % 1000);
    if rng.chance(50) {
        text.push_str(&format!(
            "[[existing]]\nname = \"running-system\"\nimplements = [{{ spec = \"{}\", version = \"1.1.0\" }}]\n",
            spec_id(rng.below(SPECS))
        ));
    }
    text.push_str(&format!(
        "[infrastructure]\norchestrator = \"kubernetes\"\n[infrastructure.platform]\nkubernetes = \"1.{}.3\"\npostgresql = \"{}.2\"\n",
        27 + rng.below(4),
        14 + rng.below(3)
    ));
    if rng.chance(50) {
        text.push_str("[policy]\ndeny_licenses = [\"AGPL-3.0-only\"]\n");
    }
    let table = |m: &BTreeMap<String, &str>| {
        m.iter()
            .map(|(k, v)| format!("{k:?} = {v:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    text.push_str(&format!(
        "[wants]\npackages = {{ {} }}\nspecs = {{ {} }}\n",
        table(&wants),
        table(&specs)
    ));
    match Stack::from_toml_str(&text) {
        Ok(stack) => stack,
        Err(e) => panic!("{e}\n{text}"),
    }
}

/// The process's peak resident memory, in MiB (Linux only; 0 elsewhere).
fn peak_mib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb / 1024)
}

/// Resets the peak so the next reading covers only what follows (Linux).
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn run(n: usize) {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ n as u64);
    let started = Instant::now();
    let catalogue = catalogue(n, &mut rng);
    let built = started.elapsed();
    let started = Instant::now();
    let resolver = Resolver::new(&catalogue);
    let indexed = started.elapsed();
    let catalogue_peak = peak_mib();
    let stacks: Vec<Stack> = (0..STACKS).map(|_| stack(n, &mut rng)).collect();
    reset_peak();
    let options = ResolveOptions::default();
    let mut times = Vec::with_capacity(STACKS);
    let mut failed_times = Vec::new();
    let (mut solved, mut packages, mut steps) = (0usize, 0usize, 0u64);
    for stack in &stacks {
        let started = Instant::now();
        let result = resolver.resolve(stack, &options);
        times.push(started.elapsed());
        match result {
            Ok(resolution) => {
                solved += 1;
                packages += resolution.packages.len();
                steps += resolution.steps;
            }
            Err(error) => {
                // Keep the report's cost in the timing, and make sure it is built.
                let report = std::hint::black_box(error.to_string());
                failed_times.push(times[times.len() - 1]);
                if std::env::var_os("BENCH_DEBUG").is_some() && failed_times.len() <= 6 {
                    eprintln!("{report}");
                }
            }
        }
    }
    let resolve_peak = peak_mib();
    if std::env::var_os("BENCH_DEBUG").is_some() {
        failed_times.sort();
        eprintln!(
            "failed: {:?}",
            failed_times
                .iter()
                .map(|d| d.as_secs_f64() * 1000.0)
                .collect::<Vec<_>>()
        );
    }
    times.sort();
    let mean = times.iter().sum::<Duration>() / times.len() as u32;
    println!(
        "{n:>7} packages x {VERSIONS_PER_PACKAGE} versions: build {}, index {}; \
         resolve x{STACKS}: p50 {}, p90 {}, p99 {}, max {}, mean {}; \
         {solved} resolved (mean {} packages, {} steps), {} failed with a report; \
         peak memory {catalogue_peak} MiB with the catalogue, {resolve_peak} MiB while resolving",
        ms(built),
        ms(indexed),
        ms(percentile(&times, 0.50)),
        ms(percentile(&times, 0.90)),
        ms(percentile(&times, 0.99)),
        ms(times[times.len() - 1]),
        ms(mean),
        packages / solved.max(1),
        steps / solved.max(1) as u64,
        STACKS - solved,
    );
}

fn main() {
    let sizes: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let sizes = if sizes.is_empty() {
        vec![1_000, 10_000, 100_000]
    } else {
        sizes
    };
    for n in sizes {
        run(n.max(100));
    }
}
