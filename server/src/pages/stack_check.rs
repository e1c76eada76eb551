//! The stack check page: paste or upload a `stack.toml`, see which packages fit and why
//! the others do not, and download the lockfile (or the report when nothing fits).
//!
//! - `GET /stack-check`: the form.
//! - `POST /stack-check` (multipart: `stack`, the pasted text, and/or `file`, an
//!   uploaded file, which wins when not empty): the form again with the text, then the
//!   result ([`crate::catalogue_check`]).
//! - `POST /stack-check/download` (the same form): `govstore.lock` as an attachment, or
//!   the resolver's report as `stack-report.txt` when nothing fits.
//!
//! Input errors re-show the form with the message in `role="alert"`: 400 for a missing
//! or invalid profile (the message names the field and line), 413 for a body over
//! [`MAX_BODY`] or a profile over [`MAX_STACK_TEXT`]. POST answers are `no-store`.
//! These POSTs change nothing on the server; still, a cross-site form post (the
//! browser's `Sec-Fetch-Site: cross-site`) is refused, so no other site can make a
//! visitor's browser run checks.

use axum::Router;
use axum::extract::multipart::{Multipart, MultipartError, MultipartRejection};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use govstore_core::manifest::Url;
use serde::Serialize;

use super::{Caching, Language, PageError, respond_with};
use crate::catalogue_check::{self, CheckError, MAX_STACK_TEXT, StackCheck};
use crate::state::AppState;

/// The largest request body the POSTs read: a pasted profile and an uploaded one at
/// their limit, plus the form's framing.
pub const MAX_BODY: usize = 2 * MAX_STACK_TEXT + 16 * 1024;

/// The most form fields read; a real form has three.
const MAX_FIELDS: usize = 8;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/stack-check", get(form).post(check))
        .route("/stack-check/download", post(download))
        .layer(DefaultBodyLimit::max(MAX_BODY))
}

/// What the template shows.
#[derive(Debug, Serialize)]
struct Page<'a> {
    /// The profile, as sent, to show in the text area again.
    stack_text: &'a str,
    /// Why there is no result, one line each.
    error: Option<Vec<String>>,
    result: Option<&'a StackCheck>,
    max_kib: usize,
}

async fn form(lang: Language, headers: HeaderMap) -> Response {
    let page = Page {
        stack_text: "",
        error: None,
        result: None,
        max_kib: MAX_STACK_TEXT / 1024,
    };
    respond_with(&lang, &headers, "stack_check.html", Ok(page), Caching::Public)
}

async fn check(
    State(st): State<AppState>,
    lang: Language,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let (text, result) = match run(&st, &headers, multipart).await {
        Ok(ok) => ok,
        Err(failure) => return failure.page(&lang, &headers),
    };
    let page = Page {
        stack_text: &String::from_utf8_lossy(&text),
        error: None,
        result: Some(&result),
        max_kib: MAX_STACK_TEXT / 1024,
    };
    respond_with(&lang, &headers, "stack_check.html", Ok(page), Caching::NoStore)
}

async fn download(
    State(st): State<AppState>,
    lang: Language,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let result = match run(&st, &headers, multipart).await {
        Ok((_, result)) => result,
        Err(failure) => return failure.page(&lang, &headers),
    };
    let (body, file, content_type) = match (&result.outcome, catalogue_check::report_text(&result)) {
        (catalogue_check::Outcome::Fits(fits), _) => (
            fits.lockfile.clone(),
            "govstore.lock",
            "application/toml; charset=utf-8",
        ),
        (_, Some(report)) => (report, "stack-report.txt", "text/plain; charset=utf-8"),
        (_, None) => {
            let e = PageError::internal("a stack check had neither a lockfile nor a report");
            return error_page(e, &lang, &headers);
        }
    };
    let disposition = format!("attachment; filename=\"{file}\"");
    let mut res = (StatusCode::OK, body).into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    res
}

/// Why a POST gave no result: shown on the form with the text that was sent.
#[derive(Debug)]
enum Failure {
    /// A client or check error, shown on the form with this status.
    Form {
        status: StatusCode,
        message: String,
        text: Vec<u8>,
    },
    /// A server failure (logged), shown as the bare error page.
    Internal(PageError),
}

impl Failure {
    fn page(self, lang: &Language, headers: &HeaderMap) -> Response {
        match self {
            Failure::Internal(e) => error_page(e, lang, headers),
            Failure::Form { status, message, text } => {
                // A profile too large to use is not echoed back either.
                let shown = if text.len() > MAX_STACK_TEXT {
                    String::new()
                } else {
                    String::from_utf8_lossy(&text).into_owned()
                };
                let page = Page {
                    stack_text: &shown,
                    error: Some(message.lines().map(str::to_owned).collect()),
                    result: None,
                    max_kib: MAX_STACK_TEXT / 1024,
                };
                let mut res = respond_with(lang, headers, "stack_check.html", Ok(page), Caching::NoStore);
                if res.status() == StatusCode::OK {
                    *res.status_mut() = status;
                }
                res
            }
        }
    }

    fn form(status: StatusCode, message: impl Into<String>, text: Vec<u8>) -> Self {
        Failure::Form {
            status,
            message: message.into(),
            text,
        }
    }
}

/// `e` as its HTML error page, not cached.
fn error_page(e: PageError, lang: &Language, headers: &HeaderMap) -> Response {
    respond_with::<()>(lang, headers, "", Err(e), Caching::NoStore)
}

/// Reads the form and checks the profile it carries.
async fn run(
    st: &AppState,
    headers: &HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<(Vec<u8>, StackCheck), Failure> {
    if cross_site(headers) {
        return Err(Failure::form(
            StatusCode::FORBIDDEN,
            "This form was sent from another site. Open this page and send it from here.",
            Vec::new(),
        ));
    }
    let multipart = multipart.map_err(|e| {
        Failure::form(
            e.status(),
            "The form could not be read: send it as multipart/form-data with a `stack` or `file` field.",
            Vec::new(),
        )
    })?;
    let text = read_form(multipart).await?;
    let source = source_url(st, headers)
        .ok_or_else(|| Failure::Internal(PageError::internal("no registry URL for the lockfile's source")))?;
    match catalogue_check::run(&st.catalogue, &st.db.read, &text, source).await {
        Ok(result) => Ok((text, result)),
        Err(CheckError::Internal(e)) => Err(Failure::Internal(PageError::internal(format_args!("stack check: {e}")))),
        Err(e) => {
            let status = match &e {
                CheckError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
                CheckError::Busy | CheckError::TimedOut => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::BAD_REQUEST,
            };
            Err(Failure::form(status, e.to_string(), text))
        }
    }
}

/// The profile the form carries: the uploaded file when it is not empty, else the
/// pasted text. Reads at most one byte past [`MAX_STACK_TEXT`] of each.
async fn read_form(mut multipart: Multipart) -> Result<Vec<u8>, Failure> {
    let mut pasted: Option<Vec<u8>> = None;
    let mut uploaded: Option<Vec<u8>> = None;
    for _ in 0..MAX_FIELDS {
        let field = multipart.next_field().await.map_err(malformed)?;
        let Some(mut field) = field else {
            break;
        };
        let slot = match field.name() {
            Some("stack") => &mut pasted,
            Some("file") => &mut uploaded,
            _ => continue,
        };
        let mut bytes = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(malformed)? {
            bytes.extend_from_slice(&chunk);
            if bytes.len() > MAX_STACK_TEXT {
                return Err(Failure::form(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!(
                        "The stack profile is larger than {} KiB, the limit.",
                        MAX_STACK_TEXT / 1024
                    ),
                    Vec::new(),
                ));
            }
        }
        *slot = Some(bytes);
    }
    let nonblank = |b: &Vec<u8>| b.iter().any(|c| !c.is_ascii_whitespace());
    match (uploaded.filter(nonblank), pasted.filter(nonblank)) {
        (Some(file), _) => Ok(file),
        (None, Some(text)) => Ok(text),
        (None, None) => Err(Failure::form(
            StatusCode::BAD_REQUEST,
            CheckError::Empty.to_string(),
            Vec::new(),
        )),
    }
}

fn malformed(e: MultipartError) -> Failure {
    let status = e.status();
    let message = if status == StatusCode::PAYLOAD_TOO_LARGE {
        format!(
            "The form is larger than {} KiB; a stack profile may be at most {} KiB.",
            MAX_BODY / 1024,
            MAX_STACK_TEXT / 1024
        )
    } else {
        "The form could not be read: it is not valid multipart/form-data.".to_owned()
    };
    Failure::form(status, message, Vec::new())
}

/// Whether the browser says the form comes from another site.
fn cross_site(headers: &HeaderMap) -> bool {
    headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("cross-site"))
}

/// The registry URL the lockfile names as `source`, as `govstore resolve` names the URL
/// it read the index from.
///
/// With `public_url` configured ([`crate::config::Config::public_url`]), that URL, and
/// the request's headers are ignored. Without it (local use), the address the browser
/// used (`Host`, with `X-Forwarded-Proto: https` from a TLS proxy), else the address the
/// server listens on. Those headers are the client's to choose, and the URL lands in a
/// file that `govstore install` fetches from: production deployments behind a proxy
/// should set `public_url`.
pub(super) fn source_url(st: &AppState, headers: &HeaderMap) -> Option<Url> {
    if let Some(public) = &st.config.public_url {
        return Some(public.url().clone());
    }
    let scheme = match headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()) {
        Some(p) if p.trim().eq_ignore_ascii_case("https") => "https",
        _ => "http",
    };
    let listen = st.config.listen;
    headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| h.len() <= 255)
        .and_then(|host| format!("{scheme}://{host}").parse::<Url>().ok())
        .or_else(|| format!("http://{listen}").parse().ok())
        .or_else(|| format!("http://localhost:{}", listen.port()).parse().ok())
}
