//! Putting verified packages into the install directory without ever leaving it half
//! written by a failure before the last step.
//!
//! Everything is unpacked first into a staging directory next to DIR (in DIR's parent,
//! so that renames stay on one file system), named `.<DIR name>.govstore-staging-*`.
//! Only then are the package directories swapped in by `rename`, the old ones moved
//! into the staging directory, and the receipt renamed into place last. Nothing in
//! DIR is followed if it is a symbolic link: DIR itself, `DIR/<ns>` and the receipt
//! must be real directories and files or absent, and a `DIR/<ns>/<name>` that is a
//! link is moved away, not written through.
//!
//! One install at a time per directory: `.<DIR name>.govstore-lock` in the parent is
//! locked (`flock`) for the whole install (and left there, empty), and stale staging
//! directories of an interrupted install are removed once the lock is held. An install interrupted during the swap leaves the old receipt,
//! so the next run sees that DIR does not match it and completes the install.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

use super::InstallError;
use super::receipt::{RECEIPT_FILE, Receipt};

/// The install directory, checked, and the lock on its parent.
#[derive(Debug)]
pub(super) struct Target {
    pub dir: PathBuf,
    pub parent: PathBuf,
    prefix: String,
    _lock: File,
}

fn target_err(path: &Path, message: impl Into<String>) -> InstallError {
    InstallError::Target {
        path: path.to_owned(),
        message: message.into(),
    }
}

fn io_target(path: &Path) -> impl FnOnce(io::Error) -> InstallError + '_ {
    move |e| target_err(path, e.to_string())
}

/// What is at `path`, without following a link.
fn kind(path: &Path) -> Result<Option<fs::FileType>, InstallError> {
    match fs::symlink_metadata(path) {
        Ok(m) => Ok(Some(m.file_type())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_target(path)(e)),
    }
}

/// A path that must be a real directory or absent.
fn dir_or_absent(path: &Path) -> Result<bool, InstallError> {
    match kind(path)? {
        None => Ok(false),
        Some(t) if t.is_dir() => Ok(true),
        Some(t) if t.is_symlink() => Err(target_err(
            path,
            "it is a symbolic link; govstore never writes through one",
        )),
        Some(_) => Err(target_err(path, "it is not a directory")),
    }
}

impl Target {
    /// Checks `dir` (a real directory or absent), creates its parent if needed, takes
    /// the lock and removes stale staging directories.
    pub fn open(dir: &Path) -> Result<Self, InstallError> {
        let dir = std::path::absolute(dir).map_err(io_target(dir))?;
        let Some(name) = dir.file_name().and_then(|n| n.to_str()).map(str::to_owned) else {
            return Err(target_err(&dir, "give the install directory a name, such as ./stack"));
        };
        let parent = dir
            .parent()
            .map(Path::to_path_buf)
            .ok_or_else(|| target_err(&dir, "it has no parent directory"))?;
        dir_or_absent(&dir)?;
        fs::create_dir_all(&parent).map_err(io_target(&parent))?;
        let lock_path = parent.join(format!(".{name}.govstore-lock"));
        let lock = File::options()
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock_path)
            .map_err(io_target(&lock_path))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => return Err(InstallError::Busy(dir)),
            Err(fs::TryLockError::Error(e)) => return Err(io_target(&parent)(e)),
        }
        let prefix = format!(".{name}.govstore-staging-");
        let target = Self {
            dir,
            parent,
            prefix,
            _lock: lock,
        };
        target.remove_stale_staging()?;
        Ok(target)
    }

    fn remove_stale_staging(&self) -> Result<(), InstallError> {
        for entry in fs::read_dir(&self.parent).map_err(io_target(&self.parent))?.flatten() {
            let is_ours = entry.file_name().to_str().is_some_and(|n| n.starts_with(&self.prefix));
            if is_ours && entry.file_type().is_ok_and(|t| t.is_dir()) {
                // remove_dir_all does not follow symbolic links inside.
                fs::remove_dir_all(entry.path()).map_err(io_target(&entry.path()))?;
            }
        }
        Ok(())
    }

    /// A new staging directory, removed when dropped.
    pub fn staging(&self) -> Result<tempfile::TempDir, InstallError> {
        tempfile::Builder::new()
            .prefix(&self.prefix)
            .tempdir_in(&self.parent)
            .map_err(io_target(&self.parent))
    }

    /// Whether `DIR/<rel>` is a real directory (not a link).
    pub fn has_dir(&self, rel: &str) -> bool {
        kind(&self.dir.join(rel)).ok().flatten().is_some_and(|t| t.is_dir())
    }
}

/// A package directory to swap in: `staged` (inside the staging directory) becomes
/// `DIR/<rel>`.
#[derive(Debug)]
pub(super) struct Swap {
    pub rel: String,
    pub staged: PathBuf,
}

/// Swaps the staged packages in, moves `remove` out, and renames the receipt into place.
pub(super) fn commit(
    target: &Target,
    staging: &Path,
    swaps: &[Swap],
    remove: &[String],
    receipt: &Receipt,
) -> Result<(), InstallError> {
    let dir = &target.dir;
    // Checks first, so that a refusal changes nothing.
    dir_or_absent(dir)?;
    for rel in swaps.iter().map(|s| &s.rel).chain(remove) {
        let ns = rel.split('/').next().unwrap_or_default();
        dir_or_absent(&dir.join(ns))?;
    }
    if let Some(t) = kind(&dir.join(RECEIPT_FILE))?
        && !t.is_file()
        && !t.is_symlink()
    {
        return Err(target_err(&dir.join(RECEIPT_FILE), "it is not a file"));
    }
    let receipt_tmp = staging.join("receipt.json");
    let bytes = receipt.to_json().map_err(|e| InstallError::Internal(e.to_string()))?;
    write_synced(&receipt_tmp, &bytes).map_err(io_target(&receipt_tmp))?;
    let old = staging.join("old");
    fs::create_dir(&old).map_err(io_target(&old))?;

    // The swap.
    if !dir_or_absent(dir)? {
        fs::create_dir(dir).map_err(io_target(dir))?;
    }
    let mut touched = vec![dir.clone()];
    let mut moved = 0usize;
    let mut move_out = |path: &Path| -> Result<(), InstallError> {
        if kind(path)?.is_some() {
            moved += 1;
            fs::rename(path, old.join(moved.to_string())).map_err(io_target(path))?;
        }
        Ok(())
    };
    for s in swaps {
        let dest = dir.join(&s.rel);
        if let Some(ns) = dest.parent() {
            if !dir_or_absent(ns)? {
                fs::create_dir(ns).map_err(io_target(ns))?;
            }
            touched.push(ns.to_path_buf());
        }
        move_out(&dest)?;
        fs::rename(&s.staged, &dest).map_err(io_target(&dest))?;
    }
    for rel in remove {
        let path = dir.join(rel);
        move_out(&path)?;
        if let Some(ns) = path.parent() {
            // Only if empty; other packages of the namespace stay.
            let _ = fs::remove_dir(ns);
        }
    }
    fs::rename(&receipt_tmp, dir.join(RECEIPT_FILE)).map_err(io_target(dir))?;
    for d in touched {
        if let Ok(f) = File::open(&d) {
            let _ = f.sync_all();
        }
    }
    Ok(())
}

fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    let mut f = File::options().write(true).create_new(true).open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}
