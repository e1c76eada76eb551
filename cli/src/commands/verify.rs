//! `govstore verify NAME@VERSION`: digests, content safety and the publisher's
//! signature against the namespace's keys.

use clap::Args;
use govstore_client::verify::{self, VerifyError, VerifyOptions};

use crate::context::{Ctx, block_on, parse_name_version};
use crate::diagnostic::{Diagnostic, client_error, fail};
use crate::output::{bytes, print_json};
use crate::progress::CliProgress;

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The version, as NAME@VERSION (`mosip/esignet@1.8.0`)
    package: String,
}

pub fn run(ctx: &Ctx, args: VerifyArgs) -> anyhow::Result<()> {
    let (name, version) = parse_name_version(&args.package)?;
    let client = ctx.client(false)?;
    let url = client.base_url().to_owned();
    let progress = CliProgress::shared(ctx.json, "downloading");
    let version = version.to_string();
    let report = block_on(verify::verify(
        &client,
        &name,
        &version,
        &VerifyOptions::default(),
        &progress,
    ))?
    .map_err(|e| match e {
        VerifyError::Client(c) => client_error(&c, &url),
        VerifyError::NoKeys(_) | VerifyError::Revoked { .. } | VerifyError::BadSignature(_) => fail(
            Diagnostic::new(format!("{name}@{version} failed verification: {e}")).hint(format!(
                "list the namespace's keys with `govstore key list {}`",
                name.namespace()
            )),
        ),
        other => fail(Diagnostic::new(format!(
            "{name}@{version} failed verification: {other}"
        ))),
    })?;
    if ctx.json {
        return print_json(&report);
    }
    let roles: Vec<&str> = report.blobs.iter().map(|b| b.role).collect();
    println!("verified {} {}", report.name, report.version);
    println!("  digest:    {}", report.digest);
    println!("  blobs:     {} verified ({})", report.blobs.len(), roles.join(", "));
    println!(
        "  content:   {} files, {} unpacked, safe to unpack",
        report.content.files,
        bytes(report.content.unpacked_bytes)
    );
    let key_name = report
        .key_name
        .as_deref()
        .map(|n| format!(" ({n})"))
        .unwrap_or_default();
    println!(
        "  signed by: namespace {} with key {}{key_name}",
        report.namespace, report.key_id
    );
    println!("  signature: {}", report.signature_digest);
    println!("  reference: {}", report.docker_reference);
    if !report.reference_host_matches {
        eprintln!(
            "note: the signature names host `{}`; this registry is a copy",
            report.docker_reference
        );
    }
    if report.yanked {
        let reason = report
            .yank_reason
            .as_deref()
            .map(|r| format!(": {r}"))
            .unwrap_or_default();
        eprintln!("warning: {}@{} is yanked{reason}", report.name, report.version);
    }
    Ok(())
}
