//! `govstore-server import dpg FILE`: the Digital Public Goods registry extract (JSON
//! lines, one DPG or nominee a line; see `../shared/data/dpg/DATA-LICENSE.txt`) imported
//! as catalogue listings: metadata only, never installable.
//!
//! Every line is read and checked before anything is written: a line that is not a
//! valid entry stops the import with its line number, and nothing is imported. The file,
//! its lines, its number of rows and every field have limits. Deployment countries are
//! mapped from English names to ISO 3166-1 alpha-2 codes (`govstore_core::country_names`);
//! names that map to no code are kept as given and reported, not fatal. URLs are trimmed
//! and an `http(s)://` URL after a label (`backend: https://...`) is taken from where it
//! starts.
//!
//! The extract holds a few ids twice, in different collections (a current nominee and
//! its archived record). One listing is kept per id: the record of the first collection
//! in [`COLLECTIONS`] order; the others are reported as superseded. An id twice in the
//! same collection is an error.
//!
//! The import is idempotent: listings are keyed by (`dpg`, id) and upserted in one
//! transaction; a row whose fields did not change is not written. Listings that are no
//! longer in the file are kept, and counted in the summary.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use sea_orm::{DbErr, Set, TransactionTrait};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::db::Db;
use crate::db::entities::listings;
use crate::db::listings::{License, Organisation};

/// The `source` of DPG listings.
pub const SOURCE: &str = "dpg";
/// The largest file accepted.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;
/// The longest line accepted.
pub const MAX_LINE_BYTES: usize = 256 * 1024;
/// The most rows accepted.
pub const MAX_ROWS: usize = 100_000;
/// Collections by precedence: when an id is in several, the first one's record is kept.
pub const COLLECTIONS: [&str; 3] = ["nominees", "excluded-nominees", "archive"];
/// The stages the DPG registry uses.
pub const STAGES: [&str; 3] = ["DPG", "nominee", "archive"];

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {path}: {error}")]
    Read { path: String, error: std::io::Error },
    #[error("{path} is {size} bytes; at most {MAX_FILE_BYTES} are accepted")]
    TooLarge { path: String, size: u64 },
    #[error("line {line}: {message}")]
    Line { line: usize, message: String },
    #[error("more than {MAX_ROWS} rows; split the file")]
    TooManyRows,
    #[error("the file holds no rows")]
    Empty,
    #[error("database: {0}")]
    Db(#[from] DbErr),
}

/// A row superseded by a record of the same id from a collection that takes precedence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Superseded {
    pub id: String,
    pub line: usize,
    pub collection: String,
    pub kept_line: usize,
    pub kept_collection: String,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Rows read (blank lines aside).
    pub rows: usize,
    /// New listings.
    pub imported: usize,
    /// Listings whose fields changed.
    pub updated: usize,
    /// Listings already as in the file.
    pub unchanged: usize,
    pub superseded: Vec<Superseded>,
    /// DPG listings in the database that the file no longer has (kept).
    pub not_in_file: usize,
    /// Deployment-country names that map to no code, with the number of rows naming each.
    pub unmapped_countries: BTreeMap<String, usize>,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "imported {} rows from the DPG registry: {} new, {} updated, {} unchanged",
            self.rows, self.imported, self.updated, self.unchanged
        )?;
        for s in &self.superseded {
            writeln!(
                f,
                "  line {}: `{}` ({}) superseded by line {} ({})",
                s.line, s.id, s.collection, s.kept_line, s.kept_collection
            )?;
        }
        if self.not_in_file > 0 {
            writeln!(
                f,
                "  {} listings from earlier imports are not in this file (kept)",
                self.not_in_file
            )?;
        }
        if self.unmapped_countries.is_empty() {
            write!(f, "  every deployment country mapped to an ISO 3166-1 code")
        } else {
            let names: Vec<String> = self
                .unmapped_countries
                .iter()
                .map(|(n, k)| format!("{n:?} ({k})"))
                .collect();
            write!(
                f,
                "  {} deployment-country names map to no ISO 3166-1 code (kept as text): {}",
                self.unmapped_countries.len(),
                names.join(", ")
            )
        }
    }
}

#[derive(Debug, Deserialize)]
struct RowLicense {
    spdx: Option<String>,
    url: Option<String>,
}

#[derive(Debug, Deserialize)]
struct RowOrganisation {
    name: Option<String>,
    website: Option<String>,
    org_type: Option<String>,
}

/// One line of the extract, as far as the import reads it (other fields are ignored).
#[derive(Debug, Deserialize)]
struct Row {
    id: String,
    collection: Option<String>,
    name: String,
    aliases: Option<Vec<String>>,
    description: Option<String>,
    website: Option<String>,
    licenses: Option<Vec<RowLicense>>,
    sdgs: Option<Vec<i64>>,
    sectors: Option<Vec<String>>,
    #[serde(rename = "type")]
    types: Option<Vec<String>>,
    repositories: Option<Vec<String>>,
    organizations: Option<Vec<RowOrganisation>>,
    stage: Option<String>,
    #[serde(rename = "deploymentCountries")]
    deployment_countries: Option<Vec<String>>,
}

/// A checked row, as stored (its JSON is also what the fingerprint hashes).
#[derive(Debug, Clone, Serialize)]
struct Entry {
    id: String,
    collection: String,
    name: String,
    aliases: Vec<String>,
    description: String,
    website: Option<String>,
    licenses: Vec<License>,
    sdgs: Vec<u8>,
    sectors: Vec<String>,
    types: Vec<String>,
    countries: Vec<String>,
    unmapped_countries: Vec<String>,
    repositories: Vec<String>,
    organisations: Vec<Organisation>,
    stage: Option<String>,
}

/// Input echoed in a message: at most 60 characters.
fn shown(s: &str) -> String {
    let mut out: String = s.chars().take(60).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    out
}

/// Checks of one row; each failure names the field.
struct Check;

impl Check {
    fn text(field: &str, s: &str, max: usize, required: bool) -> Result<String, String> {
        let s = s.trim();
        if required && s.is_empty() {
            return Err(format!("{field} is empty"));
        }
        if s.chars().count() > max {
            return Err(format!("{field} is longer than {max} characters"));
        }
        if s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
            return Err(format!("{field} contains control characters"));
        }
        Ok(s.to_owned())
    }

    fn list(field: &str, items: Option<Vec<String>>, max_items: usize, max_len: usize) -> Result<Vec<String>, String> {
        let items = items.unwrap_or_default();
        if items.len() > max_items {
            return Err(format!("{field} has more than {max_items} entries"));
        }
        let mut out = Vec::with_capacity(items.len());
        for (i, s) in items.iter().enumerate() {
            let s = Self::text(&format!("{field}[{i}]"), s, max_len, true)?;
            if !out.contains(&s) {
                out.push(s);
            }
        }
        Ok(out)
    }

    /// An http(s) URL, trimmed; a label before it is dropped; empty is none.
    fn url(field: &str, s: Option<&str>) -> Result<Option<String>, String> {
        let Some(s) = s.map(str::trim).filter(|s| !s.is_empty()) else {
            return Ok(None);
        };
        let start = ["https://", "http://"]
            .iter()
            .filter_map(|scheme| s.find(scheme))
            .min()
            .ok_or_else(|| format!("{field} is not an http(s) URL: {}", shown(s)))?;
        let url = &s[start..];
        if url.len() > 2048 {
            return Err(format!("{field} is longer than 2048 characters"));
        }
        if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(format!("{field} contains spaces or control characters"));
        }
        Ok(Some(url.to_owned()))
    }
}

fn entry(row: Row) -> Result<Entry, String> {
    let id = Check::text("id", &row.id, 128, true)?;
    if !id
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err(format!(
            "id `{}` must be lowercase letters, digits, `-`, `_` and `.`",
            shown(&id)
        ));
    }
    let collection = Check::text("collection", row.collection.as_deref().unwrap_or(""), 32, false)?;
    let stage = match row.stage.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(s) if STAGES.contains(&s) => Some(s.to_owned()),
        Some(s) => {
            return Err(format!("stage `{}` is not one of {}", shown(s), STAGES.join(", ")));
        }
    };
    let mut licenses = Vec::new();
    let rows = row.licenses.unwrap_or_default();
    if rows.len() > 20 {
        return Err("licenses has more than 20 entries".into());
    }
    for (i, l) in rows.into_iter().enumerate() {
        let spdx = Check::text(
            &format!("licenses[{i}].spdx"),
            l.spdx.as_deref().unwrap_or(""),
            100,
            true,
        )?;
        if !spdx
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'+'))
        {
            return Err(format!(
                "licenses[{i}].spdx `{}` is not an SPDX identifier",
                shown(&spdx)
            ));
        }
        let url = Check::url(&format!("licenses[{i}].url"), l.url.as_deref())?;
        if !licenses.iter().any(|x: &License| x.spdx == spdx) {
            licenses.push(License { spdx, url });
        }
    }
    let mut sdgs = Vec::new();
    for s in row.sdgs.unwrap_or_default() {
        let n = u8::try_from(s)
            .ok()
            .filter(|n| (1..=17).contains(n))
            .ok_or_else(|| format!("sdgs: {s} is not a Sustainable Development Goal (1 to 17)"))?;
        if !sdgs.contains(&n) {
            sdgs.push(n);
        }
    }
    sdgs.sort_unstable();
    let mut repositories = Vec::new();
    for (i, r) in Check::list("repositories", row.repositories, 50, 2048)?
        .iter()
        .enumerate()
    {
        if let Some(url) = Check::url(&format!("repositories[{i}]"), Some(r))?
            && !repositories.contains(&url)
        {
            repositories.push(url);
        }
    }
    let orgs = row.organizations.unwrap_or_default();
    if orgs.len() > 50 {
        return Err("organizations has more than 50 entries".into());
    }
    let mut organisations = Vec::with_capacity(orgs.len());
    for (i, o) in orgs.into_iter().enumerate() {
        organisations.push(Organisation {
            name: Check::text(
                &format!("organizations[{i}].name"),
                o.name.as_deref().unwrap_or(""),
                300,
                true,
            )?,
            website: Check::url(&format!("organizations[{i}].website"), o.website.as_deref())?,
            org_type: Some(Check::text(
                &format!("organizations[{i}].org_type"),
                o.org_type.as_deref().unwrap_or(""),
                50,
                false,
            )?)
            .filter(|t| !t.is_empty()),
        });
    }
    let mut countries = Vec::new();
    let mut unmapped_countries = Vec::new();
    for name in Check::list("deploymentCountries", row.deployment_countries, 300, 100)? {
        match govstore_core::country_names::code_of(&name) {
            Some(code) => countries.push(code.to_owned()),
            None => unmapped_countries.push(name),
        }
    }
    countries.sort_unstable();
    countries.dedup();
    Ok(Entry {
        id,
        collection,
        name: Check::text("name", &row.name, 200, true)?,
        aliases: Check::list("aliases", row.aliases, 20, 200)?,
        description: Check::text("description", row.description.as_deref().unwrap_or(""), 20_000, false)?,
        website: Check::url("website", row.website.as_deref())?,
        licenses,
        sdgs,
        sectors: Check::list("sectors", row.sectors, 50, 100)?,
        types: Check::list("type", row.types, 10, 50)?,
        countries,
        unmapped_countries,
        repositories,
        organisations,
        stage,
    })
}

/// A serde_json error without its position (the line number is ours; the column stays).
fn json_message(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let text = text
        .rsplit_once(" at line ")
        .map_or(text.as_str(), |(m, _)| m)
        .to_owned();
    format!("not a valid entry: {text} (column {})", e.column())
}

fn precedence(collection: &str) -> usize {
    COLLECTIONS
        .iter()
        .position(|c| *c == collection)
        .unwrap_or(COLLECTIONS.len())
}

/// Read and check every line of `input`: the entries to import, in file order, one per id.
fn read_entries(input: impl Read, summary: &mut Summary) -> Result<Vec<(usize, Entry)>, ImportError> {
    let mut reader = BufReader::new(input.take(MAX_FILE_BYTES + 1));
    let mut entries: Vec<(usize, Entry)> = Vec::new();
    let mut by_id: HashMap<String, usize> = HashMap::new();
    let mut buf = Vec::new();
    let mut line = 0;
    let mut read_total: u64 = 0;
    loop {
        buf.clear();
        let n = (&mut reader)
            .take(MAX_LINE_BYTES as u64 + 1)
            .read_until(b'\n', &mut buf)
            .map_err(|e| ImportError::Line {
                line: line + 1,
                message: format!("cannot read: {e}"),
            })?;
        if n == 0 {
            break;
        }
        line += 1;
        read_total += n as u64;
        if read_total > MAX_FILE_BYTES {
            return Err(ImportError::TooLarge {
                path: "the input".into(),
                size: read_total,
            });
        }
        if buf.len() > MAX_LINE_BYTES || (buf.len() == MAX_LINE_BYTES + 1 && buf.last() != Some(&b'\n')) {
            return Err(ImportError::Line {
                line,
                message: format!("longer than {MAX_LINE_BYTES} bytes"),
            });
        }
        let text = std::str::from_utf8(&buf).map_err(|_| ImportError::Line {
            line,
            message: "not UTF-8".into(),
        })?;
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        summary.rows += 1;
        if summary.rows > MAX_ROWS {
            return Err(ImportError::TooManyRows);
        }
        let row: Row = serde_json::from_str(text).map_err(|e| ImportError::Line {
            line,
            message: json_message(&e),
        })?;
        let e = entry(row).map_err(|message| ImportError::Line { line, message })?;
        for name in &e.unmapped_countries {
            *summary.unmapped_countries.entry(name.clone()).or_default() += 1;
        }
        match by_id.get(&e.id) {
            None => {
                by_id.insert(e.id.clone(), entries.len());
                entries.push((line, e));
            }
            Some(&i) => {
                let (kept_line, kept) = &entries[i];
                if kept.collection == e.collection {
                    return Err(ImportError::Line {
                        line,
                        message: format!("id `{}` is already on line {kept_line}", e.id),
                    });
                }
                let (winner, loser) = if precedence(&e.collection) < precedence(&kept.collection) {
                    ((line, e), (*kept_line, kept.clone()))
                } else {
                    ((*kept_line, kept.clone()), (line, e))
                };
                summary.superseded.push(Superseded {
                    id: loser.1.id.clone(),
                    line: loser.0,
                    collection: loser.1.collection.clone(),
                    kept_line: winner.0,
                    kept_collection: winner.1.collection.clone(),
                });
                entries[i] = winner;
            }
        }
    }
    if summary.rows == 0 {
        return Err(ImportError::Empty);
    }
    Ok(entries)
}

fn json_text<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".to_owned())
}

fn model(e: &Entry, fingerprint: String, now: i64) -> listings::ActiveModel {
    listings::ActiveModel {
        source: Set(SOURCE.to_owned()),
        source_id: Set(e.id.clone()),
        collection: Set(e.collection.clone()),
        name: Set(e.name.clone()),
        aliases: Set(json_text(&e.aliases)),
        description: Set(e.description.clone()),
        website: Set(e.website.clone()),
        licenses: Set(json_text(&e.licenses)),
        sdgs: Set(json_text(&e.sdgs)),
        sectors: Set(json_text(&e.sectors)),
        types: Set(json_text(&e.types)),
        countries: Set(json_text(&e.countries)),
        unmapped_countries: Set(json_text(&e.unmapped_countries)),
        repositories: Set(json_text(&e.repositories)),
        organisations: Set(json_text(&e.organisations)),
        stage: Set(e.stage.clone()),
        fingerprint: Set(fingerprint),
        imported_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
}

/// Import the DPG extract read from `input` into the database, all or nothing.
pub async fn import_dpg(db: &Db, input: impl Read) -> Result<Summary, ImportError> {
    let mut summary = Summary::default();
    let entries = read_entries(input, &mut summary)?;
    let txn = db.write.begin().await?;
    let existing = crate::db::listings::fingerprints(&txn, SOURCE).await?;
    let now = crate::now_ms();
    let mut new = Vec::new();
    let mut seen = 0;
    for (_, e) in &entries {
        let fingerprint = hex::encode(Sha256::digest(json_text(e).as_bytes()));
        match existing.get(&e.id) {
            Some((_, fp)) if *fp == fingerprint => {
                seen += 1;
                summary.unchanged += 1;
            }
            Some((id, _)) => {
                seen += 1;
                summary.updated += 1;
                let mut m = model(e, fingerprint, now);
                m.id = Set(*id);
                m.imported_at = sea_orm::NotSet;
                crate::db::listings::update(&txn, m).await?;
            }
            None => {
                summary.imported += 1;
                new.push(model(e, fingerprint, now));
            }
        }
    }
    for chunk in new.chunks(200) {
        crate::db::listings::insert_many(&txn, chunk.to_vec()).await?;
    }
    summary.not_in_file = existing.len() - seen;
    txn.commit().await?;
    Ok(summary)
}

/// Import the DPG extract in the file at `path` (see [`import_dpg`]).
pub async fn import_dpg_file(db: &Db, path: &Path) -> Result<Summary, ImportError> {
    let shown = path.display().to_string();
    let read = |error| ImportError::Read {
        path: shown.clone(),
        error,
    };
    let file = std::fs::File::open(path).map_err(read)?;
    let size = file.metadata().map_err(read)?.len();
    if size > MAX_FILE_BYTES {
        return Err(ImportError::TooLarge { path: shown, size });
    }
    import_dpg(db, file).await
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<(Vec<(usize, Entry)>, Summary), ImportError> {
        let mut s = Summary::default();
        read_entries(text.as_bytes(), &mut s).map(|e| (e, s))
    }

    fn message(text: &str) -> String {
        read(text).unwrap_err().to_string()
    }

    const OK: &str = r#"{"id": "aam-digital", "collection": "nominees", "name": " Aam Digital ", "aliases": [], "description": "Case management", "website": " https://www.aam-digital.com", "licenses": [{"spdx": "GPL-3.0", "url": "https://x.example/LICENSE"}], "sdgs": [5, 1, 5], "sectors": ["Gender"], "type": ["software"], "repositories": ["backend：https://github.com/Aam-Digital/ndb-core"], "organizations": [{"name": "Aam Digital GmbH", "website": " https://www.aam-digital.com", "org_type": "maintainer"}], "stage": "DPG", "deploymentCountries": ["India", "Palestine State", "Tanzania", "Atlantis"]}"#;

    #[test]
    fn a_row_is_checked_and_normalised() {
        let (entries, summary) = read(&format!("{OK}\n\n")).unwrap();
        assert_eq!(summary.rows, 1);
        let e = &entries[0].1;
        assert_eq!(e.name, "Aam Digital");
        assert_eq!(e.website.as_deref(), Some("https://www.aam-digital.com"));
        assert_eq!(e.sdgs, [1, 5]);
        assert_eq!(e.countries, ["IN", "PS", "TZ"]);
        assert_eq!(e.unmapped_countries, ["Atlantis"]);
        assert_eq!(e.repositories, ["https://github.com/Aam-Digital/ndb-core"]);
        assert_eq!(summary.unmapped_countries, BTreeMap::from([("Atlantis".to_owned(), 1)]));
    }

    #[test]
    fn bad_lines_are_named() {
        let line2 = |row: &str| format!("{OK}\n{row}\n");
        for (row, expected) in [
            ("{", "line 2: not a valid entry: EOF while parsing an object (column 1)"),
            (r#"{"id": "x"}"#, "line 2: not a valid entry: missing field `name`"),
            (
                r#"{"id": "Bad Id", "name": "x"}"#,
                "line 2: id `Bad Id` must be lowercase",
            ),
            (r#"{"id": "x", "name": "  "}"#, "line 2: name is empty"),
            (r#"{"id": "x", "name": "x", "sdgs": [18]}"#, "line 2: sdgs: 18 is not"),
            (
                r#"{"id": "x", "name": "x", "stage": "gold"}"#,
                "line 2: stage `gold` is not one of DPG, nominee, archive",
            ),
            (
                r#"{"id": "x", "name": "x", "website": "ftp://x"}"#,
                "line 2: website is not an http(s) URL",
            ),
            (
                r#"{"id": "x", "name": "x", "licenses": [{"spdx": "MIT OR <b>"}]}"#,
                "line 2: licenses[0].spdx `MIT OR <b>` is not an SPDX identifier",
            ),
            (
                r#"{"id": "aam-digital", "collection": "nominees", "name": "x"}"#,
                "line 2: id `aam-digital` is already on line 1",
            ),
        ] {
            let got = message(&line2(row));
            assert!(got.starts_with(expected), "{row}: {got}");
        }
        let long = format!(r#"{{"id": "x", "name": "{}"}}"#, "n".repeat(201));
        assert!(message(&long).starts_with("line 1: name is longer than 200 characters"));
        let huge = format!(r#"{{"id": "x", "name": "{}"}}"#, "n".repeat(MAX_LINE_BYTES));
        assert_eq!(message(&huge), format!("line 1: longer than {MAX_LINE_BYTES} bytes"));
        assert_eq!(message("\n \n"), "the file holds no rows");
    }

    #[test]
    fn the_current_collection_supersedes_the_archive() {
        let archived = r#"{"id": "aam-digital", "collection": "archive", "name": "Old name", "stage": "nominee"}"#;
        for text in [format!("{archived}\n{OK}"), format!("{OK}\n{archived}")] {
            let (entries, summary) = read(&text).unwrap();
            assert_eq!(entries.len(), 1);
            assert_eq!(entries[0].1.name, "Aam Digital");
            assert_eq!(summary.superseded.len(), 1);
            assert_eq!(summary.superseded[0].collection, "archive");
        }
    }
}
