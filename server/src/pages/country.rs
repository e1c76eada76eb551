//! `GET /countries/{cc}`: a country's public page: its name, approval policy (threshold,
//! default validity), approver keys (ids, holders, revoked ones marked) and what it
//! approved and revoked and why, newest first, each statement linking to the package
//! version; the newest [`MAX_STATEMENTS`] are shown, and the page says when there are
//! more. It also computes the approval badges of the package and compare pages
//! ([`badges`]): per country, approved (who, until, threshold met or not) or revoked
//! with the reason, counted by `service::approvals::tally_of`, the same rule as the API.

use std::collections::{BTreeMap, HashMap};

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use govstore_core::approval::{Tally, short_key};
use govstore_core::manifest::values::CountryCode;
use govstore_core::time;
use serde::Serialize;

use super::{Language, PageError, PagePath, date, respond};
use crate::db;
use crate::service::approvals::tally_of;
use crate::state::AppState;

/// The most statements the page lists.
pub const MAX_STATEMENTS: u64 = 100;
/// The most approver keys the page lists.
pub const MAX_KEYS: usize = 100;

#[derive(Serialize)]
struct CountryPage {
    country: CountryView,
    keys: Vec<KeyRow>,
    keys_total: usize,
    statements: Vec<StatementRow>,
    /// More statements exist than are listed.
    statements_capped: bool,
    max_statements: u64,
    /// The country's bundles, each with its versions newest first.
    bundles: Vec<BundleRow>,
}

/// A bundle as the country page lists it.
#[derive(Serialize)]
struct BundleRow {
    name: String,
    /// Newest first.
    versions: Vec<String>,
}

#[derive(Serialize)]
pub(super) struct CountryView {
    pub code: String,
    pub name: String,
    pub threshold: i32,
    pub validity_days: Option<i32>,
}

impl CountryView {
    pub fn of(c: &db::countries::Country) -> Self {
        Self {
            code: c.code.clone(),
            name: c.name.clone(),
            threshold: c.threshold,
            validity_days: c.default_validity_days,
        }
    }
}

#[derive(Serialize)]
struct KeyRow {
    key_id: String,
    name: String,
    holder: Option<String>,
    added: String,
    revoked: Option<String>,
    revoke_reason: Option<String>,
}

/// One recorded statement, as the pages list it.
#[derive(Serialize)]
pub(super) struct StatementRow {
    pub package: String,
    pub version: String,
    /// `approved` or `revoked`.
    pub decision: String,
    pub signer: Option<String>,
    pub key: String,
    pub signed_at: String,
    pub valid_until: Option<String>,
    pub reason: Option<String>,
    /// The version's state now: `met` (threshold met), `revoked` (a revocation cancels
    /// the approvals signed before it) or `pending`.
    pub state_now: &'static str,
}

/// A version's approval state in one country, for badges.
#[derive(Serialize)]
pub(super) struct Badge {
    pub code: String,
    pub name: String,
    pub approved: bool,
    pub approvals: usize,
    pub threshold: u32,
    /// Who signed the approvals that count.
    pub approvers: Vec<String>,
    /// The earliest `validUntil` of the approvals that count (a day).
    pub until: Option<String>,
    pub revoked: Option<Revoked>,
    /// Approvals that expired.
    pub expired: usize,
}

#[derive(Serialize)]
pub(super) struct Revoked {
    pub reason: String,
    pub date: String,
    pub by: Option<String>,
}

/// The country an address names: a valid code of a country set up here, else the
/// not-found page.
pub(super) async fn find(st: &AppState, raw: &str) -> Result<(CountryCode, db::countries::Country), PageError> {
    let code: CountryCode = raw.parse().map_err(|_| PageError::not_found("page", raw))?;
    let c = db::countries::by_code(&st.db.read, code.as_str())
        .await?
        .ok_or_else(|| PageError::not_found("page", raw))?;
    Ok((code, c))
}

pub async fn page(
    State(st): State<AppState>,
    lang: Language,
    headers: HeaderMap,
    PagePath(cc): PagePath<String>,
) -> Response {
    respond(&lang, &headers, "country.html", build(&st, &cc).await)
}

/// User names by id, read once each.
#[derive(Default)]
pub(super) struct Names(HashMap<i64, Option<String>>);

impl Names {
    pub async fn of(&mut self, st: &AppState, id: i64) -> Result<Option<String>, PageError> {
        if let Some(n) = self.0.get(&id) {
            return Ok(n.clone());
        }
        let n = db::accounts::user_by_id(&st.db.read, id).await?.map(|u| u.name);
        self.0.insert(id, n.clone());
        Ok(n)
    }
}

/// A day from seconds since the epoch.
pub(super) fn day(secs: i64) -> String {
    let mut s = time::rfc3339(secs);
    s.truncate(10);
    s
}

/// Statements as listed, with each version's state now (one tally per digest).
pub(super) async fn statement_rows(
    st: &AppState,
    c: &db::countries::Country,
    rows: &[db::approvals::Approval],
    names: &mut Names,
) -> Result<Vec<StatementRow>, PageError> {
    let now = crate::now_ms() / 1000;
    let mut states: BTreeMap<&str, &'static str> = BTreeMap::new();
    let mut out = Vec::with_capacity(rows.len());
    for a in rows {
        let state_now = match states.get(a.manifest_digest.as_str()) {
            Some(s) => *s,
            None => {
                let t = tally_of(&st.db.read, c, &a.manifest_digest, now)
                    .await
                    .map_err(PageError::internal)?;
                let s = match (t.approved(), &t.revoked) {
                    (true, _) => "met",
                    (false, Some(_)) => "revoked",
                    (false, None) => "pending",
                };
                states.insert(&a.manifest_digest, s);
                s
            }
        };
        out.push(StatementRow {
            package: a.package.clone(),
            version: a.version.clone(),
            decision: a.decision.clone(),
            signer: names.of(st, a.signer_user_id).await?,
            key: short_key(&a.key_id).to_owned(),
            signed_at: day(a.signed_at),
            valid_until: a.valid_until.map(day),
            reason: a.reason.clone(),
            state_now,
        });
    }
    Ok(out)
}

async fn build(st: &AppState, cc: &str) -> Result<CountryPage, PageError> {
    let (code, c) = find(st, cc).await?;
    let db = &st.db.read;
    let mut names = Names::default();
    let all_keys = db::keys::list(db, c.organisation_id).await?;
    let mut keys = Vec::new();
    for k in all_keys.iter().take(MAX_KEYS) {
        keys.push(KeyRow {
            key_id: k.key_id.clone(),
            name: k.name.clone(),
            holder: names.of(st, k.created_by).await?,
            added: date(k.created_at),
            revoked: k.revoked_at.map(date),
            revoke_reason: k.revoke_reason.clone(),
        });
    }
    let mut rows = db::approvals::recent(db, c.id, MAX_STATEMENTS + 1).await?;
    let capped = rows.len() as u64 > MAX_STATEMENTS;
    rows.truncate(MAX_STATEMENTS as usize);
    let statements = statement_rows(st, &c, &rows, &mut names).await?;
    let bundles = crate::service::bundles::list(st, code)
        .await
        .map_err(PageError::internal)?
        .into_iter()
        .map(|(name, mut versions)| {
            versions.reverse();
            BundleRow { name, versions }
        })
        .collect();
    Ok(CountryPage {
        country: CountryView::of(&c),
        keys,
        keys_total: all_keys.len(),
        statements,
        statements_capped: capped,
        max_statements: MAX_STATEMENTS,
        bundles,
    })
}

/// The approval state of one version (`package`, manifest `digest`) in every country
/// that signed a statement about it, by country code.
pub(super) async fn badges(st: &AppState, package: &str, digest: &str) -> Result<Vec<Badge>, PageError> {
    let db = &st.db.read;
    let rows: Vec<db::approvals::Approval> = db::approvals::of_package(db, package)
        .await?
        .into_iter()
        .filter(|a| a.manifest_digest == digest)
        .collect();
    let mut by_country: BTreeMap<i64, Vec<&db::approvals::Approval>> = BTreeMap::new();
    for a in &rows {
        by_country.entry(a.country_id).or_default().push(a);
    }
    let now = crate::now_ms() / 1000;
    let mut names = Names::default();
    let mut out = Vec::new();
    for (country_id, rows) in by_country {
        let Some(c) = db::countries::by_id(db, country_id).await? else {
            continue;
        };
        let t: Tally = tally_of(db, &c, digest, now).await.map_err(PageError::internal)?;
        let signer_of_key = |key: &str| rows.iter().rev().find(|a| a.key_id == key).map(|a| a.signer_user_id);
        let mut approvers = Vec::new();
        for k in &t.approving_keys {
            if let Some(id) = signer_of_key(k)
                && let Some(n) = names.of(st, id).await?
                && !approvers.contains(&n)
            {
                approvers.push(n);
            }
        }
        let revoked = match &t.revoked {
            Some((key, reason, at)) => Some(Revoked {
                reason: reason.clone(),
                date: day(*at),
                by: match signer_of_key(key) {
                    Some(id) => names.of(st, id).await?,
                    None => None,
                },
            }),
            None => None,
        };
        out.push(Badge {
            code: c.code.clone(),
            name: c.name.clone(),
            approved: t.approved(),
            approvals: t.approving_keys.len(),
            threshold: t.threshold,
            approvers,
            until: t.valid_until.map(day),
            revoked,
            expired: t.expired.len(),
        });
    }
    out.sort_by(|a, b| a.code.cmp(&b.code));
    Ok(out)
}
