//! Web sessions: who is signed in to the catalogue, and the CSRF check of their forms.
//!
//! A browser that signed in (`signin.rs`) holds a random 256-bit session id in the cookie
//! [`SESSION_COOKIE`] (`__Host-`, `HttpOnly; Secure; SameSite=Lax; Path=/`); the
//! database holds only its SHA-256 (`db::web_sessions`). A session ends [`LIFETIME`]
//! after sign-in (or when the token it was made with expires, if sooner), after
//! [`IDLE`] without a request, at sign-out, when its token is revoked, or when the
//! user's password is set again.
//!
//! [`layer`] runs before every page: it resolves the cookie once (anonymous requests,
//! without the cookie, touch no database) and, for a POST by a signed-in browser, checks
//! the form's `csrf` field against the session's secret, answering 403 with an HTML page
//! before the handler runs, so a refused POST changes nothing. Handlers take
//! `Option<WebSession>` (anonymous or signed in) or `WebSession` (signed in, else a
//! redirect to `/signin?next=...`); [`WebSession::principal`] is the caller for the
//! service layer. Templates see the signed-in user as `viewer` (its name and CSRF
//! secret, for `csrf_field()`); such pages are never cached.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, OptionalFromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use govstore_core::manifest::CountryCode;
use govstore_core::scope::{CountryAction, Scope};
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use super::{Caching, Language, PageError, percent_encode, respond_with};
use crate::auth::token::constant_time_eq;
use crate::db;
use crate::service::Principal;
use crate::state::AppState;

/// The session cookie's name. `__Host-` makes browsers insist on `Secure`, `Path=/` and
/// no `Domain`, so no other host (a sibling subdomain) can set or overwrite it.
pub const SESSION_COOKIE: &str = "__Host-govstore_session";
/// The longest a session lasts after sign-in.
pub const LIFETIME: Duration = Duration::from_secs(12 * 3600);
/// The longest a session lasts without a request.
pub const IDLE: Duration = Duration::from_secs(2 * 3600);
/// The most sessions one user keeps; signing in again ends the oldest.
pub const MAX_SESSIONS_PER_USER: u64 = 20;
/// How often a session's last use is written (at most once a minute per session).
const TOUCH_EVERY_MS: i64 = 60_000;
/// The most bytes of a POST body read to find its `csrf` field: the largest page form
/// (the stack check's).
pub const MAX_FORM_BODY: usize = super::stack_check::MAX_BODY;
/// The most form fields looked through for `csrf`.
const MAX_FIELDS: usize = 16;

/// How a session was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignInMethod {
    Password,
    /// With the API token of this visible prefix.
    Token {
        prefix: String,
    },
}

/// A signed-in browser's session, as handlers see it.
#[derive(Debug, Clone)]
pub struct WebSession {
    pub user_id: i64,
    pub user: String,
    pub admin: bool,
    pub method: SignInMethod,
    /// A password session's: the country scopes of the user's country organisations
    /// ([`session_scopes`]); a token session's: the token's scopes.
    pub scopes: Vec<Scope>,
    /// The secret every form of this session carries in its `csrf` field.
    pub csrf: String,
    /// When the session ends at the latest (ms since the epoch).
    pub expires_at: i64,
}

impl WebSession {
    /// The caller, for the service layer.
    pub fn principal(&self) -> Principal {
        Principal {
            user_id: self.user_id,
            user: self.user.clone(),
            admin: self.admin,
            scopes: self.scopes.clone(),
            token_prefix: match &self.method {
                SignInMethod::Password => "web-session".to_owned(),
                SignInMethod::Token { prefix } => prefix.clone(),
            },
            expires_at: Some(self.expires_at),
        }
    }

    /// What the layout shows of the session.
    pub fn viewer(&self) -> Viewer {
        Viewer {
            name: self.user.clone(),
            csrf: self.csrf.clone(),
        }
    }
}

/// The signed-in user as templates see it: `viewer.name`, and `viewer.csrf` (written by
/// `csrf_field()`).
#[derive(Debug, Clone, Serialize)]
pub struct Viewer {
    pub name: String,
    pub csrf: String,
}

/// The session [`layer`] resolved, kept in the request's extensions.
#[derive(Debug, Clone)]
pub struct Resolved(pub Option<WebSession>);

/// The scopes of a password session: `review:CC`, `approve:CC` and `country-admin:CC`
/// for each country organisation `user_id` belongs to (the policy still checks the
/// role, as for tokens).
pub async fn session_scopes(db: &impl sea_orm::ConnectionTrait, user_id: i64) -> Result<Vec<Scope>, sea_orm::DbErr> {
    let countries = db::countries::of_user(db, user_id).await?;
    Ok(countries
        .into_iter()
        .filter_map(|(country, _role)| country.code.parse::<CountryCode>().ok())
        .flat_map(|country| CountryAction::ALL.map(|action| Scope::Country { action, country }))
        .collect())
}

/// 32 random bytes in hex: session ids and CSRF secrets.
pub fn random_secret() -> Result<String, PageError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| PageError::internal(format_args!("no randomness: {e}")))?;
    Ok(hex::encode(bytes))
}

/// The SHA-256 (hex) of a session id: what the database stores.
pub fn id_hash(id: &str) -> String {
    hex::encode(Sha256::digest(id.as_bytes()))
}

/// The value of cookie `name` in `headers`, if it is a well-formed secret (64 hex digits).
pub fn secret_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_owned)
}

/// A `Set-Cookie` value for a `__Host-` cookie: `value` for `max_age`, or removed.
pub fn cookie_header(name: &str, value: Option<&str>, max_age: Duration) -> HeaderValue {
    let text = match value {
        Some(v) => format!(
            "{name}={v}; HttpOnly; Secure; SameSite=Lax; Path=/; Max-Age={}",
            max_age.as_secs()
        ),
        None => format!("{name}=; HttpOnly; Secure; SameSite=Lax; Path=/; Max-Age=0"),
    };
    // Names are constants and values hex: always a valid header value.
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The client's address (the TCP peer's), if the server was started with connection
/// info, as `main` starts it.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddress(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(
            parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip()),
        ))
    }
}

/// The session of the cookie in `headers`, if it is a live one; its last use is written
/// at most once a minute.
pub async fn load(st: &AppState, headers: &HeaderMap) -> Result<Option<WebSession>, PageError> {
    let Some(id) = secret_cookie(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let Some((row, user, token)) = db::web_sessions::find(&st.db.read, &id_hash(&id)).await? else {
        return Ok(None);
    };
    let now = crate::now_ms();
    if row.expires_at <= now || row.last_seen_at + IDLE.as_millis() as i64 <= now {
        return Ok(None);
    }
    let (method, scopes) = match (row.method.as_str(), token) {
        ("password", None) => (SignInMethod::Password, session_scopes(&st.db.read, user.id).await?),
        ("token", Some(t)) => {
            if t.revoked_at.is_some() || t.expires_at.is_some_and(|e| e <= now) {
                return Ok(None);
            }
            let scopes = serde_json::from_str::<Vec<String>>(&t.scopes)
                .map_err(|e| PageError::internal(format_args!("token scopes: {e}")))?
                .iter()
                .filter_map(|s| s.parse().ok())
                .collect();
            (SignInMethod::Token { prefix: t.prefix }, scopes)
        }
        (other, _) => {
            tracing::warn!(method = other, "a web session of an unknown kind is ignored");
            return Ok(None);
        }
    };
    if now - row.last_seen_at > TOUCH_EVERY_MS {
        db::web_sessions::touch(&st.db.write, row.id, now).await?;
    }
    Ok(Some(WebSession {
        user_id: user.id,
        user: user.name,
        admin: user.admin,
        method,
        scopes,
        csrf: row.csrf,
        expires_at: row.expires_at,
    }))
}

/// The middleware of every page (see the module documentation).
pub async fn layer(State(st): State<AppState>, req: Request, next: Next) -> Response {
    // The stylesheet is the same for everyone.
    if req.uri().path().starts_with("/static/") {
        return next.run(req).await;
    }
    let (mut parts, body) = req.into_parts();
    let mut lang = Language::of(&parts.uri, &parts.headers);
    let session = match load(&st, &parts.headers).await {
        Ok(s) => s,
        Err(e) => return respond_with::<Value>(&lang, &parts.headers, "", Err(e), Caching::NoStore),
    };
    lang.viewer = session.as_ref().map(WebSession::viewer);
    let body = if parts.method == Method::POST
        && let Some(s) = &session
    {
        let bytes = match axum::body::to_bytes(body, MAX_FORM_BODY).await {
            Ok(b) => b,
            Err(_) => {
                let e = PageError {
                    status: StatusCode::PAYLOAD_TOO_LARGE,
                    kind: "form_too_large",
                    args: json!({ "max": MAX_FORM_BODY / 1024 }),
                };
                return respond_with::<Value>(&lang, &parts.headers, "", Err(e), Caching::NoStore);
            }
        };
        let sent = csrf_field_of(&parts.headers, bytes.clone()).await;
        if !sent.is_some_and(|t| constant_time_eq(&t, &s.csrf)) {
            tracing::info!(path = %parts.uri.path(), "a signed-in POST without the right CSRF token was refused");
            return csrf_refused(&lang, &parts.headers);
        }
        Body::from(bytes)
    } else {
        body
    };
    parts.extensions.insert(Resolved(session));
    next.run(Request::from_parts(parts, body)).await
}

/// The 403 page of a POST whose form lacks the session's CSRF token.
pub fn csrf_refused(lang: &Language, headers: &HeaderMap) -> Response {
    let e = PageError {
        status: StatusCode::FORBIDDEN,
        kind: "csrf",
        args: json!({}),
    };
    respond_with::<Value>(lang, headers, "", Err(e), Caching::NoStore)
}

/// The `csrf` field of a form body: `application/x-www-form-urlencoded` or
/// `multipart/form-data`; `None` for anything else.
async fn csrf_field_of(headers: &HeaderMap, body: Bytes) -> Option<String> {
    let content_type = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let mime = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    match mime.as_str() {
        "application/x-www-form-urlencoded" => form_field(&body, "csrf"),
        "multipart/form-data" => {
            let req = Request::builder()
                .header(header::CONTENT_TYPE, content_type)
                .body(Body::from(body))
                .ok()?;
            let mut multipart = axum::extract::Multipart::from_request(req, &()).await.ok()?;
            for _ in 0..MAX_FIELDS {
                let field = multipart.next_field().await.ok()??;
                if field.name() == Some("csrf") {
                    let text = field.text().await.ok()?;
                    return (text.len() <= 128).then_some(text);
                }
            }
            None
        }
        _ => None,
    }
}

/// The first value of `name` in a urlencoded form body (at most 64 fields read).
pub fn form_field(body: &[u8], name: &str) -> Option<String> {
    std::str::from_utf8(body)
        .ok()?
        .split('&')
        .take(64)
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| super::percent_decode(k) == name)
        .map(|(_, v)| super::percent_decode(v))
}

/// Whether `next` is a path on this site that a sign-in may go back to: it starts with
/// one `/` (never `//` or `/\`, which browsers read as another host), holds only URL
/// characters (no spaces, quotes, backslashes or controls), is at most 2,048 bytes, and
/// is not the sign-in or sign-out page.
pub fn local_next(next: &str) -> Option<&str> {
    let ok = next.len() <= 2048
        && next.starts_with('/')
        && !next.starts_with("//")
        && next
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~/%!$&'()*+,;=:@?".contains(&b))
        && !["/signin", "/signout"]
            .iter()
            .any(|p| next == *p || next.starts_with(&format!("{p}?")));
    ok.then_some(next)
}

fn resolved(parts: &Parts) -> Option<Option<WebSession>> {
    parts.extensions.get::<Resolved>().map(|r| r.0.clone())
}

impl OptionalFromRequestParts<AppState> for WebSession {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Option<Self>, Self::Rejection> {
        if let Some(s) = resolved(parts) {
            return Ok(s);
        }
        load(st, &parts.headers).await.map_err(|e| {
            let lang = Language::of(&parts.uri, &parts.headers);
            respond_with::<Value>(&lang, &parts.headers, "", Err(e), Caching::NoStore)
        })
    }
}

impl FromRequestParts<AppState> for WebSession {
    type Rejection = Response;

    /// The session, or a redirect to the sign-in page that comes back here.
    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        match <Self as OptionalFromRequestParts<AppState>>::from_request_parts(parts, st).await? {
            Some(s) => Ok(s),
            None => {
                let here = parts.uri.path_and_query().map_or("/", |p| p.as_str());
                let target = match local_next(here) {
                    Some(next) if next != "/" => format!("/signin?next={}", percent_encode(next)),
                    _ => "/signin".to_owned(),
                };
                let mut res = Redirect::to(&target).into_response();
                res.headers_mut()
                    .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                Err(res)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_is_a_local_path_only() {
        for ok in ["/", "/search?q=id&kind=package", "/packages/mosip/esignet", "/a%20b"] {
            assert_eq!(local_next(ok), Some(ok), "{ok}");
        }
        for bad in [
            "",
            "https://evil.example/",
            "//evil.example/x",
            "/\\evil.example",
            "\\\\evil.example",
            "javascript:alert(1)",
            "/a b",
            "/a\"b",
            "/\n",
            "/signin",
            "/signin?next=/",
            "/signout",
        ] {
            assert_eq!(local_next(bad), None, "{bad:?}");
        }
        assert_eq!(local_next(&format!("/{}", "a".repeat(2048))), None);
    }

    #[test]
    fn cookies_are_read_only_when_well_formed() {
        let mut h = HeaderMap::new();
        let id = "ab".repeat(32);
        h.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("lang=fr; {SESSION_COOKIE}={id}"))
                .unwrap_or_else(|_| HeaderValue::from_static("")),
        );
        assert_eq!(secret_cookie(&h, SESSION_COOKIE), Some(id));
        h.insert(header::COOKIE, HeaderValue::from_static("__Host-govstore_session=abc"));
        assert_eq!(secret_cookie(&h, SESSION_COOKIE), None);
        h.insert(header::COOKIE, HeaderValue::from_static("x__Host-govstore_session=ab"));
        assert_eq!(secret_cookie(&h, SESSION_COOKIE), None);
    }

    #[test]
    fn form_fields_are_decoded() {
        assert_eq!(form_field(b"a=1&csrf=x%2By&b=2", "csrf").as_deref(), Some("x+y"));
        assert_eq!(form_field(b"a=1", "csrf"), None);
    }
}
