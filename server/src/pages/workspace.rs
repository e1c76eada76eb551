//! A country's workspace, for its signed-in members (owners, approvers, reviewers):
//!
//! - `GET /countries/{cc}/workspace`: the review queue (open proposals, oldest first, at
//!   most [`MAX_QUEUE`], saying so when there are more) and the form to propose a
//!   published version for review (package, version, note).
//! - `POST /countries/{cc}/proposals` (urlencoded `package`, `version`, `note`, `csrf`):
//!   `service::reviews::propose`, then `303` to the proposal's page; a refusal shows the
//!   workspace again with the service's message.
//!
//! An anonymous visitor is sent to `/signin?next=...` (the `WebSession` extractor); a
//! signed-in user who is not a member gets a 403 page. The CSRF token of every POST was
//! checked by `session::layer` before the handler runs. The proposal's own page and its
//! forms are in `proposal.rs`.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use govstore_core::manifest::values::CountryCode;
use govstore_core::package::PackageName;
use serde::Serialize;

use super::country::{CountryView, Names, find};
use super::session::{WebSession, form_field};
use super::{Caching, Language, PageError, PagePath, date, respond_with};
use crate::db;
use crate::error::ApiError;
use crate::service::reviews;
use crate::state::AppState;

/// The most open proposals the queue lists.
pub const MAX_QUEUE: u64 = 100;
/// The longest package name or version read from the form.
const MAX_FIELD_CHARS: usize = 256;

#[derive(Serialize)]
struct WorkspacePage {
    country: CountryView,
    /// The viewer's role, `None` for a signed-in non-member (the 403 page).
    role: Option<String>,
    queue: Vec<QueueRow>,
    queue_capped: bool,
    max_queue: u64,
    form: ProposeForm,
    /// Why the last proposal was refused: the service's message, or a key of the form's
    /// own checks (`bad_package`, `bad_version`).
    error: Option<String>,
    error_key: Option<&'static str>,
}

#[derive(Serialize)]
struct QueueRow {
    id: i64,
    package: String,
    version: String,
    note: Option<String>,
    proposed_by: Option<String>,
    proposed_at: String,
}

#[derive(Serialize, Default)]
struct ProposeForm {
    package: String,
    version: String,
    note: String,
}

/// The viewer's role in the country (`owner`, `approver`, `reviewer`), if a member.
pub(super) async fn role_of(
    st: &AppState,
    session: &WebSession,
    c: &db::countries::Country,
) -> Result<Option<String>, PageError> {
    Ok(db::accounts::role(&st.db.read, c.organisation_id, session.user_id)
        .await?
        .filter(|r| crate::service::countries::ROLES.contains(&r.as_str())))
}

/// Answer `page` rendered from `template` with `status` (pages for signed-in users are
/// never stored).
pub(super) fn show<T: Serialize>(
    lang: &Language,
    headers: &HeaderMap,
    template: &str,
    page: Result<T, PageError>,
    status: StatusCode,
) -> Response {
    let mut res = respond_with(lang, headers, template, page, Caching::NoStore);
    if res.status() == StatusCode::OK {
        *res.status_mut() = status;
    }
    res
}

/// The status a service refusal is answered with, and its message.
pub(super) fn refusal(e: crate::service::Error) -> Result<(StatusCode, String), PageError> {
    if e.kind == crate::service::Kind::Internal {
        return Err(PageError::internal(e));
    }
    let message = e.message.clone();
    Ok((ApiError::from(e).status(), message))
}

pub async fn page(
    State(st): State<AppState>,
    lang: Language,
    headers: HeaderMap,
    session: WebSession,
    PagePath(cc): PagePath<String>,
) -> Response {
    let built = build(&st, &session, &cc, ProposeForm::default()).await;
    let status = forbidden_if_not_member(&built);
    show(&lang, &headers, "workspace.html", built, status)
}

fn forbidden_if_not_member(page: &Result<WorkspacePage, PageError>) -> StatusCode {
    match page {
        Ok(p) if p.role.is_none() => StatusCode::FORBIDDEN,
        _ => StatusCode::OK,
    }
}

async fn build(st: &AppState, session: &WebSession, cc: &str, form: ProposeForm) -> Result<WorkspacePage, PageError> {
    let (_, c) = find(st, cc).await?;
    let role = role_of(st, session, &c).await?;
    let mut page = WorkspacePage {
        country: CountryView::of(&c),
        role,
        queue: Vec::new(),
        queue_capped: false,
        max_queue: MAX_QUEUE,
        form,
        error: None,
        error_key: None,
    };
    if page.role.is_none() {
        return Ok(page);
    }
    let mut open = db::proposals::with_status(&st.db.read, c.id, "open", MAX_QUEUE + 1).await?;
    page.queue_capped = open.len() as u64 > MAX_QUEUE;
    open.truncate(MAX_QUEUE as usize);
    let mut names = Names::default();
    for p in open {
        page.queue.push(QueueRow {
            id: p.id,
            package: p.package,
            version: p.version,
            note: p.note,
            proposed_by: names.of(st, p.proposed_by).await?,
            proposed_at: date(p.proposed_at),
        });
    }
    Ok(page)
}

/// `POST /countries/{cc}/proposals`.
pub async fn propose(
    State(st): State<AppState>,
    lang: Language,
    headers: HeaderMap,
    session: WebSession,
    PagePath(cc): PagePath<String>,
    body: Bytes,
) -> Response {
    let field = |name: &str| {
        form_field(&body, name)
            .unwrap_or_default()
            .trim()
            .chars()
            .take(MAX_FIELD_CHARS)
            .collect::<String>()
    };
    let form = ProposeForm {
        package: field("package"),
        version: field("version"),
        note: form_field(&body, "note").unwrap_or_default().trim().to_owned(),
    };
    let again = |form: ProposeForm, status: StatusCode, key: Option<&'static str>, message: Option<String>| {
        let st = st.clone();
        let session = session.clone();
        let cc = cc.clone();
        let lang = lang.clone();
        let headers = headers.clone();
        async move {
            let built = build(&st, &session, &cc, form).await.map(|mut p| {
                p.error_key = key;
                p.error = message;
                p
            });
            let status = match forbidden_if_not_member(&built) {
                StatusCode::OK => status,
                s => s,
            };
            show(&lang, &headers, "workspace.html", built, status)
        }
    };
    let code: CountryCode = match cc.parse() {
        Ok(c) => c,
        Err(_) => {
            return show::<()>(
                &lang,
                &headers,
                "",
                Err(PageError::not_found("page", &cc)),
                StatusCode::OK,
            );
        }
    };
    let Ok(package) = form.package.parse::<PackageName>() else {
        return again(form, StatusCode::BAD_REQUEST, Some("bad_package"), None).await;
    };
    let Ok(version) = form.version.parse::<semver::Version>() else {
        return again(form, StatusCode::BAD_REQUEST, Some("bad_version"), None).await;
    };
    let note = (!form.note.is_empty()).then_some(form.note.as_str());
    match reviews::propose(&st, &session.principal(), code, &package, &version, note).await {
        Ok((proposal, _new)) => {
            tracing::info!(user = %session.user, country = %code, package = %package, version = %version, "web: proposed for review");
            see_other(&format!("/countries/{code}/proposals/{}?done=proposed", proposal.id))
        }
        Err(e) => match refusal(e) {
            Ok((status, message)) => again(form, status, None, Some(message)).await,
            Err(e) => show::<()>(&lang, &headers, "", Err(e), StatusCode::OK),
        },
    }
}

/// `303 See Other` to `to`, never stored.
pub(super) fn see_other(to: &str) -> Response {
    let mut res = Redirect::to(to).into_response();
    res.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    res
}
