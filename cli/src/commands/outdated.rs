//! `govstore outdated`: for each locked package, the version a fresh resolution of the
//! stack would choose (the newest that still fits everything else) and the newest
//! published one, and whether the locked version has been yanked since.

use clap::Args;
use govstore_core::index::Catalogue;
use govstore_core::package::PackageName;
use govstore_core::stack::{Lockfile, Stack};
use govstore_resolver::{Resolution, ResolveOptions};
use semver::Version;
use serde::Serialize;

use super::files::{read_lockfile, read_stack};
use super::resolution::{ResolveFlags, fetch, warn_if_stale};
use crate::context::Ctx;
use crate::output::print_json;

#[derive(Debug, Args)]
pub struct OutdatedArgs {
    #[command(flatten)]
    flags: ResolveFlags,
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    pub name: PackageName,
    /// `None` for a package a fresh resolution would add.
    pub locked: Option<String>,
    /// What a fresh resolution chooses; `None` if it would drop the package (or found no
    /// solution).
    pub compatible: Option<String>,
    /// The newest version published (not yanked; pre-releases only if the stack allows
    /// them or one is locked).
    pub latest: Option<String>,
    /// The yank reason of the locked version, if it has been yanked.
    pub locked_yanked: Option<String>,
}

impl Row {
    fn is_current(&self) -> bool {
        self.locked.is_some()
            && self.locked == self.compatible
            && self.locked == self.latest
            && self.locked_yanked.is_none()
    }
}

pub fn run(ctx: &Ctx, args: OutdatedArgs) -> anyhow::Result<()> {
    let flags = &args.flags;
    let stack = read_stack(&flags.stack)?;
    let lock = read_lockfile(&flags.lock)?;
    warn_if_stale(&stack, &lock, flags);
    let fetched = fetch(ctx, flags, &stack, Some(&lock))?;
    let fresh = match govstore_resolver::resolve(&fetched.catalogue, &stack, &ResolveOptions::default()) {
        Ok(r) => Some(r),
        Err(_) => {
            eprintln!("warning: no set of packages fits the stack without the lockfile; `govstore resolve` shows why");
            None
        }
    };
    let rows = rows(&fetched.catalogue, &stack, &lock, fresh.as_ref());
    if ctx.json {
        return print_json(&rows);
    }
    print!("{}", render(&rows, &lock, &flags.lock.display().to_string()));
    Ok(())
}

/// The report's rows, by package name.
pub fn rows(catalogue: &Catalogue, stack: &Stack, lock: &Lockfile, fresh: Option<&Resolution>) -> Vec<Row> {
    let mut names: Vec<PackageName> = lock.packages.iter().map(|p| p.name.clone()).collect();
    if let Some(r) = fresh {
        names.extend(r.to_install().map(|p| p.name.clone()));
    }
    names.sort();
    names.dedup();
    names
        .into_iter()
        .map(|name| {
            let locked = lock.get(&name);
            let versions = catalogue.packages.get(&name).map(Vec::as_slice).unwrap_or_default();
            let prerelease_ok = stack.policy.allow_prereleases || locked.is_some_and(|l| !l.version.pre.is_empty());
            let latest: Option<&Version> = versions
                .iter()
                .filter(|v| !v.yanked && (prerelease_ok || v.version.pre.is_empty()))
                .map(|v| &v.version)
                .max();
            let locked_yanked = locked.and_then(|l| {
                versions
                    .iter()
                    .find(|v| v.version == l.version && v.yanked)
                    .map(|v| v.yank_reason.clone().unwrap_or_else(|| "no reason given".into()))
            });
            Row {
                locked: locked.map(|l| l.version.to_string()),
                compatible: fresh
                    .and_then(|r| r.get(&name))
                    .filter(|p| p.to_install())
                    .map(|p| p.version.to_string()),
                latest: latest.map(ToString::to_string),
                locked_yanked,
                name,
            }
        })
        .collect()
}

/// The table, or a line saying everything is current.
pub fn render(rows: &[Row], lock: &Lockfile, lock_path: &str) -> String {
    let shown: Vec<&Row> = rows.iter().filter(|r| !r.is_current()).collect();
    if shown.is_empty() {
        let n = govstore_client::install::plural(lock.packages.len(), "locked package");
        return format!("{n} in {lock_path}, all at the newest compatible and newest published version\n");
    }
    let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    let cells: Vec<[String; 5]> = shown
        .iter()
        .map(|r| {
            let note = match (&r.locked_yanked, &r.locked, &r.compatible) {
                (Some(reason), _, _) => format!("locked version yanked: {reason}"),
                (None, None, Some(_)) => "a fresh resolution adds it".into(),
                (None, Some(_), None) => "a fresh resolution drops it".into(),
                (None, l, c) if l != c => "`govstore update` moves to the compatible version".into(),
                _ => "newer versions do not fit the stack".into(),
            };
            [
                r.name.to_string(),
                dash(&r.locked),
                dash(&r.compatible),
                dash(&r.latest),
                note,
            ]
        })
        .collect();
    let header = ["package", "locked", "compatible", "latest", "note"].map(str::to_owned);
    let widths: Vec<usize> = (0..4)
        .map(|i| cells.iter().chain([&header]).map(|r| r[i].len()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for r in [&header].into_iter().chain(&cells) {
        out.push_str(&format!(
            "  {:<w0$}  {:<w1$}  {:<w2$}  {:<w3$}  {}\n",
            r[0],
            r[1],
            r[2],
            r[3],
            r[4],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
            w3 = widths[3]
        ));
    }
    out
}
