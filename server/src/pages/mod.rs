//! The web catalogue: server-rendered HTML pages over the same database and search index
//! as the JSON API. Pages only read; they work without JavaScript (there is none) and
//! are rendered by `govstore_web` from templates embedded in the binary.
//!
//! Every page goes through [`respond`]: a strong ETag (sha256 of the body), `304 Not
//! Modified` on a matching `If-None-Match`, `Cache-Control: public, max-age=60` (error
//! pages: `no-cache` for a 4xx, `no-store` for a 5xx), `Vary:
//! Accept-Language, Cookie`, a Content-Security-Policy that allows nothing inline and
//! nothing from elsewhere, and `X-Content-Type-Options: nosniff`. The language comes from
//! `?lang=` (then remembered in a `lang` cookie), else the cookie, else
//! `Accept-Language`, else English ([`Language`]); the footer's language links point at
//! the current page, its query kept, with `lang` set. Errors are HTML pages too (bad
//! path encoding included, see [`PagePath`]): a 5xx is logged in full and shown as a bare
//! message, like the API's errors (`crate::error`).
//!
//! The stack-check page (`stack_check.rs`) belongs to its own module and is routed from
//! there; it renders through the same [`respond`] and [`renderer`].
//!
//! Sign-in (`signin.rs`, `session.rs`): every page runs behind [`session::layer`], which
//! resolves the session cookie (if any) and refuses a signed-in browser's POST without
//! its CSRF token. A page for a signed-in user shows their name and a sign-out form in
//! the layout and is `no-store`; anonymous pages are unchanged.

mod assets;
mod bundle;
mod compare;
mod country;
mod home;
mod listing;
mod package;
mod proposal;
mod publisher;
mod search;
pub mod session;
mod signin;
mod spec;
pub mod stack_check;
pub mod throttle;
mod workspace;

use std::sync::OnceLock;

use axum::Router;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use govstore_web::{Lang, Renderer};
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::state::AppState;

/// The Content-Security-Policy of every page: nothing inline, nothing from elsewhere.
pub const CSP: &str = "default-src 'self'; img-src 'self'; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

/// The longest search text accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 100;

/// The most query-string bytes a page reads; longer query strings get a 400 page.
pub const MAX_QUERY_STRING: usize = 4096;

/// The pages, behind [`session::layer`] (which needs the state to read sessions).
pub fn router(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/", get(home::page))
        .route("/search", get(search::page))
        .route("/packages/{ns}/{name}", get(package::page))
        .route("/listings/{id}", get(listing::page))
        .route("/specs/{ns}/{name}", get(spec::page))
        .route("/publishers/{ns}", get(publisher::page))
        .route("/compare", get(compare::page))
        .route("/countries/{cc}", get(country::page))
        .route("/countries/{cc}/workspace", get(workspace::page))
        .route("/countries/{cc}/bundles/{name}", get(bundle::latest))
        .route("/countries/{cc}/bundles/{name}/diff", get(bundle::diff))
        .route("/countries/{cc}/bundles/{name}/{version}", get(bundle::page))
        .route("/countries/{cc}/proposals", axum::routing::post(workspace::propose))
        .route("/countries/{cc}/proposals/{id}", get(proposal::page))
        .route(
            "/countries/{cc}/proposals/{id}/recommend",
            axum::routing::post(proposal::recommend),
        )
        .route(
            "/countries/{cc}/proposals/{id}/approve",
            axum::routing::post(proposal::approve),
        )
        .route(
            "/countries/{cc}/proposals/{id}/revoke",
            axum::routing::post(proposal::revoke),
        )
        .route("/static/{file}", get(assets::file))
        .merge(stack_check::router())
        .merge(signin::router())
        .layer(axum::middleware::from_fn_with_state(state.clone(), session::layer))
}

/// What the router answers for a path nothing else routes: the API's JSON 404 under
/// `/api/` and `/v2`, an HTML page elsewhere.
/// The page shows who is signed in, as every page does (the session layer does not run
/// for unrouted paths, so the session is read here).
pub async fn fallback(State(st): State<AppState>, mut lang: Language, headers: HeaderMap, uri: Uri) -> Response {
    let path = uri.path();
    if path.starts_with("/api/") || path == "/v2" || path.starts_with("/v2/") {
        return ApiError::not_found("no such API endpoint").into_response();
    }
    if let Ok(Some(s)) = session::load(&st, &headers).await {
        lang.viewer = Some(s.viewer());
    }
    respond::<Value>(&lang, &headers, "", Err(PageError::not_found("page", "")))
}

/// The renderer, built on first use. It cannot fail unless a template or catalogue
/// embedded in this binary is broken, which the tests of `govstore-web` rule out.
pub fn renderer() -> Result<&'static Renderer, PageError> {
    static RENDERER: OnceLock<Result<Renderer, String>> = OnceLock::new();
    RENDERER
        .get_or_init(|| Renderer::new().map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| PageError::internal(format_args!("web renderer: {e}")))
}

/// The language of a request (see the module documentation), and whether `?lang=` chose
/// it, in which case the response remembers it in the `lang` cookie; with the current
/// page's address (path and query, `lang` left out) for the footer's language links.
#[derive(Debug, Clone)]
pub struct Language {
    pub lang: Lang,
    from_query: bool,
    here: String,
    /// The signed-in user, for the layout; `None` for anonymous visitors.
    viewer: Option<session::Viewer>,
}

impl Language {
    fn of(uri: &Uri, headers: &HeaderMap) -> Self {
        let query_lang = uri.query().and_then(|q| {
            q.split('&')
                .take(64)
                .find_map(|pair| pair.strip_prefix("lang="))
                .and_then(Lang::parse)
        });
        let cookie = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .find_map(|c| c.trim().strip_prefix("lang="));
        let accept = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
        Self {
            lang: Lang::negotiate(query_lang.map(Lang::code), cookie, accept),
            from_query: query_lang.is_some(),
            here: here(uri),
            viewer: None,
        }
    }
}

/// The longest path the language links repeat; a longer one links to the home page.
const MAX_HERE_PATH: usize = 2048;

/// `uri`'s path and query without its `lang` parameters, re-encoded so that it can only
/// be a link within this site: characters outside the URL's safe set percent-encoded,
/// leading slashes collapsed (no `//host`), at most 64 query pairs, and no query at all
/// if it is over [`MAX_QUERY_STRING`] bytes.
fn here(uri: &Uri) -> String {
    let path = uri.path();
    let mut out = String::with_capacity(path.len() + uri.query().map_or(0, str::len) + 1);
    if path.len() > MAX_HERE_PATH || !path.starts_with('/') {
        out.push('/');
    } else {
        out.push('/');
        for b in path.trim_start_matches('/').bytes() {
            if b.is_ascii_alphanumeric() || b"-._~/%!$&'()*+,;=:@".contains(&b) {
                out.push(b as char);
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    let pairs: Vec<String> = uri
        .query()
        .filter(|q| q.len() <= MAX_QUERY_STRING)
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .take(64)
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .map(|(k, v)| (percent_decode(k), percent_decode(v)))
        .filter(|(k, _)| k != "lang")
        .map(|(k, v)| format!("{}={}", percent_encode(&k), percent_encode(&v)))
        .collect();
    if !pairs.is_empty() {
        out.push('?');
        out.push_str(&pairs.join("&"));
    }
    out
}

/// A path extractor whose rejection (a segment that is not valid UTF-8 once decoded, say
/// `/packages/%FF/x`) is the HTML not-found page rather than axum's plain-text 400.
#[derive(Debug)]
pub struct PagePath<T>(pub T);

impl<S, T> FromRequestParts<S> for PagePath<T>
where
    S: Send + Sync,
    T: serde::de::DeserializeOwned + Send,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(t)) => Ok(Self(t)),
            Err(rejection) => {
                tracing::debug!(error = %rejection, "page path rejected");
                let lang = Language::of(&parts.uri, &parts.headers);
                Err(respond::<Value>(
                    &lang,
                    &parts.headers,
                    "",
                    Err(PageError::not_found("page", "")),
                ))
            }
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Language {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let mut lang = Self::of(&parts.uri, &parts.headers);
        lang.viewer = parts
            .extensions
            .get::<session::Resolved>()
            .and_then(|r| r.0.as_ref().map(session::WebSession::viewer));
        Ok(lang)
    }
}

/// Why a page cannot be shown. `kind` selects the message in `error.html`; `args` fill it.
#[derive(Debug)]
pub struct PageError {
    status: StatusCode,
    kind: &'static str,
    args: Value,
}

impl PageError {
    /// Nothing of `kind` (`package`, `spec`, `publisher`, `listing`, `page`) called `name`.
    pub fn not_found(kind: &'static str, name: impl Into<String>) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            kind,
            args: json!({ "name": name.into().chars().take(100).collect::<String>() }),
        }
    }

    /// A request the page cannot answer; `args` fill the message of `kind`.
    pub fn bad_request(kind: &'static str, args: Value) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            kind,
            args,
        }
    }

    /// A server-side failure: logged in full here, shown as a bare message.
    pub fn internal(err: impl std::fmt::Display) -> Self {
        tracing::error!(error = %err, "internal error rendering a page");
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            kind: "internal",
            args: json!({}),
        }
    }

    /// Where the error page's "back" link goes.
    pub fn back(mut self, href: impl Into<String>) -> Self {
        self.args["back"] = Value::String(href.into());
        self
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl From<sea_orm::DbErr> for PageError {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::internal(format_args!("database: {e}"))
    }
}

impl From<std::io::Error> for PageError {
    fn from(e: std::io::Error) -> Self {
        Self::internal(format_args!("storage: {e}"))
    }
}

impl From<crate::search::SearchError> for PageError {
    fn from(e: crate::search::SearchError) -> Self {
        Self::internal(e)
    }
}

/// How a response may be cached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caching {
    /// `public, max-age=60`: pages that depend only on the URL and the language.
    Public,
    /// `no-store`: results of a POST.
    NoStore,
}

/// Render `template` with `ctx` (or the error page) and answer with the page headers.
pub fn respond<T: Serialize>(lang: &Language, req: &HeaderMap, template: &str, ctx: Result<T, PageError>) -> Response {
    respond_with(lang, req, template, ctx, Caching::Public)
}

/// A page's context with what the layout needs for sign-in: `viewer` (the signed-in
/// user) or `signin_href` (the sign-in link, coming back to this page).
#[derive(Serialize)]
struct LayoutContext<'a, T> {
    #[serde(flatten)]
    page: T,
    viewer: Option<&'a session::Viewer>,
    signin_href: Option<String>,
}

impl<'a, T> LayoutContext<'a, T> {
    fn of(lang: &'a Language, page: T) -> Self {
        let signin_href = match (&lang.viewer, session::local_next(&lang.here)) {
            (Some(_), _) => None,
            (None, Some(next)) if next != "/" => Some(format!("/signin?next={}", percent_encode(next))),
            (None, _) => Some("/signin".to_owned()),
        };
        Self {
            page,
            viewer: lang.viewer.as_ref(),
            signin_href,
        }
    }
}

/// [`respond`] with a choice of caching. A page for a signed-in user is never stored.
pub fn respond_with<T: Serialize>(
    lang: &Language,
    req: &HeaderMap,
    template: &str,
    ctx: Result<T, PageError>,
    caching: Caching,
) -> Response {
    let caching = if lang.viewer.is_some() {
        Caching::NoStore
    } else {
        caching
    };
    let rendered = match ctx {
        Ok(ctx) => renderer()
            .and_then(|r| {
                r.render_at(template, lang.lang, &lang.here, LayoutContext::of(lang, ctx))
                    .map_err(PageError::internal)
            })
            .map(|html| (StatusCode::OK, html)),
        Err(e) => Err(e),
    };
    let (status, body) = match rendered {
        Ok(ok) => ok,
        Err(e) => match render_error(lang, &e) {
            Ok(html) => (e.status, html),
            Err(e) => {
                tracing::error!(error = %e, "cannot render the error page");
                return (StatusCode::INTERNAL_SERVER_ERROR, "internal server error").into_response();
            }
        },
    };
    page_response(lang, req, status, body, caching)
}

fn render_error(lang: &Language, e: &PageError) -> Result<String, String> {
    let mut ctx = e.args.clone();
    ctx["status"] = json!(e.status.as_u16());
    ctx["kind"] = json!(e.kind);
    renderer()
        .map_err(|_| "renderer unavailable".to_owned())?
        .render_at("error.html", lang.lang, &lang.here, LayoutContext::of(lang, ctx))
        .map_err(|e| e.to_string())
}

/// The strong ETag of a body: the first 16 bytes of its sha256, in hex, quoted.
pub fn etag_of(body: &[u8]) -> String {
    format!("\"{}\"", hex::encode(&Sha256::digest(body)[..16]))
}

/// Whether `If-None-Match` in `req` names `etag` (or is `*`). Weak validators compare
/// weakly, as RFC 9110 says for `If-None-Match`.
pub fn not_modified(req: &HeaderMap, etag: &str) -> bool {
    req.get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
}

fn page_response(lang: &Language, req: &HeaderMap, status: StatusCode, body: String, caching: Caching) -> Response {
    let etag = etag_of(body.as_bytes());
    let fresh = status == StatusCode::OK && caching == Caching::Public && not_modified(req, &etag);
    let mut res = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (status, body).into_response()
    };
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    let cache = match (caching, lang.from_query) {
        // A server error may be gone on the next try; keep no copy of it.
        (Caching::NoStore, _) => "no-store",
        _ if status.is_server_error() => "no-store",
        // A missing page may be published any moment: check before reusing a copy.
        (Caching::Public, true) if status.is_client_error() => "private, no-cache",
        (Caching::Public, false) if status.is_client_error() => "no-cache",
        // A response that sets the cookie must not be shared.
        (Caching::Public, true) => "private, max-age=60",
        (Caching::Public, false) => "public, max-age=60",
    };
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(header::VARY, HeaderValue::from_static("Accept-Language, Cookie"));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    if lang.from_query {
        let cookie = format!("lang={}; Path=/; Max-Age=31536000; SameSite=Lax", lang.lang.code());
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            h.insert(header::SET_COOKIE, v);
        }
    }
    res
}

/// The query string's pairs, percent-decoded (`+` as space), at most 64 of them; `None`
/// if the query string is longer than [`MAX_QUERY_STRING`].
pub fn query_pairs(uri: &Uri) -> Result<Vec<(String, String)>, PageError> {
    let q = uri.query().unwrap_or("");
    if q.len() > MAX_QUERY_STRING {
        return Err(PageError::bad_request(
            "address_too_long",
            json!({ "max": MAX_QUERY_STRING }),
        ));
    }
    Ok(q.split('&')
        .filter(|p| !p.is_empty())
        .take(64)
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect())
}

/// Decode `%XX` escapes and `+` (form encoding); invalid escapes stay as they are and
/// invalid UTF-8 becomes U+FFFD.
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = b.get(i + 1..i + 3).filter(|h| h.iter().all(u8::is_ascii_hexdigit));
                match hex
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(byte) => {
                        out.push(byte);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encode a query value (everything but unreserved characters and `/`).
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Milliseconds since the epoch as the day, `YYYY-MM-DD`.
pub fn date(ms: i64) -> String {
    let mut s = govstore_core::time::rfc3339_ms(ms);
    s.truncate(10);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_coding_round_trips() {
        for s in ["mosip/esignet", "Apache-2.0 OR MIT", "é ü %+&=", "100%"] {
            assert_eq!(percent_decode(&percent_encode(s)), s);
        }
        assert_eq!(percent_decode("a+b%2Fc%zz%4"), "a b/c%zz%4");
    }

    fn here_of(uri: &str) -> String {
        here(&uri.parse::<Uri>().expect("a valid test URI"))
    }

    #[test]
    fn language_links_keep_the_page_and_its_query() {
        assert_eq!(here_of("/"), "/");
        assert_eq!(here_of("/?lang=fr"), "/");
        assert_eq!(
            here_of("/search?q=mosip&lang=fr&kind=package"),
            "/search?q=mosip&kind=package"
        );
        assert_eq!(here_of("/search?q=a+b%26c"), "/search?q=a%20b%26c");
        assert_eq!(
            here_of("/packages/mosip/esignet?version=1.7.1"),
            "/packages/mosip/esignet?version=1.7.1"
        );
        // Never a link to another host, never a quote.
        assert_eq!(here_of("//evil.example/x?a=1"), "/evil.example/x?a=1");
        assert_eq!(here_of("/%5C%5Cevil.example"), "/%5C%5Cevil.example");
        assert!(!here_of("/a\"b?c=%22").contains('"'));
        let long = format!("/search?q={}", "x".repeat(MAX_QUERY_STRING + 1));
        assert_eq!(here_of(&long), "/search");
    }

    #[test]
    fn if_none_match_lists_and_weak_tags() {
        let mut h = HeaderMap::new();
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_static("\"x\", W/\"abc\""));
        assert!(not_modified(&h, "\"abc\""));
        assert!(!not_modified(&h, "\"abd\""));
        assert!(!not_modified(&HeaderMap::new(), "\"abc\""));
    }
}
