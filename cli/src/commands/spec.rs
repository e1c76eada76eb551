//! `govstore spec publish FILE`: publish a building-block specification document.

use std::path::PathBuf;

use clap::Subcommand;

use crate::context::{Ctx, block_on};
use crate::diagnostic::{Diagnostic, client_error, fail};
use crate::output::print_json;

#[derive(Debug, Subcommand)]
pub enum SpecCommand {
    /// Publish a spec document (TOML) or new versions of it
    Publish {
        /// The spec file
        file: PathBuf,
    },
}

pub fn run(ctx: &Ctx, cmd: SpecCommand) -> anyhow::Result<()> {
    match cmd {
        SpecCommand::Publish { file } => {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| fail(Diagnostic::new(format!("cannot read `{}`: {e}", file.display()))))?;
            let client = ctx.client(true)?;
            let url = client.base_url().to_owned();
            let published = block_on(client.publish_spec(&text))?.map_err(|e| client_error(&e, &url))?;
            if ctx.json {
                return print_json(&published);
            }
            let versions: Vec<String> = published
                .versions
                .iter()
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                .collect();
            println!("published spec {} (versions: {})", published.id, versions.join(", "));
        }
    }
    Ok(())
}
