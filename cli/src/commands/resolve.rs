//! `govstore resolve --stack stack.toml`: find the set of packages that fits the stack,
//! print it, and write the lockfile.
//!
//! An existing lockfile's versions are kept while they still fit (use `govstore update`
//! to move them). When nothing fits, the resolver's report says why, with hints, and the
//! exit code is 1; the lockfile is left as it was.

use clap::Args;
use govstore_core::stack::Lockfile;
use govstore_resolver::ResolveOptions;

use super::files::{read_lockfile, read_stack, write_lockfile};
use super::resolution::{ResolveFlags, fetch, resolve, table, to_json, warn_if_stale};
use crate::context::Ctx;
use crate::output::print_json;

#[derive(Debug, Args)]
pub struct ResolveArgs {
    #[command(flatten)]
    flags: ResolveFlags,
    /// Resolve and print, but do not write the lockfile
    #[arg(long)]
    dry_run: bool,
}

pub fn run(ctx: &Ctx, args: ResolveArgs) -> anyhow::Result<()> {
    let flags = &args.flags;
    let stack = read_stack(&flags.stack)?;
    let previous = if flags.lock.exists() {
        Some(read_lockfile(&flags.lock)?)
    } else {
        None
    };
    if let Some(lock) = &previous {
        warn_if_stale(&stack, lock, flags);
    }
    let fetched = fetch(ctx, flags, &stack, previous.as_ref())?;
    let mut options = ResolveOptions::default();
    if let Some(lock) = &previous {
        options = options.with_lockfile(lock);
    }
    let resolution = resolve(&fetched, &stack, &options, ctx.json)?;
    let lock = resolution.to_lockfile(&stack, &fetched.source);
    let changed = previous.as_ref() != Some(&lock);
    if !args.dry_run && changed {
        write_lockfile(&flags.lock, &lock)?;
    }
    if ctx.json {
        let mut out = to_json(&resolution);
        out["lockfile"] = serde_json::json!({
            "path": flags.lock.display().to_string(),
            "written": !args.dry_run && changed,
            "stack": lock.stack,
        });
        return print_json(&out);
    }
    let info = &stack.stack;
    let installs = lock.packages.len();
    println!(
        "resolved {:?} ({}): {} to install, {} already running",
        info.name,
        info.country,
        govstore_client::install::plural(installs, "package"),
        resolution.packages.len() - resolution.to_install().count()
    );
    print!("{}", table(&resolution));
    println!("{}", lock_line(&args, &lock, changed));
    Ok(())
}

fn lock_line(args: &ResolveArgs, lock: &Lockfile, changed: bool) -> String {
    let path = args.flags.lock.display();
    let n = govstore_client::install::plural(lock.packages.len(), "package");
    match (args.dry_run, changed) {
        (true, _) => format!("dry run: {path} not written ({n})"),
        (false, true) => format!("wrote {path} ({n})"),
        (false, false) => format!("{path} is up to date ({n})"),
    }
}
