//! `govstore search QUERY`.

use clap::Args;

use crate::context::{Ctx, block_on};
use crate::diagnostic::client_error;
use crate::output::print_json;

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// Words to look for in names, keywords, descriptions and READMEs
    query: String,
    /// The most results to show
    #[arg(long, default_value_t = 20)]
    limit: u32,
}

pub fn run(ctx: &Ctx, args: SearchArgs) -> anyhow::Result<()> {
    let client = ctx.client(false)?;
    let url = client.base_url().to_owned();
    let found = block_on(client.search(&args.query, args.limit))?.map_err(|e| client_error(&e, &url))?;
    if ctx.json {
        return print_json(&found);
    }
    if found.results.is_empty() {
        println!("nothing matches `{}`", args.query);
        return Ok(());
    }
    for hit in &found.results {
        if !hit.installable || hit.kind == "listing" {
            println!("{} (listing, not installable)", hit.name);
            if let Some(d) = &hit.description {
                println!("    {d}");
            }
            if !hit.see_also.is_empty() {
                println!("    see the package {}", hit.see_also.join(", "));
            }
            continue;
        }
        let yanked = if hit.yanked { " (yanked)" } else { "" };
        let title = hit.title.as_deref().map(|t| format!("  {t}")).unwrap_or_default();
        let partial = if hit.partial {
            "  (matches some of the words)"
        } else {
            ""
        };
        println!("{} {}{yanked}{title}{partial}", hit.name, hit.version);
        if let Some(d) = &hit.description {
            println!("    {d}");
        }
        if !hit.implements.is_empty() {
            println!("    implements {}", hit.implements.join(", "));
        }
    }
    let shown = found.results.len() as u64;
    if found.total > shown {
        println!("{shown} of {} results; pass --limit to see more", found.total);
    }
    Ok(())
}
