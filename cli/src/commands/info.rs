//! `govstore info NAME` or `NAME@VERSION`.

use clap::Args;

use crate::context::{Ctx, block_on, parse_name, parse_name_version};
use crate::diagnostic::client_error;
use crate::output::{print_json, short_digest};

#[derive(Debug, Args)]
pub struct InfoArgs {
    /// The package (`mosip/esignet`), or one version (`mosip/esignet@1.8.0`)
    package: String,
}

pub fn run(ctx: &Ctx, args: InfoArgs) -> anyhow::Result<()> {
    let client = ctx.client(false)?;
    let url = client.base_url().to_owned();
    if args.package.contains('@') {
        let (name, version) = parse_name_version(&args.package)?;
        let v = block_on(client.version(name.namespace(), name.name(), &version.to_string()))?
            .map_err(|e| client_error(&e, &url))?;
        if ctx.json {
            return print_json(&v);
        }
        println!("{name} {}", v.info.version);
        println!("  digest:    {}", v.info.digest);
        println!("  published: {}", v.info.published_at.as_deref().unwrap_or("-"));
        println!("  key:       {}", v.info.key_id.as_deref().unwrap_or("-"));
        if v.info.yanked {
            println!("  yanked:    {}", v.info.yank_reason.as_deref().unwrap_or("yes"));
        }
        if let Some(p) = v.manifest.get("package") {
            for (label, key) in [("licence", "license"), ("summary", "description")] {
                if let Some(value) = p.get(key).and_then(|x| x.as_str()) {
                    println!("  {:<10} {value}", format!("{label}:"));
                }
            }
        }
        if let Some(list) = v.manifest.get("implements").and_then(|x| x.as_array()) {
            for (i, imp) in list.iter().enumerate() {
                let spec = imp.get("spec").and_then(|x| x.as_str()).unwrap_or("?");
                let ver = imp.get("version").and_then(|x| x.as_str()).unwrap_or("?");
                let label = if i == 0 { "implements:" } else { "" };
                println!("  {label:<10} {spec} {ver}");
            }
        }
        return Ok(());
    }
    let name = parse_name(&args.package)?;
    let p = block_on(client.package(name.namespace(), name.name()))?.map_err(|e| client_error(&e, &url))?;
    if ctx.json {
        return print_json(&p);
    }
    println!("{}", p.name);
    if let Some(d) = &p.description {
        println!("  {d}");
    }
    println!("  licence:  {}", p.license.as_deref().unwrap_or("-"));
    println!("  latest:   {}", p.latest.as_deref().unwrap_or("none (every version is yanked)"));
    println!("  versions:");
    for v in &p.versions {
        let yanked = if v.yanked {
            format!("  yanked: {}", v.yank_reason.as_deref().unwrap_or("no reason given"))
        } else {
            String::new()
        };
        println!(
            "    {:<12} {}  {}{yanked}",
            v.version,
            v.published_at.as_deref().unwrap_or("-"),
            short_digest(&v.digest)
        );
    }
    Ok(())
}
