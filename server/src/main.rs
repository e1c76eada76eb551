//! `govstore-server`: the registry binary.

use std::io::{BufRead as _, IsTerminal};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use govstore_server::config::{ApproverKeyPath, Config, FileConfig, Limits, PublicUrl, Secret, default_listen};
use tokio_util::sync::CancellationToken;

#[derive(Debug, Parser)]
#[command(
    name = "govstore-server",
    version,
    about = "The govstore registry: an OCI registry for signed digital-government building blocks"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the registry.
    Serve(ServeArgs),
    /// Manage accounts without the web UI: users, organisations, tokens.
    Admin(AdminArgs),
    /// Rebuild the search index (DATA_DIR/search) from the database. Stop the server first,
    /// or restart it afterwards: a running server does not see an index rebuilt elsewhere.
    Reindex(ReindexArgs),
    /// Import an external registry's entries as catalogue listings (metadata only, not
    /// installable), then rebuild the search index.
    Import(ImportArgs),
}

#[derive(Debug, Args)]
struct ImportArgs {
    #[command(flatten)]
    store: StoreArgs,
    #[command(subcommand)]
    source: ImportSource,
}

#[derive(Debug, Subcommand)]
enum ImportSource {
    /// The Digital Public Goods registry extract: JSON lines, one entry a line. All or
    /// nothing: a bad line imports nothing and names its line number. Re-importing
    /// updates the listings in place. A running server picks the listings up within
    /// seconds.
    Dpg {
        /// The JSON-lines file (e.g. ../shared/data/dpg/dpg-registry-2023.jsonl).
        file: PathBuf,
    },
}

#[derive(Debug, Args)]
struct ReindexArgs {
    #[command(flatten)]
    store: StoreArgs,
}

/// Where the registry keeps its data; shared by every command.
#[derive(Debug, Args)]
struct StoreArgs {
    /// A TOML file with any of the settings below (keys as the long flags, with `_`).
    /// Flags and environment variables override it.
    #[arg(long, env = "GOVSTORE_CONFIG", global = true)]
    config: Option<PathBuf>,
    /// Directory for the SQLite database, blobs and upload sessions [default: ./data].
    #[arg(long, env = "GOVSTORE_DATA_DIR", global = true)]
    data_dir: Option<PathBuf>,
    /// Database URL: `postgres://user@host/db` for PostgreSQL, or `sqlite://PATH?mode=rwc`
    /// [default: SQLite at DATA_DIR/govstore.db].
    #[arg(long, env = "GOVSTORE_DATABASE_URL", hide_env_values = true, global = true)]
    database_url: Option<String>,
}

#[derive(Debug, Args)]
struct AdminArgs {
    #[command(flatten)]
    store: StoreArgs,
    #[command(subcommand)]
    command: AdminCommand,
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Create a user.
    CreateUser {
        name: String,
        /// Registry administrator: may hold tokens with the `admin` scope.
        #[arg(long)]
        admin: bool,
    },
    /// Create an organisation; it owns the namespace of its name.
    CreateOrg {
        name: String,
        /// Its first owner, an existing user.
        #[arg(long)]
        owner: String,
    },
    /// Give a user a role in an organisation.
    AddMember {
        org: String,
        user: String,
        /// `owner` (publish, yank, manage keys) or `publisher` (publish, yank).
        #[arg(long)]
        role: String,
    },
    /// Create a country: an organisation named by its lower-case code (its approver
    /// keys and bundles live in that namespace) with an approval policy.
    CreateCountry {
        /// ISO 3166-1 alpha-2 code, upper case (SL, KE, EE).
        code: String,
        /// Its first owner (country-admin), an existing user.
        #[arg(long)]
        owner: String,
        /// How many distinct approver keys must sign an approval.
        #[arg(long, default_value_t = 1)]
        threshold: u32,
        /// Days an approval stays valid when `govstore approve` is given no `--until`.
        #[arg(long)]
        validity_days: Option<u32>,
    },
    /// Give a user a role in a country.
    AddCountryMember {
        code: String,
        user: String,
        /// `owner` (country-admin), `approver` (signs approvals, registers own keys) or
        /// `reviewer` (proposes and recommends).
        #[arg(long)]
        role: String,
    },
    /// Create an API token and print it. It is shown only this once.
    CreateToken {
        #[arg(long)]
        user: String,
        /// `publish:NS`, `yank:NS`, `keys:NS` (NS may be a glob like `mosip-*`), `specs`,
        /// `admin`, `review:CC`, `approve:CC`, `country-admin:CC` (CC a country code).
        #[arg(long = "scope", required = true)]
        scopes: Vec<String>,
        /// A label to recognise the token by.
        #[arg(long, default_value = "cli")]
        name: String,
        /// Days until the token expires [default: 90].
        #[arg(long, default_value_t = 90)]
        expires_in_days: u32,
    },
    /// Revoke a token by its visible prefix (`gvs_xxxxxxxx`).
    RevokeToken { prefix: String },
    /// Set the password USER signs in to the web catalogue with (at least 12
    /// characters), replacing any, and end the user's web sessions. The password is read
    /// from GOVSTORE_PASSWORD if set, else asked for twice on the terminal without echo,
    /// else read as one line from standard input.
    SetPassword { user: String },
}

#[derive(Debug, Args)]
struct ServeArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Publish the example catalogue at start, signed, with a demo admin and one demo key
    /// per namespace (written to DATA_DIR/demo-keys, password `demo`). For trying
    /// govstore out; prints an admin token valid for one day.
    #[arg(long)]
    demo: bool,
    /// The catalogue `--demo` publishes [default: ./catalog-examples].
    #[arg(long, default_value = "catalog-examples")]
    demo_catalog: PathBuf,
    /// Address to listen on [default: 127.0.0.1:5000].
    #[arg(long, env = "GOVSTORE_LISTEN")]
    listen: Option<SocketAddr>,
    /// Accept pushes without credentials. For local experiments only: anyone who can
    /// reach the server can write to it.
    #[arg(long, env = "GOVSTORE_INSECURE_ANONYMOUS_PUSH")]
    insecure_anonymous_push: bool,
    /// Allow DELETE of manifests, tags and blobs.
    #[arg(long, env = "GOVSTORE_ALLOW_DELETE")]
    allow_delete: bool,
    /// The URL clients reach the registry at, e.g. `https://registry.example.gov`: the
    /// `source` the web stack check writes into lockfiles. Set it behind a proxy; unset,
    /// the request's Host header (and X-Forwarded-Proto) is trusted [default: none].
    #[arg(long, env = "GOVSTORE_PUBLIC_URL", value_name = "URL")]
    public_url: Option<PublicUrl>,
    /// Largest manifest accepted, in bytes [default: 4194304].
    #[arg(long, env = "GOVSTORE_MAX_MANIFEST_BYTES")]
    max_manifest_bytes: Option<u64>,
    /// Largest blob accepted, in bytes [default: 17179869184].
    #[arg(long, env = "GOVSTORE_MAX_BLOB_BYTES")]
    max_blob_bytes: Option<u64>,
    /// Largest package version (all layers together) accepted, in bytes [default: 1073741824].
    #[arg(long, env = "GOVSTORE_MAX_PACKAGE_BYTES")]
    max_package_bytes: Option<u64>,
    /// Most upload sessions open at once [default: 1000].
    #[arg(long, env = "GOVSTORE_MAX_UPLOAD_SESSIONS")]
    max_upload_sessions: Option<u64>,
    /// Most versions one package may have, yanked ones included [default: 10000].
    #[arg(long, env = "GOVSTORE_MAX_VERSIONS_PER_PACKAGE")]
    max_versions_per_package: Option<u64>,
    /// Seconds an idle upload session lives before it is removed [default: 86400].
    #[arg(long, env = "GOVSTORE_UPLOAD_TTL_SECS")]
    upload_ttl_secs: Option<u64>,
    /// An approver key the server holds for a country, so an approver's click in the web
    /// workspace signs: COUNTRY=PATH to a cosign-format encrypted private key, decrypted
    /// at start with the password in GOVSTORE_APPROVER_KEY_PASSWORD. Repeatable; in the
    /// environment, comma-separated. The key must also be registered as an approver key
    /// of the country.
    #[arg(
        long = "approver-key",
        env = "GOVSTORE_APPROVER_KEYS",
        value_name = "CC=PATH",
        value_delimiter = ','
    )]
    approver_keys: Vec<ApproverKeyPath>,
    /// At SIGTERM or Ctrl-C, seconds to let in-flight requests finish before closing
    /// them; pending download counts are written either way. A second signal stops the
    /// wait at once.
    #[arg(
        long,
        env = "GOVSTORE_SHUTDOWN_TIMEOUT_SECS",
        default_value_t = 30,
        value_name = "SECS"
    )]
    shutdown_timeout_secs: u64,
}

impl ServeArgs {
    fn resolve(self) -> anyhow::Result<Config> {
        let file = match &self.store.config {
            Some(path) => FileConfig::load(path)?,
            None => FileConfig::default(),
        };
        let d = Limits::default();
        Ok(Config {
            listen: self.listen.or(file.listen).unwrap_or_else(default_listen),
            data_dir: self
                .store
                .data_dir
                .or(file.data_dir)
                .unwrap_or_else(|| PathBuf::from("data")),
            database_url: self.store.database_url.or(file.database_url),
            insecure_anonymous_push: self.insecure_anonymous_push || file.insecure_anonymous_push.unwrap_or(false),
            allow_delete: self.allow_delete || file.allow_delete.unwrap_or(false),
            public_url: self.public_url.or(file.public_url),
            limits: Limits {
                max_manifest_bytes: self
                    .max_manifest_bytes
                    .or(file.max_manifest_bytes)
                    .unwrap_or(d.max_manifest_bytes),
                max_blob_bytes: self.max_blob_bytes.or(file.max_blob_bytes).unwrap_or(d.max_blob_bytes),
                max_package_bytes: self
                    .max_package_bytes
                    .or(file.max_package_bytes)
                    .unwrap_or(d.max_package_bytes),
                max_upload_sessions: self
                    .max_upload_sessions
                    .or(file.max_upload_sessions)
                    .unwrap_or(d.max_upload_sessions),
                max_versions_per_package: self
                    .max_versions_per_package
                    .or(file.max_versions_per_package)
                    .unwrap_or(d.max_versions_per_package),
                upload_ttl: self
                    .upload_ttl_secs
                    .or(file.upload_ttl_secs)
                    .map(std::time::Duration::from_secs)
                    .unwrap_or(d.upload_ttl),
                max_page: d.max_page,
                max_pending_download_keys: d.max_pending_download_keys,
            },
            approver_keys: if self.approver_keys.is_empty() {
                file.approver_keys.unwrap_or_default()
            } else {
                self.approver_keys
            },
            approver_key_password: std::env::var("GOVSTORE_APPROVER_KEY_PASSWORD").ok().map(Secret::new),
        })
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn,sea_orm_migration=warn".into()),
        )
        .with_ansi(std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .init();
    let result = match Cli::parse().command {
        Command::Serve(args) => {
            let demo = args.demo.then(|| args.demo_catalog.clone());
            let drain = Duration::from_secs(args.shutdown_timeout_secs);
            match args.resolve() {
                Ok(config) => serve(config, demo, drain).await,
                Err(e) => Err(e),
            }
        }
        Command::Admin(args) => admin(args).await,
        Command::Reindex(args) => reindex(args.store).await,
        Command::Import(args) => import(args).await,
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // `{:#}` prints the cause chain on one line; no backtrace for users.
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// The data directory and database of the offline commands (`admin`, `reindex`).
async fn open_store(store: StoreArgs) -> anyhow::Result<(Config, govstore_server::db::Db)> {
    let file = match &store.config {
        Some(path) => FileConfig::load(path)?,
        None => FileConfig::default(),
    };
    let mut config = Config::for_data_dir(
        store
            .data_dir
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from("data")),
    );
    config.database_url = store.database_url.or(file.database_url);
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create {}", config.data_dir.display()))?;
    let db = govstore_server::db::Db::connect(&config.effective_database_url())
        .await
        .context("cannot open the database")?;
    Ok((config, db))
}

async fn reindex(store: StoreArgs) -> anyhow::Result<()> {
    let (config, db) = open_store(store).await?;
    let n = govstore_server::search::reindex(&config.data_dir, &db.read).await?;
    eprintln!("search index rebuilt: {n} packages and listings");
    Ok(())
}

async fn import(args: ImportArgs) -> anyhow::Result<()> {
    let (config, db) = open_store(args.store).await?;
    let ImportSource::Dpg { file } = args.source;
    let summary = govstore_server::import::import_dpg_file(&db, &file).await?;
    println!("{summary}");
    // A running server holds the index too; it follows the import by itself.
    match govstore_server::search::reindex(&config.data_dir, &db.read).await {
        Ok(n) => eprintln!("search index rebuilt: {n} packages and listings"),
        Err(e) => eprintln!(
            "warning: the search index was not rebuilt here ({e}); a running server rebuilds it within seconds, else at its next start"
        ),
    }
    Ok(())
}

async fn admin(args: AdminArgs) -> anyhow::Result<()> {
    use govstore_server::admin;
    let (_config, db) = open_store(args.store).await?;
    match args.command {
        AdminCommand::CreateUser { name, admin: is_admin } => {
            admin::create_user(&db, &name, is_admin).await?;
            eprintln!("created user {name}{}", if is_admin { " (admin)" } else { "" });
        }
        AdminCommand::CreateOrg { name, owner } => {
            admin::create_org(&db, &name, &owner).await?;
            eprintln!("created organisation {name}, owned by {owner}");
        }
        AdminCommand::AddMember { org, user, role } => {
            admin::add_member(&db, &org, &user, &role).await?;
            eprintln!("{user} is now {role} of {org}");
        }
        AdminCommand::CreateCountry {
            code,
            owner,
            threshold,
            validity_days,
        } => {
            let cc = code.parse().map_err(|e| anyhow::anyhow!("{e}"))?;
            let c = govstore_server::service::countries::create(&db, cc, &owner, threshold, validity_days).await?;
            eprintln!(
                "created country {} ({}), owned by {owner}; approvals need {threshold} distinct approver key(s); namespace `{}`",
                c.code,
                c.name,
                c.code.to_ascii_lowercase()
            );
        }
        AdminCommand::AddCountryMember { code, user, role } => {
            let cc = code.parse().map_err(|e| anyhow::anyhow!("{e}"))?;
            govstore_server::service::countries::add_member_as_operator(&db, cc, &user, &role).await?;
            eprintln!("{user} is now {role} of {code}");
        }
        AdminCommand::CreateToken {
            user,
            scopes,
            name,
            expires_in_days,
        } => {
            let token = admin::create_token(&db, &user, &name, &scopes, Some(expires_in_days)).await?;
            println!("{token}");
            eprintln!(
                "token for {user} with scopes {}; expires in {expires_in_days} days; it is not shown again",
                scopes.join(" ")
            );
        }
        AdminCommand::RevokeToken { prefix } => {
            admin::revoke_token(&db, &prefix).await?;
            eprintln!("revoked {prefix}");
        }
        AdminCommand::SetPassword { user } => {
            let password = read_password(&user)?;
            admin::set_password(&db, &user, &password).await?;
            eprintln!("password set for {user}; the user's web sessions ended");
        }
    }
    Ok(())
}

/// The new password of `user`: `GOVSTORE_PASSWORD`, else typed twice on the terminal
/// without echo, else one line of standard input (its line ending removed).
fn read_password(user: &str) -> anyhow::Result<String> {
    if let Ok(p) = std::env::var("GOVSTORE_PASSWORD") {
        return Ok(p);
    }
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(format!("new password for {user}: "))?;
        let second = rpassword::prompt_password("again: ")?;
        anyhow::ensure!(first == second, "the two passwords differ; nothing was changed");
        return Ok(first);
    }
    let mut line = String::new();
    std::io::Read::take(std::io::stdin().lock(), 4096)
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    Ok(line.trim_end_matches(['\n', '\r']).to_owned())
}

/// Serve until SIGTERM or Ctrl-C, then shut down gracefully: stop accepting, let
/// in-flight requests finish for up to `drain`, then write pending download counts.
async fn serve(config: Config, demo: Option<PathBuf>, drain: Duration) -> anyhow::Result<()> {
    let listen = config.listen;
    if config.insecure_anonymous_push {
        tracing::warn!("--insecure-anonymous-push is on: anyone who can reach {listen} can push");
    }
    if config.public_url.is_none() && demo.is_none() {
        tracing::warn!(
            "no public_url: lockfiles from the web stack check name the address each browser used \
             (its Host header); behind a proxy or in production set public_url (--public-url, GOVSTORE_PUBLIC_URL)"
        );
    }
    let state = govstore_server::app::state(config).await?;
    if let Err(e) = govstore_server::oci::expire_uploads(&state).await {
        tracing::warn!(status = %e.status(), "could not clean upload sessions at start");
    }
    govstore_server::app::spawn_janitor(state.clone());
    govstore_server::search::spawn_follower(state.search.clone(), state.db.read.clone());
    govstore_server::db::downloads::spawn_flusher(state.downloads.clone(), state.db.write.clone());
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener.local_addr()?;
    tracing::info!("govstore-server listening on http://{addr}");
    let stop = CancellationToken::new();
    tokio::spawn({
        let stop = stop.clone();
        async move {
            let signal = shutdown_signal().await;
            tracing::info!(
                signal,
                timeout_secs = drain.as_secs(),
                "shutting down: no new connections; waiting for in-flight requests"
            );
            stop.cancel();
        }
    });
    let mut server = tokio::spawn(
        axum::serve(
            listener,
            // The peer's address is what limits failed web sign-ins per client.
            govstore_server::app::router(state.clone()).into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(stop.clone().cancelled_owned())
        .into_future(),
    );
    if let Some(catalogue) = demo {
        let report = govstore_server::demo::run(&state, &format!("http://{addr}"), &catalogue)
            .await
            .context("the demo catalogue could not be published")?;
        tracing::info!(
            specs = report.specs,
            published = report.published,
            already_there = report.already_there,
            "demo catalogue ready"
        );
        println!(
            "govstore demo on http://{addr}: {} specs, {} packages published, {} already there",
            report.specs, report.published, report.already_there
        );
        println!("demo admin token (valid one day): {}", report.token);
        println!(
            "demo web sign-in: user {}, password {}",
            govstore_server::demo::DEMO_WEB_USER,
            report.web_password
        );
        println!(
            "demo signing keys (password `{}`): {}",
            govstore_server::demo::DEMO_KEY_PASSWORD,
            state.config.data_dir.join("demo-keys").display()
        );
        println!(
            "demo country SL (threshold 2; approvers amara, kofi, fatmata; reviewer musa; same password): http://{addr}/countries/SL"
        );
        println!(
            "  the country's approver keys, as a [trust] block to pin: govstore --registry http://{addr} country show SL"
        );
        if let Some(stack) = &report.approved_stack {
            println!(
                "  an approved_only stack pinning them: govstore --registry http://{addr} resolve --stack {} --dry-run",
                stack.display()
            );
        }
    }
    let served = tokio::select! {
        served = &mut server => served,
        () = drain_expired(&stop, drain) => {
            tracing::warn!("in-flight requests did not finish in time; closing them");
            server.abort();
            Ok(Ok(()))
        }
    };
    // Downloads counted since the last periodic write, once requests have drained.
    match state.downloads.flush(&state.db.write).await {
        Ok(_) => tracing::info!("pending download counts written"),
        Err(e) => tracing::warn!(error = %e, "could not write download counts at shutdown"),
    }
    served.context("server task")??;
    tracing::info!("stopped");
    Ok(())
}

/// Resolves with the signal's name at the first SIGTERM or SIGINT (Ctrl-C).
async fn shutdown_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => tokio::select! {
                _ = tokio::signal::ctrl_c() => "SIGINT",
                _ = term.recv() => "SIGTERM",
            },
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM; only Ctrl-C stops the server gracefully");
                let _ = tokio::signal::ctrl_c().await;
                "SIGINT"
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "Ctrl-C"
    }
}

/// Resolves `drain` after shutdown began, or at a second signal.
async fn drain_expired(stop: &CancellationToken, drain: Duration) {
    stop.cancelled().await;
    tokio::select! {
        () = tokio::time::sleep(drain) => {}
        signal = shutdown_signal() => tracing::warn!(signal, "second signal: not waiting any longer"),
    }
}
