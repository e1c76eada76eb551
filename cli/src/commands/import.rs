//! Air-gapped installs and imports from an export (`govstore export`), with every
//! proof checked offline against the keys the operator pinned:
//!
//! - `govstore pull --from FILE --into DIR` installs the bundle with no registry at
//!   all (FILE a tar, or the `.parts.json` of a split export);
//! - `govstore import FILE --registry URL` copies it into another registry.
//!
//! Both read the export into a staging directory (every entry checked, every blob
//! re-hashed while streaming, by `govstore_client::layout`), then verify it
//! (`govstore_client::export::offline`): the bundle statements against the pinned
//! country keys and threshold, each member's publisher signature and approvals.
//! Nothing is written to DIR or pushed before all of that passed. The install itself
//! is `govstore install`'s, offline, from a cache that holds exactly the verified
//! blobs (inside the staging directory, so nothing stale in the user's cache can
//! take part); the receipt records the bundle as an online pull does.
//!
//! Either may be zstd-compressed (detected by its magic bytes). A differential export
//! (`govstore export --since`) is read only with `--base BASE`, the export of the
//! bundle version it builds on, given explicitly: BASE is read and verified first as
//! any export is (its bundle signatures against the pinned keys, its members'
//! publisher signatures), must hold the base bundle index the differential export
//! records, and each blob taken from it is re-hashed on the way in.

use std::path::{Path, PathBuf};

use clap::Args;
use govstore_client::cache::Cache;
use govstore_client::export::offline::{Offline, VerifyReport, verify};
use govstore_client::install::{self, InstallOptions, ReceiptBundle};
use govstore_client::layout::{
    LayoutError, Limits, ReadLayout, read_layout_into_tempdir_with_base, read_parts_into_tempdir_with_base,
};
use govstore_client::trust::TrustFile;
use govstore_core::bundle::BundleRef;
use govstore_core::manifest::Url;
use serde_json::json;

use super::install::summary;
use super::pull::{Next, not_approved};
use crate::context::{Ctx, block_on};
use crate::diagnostic::{Diagnostic, fail};
use crate::output::{bytes, print_json, short_digest};
use crate::progress::CliProgress;

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The export: a tar written by `govstore export` (zstd or not), or its
    /// `.parts.json`
    file: PathBuf,
    /// For a differential export (`export --since`): the export of the version it
    /// builds on
    #[arg(long, value_name = "BASE")]
    base: Option<PathBuf>,
    /// Import members whose approval was revoked or expired since the bundle was
    /// signed
    #[arg(long)]
    allow_revoked: bool,
}

/// A verified export, staged.
struct Staged {
    _dir: tempfile::TempDir,
    /// The base of a differential export, staged (its blobs were copied in).
    _base: Option<tempfile::TempDir>,
    layout: ReadLayout,
    offline: Offline,
}

/// Reads an export (a tar, zstd or not, or a `.parts.json`) into a staging directory
/// inside `parent`.
fn read_file(
    file: &Path,
    parent: &Path,
    base: Option<&ReadLayout>,
) -> Result<(tempfile::TempDir, ReadLayout), Result<LayoutError, std::io::Error>> {
    let limits = Limits::default();
    if file.to_string_lossy().ends_with(".parts.json") {
        return read_parts_into_tempdir_with_base(file, parent, &limits, base).map_err(Ok);
    }
    let f = std::fs::File::open(file).map_err(Err)?;
    read_layout_into_tempdir_with_base(std::io::BufReader::with_capacity(1024 * 1024, f), parent, &limits, base)
        .map_err(Ok)
}

/// Reads and verifies an export (with its base, for a differential one); `parent` is
/// where the staging directories go.
fn read_and_verify(file: &Path, base: Option<&Path>, asked: Option<&str>, parent: &Path) -> anyhow::Result<Staged> {
    let asked: Option<BundleRef> = asked
        .map(|raw| {
            raw.parse::<BundleRef>()
                .map_err(|e| fail(Diagnostic::new(e.to_string()).hint("for example SL/national-id@2026.1")))
        })
        .transpose()?;
    let trust_path = TrustFile::path().map_err(|e| fail(Diagnostic::new(e.to_string())))?;
    let trust_file = TrustFile::load(&trust_path).map_err(|e| fail(Diagnostic::new(e.to_string())))?;
    let refused = |e: String| {
        fail(
            Diagnostic::new(format!("`{}`: {e}", file.display()))
                .hint("nothing was written; get a fresh copy of the export from its source"),
        )
    };
    let cannot_read =
        |path: &Path, e: std::io::Error| fail(Diagnostic::new(format!("cannot read `{}`: {e}", path.display())));
    let now = super::resolution::now_secs();
    let not_pinned = |text: &str| text.contains("are pinned");

    // The base first, verified in full like any export.
    let base_staged = match base {
        None => None,
        Some(path) => {
            let base_refused = |e: String| {
                fail(
                    Diagnostic::new(format!("`{}` (the base export): {e}", path.display()))
                        .hint("nothing was written; give the full export of the version the differential export names"),
                )
            };
            let (dir, layout) = read_file(path, parent, None).map_err(|e| match e {
                Ok(LayoutError::NeedsBase { reference, .. }) => base_refused(format!(
                    "it is itself a differential export (since {reference}); the base must be a full export"
                )),
                Ok(e) => base_refused(e.to_string()),
                Err(e) => cannot_read(path, e),
            })?;
            // Its members' approvals are not required here: the members installed
            // are the differential export's, whose approvals are checked below.
            verify(&layout, None, &trust_file, now).map_err(|e| {
                let text = e.to_string();
                if not_pinned(&text) {
                    fail(Diagnostic::new(text).hint("nothing was written"))
                } else {
                    base_refused(text)
                }
            })?;
            Some((dir, layout))
        }
    };
    let (dir, layout) = read_file(file, parent, base_staged.as_ref().map(|(_, l)| l)).map_err(|e| match e {
        Ok(
            LayoutError::NeedsBase { .. }
            | LayoutError::WrongBase { .. }
            | LayoutError::BaseNotNeeded
            | LayoutError::BaseIsDifferential { .. },
        ) => {
            let text = e.map(|e| e.to_string()).unwrap_or_default();
            fail(
                Diagnostic::new(format!("`{}`: {text}", file.display()))
                    .hint("nothing was written; check which export --base names"),
            )
        }
        Ok(e) => refused(e.to_string()),
        Err(e) => cannot_read(file, e),
    })?;
    let offline = verify(&layout, asked.as_ref(), &trust_file, now).map_err(|e| {
        let text = e.to_string();
        if not_pinned(&text) {
            fail(Diagnostic::new(text).hint("nothing was written"))
        } else {
            refused(text)
        }
    })?;
    Ok(Staged {
        _dir: dir,
        _base: base_staged.map(|(d, _)| d),
        layout,
        offline,
    })
}

fn report_text(r: &VerifyReport) -> String {
    let mut out = String::new();
    out.push_str(&format!("{}  {}\n", r.bundle, short_digest(&r.digest)));
    out.push_str(&format!(
        "  archive{}: {} blobs re-hashed ({} manifests, {}), {} entries in index.json\n",
        if r.archive.zstd { " (zstd)" } else { "" },
        r.archive.blobs,
        r.archive.manifests,
        bytes(r.archive.total_bytes),
        r.archive.index_entries
    ));
    if let Some(d) = &r.archive.differential {
        out.push_str(&format!(
            "  differential since {}: {} blobs ({}) taken from the base export, re-hashed\n",
            d.reference,
            d.from_base_blobs,
            bytes(d.from_base_bytes)
        ));
    }
    out.push_str(&format!(
        "  bundle statements: {} of {} pinned signatures verified (DSSE); cosign signatures of the index by pinned keys: {}\n",
        r.bundle_statements, r.threshold, r.bundle_cosign_signatures
    ));
    out.push_str(&format!(
        "  publisher signatures: {} verified; approvals by pinned keys: {}\n",
        r.publisher_signatures, r.approvals
    ));
    out.push_str(&format!("  country keys used: {}\n", r.country_keys.join(", ")));
    out.push_str(&format!("  publisher keys used: {}\n", r.publisher_keys.join(", ")));
    for m in &r.members {
        out.push_str(&format!(
            "  {}@{}  {}  signed by {}, {} approvals{}\n",
            m.name,
            m.version,
            short_digest(&m.digest),
            govstore_core::approval::short_key(&m.publisher_key),
            m.approvals,
            m.problem
                .as_ref()
                .map(|p| format!("  NOT APPROVED: {p}"))
                .unwrap_or_default()
        ));
    }
    out
}

fn staging_parent(into: &Path) -> anyhow::Result<PathBuf> {
    let parent = match into.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent)
        .map_err(|e| fail(Diagnostic::new(format!("cannot use `{}`: {e}", parent.display()))))?;
    Ok(parent)
}

/// `govstore pull --from FILE --into DIR`: see the module documentation.
pub fn pull_from(
    ctx: &Ctx,
    file: &Path,
    base: Option<&Path>,
    asked: Option<&str>,
    into: &Path,
    allow_revoked: bool,
    jobs: u16,
) -> anyhow::Result<()> {
    let parent = staging_parent(into)?;
    let staged = read_and_verify(file, base, asked, &parent)?;
    let o = &staged.offline;
    let b = &o.verified.bundle;
    if !o.problems.is_empty() && (!allow_revoked || !o.missing.is_empty()) {
        return Err(not_approved(&o.problems, b, Next::given(&o.missing)));
    }
    let cache = Cache::new(staged._dir.path().join("cache"));
    o.seed_cache(&staged.layout, &cache)
        .map_err(|e| fail(Diagnostic::new(e.to_string())))?;
    let source: Url = o.trust.registry.parse().map_err(|e| {
        fail(Diagnostic::new(format!(
            "the export names its registry as `{}`, which is not a URL: {e}",
            o.trust.registry
        )))
    })?;
    let lock = o.lockfile(&source);
    let options = InstallOptions {
        into: into.to_owned(),
        jobs: usize::from(jobs),
        limits: Default::default(),
        bundle: Some(ReceiptBundle {
            reference: b.reference().to_string(),
            digest: o.verified.digest.clone(),
            signers: o.verified.signers.clone(),
            overrides: o.problems.iter().map(|p| format!("allow-revoked: {p}")).collect(),
        }),
    };
    let progress = CliProgress::shared(ctx.json, "unpacking");
    let report = block_on(install::install(None, &cache, &lock, &options, &progress))?
        .map_err(|e| fail(Diagnostic::new(e.to_string())))?;
    if ctx.json {
        return print_json(&json!({ "verified": o.report, "install": report }));
    }
    print!("{}", report_text(&o.report));
    print!(
        "{}",
        summary(&report, &into.display().to_string(), &b.reference().to_string())
    );
    Ok(())
}

/// `govstore import FILE --registry URL`: verify offline, then push over OCI.
pub fn run(ctx: &Ctx, args: ImportArgs) -> anyhow::Result<()> {
    let client = ctx.client(true)?;
    let token = std::env::var(crate::context::TOKEN_ENV)
        .ok()
        .filter(|t| !t.is_empty())
        .or_else(|| {
            let (_, config) = ctx.load_config().ok()?;
            config.token_for(client.base_url()).map(str::to_owned)
        });
    let parent = staging_parent(&args.file)?;
    let staged = read_and_verify(&args.file, args.base.as_deref(), None, &parent)?;
    let o = &staged.offline;
    let b = &o.verified.bundle;
    if !o.problems.is_empty() && (!args.allow_revoked || !o.missing.is_empty()) {
        return Err(not_approved(&o.problems, b, Next::given(&o.missing)));
    }
    let pushed = block_on(govstore_client::export::push::push(
        &client,
        token.as_deref(),
        &staged.layout,
        o,
    ))?
    .map_err(|e| {
        fail(Diagnostic::new(format!("import of {} stopped: {e}", b.reference())).hint(
            "a govstore registry takes packages only through its publish API; importing a signed bundle into govstore needs server support that re-records published versions and approvals (not built yet)",
        ))
    })?;
    if ctx.json {
        return print_json(&json!({ "verified": o.report, "pushed": pushed }));
    }
    print!("{}", report_text(&o.report));
    println!(
        "pushed to {}: {} blobs uploaded, {} already present, {} manifests, tags: {}",
        pushed.registry,
        pushed.blobs_uploaded,
        pushed.blobs_present,
        pushed.manifests,
        pushed.tags.join(", ")
    );
    Ok(())
}
