//! Country bundles from the command line: `govstore bundle create` makes a bundle
//! version from a lockfile and signs it as the first approver, `bundle sign` adds an
//! approver's signature, `bundle show` prints a version's members, signatures and
//! threshold, and `bundle diff` what changes between two versions.

use std::path::PathBuf;

use clap::Subcommand;
use govstore_client::RegistryClient;
use govstore_core::bundle::{Bundle, BundleDiff, BundleRef, BundleVersion};
use govstore_core::time;
use serde_json::Value;

use super::files::read_lockfile;
use super::publish::load_key;
use crate::context::{Ctx, block_on};
use crate::diagnostic::{Diagnostic, client_error, fail};
use crate::output::{print_json, short_digest};

#[derive(Debug, Subcommand)]
pub enum BundleCommand {
    /// Make a bundle version from a lockfile and sign it (the first approver signature)
    Create {
        /// COUNTRY/NAME@VERSION, the version as YEAR.N (`SL/national-id@2026.1`)
        bundle: String,
        /// The lockfile whose packages the bundle holds
        #[arg(long = "from", value_name = "LOCKFILE")]
        from: PathBuf,
        /// The approver's private key (cosign format; password from GOVSTORE_KEY_PASSWORD or asked)
        #[arg(long, value_name = "PATH")]
        key: PathBuf,
    },
    /// Add an approver's signature to a bundle version
    Sign {
        /// COUNTRY/NAME@VERSION
        bundle: String,
        /// The approver's private key (cosign format)
        #[arg(long, value_name = "PATH")]
        key: PathBuf,
    },
    /// Show a bundle version: members, signatures, threshold, the pull command
    Show {
        /// COUNTRY/NAME@VERSION
        bundle: String,
    },
    /// What changes from one bundle version to another
    Diff {
        /// COUNTRY/NAME@VERSION, the older one
        from: String,
        /// COUNTRY/NAME@VERSION, the newer one
        to: String,
    },
}

pub fn run(ctx: &Ctx, cmd: BundleCommand) -> anyhow::Result<()> {
    match cmd {
        BundleCommand::Create { bundle, from, key } => create(ctx, &bundle, &from, &key),
        BundleCommand::Sign { bundle, key } => sign(ctx, &bundle, &key),
        BundleCommand::Show { bundle } => show(ctx, &bundle),
        BundleCommand::Diff { from, to } => diff(ctx, &from, &to),
    }
}

/// A reference with its version.
pub fn reference(raw: &str) -> anyhow::Result<(BundleRef, BundleVersion)> {
    let r: BundleRef = raw.parse().map_err(|e: govstore_core::bundle::BundleError| {
        fail(Diagnostic::new(e.to_string()).hint("for example SL/national-id@2026.1"))
    })?;
    let v = r.version.ok_or_else(|| {
        fail(
            Diagnostic::new(format!("{raw} names no version"))
                .hint(format!("write {raw}@YEAR.N, such as {raw}@2026.1")),
        )
    })?;
    Ok((r, v))
}

fn create(ctx: &Ctx, raw: &str, from: &std::path::Path, key: &std::path::Path) -> anyhow::Result<()> {
    let (r, version) = reference(raw)?;
    let lock = read_lockfile(from)?;
    let client = ctx.client(true)?;
    let url = client.base_url().to_owned();
    let mut sizes = Vec::with_capacity(lock.packages.len());
    for p in &lock.packages {
        let m = block_on(client.fetch_manifest(&p.name.repo_name(), &p.digest.to_string()))?
            .map_err(|e| client_error(&e, &url))?;
        sizes.push(m.bytes.len() as u64);
    }
    let mut sizes = sizes.into_iter();
    let b = govstore_client::bundles::from_lock(&r, version, &lock, |_| sizes.next().unwrap_or(0))
        .map_err(|e| fail(Diagnostic::new(format!("`{}`: {e}", from.display()))))?;
    upload(ctx, &client, &b, key)
}

fn sign(ctx: &Ctx, raw: &str, key: &std::path::Path) -> anyhow::Result<()> {
    let (r, version) = reference(raw)?;
    let client = ctx.client(true)?;
    let (b, _) = fetch(&client, &r, version)?;
    upload(ctx, &client, &b, key)
}

/// The bundle index as the registry serves it, checked to be the bundle asked for.
pub fn fetch(client: &RegistryClient, r: &BundleRef, version: BundleVersion) -> anyhow::Result<(Bundle, Vec<u8>)> {
    let url = client.base_url().to_owned();
    let repo = r
        .repository()
        .parse()
        .map_err(|e| fail(Diagnostic::new(format!("{}: {e}", r.repository()))))?;
    let m = block_on(client.fetch_manifest(&repo, &version.to_string()))?.map_err(|e| {
        if e.is_not_found() {
            fail(
                Diagnostic::new(format!("{} is not a bundle on {url}", r.at(version))).hint(format!(
                    "list the country's bundles with `curl {url}/api/v1/countries/{}/bundles`",
                    r.country
                )),
            )
        } else {
            client_error(&e, &url)
        }
    })?;
    let b = Bundle::from_index_json(&m.bytes).map_err(|e| fail(Diagnostic::new(format!("{}: {e}", r.at(version)))))?;
    if b.reference() != r.at(version) {
        return Err(fail(Diagnostic::new(format!(
            "{url} served {} when asked for {}",
            b.reference(),
            r.at(version)
        ))));
    }
    Ok((b, m.bytes))
}

fn upload(ctx: &Ctx, client: &RegistryClient, b: &Bundle, key: &std::path::Path) -> anyhow::Result<()> {
    let url = client.base_url().to_owned();
    let me = block_on(client.me())?.map_err(|e| client_error(&e, &url))?;
    let keypair = load_key(key)?;
    let index = b.to_index_json();
    let now = time::rfc3339(super::resolution::now_secs());
    let body = govstore_client::bundles::signature_upload(b, &index, &keypair, Some(&me.user), &now)
        .map_err(|e| fail(Diagnostic::new(e.to_string())))?;
    let state = block_on(client.sign_bundle(b.country.as_str(), &body))?.map_err(|e| client_error(&e, &url))?;
    if ctx.json {
        return print_json(&state);
    }
    print!("{}", state_text(&state, &url));
    Ok(())
}

fn show(ctx: &Ctx, raw: &str) -> anyhow::Result<()> {
    let (r, version) = reference(raw)?;
    let client = ctx.client(false)?;
    let url = client.base_url().to_owned();
    let state = block_on(client.bundle(r.country.as_str(), r.name.as_str(), &version.to_string()))?
        .map_err(|e| client_error(&e, &url))?;
    if ctx.json {
        return print_json(&state);
    }
    print!("{}", state_text(&state, &url));
    Ok(())
}

/// A bundle state as text: what it is, its signatures against the threshold, members.
pub fn state_text(state: &Value, url: &str) -> String {
    let mut out = String::new();
    let reference = state["reference"].as_str().unwrap_or("?");
    let digest = state["digest"].as_str().unwrap_or("?");
    let signed = state["signatures"].as_array().map_or(0, Vec::len);
    let threshold = state["threshold"].as_u64().unwrap_or(0);
    out.push_str(&format!("{reference}  {}\n", short_digest(&digest)));
    let met = if state["threshold_met"].as_bool() == Some(true) {
        "threshold met"
    } else {
        "threshold not met"
    };
    out.push_str(&format!("signatures: {signed} of {threshold} needed ({met})\n"));
    for s in state["signatures"].as_array().into_iter().flatten() {
        out.push_str(&format!(
            "  {}  {}  {}\n",
            govstore_core::approval::short_key(s["key_id"].as_str().unwrap_or("")),
            s["signer"].as_str().unwrap_or(""),
            s["signed_at"].as_str().unwrap_or("")
        ));
    }
    let members = state["members"].as_array().cloned().unwrap_or_default();
    out.push_str(&format!("members ({}):\n", members.len()));
    for m in &members {
        let approval = match m["why_not"].as_str() {
            Some(why) => format!("NOT APPROVED: {why}"),
            None => "approved".to_owned(),
        };
        out.push_str(&format!(
            "  {}@{}  {}  {approval}\n",
            m["name"].as_str().unwrap_or(""),
            m["version"].as_str().unwrap_or(""),
            short_digest(&m["digest"].as_str().unwrap_or(""))
        ));
    }
    let code = reference.split('/').next().unwrap_or("");
    out.push_str(&format!(
        "pull: govstore --registry {url} pull {reference} --into DIR   (pin the keys first: govstore country show {code})\n"
    ));
    out
}

fn diff(ctx: &Ctx, from: &str, to: &str) -> anyhow::Result<()> {
    let (a_ref, a_version) = reference(from)?;
    let (b_ref, b_version) = reference(to)?;
    let client = ctx.client(false)?;
    let (a, _) = fetch(&client, &a_ref, a_version)?;
    let (b, _) = fetch(&client, &b_ref, b_version)?;
    let d = BundleDiff::between(&a, &b);
    if ctx.json {
        return print_json(&d);
    }
    print!("{}", diff_text(&a, &b, &d));
    Ok(())
}

/// A bundle diff as text, one line per package that changes.
pub fn diff_text(a: &Bundle, b: &Bundle, d: &BundleDiff) -> String {
    let mut out = format!("{} -> {}\n", a.reference(), b.reference());
    if d.is_empty() {
        out.push_str("  no package changes\n");
    }
    for m in &d.added {
        out.push_str(&format!("  + {}@{}\n", m.name, m.version));
    }
    for (old, new) in &d.changed {
        out.push_str(&format!("  ~ {} {} -> {}\n", new.name, old.version, new.version));
    }
    for m in &d.removed {
        out.push_str(&format!("  - {}@{}\n", m.name, m.version));
    }
    out.push_str(&format!(
        "{} added, {} changed, {} removed, {} unchanged\n",
        d.added.len(),
        d.changed.len(),
        d.removed.len(),
        d.unchanged.len()
    ));
    out
}
