//! `govstore yank NAME@VERSION --reason R` and `--undo`.

use clap::Args;

use crate::context::{Ctx, block_on, parse_name_version};
use crate::diagnostic::client_error;
use crate::output::print_json;

#[derive(Debug, Args)]
pub struct YankArgs {
    /// The version, as NAME@VERSION (`mosip/esignet@1.8.0`)
    package: String,
    /// Why the version should not be used, shown to everyone who finds it
    #[arg(long, required_unless_present = "undo", conflicts_with = "undo")]
    reason: Option<String>,
    /// Take the yank back
    #[arg(long)]
    undo: bool,
}

pub fn run(ctx: &Ctx, args: YankArgs) -> anyhow::Result<()> {
    let (name, version) = parse_name_version(&args.package)?;
    let client = ctx.client(true)?;
    let url = client.base_url().to_owned();
    let version = version.to_string();
    let (ns, short) = (name.namespace(), name.name());
    let answer = match &args.reason {
        Some(reason) if !args.undo => block_on(client.yank(ns, short, &version, reason))?,
        _ => block_on(client.unyank(ns, short, &version))?,
    }
    .map_err(|e| client_error(&e, &url))?;
    if ctx.json {
        return print_json(&answer);
    }
    match (answer.yanked, answer.yank_reason.as_deref()) {
        (true, Some(reason)) => println!("yanked {name}@{version}: {reason}"),
        (true, None) => println!("yanked {name}@{version}"),
        (false, _) => println!("{name}@{version} is no longer yanked"),
    }
    Ok(())
}
