//! `govstore export COUNTRY/NAME@VERSION -o FILE [--split SIZE]`: write a bundle, every
//! proof it needs and the trust material to check them, as one OCI image layout tar
//! for sites with no route to the registry.
//!
//! The bundle is verified first exactly as `govstore pull` does (pinned keys
//! required, every member approved); then `govstore_client::export::gather` collects
//! it and the layout is written to a temporary file beside FILE, renamed into place
//! only when complete (with `--split`, numbered parts and `FILE.parts.json`, removed
//! again on failure). The same bundle state exports to the same bytes.
//!
//! `--since VERSION` writes a differential export: the base bundle (the same bundle at
//! VERSION) is fetched and its signatures verified against the pinned keys, and the
//! blobs of its member manifests (manifests, configs, layers) are left out; readers
//! need the base export too (`pull --from FILE --base BASE`). `--zstd` compresses the
//! tar (FILE gets `.zst` appended unless it ends so); `--split` then splits the
//! compressed stream.

use std::path::{Path, PathBuf};

use clap::Args;

use govstore_client::export::gather::{BundleInput, Plan, Since, base_closure, gather};
use govstore_client::layout::hashing::HashingWriter;
use govstore_client::layout::{SplitWriter, zstd_encoder};
use govstore_core::Digest;
use govstore_core::bundle::{BundleRef, BundleVersion};
use serde_json::json;

use super::pull::{Next, not_approved, verify_online};
use crate::context::{Ctx, block_on};
use crate::diagnostic::{Diagnostic, client_error, fail};
use crate::output::{bytes, print_json, short_digest};

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The bundle, COUNTRY/NAME@VERSION (`SL/national-id@2026.1`)
    bundle: String,
    /// The file to write (an OCI image layout in a tar)
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: PathBuf,
    /// Write parts of at most SIZE bytes (`100M`, `1G`; K, M, G, T are powers of
    /// 1024) as FILE.part-0001... with their SHA-256s in FILE.parts.json
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    split: Option<u64>,
    /// Write a differential export holding only what the export of this earlier
    /// version of the bundle lacks (read it with `--base` that export)
    #[arg(long, value_name = "VERSION")]
    since: Option<String>,
    /// Compress with zstd (FILE.zst; readers detect it)
    #[arg(long)]
    zstd: bool,
}

/// `123`, `100K`, `100M`, `1G`, `2T` (powers of 1024; a trailing `B` or `iB` allowed).
pub fn parse_size(raw: &str) -> Result<u64, String> {
    let s = raw.trim();
    let s = s
        .strip_suffix("iB")
        .or_else(|| s.strip_suffix('B'))
        .or_else(|| s.strip_suffix('b'))
        .unwrap_or(s);
    let (digits, unit) = match s.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&s[..i], Some(c.to_ascii_uppercase())),
        _ => (s, None),
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("`{raw}` is not a size; write a number with K, M, G or T, such as 100M"))?;
    let shift = match unit {
        None => 0,
        Some('K') => 10,
        Some('M') => 20,
        Some('G') => 30,
        Some('T') => 40,
        Some(other) => return Err(format!("`{raw}`: unknown unit `{other}`; use K, M, G or T")),
    };
    let size = n
        .checked_mul(1u64 << shift)
        .ok_or_else(|| format!("`{raw}` is too large"))?;
    if size == 0 {
        return Err("the part size must be at least one byte".to_owned());
    }
    Ok(size)
}

pub fn run(ctx: &Ctx, args: ExportArgs) -> anyhow::Result<()> {
    let online = verify_online(ctx, &args.bundle)?;
    let b = &online.verified.bundle;
    if !online.problems.is_empty() {
        return Err(not_approved(&online.problems, b, Next::ExportAnother));
    }
    let url = online.client.base_url().to_owned();
    let country = block_on(online.client.country(b.country.as_str()))?.map_err(|e| client_error(&e, &url))?;
    let since = match &args.since {
        None => None,
        Some(v) => Some(base_of(&online, v)?),
    };
    let input = BundleInput {
        bundle: b.clone(),
        index: online.index.clone(),
        envelopes: online.envelopes.clone(),
        country,
        since,
    };
    let plan = block_on(gather(&online.client, &online.cache, &input))?
        .map_err(|e| fail(Diagnostic::new(format!("cannot export {}: {e}", b.reference()))))?;

    let output = if args.zstd && !args.output.to_string_lossy().ends_with(".zst") {
        PathBuf::from(format!("{}.zst", args.output.display()))
    } else {
        args.output.clone()
    };
    let written = match args.split {
        None => write_whole(&output, &plan, args.zstd)?,
        Some(size) => write_split(&output, size, &plan, args.zstd)?,
    };
    let report = json!({
        "bundle": b.reference().to_string(),
        "digest": online.verified.digest.to_string(),
        "signers": online.verified.signers,
        "output": output.display().to_string(),
        "archive_digest": written.summary.archive_digest.to_string(),
        "archive_bytes": written.summary.archive_bytes,
        "compression": if args.zstd { Some("zstd") } else { None },
        "file_digest": written.file.0.to_string(),
        "file_bytes": written.file.1,
        "since": input.since.as_ref().map(|s| s.bundle.reference().to_string()),
        "base_digest": input.since.as_ref().map(|s| s.digest.to_string()),
        "omitted_blobs": plan.omitted,
        "omitted_bytes": plan.omitted_bytes,
        "blobs": written.summary.blobs,
        "blob_bytes": written.summary.blob_bytes,
        "manifests": plan.manifests,
        "members": b.members.len(),
        "parts": written.parts,
        "parts_file": written.parts_file,
    });
    if ctx.json {
        return print_json(&report);
    }
    println!(
        "{} verified: {} of {} pinned signatures of {}, every member approved",
        b.reference(),
        online.verified.signers.len(),
        online.country_trust.threshold,
        b.country.as_str()
    );
    println!(
        "exported {} ({} members, {} blobs of which {} manifests, {}) to {}  {}",
        b.reference(),
        b.members.len(),
        written.summary.blobs,
        plan.manifests,
        bytes(written.summary.blob_bytes),
        written.parts_file.as_deref().unwrap_or(&output.display().to_string()),
        short_digest(&written.summary.archive_digest)
    );
    if let Some(n) = written.parts {
        println!("{n} parts; copy them all with the .parts.json file");
    }
    if let Some(s) = &input.since {
        println!(
            "differential since {}: {} blobs ({}) left out, held by its export; read it with --base that export",
            s.bundle.reference(),
            plan.omitted,
            bytes(plan.omitted_bytes)
        );
    }
    println!(
        "install it offline: govstore pull --from {}{} --into DIR   (with {}'s keys pinned: govstore trust add)",
        written.parts_file.as_deref().unwrap_or(&output.display().to_string()),
        if input.since.is_some() {
            " --base BASE-EXPORT"
        } else {
            ""
        },
        b.country.as_str()
    );
    Ok(())
}

/// The base of `--since VERSION`: the same bundle at VERSION, its signatures verified
/// against the pinned keys, and the blobs its export holds for sure.
fn base_of(online: &super::pull::Online, raw: &str) -> anyhow::Result<Since> {
    let b = &online.verified.bundle;
    let version: BundleVersion = raw.parse().map_err(|e: govstore_core::bundle::BundleError| {
        fail(
            Diagnostic::new(format!("--since {raw}: {e}"))
                .hint("give an earlier version of the bundle, such as 2026.1"),
        )
    })?;
    if version == b.version {
        return Err(fail(Diagnostic::new(format!(
            "--since {raw} is the version being exported; give an earlier version"
        ))));
    }
    let r = BundleRef {
        country: b.country,
        name: b.name.clone(),
        version: None,
    };
    let client = &online.client;
    let url = client.base_url().to_owned();
    let (_, index) = super::bundle::fetch(client, &r, version)?;
    let state = block_on(client.bundle(b.country.as_str(), b.name.as_str(), &version.to_string()))?
        .map_err(|e| client_error(&e, &url))?;
    let envelopes = state["envelopes"].as_array().cloned().unwrap_or_default();
    let verified = govstore_client::bundles::verify(&r.at(version), &index, &envelopes, &online.country_trust)
        .map_err(|e| fail(Diagnostic::new(format!("the base {}: {e}", r.at(version)))))?;
    let blobs = block_on(base_closure(client, &online.cache, &verified.bundle))?
        .map_err(|e| fail(Diagnostic::new(format!("the base {}: {e}", r.at(version)))))?;
    Ok(Since {
        bundle: verified.bundle,
        digest: verified.digest,
        blobs,
    })
}

struct Written {
    summary: govstore_client::layout::WriteSummary,
    /// The file's (or the joined parts') SHA-256 and length: the compressed stream's
    /// with --zstd.
    file: (Digest, u64),
    parts: Option<usize>,
    parts_file: Option<String>,
}

fn dir_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// Writes the plan to `out`, through zstd if asked; returns the tar's summary and the
/// written stream's digest and length.
fn encode(
    plan: &Plan,
    out: impl std::io::Write,
    zstd: bool,
) -> Result<(govstore_client::layout::WriteSummary, (Digest, u64)), String> {
    let mut hashing = HashingWriter::new(out);
    let summary = if zstd {
        let mut encoder = zstd_encoder(&mut hashing).map_err(|e| e.to_string())?;
        let summary = plan.write(&mut encoder).map_err(|e| e.to_string())?;
        encoder.finish().map_err(|e| e.to_string())?;
        summary
    } else {
        plan.write(&mut hashing).map_err(|e| e.to_string())?
    };
    let (mut out, digest, len) = hashing.finish();
    out.flush().map_err(|e| e.to_string())?;
    Ok((summary, (digest, len)))
}

fn write_whole(output: &Path, plan: &Plan, zstd: bool) -> anyhow::Result<Written> {
    let dir = dir_of(output);
    let cannot = |e: String| fail(Diagnostic::new(format!("cannot write `{}`: {e}", output.display())));
    let mut temp = tempfile::Builder::new()
        .prefix(".govstore-export-")
        .tempfile_in(&dir)
        .map_err(|e| cannot(e.to_string()))?;
    // The temporary file is removed when dropped, on every error path.
    let (summary, file) = encode(
        plan,
        std::io::BufWriter::with_capacity(1024 * 1024, temp.as_file_mut()),
        zstd,
    )
    .map_err(cannot)?;
    temp.as_file().sync_all().map_err(|e| cannot(e.to_string()))?;
    temp.persist(output).map_err(|e| cannot(e.error.to_string()))?;
    Ok(Written {
        summary,
        file,
        parts: None,
        parts_file: None,
    })
}

fn write_split(output: &Path, size: u64, plan: &Plan, zstd: bool) -> anyhow::Result<Written> {
    let cannot = |e: String| fail(Diagnostic::new(format!("cannot write `{}`: {e}", output.display())));
    let mut writer = SplitWriter::create(output, size).map_err(|e| cannot(e.to_string()))?;
    let result = encode(plan, &mut writer, zstd).and_then(|(summary, file)| {
        writer
            .finish()
            .map(|parts| (summary, file, parts))
            .map_err(|e| e.to_string())
    });
    match result {
        Ok((summary, file, parts)) => Ok(Written {
            summary,
            file,
            parts: Some(parts.parts.len()),
            parts_file: Some(format!("{}.parts.json", output.display())),
        }),
        Err(e) => {
            remove_parts(output);
            Err(cannot(e))
        }
    }
}

/// Removes `<output>.part-NNNN` files and `<output>.parts.json` after a failure.
fn remove_parts(output: &Path) {
    let dir = dir_of(output);
    let Some(stem) = output.file_name().and_then(|n| n.to_str()) else {
        return;
    };
    let part_prefix = format!("{stem}.part-");
    let list = format!("{stem}.parts.json");
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name == list
                || name
                    .strip_prefix(&part_prefix)
                    .is_some_and(|n| n.len() == 4 && n.bytes().all(|b| b.is_ascii_digit()))
            {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("123"), Ok(123));
        assert_eq!(parse_size("100M"), Ok(100 << 20));
        assert_eq!(parse_size("1G"), Ok(1 << 30));
        assert_eq!(parse_size("2k"), Ok(2048));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert!(parse_size("0").is_err());
        assert!(parse_size("x").is_err());
        assert!(parse_size("1Q").is_err());
    }
}
