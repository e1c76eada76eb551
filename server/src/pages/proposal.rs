//! One proposal in a country's workspace, for its signed-in members: the evidence in one
//! place, and the decision.
//!
//! - `GET /countries/{cc}/proposals/{id}`: the package's title and description, licence,
//!   compliance claims, the publisher's signature key; the stack check of the country's
//!   own stack profile (`PUT /api/v1/countries/{cc}/stack`) with this version pinned in
//!   it and counted as approved (when the country keeps none here, the page says so
//!   rather than inventing one); the changes of metadata and requirements since the
//!   previously approved version of the package in this country (title, description,
//!   licence, implemented specs, required specs, packages and platform, conflicts); the
//!   reviewers' recommendations; and the approval state (approvals so far against the
//!   threshold, who signed, until when, a revocation and its reason).
//! - `POST .../recommend` (`recommendation` = `approve` | `reject`, `notes`):
//!   `service::reviews::recommend` (reviewers, approvers, owners).
//! - `POST .../approve` (`until` = a day, `reason`, `condition`) and `POST .../revoke`
//!   (`reason`, required): the statement is signed with the approver key the server holds
//!   for the country (`crate::server_keys`), in the name of the signed-in approver, by
//!   `service::approvals::sign_and_submit`, which checks everything as for an uploaded
//!   statement. These forms show only to approvers and owners, and only when the server
//!   holds a key for the country.
//!
//! Every POST's CSRF token was checked by `session::layer`; success answers `303` back to
//! the page (with `?done=...` for the notice), a refusal shows the page again with the
//! service's message and its status.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use govstore_core::Digest;
use govstore_core::approval::{self, Conditions, Decision, Predicate, Statement};
use govstore_core::manifest::Manifest;
use govstore_core::manifest::values::CountryCode;
use govstore_core::package::PackageName;
use govstore_core::stack::Stack;
use govstore_core::time;
use serde::Serialize;

use crate::catalogue_check::{self, Outcome};

use super::country::{CountryView, Names, StatementRow, day, find, statement_rows};
use super::package::{Implemented, implemented, manifest_of, spec_titles};
use super::session::{WebSession, form_field};
use super::workspace::{refusal, role_of, see_other, show};
use super::{Language, PageError, PagePath, date, query_pairs};
use crate::db;
use crate::service::{approvals, reviews};
use crate::state::AppState;

/// The most statements about the version the page lists.
const MAX_STATEMENTS: usize = 100;

#[derive(Serialize)]
struct ProposalPage {
    country: CountryView,
    role: Option<String>,
    proposal: Option<ProposalView>,
    /// `proposed`, `recommended`, `approved` or `revoked`: what the last POST did.
    done: Option<String>,
    /// A refusal: the service's message, or a key of the form's own checks.
    error: Option<String>,
    error_key: Option<&'static str>,
}

#[derive(Serialize)]
struct ProposalView {
    id: i64,
    status: String,
    note: Option<String>,
    proposed_by: Option<String>,
    proposed_at: String,
    pkg: PkgView,
    implements: Vec<Implemented>,
    sig: SigView,
    previous: Option<String>,
    changes: Vec<Change>,
    recommendations: Vec<RecommendationRow>,
    state: StateView,
    /// The newest [`MAX_STATEMENTS`] statements about the version, and how many there are.
    statements: Vec<StatementRow>,
    statements_total: usize,
    can_approve: bool,
    /// The id of the key the server holds for the country, if any.
    server_key: Option<String>,
    /// Whether that key is registered, unrevoked, as one of the country's keys.
    server_key_registered: bool,
    /// The country's own stack checked with this version in it, when the country keeps
    /// a stack profile here.
    stack_check: Option<StackCheckView>,
}

/// The stack check of the evidence: the country's stack with the proposed version.
#[derive(Serialize)]
struct StackCheckView {
    /// The stack's `name`.
    stack: String,
    /// `fits`, `no_fit`, `too_complex` or `not_checked` (busy, timed out).
    outcome: &'static str,
    /// When it fits: `name@version` of every package it would run.
    packages: Vec<String>,
    /// When not: the resolver's explanation, paragraph by paragraph, and its hints.
    explanation: Vec<String>,
    hints: Vec<String>,
    /// Why it could not be checked.
    message: Option<String>,
}

/// Checks the country's stack (`stack_toml`) with `package@version` pinned in it.
async fn stack_check(st: &AppState, stack_toml: &str, package: &str, version: &str, digest: &str) -> StackCheckView {
    let mut view = StackCheckView {
        stack: Stack::from_toml_str(stack_toml)
            .map(|s| s.stack.name)
            .unwrap_or_default(),
        outcome: "not_checked",
        packages: Vec::new(),
        explanation: Vec::new(),
        hints: Vec::new(),
        message: None,
    };
    let (Ok(name), Ok(ver), Ok(d), Some(source)) = (
        package.parse::<PackageName>(),
        version.parse::<semver::Version>(),
        digest.parse::<Digest>(),
        super::stack_check::source_url(st, &HeaderMap::new()),
    ) else {
        view.message = Some("the proposal names no valid version".to_owned());
        return view;
    };
    match catalogue_check::run_with_proposed(&st.catalogue, &st.db.read, stack_toml, &name, &ver, &d, source).await {
        Ok(check) => match check.outcome {
            Outcome::Fits(f) => {
                view.outcome = "fits";
                view.packages = f.packages.iter().map(|p| format!("{}@{}", p.name, p.version)).collect();
            }
            Outcome::NoFit { explanation, hints, .. } => {
                view.outcome = "no_fit";
                view.explanation = explanation;
                view.hints = hints;
            }
            Outcome::TooComplex { message } => {
                view.outcome = "too_complex";
                view.message = Some(message);
            }
        },
        Err(e) => {
            if !e.is_client_error() {
                tracing::error!(error = %e, package, version, "the proposal's stack check failed");
            }
            view.message = Some(if e.is_client_error() {
                e.to_string()
            } else {
                "the check could not run; try again".to_owned()
            });
        }
    }
    view
}

#[derive(Serialize)]
struct PkgView {
    name: String,
    title: Option<String>,
    description: String,
    license: String,
    version: String,
    digest: String,
    date: String,
    yanked: bool,
}

#[derive(Serialize)]
struct SigView {
    key_id: String,
    key_name: Option<String>,
    revoked: Option<String>,
}

/// One change since the previously approved version. `kind` is one of `title`,
/// `description`, `license`, `implements`, `requires_spec`, `requires_package`,
/// `requires_platform`, `conflicts`; `name` names the spec or package.
#[derive(Serialize, Debug, PartialEq, Eq)]
struct Change {
    kind: &'static str,
    name: Option<String>,
    before: Option<String>,
    after: Option<String>,
}

#[derive(Serialize)]
struct RecommendationRow {
    reviewer: Option<String>,
    recommendation: String,
    notes: Option<String>,
    date: String,
}

#[derive(Serialize)]
struct StateView {
    approved: bool,
    approvals: usize,
    threshold: u32,
    until: Option<String>,
    expired: usize,
    revoked: Option<RevokedView>,
}

#[derive(Serialize)]
struct RevokedView {
    reason: String,
    date: String,
}

pub async fn page(
    State(st): State<AppState>,
    lang: Language,
    headers: HeaderMap,
    uri: Uri,
    session: WebSession,
    PagePath((cc, id)): PagePath<(String, i64)>,
) -> Response {
    let done = match query_pairs(&uri) {
        Ok(pairs) => pairs
            .into_iter()
            .find(|(k, _)| k == "done")
            .map(|(_, v)| v)
            .filter(|v| ["proposed", "recommended", "approved", "revoked"].contains(&v.as_str())),
        Err(e) => return show::<()>(&lang, &headers, "", Err(e), StatusCode::OK),
    };
    let built = build(&st, &session, &cc, id).await.map(|mut p| {
        p.done = done;
        p
    });
    answer(&lang, &headers, built, StatusCode::OK)
}

fn answer(lang: &Language, headers: &HeaderMap, page: Result<ProposalPage, PageError>, status: StatusCode) -> Response {
    let status = match &page {
        Ok(p) if p.role.is_none() => StatusCode::FORBIDDEN,
        _ => status,
    };
    show(lang, headers, "proposal.html", page, status)
}

async fn build(st: &AppState, session: &WebSession, cc: &str, id: i64) -> Result<ProposalPage, PageError> {
    let (code, c) = find(st, cc).await?;
    let role = role_of(st, session, &c).await?;
    let mut page = ProposalPage {
        country: CountryView::of(&c),
        role,
        proposal: None,
        done: None,
        error: None,
        error_key: None,
    };
    let Some(role) = &page.role else {
        return Ok(page);
    };
    let db = &st.db.read;
    let p = db::proposals::by_id(db, id)
        .await?
        .filter(|p| p.country_id == c.id)
        .ok_or_else(|| PageError::not_found("page", id.to_string()))?;
    let pkg = db::packages::find(db, &p.package)
        .await?
        .ok_or_else(|| PageError::internal(format_args!("proposal {id} names a missing package")))?;
    let v = db::packages::version(db, pkg.id, &p.version)
        .await?
        .ok_or_else(|| PageError::internal(format_args!("proposal {id} names a missing version")))?;
    let m = manifest_of(&v)?;
    let key = db::keys::find(db, pkg.organisation_id, &v.key_id).await?;
    let titles = spec_titles(st).await?;
    let now = crate::now_ms() / 1000;

    // The previously approved version in this country: the highest other version of
    // the package whose approval threshold is met now.
    let rows = db::approvals::of_package(db, &p.package).await?;
    let mut candidates: BTreeMap<semver::Version, String> = BTreeMap::new();
    for a in rows.iter().filter(|a| {
        a.country_id == c.id && a.decision == Decision::Approved.as_str() && a.manifest_digest != p.manifest_digest
    }) {
        if let Ok(ver) = a.version.parse() {
            candidates.insert(ver, a.manifest_digest.clone());
        }
    }
    let mut previous = None;
    for (ver, digest) in candidates.iter().rev() {
        let t = approvals::tally_of(db, &c, digest, now)
            .await
            .map_err(PageError::internal)?;
        if t.approved() {
            previous = Some(ver.to_string());
            break;
        }
    }
    let changes = match &previous {
        Some(prev) => match db::packages::version(db, pkg.id, prev).await? {
            Some(old) => changes(&manifest_of(&old)?, &m),
            None => Vec::new(),
        },
        None => Vec::new(),
    };

    let mut names = Names::default();
    let mut recommendations = Vec::new();
    for r in db::proposals::recommendations(db, p.id, reviews::MAX_RECOMMENDATIONS).await? {
        recommendations.push(RecommendationRow {
            reviewer: names.of(st, r.reviewer_id).await?,
            recommendation: r.recommendation,
            notes: r.notes,
            date: date(r.created_at),
        });
    }
    let t = approvals::tally_of(db, &c, &p.manifest_digest, now)
        .await
        .map_err(PageError::internal)?;
    // Newest first, at most MAX_STATEMENTS.
    let mut statement_list = db::approvals::of_digest(db, c.id, &p.manifest_digest).await?;
    let statements_total = statement_list.len();
    statement_list.reverse();
    statement_list.truncate(MAX_STATEMENTS);
    let statements = statement_rows(st, &c, &statement_list, &mut names).await?;
    let server_key = st.server_keys.get(code).map(|k| k.public_key().key_id());
    let server_key_registered = match &server_key {
        Some(k) => db::keys::find(db, c.organisation_id, k)
            .await?
            .is_some_and(|k| k.revoked_at.is_none()),
        None => false,
    };
    let stack_check = match &c.stack_toml {
        Some(text) => Some(stack_check(st, text, &p.package, &v.version, &v.manifest_digest).await),
        None => None,
    };
    let pk = &m.package;
    page.proposal = Some(ProposalView {
        id: p.id,
        status: p.status.clone(),
        note: p.note.clone(),
        proposed_by: names.of(st, p.proposed_by).await?,
        proposed_at: date(p.proposed_at),
        pkg: PkgView {
            name: p.package.clone(),
            title: pk.title.clone(),
            description: pk.description.clone(),
            license: pk.license.to_string(),
            version: v.version.clone(),
            digest: v.manifest_digest.clone(),
            date: date(v.published_at),
            yanked: v.yanked,
        },
        implements: implemented(&m, &titles),
        sig: SigView {
            key_id: v.key_id.clone(),
            key_name: key.as_ref().map(|k| k.name.clone()),
            revoked: key.as_ref().and_then(|k| k.revoked_at).map(date),
        },
        previous,
        changes,
        recommendations,
        state: StateView {
            approved: t.approved(),
            approvals: t.approving_keys.len(),
            threshold: t.threshold,
            until: t.valid_until.map(day),
            expired: t.expired.len(),
            revoked: t.revoked.as_ref().map(|(_, reason, at)| RevokedView {
                reason: reason.clone(),
                date: day(*at),
            }),
        },
        statements,
        statements_total,
        can_approve: matches!(role.as_str(), "approver" | "owner"),
        server_key,
        server_key_registered,
        stack_check,
    });
    Ok(page)
}

/// What changed from `old` to `new`: metadata and requirements.
fn changes(old: &Manifest, new: &Manifest) -> Vec<Change> {
    let mut out = Vec::new();
    let mut one = |kind: &'static str, name: Option<String>, before: Option<String>, after: Option<String>| {
        if before != after {
            out.push(Change {
                kind,
                name,
                before,
                after,
            });
        }
    };
    one("title", None, old.package.title.clone(), new.package.title.clone());
    one(
        "description",
        None,
        Some(old.package.description.clone()),
        Some(new.package.description.clone()),
    );
    one(
        "license",
        None,
        Some(old.package.license.to_string()),
        Some(new.package.license.to_string()),
    );
    let implements = |m: &Manifest| -> BTreeMap<String, String> {
        m.implements
            .iter()
            .map(|i| (i.spec.to_string(), format!("{} ({})", i.version, i.how.as_str())))
            .collect()
    };
    let pairs = |it: Vec<(String, String)>| -> BTreeMap<String, String> { it.into_iter().collect() };
    let specs = |m: &Manifest| {
        pairs(
            m.requires
                .specs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    };
    let packages = |m: &Manifest| {
        pairs(
            m.requires
                .packages
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    };
    let platform = |m: &Manifest| {
        pairs(
            m.requires
                .platform
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    };
    let conflicts = |m: &Manifest| {
        pairs(
            m.conflicts
                .packages
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    };
    for (kind, of) in [
        (
            "implements",
            &implements as &dyn Fn(&Manifest) -> BTreeMap<String, String>,
        ),
        ("requires_spec", &specs),
        ("requires_package", &packages),
        ("requires_platform", &platform),
        ("conflicts", &conflicts),
    ] {
        let (a, b) = (of(old), of(new));
        let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
        keys.sort();
        keys.dedup();
        for k in keys {
            one(kind, Some(k.clone()), a.get(k).cloned(), b.get(k).cloned());
        }
    }
    out
}

/// The longest text field read from a form, in characters (the statement's own limit).
const MAX_TEXT: usize = approval::MAX_TEXT_CHARS;

fn text_field(body: &[u8], name: &str) -> Option<String> {
    form_field(body, name)
        .map(|v| v.trim().chars().take(MAX_TEXT + 1).collect::<String>())
        .filter(|v| !v.is_empty())
}

/// The page again after a refusal.
async fn refused(
    st: &AppState,
    lang: &Language,
    headers: &HeaderMap,
    session: &WebSession,
    (cc, id): (&str, i64),
    status: StatusCode,
    error: Result<String, &'static str>,
) -> Response {
    let built = build(st, session, cc, id).await.map(|mut p| {
        match error {
            Ok(message) => p.error = Some(message),
            Err(key) => p.error_key = Some(key),
        }
        p
    });
    answer(lang, headers, built, status)
}

/// Map a service result to the redirect or the page with its refusal.
async fn after(
    st: &AppState,
    lang: &Language,
    headers: &HeaderMap,
    session: &WebSession,
    (cc, id): (&str, i64),
    result: Result<&'static str, crate::service::Error>,
) -> Response {
    match result {
        Ok(done) => see_other(&format!("/countries/{cc}/proposals/{id}?done={done}")),
        Err(e) => match refusal(e) {
            Ok((status, message)) => refused(st, lang, headers, session, (cc, id), status, Ok(message)).await,
            Err(e) => show::<()>(lang, headers, "", Err(e), StatusCode::OK),
        },
    }
}

/// `POST /countries/{cc}/proposals/{id}/recommend`.
pub async fn recommend(
    State(st): State<AppState>,
    lang: Language,
    headers: HeaderMap,
    session: WebSession,
    PagePath((cc, id)): PagePath<(String, i64)>,
    body: Bytes,
) -> Response {
    let Ok(code) = cc.parse::<CountryCode>() else {
        return show::<()>(
            &lang,
            &headers,
            "",
            Err(PageError::not_found("page", &cc)),
            StatusCode::OK,
        );
    };
    let recommendation = form_field(&body, "recommendation").unwrap_or_default();
    let notes = text_field(&body, "notes");
    let result = reviews::recommend(&st, &session.principal(), code, id, &recommendation, notes.as_deref())
        .await
        .map(|_| {
            tracing::info!(user = %session.user, country = %code, proposal = id, "web: recommendation");
            "recommended"
        });
    after(&st, &lang, &headers, &session, (code.as_str(), id), result).await
}

/// `POST /countries/{cc}/proposals/{id}/approve`.
pub async fn approve(
    State(st): State<AppState>,
    lang: Language,
    headers: HeaderMap,
    session: WebSession,
    PagePath((cc, id)): PagePath<(String, i64)>,
    body: Bytes,
) -> Response {
    decide(&st, &lang, &headers, &session, (&cc, id), Decision::Approved, &body).await
}

/// `POST /countries/{cc}/proposals/{id}/revoke`.
pub async fn revoke(
    State(st): State<AppState>,
    lang: Language,
    headers: HeaderMap,
    session: WebSession,
    PagePath((cc, id)): PagePath<(String, i64)>,
    body: Bytes,
) -> Response {
    decide(&st, &lang, &headers, &session, (&cc, id), Decision::Revoked, &body).await
}

/// Sign an approval or revocation of the proposal's version with the server-held key.
async fn decide(
    st: &AppState,
    lang: &Language,
    headers: &HeaderMap,
    session: &WebSession,
    (cc, id): (&str, i64),
    decision: Decision,
    body: &[u8],
) -> Response {
    let Ok(code) = cc.parse::<CountryCode>() else {
        return show::<()>(lang, headers, "", Err(PageError::not_found("page", cc)), StatusCode::OK);
    };
    let here = (code.as_str(), id);
    let Some(key) = st.server_keys.get(code) else {
        return refused(
            st,
            lang,
            headers,
            session,
            here,
            StatusCode::CONFLICT,
            Err("no_server_key"),
        )
        .await;
    };
    let db = &st.db.read;
    let found = async {
        let c = db::countries::by_code(db, code.as_str()).await?;
        let p = match &c {
            Some(c) => db::proposals::by_id(db, id).await?.filter(|p| p.country_id == c.id),
            None => None,
        };
        Ok::<_, sea_orm::DbErr>(c.zip(p))
    }
    .await;
    let (c, p) = match found {
        Ok(Some(cp)) => cp,
        Ok(None) => {
            return show::<()>(
                lang,
                headers,
                "",
                Err(PageError::not_found("page", id.to_string())),
                StatusCode::OK,
            );
        }
        Err(e) => return show::<()>(lang, headers, "", Err(e.into()), StatusCode::OK),
    };
    let now = crate::now_ms() / 1000;
    let reason = text_field(body, "reason");
    let valid_until = match decision {
        Decision::Revoked => None,
        Decision::Approved => match text_field(body, "until") {
            Some(d) => match until_of(&d) {
                Some(u) => Some(u),
                None => {
                    return refused(
                        st,
                        lang,
                        headers,
                        session,
                        here,
                        StatusCode::BAD_REQUEST,
                        Err("bad_until"),
                    )
                    .await;
                }
            },
            None => c.default_validity_days.map(|days| now + i64::from(days) * 86_400),
        },
    };
    let recommendation = match decision {
        Decision::Revoked => None,
        Decision::Approved => match based_on(st, &p).await {
            Ok(r) => r,
            Err(e) => return show::<()>(lang, headers, "", Err(e), StatusCode::OK),
        },
    };
    let (Ok(package), Ok(version), Ok(digest)) = (
        p.package.parse::<PackageName>(),
        p.version.parse::<semver::Version>(),
        p.manifest_digest.parse::<Digest>(),
    ) else {
        return show::<()>(
            lang,
            headers,
            "",
            Err(PageError::internal(format_args!("proposal {id} is malformed"))),
            StatusCode::OK,
        );
    };
    let statement = Statement::new(
        package,
        version,
        digest,
        Predicate {
            country: code,
            decision,
            conditions: Conditions {
                text: match decision {
                    Decision::Approved => text_field(body, "condition"),
                    Decision::Revoked => None,
                },
                requires: Vec::new(),
            },
            valid_until: valid_until.map(time::rfc3339),
            reason,
            recommendation,
            approver: Some(session.user.clone()),
            signed_at: time::rfc3339(now),
        },
    );
    let result = approvals::sign_and_submit(st, &session.principal(), code, &key, &statement)
        .await
        .map(|r| {
            tracing::info!(user = %session.user, country = %code, package = %r.row.package, version = %r.row.version, decision = decision.as_str(), "web: statement signed with the server-held key");
            match decision {
                Decision::Approved => "approved",
                Decision::Revoked => "revoked",
            }
        });
    after(st, lang, headers, session, here, result).await
}

/// The end of day `d` (`YYYY-MM-DD`) in UTC, in seconds.
fn until_of(d: &str) -> Option<i64> {
    if d.len() != 10 {
        return None;
    }
    time::parse_rfc3339(&format!("{d}T23:59:59Z"))
}

/// The recommendation an approval rests on: the newest `approve` recommendation of the
/// proposal, if any.
async fn based_on(st: &AppState, p: &db::proposals::Proposal) -> Result<Option<approval::Recommendation>, PageError> {
    let list = db::proposals::recommendations(&st.db.read, p.id, reviews::MAX_RECOMMENDATIONS).await?;
    let Some(r) = list.into_iter().rev().find(|r| r.recommendation == "approve") else {
        return Ok(None);
    };
    let reviewer = db::accounts::user_by_id(&st.db.read, r.reviewer_id)
        .await?
        .map_or_else(String::new, |u| u.name);
    Ok(Some(approval::Recommendation {
        reviewer,
        recommendation: r.recommendation,
        notes: r.notes.map(|n| n.chars().take(MAX_TEXT).collect()),
        at: time::rfc3339(r.created_at / 1000),
    }))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn manifest(extra: &str, license: &str) -> Manifest {
        Manifest::from_toml_str(&format!(
            "[package]\nname = \"acme/id\"\nversion = \"1.0.0\"\ndescription = \"An identity system\"\nlicense = \"{license}\"\n{extra}"
        ))
        .unwrap()
    }

    #[test]
    fn changes_list_metadata_and_requirements() {
        let old = manifest("[requires.platform]\nkubernetes = \">=1.27\"\n", "Apache-2.0");
        let new = manifest(
            "[requires.platform]\nkubernetes = \">=1.29\"\npostgresql = \">=15\"\n",
            "MPL-2.0",
        );
        let c = changes(&old, &new);
        assert_eq!(
            c,
            vec![
                Change {
                    kind: "license",
                    name: None,
                    before: Some("Apache-2.0".into()),
                    after: Some("MPL-2.0".into())
                },
                Change {
                    kind: "requires_platform",
                    name: Some("kubernetes".into()),
                    before: Some(">=1.27".into()),
                    after: Some(">=1.29".into())
                },
                Change {
                    kind: "requires_platform",
                    name: Some("postgresql".into()),
                    before: None,
                    after: Some(">=15".into())
                },
            ]
        );
        assert!(changes(&old, &old).is_empty());
    }

    #[test]
    fn until_is_the_end_of_a_day() {
        assert_eq!(
            until_of("2027-12-31").map(time::rfc3339).as_deref(),
            Some("2027-12-31T23:59:59Z")
        );
        for bad in ["2027-13-01", "31/12/2027", "2027-12-31T00:00:00Z", ""] {
            assert!(until_of(bad).is_none(), "{bad}");
        }
    }
}
