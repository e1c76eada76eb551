//! `govstore key register|list|revoke`: the signing keys of a namespace.

use std::path::PathBuf;

use clap::Subcommand;
use govstore_signing::PublicKey;
use serde_json::json;

use crate::context::{Ctx, block_on};
use crate::diagnostic::{Diagnostic, client_error, fail};
use crate::output::print_json;

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Register a public key for a namespace, so that its packages may be signed with it
    Register {
        /// The namespace (organisation), such as `mosip`
        #[arg(long, value_name = "NS")]
        namespace: String,
        /// The public key file
        #[arg(long, default_value = "cosign.pub", value_name = "FILE")]
        key: PathBuf,
        /// A name to recognise the key by, such as `release-laptop`
        #[arg(long, value_name = "NAME")]
        name: Option<String>,
    },
    /// List a namespace's keys, revoked ones included
    List {
        /// The namespace
        namespace: String,
    },
    /// Revoke a key: signatures made with it no longer verify
    Revoke {
        /// The namespace
        namespace: String,
        /// The key id (`sha256:...`), as `govstore key list` shows it
        key_id: String,
        /// Why, for those who find the key revoked
        #[arg(long)]
        reason: String,
    },
}

pub fn run(ctx: &Ctx, cmd: KeyCommand) -> anyhow::Result<()> {
    // Listing keys is public; registering and revoking need a token.
    let client = ctx.client(!matches!(cmd, KeyCommand::List { .. }))?;
    let url = client.base_url().to_owned();
    match cmd {
        KeyCommand::Register { namespace, key, name } => {
            let pem = std::fs::read_to_string(&key)
                .map_err(|e| fail(Diagnostic::new(format!("cannot read `{}`: {e}", key.display()))))?;
            if pem.contains("PRIVATE KEY") {
                return Err(fail(
                    Diagnostic::new(format!("`{}` is a private key", key.display()))
                        .hint("register the public key (cosign.pub); the private key never leaves your machine"),
                ));
            }
            let public =
                PublicKey::from_pem(&pem).map_err(|e| fail(Diagnostic::new(format!("`{}`: {e}", key.display()))))?;
            let registered = block_on(client.register_key(&namespace, &public.to_pem(), name.as_deref()))?
                .map_err(|e| client_error(&e, &url))?;
            if ctx.json {
                return print_json(&registered);
            }
            let named = registered
                .name
                .as_deref()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default();
            println!("registered key {}{named} for namespace {namespace}", registered.key_id);
        }
        KeyCommand::List { namespace } => {
            let keys = block_on(client.list_keys(&namespace))?.map_err(|e| client_error(&e, &url))?;
            if ctx.json {
                return print_json(&json!({ "namespace": namespace, "keys": keys }));
            }
            if keys.is_empty() {
                println!("namespace {namespace} has no keys");
                return Ok(());
            }
            for k in &keys {
                let status = match (&k.revoked_at, &k.revoke_reason) {
                    (Some(at), Some(reason)) => format!("revoked {at}: {reason}"),
                    (Some(at), None) => format!("revoked {at}"),
                    (None, _) => "active".to_owned(),
                };
                println!(
                    "{}  {:<16}  added {}  {status}",
                    k.key_id,
                    k.name.as_deref().unwrap_or("-"),
                    k.created_at
                );
            }
        }
        KeyCommand::Revoke {
            namespace,
            key_id,
            reason,
        } => {
            let answer =
                block_on(client.revoke_key(&namespace, &key_id, &reason))?.map_err(|e| client_error(&e, &url))?;
            if ctx.json {
                return print_json(&answer);
            }
            println!("revoked key {key_id} of namespace {namespace}: {reason}");
        }
    }
    Ok(())
}
