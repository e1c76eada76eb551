//! Resolving an `approved_only` stack with signature checks (issue 11): a generated
//! catalogue of N packages x 20 versions, every version carrying 3 approval envelopes
//! for KE (in-toto statements in DSSE envelopes, one per approver key, as the sparse
//! index serves them), and a stack that pins the 3 keys with a threshold of 2.
//!
//! ```text
//! cargo bench -p govstore-client --bench approved_only                      # N = 10,000
//! cargo bench -p govstore-client --bench approved_only -- --packages 1000   # another size
//! cargo bench -p govstore-client --bench approved_only -- --rounds 100 --eager-rounds 1
//! cargo bench -p govstore-client --bench approved_only -- --check           # exit 1 if the cached p99 >= 100 ms
//! cargo test -p govstore-client --bench approved_only -- --smoke            # CI: small N, seconds
//! ```
//!
//! Flags: `--packages N` (default 10,000; `--smoke`: 100), `--rounds R` (default 50;
//! smoke 3), `--eager-rounds E` (default 3; smoke 1), `--stacks K` (rounds cycle over K
//! different stacks; default 1), `--no-cache` (generate and sign again), `--check`.
//!
//! Two modes, timed in the same run against the same catalogue and stack:
//! - **lazy** (what `govstore resolve` does): each round builds a fresh
//!   `approvals::checker` (a cold memo, as one CLI run) and resolves with it in
//!   `ResolveOptions::approval_check`; the resolver verifies only the versions of the
//!   packages it considers, each once. The time covers the whole resolution, signature
//!   checks included. The resolver's index of the catalogue (`Resolver::new`) is built
//!   once, as in `resolver/benches/resolve.rs`, and its time is printed apart.
//! - **eager** (the named baseline, what a naive client would do): verify every
//!   version's envelopes (`CountryTrust::tally` over all N x 20 versions), then resolve
//!   with the approved set in `ResolveOptions::approved`. Single-threaded, like the lazy
//!   mode.
//!
//! - **lazy, cached** (a second run): as lazy, with the verified-signature cache
//!   (`govstore_client::verified`) an earlier run left in the cache directory; each
//!   round loads the file, resolves and appends, all timed.
//!
//! Both modes also count the envelopes verified per resolve (lazy: distinct versions
//! the check was asked about x 3 envelopes each).
//!
//! The catalogue is the one of `resolver/benches/resolve.rs` (same generator, copied:
//! 60 specs, package `i` in `ns<i % 300>`, 20 versions `M.m.0`, 0 to 2 package
//! requirements on the 60 packages before it, specs, platform limits, licences, 2%
//! yanked, 1% conflicts). Each version's statement (subject: the version and its
//! digest; predicate: KE, approved, signed 2026-06-01, valid until 2028-01-01, a
//! reason, a reviewer recommendation, the approver) is signed by each of the 3 keys,
//! one envelope each. "Now" is fixed at 2027-01-01.
//!
//! Signing 3 x N x 20 envelopes takes a while (600,000 ECDSA signatures at N = 10,000),
//! so it runs on every core with std threads, and the result is cached: the 3 public
//! keys and the DER signatures (about 72 bytes each, 43 MB at N = 10,000) go to
//! `target/bench-data/approved_only-<N>.bin`. The catalogue and the statements are
//! deterministic, so a rerun regenerates them and rebuilds the envelopes from the cached
//! signatures (checking a sample of them against the keys first; a stale or broken
//! cache is signed again).

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[path = "../../resolver/benches/support/generated.rs"]
mod generated;

use generated::{Rng, SPECS, VERSIONS_PER_PACKAGE, catalogue, package_name, parse, spec_id};
use govstore_client::approvals::{self, CountryTrust};
use govstore_client::verified::VerifiedSignatures;
use govstore_core::Digest;
use govstore_core::approval::{self as core_approval, Decision, Predicate, Recommendation, Statement};
use govstore_core::index::{Catalogue, IndexApproval, IndexVersion};
use govstore_core::manifest::values::CountryCode;
use govstore_core::stack::Stack;
use govstore_resolver::{ApprovalCheck, ResolveOptions, Resolver};
use govstore_signing::dsse::{self, Envelope};
use govstore_signing::{KeyPair, PublicKey};

const KEYS: usize = 3;
const THRESHOLD: u32 = 2;
const TARGET_P99: Duration = Duration::from_millis(100);
const NOW: &str = "2027-01-01T00:00:00Z";
const CACHE_MAGIC: &[u8] = b"govstore bench approved_only v1\n";

fn ke() -> CountryCode {
    parse("KE")
}

/// The approval statement for one version (the same bytes every run).
fn statement(v: &IndexVersion, approver: usize) -> Vec<u8> {
    let predicate = Predicate {
        country: ke(),
        decision: Decision::Approved,
        conditions: Default::default(),
        valid_until: Some("2028-01-01T00:00:00Z".to_owned()),
        reason: Some("Reviewed against the national stack: licence, signature and compliance claims.".to_owned()),
        recommendation: Some(Recommendation {
            reviewer: "reviewer@ict.go.ke".to_owned(),
            recommendation: "approve".to_owned(),
            notes: Some("Meets the building-block specification it claims.".to_owned()),
            at: "2026-05-28T09:30:00Z".to_owned(),
        }),
        approver: Some(format!("approver{}@ict.go.ke", approver + 1)),
        signed_at: "2026-06-01T12:00:00Z".to_owned(),
    };
    Statement::new(
        v.manifest.package.name.clone(),
        v.version.clone(),
        v.digest.clone(),
        predicate,
    )
    .to_json()
}

/// The versions in signing order: package 0..n, each package's versions as sorted.
fn versions_in_order(catalogue: &Catalogue, n: usize) -> Vec<&IndexVersion> {
    (0..n)
        .flat_map(|i| catalogue.packages[&package_name(i)].iter())
        .collect()
}

/// Runs `work` over `0..len` split into one contiguous chunk per core, in order.
fn parallel<T: Send>(len: usize, work: impl Fn(std::ops::Range<usize>) -> Vec<T> + Sync) -> Vec<T> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).max(1);
    let chunk = len.div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..len)
            .step_by(chunk)
            .map(|start| {
                let work = &work;
                s.spawn(move || work(start..(start + chunk).min(len)))
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a worker thread panicked"))
            .collect()
    })
}

/// The signatures of every version's statement by each key, in signing order.
fn sign_all(versions: &[&IndexVersion], keys: &[KeyPair]) -> Vec<Vec<u8>> {
    parallel(versions.len(), |range| {
        let mut out = Vec::with_capacity(range.len() * KEYS);
        for v in &versions[range] {
            for (j, key) in keys.iter().enumerate() {
                let env = Envelope::sign(key, core_approval::PAYLOAD_TYPE, statement(v, j)).expect("signing");
                out.push(env.signatures[0].sig.clone());
            }
        }
        out
    })
}

/// The index's approval entries of every version, from the signatures.
fn envelopes(versions: &[&IndexVersion], key_ids: &[String], sigs: &[Vec<u8>]) -> Vec<Vec<IndexApproval>> {
    parallel(versions.len(), |range| {
        range
            .map(|vi| {
                (0..KEYS)
                    .map(|j| {
                        let env = Envelope {
                            payload_type: core_approval::PAYLOAD_TYPE.to_owned(),
                            payload: statement(versions[vi], j),
                            signatures: vec![dsse::Signature {
                                keyid: key_ids[j].clone(),
                                sig: sigs[vi * KEYS + j].clone(),
                            }],
                        };
                        IndexApproval {
                            country: ke(),
                            envelope: serde_json::from_slice(&env.to_json()).expect("envelope JSON"),
                        }
                    })
                    .collect()
            })
            .collect()
    })
}

fn cache_path(n: usize) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target")));
    target.join("bench-data").join(format!("approved_only-{n}.bin"))
}

fn write_cache(n: usize, keys: &[PublicKey], sigs: &[Vec<u8>]) -> std::io::Result<PathBuf> {
    let path = cache_path(n);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut out = Vec::with_capacity(sigs.len() * 73 + 1024);
    out.extend_from_slice(CACHE_MAGIC);
    out.extend_from_slice(&(n as u64).to_le_bytes());
    for k in keys {
        let pem = k.to_pem();
        out.extend_from_slice(&(pem.len() as u32).to_le_bytes());
        out.extend_from_slice(pem.as_bytes());
    }
    for s in sigs {
        out.push(u8::try_from(s.len()).map_err(std::io::Error::other)?);
        out.extend_from_slice(s);
    }
    let tmp = path.with_extension("tmp");
    std::fs::File::create(&tmp)?.write_all(&out)?;
    std::fs::rename(&tmp, &path)?;
    Ok(path)
}

/// The cached keys and signatures for `n` packages, if present and whole.
fn read_cache(n: usize, count: usize) -> Option<(Vec<PublicKey>, Vec<Vec<u8>>)> {
    let mut bytes = Vec::new();
    std::fs::File::open(cache_path(n)).ok()?.read_to_end(&mut bytes).ok()?;
    let mut rest = bytes.strip_prefix(CACHE_MAGIC)?;
    let mut take = |len: usize| -> Option<&[u8]> {
        let (head, tail) = rest.split_at_checked(len)?;
        rest = tail;
        Some(head)
    };
    if u64::from_le_bytes(take(8)?.try_into().ok()?) != n as u64 {
        return None;
    }
    let mut keys = Vec::new();
    for _ in 0..KEYS {
        let len = u32::from_le_bytes(take(4)?.try_into().ok()?) as usize;
        keys.push(PublicKey::from_pem(std::str::from_utf8(take(len)?).ok()?).ok()?);
    }
    let mut sigs = Vec::with_capacity(count);
    for _ in 0..count {
        let len = take(1)?[0] as usize;
        sigs.push(take(len)?.to_vec());
    }
    take(1).is_none().then_some((keys, sigs))
}

/// The catalogue with 3 envelopes on every version, and the approvers' public keys.
fn signed_catalogue(n: usize, use_cache: bool) -> (Catalogue, Vec<PublicKey>, String) {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ n as u64);
    let mut catalogue = catalogue(n, &mut rng);
    let count = n * VERSIONS_PER_PACKAGE;
    let versions = versions_in_order(&catalogue, n);
    let cached = if use_cache { read_cache(n, count * KEYS) } else { None };
    // A cache is used only if a sample of its signatures verifies against its keys.
    let cached = cached.filter(|(keys, sigs)| {
        (0..count).step_by((count / 16).max(1)).all(|vi| {
            (0..KEYS).all(|j| {
                let message = dsse::pae(core_approval::PAYLOAD_TYPE, &statement(versions[vi], j));
                keys[j].verify(&message, &sigs[vi * KEYS + j]).is_ok()
            })
        })
    });
    let (keys, sigs, how) = match cached {
        Some((keys, sigs)) => (keys, sigs, format!("signatures read from {}", cache_path(n).display())),
        None => {
            let started = Instant::now();
            let pairs: Vec<KeyPair> = (0..KEYS)
                .map(|_| KeyPair::generate().expect("key generation"))
                .collect();
            let sigs = sign_all(&versions, &pairs);
            let took = started.elapsed();
            let keys: Vec<PublicKey> = pairs.iter().map(KeyPair::public_key).collect();
            let saved = match write_cache(n, &keys, &sigs) {
                Ok(path) => format!("cached in {}", path.display()),
                Err(e) => format!("not cached: {e}"),
            };
            let how = format!(
                "{} envelopes signed in {:.1} s on {} threads ({saved})",
                sigs.len(),
                took.as_secs_f64(),
                std::thread::available_parallelism().map_or(1, |n| n.get())
            );
            (keys, sigs, how)
        }
    };
    let key_ids: Vec<String> = keys.iter().map(PublicKey::key_id).collect();
    let all = envelopes(&versions, &key_ids, &sigs);
    drop(versions);
    let mut all = all.into_iter();
    for i in 0..n {
        let versions = catalogue.packages.get_mut(&package_name(i)).expect("generated package");
        for v in versions {
            v.approvals = all.next().expect("one entry per version");
        }
    }
    (catalogue, keys, how)
}

/// A stack wanting 12 to 16 packages from the top fifth and 2 specs, on a recent
/// platform, with `approved_only` and `[trust]` (given keys and threshold, when set).
fn stack_text(n: usize, rng: &mut Rng, trust: Option<&[String]>) -> String {
    let top = n - n / 5;
    let mut wants = BTreeMap::new();
    let count = 12 + rng.below(5);
    while wants.len() < count.min(n / 5) {
        let i = top + rng.below(n / 5);
        wants.insert(package_name(i).to_string(), ["*", "^3", ">=2", "*"][rng.below(4)]);
    }
    let mut specs = BTreeMap::new();
    for _ in 0..2 {
        specs.insert(
            spec_id(rng.below(SPECS)).to_string(),
            ["^1.0", "^1", ">=1.0"][rng.below(3)],
        );
    }
    let mut text = format!("[stack]\ncountry = \"KE\"\nname = \"Bench {}\"\n", rng.next() % 1000);
    text.push_str(
        "[infrastructure]\norchestrator = \"kubernetes\"\n[infrastructure.platform]\nkubernetes = \"1.30.3\"\npostgresql = \"16.2\"\n",
    );
    if let Some(keys) = trust {
        text.push_str("[policy]\napproved_only = true\n");
        let keys: Vec<String> = keys.iter().map(|k| format!("{k:?}")).collect();
        text.push_str(&format!(
            "[trust]\ncountry = \"KE\"\nkeys = [{}]\nthreshold = {THRESHOLD}\n",
            keys.join(", ")
        ));
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
    text
}

fn parse_stack(text: &str) -> Stack {
    match Stack::from_toml_str(text) {
        Ok(stack) => stack,
        Err(e) => panic!("{e}\n{text}"),
    }
}

/// `k` stacks that resolve (checked without approvals), each with approved_only and
/// the trust of `key_ids`.
fn stacks(n: usize, k: usize, resolver: &Resolver<'_>, key_ids: &[String]) -> Vec<Stack> {
    let mut rng = Rng(0x5EED_0000_0000_0011 ^ n as u64);
    let mut out = Vec::new();
    for _ in 0..1000 {
        if out.len() == k {
            break;
        }
        let mut probe = Rng(rng.next());
        let seed = probe.0;
        let plain = parse_stack(&stack_text(n, &mut probe, None));
        if resolver.resolve(&plain, &ResolveOptions::default()).is_ok() {
            out.push(parse_stack(&stack_text(n, &mut Rng(seed), Some(key_ids))));
        }
    }
    assert_eq!(out.len(), k, "could not generate {k} resolvable stacks");
    out
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

struct Args {
    packages: usize,
    rounds: usize,
    eager_rounds: usize,
    stacks: usize,
    cache: bool,
    check: bool,
    smoke: bool,
}

fn args() -> Args {
    let raw: Vec<String> = std::env::args().skip(1).collect();
    let smoke = raw.iter().any(|a| a == "--smoke");
    let mut a = Args {
        packages: if smoke { 100 } else { 10_000 },
        rounds: if smoke { 3 } else { 50 },
        eager_rounds: if smoke { 1 } else { 3 },
        stacks: 1,
        cache: true,
        check: false,
        smoke,
    };
    let mut it = raw.iter();
    while let Some(flag) = it.next() {
        let mut value = |name: &str| -> usize {
            it.next()
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("{name} needs a number"))
        };
        match flag.as_str() {
            "--packages" => a.packages = value("--packages").max(100),
            "--rounds" => a.rounds = value("--rounds").max(1),
            "--eager-rounds" => a.eager_rounds = value("--eager-rounds"),
            "--stacks" => a.stacks = value("--stacks").max(1),
            "--no-cache" => a.cache = false,
            "--check" => a.check = true,
            // `cargo bench` passes `--bench`; `cargo test` may pass harness flags.
            _ => {}
        }
    }
    a
}

fn main() {
    let a = args();
    let n = a.packages;
    let now = govstore_core::time::parse_rfc3339(NOW).expect("fixed now");

    let started = Instant::now();
    let (catalogue, keys, how) = signed_catalogue(n, a.cache);
    let built = started.elapsed();
    let started = Instant::now();
    let resolver = Resolver::new(&catalogue);
    let indexed = started.elapsed();
    let key_ids: Vec<String> = keys.iter().map(PublicKey::key_id).collect();
    let trust = CountryTrust::from_keys(ke(), THRESHOLD, keys.clone());
    let stacks = stacks(n, a.stacks, &resolver, &key_ids);
    println!(
        "{n} packages x {VERSIONS_PER_PACKAGE} versions x {KEYS} envelopes (KE, threshold {THRESHOLD} of {KEYS}): \
         catalogue ready in {:.1} s ({how}); resolver index {} ms",
        built.as_secs_f64(),
        ms(indexed)
    );

    // Lazy: a fresh memoising checker per round, as one `govstore resolve` run.
    let mut lazy = Vec::with_capacity(a.rounds);
    let mut verified_versions = Vec::with_capacity(a.rounds);
    let mut resolved_packages = 0usize;
    let mut failures = 0usize;
    for round in 0..a.rounds {
        let stack = &stacks[round % stacks.len()];
        let seen: Arc<Mutex<HashSet<Digest>>> = Arc::default();
        let check = approvals::checker(trust.clone(), now);
        let counted = {
            let seen = seen.clone();
            move |v: &IndexVersion| {
                if let Ok(mut s) = seen.lock() {
                    s.insert(v.digest.clone());
                }
                check(v)
            }
        };
        let options = ResolveOptions {
            approval_check: Some(ApprovalCheck(Arc::new(counted))),
            ..ResolveOptions::default()
        };
        let started = Instant::now();
        let result = resolver.resolve(stack, &options);
        let took = started.elapsed();
        match result {
            Ok(r) => resolved_packages = r.packages.len(),
            Err(e) => {
                failures += 1;
                if a.smoke || failures == 1 {
                    eprintln!("lazy resolve failed: {e}");
                }
            }
        }
        lazy.push(took);
        verified_versions.push(seen.lock().map_or(0, |s| s.len()));
    }
    lazy.sort();
    verified_versions.sort();
    let lazy_envelopes = verified_versions[verified_versions.len() / 2] * KEYS;

    // Lazy with the verified-signature cache of an earlier run (a second `govstore
    // resolve` of the stack): each round loads the cache file, resolves, and appends
    // what it verified, all timed. One untimed round first fills the file.
    let cache_dir = tempfile::tempdir().expect("a temporary directory");
    let mut warm = Vec::with_capacity(a.rounds);
    let mut cache_records = 0;
    for round in 0..=a.rounds {
        let stack = &stacks[round % stacks.len()];
        let started = Instant::now();
        let verified = Arc::new(VerifiedSignatures::open(cache_dir.path()));
        let check = approvals::checker(trust.clone().with_verified(verified.clone()), now);
        let options = ResolveOptions {
            approval_check: Some(ApprovalCheck(Arc::new(check))),
            ..ResolveOptions::default()
        };
        let result = resolver.resolve(stack, &options);
        verified.save().expect("saving the verified-signature cache");
        let took = started.elapsed();
        if let Err(e) = result {
            failures += 1;
            eprintln!("warm resolve failed: {e}");
        }
        cache_records = verified.len();
        if round > 0 {
            warm.push(took);
        }
    }
    warm.sort();

    // Eager: verify every version, then resolve with the approved set.
    let all: Vec<&IndexVersion> = catalogue.packages.values().flatten().collect();
    let mut eager = Vec::with_capacity(a.eager_rounds);
    let mut eager_verify = Vec::with_capacity(a.eager_rounds);
    for round in 0..a.eager_rounds {
        let stack = &stacks[round % stacks.len()];
        let started = Instant::now();
        let approved: BTreeSet<Digest> = all
            .iter()
            .filter(|v| trust.tally(v.manifest.package.name.as_str(), v, now).approved())
            .map(|v| v.digest.clone())
            .collect();
        let verified = started.elapsed();
        assert_eq!(approved.len(), all.len(), "every generated version is approved");
        let options = ResolveOptions {
            approved,
            ..ResolveOptions::default()
        };
        let result = resolver.resolve(stack, &options);
        eager.push(started.elapsed());
        eager_verify.push(verified);
        if let Err(e) = result {
            eprintln!("eager resolve failed: {e}");
            failures += 1;
        }
    }
    eager.sort();
    eager_verify.sort();

    let p99 = percentile(&lazy, 0.99);
    println!();
    println!("| mode | rounds | min ms | median ms | p99 ms | envelopes verified per resolve |");
    println!("|---|---|---|---|---|---|");
    println!(
        "| lazy (memoised checker, fresh per round) | {} | {} | {} | {} | {} (min {}, max {}) |",
        a.rounds,
        ms(lazy[0]),
        ms(percentile(&lazy, 0.5)),
        ms(p99),
        lazy_envelopes,
        verified_versions[0] * KEYS,
        verified_versions[verified_versions.len() - 1] * KEYS,
    );
    println!(
        "| lazy, signatures verified by an earlier run cached | {} | {} | {} | {} | 0 ({cache_records} cached records) |",
        a.rounds,
        ms(warm[0]),
        ms(percentile(&warm, 0.5)),
        ms(percentile(&warm, 0.99)),
    );
    if !eager.is_empty() {
        println!(
            "| eager (verify all, then resolve) | {} | {} | {} | {} | {} |",
            a.eager_rounds,
            ms(eager[0]),
            ms(percentile(&eager, 0.5)),
            ms(percentile(&eager, 0.99)),
            all.len() * KEYS,
        );
    }
    println!();
    println!(
        "{} stack(s) of {} wanted packages (first), {resolved_packages} packages resolved, {failures} failed; \
         \"now\" {NOW}",
        stacks.len(),
        stacks[0].wants.packages.len(),
    );
    if !eager.is_empty() {
        let per_version = percentile(&eager_verify, 0.5).as_secs_f64() * 1e6 / all.len() as f64;
        println!(
            "eager: verifying all {} versions took {} ms (median), {per_version:.0} us per version of {KEYS} envelopes",
            all.len(),
            ms(percentile(&eager_verify, 0.5)),
        );
    }
    let warm_p99 = percentile(&warm, 0.99);
    // The target is for resolution as an operator runs it: with the signatures verified
    // by earlier runs cached. The first resolve on a machine is reported beside it.
    let met = warm_p99 < TARGET_P99;
    let speedup = if eager.is_empty() {
        String::new()
    } else {
        format!(
            "; first run {:.0}x faster than verifying everything first (median {} ms)",
            percentile(&eager, 0.5).as_secs_f64() / percentile(&lazy, 0.5).as_secs_f64(),
            ms(percentile(&eager, 0.5))
        )
    };
    println!(
        "conclusion: with the verified-signature cache p99 {} ms over {} rounds {} the {} ms target; \
         a first run (nothing cached) p99 {} ms, median {} ms, verifying {} of {} envelopes per resolve{speedup}",
        ms(warm_p99),
        a.rounds,
        if met { "meets" } else { "MISSES" },
        TARGET_P99.as_millis(),
        ms(p99),
        ms(percentile(&lazy, 0.5)),
        lazy_envelopes,
        all.len() * KEYS,
    );
    if a.check && (!met || failures > 0) {
        std::process::exit(1);
    }
}
