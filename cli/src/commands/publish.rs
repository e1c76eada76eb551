//! `govstore publish`: sign and publish the package in a directory.

use std::path::{Path, PathBuf};

use clap::Args;
use govstore_client::pack::PackError;
use govstore_client::publish::{self, PublishError, PublishOptions};
use govstore_client::registry::UploadOutcome;
use govstore_core::Digest;
use govstore_signing::{KeyPair, SigningError};
use serde_json::json;

use crate::commands::manifest::diagnostics;
use crate::context::{Ctx, block_on, password};
use crate::diagnostic::{Diagnostic, client_error, fail};
use crate::output::{bytes, print_json};
use crate::progress::CliProgress;

#[derive(Debug, Args)]
pub struct PublishArgs {
    /// The package directory
    #[arg(default_value = ".")]
    dir: PathBuf,
    /// The encrypted private key to sign with
    #[arg(long, default_value = "cosign.key", value_name = "FILE")]
    key: PathBuf,
    /// Read, check and pack the package and show its digest; sign and send nothing
    #[arg(long)]
    dry_run: bool,
}

pub fn run(ctx: &Ctx, args: PublishArgs) -> anyhow::Result<()> {
    let options = PublishOptions::default();
    if args.dry_run {
        return dry_run(ctx, &args.dir, &options);
    }
    let client = ctx.client(true)?;
    let url = client.base_url().to_owned();
    // Check the manifest before asking for a password.
    let manifest = publish::read_manifest(&args.dir).map_err(|e| publish_error(e, &args.dir, &url, "NS"))?;
    let ns = manifest.package.name.namespace().to_owned();
    let key = load_key(&args.key)?;
    let progress = CliProgress::shared(ctx.json, "uploading");
    let outcome = block_on(publish::publish(&client, &args.dir, &key, &options, &progress))?
        .map_err(|e| publish_error(e, &args.dir, &url, &ns))?;
    let p = &outcome.published;
    if ctx.json {
        let uploads: Vec<_> = outcome
            .uploads
            .iter()
            .map(|(label, o)| json!({ "blob": label, "uploaded": *o == UploadOutcome::Uploaded }))
            .collect();
        return print_json(&json!({
            "name": p.name,
            "version": p.version,
            "digest": p.digest,
            "signature_digest": p.signature_digest,
            "key_id": p.key_id,
            "files": outcome.files,
            "content_size": outcome.content_size,
            "uploads": uploads,
        }));
    }
    println!("published {} {}", p.name, p.version);
    println!("  digest:    {}", p.digest);
    println!("  signed by: key {}", p.key_id);
    println!("  signature: {}", p.signature_digest);
    println!("  content:   {} files, {}", outcome.files, bytes(outcome.content_size));
    Ok(())
}

fn dry_run(ctx: &Ctx, dir: &Path, options: &PublishOptions) -> anyhow::Result<()> {
    let prepared = publish::prepare(dir, options).map_err(|e| publish_error(e, dir, "REGISTRY", "NS"))?;
    let manifest_bytes = prepared.artifact.manifest_bytes();
    let digest = Digest::of(&manifest_bytes);
    let p = &prepared.manifest.package;
    if ctx.json {
        let blobs: Vec<_> = prepared
            .blobs
            .iter()
            .map(|b| json!({ "blob": b.label, "digest": b.digest, "size": b.size }))
            .collect();
        let files: Vec<&str> = prepared.content.entries.iter().map(|e| e.path.as_str()).collect();
        return print_json(&json!({
            "name": p.name,
            "version": p.version.to_string(),
            "digest": digest,
            "blobs": blobs,
            "files": files,
        }));
    }
    println!("{} {} (dry run: nothing signed or sent)", p.name, p.version);
    println!("  digest:  {digest}");
    for b in &prepared.blobs {
        println!(
            "  {:<8} {} {}",
            format!("{}:", blob_role(&b.label)),
            b.digest,
            bytes(b.size)
        );
    }
    println!("  files:");
    for e in &prepared.content.entries {
        println!("    {}", e.path);
    }
    Ok(())
}

fn blob_role(label: &str) -> &str {
    match label {
        "content.tar.gz" => "content",
        "README" => "readme",
        "SBOM" => "sbom",
        other => other,
    }
}

pub(crate) fn load_key(path: &Path) -> anyhow::Result<KeyPair> {
    let pem = match std::fs::read_to_string(path) {
        Ok(p) => p,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(fail(
                Diagnostic::new(format!("no private key at `{}`", path.display()))
                    .hint("create one with `govstore keygen`, or pass --key FILE"),
            ));
        }
        Err(e) => {
            return Err(fail(Diagnostic::new(format!("cannot read `{}`: {e}", path.display()))));
        }
    };
    let password = password(&format!("Password for {}", path.display()), false)?;
    KeyPair::from_encrypted_pem(&pem, password.as_bytes()).map_err(|e| match e {
        SigningError::WrongPassword => fail(
            Diagnostic::new(format!("wrong password for `{}`", path.display()))
                .hint("check GOVSTORE_KEY_PASSWORD, or unset it to be asked"),
        ),
        other => fail(Diagnostic::new(format!("`{}`: {other}", path.display()))),
    })
}

fn publish_error(err: PublishError, dir: &Path, url: &str, ns: &str) -> anyhow::Error {
    match err {
        PublishError::Manifest { path, error, .. } => diagnostics(&path, error),
        PublishError::NoManifest(_) => fail(
            Diagnostic::new(err.to_string())
                .hint("run the command in a package directory, or give one: `govstore publish path/to/package`"),
        ),
        PublishError::MissingFile { field, .. } => fail(Diagnostic::new(err.to_string()).hint(format!(
            "add the file, or change `{field}` in `{}`",
            dir.join(publish::MANIFEST_FILE).display()
        ))),
        PublishError::Pack(
            PackError::SymlinkOutside { ref path, .. }
            | PackError::SymlinkDangling { ref path, .. }
            | PackError::SpecialFile { ref path, .. },
        ) => {
            let hint = format!(
                "remove `{path}`, or leave it out with `exclude = [\"{path}\"]` under [package] in govstore.toml"
            );
            fail(Diagnostic::new(err.to_string()).hint(hint))
        }
        PublishError::Client(ref e) => {
            let hint = match e.code() {
                Some("VERSION_EXISTS") => {
                    Some("published versions never change; raise package.version in govstore.toml".to_owned())
                }
                Some("SIGNATURE_INVALID") if e.to_string().contains("revoked key") => Some(format!(
                    "this key was revoked; make a new one with `govstore keygen` and register it with `govstore key register --namespace {ns} --key cosign.pub` (see `govstore key list {ns}`)"
                )),
                Some("SIGNATURE_INVALID") => Some(format!(
                    "register the public half of your key for the namespace: `govstore key register --namespace {ns} --key cosign.pub`"
                )),
                Some("DENIED") if e.to_string().contains("no registered, unrevoked signing key") => Some(format!(
                    "register a key first: `govstore keygen`, then `govstore key register --namespace {ns} --key cosign.pub`"
                )),
                Some("DENIED") => Some(format!(
                    "check your token's scopes with `govstore login` and the namespace's keys with `govstore key list {ns}`"
                )),
                _ => None,
            };
            match (hint, e) {
                (Some(hint), _) => fail(Diagnostic::new(e.to_string()).hint(hint)),
                (None, e) => client_error(e, url),
            }
        }
        other => fail(Diagnostic::new(other.to_string())),
    }
}
