//! `govstore export COUNTRY/NAME@VERSION -o FILE [--split SIZE]`: write a bundle, every
//! proof it needs and the trust material to check them, as one OCI image layout tar
//! for sites with no route to the registry.
//!
//! The bundle is verified first exactly as `govstore pull` does (pinned keys
//! required, every member approved); then `govstore_client::export::gather` collects
//! it and the layout is written to a temporary file beside FILE, renamed into place
//! only when complete (with `--split`, numbered parts and `FILE.parts.json`, removed
//! again on failure). The same bundle state exports to the same bytes.

use std::path::{Path, PathBuf};

use clap::Args;
use govstore_client::export::gather::{BundleInput, gather};
use govstore_client::layout::SplitWriter;
use serde_json::json;

use super::pull::{not_approved, verify_online};
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
        return Err(not_approved(&online.problems, b, false));
    }
    let url = online.client.base_url().to_owned();
    let country = block_on(online.client.country(b.country.as_str()))?.map_err(|e| client_error(&e, &url))?;
    let input = BundleInput {
        bundle: b.clone(),
        index: online.index.clone(),
        envelopes: online.envelopes.clone(),
        country,
    };
    let plan = block_on(gather(&online.client, &online.cache, &input))?
        .map_err(|e| fail(Diagnostic::new(format!("cannot export {}: {e}", b.reference()))))?;

    let written = match args.split {
        None => write_whole(&args.output, &plan)?,
        Some(size) => write_split(&args.output, size, &plan)?,
    };
    let report = json!({
        "bundle": b.reference().to_string(),
        "digest": online.verified.digest.to_string(),
        "signers": online.verified.signers,
        "output": args.output.display().to_string(),
        "archive_digest": written.summary.archive_digest.to_string(),
        "archive_bytes": written.summary.archive_bytes,
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
        written
            .parts_file
            .as_deref()
            .unwrap_or(&args.output.display().to_string()),
        short_digest(&written.summary.archive_digest)
    );
    if let Some(n) = written.parts {
        println!("{n} parts; copy them all with the .parts.json file");
    }
    println!(
        "install it offline: govstore pull --from {} --into DIR   (with {}'s keys pinned: govstore trust add)",
        written
            .parts_file
            .as_deref()
            .unwrap_or(&args.output.display().to_string()),
        b.country.as_str()
    );
    Ok(())
}

struct Written {
    summary: govstore_client::layout::WriteSummary,
    parts: Option<usize>,
    parts_file: Option<String>,
}

fn dir_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    }
}

fn write_whole(output: &Path, plan: &govstore_client::export::gather::Plan) -> anyhow::Result<Written> {
    let dir = dir_of(output);
    let cannot = |e: String| fail(Diagnostic::new(format!("cannot write `{}`: {e}", output.display())));
    let mut temp = tempfile::Builder::new()
        .prefix(".govstore-export-")
        .tempfile_in(&dir)
        .map_err(|e| cannot(e.to_string()))?;
    // The temporary file is removed when dropped, on every error path.
    let summary = plan
        .write(std::io::BufWriter::with_capacity(1024 * 1024, temp.as_file_mut()))
        .map_err(|e| cannot(e.to_string()))?;
    temp.as_file().sync_all().map_err(|e| cannot(e.to_string()))?;
    temp.persist(output).map_err(|e| cannot(e.error.to_string()))?;
    Ok(Written {
        summary,
        parts: None,
        parts_file: None,
    })
}

fn write_split(output: &Path, size: u64, plan: &govstore_client::export::gather::Plan) -> anyhow::Result<Written> {
    let cannot = |e: String| fail(Diagnostic::new(format!("cannot write `{}`: {e}", output.display())));
    let mut writer = SplitWriter::create(output, size).map_err(|e| cannot(e.to_string()))?;
    let result = plan
        .write(&mut writer)
        .map_err(|e| e.to_string())
        .and_then(|summary| writer.finish().map(|parts| (summary, parts)).map_err(|e| e.to_string()));
    match result {
        Ok((summary, parts)) => Ok(Written {
            summary,
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
