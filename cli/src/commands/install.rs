//! `govstore install --lock govstore.lock --into DIR`: download, verify and unpack
//! every locked package, or do nothing when DIR already matches the lockfile.
//!
//! The registry is `--registry` (or `GOVSTORE_REGISTRY`) when given, else the one the
//! lockfile names as its packages' source, so a mirror can be used without editing
//! the lockfile. `--offline` uses the local cache alone.

use std::collections::BTreeSet;
use std::path::PathBuf;

use clap::Args;
use govstore_client::ClientError;
use govstore_client::cache::Cache;
use govstore_client::install::{self, InstallError, InstallOptions, InstallReport, plural};
use govstore_client::verify::VerifyError;

use super::files::{LOCKFILE, read_lockfile};
use crate::context::{Ctx, block_on};
use crate::diagnostic::{Diagnostic, client_error, fail};
use crate::output::{bytes, print_json, short_digest};
use crate::progress::CliProgress;

#[derive(Debug, Args)]
pub struct InstallArgs {
    /// The lockfile to install
    #[arg(long, value_name = "PATH", default_value = LOCKFILE)]
    lock: PathBuf,
    /// The directory to install into (packages go to DIR/<namespace>/<name>)
    #[arg(long, value_name = "DIR")]
    into: PathBuf,
    /// Use the local cache only, never the network
    #[arg(long)]
    offline: bool,
    /// Packages and blobs to work on at once
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    jobs: u16,
}

/// The local cache, from `GOVSTORE_CACHE_DIR`, `XDG_CACHE_HOME` or `HOME`.
pub fn cache() -> anyhow::Result<Cache> {
    Cache::from_env().map_err(|e| fail(Diagnostic::new(e.to_string())))
}

pub fn run(ctx: &Ctx, args: InstallArgs) -> anyhow::Result<()> {
    let lock = read_lockfile(&args.lock)?;
    let cache = cache()?;
    let sources: BTreeSet<&str> = lock.packages.iter().map(|p| p.source.as_str()).collect();
    let client = if args.offline {
        None
    } else {
        let fallback = match sources.len() {
            0 | 1 => sources.first().copied(),
            _ => {
                return Err(fail(
                    Diagnostic::new(format!(
                        "`{}` names packages from several registries ({})",
                        args.lock.display(),
                        sources.iter().copied().collect::<Vec<_>>().join(", ")
                    ))
                    .hint("pass --registry URL to install them all from one registry or mirror"),
                ));
            }
        };
        Some(ctx.client_or(fallback, false)?)
    };
    let url = client.as_ref().map(|c| c.base_url().to_owned()).unwrap_or_default();
    if let Some(c) = &client {
        check_approvals(c, &cache, &lock)?;
    }
    let options = InstallOptions {
        into: args.into.clone(),
        jobs: usize::from(args.jobs),
        limits: Default::default(),
        bundle: None,
    };
    let progress = CliProgress::shared(ctx.json, "downloading");
    let report = block_on(install::install(client.as_ref(), &cache, &lock, &options, &progress))?
        .map_err(|e| explain(e, &args, &cache, &url))?;
    if ctx.json {
        return print_json(&report);
    }
    print!(
        "{}",
        summary(
            &report,
            &args.into.display().to_string(),
            &args.lock.display().to_string()
        )
    );
    Ok(())
}

/// A lockfile resolved under `approved_only` carries the stack's `[trust]`: every
/// locked version must still hold that threshold of approvals by the pinned keys,
/// verified here from the index's envelopes, before anything is downloaded. A revoked
/// or expired approval stops the install with the reason.
fn check_approvals(
    client: &govstore_client::RegistryClient,
    cache: &Cache,
    lock: &govstore_core::stack::Lockfile,
) -> anyhow::Result<()> {
    let refused = approval_problems(client, cache, lock)?;
    if refused.is_empty() {
        return Ok(());
    }
    let country = lock.trust.country.map(|c| c.to_string()).unwrap_or_default();
    Err(fail(
        Diagnostic::new(format!(
            "{} no longer approved for {country} by the keys the lockfile pins:\n  {}",
            plural(refused.len(), "locked package"),
            refused.join("\n  ")
        ))
        .hint("run `govstore update` to move to approved versions, or ask the country's approvers"),
    ))
}

/// Each locked package that no longer holds the lockfile's `[trust]` threshold of
/// approvals (verified here from the index's envelopes), as `name@version: why`; none
/// when the lockfile pins no country.
pub fn approval_problems(
    client: &govstore_client::RegistryClient,
    cache: &Cache,
    lock: &govstore_core::stack::Lockfile,
) -> anyhow::Result<Vec<String>> {
    Ok(approval_state(client, cache, lock)?
        .into_iter()
        .map(|p| p.text)
        .collect())
}

/// A locked package that lacks the approval the lockfile's `[trust]` asks for.
#[derive(Debug, Clone)]
pub struct ApprovalProblem {
    /// `name@version: why`.
    pub text: String,
    /// It held the threshold once, and a revocation or an expiry took it away (as
    /// opposed to never approved, too few approvals, or an unmet condition): the only
    /// kind an operator may knowingly override.
    pub lapsed: bool,
}

/// [`approval_problems`], telling lapsed approvals from missing ones.
pub fn approval_state(
    client: &govstore_client::RegistryClient,
    cache: &Cache,
    lock: &govstore_core::stack::Lockfile,
) -> anyhow::Result<Vec<ApprovalProblem>> {
    let Some(country) = lock.trust.country else {
        return Ok(Vec::new());
    };
    let url = client.base_url().to_owned();
    let trust = super::resolution::country_trust(client, &lock.trust, country)?;
    let now = super::resolution::now_secs();
    let index = govstore_client::index::IndexClient::new(client.clone(), cache.clone(), false);
    let mut refused = Vec::new();
    for p in &lock.packages {
        let doc = block_on(index.package(&p.name))?.map_err(|e| fail(Diagnostic::new(format!("{}: {e}", p.name))))?;
        let entry = doc
            .as_ref()
            .and_then(|(d, _)| d.versions.iter().find(|v| v.digest == p.digest));
        let (why, lapsed) = match entry {
            None => (
                Some(format!("{} is not in {url}'s index", short_digest(&p.digest))),
                false,
            ),
            Some(v) => match trust.approved(p.name.as_str(), v, now) {
                Err(why) => {
                    let t = trust.tally(p.name.as_str(), v, now);
                    (Some(why), t.revoked.is_some() || !t.expired.is_empty())
                }
                Ok(conditions) => (unmet(&conditions, lock), false),
            },
        };
        if let Some(why) = why {
            refused.push(ApprovalProblem {
                text: format!("{}@{}: {why}", p.name, p.version),
                lapsed,
            });
        }
    }
    Ok(refused)
}

/// The first condition of an approval (only together with a package in a range) that
/// the lockfile does not meet, said in words.
fn unmet(conditions: &[govstore_core::approval::Requires], lock: &govstore_core::stack::Lockfile) -> Option<String> {
    conditions.iter().find_map(|c| {
        let locked = lock.packages.iter().find(|p| p.name == c.package);
        match locked {
            Some(p) if c.version.matches(&p.version) => None,
            Some(p) => Some(format!(
                "approved only together with {} {}, and the lockfile has {}",
                c.package, c.version, p.version
            )),
            None => Some(format!(
                "approved only together with {} {}, which the lockfile does not hold",
                c.package, c.version
            )),
        }
    })
}

/// The text printed after an install.
pub fn summary(report: &InstallReport, into: &str, lock: &str) -> String {
    let mut out = String::new();
    let n = report.receipt.packages.len();
    if report.up_to_date {
        out.push_str(&format!(
            "{into} is up to date with {lock} ({}); nothing to do\n",
            plural(n, "package")
        ));
        return out;
    }
    let mut others = Vec::new();
    if !report.unchanged.is_empty() {
        others.push(format!("{} unchanged", report.unchanged.len()));
    }
    if !report.removed.is_empty() {
        others.push(format!("{} removed", report.removed.len()));
    }
    let others = if others.is_empty() {
        String::new()
    } else {
        format!(" ({})", others.join(", "))
    };
    out.push_str(&format!(
        "installed {} into {into}{others}\n",
        plural(report.installed.len(), "package")
    ));
    let name_width = report
        .receipt
        .packages
        .iter()
        .map(|p| p.name.as_str().len())
        .max()
        .unwrap_or(0);
    let version_width = report
        .receipt
        .packages
        .iter()
        .map(|p| p.version.to_string().len())
        .max()
        .unwrap_or(0);
    for p in &report.receipt.packages {
        out.push_str(&format!(
            "  {:<name_width$}  {:<version_width$}  {}  signed by {}\n",
            p.name.as_str(),
            p.version.to_string(),
            short_digest(&p.digest),
            short_key(&p.key_id)
        ));
    }
    for r in &report.removed {
        out.push_str(&format!("  removed {r}\n"));
    }
    out.push_str(&format!(
        "blobs: {} downloaded ({}), {} from the local cache, every digest and signature checked\n",
        report.downloaded_blobs,
        bytes(report.downloaded_bytes),
        report.cached_blobs
    ));
    if !report.revocation_checked {
        out.push_str("note: offline, so key revocations were not checked\n");
    }
    out
}

fn short_key(id: &str) -> String {
    id.chars().take(19).collect()
}

/// An install error with the next step.
fn explain(e: InstallError, args: &InstallArgs, cache: &Cache, url: &str) -> anyhow::Error {
    let untouched = format!("{} was not changed", args.into.display());
    match e {
        InstallError::Verify { package, problem: VerifyError::Client(c) }
            if !matches!(c, ClientError::DigestMismatch { .. } | ClientError::SizeMismatch { .. }) =>
        {
            let d = Diagnostic::new(format!("{package}: {c}"));
            fail(match &c {
                ClientError::Connect { .. } => d.hint(format!("{untouched}; check that the registry is running, or use --offline to install from the local cache")),
                c if c.is_not_found() => d.hint(format!("{untouched}; the registry at {url} does not have it: was the lockfile resolved against another registry? pass --registry URL")),
                _ => d.hint(untouched),
            })
        }
        InstallError::Keys { problem: VerifyError::Client(c), .. } => client_error(&c, url),
        e @ (InstallError::Verify { .. } | InstallError::Signer { .. } | InstallError::Content { .. })
            if e.to_string().contains("revoked") =>
        {
            fail(Diagnostic::new(e.to_string()).hint(format!(
                "{untouched}; the namespace revoked the key that signed this version: ask its publisher for a version signed with a current key (`govstore key list NAMESPACE` shows the keys)"
            )))
        }
        e @ (InstallError::Verify { .. } | InstallError::Signer { .. } | InstallError::Content { .. }) => fail(
            Diagnostic::new(e.to_string()).hint(format!(
                "{untouched}; what the registry serves does not match what was published and signed: tell the registry's administrators"
            )),
        ),
        e @ InstallError::NotCached { .. } => fail(Diagnostic::new(e.to_string()).hint(format!(
            "{untouched}; install once with network access to fill the cache at {}",
            cache.root().display()
        ))),
        InstallError::Format(e) => fail(Diagnostic::new(e.to_string()).hint(format!("{untouched}; {}", e.hint()))),
        e @ InstallError::Busy(_) => fail(Diagnostic::new(e.to_string()).hint("wait for it to finish, then run the command again")),
        e @ InstallError::Target { .. } => fail(Diagnostic::new(e.to_string()).hint(untouched)),
        e => fail(Diagnostic::new(e.to_string()).hint(format!("run the command again to complete the install into {}", args.into.display()))),
    }
}
