//! Countries and their approvals: the country's policy, members and approver keys
//! (public), policy and member changes (`country-admin:CC`), recording approval and
//! revocation statements (`approve:CC`), the review queue (`review:CC`), and the
//! approval state of a package's versions in every country (public).

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use govstore_core::approval::{self, Tally};
use govstore_core::manifest::values::CountryCode;
use govstore_core::package::PackageName;
use serde::Deserialize;
use serde_json::{Value, json};

use super::extract::{Path, Query};
use super::{body, rfc3339};
use crate::auth::require_principal;
use crate::db;
use crate::error::{ApiError, ApiResult};
use crate::service::{approvals, countries, reviews};
use crate::state::AppState;

const MAX_BODY: usize = 16 * 1024;
/// An envelope is at most this large (the DSSE reader refuses more).
const MAX_ENVELOPE_BODY: usize = govstore_signing::dsse::MAX_ENVELOPE_BYTES;
/// The most statements a country's approval list answers.
const MAX_LIST: u64 = 500;

fn code(raw: &str) -> ApiResult<CountryCode> {
    raw.parse()
        .map_err(|e: govstore_core::manifest::values::ValueError| ApiError::invalid(e.to_string()))
}

async fn country(st: &AppState, cc: CountryCode) -> ApiResult<db::countries::Country> {
    db::countries::by_code(&st.db.read, cc.as_str())
        .await?
        .ok_or_else(|| ApiError::not_found(format!("country {cc} is not set up on this registry")))
}

pub(crate) fn country_json(c: &db::countries::Country) -> Value {
    json!({
        "code": c.code,
        "name": c.name,
        "namespace": c.code.to_ascii_lowercase(),
        "threshold": c.threshold,
        "default_validity_days": c.default_validity_days,
        "has_stack": c.stack_toml.is_some(),
    })
}

pub(crate) fn tally_json(t: &Tally) -> Value {
    json!({
        "approved": t.approved(),
        "approvals": t.approving_keys.len(),
        "threshold": t.threshold,
        "valid_until": t.valid_until.map(govstore_core::time::rfc3339),
        "revoked": t.revoked.as_ref().map(|(key, reason, at)| json!({ "key_id": key, "reason": reason, "signed_at": govstore_core::time::rfc3339(*at) })),
        "expired": t.expired.iter().map(|(k, at)| json!({ "key_id": k, "valid_until": govstore_core::time::rfc3339(*at) })).collect::<Vec<_>>(),
    })
}

async fn statement_json(st: &AppState, a: &db::approvals::Approval, code: &str) -> ApiResult<Value> {
    let signer = db::accounts::user_by_id(&st.db.read, a.signer_user_id)
        .await?
        .map(|u| u.name);
    let envelope: Value = serde_json::from_str(&a.envelope).map_err(ApiError::internal)?;
    Ok(json!({
        "country": code,
        "package": a.package,
        "version": a.version,
        "digest": a.manifest_digest,
        "decision": a.decision,
        "key_id": a.key_id,
        "signer": signer,
        "signed_at": govstore_core::time::rfc3339(a.signed_at),
        "valid_until": a.valid_until.map(govstore_core::time::rfc3339),
        "reason": a.reason,
        "statement_digest": a.envelope_digest,
        "recorded_at": rfc3339(a.recorded_at),
        "envelope": envelope,
    }))
}

pub async fn list(State(st): State<AppState>) -> ApiResult<Json<Value>> {
    let all: Vec<Value> = db::countries::all(&st.db.read)
        .await?
        .iter()
        .map(country_json)
        .collect();
    Ok(Json(json!({ "countries": all })))
}

pub async fn get(State(st): State<AppState>, Path(cc): Path<String>) -> ApiResult<Json<Value>> {
    let c = country(&st, code(&cc)?).await?;
    let mut keys = Vec::new();
    for k in db::keys::list(&st.db.read, c.organisation_id).await? {
        let holder = db::accounts::user_by_id(&st.db.read, k.created_by)
            .await?
            .map(|u| u.name);
        let mut v = super::keys::key_json(&k);
        v["holder"] = json!(holder);
        keys.push(v);
    }
    let members: Vec<Value> = db::accounts::members(&st.db.read, c.organisation_id)
        .await?
        .into_iter()
        .map(|(user, role)| json!({ "user": user, "role": role }))
        .collect();
    let mut out = country_json(&c);
    out["keys"] = json!(keys);
    out["members"] = json!(members);
    Ok(Json(out))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyBody {
    threshold: u32,
    #[serde(default)]
    default_validity_days: Option<u32>,
}

pub async fn set_policy(
    State(st): State<AppState>,
    Path(cc): Path<String>,
    headers: HeaderMap,
    b: Body,
) -> ApiResult<Json<Value>> {
    let cc = code(&cc)?;
    let p = require_principal(&st, &headers).await?;
    let req: PolicyBody = body::json(b, MAX_BODY).await?;
    let c = countries::set_policy(&st, &p, cc, req.threshold, req.default_validity_days).await?;
    Ok(Json(country_json(&c)))
}

/// `PUT /api/v1/countries/{cc}/stack`: the body is the stack profile's TOML text.
pub async fn set_stack(
    State(st): State<AppState>,
    Path(cc): Path<String>,
    headers: HeaderMap,
    b: Body,
) -> ApiResult<Json<Value>> {
    let cc = code(&cc)?;
    let p = require_principal(&st, &headers).await?;
    let max = govstore_core::stack::limits::MAX_STACK_BYTES;
    let bytes = axum::body::to_bytes(b, max)
        .await
        .map_err(|_| ApiError::too_large(format!("a stack profile is at most {max} bytes")))?;
    let text = std::str::from_utf8(&bytes).map_err(|_| ApiError::invalid("the stack profile is not UTF-8 text"))?;
    let c = countries::set_stack(&st, &p, cc, text).await?;
    Ok(Json(country_json(&c)))
}

/// `GET /api/v1/countries/{cc}/stack`: the stack profile's TOML text.
pub async fn get_stack(State(st): State<AppState>, Path(cc): Path<String>) -> ApiResult<Response> {
    let c = country(&st, code(&cc)?).await?;
    let text = c
        .stack_toml
        .ok_or_else(|| ApiError::not_found(format!("{} has no stack profile on this registry", c.code)))?;
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/toml; charset=utf-8")],
        text,
    )
        .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MemberBody {
    role: String,
}

pub async fn set_member(
    State(st): State<AppState>,
    Path((cc, user)): Path<(String, String)>,
    headers: HeaderMap,
    b: Body,
) -> ApiResult<Json<Value>> {
    let cc = code(&cc)?;
    let p = require_principal(&st, &headers).await?;
    let req: MemberBody = body::json(b, MAX_BODY).await?;
    countries::add_member(&st, &p, cc, &user, &req.role).await?;
    Ok(Json(json!({ "country": cc.as_str(), "user": user, "role": req.role })))
}

/// Record a statement: the body is the DSSE envelope's JSON, as signed.
pub async fn submit(
    State(st): State<AppState>,
    Path(cc): Path<String>,
    headers: HeaderMap,
    b: Body,
) -> ApiResult<Response> {
    let cc = code(&cc)?;
    let p = require_principal(&st, &headers).await?;
    crate::service::policy::require_country(&st.db.read, &p, govstore_core::scope::CountryAction::Approve, cc)
        .await
        .map_err(ApiError::from)?;
    let bytes = axum::body::to_bytes(b, MAX_ENVELOPE_BODY)
        .await
        .map_err(|_| ApiError::too_large(format!("an envelope is at most {MAX_ENVELOPE_BODY} bytes")))?;
    let r = approvals::submit(&st, &p, cc, &bytes).await?;
    let mut out = statement_json(&st, &r.row, cc.as_str()).await?;
    out["recorded"] = json!(r.new);
    out["state"] = tally_json(&r.tally);
    let status = if r.new { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(out)).into_response())
}

#[derive(Deserialize)]
pub struct ListQuery {
    limit: Option<u64>,
}

pub async fn list_approvals(
    State(st): State<AppState>,
    Path(cc): Path<String>,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Value>> {
    let c = country(&st, code(&cc)?).await?;
    let limit = q.limit.unwrap_or(100).clamp(1, MAX_LIST);
    let mut out = Vec::new();
    for a in db::approvals::recent(&st.db.read, c.id, limit).await? {
        let mut v = statement_json(&st, &a, &c.code).await?;
        if let Some(o) = v.as_object_mut() {
            o.remove("envelope");
        }
        out.push(v);
    }
    Ok(Json(json!({ "country": c.code, "statements": out })))
}

/// Every country's statements about a package's versions, with each version's state.
pub async fn of_package(
    State(st): State<AppState>,
    Path((ns, name)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let package: PackageName = format!("{ns}/{name}")
        .parse()
        .map_err(|e: govstore_core::package::QualifiedNameError| ApiError::invalid(e.to_string()))?;
    if db::packages::find(&st.db.read, package.as_str()).await?.is_none() {
        return Err(ApiError::not_found(format!("no package {package}")));
    }
    let rows = db::approvals::of_package(&st.db.read, package.as_str()).await?;
    let now = crate::now_ms() / 1000;
    let mut by_version: std::collections::BTreeMap<(String, String), (String, i64, Vec<Value>)> = Default::default();
    let mut countries_by_id = std::collections::BTreeMap::new();
    for a in &rows {
        if let std::collections::btree_map::Entry::Vacant(slot) = countries_by_id.entry(a.country_id)
            && let Some(c) = db::countries::by_id(&st.db.read, a.country_id).await?
        {
            slot.insert(c);
        }
        let Some(c) = countries_by_id.get(&a.country_id) else {
            continue;
        };
        let mut v = statement_json(&st, a, &c.code).await?;
        if let Some(o) = v.as_object_mut() {
            o.remove("envelope");
        }
        by_version
            .entry((a.version.clone(), c.code.clone()))
            .or_insert_with(|| (a.manifest_digest.clone(), c.id, Vec::new()))
            .2
            .push(v);
    }
    let mut versions = Vec::new();
    for ((version, cc), (digest, country_id, statements)) in by_version {
        let Some(c) = countries_by_id.get(&country_id) else {
            continue;
        };
        let tally = approvals::tally_of(&st.db.read, c, &digest, now).await?;
        versions.push(json!({
            "version": version,
            "country": cc,
            "digest": digest,
            "state": tally_json(&tally),
            "statements": statements,
        }));
    }
    Ok(Json(
        json!({ "package": package.as_str(), "approvals": versions, "predicate_type": approval::PREDICATE_TYPE }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProposeBody {
    package: String,
    version: String,
    #[serde(default)]
    note: Option<String>,
}

fn proposal_json(p: &db::proposals::Proposal, code: &str) -> Value {
    json!({
        "id": p.id,
        "country": code,
        "package": p.package,
        "version": p.version,
        "digest": p.manifest_digest,
        "note": p.note,
        "status": p.status,
        "proposed_at": rfc3339(p.proposed_at),
    })
}

pub async fn propose(
    State(st): State<AppState>,
    Path(cc): Path<String>,
    headers: HeaderMap,
    b: Body,
) -> ApiResult<Response> {
    let cc = code(&cc)?;
    let p = require_principal(&st, &headers).await?;
    let req: ProposeBody = body::json(b, MAX_BODY).await?;
    let package: PackageName = req
        .package
        .parse()
        .map_err(|e: govstore_core::package::QualifiedNameError| ApiError::invalid(e.to_string()))?;
    let version: semver::Version = req
        .version
        .parse()
        .map_err(|e: semver::Error| ApiError::invalid(format!("version: {e}")))?;
    let (proposal, new) = reviews::propose(&st, &p, cc, &package, &version, req.note.as_deref()).await?;
    let status = if new { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(proposal_json(&proposal, cc.as_str()))).into_response())
}

#[derive(Deserialize)]
pub struct ProposalsQuery {
    status: Option<String>,
}

pub async fn proposals(
    State(st): State<AppState>,
    Path(cc): Path<String>,
    Query(q): Query<ProposalsQuery>,
) -> ApiResult<Json<Value>> {
    let c = country(&st, code(&cc)?).await?;
    let status = q.status.unwrap_or_else(|| "open".into());
    if !matches!(status.as_str(), "open" | "approved" | "revoked" | "rejected") {
        return Err(ApiError::invalid("status is open, approved, revoked or rejected"));
    }
    let list: Vec<Value> = db::proposals::with_status(&st.db.read, c.id, &status, MAX_LIST)
        .await?
        .iter()
        .map(|p| proposal_json(p, &c.code))
        .collect();
    Ok(Json(json!({ "country": c.code, "status": status, "proposals": list })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RecommendBody {
    recommendation: String,
    #[serde(default)]
    notes: Option<String>,
}

pub async fn recommend(
    State(st): State<AppState>,
    Path((cc, id)): Path<(String, i64)>,
    headers: HeaderMap,
    b: Body,
) -> ApiResult<Response> {
    let cc = code(&cc)?;
    let p = require_principal(&st, &headers).await?;
    let req: RecommendBody = body::json(b, MAX_BODY).await?;
    let r = reviews::recommend(&st, &p, cc, id, &req.recommendation, req.notes.as_deref()).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "id": r.id,
            "proposal": r.proposal_id,
            "reviewer": p.user,
            "recommendation": r.recommendation,
            "notes": r.notes,
            "at": rfc3339(r.created_at),
        })),
    )
        .into_response())
}
