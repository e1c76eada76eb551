//! A country's bundles on the web:
//!
//! - `GET /countries/{cc}/bundles/{name}` and `/countries/{cc}/bundles/{name}/{version}`:
//!   one bundle version (the latest when none is named): its reference, index digest,
//!   the lockfile and stack it was made from, its members (each linking to the package
//!   version, with its manifest digest and its approval in the country now: approved,
//!   or not and why), the approver signatures (signer, key, when), whether the country's
//!   threshold is met, the commands that pin the country's unrevoked approver keys and
//!   pull the bundle, and the other versions with links to them and to the diff.
//! - `GET /countries/{cc}/bundles/{name}/diff?from=A&to=B`: what changes from version A
//!   to B (`core::bundle::BundleDiff` over the two stored indexes): packages added,
//!   removed and upgraded, and the members whose approval is not what it was when the
//!   bundles were signed (every member held an approval then; those listed do not now,
//!   or differ between the two sides). Without `from`/`to`: the latest version against
//!   the one before it.
//!
//! Unknown countries, bundles and versions are the not-found page. The data is
//! `service::bundles::state` (the same as the API's), the indexes are read from `db`.

use std::cmp::Ordering;

use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use govstore_core::approval::short_key;
use govstore_core::bundle::{Bundle, BundleDiff, BundleRef, BundleVersion};
use govstore_core::manifest::values::CountryCode;
use govstore_core::reference::RepoName;
use serde::Serialize;

use super::country::{CountryView, find};
use super::{Language, PageError, PagePath, percent_encode, query_pairs, respond};
use crate::db;
use crate::service::bundles::{self, State as BundleState};
use crate::service::{Error as ServiceError, Kind};
use crate::state::AppState;

#[derive(Serialize)]
struct BundlePage {
    country: CountryView,
    name: String,
    reference: String,
    version: String,
    digest: String,
    repository: String,
    lockfile: String,
    stack: String,
    members: Vec<MemberRow>,
    /// Members approved in the country now.
    approved: usize,
    signatures: Vec<SignatureRow>,
    /// Distinct keys that signed.
    signed: usize,
    threshold: u32,
    threshold_met: bool,
    /// `govstore trust add CC --key ... --threshold N`, or `None` when the country has
    /// no unrevoked key.
    trust_command: Option<String>,
    pull_command: String,
    /// Every version of the bundle, newest first.
    versions: Vec<VersionRow>,
}

#[derive(Serialize)]
struct MemberRow {
    name: String,
    version: String,
    digest: String,
    digest_short: String,
    approved: bool,
    why_not: Option<String>,
}

#[derive(Serialize)]
struct SignatureRow {
    signer: String,
    key: String,
    signed_at: String,
}

#[derive(Serialize)]
struct VersionRow {
    version: String,
    href: String,
    /// The version this page shows.
    current: bool,
    /// The diff between this version and the one shown (older one first).
    diff_href: Option<String>,
}

/// The short form of a digest: `sha256:` and 12 hex digits.
fn short_digest(d: &str) -> String {
    d.get(..19).unwrap_or(d).to_owned()
}

fn not_found(cc: &str, name: &str) -> PageError {
    PageError::not_found("page", format!("{cc}/{name}")).back(format!("/countries/{cc}"))
}

fn from_service(e: ServiceError, cc: &str, name: &str) -> PageError {
    match e.kind {
        Kind::NotFound | Kind::Invalid => not_found(cc, name),
        _ => PageError::internal(e),
    }
}

/// The bundle `name` of the country, parsed; an invalid name is not found.
fn reference(code: CountryCode, name: &str) -> Result<BundleRef, PageError> {
    format!("{code}/{name}")
        .parse::<BundleRef>()
        .ok()
        .filter(|r| r.version.is_none())
        .ok_or_else(|| not_found(code.as_str(), name))
}

fn parse_version(code: CountryCode, name: &str, version: &str) -> Result<BundleVersion, PageError> {
    version.parse().map_err(|_| not_found(code.as_str(), name))
}

/// The bundle's versions, oldest first.
async fn versions(st: &AppState, country_id: i64, name: &str) -> Result<Vec<BundleVersion>, PageError> {
    let mut out: Vec<BundleVersion> = db::bundles::versions(&st.db.read, country_id, name)
        .await?
        .into_iter()
        .filter_map(|b| b.version.parse().ok())
        .collect();
    out.sort();
    out.dedup();
    Ok(out)
}

/// The stored index of a bundle version, read back as a [`Bundle`].
async fn stored_bundle(st: &AppState, r: &BundleRef, digest: &str) -> Result<Bundle, PageError> {
    let repo_name: RepoName = r.repository().parse().map_err(PageError::internal)?;
    let repo = db::repositories::find(&st.db.read, &repo_name)
        .await?
        .ok_or_else(|| PageError::internal(format_args!("the repository of {r} is missing")))?;
    let index = db::manifests::find(&st.db.read, repo.id, digest)
        .await?
        .ok_or_else(|| PageError::internal(format_args!("the index of {r} is not stored")))?;
    Bundle::from_index_json(&index.content).map_err(PageError::internal)
}

pub async fn latest(
    State(st): State<AppState>,
    lang: Language,
    headers: HeaderMap,
    PagePath((cc, name)): PagePath<(String, String)>,
) -> Response {
    let built = async {
        let (code, c) = find(&st, &cc).await?;
        let r = reference(code, &name)?;
        let latest = versions(&st, c.id, r.name.as_str())
            .await?
            .pop()
            .ok_or_else(|| not_found(&cc, &name))?;
        build(&st, code, c, r.at(latest)).await
    }
    .await;
    respond(&lang, &headers, "bundle.html", built)
}

pub async fn page(
    State(st): State<AppState>,
    lang: Language,
    headers: HeaderMap,
    PagePath((cc, name, version)): PagePath<(String, String, String)>,
) -> Response {
    let built = async {
        let (code, c) = find(&st, &cc).await?;
        let r = reference(code, &name)?;
        let v = parse_version(code, &name, &version)?;
        build(&st, code, c, r.at(v)).await
    }
    .await;
    respond(&lang, &headers, "bundle.html", built)
}

async fn build(
    st: &AppState,
    code: CountryCode,
    c: db::countries::Country,
    r: BundleRef,
) -> Result<BundlePage, PageError> {
    let name = r.name.to_string();
    let s: BundleState = bundles::state(st, code, &r)
        .await
        .map_err(|e| from_service(e, code.as_str(), &name))?;
    let stored = stored_bundle(st, &r, &s.digest).await?;
    let keys: Vec<String> = db::keys::list(&st.db.read, c.organisation_id)
        .await?
        .into_iter()
        .filter(|k| k.revoked_at.is_none())
        .map(|k| k.key_id)
        .collect();
    let trust_command = (!keys.is_empty()).then(|| {
        let flags: Vec<String> = keys.iter().map(|k| format!("--key {k}")).collect();
        format!(
            "govstore trust add {code} {} --threshold {}",
            flags.join(" "),
            s.threshold
        )
    });
    let current = r.version.ok_or_else(|| not_found(code.as_str(), &name))?;
    let base = format!("/countries/{code}/bundles/{name}");
    let mut rows: Vec<VersionRow> = versions(st, c.id, &name)
        .await?
        .into_iter()
        .map(|v| {
            let (from, to) = match v.cmp(&current) {
                Ordering::Less => (Some(v), current),
                Ordering::Greater => (Some(current), v),
                Ordering::Equal => (None, current),
            };
            VersionRow {
                version: v.to_string(),
                href: format!("{base}/{v}"),
                current: v == current,
                diff_href: from.map(|from| {
                    format!(
                        "{base}/diff?from={}&to={}",
                        percent_encode(&from.to_string()),
                        percent_encode(&to.to_string())
                    )
                }),
            }
        })
        .collect();
    rows.reverse();
    let signed = s
        .signatures
        .iter()
        .map(|sig| sig.key_id.as_str())
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    let members: Vec<MemberRow> = s
        .members
        .into_iter()
        .map(|m| MemberRow {
            digest_short: short_digest(&m.digest),
            name: m.name,
            version: m.version,
            digest: m.digest,
            approved: m.approved,
            why_not: m.why_not,
        })
        .collect();
    Ok(BundlePage {
        country: CountryView::of(&c),
        pull_command: format!("govstore pull {} --into DIR", s.reference),
        reference: s.reference,
        name,
        version: s.version,
        digest: s.digest,
        repository: s.repository,
        lockfile: stored.lockfile.to_string(),
        stack: stored.stack.to_string(),
        approved: members.iter().filter(|m| m.approved).count(),
        members,
        signatures: s
            .signatures
            .into_iter()
            .map(|sig| SignatureRow {
                signer: sig.signer,
                key: short_key(&sig.key_id).to_owned(),
                signed_at: sig.signed_at,
            })
            .collect(),
        signed,
        threshold: s.threshold,
        threshold_met: s.threshold_met,
        trust_command,
        versions: rows,
    })
}

#[derive(Serialize)]
struct DiffPage {
    country: CountryView,
    name: String,
    /// `SL/national-id`.
    bundle: String,
    from: String,
    to: String,
    from_href: String,
    to_href: String,
    /// Every version, newest first, for the form.
    versions: Vec<String>,
    added: Vec<Side>,
    removed: Vec<Side>,
    upgraded: Vec<Upgrade>,
    unchanged: usize,
    /// Members whose approval now is not what it was at signing (every member was
    /// approved then), or differs between the two versions.
    approvals: Vec<ApprovalChange>,
    same: bool,
}

/// A member on one side of the diff, with its approval now.
#[derive(Serialize, Clone)]
struct Side {
    name: String,
    version: String,
    digest_short: String,
    approved: bool,
    why_not: Option<String>,
}

#[derive(Serialize)]
struct Upgrade {
    name: String,
    before: Side,
    after: Side,
    /// `upgrade`, `downgrade` or `rebuild` (same version, another digest).
    change: &'static str,
}

#[derive(Serialize)]
struct ApprovalChange {
    name: String,
    before: Option<Side>,
    after: Option<Side>,
}

pub async fn diff(
    State(st): State<AppState>,
    lang: Language,
    headers: HeaderMap,
    uri: Uri,
    PagePath((cc, name)): PagePath<(String, String)>,
) -> Response {
    let built = build_diff(&st, &cc, &name, &uri).await;
    respond(&lang, &headers, "bundle_diff.html", built)
}

fn sides(s: &BundleState) -> Vec<Side> {
    s.members
        .iter()
        .map(|m| Side {
            name: m.name.clone(),
            version: m.version.clone(),
            digest_short: short_digest(&m.digest),
            approved: m.approved,
            why_not: m.why_not.clone(),
        })
        .collect()
}

async fn build_diff(st: &AppState, cc: &str, name: &str, uri: &Uri) -> Result<DiffPage, PageError> {
    let (code, c) = find(st, cc).await?;
    let r = reference(code, name)?;
    let name = r.name.to_string();
    let all = versions(st, c.id, &name).await?;
    let pairs = query_pairs(uri)?;
    let param = |key: &str| {
        pairs
            .iter()
            .find(|(k, v)| k == key && !v.is_empty())
            .map(|(_, v)| v.clone())
    };
    let to = match param("to") {
        Some(v) => parse_version(code, &name, &v)?,
        None => *all.last().ok_or_else(|| not_found(cc, &name))?,
    };
    let from = match param("from") {
        Some(v) => parse_version(code, &name, &v)?,
        None => all.iter().rev().find(|v| **v < to).copied().unwrap_or(to),
    };
    if !all.contains(&from) || !all.contains(&to) {
        return Err(not_found(cc, &name));
    }
    let (a, b) = (r.at(from), r.at(to));
    let sa = bundles::state(st, code, &a)
        .await
        .map_err(|e| from_service(e, cc, &name))?;
    let sb = bundles::state(st, code, &b)
        .await
        .map_err(|e| from_service(e, cc, &name))?;
    let ba = stored_bundle(st, &a, &sa.digest).await?;
    let bb = stored_bundle(st, &b, &sb.digest).await?;
    let d = BundleDiff::between(&ba, &bb);
    let (before, after) = (sides(&sa), sides(&sb));
    let side_of = |list: &[Side], pkg: &str| list.iter().find(|s| s.name == pkg).cloned();
    let pick = |list: &[Side], members: &[govstore_core::bundle::Member]| -> Vec<Side> {
        members.iter().filter_map(|m| side_of(list, m.name.as_str())).collect()
    };
    let mut upgraded = Vec::new();
    for (old, new) in &d.changed {
        let pkg = new.name.as_str();
        let (Some(before), Some(after)) = (side_of(&before, pkg), side_of(&after, pkg)) else {
            continue;
        };
        upgraded.push(Upgrade {
            name: pkg.to_owned(),
            before,
            after,
            change: match new.version.cmp(&old.version) {
                Ordering::Greater => "upgrade",
                Ordering::Less => "downgrade",
                Ordering::Equal => "rebuild",
            },
        });
    }
    let mut names: Vec<&str> = before.iter().chain(&after).map(|s| s.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    let approvals: Vec<ApprovalChange> = names
        .into_iter()
        .filter_map(|pkg| {
            let (x, y) = (side_of(&before, pkg), side_of(&after, pkg));
            let state = |s: &Option<Side>| s.as_ref().map(|s| s.approved);
            let differs = matches!((state(&x), state(&y)), (Some(p), Some(q)) if p != q);
            let lost = state(&x) == Some(false) || state(&y) == Some(false);
            (differs || lost).then(|| ApprovalChange {
                name: pkg.to_owned(),
                before: x,
                after: y,
            })
        })
        .collect();
    let base = format!("/countries/{code}/bundles/{name}");
    Ok(DiffPage {
        country: CountryView::of(&c),
        bundle: format!("{code}/{name}"),
        from_href: format!("{base}/{from}"),
        to_href: format!("{base}/{to}"),
        from: from.to_string(),
        to: to.to_string(),
        versions: all.iter().rev().map(ToString::to_string).collect(),
        added: pick(&after, &d.added),
        removed: pick(&before, &d.removed),
        same: d.is_empty(),
        upgraded,
        unchanged: d.unchanged.len(),
        approvals,
        name,
    })
}
