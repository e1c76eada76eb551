//! `govstore`: the command line for publishers and operators of a govstore registry.
//!
//! Results go to stdout (as JSON with `--json`); progress and errors go to stderr,
//! errors as `error: ...` lines, each followed by a `hint: ...` line where there is a
//! next step, and the exit code is 1. Colour only in progress bars on a terminal, and
//! never with `NO_COLOR` set.

mod commands;
mod context;
mod diagnostic;
mod output;
mod progress;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::context::Ctx;

#[derive(Debug, Parser)]
#[command(
    name = "govstore",
    version,
    about = "Publish, find and install digital-government building blocks"
)]
struct Cli {
    /// The registry URL (default: the one you last logged in to)
    #[arg(long, global = true, env = "GOVSTORE_REGISTRY", value_name = "URL")]
    registry: Option<String>,
    /// Print machine-readable JSON on stdout
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Work with a package manifest (govstore.toml)
    #[command(subcommand)]
    Manifest(commands::manifest::ManifestCommand),
    /// Make a signing key pair (cosign format)
    Keygen(commands::keygen::KeygenArgs),
    /// Store an API token for a registry and check it
    Login(commands::login::LoginArgs),
    /// Manage a namespace's signing keys
    #[command(subcommand)]
    Key(commands::key::KeyCommand),
    /// Sign and publish the package in a directory
    Publish(commands::publish::PublishArgs),
    /// Yank a published version (or take a yank back with --undo)
    Yank(commands::yank::YankArgs),
    /// Verify a published version: digests, content and signature
    Verify(commands::verify::VerifyArgs),
    /// Show a package and its versions, or one version
    Info(commands::info::InfoArgs),
    /// Search the catalogue
    Search(commands::search::SearchArgs),
    /// Work with building-block specifications
    #[command(subcommand)]
    Spec(commands::spec::SpecCommand),
    /// Find the packages that fit a stack profile and write the lockfile
    Resolve(commands::resolve::ResolveArgs),
    /// Download, verify and unpack the packages of a lockfile into a directory
    Install(commands::install::InstallArgs),
    /// Show newer compatible and newer published versions of locked packages
    Outdated(commands::outdated::OutdatedArgs),
    /// Move locked packages to the newest versions that fit the stack
    Update(commands::update::UpdateArgs),
    /// Sign and record a country's approval of a version (an in-toto statement in DSSE)
    Approve(commands::approve::ApproveArgs),
    /// Sign and record a country's revocation of its approval, with a reason
    Revoke(commands::approve::RevokeArgs),
    /// List a package's approvals per version and country
    Approvals(commands::approve::ApprovalsArgs),
    /// Show a country's approval policy and approver keys, or set its stack profile
    #[command(subcommand)]
    Country(commands::approve::CountryCommand),
    /// Make, sign, show and compare a country's bundles
    #[command(subcommand)]
    Bundle(commands::bundle::BundleCommand),
    /// Install a country-signed bundle, verified against the pinned country keys
    Pull(commands::pull::PullArgs),
    /// Write a bundle and every proof it needs to one OCI layout tar, for air-gapped sites
    Export(commands::export::ExportArgs),
    /// Verify an export offline, then copy it into a registry
    Import(commands::import::ImportArgs),
    /// Pin the country approver keys that bundles must be signed with
    #[command(subcommand)]
    Trust(commands::trust::TrustCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let ctx = Ctx::new(cli.registry, cli.json);
    let result = match cli.command {
        Command::Manifest(cmd) => commands::manifest::run(&ctx, cmd),
        Command::Keygen(args) => commands::keygen::run(&ctx, args),
        Command::Login(args) => commands::login::run(&ctx, args),
        Command::Key(cmd) => commands::key::run(&ctx, cmd),
        Command::Publish(args) => commands::publish::run(&ctx, args),
        Command::Yank(args) => commands::yank::run(&ctx, args),
        Command::Verify(args) => commands::verify::run(&ctx, args),
        Command::Info(args) => commands::info::run(&ctx, args),
        Command::Search(args) => commands::search::run(&ctx, args),
        Command::Spec(cmd) => commands::spec::run(&ctx, cmd),
        Command::Resolve(args) => commands::resolve::run(&ctx, args),
        Command::Install(args) => commands::install::run(&ctx, args),
        Command::Outdated(args) => commands::outdated::run(&ctx, args),
        Command::Update(args) => commands::update::run(&ctx, args),
        Command::Approve(args) => commands::approve::approve(&ctx, args),
        Command::Revoke(args) => commands::approve::revoke(&ctx, args),
        Command::Approvals(args) => commands::approve::approvals(&ctx, args),
        Command::Country(cmd) => commands::approve::country(&ctx, cmd),
        Command::Bundle(cmd) => commands::bundle::run(&ctx, cmd),
        Command::Pull(args) => commands::pull::run(&ctx, args),
        Command::Export(args) => commands::export::run(&ctx, args),
        Command::Import(args) => commands::import::run(&ctx, args),
        Command::Trust(cmd) => commands::trust::run(&ctx, cmd),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprint!("{}", diagnostic::render(&err));
            ExitCode::FAILURE
        }
    }
}
