//! `govstore manifest ...`: checking a package's `govstore.toml`.

use std::fmt::Write as _;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use clap::Subcommand;
use govstore_core::manifest::{Manifest, ManifestError};

use crate::context::Ctx;
use crate::diagnostic::{Diagnostic, Diagnostics};

pub use govstore_client::publish::MANIFEST_FILE;

#[derive(Debug, Subcommand)]
pub enum ManifestCommand {
    /// Validate DIR/govstore.toml and summarise it
    Check {
        /// The package directory
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
}

/// With `--json`, `check` prints the canonical JSON instead of the summary.
pub fn run(ctx: &Ctx, cmd: ManifestCommand) -> anyhow::Result<()> {
    match cmd {
        ManifestCommand::Check { dir } => check(&dir, ctx.json),
    }
}

fn check(dir: &Path, json: bool) -> anyhow::Result<()> {
    let path = dir.join(MANIFEST_FILE);
    let text = read_manifest(dir, &path)?;
    let manifest = Manifest::from_toml_str(&text).map_err(|e| diagnostics(&path, e))?;
    check_files(dir, &path, &manifest)?;
    if json {
        println!("{}", manifest.canonical_json());
    } else {
        print!("{}", summary(&manifest));
    }
    Ok(())
}

fn read_manifest(dir: &Path, path: &Path) -> anyhow::Result<String> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(text),
        Err(e) if e.kind() == ErrorKind::NotFound => {
            let d = if dir.is_dir() {
                Diagnostic::new(format!("no `{MANIFEST_FILE}` in `{}`", dir.display())).hint(
                    "run the command in a package directory, or give one: `govstore manifest check path/to/package`",
                )
            } else {
                Diagnostic::new(format!("directory `{}` does not exist", dir.display()))
            };
            Err(Diagnostics::from(d).into())
        }
        Err(e) if e.kind() == ErrorKind::InvalidData => {
            Err(Diagnostics::from(Diagnostic::new(format!("`{}` is not UTF-8 text", path.display()))).into())
        }
        Err(e) => Err(anyhow::Error::new(e).context(format!("cannot read `{}`", path.display()))),
    }
}

/// Turns a manifest error into one diagnostic per problem, located in `path`.
pub(crate) fn diagnostics(path: &Path, err: ManifestError) -> anyhow::Error {
    let here = |loc: Option<govstore_core::manifest::Location>| {
        loc.map(|l| format!("{}:{}:{}", path.display(), l.line, l.column))
    };
    let list = match err {
        ManifestError::Invalid(errors) => errors
            .into_iter()
            .map(|e| Diagnostic {
                message: format!("{}: {}", e.path, e.message),
                location: here(e.location),
                hint: e.hint,
            })
            .collect(),
        ManifestError::Syntax {
            format,
            message,
            location,
        } => vec![Diagnostic {
            message: format!("`{}` is not valid {format}: {message}", path.display()),
            location: here(location),
            hint: None,
        }],
        other => vec![Diagnostic::new(format!("`{}`: {other}", path.display()))],
    };
    Diagnostics(list).into()
}

/// The files the manifest names must exist (core does no IO, so this is checked here).
pub(crate) fn check_files(dir: &Path, path: &Path, m: &Manifest) -> anyhow::Result<()> {
    let named = [("package.readme", &m.package.readme), ("package.sbom", &m.package.sbom)];
    let missing: Vec<Diagnostic> = named
        .into_iter()
        .filter_map(|(field, file)| {
            let file = file.as_ref()?;
            (!dir.join(file.as_str()).is_file()).then(|| {
                Diagnostic::new(format!("{field}: `{file}` does not exist in `{}`", dir.display()))
                    .hint(format!("add the file, or change `{field}` in `{}`", path.display()))
            })
        })
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Diagnostics(missing).into())
    }
}

/// Name, version, licence, implemented specs, requirements and digest, aligned.
fn summary(m: &Manifest) -> String {
    let p = &m.package;
    let mut out = format!("{} {}\n", p.name, p.version);
    let mut row = |label: &str, lines: Vec<String>| {
        let lines = if lines.is_empty() {
            vec!["none".to_owned()]
        } else {
            lines
        };
        for (i, line) in lines.iter().enumerate() {
            let label = if i == 0 { format!("{label}:") } else { String::new() };
            let _ = writeln!(out, "  {label:<12}{line}");
        }
    };

    let osi = if p.license.is_osi_approved() {
        ""
    } else {
        " (not OSI-approved)"
    };
    row("licence", vec![format!("{}{osi}", p.license)]);
    row(
        "implements",
        m.implements
            .iter()
            .map(|i| format!("{} {} ({})", i.spec, i.version, i.how))
            .collect(),
    );
    let r = &m.requires;
    let requires = r
        .specs
        .iter()
        .map(|(k, v)| format!("spec {k} {v}"))
        .chain(r.packages.iter().map(|(k, v)| format!("package {k} {v}")))
        .chain(r.platform.iter().map(|(k, v)| format!("platform {k} {v}")))
        .collect();
    row("requires", requires);
    if !m.conflicts.is_empty() {
        row(
            "conflicts",
            m.conflicts
                .packages
                .iter()
                .map(|(k, v)| format!("package {k} {v}"))
                .collect(),
        );
    }
    row("digest", vec![m.digest().to_string()]);
    out
}
