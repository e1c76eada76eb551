//! Country approvals from the command line: `govstore approve` and `govstore revoke`
//! sign an in-toto approval statement on the approver's machine (DSSE, with the
//! approver's cosign-format key) and upload it; `govstore approvals` lists a package's
//! approvals per version and country; `govstore country show` prints a country's policy
//! and approver keys with a `[trust]` block to pin in `stack.toml`.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use govstore_core::approval::{Conditions, Decision, Predicate, Requires, Statement};
use govstore_core::manifest::values::CountryCode;
use govstore_core::time;
use govstore_signing::dsse::Envelope;
use serde_json::Value;

use super::publish::load_key;
use crate::context::{Ctx, block_on, parse_name_version};
use crate::diagnostic::{Diagnostic, client_error, fail};
use crate::output::print_json;

#[derive(Debug, Args)]
pub struct ApproveArgs {
    /// The version, as NAME@VERSION (`mosip/esignet@1.8.0`)
    package: String,
    /// The country approving, ISO 3166-1 alpha-2 (`SL`)
    #[arg(long)]
    country: String,
    /// The approver's private key (cosign format; password from GOVSTORE_KEY_PASSWORD or asked)
    #[arg(long, value_name = "PATH")]
    key: PathBuf,
    /// Last day the approval is valid (YYYY-MM-DD, UTC, inclusive) [default: the
    /// country's default validity, else until revoked]
    #[arg(long, value_name = "DATE")]
    until: Option<String>,
    /// Why it is approved
    #[arg(long)]
    reason: Option<String>,
    /// A condition in words (`only behind the national X-Road`)
    #[arg(long)]
    condition: Option<String>,
    /// A structured condition: only together with PACKAGE in a range
    /// (`govstack/identity@1.0.x`, repeatable)
    #[arg(long = "requires", value_name = "NAME@RANGE")]
    requires: Vec<String>,
}

#[derive(Debug, Args)]
pub struct RevokeArgs {
    /// The version, as NAME@VERSION
    package: String,
    /// The country revoking its approval
    #[arg(long)]
    country: String,
    /// The approver's private key (cosign format)
    #[arg(long, value_name = "PATH")]
    key: PathBuf,
    /// Why the approval is revoked, shown to every operator whose install it stops
    #[arg(long)]
    reason: String,
}

#[derive(Debug, Args)]
pub struct ApprovalsArgs {
    /// The package (`mosip/esignet`)
    package: String,
    /// Only this country's approvals
    #[arg(long)]
    country: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum CountryCommand {
    /// A country's approval policy and approver keys, with a `[trust]` block to pin
    Show {
        /// ISO 3166-1 alpha-2 code (`SL`)
        code: String,
    },
    /// Set the country's own stack profile, against which the web workspace checks
    /// each proposed version (country owners)
    SetStack {
        /// ISO 3166-1 alpha-2 code (`SL`)
        code: String,
        /// The stack profile (`stack.toml`) of this country
        #[arg(value_name = "STACK_TOML")]
        file: PathBuf,
    },
}

fn country_code(raw: &str) -> anyhow::Result<CountryCode> {
    raw.parse::<CountryCode>().map_err(|e| {
        fail(Diagnostic::new(e.to_string()).hint("write the country's ISO 3166-1 alpha-2 code, such as SL"))
    })
}

pub fn approve(ctx: &Ctx, args: ApproveArgs) -> anyhow::Result<()> {
    let mut conditions = Conditions {
        text: args.condition.clone(),
        requires: Vec::new(),
    };
    for r in &args.requires {
        let (name, range) = r.rsplit_once('@').ok_or_else(|| {
            fail(
                Diagnostic::new(format!("--requires {r:?} is not NAME@RANGE"))
                    .hint("for example --requires govstack/identity@1.0.x"),
            )
        })?;
        conditions.requires.push(Requires {
            package: name
                .parse()
                .map_err(|e| fail(Diagnostic::new(format!("--requires {r:?}: {e}"))))?,
            version: range
                .parse()
                .map_err(|e| fail(Diagnostic::new(format!("--requires {r:?}: {e}"))))?,
        });
    }
    let until = match &args.until {
        Some(d) => Some(time::parse_date(d).map(|day| day + 86_399).ok_or_else(|| {
            fail(Diagnostic::new(format!("--until {d:?} is not a date")).hint("write YYYY-MM-DD, such as 2027-12-31"))
        })?),
        None => None,
    };
    sign_and_upload(
        ctx,
        &args.package,
        &args.country,
        &args.key,
        Decision::Approved,
        args.reason.clone(),
        conditions,
        until,
    )
}

pub fn revoke(ctx: &Ctx, args: RevokeArgs) -> anyhow::Result<()> {
    if args.reason.trim().is_empty() {
        return Err(fail(
            Diagnostic::new("a revocation needs a reason").hint("--reason \"CVE-2026-1234: token forgery\""),
        ));
    }
    sign_and_upload(
        ctx,
        &args.package,
        &args.country,
        &args.key,
        Decision::Revoked,
        Some(args.reason.clone()),
        Conditions::default(),
        None,
    )
}

#[allow(clippy::too_many_arguments)]
fn sign_and_upload(
    ctx: &Ctx,
    package: &str,
    country: &str,
    key: &std::path::Path,
    decision: Decision,
    reason: Option<String>,
    conditions: Conditions,
    until: Option<i64>,
) -> anyhow::Result<()> {
    let (name, version) = parse_name_version(package)?;
    let cc = country_code(country)?;
    let client = ctx.client(true)?;
    let url = client.base_url().to_owned();
    let detail = block_on(client.version(name.namespace(), name.name(), &version.to_string()))?
        .map_err(|e| client_error(&e, &url))?;
    let now = super::resolution::now_secs();
    let mut until = until;
    if until.is_none() && decision == Decision::Approved {
        let c = block_on(client.country(cc.as_str()))?.map_err(|e| client_error(&e, &url))?;
        if let Some(days) = c["default_validity_days"].as_i64() {
            until = Some(now + days * 86_400);
        }
    }
    let me = block_on(client.me())?.map_err(|e| client_error(&e, &url))?;
    let statement = Statement::new(
        name.clone(),
        version.clone(),
        detail.info.digest.clone(),
        Predicate {
            country: cc,
            decision,
            conditions,
            valid_until: until.map(time::rfc3339),
            reason,
            recommendation: None,
            approver: Some(me.user),
            signed_at: time::rfc3339(now),
        },
    );
    let keypair = load_key(key)?;
    let envelope = Envelope::sign(&keypair, govstore_core::approval::PAYLOAD_TYPE, statement.to_json())
        .map_err(|e| fail(Diagnostic::new(format!("signing: {e}"))))?;
    let body: Value = serde_json::from_slice(&envelope.to_json())?;
    let answer = block_on(client.submit_approval(cc.as_str(), &body))?.map_err(|e| client_error(&e, &url))?;
    if ctx.json {
        return print_json(&answer);
    }
    let state = &answer["state"];
    let verb = if decision == Decision::Approved {
        "approved"
    } else {
        "revoked the approval of"
    };
    let again = if answer["recorded"] == Value::Bool(false) {
        " (already recorded)"
    } else {
        ""
    };
    println!("{verb} {name}@{version} for {cc}{again}");
    println!("  statement {}", answer["statement_digest"].as_str().unwrap_or(""));
    println!(
        "  signed by {} ({})",
        answer["key_id"].as_str().unwrap_or(""),
        answer["signer"].as_str().unwrap_or("")
    );
    if let Some(u) = answer["valid_until"].as_str() {
        println!("  valid until {u}");
    }
    println!("  {}", state_line(state));
    Ok(())
}

/// `2 of 2 approvals: threshold met, valid until ...` or why not.
fn state_line(state: &Value) -> String {
    if let Some(r) = state["revoked"].as_object() {
        return format!(
            "revoked on {}: {}",
            r.get("signed_at").and_then(Value::as_str).unwrap_or(""),
            r.get("reason").and_then(Value::as_str).unwrap_or("")
        );
    }
    let n = state["approvals"].as_u64().unwrap_or(0);
    let t = state["threshold"].as_u64().unwrap_or(0);
    let mut line = if state["approved"] == Value::Bool(true) {
        format!("{n} of {t} approvals: threshold met")
    } else {
        format!("{n} of {t} approvals: threshold not met")
    };
    if let Some(u) = state["valid_until"].as_str() {
        line.push_str(&format!(", valid until {u}"));
    }
    let expired = state["expired"].as_array().map_or(0, Vec::len);
    if expired > 0 {
        line.push_str(&format!(" ({expired} expired)"));
    }
    line
}

pub fn approvals(ctx: &Ctx, args: ApprovalsArgs) -> anyhow::Result<()> {
    let name: govstore_core::package::PackageName = args
        .package
        .parse()
        .map_err(|e| fail(Diagnostic::new(format!("{e}")).hint("write NAMESPACE/NAME, such as mosip/esignet")))?;
    let only = args.country.as_deref().map(country_code).transpose()?;
    let client = ctx.client(false)?;
    let url = client.base_url().to_owned();
    let mut answer =
        block_on(client.package_approvals(name.namespace(), name.name()))?.map_err(|e| client_error(&e, &url))?;
    if let (Some(cc), Some(list)) = (only, answer["approvals"].as_array_mut()) {
        list.retain(|a| a["country"] == cc.as_str());
    }
    if ctx.json {
        return print_json(&answer);
    }
    let list = answer["approvals"].as_array().cloned().unwrap_or_default();
    if list.is_empty() {
        println!(
            "{name}: no approvals recorded{}",
            only.map(|c| format!(" in {c}")).unwrap_or_default()
        );
        return Ok(());
    }
    println!(
        "{name}: approvals as the registry records them (resolve and install verify them against the keys your stack pins)"
    );
    for v in &list {
        println!(
            "{} {}  {}",
            v["version"].as_str().unwrap_or(""),
            v["country"].as_str().unwrap_or(""),
            state_line(&v["state"])
        );
        for s in v["statements"].as_array().into_iter().flatten() {
            let key = s["key_id"].as_str().unwrap_or("");
            println!(
                "    {:<8} {} by {} ({}){}{}",
                s["decision"].as_str().unwrap_or(""),
                s["signed_at"].as_str().unwrap_or(""),
                s["signer"].as_str().unwrap_or("?"),
                govstore_core::approval::short_key(key),
                s["valid_until"]
                    .as_str()
                    .map(|u| format!(", until {u}"))
                    .unwrap_or_default(),
                s["reason"].as_str().map(|r| format!(": {r}")).unwrap_or_default(),
            );
        }
    }
    Ok(())
}

pub fn country(ctx: &Ctx, cmd: CountryCommand) -> anyhow::Result<()> {
    let code = match cmd {
        CountryCommand::Show { code } => code,
        CountryCommand::SetStack { code, file } => return set_stack(ctx, &code, &file),
    };
    let cc = country_code(&code)?;
    let client = ctx.client(false)?;
    let url = client.base_url().to_owned();
    let c = block_on(client.country(cc.as_str()))?.map_err(|e| client_error(&e, &url))?;
    if ctx.json {
        return print_json(&c);
    }
    println!("{} ({})", c["name"].as_str().unwrap_or(""), cc);
    println!(
        "  approvals need {} distinct approver key(s){}",
        c["threshold"],
        c["default_validity_days"]
            .as_i64()
            .map(|d| format!("; valid {d} days unless the approver says otherwise"))
            .unwrap_or_default()
    );
    let keys = c["keys"].as_array().cloned().unwrap_or_default();
    let live: Vec<&Value> = keys.iter().filter(|k| k["revoked_at"].is_null()).collect();
    for k in &keys {
        let revoked = k["revoked_at"]
            .as_str()
            .map(|r| format!("  REVOKED {r}"))
            .unwrap_or_default();
        println!(
            "  key {}  held by {}{revoked}",
            k["key_id"].as_str().unwrap_or(""),
            k["holder"].as_str().unwrap_or("?")
        );
    }
    println!();
    println!("# Check these ids against the ministry's own record before pinning them:");
    println!("[trust]");
    println!("country = \"{cc}\"");
    println!("keys = [");
    for k in &live {
        println!("  \"{}\",", k["key_id"].as_str().unwrap_or(""));
    }
    println!("]");
    println!("threshold = {}", c["threshold"]);
    Ok(())
}

fn set_stack(ctx: &Ctx, code: &str, file: &std::path::Path) -> anyhow::Result<()> {
    let cc = country_code(code)?;
    let text = std::fs::read_to_string(file)
        .map_err(|e| fail(Diagnostic::new(format!("cannot read `{}`: {e}", file.display()))))?;
    govstore_core::stack::Stack::from_toml_str(&text).map_err(|e| {
        fail(Diagnostic::new(format!(
            "`{}` is not a valid stack profile: {e}",
            file.display()
        )))
    })?;
    let client = ctx.client(true)?;
    let url = client.base_url().to_owned();
    let c = block_on(client.set_country_stack(cc.as_str(), &text))?.map_err(|e| client_error(&e, &url))?;
    if ctx.json {
        return print_json(&c);
    }
    println!(
        "{cc}: stack profile set from `{}`; the workspace checks each proposed version against it",
        file.display()
    );
    Ok(())
}
