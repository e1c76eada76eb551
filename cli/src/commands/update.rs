//! `govstore update [PACKAGE...]`: resolve the stack again and move locked versions to
//! the newest that fit: all of them, or only the named packages (the others stay at
//! their locked versions while those still fit).

use std::collections::BTreeSet;

use clap::Args;
use govstore_core::package::PackageName;
use govstore_core::stack::Lockfile;
use govstore_resolver::ResolveOptions;
use serde::Serialize;

use super::files::{read_lockfile, read_stack, write_lockfile};
use super::resolution::{ResolveFlags, fetch, resolve, warn_if_stale};
use crate::context::{Ctx, parse_name};
use crate::diagnostic::{Diagnostic, fail};
use crate::output::print_json;

#[derive(Debug, Args)]
pub struct UpdateArgs {
    #[command(flatten)]
    flags: ResolveFlags,
    /// Show what would change without writing the lockfile
    #[arg(long)]
    dry_run: bool,
    /// Only these packages (`mosip/esignet`); all when none is given
    #[arg(value_name = "PACKAGE")]
    packages: Vec<String>,
}

/// One change to the lockfile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub name: PackageName,
    pub from: Option<String>,
    pub to: Option<String>,
}

pub fn run(ctx: &Ctx, args: UpdateArgs) -> anyhow::Result<()> {
    let flags = &args.flags;
    let stack = read_stack(&flags.stack)?;
    let old = read_lockfile(&flags.lock)?;
    warn_if_stale(&stack, &old, flags);
    let mut only = BTreeSet::new();
    for p in &args.packages {
        let name = parse_name(p)?;
        if old.get(&name).is_none() {
            return Err(fail(
                Diagnostic::new(format!("{name} is not in {}", flags.lock.display()))
                    .hint("name packages the lockfile has, or run `govstore resolve` to add new ones"),
            ));
        }
        only.insert(name);
    }
    let fetched = fetch(ctx, flags, &stack, Some(&old))?;
    let mut options = ResolveOptions::default();
    if !only.is_empty() {
        options = options.with_lockfile(&old);
        options.locked.retain(|name, _| !only.contains(name));
    }
    let resolution = resolve(&fetched, &stack, &options, ctx.json)?;
    let new = resolution.to_lockfile(&stack, &fetched.source);
    let changes = changes(&old, &new);
    let write = !args.dry_run && new != old;
    if write {
        write_lockfile(&flags.lock, &new)?;
    }
    if ctx.json {
        return print_json(&serde_json::json!({ "changes": changes, "written": write }));
    }
    let path = flags.lock.display();
    if changes.is_empty() {
        println!("{path} is up to date: no newer compatible versions");
        return Ok(());
    }
    for c in &changes {
        match (&c.from, &c.to) {
            (Some(f), Some(t)) => println!("  {} {f} -> {t}", c.name),
            (None, Some(t)) => println!("  {} {t} (new)", c.name),
            (Some(f), None) => println!("  {} {f} (no longer needed)", c.name),
            (None, None) => {}
        }
    }
    let n = govstore_client::install::plural(changes.len(), "change");
    if args.dry_run {
        println!("dry run: {path} not written ({n})");
    } else {
        println!("wrote {path} ({n})");
    }
    Ok(())
}

/// What differs between two lockfiles, by package name. A package whose digest changed
/// at the same version is listed too.
pub fn changes(old: &Lockfile, new: &Lockfile) -> Vec<Change> {
    let names: BTreeSet<&PackageName> = old.packages.iter().chain(&new.packages).map(|p| &p.name).collect();
    names
        .into_iter()
        .filter_map(|name| {
            let (a, b) = (old.get(name), new.get(name));
            let same = match (a, b) {
                (Some(a), Some(b)) => a.version == b.version && a.digest == b.digest,
                _ => false,
            };
            (!same).then(|| Change {
                name: name.clone(),
                from: a.map(|p| p.version.to_string()),
                to: b.map(|p| p.version.to_string()),
            })
        })
        .collect()
}
