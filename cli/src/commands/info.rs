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
        let row = |label: &str, value: &str| println!("  {:<12}{value}", format!("{label}:"));
        row("digest", &v.info.digest.to_string());
        row("published", v.info.published_at.as_deref().unwrap_or("-"));
        row("signed by", v.info.key_id.as_deref().unwrap_or("-"));
        if v.info.yanked {
            row("yanked", v.info.yank_reason.as_deref().unwrap_or("no reason given"));
        }
        if let Some(p) = v.manifest.get("package") {
            for (label, key) in [("title", "title"), ("licence", "license"), ("summary", "description")] {
                if let Some(value) = p.get(key).and_then(|x| x.as_str()) {
                    row(label, value);
                }
            }
        }
        let implements = v
            .manifest
            .get("implements")
            .and_then(|x| x.as_array())
            .cloned()
            .unwrap_or_default();
        for (i, imp) in implements.iter().enumerate() {
            let spec = imp.get("spec").and_then(|x| x.as_str()).unwrap_or("?");
            let ver = imp.get("version").and_then(|x| x.as_str()).unwrap_or("?");
            let how = imp.get("how").and_then(|x| x.as_str()).unwrap_or("?");
            let line = format!("{spec} {ver} ({how})");
            if i == 0 {
                row("implements", &line);
            } else {
                println!("  {:<12}{line}", "");
            }
        }
        return Ok(());
    }
    let name = parse_name(&args.package)?;
    let p = block_on(client.package(name.namespace(), name.name()))?.map_err(|e| client_error(&e, &url))?;
    if ctx.json {
        return print_json(&p);
    }
    match &p.title {
        Some(t) => println!("{}  {t}", p.name),
        None => println!("{}", p.name),
    }
    if let Some(d) = &p.description {
        println!("  {d}");
    }
    println!("  licence:  {}", p.license.as_deref().unwrap_or("-"));
    println!(
        "  latest:   {}",
        p.latest.as_deref().unwrap_or("none (every version is yanked)")
    );
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
