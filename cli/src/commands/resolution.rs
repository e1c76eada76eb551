//! What `resolve`, `outdated` and `update` share: reading the catalogue a stack needs
//! from the registry's sparse index (through the local cache), running the resolver,
//! and showing a resolution or the resolver's failure report.

use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use govstore_client::approvals::CountryTrust;
use govstore_client::cache::Cache;
use govstore_client::index::{IndexClient, IndexError, Prefetched};
use govstore_client::install::plural;
use govstore_client::registry::RegistryClient;
use govstore_client::verified::VerifiedSignatures;
use govstore_core::index::Catalogue;
use govstore_core::manifest::Url;
use govstore_core::stack::{Lockfile, Stack};
use govstore_resolver::{ApprovalCheck, ChosenPackage, Resolution, ResolveError, ResolveOptions, SpecProvider};
use serde_json::{Value, json};

use super::files::{LOCKFILE, STACK_FILE};
use super::install::cache;
use crate::context::{Ctx, block_on};
use crate::diagnostic::{Diagnostic, Diagnostics, client_error, fail};
use crate::output::short_digest;

/// The flags every resolving command takes.
#[derive(Debug, Args)]
pub struct ResolveFlags {
    /// The stack profile
    #[arg(long, value_name = "PATH", default_value = STACK_FILE)]
    pub stack: PathBuf,
    /// The lockfile
    #[arg(long, value_name = "PATH", default_value = LOCKFILE)]
    pub lock: PathBuf,
    /// Use the index documents in the local cache only, never the network
    #[arg(long)]
    pub offline: bool,
    /// Index documents to fetch at once
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub jobs: u16,
}

/// The catalogue a stack (and its lockfile) can reach, and where it came from.
#[derive(Debug)]
pub struct Fetched {
    pub catalogue: Catalogue,
    /// The registry, as a lockfile's `source`.
    pub source: Url,
    /// For a stack with `approved_only`: the check of each candidate's approvals
    /// against the keys `[trust]` pins, verified here.
    pub approvals: Option<ApprovalCheck>,
    /// The signatures verified before and by this run (saved after resolving).
    pub verified: Option<Arc<VerifiedSignatures>>,
}

/// Reads the index documents `stack` and `lock` reach.
pub fn fetch(ctx: &Ctx, flags: &ResolveFlags, stack: &Stack, lock: Option<&Lockfile>) -> anyhow::Result<Fetched> {
    let fallback = lock
        .and_then(|l| l.packages.first())
        .map(|p| p.source.as_str().to_owned());
    let client = ctx.client_or(fallback.as_deref(), false)?;
    let source: Url = client.base_url().parse().map_err(|e| {
        fail(Diagnostic::new(format!(
            "the registry URL cannot be a lockfile source: {e}"
        )))
    })?;
    let cache = cache()?;
    let prefetched = walk(&client, &cache, flags, stack, lock)?;
    if !ctx.json {
        let total = prefetched.fetched + prefetched.revalidated + prefetched.from_cache;
        let how = if flags.offline {
            "from the local cache".to_owned()
        } else {
            format!(
                "{} downloaded, {} unchanged since cached",
                prefetched.fetched, prefetched.revalidated
            )
        };
        eprintln!(
            "read {} from {} ({how})",
            plural(total, "index document"),
            client.base_url()
        );
    }
    let (approvals, verified) = if stack.policy.approved_only {
        let verified = Arc::new(VerifiedSignatures::open(cache.root()));
        (Some(approval_check(&client, stack, verified.clone())?), Some(verified))
    } else {
        (None, None)
    };
    Ok(Fetched {
        catalogue: prefetched.catalogue,
        source,
        approvals,
        verified,
    })
}

/// The country's keys as the registry lists them, kept only where the stack pins their
/// id; then a check that verifies each candidate's approval envelopes itself, once per
/// version (memoised), only for the candidates the solver considers; signatures
/// verified by an earlier run (`verified`, the cache's record) are not verified again.
pub fn approval_check(
    client: &RegistryClient,
    stack: &Stack,
    verified: Arc<VerifiedSignatures>,
) -> anyhow::Result<ApprovalCheck> {
    let trust = country_trust(client, &stack.trust, stack.stack.country)?.with_verified(verified);
    Ok(ApprovalCheck(Arc::new(govstore_client::approvals::checker(
        trust,
        now_secs(),
    ))))
}

/// The stack's (or lockfile's) `[trust]` with the keys the registry lists for the country.
pub fn country_trust(
    client: &RegistryClient,
    trust: &govstore_core::stack::Trust,
    default_country: govstore_core::manifest::values::CountryCode,
) -> anyhow::Result<CountryTrust> {
    let country = trust.country.unwrap_or(default_country);
    let url = client.base_url().to_owned();
    let info = block_on(client.country(country.as_str()))?.map_err(|e| client_error(&e, &url))?;
    let pems: Vec<String> = info["keys"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|k| k["public_key"].as_str().map(str::to_owned))
        .collect();
    let t = CountryTrust::new(trust, country, &pems).map_err(|e| {
        fail(Diagnostic::new(e.to_string()).hint(format!(
            "compare [trust] keys with `govstore country show {country}` and the ministry's own record"
        )))
    })?;
    for id in &t.missing {
        eprintln!("warning: the pinned key {id} is not among the keys the registry lists for {country}");
    }
    Ok(t)
}

pub fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn walk(
    client: &RegistryClient,
    cache: &Cache,
    flags: &ResolveFlags,
    stack: &Stack,
    lock: Option<&Lockfile>,
) -> anyhow::Result<Prefetched> {
    let url = client.base_url().to_owned();
    let index = IndexClient::new(client.clone(), cache.clone(), flags.offline);
    block_on(index.prefetch_stack(stack, lock, usize::from(flags.jobs)))?.map_err(|e| match e {
        IndexError::Client(c) => client_error(&c, &url),
        IndexError::Format(e) => fail(Diagnostic::new(e.to_string()).hint(e.hint())),
        e @ IndexError::NotCached { .. } => fail(Diagnostic::new(e.to_string()).hint(format!(
            "run the command once without --offline to fill the cache at {}",
            cache.root().display()
        ))),
        e => fail(Diagnostic::new(e.to_string())),
    })
}

/// Resolves, turning a failure into the resolver's report (exit code 1). With `json`,
/// the report also goes to stdout as JSON.
pub fn resolve(fetched: &Fetched, stack: &Stack, options: &ResolveOptions, json: bool) -> anyhow::Result<Resolution> {
    let mut options = options.clone();
    if options.approval_check.is_none() {
        options.approval_check = fetched.approvals.clone();
    }
    let result = govstore_resolver::resolve(&fetched.catalogue, stack, &options);
    if let Some(v) = &fetched.verified
        && let Err(e) = v.save()
    {
        eprintln!("warning: could not record verified signatures in the cache: {e}");
    }
    result.map_err(|e| failure(&e, json))
}

fn failure(e: &ResolveError, json: bool) -> anyhow::Error {
    if json {
        let (explanation, hints) = match e.no_solution() {
            Some(r) => (r.explanation().to_owned(), r.hints().to_vec()),
            None => (e.to_string(), Vec::new()),
        };
        println!(
            "{}",
            serde_json::to_string_pretty(
                &json!({ "resolved": false, "report": e.to_string(), "explanation": explanation, "hints": hints })
            )
            .unwrap_or_default()
        );
    }
    match e {
        // The report carries its own `hint:` lines.
        ResolveError::NoSolution(report) => {
            Diagnostics(vec![Diagnostic::new(report.to_string().trim_end().to_owned())]).into()
        }
        other => fail(
            Diagnostic::new(other.to_string()).hint("simplify the stack's wants, or resolve with fewer constraints"),
        ),
    }
}

/// `implements govstack/identity 1.0.2 for the stack (^1.0); required by ...`.
pub fn why(p: &ChosenPackage) -> String {
    if let Some(system) = &p.existing {
        return format!("already running as {system}");
    }
    p.satisfies
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// The resolution as a table: one line per package, then who fills each spec.
pub fn table(resolution: &Resolution) -> String {
    let mut out = String::new();
    let rows: Vec<[String; 4]> = resolution
        .packages
        .iter()
        .map(|p| {
            [
                p.name.to_string(),
                p.version.to_string(),
                p.digest.as_ref().map(short_digest).unwrap_or_else(|| "-".into()),
                why(p),
            ]
        })
        .collect();
    let header = ["package", "version", "digest", "why"].map(str::to_owned);
    let widths: Vec<usize> = (0..3)
        .map(|i| rows.iter().chain([&header]).map(|r| r[i].len()).max().unwrap_or(0))
        .collect();
    for r in [&header].into_iter().chain(&rows) {
        out.push_str(&format!(
            "  {:<w0$}  {:<w1$}  {:<w2$}  {}\n",
            r[0],
            r[1],
            r[2],
            r[3],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2]
        ));
    }
    if !resolution.specs.is_empty() {
        out.push_str("specs:\n");
        let width = resolution
            .specs
            .iter()
            .map(|s| s.spec.as_str().len() + 1 + s.version.to_string().len())
            .max()
            .unwrap_or(0);
        for s in &resolution.specs {
            let spec = format!("{} {}", s.spec, s.version);
            out.push_str(&format!("  {spec:<width$}  {}\n", s.provider));
        }
    }
    out
}

/// The resolution as JSON.
pub fn to_json(resolution: &Resolution) -> Value {
    let packages: Vec<Value> = resolution
        .packages
        .iter()
        .map(|p| {
            json!({
                "name": p.name,
                "version": p.version.to_string(),
                "digest": p.digest,
                "key_ids": p.key_ids,
                "existing": p.existing,
                "install": p.to_install(),
                "why": p.satisfies.iter().map(ToString::to_string).collect::<Vec<_>>(),
            })
        })
        .collect();
    let specs: Vec<Value> = resolution
        .specs
        .iter()
        .map(|s| {
            let provider = match &s.provider {
                SpecProvider::Existing { system } => json!({ "existing": system }),
                SpecProvider::Package { name, version } => json!({ "package": name, "version": version.to_string() }),
            };
            json!({
                "spec": s.spec,
                "version": s.version.to_string(),
                "provider": provider,
                "needed_by": s.needed_by.iter().map(|(d, r)| json!({ "dependent": d.to_string(), "requirement": r.to_string() })).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({ "resolved": true, "packages": packages, "specs": specs })
}

/// Warns when the stack profile changed since `lock` was written.
pub fn warn_if_stale(stack: &Stack, lock: &Lockfile, flags: &ResolveFlags) {
    if lock.stack != stack.digest() {
        eprintln!(
            "warning: {} changed since {} was written; resolve again to record it",
            flags.stack.display(),
            flags.lock.display()
        );
    }
}
