//! `govstore install`: put the packages of a lockfile into a directory, verified.
//!
//! 1. If `DIR/.govstore-receipt.json` records the same lockfile ([`lock_hash`]) and every
//!    package directory it lists is there, nothing is done ([`InstallReport::up_to_date`]).
//!    Otherwise packages the receipt shows installed at their locked digest are left
//!    alone, and the rest are (re)installed. A receipt of a newer format (a newer
//!    govstore installed into DIR) stops the install here ([`InstallError::Format`]).
//! 2. The signing keys of the namespaces involved are read (online: from the registry,
//!    revocations included; offline: the cached keys the lockfile names).
//! 3. For each package to (re)install, `jobs` at a time: the manifest by the digest the
//!    lockfile pins, its config, and its cosign signature, which must verify against an
//!    unrevoked key of the namespace that the lockfile lists as the signer.
//! 4. Every blob is downloaded into the content-addressed cache, checked while streaming
//!    (or re-hashed if cached), with one progress report for all of them; then each
//!    content layer is checked with [`check_tarball`].
//! 5. Only then is anything written into DIR: each content layer is unpacked into a
//!    staging directory beside DIR, swapped in by `rename`, and the receipt written last
//!    (see the `commit` module).
//!
//! A failure in steps 2 to 4 leaves DIR exactly as it was. With no registry (offline)
//! everything comes from the cache, and whatever is missing is named in one error.

mod commit;
mod extract;
mod fetch;
pub mod receipt;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use futures_util::StreamExt;
use govstore_core::Digest;
use govstore_core::stack::{LockedPackage, Lockfile};
use govstore_core::tarball::{TarLimits, TarballError, check_tarball};
use serde::Serialize;

pub use self::extract::ExtractError;
use self::fetch::{Checked, Origin};
pub use self::receipt::{InstalledPackage, RECEIPT_FILE, RECEIPT_FORMAT, Receipt, ReceiptBundle};
use crate::cache::{Cache, CacheError};
use crate::progress::Progress;
use crate::registry::RegistryClient;
use crate::verify::VerifyError;

/// `name@version`.
pub(crate) fn label(p: &LockedPackage) -> String {
    format!("{}@{}", p.name, p.version)
}

/// The hash a receipt records for a lockfile: the SHA-256 of its canonical text
/// ([`Lockfile::to_toml_string`]), so that reformatting it changes nothing.
pub fn lock_hash(lock: &Lockfile) -> Digest {
    Digest::of(lock.to_toml_string().as_bytes())
}

/// Why an install failed.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error("{package} failed verification: {problem}")]
    Verify { package: String, problem: VerifyError },
    #[error("cannot read the signing keys of namespace `{namespace}`: {problem}")]
    Keys { namespace: String, problem: VerifyError },
    #[error("{package} is signed by key {key_id}, which the lockfile does not list as its signer ({})", list(.locked))]
    Signer {
        package: String,
        key_id: String,
        locked: Vec<String>,
    },
    #[error("{package}: the content is not safe to unpack: {problem}")]
    Content { package: String, problem: TarballError },
    #[error("offline, and the local cache lacks {}", list(.missing))]
    NotCached { missing: Vec<String> },
    #[error("{package}: {problem}")]
    Extract { package: String, problem: ExtractError },
    #[error(transparent)]
    Cache(#[from] CacheError),
    #[error("cannot install into `{path}`: {message}")]
    Target { path: PathBuf, message: String },
    #[error("another govstore install into `{0}` is running")]
    Busy(PathBuf),
    /// The directory's receipt is in a format this govstore does not read (a newer
    /// govstore installed into it).
    #[error(transparent)]
    Format(#[from] govstore_core::wire::FormatError),
    #[error("internal error: {0}")]
    Internal(String),
}

/// `1 package`, `2 packages`.
pub fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

fn list(items: &[String]) -> String {
    items.join(", ")
}

/// Options of an install.
#[derive(Debug, Clone)]
pub struct InstallOptions {
    pub into: PathBuf,
    /// Packages and blobs worked on at once (at least 1).
    pub jobs: usize,
    pub limits: TarLimits,
    /// The bundle being installed (`govstore pull`), recorded in the receipt.
    pub bundle: Option<ReceiptBundle>,
}

/// What an install did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InstallReport {
    /// The directory already matched the lockfile; nothing was done.
    pub up_to_date: bool,
    pub into: PathBuf,
    pub receipt: Receipt,
    /// Packages unpacked by this run.
    pub installed: Vec<String>,
    /// Packages left as they were (same digest as installed).
    pub unchanged: Vec<String>,
    /// Packages removed because the lockfile no longer has them.
    pub removed: Vec<String>,
    pub downloaded_blobs: usize,
    pub downloaded_bytes: u64,
    pub cached_blobs: usize,
    /// Offline, key revocations cannot be checked.
    pub revocation_checked: bool,
}

/// Installs the packages of `lock` into `options.into`, from `registry`, or from the
/// cache alone when it is `None`.
pub async fn install(
    registry: Option<&RegistryClient>,
    cache: &Cache,
    lock: &Lockfile,
    options: &InstallOptions,
    progress: &Arc<dyn Progress>,
) -> Result<InstallReport, InstallError> {
    let lock_hash = &lock_hash(lock);
    let packages = &lock.packages;
    let jobs = options.jobs.max(1);
    let origin = registry.map_or(Origin::Offline, Origin::Online);
    let target = commit::Target::open(&options.into)?;
    let previous = Receipt::read(&target.dir)?;
    let mut report = InstallReport {
        up_to_date: false,
        into: target.dir.clone(),
        receipt: Receipt::new(lock_hash.clone(), String::new(), Vec::new()),
        installed: Vec::new(),
        unchanged: Vec::new(),
        removed: Vec::new(),
        downloaded_blobs: 0,
        downloaded_bytes: 0,
        cached_blobs: 0,
        revocation_checked: registry.is_some(),
    };

    // 1. Already installed?
    let kept: Vec<InstalledPackage> = previous
        .iter()
        .flat_map(|r| r.packages.iter())
        .filter(|old| {
            packages.iter().any(|p| p.name == old.name && p.digest == old.digest)
                && target.has_dir(&old.path)
                && old.path == old.name.as_str()
        })
        .cloned()
        .collect();
    if let Some(prev) = &previous
        && &prev.lock_hash == lock_hash
        && prev.bundle == options.bundle
        && kept.len() == packages.len()
    {
        report.up_to_date = true;
        report.receipt = prev.clone();
        report.unchanged = kept.iter().map(|k| format!("{}@{}", k.name, k.version)).collect();
        return Ok(report);
    }
    let todo: Vec<LockedPackage> = packages
        .iter()
        .filter(|p| !kept.iter().any(|k| k.name == p.name))
        .cloned()
        .collect();

    // 2-3. Keys, manifests, configs, signatures. Packages kept in DIR are checked again
    // too (manifest and signature, not content), so a key revoked since they were
    // installed stops the install instead of being carried along silently.
    let kept_locked: Vec<LockedPackage> = packages
        .iter()
        .filter(|p| kept.iter().any(|k| k.name == p.name))
        .cloned()
        .collect();
    progress.step(&format!("verifying {}", plural(packages.len(), "package")));
    let all: Vec<LockedPackage> = todo.iter().chain(kept_locked.iter()).cloned().collect();
    let keys = fetch::load_keys(origin, cache, &all).await?;
    let results: Vec<Result<Checked, InstallError>> =
        futures_util::stream::iter(todo.iter().map(|p| fetch::check(origin, cache, p, &keys)))
            .buffered(jobs)
            .collect()
            .await;
    let checked = gather(results)?;
    let rechecked: Vec<Result<Checked, InstallError>> =
        futures_util::stream::iter(kept_locked.iter().map(|p| fetch::check(origin, cache, p, &keys)))
            .buffered(jobs)
            .collect()
            .await;
    gather(rechecked)?;

    // 4. Blobs.
    let mut wanted = Vec::new();
    let mut seen = BTreeSet::new();
    for c in &checked {
        for (role, d) in c.blobs() {
            if seen.insert(d.digest.clone()) {
                wanted.push((c, role, d));
            }
        }
    }
    let states: Vec<Result<bool, InstallError>> =
        futures_util::stream::iter(wanted.iter().map(|(_, _, d)| fetch::cached(cache, d)))
            .buffered(jobs)
            .collect()
            .await;
    let mut to_download = Vec::new();
    for ((c, role, d), state) in wanted.iter().zip(states) {
        if state? {
            report.cached_blobs += 1;
        } else {
            to_download.push((*c, *role, *d));
        }
    }
    if !to_download.is_empty() {
        let Some(client) = registry else {
            return Err(InstallError::NotCached {
                missing: to_download
                    .iter()
                    .map(|(c, role, d)| format!("the {role} of {} ({})", label(&c.package), d.digest))
                    .collect(),
            });
        };
        let total: u64 = to_download.iter().map(|(_, _, d)| d.size).sum();
        let label = plural(to_download.len(), "blob");
        progress.blob_start(&label, lock_hash, total);
        let results: Vec<Result<(), InstallError>> = futures_util::stream::iter(
            to_download
                .iter()
                .map(|(c, _, d)| fetch::download(client, cache, &c.package, d, progress.as_ref())),
        )
        .buffer_unordered(jobs)
        .collect()
        .await;
        gather(results)?;
        progress.blob_done(&label);
        report.downloaded_blobs = to_download.len();
        report.downloaded_bytes = total;
    }

    // Content checks, then unpacking into the staging directory.
    progress.step("checking content");
    let staging = target.staging()?;
    let unpacked: Vec<Result<commit::Swap, InstallError>> = futures_util::stream::iter(
        checked
            .iter()
            .enumerate()
            .map(|(i, c)| unpack(cache, c, staging.path().join("new").join(i.to_string()), options.limits)),
    )
    .buffered(jobs)
    .collect()
    .await;
    let swaps = gather(unpacked)?;

    // 5. The swap and the receipt.
    let installed_at = receipt::rfc3339_now();
    let mut entries: Vec<InstalledPackage> = kept.clone();
    for c in &checked {
        entries.push(InstalledPackage {
            name: c.package.name.clone(),
            version: c.package.version.clone(),
            digest: c.package.digest.clone(),
            content_digest: c.layers.content.digest.clone(),
            key_id: c.key_id.clone(),
            path: c.package.name.as_str().to_owned(),
        });
    }
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    report.receipt = Receipt::new(lock_hash.clone(), installed_at, entries);
    report.receipt.bundle = options.bundle.clone();
    let remove: Vec<String> = previous
        .iter()
        .flat_map(|r| r.packages.iter())
        .filter(|old| !packages.iter().any(|p| p.name == old.name))
        .map(|old| old.name.as_str().to_owned())
        .collect();
    progress.step(&format!("unpacking {}", plural(swaps.len(), "package")));
    commit::commit(&target, staging.path(), &swaps, &remove, &report.receipt)?;
    drop(staging);

    report.installed = checked.iter().map(|c| label(&c.package)).collect();
    report.unchanged = kept.iter().map(|k| format!("{}@{}", k.name, k.version)).collect();
    report.removed = remove;
    Ok(report)
}

/// Checks a content layer in the cache and unpacks it into `dest` (in the staging
/// directory).
async fn unpack(cache: &Cache, c: &Checked, dest: PathBuf, limits: TarLimits) -> Result<commit::Swap, InstallError> {
    let path = cache.blob_path(&c.layers.content.digest);
    let label = label(&c.package);
    let rel = c.package.name.as_str().to_owned();
    tokio::task::spawn_blocking(move || {
        let open = |label: &str| {
            std::fs::File::open(&path)
                .map(std::io::BufReader::new)
                .map_err(|e| InstallError::Internal(format!("{label}: cannot read the cached content: {e}")))
        };
        check_tarball(open(&label)?, &limits).map_err(|problem| InstallError::Content {
            package: label.clone(),
            problem,
        })?;
        std::fs::create_dir_all(&dest).map_err(|e| InstallError::Internal(e.to_string()))?;
        extract::unpack(open(&label)?, &dest).map_err(|problem| InstallError::Extract {
            package: label.clone(),
            problem,
        })?;
        Ok(commit::Swap { rel, staged: dest })
    })
    .await
    .map_err(|e| InstallError::Internal(e.to_string()))?
}

/// All the values, or the first error, with offline gaps merged into one error.
fn gather<T>(results: Vec<Result<T, InstallError>>) -> Result<Vec<T>, InstallError> {
    let mut out = Vec::new();
    let mut missing = Vec::new();
    let mut first = None;
    for r in results {
        match r {
            Ok(v) => out.push(v),
            Err(InstallError::NotCached { missing: m }) => missing.extend(m),
            Err(e) => {
                first.get_or_insert(e);
            }
        }
    }
    if let Some(e) = first {
        return Err(e);
    }
    if !missing.is_empty() {
        return Err(InstallError::NotCached { missing });
    }
    Ok(out)
}
