//! Signing in to the web catalogue and out again (the session itself: `session.rs`).
//!
//! - `GET /signin?next=PATH`: the form: user name and password, or an API token pasted
//!   instead. `next` (a local path only, see [`session::local_next`]) is where a
//!   successful sign-in goes; anything else goes home.
//! - `POST /signin` (urlencoded `user`, `password`, `token`, `next`, `csrf`): on success a
//!   new session (a new id every time, and the browser's previous session, if any, ends)
//!   and `303 See Other` to `next`. A wrong password and an unknown user get the same
//!   answer (401, one message) after the same work; a bad token gets 401 too. Past the
//!   failure limits (`throttle.rs`) the answer is 429 with `Retry-After`, and no
//!   password is checked. A session made with a token carries the token's scopes and
//!   ends when the token does, if sooner.
//! - `POST /signout`: ends the session and goes home.
//!
//! Before any session exists the form is protected against cross-site posts (login
//! CSRF) by a double-submit secret: `GET /signin` sets the cookie [`SIGNIN_COOKIE`]
//! (`__Host-`, `SameSite=Lax`) and writes the same value in the form; `POST /signin`
//! without both, equal, answers 403. A signed-in browser's forms carry the session's
//! secret instead, checked by [`session::layer`].
//!
//! The session cookie is `Secure`: browsers keep it only from `https://` pages or from
//! the loopback host (`localhost`, `127.0.0.1`, `[::1]`). On plain `http://` elsewhere
//! a sign-in could never stick, so the form says so and the POST is refused with 400:
//! serve the registry behind HTTPS (set `public_url` to its `https://` URL, or have the
//! proxy send `X-Forwarded-Proto: https`).

use std::net::IpAddr;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use sea_orm::TransactionTrait;
use serde::Serialize;

use super::session::{self, ClientAddress, SESSION_COOKIE, WebSession, cookie_header, id_hash, secret_cookie};
use super::{Caching, Language, PageError, query_pairs, respond_with};
use crate::auth::token;
use crate::db;
use crate::service::accounts;
use crate::state::AppState;

/// The cookie holding the sign-in form's secret until a session exists.
pub const SIGNIN_COOKIE: &str = "__Host-govstore_signin";
/// How long the sign-in form's secret lasts.
const SIGNIN_COOKIE_AGE: Duration = Duration::from_secs(3600);
/// The largest sign-in or sign-out form read.
const MAX_BODY: usize = 8 * 1024;
/// The longest user name looked up (names are at most 64 characters).
const MAX_USER_CHARS: usize = 64;
/// The longest token read (tokens are 53 characters).
const MAX_TOKEN_BYTES: usize = 128;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/signin", get(form).post(sign_in))
        .route("/signout", post(sign_out))
        .layer(DefaultBodyLimit::max(MAX_BODY))
}

/// What the template shows.
#[derive(Debug, Serialize)]
struct Page<'a> {
    /// Where a successful sign-in goes.
    next: &'a str,
    /// The form's secret before a session exists (the cookie's value).
    signin_csrf: Option<String>,
    /// The user name sent, shown again after a failure.
    user: &'a str,
    /// Why the last try failed: `wrong`, `bad_token`, `missing`, `throttled`, `insecure`.
    error: Option<&'static str>,
    /// For `throttled`: whole minutes to wait.
    retry_minutes: u64,
    /// Whether a session cookie can stick here (see the module documentation).
    secure: bool,
}

/// Whether browsers will keep a `Secure` cookie from this request's page: the public
/// URL is `https://`, or (without one) the proxy says `https`, or the host is loopback.
fn secure_origin(st: &AppState, headers: &HeaderMap) -> bool {
    if let Some(url) = &st.config.public_url {
        let u = url.as_str();
        return u.starts_with("https://") || u.strip_prefix("http://").is_some_and(loopback);
    }
    let proto_https = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').next().unwrap_or("").trim().eq_ignore_ascii_case("https"));
    proto_https
        || headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .is_some_and(loopback)
}

/// Whether an authority (`host`, `host:port`, `[v6]:port`, perhaps followed by a path)
/// names the loopback host.
fn loopback(authority: &str) -> bool {
    let authority = authority.split('/').next().unwrap_or("");
    let host = match authority.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(""),
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    let host = host.to_ascii_lowercase();
    host == "localhost" || host.ends_with(".localhost") || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The `next` of a query or form, if it is a local path; else the home page.
fn next_of(value: Option<&str>) -> String {
    value.and_then(session::local_next).unwrap_or("/").to_owned()
}

async fn form(
    State(st): State<AppState>,
    lang: Language,
    session: Option<WebSession>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let pairs = match query_pairs(&uri) {
        Ok(p) => p,
        Err(e) => return respond_with::<()>(&lang, &headers, "", Err(e), Caching::NoStore),
    };
    let next = next_of(pairs.iter().find(|(k, _)| k == "next").map(|(_, v)| v.as_str()));
    let page = Page {
        next: &next,
        signin_csrf: None,
        user: "",
        error: None,
        retry_minutes: 0,
        secure: secure_origin(&st, &headers),
    };
    show(&lang, &headers, session.as_ref(), page, StatusCode::OK)
}

/// The form with `page`, answered with `status`; before a session exists, with the
/// form's secret (the cookie's, or a new one).
fn show(
    lang: &Language,
    headers: &HeaderMap,
    session: Option<&WebSession>,
    mut page: Page<'_>,
    status: StatusCode,
) -> Response {
    let secret = match session {
        Some(_) => None,
        None => match secret_cookie(headers, SIGNIN_COOKIE).map_or_else(session::random_secret, Ok) {
            Ok(s) => Some(s),
            Err(e) => return respond_with::<()>(lang, headers, "", Err(e), Caching::NoStore),
        },
    };
    page.signin_csrf.clone_from(&secret);
    let mut res = respond_with(lang, headers, "signin.html", Ok(page), Caching::NoStore);
    if res.status() == StatusCode::OK {
        *res.status_mut() = status;
    }
    if let Some(secret) = &secret {
        res.headers_mut().append(
            header::SET_COOKIE,
            cookie_header(SIGNIN_COOKIE, Some(secret), SIGNIN_COOKIE_AGE),
        );
    }
    res
}

/// What the sign-in form sent.
#[derive(Debug, Default)]
struct Form {
    user: String,
    password: String,
    token: String,
    next: String,
    csrf: String,
}

impl Form {
    fn parse(body: &[u8]) -> Self {
        let field = |name: &str| session::form_field(body, name).unwrap_or_default();
        Self {
            user: field("user").trim().chars().take(MAX_USER_CHARS + 1).collect(),
            password: field("password"),
            token: field("token").trim().to_owned(),
            next: next_of(session::form_field(body, "next").as_deref()),
            csrf: field("csrf"),
        }
    }
}

/// Who signed in, and how.
struct Verified {
    user_id: i64,
    user: String,
    /// `password` or `token`.
    method: &'static str,
    token_id: Option<i64>,
    token_expires_at: Option<i64>,
}

async fn sign_in(
    State(st): State<AppState>,
    lang: Language,
    session: Option<WebSession>,
    headers: HeaderMap,
    ClientAddress(address): ClientAddress,
    body: Bytes,
) -> Response {
    let form = Form::parse(&body);
    // A signed-in browser's form was checked by `session::layer`; before that, the
    // form's secret must match its cookie.
    if session.is_none() {
        let cookie = secret_cookie(&headers, SIGNIN_COOKIE);
        if !cookie.is_some_and(|c| token::constant_time_eq(&c, &form.csrf)) {
            tracing::info!("a sign-in form without its CSRF secret was refused");
            return session::csrf_refused(&lang, &headers);
        }
    }
    let mut page = Page {
        next: &form.next,
        signin_csrf: None,
        user: &form.user,
        error: None,
        retry_minutes: 0,
        secure: secure_origin(&st, &headers),
    };
    if !page.secure {
        page.error = Some("insecure");
        return show(&lang, &headers, session.as_ref(), page, StatusCode::BAD_REQUEST);
    }
    let by_token = !form.token.is_empty();
    if !by_token && (form.user.is_empty() || form.password.is_empty()) {
        page.error = Some("missing");
        return show(&lang, &headers, session.as_ref(), page, StatusCode::BAD_REQUEST);
    }
    let account = (!by_token).then_some(form.user.as_str());
    if let Some(wait) = st.signins.refused(account, address) {
        tracing::info!(address = ?address, "a sign-in was refused: too many failures");
        page.error = Some("throttled");
        page.retry_minutes = wait.as_secs().div_ceil(60).max(1);
        let mut res = show(&lang, &headers, session.as_ref(), page, StatusCode::TOO_MANY_REQUESTS);
        if let Ok(v) = HeaderValue::from_str(&wait.as_secs().max(1).to_string()) {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return res;
    }
    let verified = if by_token {
        verify_token(&st, &form.token).await
    } else {
        verify_password(&st, &form.user, &form.password).await
    };
    let verified = match verified {
        Ok(Some(v)) => v,
        Ok(None) => {
            st.signins.failed(account, address);
            tracing::info!(address = ?address, by_token, "a sign-in failed");
            page.error = Some(if by_token { "bad_token" } else { "wrong" });
            return show(&lang, &headers, session.as_ref(), page, StatusCode::UNAUTHORIZED);
        }
        Err(e) => return respond_with::<()>(&lang, &headers, "", Err(e), Caching::NoStore),
    };
    if let Some(a) = account {
        st.signins.succeeded(a);
    }
    match start(&st, &headers, &verified).await {
        Ok((id, max_age)) => {
            tracing::info!(user = %verified.user, method = verified.method, "web sign-in");
            let mut res = Redirect::to(&form.next).into_response();
            let h = res.headers_mut();
            h.append(header::SET_COOKIE, cookie_header(SESSION_COOKIE, Some(&id), max_age));
            h.append(header::SET_COOKIE, cookie_header(SIGNIN_COOKIE, None, Duration::ZERO));
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            res
        }
        Err(e) => respond_with::<()>(&lang, &headers, "", Err(e), Caching::NoStore),
    }
}

async fn verify_password(st: &AppState, user: &str, password: &str) -> Result<Option<Verified>, PageError> {
    let found = accounts::check_password(&st.db, user, password)
        .await
        .map_err(PageError::internal)?;
    Ok(found.map(|u| Verified {
        user_id: u.id,
        user: u.name,
        method: "password",
        token_id: None,
        token_expires_at: None,
    }))
}

/// The token's user if `presented` is a valid, unrevoked, unexpired token.
async fn verify_token(st: &AppState, presented: &str) -> Result<Option<Verified>, PageError> {
    if presented.len() > MAX_TOKEN_BYTES {
        return Ok(None);
    }
    let Some(prefix) = token::prefix_of(presented) else {
        return Ok(None);
    };
    let Some((tok, user)) = db::accounts::token_with_user(&st.db.read, prefix).await? else {
        return Ok(None);
    };
    let now = crate::now_ms();
    let valid = token::constant_time_eq(&token::hash(presented), &tok.hash)
        && tok.revoked_at.is_none()
        && tok.expires_at.is_none_or(|e| e > now);
    Ok(valid.then_some(Verified {
        user_id: user.id,
        user: user.name,
        method: "token",
        token_id: Some(tok.id),
        token_expires_at: tok.expires_at,
    }))
}

/// Store a new session for `v`, ending the browser's previous one and stale ones; its
/// id and how long the cookie lasts.
async fn start(st: &AppState, headers: &HeaderMap, v: &Verified) -> Result<(String, Duration), PageError> {
    let id = session::random_secret()?;
    let csrf = session::random_secret()?;
    let now = crate::now_ms();
    let lifetime = session::LIFETIME.as_millis() as i64;
    let expires_at = v.token_expires_at.map_or(now + lifetime, |e| e.min(now + lifetime));
    let txn = st.db.write.begin().await?;
    if let Some(old) = secret_cookie(headers, SESSION_COOKIE) {
        db::web_sessions::delete(&txn, &id_hash(&old)).await?;
    }
    db::web_sessions::delete_stale(&txn, now, now - session::IDLE.as_millis() as i64).await?;
    db::web_sessions::insert(
        &txn,
        db::web_sessions::NewSession {
            id_hash: &id_hash(&id),
            user_id: v.user_id,
            method: v.method,
            token_id: v.token_id,
            csrf: &csrf,
            now,
            expires_at,
        },
    )
    .await?;
    db::web_sessions::trim_user(&txn, v.user_id, session::MAX_SESSIONS_PER_USER).await?;
    db::audit::record(
        &txn,
        db::audit::Event {
            actor: &v.user,
            action: "web.signin",
            target: &v.user,
            digest: None,
            detail: Some(match v.token_id {
                Some(id) => format!("with API token {id}"),
                None => "with a password".to_owned(),
            }),
        },
    )
    .await?;
    txn.commit().await?;
    let max_age = Duration::from_millis(u64::try_from(expires_at - now).unwrap_or(0));
    Ok((id, max_age))
}

/// Deletes the session `id` of `user`, audited.
async fn end(st: &AppState, user: &str, id: &str) -> Result<(), PageError> {
    let txn = st.db.write.begin().await?;
    db::web_sessions::delete(&txn, &id_hash(id)).await?;
    db::audit::record(
        &txn,
        db::audit::Event {
            actor: user,
            action: "web.signout",
            target: user,
            digest: None,
            detail: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// End the session (its form's CSRF token was checked by `session::layer`) and go home.
async fn sign_out(
    State(st): State<AppState>,
    lang: Language,
    session: Option<WebSession>,
    headers: HeaderMap,
) -> Response {
    if let Some(s) = &session
        && let Some(id) = secret_cookie(&headers, SESSION_COOKIE)
    {
        if let Err(e) = end(&st, &s.user, &id).await {
            return respond_with::<()>(&lang, &headers, "", Err(e), Caching::NoStore);
        }
        tracing::info!(user = %s.user, "web sign-out");
    }
    let mut res = Redirect::to("/").into_response();
    let h = res.headers_mut();
    h.append(header::SET_COOKIE, cookie_header(SESSION_COOKIE, None, Duration::ZERO));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for yes in [
            "localhost",
            "localhost:5000",
            "127.0.0.1:5000",
            "127.1.2.3",
            "[::1]:5000",
            "app.localhost",
            "127.0.0.1/registry",
        ] {
            assert!(loopback(yes), "{yes}");
        }
        for no in [
            "registry.example.gov",
            "10.0.0.1:5000",
            "[fe80::1]:80",
            "localhost.example.gov",
            "",
        ] {
            assert!(!loopback(no), "{no}");
        }
    }
}
