//! What every command shares: the global flags, the configuration, the registry
//! client, the async runtime, passwords and `NAME@VERSION` arguments.

use std::io::IsTerminal;
use std::path::PathBuf;

use govstore_client::config::{self, Config, normalize_registry_url};
use govstore_client::registry::RegistryClient;
use govstore_core::package::PackageName;

use crate::diagnostic::{Diagnostic, fail};

/// The environment variable holding an API token; it wins over the configuration file.
pub const TOKEN_ENV: &str = "GOVSTORE_TOKEN";
/// The environment variable holding the private key's password.
pub const PASSWORD_ENV: &str = "GOVSTORE_KEY_PASSWORD";

#[derive(Debug)]
pub struct Ctx {
    /// `--registry` or `GOVSTORE_REGISTRY`.
    registry: Option<String>,
    /// `--json`.
    pub json: bool,
}

impl Ctx {
    pub fn new(registry: Option<String>, json: bool) -> Self {
        Self {
            registry: registry.filter(|r| !r.is_empty()),
            json,
        }
    }

    pub fn config_path(&self) -> anyhow::Result<PathBuf> {
        config::config_path().map_err(|e| fail(Diagnostic::new(e.to_string())))
    }

    pub fn load_config(&self) -> anyhow::Result<(PathBuf, Config)> {
        let path = self.config_path()?;
        let config = Config::load(&path).map_err(|e| {
            fail(Diagnostic::new(e.to_string()).hint("fix or remove the file, then run `govstore login` again"))
        })?;
        Ok((path, config))
    }

    /// The registry URL: `--registry`, else `GOVSTORE_REGISTRY`, else the configured
    /// default.
    pub fn registry_url(&self, config: &Config) -> anyhow::Result<String> {
        let Some(raw) = self.registry.clone().or_else(|| config.registry.clone()) else {
            return Err(fail(Diagnostic::new("no registry given").hint(
                "pass --registry URL, set GOVSTORE_REGISTRY, or run `govstore login --registry URL`",
            )));
        };
        normalize_registry_url(&raw).map_err(|e| {
            fail(
                Diagnostic::new(e.to_string())
                    .hint("give the whole URL, such as https://registry.example.gov or http://localhost:8080"),
            )
        })
    }

    /// A client of the registry, with the token from `GOVSTORE_TOKEN` or the
    /// configuration. `need_token` refuses to go on without one.
    pub fn client(&self, need_token: bool) -> anyhow::Result<RegistryClient> {
        self.client_or(None, need_token)
    }

    /// Like [`Ctx::client`], but with `fallback` (such as a lockfile's source) in place
    /// of the configured default when neither `--registry` nor `GOVSTORE_REGISTRY` is
    /// given.
    pub fn client_or(&self, fallback: Option<&str>, need_token: bool) -> anyhow::Result<RegistryClient> {
        let (_, mut config) = self.load_config()?;
        if self.registry.is_none()
            && let Some(f) = fallback
        {
            config.registry = Some(f.to_owned());
        }
        let url = self.registry_url(&config)?;
        let token = std::env::var(TOKEN_ENV)
            .ok()
            .filter(|t| !t.is_empty())
            .or_else(|| config.token_for(&url).map(str::to_owned));
        if need_token && token.is_none() {
            return Err(fail(
                Diagnostic::new(format!("not logged in to {url}"))
                    .hint(format!("run `govstore login --registry {url}`, or set {TOKEN_ENV}")),
            ));
        }
        RegistryClient::new(&url, token).map_err(|e| fail(Diagnostic::new(e.to_string())))
    }
}

/// Runs a future to completion on a single-threaded runtime.
pub fn block_on<F: std::future::Future>(future: F) -> anyhow::Result<F::Output> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    Ok(runtime.block_on(future))
}

/// The private key's password: `GOVSTORE_KEY_PASSWORD`, else a prompt on the terminal
/// (asked twice when `confirm`).
pub fn password(prompt: &str, confirm: bool) -> anyhow::Result<String> {
    if let Ok(p) = std::env::var(PASSWORD_ENV) {
        return Ok(p);
    }
    if !std::io::stdin().is_terminal() {
        return Err(fail(Diagnostic::new("no password for the private key").hint(format!(
            "set {PASSWORD_ENV}, or run the command in a terminal to be asked"
        ))));
    }
    let first = rpassword::prompt_password(format!("{prompt}: "))?;
    if confirm {
        let second = rpassword::prompt_password("Enter the same password again: ")?;
        if first != second {
            return Err(fail(Diagnostic::new("the passwords do not match")));
        }
    }
    Ok(first)
}

/// `namespace/name@version`.
pub fn parse_name_version(input: &str) -> anyhow::Result<(PackageName, semver::Version)> {
    let example = "write NAME@VERSION, such as mosip/esignet@1.8.0";
    let Some((name, version)) = input.rsplit_once('@') else {
        return Err(fail(
            Diagnostic::new(format!("`{input}` names no version")).hint(example),
        ));
    };
    let name = parse_name(name)?;
    let version = version
        .parse::<semver::Version>()
        .map_err(|e| fail(Diagnostic::new(format!("`{version}` is not a version: {e}")).hint(example)))?;
    Ok((name, version))
}

/// `namespace/name`.
pub fn parse_name(input: &str) -> anyhow::Result<PackageName> {
    input
        .parse::<PackageName>()
        .map_err(|e| fail(Diagnostic::new(e.to_string())))
}
