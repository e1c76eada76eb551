//! `govstore keygen`: a new ECDSA P-256 key pair in cosign's format.

use std::path::{Path, PathBuf};

use clap::Args;
use govstore_client::config::write_private;
use govstore_signing::KeyPair;
use serde_json::json;

use crate::context::{Ctx, password};
use crate::diagnostic::{Diagnostic, fail};
use crate::output::print_json;

#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// Where to write the encrypted private key (mode 0600)
    #[arg(long, default_value = "cosign.key", value_name = "FILE")]
    key_out: PathBuf,
    /// Where to write the public key
    #[arg(long, default_value = "cosign.pub", value_name = "FILE")]
    pub_out: PathBuf,
    /// Overwrite existing files
    #[arg(long)]
    force: bool,
}

pub fn run(ctx: &Ctx, args: KeygenArgs) -> anyhow::Result<()> {
    if !args.force {
        for path in [&args.key_out, &args.pub_out] {
            if path.exists() {
                return Err(fail(
                    Diagnostic::new(format!("`{}` exists already", path.display()))
                        .hint("pass --force to overwrite it, or choose other files with --key-out and --pub-out"),
                ));
            }
        }
    }
    let password = password("Enter a password for the private key", true)?;
    let key = KeyPair::generate()?;
    let private_pem = key.to_encrypted_pem(password.as_bytes())?;
    let public = key.public_key();
    write_private(&args.key_out, private_pem.as_bytes()).map_err(|e| write_error(&args.key_out, &e))?;
    std::fs::write(&args.pub_out, public.to_pem()).map_err(|e| write_error(&args.pub_out, &e))?;

    let key_id = public.key_id();
    if ctx.json {
        return print_json(&json!({
            "private_key": args.key_out,
            "public_key": args.pub_out,
            "key_id": key_id,
        }));
    }
    println!("private key: {} (encrypted)", args.key_out.display());
    println!("public key:  {}", args.pub_out.display());
    println!("key id:      {key_id}");
    println!(
        "next: register the public key with `govstore key register --namespace NAMESPACE --key {}`",
        args.pub_out.display()
    );
    Ok(())
}

fn write_error(path: &Path, e: &std::io::Error) -> anyhow::Error {
    fail(Diagnostic::new(format!("cannot write `{}`: {e}", path.display())))
}
