//! `govstore trust add/list/remove`: the country approver keys an operator pins for
//! `govstore pull` (see `govstore_client::trust`). Nothing is trusted on first use.

use clap::Subcommand;
use govstore_client::trust::TrustFile;
use govstore_core::manifest::values::CountryCode;

use crate::context::Ctx;
use crate::diagnostic::{Diagnostic, fail};
use crate::output::print_json;

#[derive(Debug, Subcommand)]
pub enum TrustCommand {
    /// Pin approver keys of a country (ids from `govstore country show CC`, checked
    /// against the ministry's own record)
    Add {
        /// ISO 3166-1 alpha-2 code (`SL`)
        country: String,
        /// A key id to pin (repeatable)
        #[arg(long = "key", value_name = "KEY_ID", required = true)]
        keys: Vec<String>,
        /// How many pinned keys must sign a bundle (needed on a country's first pin)
        #[arg(long, value_name = "N")]
        threshold: Option<u32>,
    },
    /// List the pinned countries and keys
    List,
    /// Forget a country's pinned keys
    Remove {
        /// ISO 3166-1 alpha-2 code
        country: String,
    },
}

fn code(raw: &str) -> anyhow::Result<CountryCode> {
    raw.to_ascii_uppercase().parse::<CountryCode>().map_err(|e| {
        fail(Diagnostic::new(e.to_string()).hint("write the country's ISO 3166-1 alpha-2 code, such as SL"))
    })
}

fn load() -> anyhow::Result<(std::path::PathBuf, TrustFile)> {
    let path = TrustFile::path().map_err(|e| fail(Diagnostic::new(e.to_string())))?;
    let file = TrustFile::load(&path).map_err(|e| fail(Diagnostic::new(e.to_string())))?;
    Ok((path, file))
}

pub fn run(ctx: &Ctx, cmd: TrustCommand) -> anyhow::Result<()> {
    let (path, mut file) = load()?;
    match cmd {
        TrustCommand::Add {
            country,
            keys,
            threshold,
        } => {
            let cc = code(&country)?;
            for k in &keys {
                if k.parse::<govstore_core::Digest>().is_err() {
                    return Err(fail(
                        Diagnostic::new(format!("{k:?} is not a key id: `sha256:` and 64 hex digits"))
                            .hint(format!("copy the ids from `govstore country show {cc}`")),
                    ));
                }
            }
            let pinned = file
                .add(cc, &keys, threshold)
                .map_err(|e| fail(Diagnostic::new(e)))?
                .clone();
            file.save(&path).map_err(|e| fail(Diagnostic::new(e.to_string())))?;
            if ctx.json {
                return print_json(&pinned);
            }
            println!(
                "{cc}: {} pinned, {} must sign a bundle ({})",
                pinned.keys.len(),
                pinned.threshold,
                path.display()
            );
        }
        TrustCommand::List => {
            if ctx.json {
                return print_json(&file);
            }
            if file.countries.is_empty() {
                println!("no country keys pinned ({})", path.display());
            }
            for (cc, p) in &file.countries {
                println!("{cc}: {} of {} keys", p.threshold, p.keys.len());
                for k in &p.keys {
                    println!("  {k}");
                }
            }
        }
        TrustCommand::Remove { country } => {
            let cc = code(&country)?;
            if file.countries.remove(cc.as_str()).is_none() {
                return Err(fail(Diagnostic::new(format!("{cc} has no pinned keys"))));
            }
            file.save(&path).map_err(|e| fail(Diagnostic::new(e.to_string())))?;
            println!("{cc}: pinned keys removed");
        }
    }
    Ok(())
}
