//! Reading and writing the files `resolve`, `install`, `outdated` and `update` share:
//! the stack profile (`stack.toml`) and the lockfile (`govstore.lock`), with errors
//! located in the file as `govstore manifest check` locates them.

use std::io::ErrorKind;
use std::path::Path;

use govstore_core::manifest::{FieldError, Location};
use govstore_core::stack::{Lockfile, LockfileError, Stack, StackError};

use crate::diagnostic::{Diagnostic, Diagnostics, fail};

/// The lockfile's default name.
pub const LOCKFILE: &str = "govstore.lock";
/// The stack profile's default name.
pub const STACK_FILE: &str = "stack.toml";

fn read(path: &Path, what: &str, hint: &str) -> anyhow::Result<String> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(text),
        Err(e) if e.kind() == ErrorKind::NotFound => Err(fail(
            Diagnostic::new(format!("{what} `{}` does not exist", path.display())).hint(hint),
        )),
        Err(e) if e.kind() == ErrorKind::InvalidData => {
            Err(fail(Diagnostic::new(format!("`{}` is not UTF-8 text", path.display()))))
        }
        Err(e) => Err(anyhow::Error::new(e).context(format!("cannot read `{}`", path.display()))),
    }
}

/// One diagnostic per problem, located in `path`.
fn located(
    path: &Path,
    syntax: Option<(&str, &str, Option<Location>)>,
    fields: &[FieldError],
    other: String,
) -> anyhow::Error {
    let here = |loc: Option<Location>| loc.map(|l| format!("{}:{}:{}", path.display(), l.line, l.column));
    let list = if let Some((format, message, location)) = syntax {
        vec![Diagnostic {
            message: format!("`{}` is not valid {format}: {message}", path.display()),
            location: here(location),
            hint: None,
        }]
    } else if fields.is_empty() {
        vec![Diagnostic::new(format!("`{}`: {other}", path.display()))]
    } else {
        fields
            .iter()
            .map(|e| Diagnostic {
                message: format!("{}: {}", e.path, e.message),
                location: here(e.location),
                hint: e.hint.clone(),
            })
            .collect()
    };
    Diagnostics(list).into()
}

/// Reads and validates a stack profile.
pub fn read_stack(path: &Path) -> anyhow::Result<Stack> {
    let text = read(
        path,
        "stack profile",
        "give one with --stack PATH; catalog-examples/stack-*.toml are examples",
    )?;
    Stack::from_toml_str(&text).map_err(|e| match &e {
        StackError::Syntax {
            format,
            message,
            location,
        } => located(path, Some((format, message, *location)), &[], e.to_string()),
        _ => located(path, None, e.field_errors(), e.to_string()),
    })
}

/// Reads and validates a lockfile.
pub fn read_lockfile(path: &Path) -> anyhow::Result<Lockfile> {
    let text = read(path, "lockfile", "write one with `govstore resolve --stack stack.toml`")?;
    Lockfile::from_toml_str(&text).map_err(|e| match &e {
        LockfileError::Format(f) => {
            let f = f.clone().with_subject(format!("`{}`", path.display()));
            fail(Diagnostic::new(f.to_string()).hint(f.hint()))
        }
        LockfileError::Syntax {
            format,
            message,
            location,
        } => located(path, Some((format, message, *location)), &[], e.to_string()),
        _ => located(path, None, e.field_errors(), e.to_string()),
    })
}

/// Writes a lockfile atomically (a temporary file beside it, renamed over it).
pub fn write_lockfile(path: &Path, lock: &Lockfile) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => std::path::PathBuf::from("."),
    };
    let write = || -> std::io::Result<()> {
        use std::io::Write as _;
        let mut tmp = tempfile::Builder::new().prefix(".govstore-lock-").tempfile_in(&dir)?;
        tmp.write_all(lock.to_toml_string().as_bytes())?;
        tmp.as_file().sync_all()?;
        tmp.persist(path).map_err(|e| e.error)?;
        Ok(())
    };
    write().map_err(|e| fail(Diagnostic::new(format!("cannot write `{}`: {e}", path.display()))))
}
