//! `govstore login`: check an API token against a registry and store it.

use std::io::{IsTerminal, Read};

use clap::Args;
use govstore_client::api::Me;
use govstore_client::registry::RegistryClient;
use serde_json::json;

use crate::context::{Ctx, TOKEN_ENV, block_on};
use crate::diagnostic::{Diagnostic, client_error, fail};
use crate::output::print_json;

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// The API token (else GOVSTORE_TOKEN, else read from stdin)
    #[arg(long, value_name = "TOKEN")]
    token: Option<String>,
}

pub fn run(ctx: &Ctx, args: LoginArgs) -> anyhow::Result<()> {
    let (path, mut config) = ctx.load_config()?;
    let url = ctx.registry_url(&config)?;
    let token = match args.token.or_else(|| std::env::var(TOKEN_ENV).ok()) {
        Some(t) => t,
        None => read_token()?,
    };
    let token = token.trim().to_owned();
    if token.is_empty() {
        return Err(fail(
            Diagnostic::new("the token is empty").hint("create a token in the registry and pass it with --token"),
        ));
    }
    let client = RegistryClient::new(&url, Some(token.clone())).map_err(|e| fail(Diagnostic::new(e.to_string())))?;
    let me = block_on(client.me())?.map_err(|e| match e.code() {
        Some("UNAUTHORIZED") => fail(
            Diagnostic::new(format!("{url} does not accept this token: {e}"))
                .hint("check that the token is complete and not expired or revoked"),
        ),
        _ => client_error(&e, &url),
    })?;
    config.set_login(&url, &token);
    config.save(&path).map_err(|e| fail(Diagnostic::new(e.to_string())))?;
    if ctx.json {
        return print_json(&json!({ "registry": url, "config": path, "me": me }));
    }
    print!("{}", describe(&url, &me));
    println!("token saved in {}", path.display());
    Ok(())
}

fn read_token() -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        return Ok(rpassword::prompt_password("Paste your API token: ")?);
    }
    let mut text = String::new();
    std::io::stdin().take(64 * 1024).read_to_string(&mut text)?;
    Ok(text)
}

/// Who the token belongs to, what it may do and until when.
pub fn describe(url: &str, me: &Me) -> String {
    let mut out = format!(
        "logged in to {url} as {}{}\n",
        me.user,
        if me.admin { " (admin)" } else { "" }
    );
    let orgs: Vec<String> = me.orgs.iter().map(|o| format!("{} ({})", o.name, o.role)).collect();
    out.push_str(&format!(
        "  organisations: {}\n",
        if orgs.is_empty() {
            "none".to_owned()
        } else {
            orgs.join(", ")
        }
    ));
    if let Some(t) = &me.token {
        let scopes = if t.scopes.is_empty() {
            "none".to_owned()
        } else {
            t.scopes.join(", ")
        };
        out.push_str(&format!("  token:         {} (scopes: {scopes})\n", t.prefix));
        out.push_str(&format!(
            "  expires:       {}\n",
            t.expires_at.as_deref().unwrap_or("never")
        ));
    }
    out
}
