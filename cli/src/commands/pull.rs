//! `govstore pull COUNTRY/NAME@VERSION --into DIR`: install a country-signed bundle,
//! verified against the keys the operator pinned (`govstore trust add`).
//!
//! 1. The country's pinned keys and threshold come from the trust file; a country
//!    without pins stops here (nothing is trusted on first use).
//! 2. The bundle's image index is fetched by its version tag and its digest computed
//!    here; at least the pinned threshold of distinct pinned keys must have signed a
//!    statement naming this bundle and this digest.
//! 3. Every member must still hold the threshold of approvals by the pinned keys
//!    (verified here from the sparse index's envelopes); a revoked or expired one stops
//!    the pull with the reason, unless `--allow-revoked`, which the receipt records.
//! 4. Then the members install like `govstore install` (each publisher signature and
//!    digest checked, staged, swapped in by rename, receipt last): packages the
//!    directory already holds at the same digest are left alone, so pulling the next
//!    bundle version touches only what changed, and a rerun does nothing.

use std::path::PathBuf;

use clap::Args;
use govstore_client::bundles;
use govstore_client::install::{self, InstallOptions, ReceiptBundle, plural};
use govstore_client::trust::TrustFile;
use govstore_core::manifest::Url;

use super::bundle::{fetch, reference};
use super::install::{approval_state, cache, summary};
use crate::context::{Ctx, block_on};
use crate::diagnostic::{Diagnostic, client_error, fail};
use crate::output::print_json;
use crate::progress::CliProgress;

#[derive(Debug, Args)]
pub struct PullArgs {
    /// The bundle, COUNTRY/NAME@VERSION (`SL/national-id@2026.1`); with --from,
    /// optional (the export names its bundle; if given, it must match)
    #[arg(required_unless_present = "from")]
    bundle: Option<String>,
    /// Install from an export (`govstore export`), with no registry at all: a tar, or
    /// the `.parts.json` of a split export
    #[arg(long, value_name = "FILE")]
    from: Option<PathBuf>,
    /// With --from a differential export (`export --since`): the export of the
    /// version it builds on, verified in full first
    #[arg(long, value_name = "BASE", requires = "from")]
    base: Option<PathBuf>,
    /// The directory to install into (packages go to DIR/<namespace>/<name>)
    #[arg(long, value_name = "DIR")]
    into: PathBuf,
    /// Install members whose approval was revoked or expired since the bundle was
    /// signed (recorded in the receipt)
    #[arg(long)]
    allow_revoked: bool,
    /// Packages and blobs to work on at once
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    jobs: u16,
}

/// A bundle verified online exactly as `govstore pull` does, with what the rest of
/// the pull (or an export) needs.
pub struct Online {
    pub client: govstore_client::RegistryClient,
    pub cache: govstore_client::cache::Cache,
    pub verified: bundles::Verified,
    pub index: Vec<u8>,
    pub envelopes: Vec<serde_json::Value>,
    pub country_trust: govstore_client::approvals::CountryTrust,
    pub lock: govstore_core::stack::Lockfile,
    /// Members no longer approved by the pinned keys.
    pub problems: Vec<String>,
    /// Those of `problems` never approved (not revoked or expired): no flag overrides them.
    pub missing: Vec<String>,
}

pub fn run(ctx: &Ctx, args: PullArgs) -> anyhow::Result<()> {
    if let Some(from) = args.from.clone() {
        return super::import::pull_from(
            ctx,
            &from,
            args.base.as_deref(),
            args.bundle.as_deref(),
            &args.into,
            args.allow_revoked,
            args.jobs,
        );
    }
    let raw = args.bundle.clone().unwrap_or_default();
    let Online {
        client,
        cache,
        verified,
        country_trust,
        lock,
        problems,
        missing,
        ..
    } = verify_online(ctx, &raw)?;
    let b = &verified.bundle;
    let cc = b.country;
    if !problems.is_empty() && (!args.allow_revoked || !missing.is_empty()) {
        return Err(not_approved(&problems, b, Next::given(&missing)));
    }
    let previous = install::Receipt::read(&args.into).ok().flatten();
    let options = InstallOptions {
        into: args.into.clone(),
        jobs: usize::from(args.jobs),
        limits: Default::default(),
        bundle: Some(ReceiptBundle {
            reference: b.reference().to_string(),
            digest: verified.digest.clone(),
            signers: verified.signers.clone(),
            overrides: problems.iter().map(|p| format!("allow-revoked: {p}")).collect(),
        }),
    };
    let progress = CliProgress::shared(ctx.json, "downloading");
    let report = block_on(install::install(Some(&client), &cache, &lock, &options, &progress))?
        .map_err(|e| fail(Diagnostic::new(e.to_string())))?;
    if ctx.json {
        return print_json(&report);
    }
    if let Some(prev) = previous.as_ref().and_then(|p| p.bundle.as_ref())
        && prev.reference != b.reference().to_string()
    {
        println!("{} -> {}", prev.reference, b.reference());
    }
    println!(
        "{} verified: {} of {} pinned signatures of {cc}, every member approved{}",
        b.reference(),
        verified.signers.len(),
        country_trust.threshold,
        if problems.is_empty() {
            ""
        } else {
            " (revoked members allowed by --allow-revoked)"
        }
    );
    print!(
        "{}",
        summary(&report, &args.into.display().to_string(), &b.reference().to_string())
    );
    Ok(())
}

/// The refusal of a bundle whose members are not all approved by the pinned keys, with
/// [`Next`] step.
pub fn not_approved(problems: &[String], b: &govstore_core::bundle::Bundle, next: Next) -> anyhow::Error {
    let d = Diagnostic::new(format!(
        "{} of {} no longer approved in {} by the pinned keys:\n  {}",
        plural(problems.len(), "member"),
        b.reference(),
        b.country.as_str(),
        problems.join("\n  ")
    ));
    fail(d.hint(match next {
        Next::Override => {
            "pull the country's next bundle version, or pass --allow-revoked to install it anyway (recorded in the receipt)"
        }
        Next::AskCountry => {
            "a member never approved by the pinned keys cannot be allowed (--allow-revoked covers approvals revoked or expired); ask the country for a bundle whose members it approved"
        }
        Next::ExportAnother => "export the country's next bundle version",
    }))
}

/// What a refused operator can do.
#[derive(Debug, Clone, Copy)]
pub enum Next {
    /// Every problem is a lapsed approval: `--allow-revoked` may install it.
    Override,
    /// Some member was never approved: nothing here overrides that.
    AskCountry,
    /// (export) Export another bundle version.
    ExportAnother,
}

impl Next {
    /// `Override` when nothing is `missing`, else `AskCountry`.
    pub fn given(missing: &[String]) -> Self {
        if missing.is_empty() {
            Self::Override
        } else {
            Self::AskCountry
        }
    }
}

/// Steps 1-3 of the module documentation, online: the bundle's signatures against
/// the pinned keys, and each member's approvals.
pub fn verify_online(ctx: &Ctx, raw: &str) -> anyhow::Result<Online> {
    let (r, version) = reference(raw)?;
    let cc = r.country;
    let trust_path = TrustFile::path().map_err(|e| fail(Diagnostic::new(e.to_string())))?;
    let trust_file = TrustFile::load(&trust_path).map_err(|e| fail(Diagnostic::new(e.to_string())))?;
    let pinned = trust_file.trust(cc).ok_or_else(|| {
        fail(
            Diagnostic::new(format!("no approver keys of {cc} are pinned, so no bundle of {cc} can be trusted"))
                .hint(format!(
                    "check the key ids of `govstore country show {cc}` against the ministry's own record, then `govstore trust add {cc} --key ID --key ID --threshold N`"
                )),
        )
    })?;
    let client = ctx.client(false)?;
    let url = client.base_url().to_owned();
    let country_trust = super::resolution::country_trust(&client, &pinned, cc)?;
    let (_, index) = fetch(&client, &r, version)?;
    let state = block_on(client.bundle(cc.as_str(), r.name.as_str(), &version.to_string()))?
        .map_err(|e| client_error(&e, &url))?;
    let envelopes = state["envelopes"].as_array().cloned().unwrap_or_default();
    let verified = bundles::verify(&r.at(version), &index, &envelopes, &country_trust).map_err(|e| {
        fail(Diagnostic::new(e.to_string()).hint(format!(
            "more approvers of {cc} must sign it (`govstore bundle sign`), or the pinned keys are not theirs"
        )))
    })?;
    let b = &verified.bundle;

    let cache = cache()?;
    let index_client = govstore_client::index::IndexClient::new(client.clone(), cache.clone(), false);
    let mut key_ids = std::collections::BTreeMap::new();
    for m in &b.members {
        let doc =
            block_on(index_client.package(&m.name))?.map_err(|e| fail(Diagnostic::new(format!("{}: {e}", m.name))))?;
        let ids = doc
            .as_ref()
            .and_then(|(d, _)| d.versions.iter().find(|v| v.digest == m.digest))
            .map(|v| v.key_ids.clone())
            .ok_or_else(|| {
                fail(Diagnostic::new(format!(
                    "{}@{} ({}) is not in {url}'s index",
                    m.name, m.version, m.digest
                )))
            })?;
        key_ids.insert(m.name.clone(), ids);
    }
    let source: Url = url
        .parse()
        .map_err(|e| fail(Diagnostic::new(format!("the registry URL {url}: {e}"))))?;
    let lock = bundles::lockfile(
        b,
        &source,
        |m| key_ids.get(&m.name).cloned().unwrap_or_default(),
        pinned,
    );
    let state = approval_state(&client, &cache, &lock)?;
    let missing = state.iter().filter(|p| !p.lapsed).map(|p| p.text.clone()).collect();
    let problems = state.into_iter().map(|p| p.text).collect();
    Ok(Online {
        client,
        cache,
        verified,
        index,
        envelopes,
        country_trust,
        lock,
        problems,
        missing,
    })
}
