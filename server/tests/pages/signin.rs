//! Web sign-in through the production router, on both databases: with a password and
//! with an API token, refusals that say the same for an unknown user and a wrong
//! password, the failure limits, sign-out, the CSRF check of every signed-in POST, the
//! cookie's attributes, `next` kept to local paths, and the session as a `Principal`.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode};
use axum::routing::get;
use govstore_server::admin;
use govstore_server::pages::percent_encode;
use govstore_server::pages::session::{self, WebSession};
use govstore_server::pages::throttle::{ACCOUNT_FAILURES, ADDRESS_FAILURES};
use sea_orm::{EntityTrait, PaginatorTrait};

use crate::common::{Backend, Res, TestApp};
use crate::on_both_backends;
use crate::support::{Page, assert_layout};

on_both_backends!(
    password_sign_in_and_sign_out,
    token_sign_in_carries_the_token_s_scopes,
    unknown_user_and_wrong_password_answer_alike,
    failed_sign_ins_are_limited,
    posts_without_the_csrf_token_change_nothing,
    next_is_a_local_path,
    sign_in_needs_a_secure_origin,
    signing_in_again_rotates_the_session,
    setting_a_password_ends_sessions,
    password_sessions_carry_country_scopes,
    required_session_redirects_to_sign_in
);

const PASSWORD: &str = "correct horse battery";
const HOST: (&str, &str) = ("host", "127.0.0.1:5000");

/// A browser: its cookies, its address, and the `Set-Cookie` headers it last got.
struct Browser {
    cookies: BTreeMap<String, String>,
    addr: SocketAddr,
    set_cookies: Vec<String>,
}

impl Browser {
    fn new(addr: &str) -> Self {
        Self {
            cookies: BTreeMap::new(),
            addr: addr.parse().unwrap(),
            set_cookies: Vec::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn send(&mut self, app: &TestApp, method: Method, uri: &str, headers: &[(&str, &str)], body: Body) -> Res {
        let mut b = Request::builder()
            .method(method)
            .uri(uri)
            .extension(ConnectInfo(self.addr));
        if !headers.iter().any(|(k, _)| *k == "host") {
            b = b.header(HOST.0, HOST.1);
        }
        if !self.cookies.is_empty() {
            b = b.header("cookie", self.cookie_header());
        }
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let res = app.send(b.body(body).unwrap()).await;
        self.set_cookies = res
            .headers
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        for c in &self.set_cookies {
            let (pair, attrs) = c.split_once(';').unwrap_or((c, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if attrs.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        res
    }

    async fn get(&mut self, app: &TestApp, uri: &str) -> Page {
        let res = self.send(app, Method::GET, uri, &[], Body::empty()).await;
        let html = String::from_utf8(res.body.clone()).unwrap();
        Page { res, html }
    }

    async fn post(&mut self, app: &TestApp, uri: &str, fields: &[(&str, &str)]) -> Page {
        self.post_with(app, uri, fields, &[]).await
    }

    async fn post_with(&mut self, app: &TestApp, uri: &str, fields: &[(&str, &str)], headers: &[(&str, &str)]) -> Page {
        let body = fields
            .iter()
            .map(|(k, v)| format!("{k}={}", percent_encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let mut all = vec![("content-type", "application/x-www-form-urlencoded")];
        all.extend_from_slice(headers);
        let res = self.send(app, Method::POST, uri, &all, Body::from(body)).await;
        let html = String::from_utf8(res.body.clone()).unwrap();
        Page { res, html }
    }

    /// Open the sign-in page and send it with `fields`; the form's own `csrf` and `next`
    /// are sent unless `fields` names them.
    async fn sign_in(&mut self, app: &TestApp, fields: &[(&str, &str)]) -> Page {
        let form = self.get(app, "/signin").await;
        assert_eq!(form.res.status, StatusCode::OK, "{}", form.html);
        let csrf = hidden(&form, "csrf");
        let next = hidden(&form, "next");
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        for (k, v) in [("csrf", csrf.as_str()), ("next", next.as_str())] {
            if !fields.iter().any(|(f, _)| *f == k) {
                all.push((k, v));
            }
        }
        self.post(app, "/signin", &all).await
    }

    /// The session's CSRF secret, as the layout's sign-out form carries it.
    async fn csrf(&mut self, app: &TestApp) -> String {
        let home = self.get(app, "/").await;
        hidden(&home, "csrf")
    }

    fn session_cookie(&self) -> Option<String> {
        self.cookies.get(session::SESSION_COOKIE).cloned()
    }
}

/// The value of the first hidden input called `name`.
fn hidden(p: &Page, name: &str) -> String {
    let marker = format!("type=\"hidden\" name=\"{name}\" value=\"");
    let i = p
        .html
        .find(&marker)
        .unwrap_or_else(|| panic!("no hidden {name} in:\n{}", p.html));
    let rest = &p.html[i + marker.len()..];
    rest[..rest.find('"').unwrap()].to_owned()
}

/// The text of the page's alert.
fn alert(p: &Page) -> String {
    p.part("role=\"alert\"", "</div>").to_owned()
}

async fn user_with_password(app: &TestApp, name: &str) {
    admin::create_user(&app.state.db, name, false).await.unwrap();
    admin::set_password(&app.state.db, name, PASSWORD).await.unwrap();
}

async fn sessions_stored(app: &TestApp) -> u64 {
    govstore_server::db::entities::web_sessions::Entity::find()
        .count(&app.state.db.read)
        .await
        .unwrap()
}

fn signed_in_as(p: &Page, name: &str) -> bool {
    p.html.contains(&format!("Signed in as {name}"))
}

async fn password_sign_in_and_sign_out(b: Backend) {
    let app = TestApp::new(b).await;
    user_with_password(&app, "amara").await;
    let mut browser = Browser::new("192.0.2.10:40000");

    let anonymous = browser.get(&app, "/").await;
    assert!(
        anonymous.html.contains("<a href=\"/signin\">Sign in</a>"),
        "{}",
        anonymous.html
    );
    assert_eq!(anonymous.header("cache-control").as_deref(), Some("public, max-age=60"));
    let form = browser.get(&app, "/signin").await;
    assert_layout(&form, "en");
    assert_eq!(form.header("cache-control").as_deref(), Some("no-store"));

    let done = browser
        .sign_in(
            &app,
            &[("user", "amara"), ("password", PASSWORD), ("next", "/search?q=id")],
        )
        .await;
    assert_eq!(done.res.status, StatusCode::SEE_OTHER, "{}", done.html);
    assert_eq!(done.header("location").as_deref(), Some("/search?q=id"));
    let cookie = browser
        .set_cookies
        .iter()
        .find(|c| c.starts_with("__Host-govstore_session="))
        .unwrap()
        .clone();
    let id = browser.session_cookie().unwrap();
    assert_eq!(id.len(), 64);
    assert_eq!(
        cookie,
        format!("__Host-govstore_session={id}; HttpOnly; Secure; SameSite=Lax; Path=/; Max-Age=43200")
    );
    // The form's secret is spent.
    assert!(!browser.cookies.contains_key("__Host-govstore_signin"));

    let home = browser.get(&app, "/").await;
    assert_layout(&home, "en");
    assert!(signed_in_as(&home, "amara"), "{}", home.html);
    assert!(!home.html.contains(">Sign in</a>"));
    let sign_out = home.part("<form method=\"post\" action=\"/signout\"", "</form>");
    assert!(
        sign_out.contains("<button type=\"submit\" class=\"secondary\">Sign out</button>"),
        "{sign_out}"
    );
    let csrf = hidden(&home, "csrf");
    assert_eq!(csrf.len(), 64);
    assert_ne!(csrf, id);
    assert_eq!(home.header("cache-control").as_deref(), Some("no-store"));
    // The stack check's form carries the secret too.
    let stack = browser.get(&app, "/stack-check").await;
    assert_eq!(hidden(&stack, "csrf"), csrf);

    let out = browser.post(&app, "/signout", &[("csrf", &csrf)]).await;
    assert_eq!(out.res.status, StatusCode::SEE_OTHER);
    assert_eq!(out.header("location").as_deref(), Some("/"));
    assert!(
        browser
            .set_cookies
            .contains(&"__Host-govstore_session=; HttpOnly; Secure; SameSite=Lax; Path=/; Max-Age=0".to_owned()),
        "{:?}",
        browser.set_cookies
    );
    assert_eq!(sessions_stored(&app).await, 0);
    // Both are in the audit log, without secrets.
    let audit: Vec<(String, String, Option<String>)> = govstore_server::db::entities::audit_log::Entity::find()
        .all(&app.state.db.read)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action.starts_with("web."))
        .map(|e| (e.actor, e.action, e.detail))
        .collect();
    assert_eq!(
        audit,
        [
            ("amara".into(), "web.signin".into(), Some("with a password".into())),
            ("amara".into(), "web.signout".into(), None),
        ]
    );
    // The old cookie, sent again, is nobody's.
    browser.cookies.insert(session::SESSION_COOKIE.into(), id);
    let after = browser.get(&app, "/").await;
    assert!(!signed_in_as(&after, "amara"));
    assert!(after.html.contains(">Sign in</a>"));
}

async fn token_sign_in_carries_the_token_s_scopes(b: Backend) {
    let app = TestApp::new(b).await;
    admin::create_user(&app.state.db, "kofi", false).await.unwrap();
    let token = admin::create_token(&app.state.db, "kofi", "web", &["publish:acme".into()], Some(1))
        .await
        .unwrap();
    let mut browser = Browser::new("192.0.2.11:40000");
    let done = browser.sign_in(&app, &[("token", &token)]).await;
    assert_eq!(done.res.status, StatusCode::SEE_OTHER, "{}", done.html);
    let max_age: u64 = browser
        .set_cookies
        .iter()
        .find(|c| c.starts_with("__Host-govstore_session="))
        .and_then(|c| c.rsplit_once("Max-Age=").map(|(_, n)| n.parse().unwrap()))
        .unwrap();
    assert!(max_age <= 12 * 3600, "{max_age}");

    let mut headers = axum::http::HeaderMap::new();
    headers.insert("cookie", browser.cookie_header().parse().unwrap());
    let s = session::load(&app.state, &headers).await.unwrap().unwrap();
    let p = s.principal();
    assert_eq!(p.user, "kofi");
    assert_eq!(p.scopes, vec!["publish:acme".parse().unwrap()]);
    assert_eq!(p.token_prefix, token[..12]);
    assert!(signed_in_as(&browser.get(&app, "/").await, "kofi"));

    // Revoking the token ends the session.
    admin::revoke_token(&app.state.db, &token[..12]).await.unwrap();
    assert!(!signed_in_as(&browser.get(&app, "/").await, "kofi"));
    assert!(session::load(&app.state, &headers).await.unwrap().is_none());

    // A revoked, a mistyped and a malformed token are refused alike.
    let mut other = Browser::new("192.0.2.12:40000");
    let mut mistyped = token.clone();
    mistyped.pop();
    mistyped.push(if token.ends_with('a') { 'b' } else { 'a' });
    for bad in [token.as_str(), mistyped.as_str(), "gvs_nonsense"] {
        let refused = other.sign_in(&app, &[("token", bad)]).await;
        assert_eq!(refused.res.status, StatusCode::UNAUTHORIZED, "{bad}");
        assert!(
            alert(&refused).contains("This token is not valid: it may be mistyped, revoked or expired."),
            "{}",
            refused.html
        );
        assert!(!refused.html.contains(bad), "the token is not echoed");
    }
}

async fn unknown_user_and_wrong_password_answer_alike(b: Backend) {
    let app = TestApp::new(b).await;
    user_with_password(&app, "amara").await;
    admin::create_user(&app.state.db, "nopass", false).await.unwrap();
    let mut browser = Browser::new("192.0.2.13:40000");
    let mut alerts = Vec::new();
    for (user, password) in [("amara", "wrong password!"), ("nobody", PASSWORD), ("nopass", PASSWORD)] {
        let p = browser.sign_in(&app, &[("user", user), ("password", password)]).await;
        assert_eq!(p.res.status, StatusCode::UNAUTHORIZED, "{user}: {}", p.html);
        assert_layout(&p, "en");
        assert!(!p.html.contains(password), "the password is not echoed");
        assert!(p.html.contains(&format!("value=\"{user}\"")), "the user name is kept");
        alerts.push(alert(&p));
    }
    assert!(
        alerts[0].contains("The user name or password is wrong."),
        "{}",
        alerts[0]
    );
    assert_eq!(alerts[0], alerts[1]);
    assert_eq!(alerts[0], alerts[2]);
    assert_eq!(sessions_stored(&app).await, 0);
    assert!(browser.session_cookie().is_none());

    // Missing fields say so, in French too.
    let p = browser.sign_in(&app, &[("user", "amara")]).await;
    assert_eq!(p.res.status, StatusCode::BAD_REQUEST);
    assert!(alert(&p).contains("Enter your user name and password"));
    browser.cookies.insert("lang".into(), "fr".into());
    let p = browser
        .sign_in(&app, &[("user", "amara"), ("password", "wrong password!")])
        .await;
    assert!(
        alert(&p).contains("Le nom d’utilisateur ou le mot de passe est incorrect."),
        "{}",
        p.html
    );
}

async fn failed_sign_ins_are_limited(b: Backend) {
    let app = TestApp::new(b).await;
    user_with_password(&app, "amara").await;
    user_with_password(&app, "bola").await;
    let mut attacker = Browser::new("198.51.100.7:40000");
    for _ in 0..ACCOUNT_FAILURES {
        let p = attacker
            .sign_in(&app, &[("user", "amara"), ("password", "guess guess guess")])
            .await;
        assert_eq!(p.res.status, StatusCode::UNAUTHORIZED);
    }
    // Now even the right password is refused for this account, from anywhere.
    let mut amara = Browser::new("192.0.2.20:40000");
    let p = amara.sign_in(&app, &[("user", "Amara"), ("password", PASSWORD)]).await;
    assert_eq!(p.res.status, StatusCode::TOO_MANY_REQUESTS, "{}", p.html);
    assert_layout(&p, "en");
    assert!(
        alert(&p).contains("Too many failed sign-ins. Try again in 15 minutes."),
        "{}",
        p.html
    );
    let retry: u64 = p.header("retry-after").unwrap().parse().unwrap();
    assert!((850..=900).contains(&retry), "{retry}");
    assert_eq!(sessions_stored(&app).await, 0);
    // Another account is not affected.
    let p = amara.sign_in(&app, &[("user", "bola"), ("password", PASSWORD)]).await;
    assert_eq!(p.res.status, StatusCode::SEE_OTHER);

    // One address failing for many accounts is limited too.
    for i in ACCOUNT_FAILURES..ADDRESS_FAILURES {
        let user = format!("nobody{i}");
        let p = attacker
            .sign_in(&app, &[("user", &user), ("password", "guess guess guess")])
            .await;
        assert_eq!(p.res.status, StatusCode::UNAUTHORIZED, "{user}");
    }
    let mut bola = Browser::new("198.51.100.7:40001");
    let p = bola.sign_in(&app, &[("user", "bola"), ("password", PASSWORD)]).await;
    assert_eq!(p.res.status, StatusCode::TOO_MANY_REQUESTS);
    let token = admin::create_token(&app.state.db, "bola", "web", &["publish:acme".into()], Some(1))
        .await
        .unwrap();
    let p = bola.sign_in(&app, &[("token", &token)]).await;
    assert_eq!(p.res.status, StatusCode::TOO_MANY_REQUESTS);
}

async fn posts_without_the_csrf_token_change_nothing(b: Backend) {
    let app = TestApp::new(b).await;
    user_with_password(&app, "amara").await;

    // Before a session: the sign-in form without its secret, or with another's.
    let mut browser = Browser::new("192.0.2.30:40000");
    let p = browser
        .post(&app, "/signin", &[("user", "amara"), ("password", PASSWORD)])
        .await;
    assert_eq!(p.res.status, StatusCode::FORBIDDEN, "{}", p.html);
    assert_layout(&p, "en");
    assert!(
        alert(&p).contains("did not carry this session’s security token"),
        "{}",
        p.html
    );
    browser.get(&app, "/signin").await;
    let p = browser
        .post(
            &app,
            "/signin",
            &[("user", "amara"), ("password", PASSWORD), ("csrf", &"0".repeat(64))],
        )
        .await;
    assert_eq!(p.res.status, StatusCode::FORBIDDEN);
    assert_eq!(sessions_stored(&app).await, 0);
    assert!(browser.session_cookie().is_none());

    // Signed in: sign-out without the token, or with a wrong one, is refused.
    let done = browser
        .sign_in(&app, &[("user", "amara"), ("password", PASSWORD)])
        .await;
    assert_eq!(done.res.status, StatusCode::SEE_OTHER);
    let csrf = browser.csrf(&app).await;
    for fields in [vec![], vec![("csrf", "0".repeat(64))], vec![("csrf", String::new())]] {
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let p = browser.post(&app, "/signout", &fields).await;
        assert_eq!(p.res.status, StatusCode::FORBIDDEN, "{fields:?}");
        assert_eq!(p.header("cache-control").as_deref(), Some("no-store"));
        assert!(signed_in_as(&p, "amara"), "the error page still shows who is signed in");
    }
    assert_eq!(sessions_stored(&app).await, 1);
    assert!(signed_in_as(&browser.get(&app, "/").await, "amara"));

    // A multipart form (the stack check) is checked the same way.
    let multipart = |csrf: Option<&str>| {
        let mut body = String::new();
        if let Some(c) = csrf {
            body.push_str(&format!(
                "--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{c}\r\n"
            ));
        }
        body.push_str("--XyZ\r\nContent-Disposition: form-data; name=\"stack\"\r\n\r\nnot a stack\r\n--XyZ--\r\n");
        body
    };
    let ct = [("content-type", "multipart/form-data; boundary=XyZ")];
    let refused = browser
        .send(&app, Method::POST, "/stack-check", &ct, Body::from(multipart(None)))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let checked = browser
        .send(
            &app,
            Method::POST,
            "/stack-check",
            &ct,
            Body::from(multipart(Some(&csrf))),
        )
        .await;
    // Past the CSRF check: the stack check itself answers (the profile is invalid).
    assert_eq!(
        checked.status,
        StatusCode::BAD_REQUEST,
        "{}",
        String::from_utf8_lossy(&checked.body)
    );

    // An anonymous stack check needs no token, as before.
    let mut anonymous = Browser::new("192.0.2.31:40000");
    let res = anonymous
        .send(&app, Method::POST, "/stack-check", &ct, Body::from(multipart(None)))
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);

    let out = browser.post(&app, "/signout", &[("csrf", &csrf)]).await;
    assert_eq!(out.res.status, StatusCode::SEE_OTHER);
    assert_eq!(sessions_stored(&app).await, 0);
}

async fn next_is_a_local_path(b: Backend) {
    let app = TestApp::new(b).await;
    user_with_password(&app, "amara").await;
    let mut browser = Browser::new("192.0.2.40:40000");
    for evil in [
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
        "http:/evil.example",
        "javascript:alert(1)",
        "/signout",
    ] {
        let form = browser
            .get(&app, &format!("/signin?next={}", percent_encode(evil)))
            .await;
        assert_eq!(hidden(&form, "next"), "/", "{evil}");
        let done = browser
            .sign_in(&app, &[("user", "amara"), ("password", PASSWORD), ("next", evil)])
            .await;
        assert_eq!(done.res.status, StatusCode::SEE_OTHER);
        assert_eq!(done.header("location").as_deref(), Some("/"), "{evil}");
    }
    let form = browser
        .get(&app, "/signin?next=%2Fpackages%2Fmosip%2Fesignet%3Fversion%3D1.0.0")
        .await;
    assert_eq!(hidden(&form, "next"), "/packages/mosip/esignet?version=1.0.0");
    // The layout's sign-in link comes back to the page it was on.
    let mut anonymous = Browser::new("192.0.2.41:40000");
    let search = anonymous.get(&app, "/search?q=identity").await;
    assert!(
        search
            .html
            .contains("<a href=\"/signin?next=/search%3Fq%3Didentity\">Sign in</a>"),
        "{}",
        search.html
    );
}

async fn sign_in_needs_a_secure_origin(b: Backend) {
    let app = TestApp::new(b).await;
    user_with_password(&app, "amara").await;
    let mut browser = Browser::new("192.0.2.50:40000");
    let plain = [("host", "registry.example.gov")];
    let form = browser.send(&app, Method::GET, "/signin", &plain, Body::empty()).await;
    let html = String::from_utf8(form.body.clone()).unwrap();
    assert!(html.contains("id=\"signin-insecure\""), "{html}");
    let csrf = hidden(
        &Page {
            res: form,
            html: html.clone(),
        },
        "csrf",
    );
    let fields = [("user", "amara"), ("password", PASSWORD), ("csrf", csrf.as_str())];
    let p = browser.post_with(&app, "/signin", &fields, &plain).await;
    assert_eq!(p.res.status, StatusCode::BAD_REQUEST, "{}", p.html);
    assert!(alert(&p).contains("needs a secure (HTTPS) connection"));
    assert_eq!(sessions_stored(&app).await, 0);
    // Behind a TLS-terminating proxy it works.
    let proxied = [("host", "registry.example.gov"), ("x-forwarded-proto", "https")];
    let p = browser.post_with(&app, "/signin", &fields, &proxied).await;
    assert_eq!(p.res.status, StatusCode::SEE_OTHER, "{}", p.html);
}

async fn signing_in_again_rotates_the_session(b: Backend) {
    let app = TestApp::new(b).await;
    user_with_password(&app, "amara").await;
    let mut browser = Browser::new("192.0.2.60:40000");
    browser
        .sign_in(&app, &[("user", "amara"), ("password", PASSWORD)])
        .await;
    let first = browser.session_cookie().unwrap();
    // Signed in, the sign-in form carries the session's secret.
    let form = browser.get(&app, "/signin").await;
    assert!(form.html.contains("You are signed in as amara."));
    assert_eq!(hidden(&form, "csrf"), browser.csrf(&app).await);
    let again = browser
        .sign_in(&app, &[("user", "amara"), ("password", PASSWORD)])
        .await;
    assert_eq!(again.res.status, StatusCode::SEE_OTHER, "{}", again.html);
    let second = browser.session_cookie().unwrap();
    assert_ne!(first, second);
    assert_eq!(sessions_stored(&app).await, 1);
    let mut thief = Browser::new("203.0.113.9:40000");
    thief.cookies.insert(session::SESSION_COOKIE.into(), first);
    assert!(!signed_in_as(&thief.get(&app, "/").await, "amara"));
}

async fn setting_a_password_ends_sessions(b: Backend) {
    let app = TestApp::new(b).await;
    user_with_password(&app, "amara").await;
    let mut browser = Browser::new("192.0.2.70:40000");
    browser
        .sign_in(&app, &[("user", "amara"), ("password", PASSWORD)])
        .await;
    assert!(signed_in_as(&browser.get(&app, "/").await, "amara"));
    for short in ["", "elevenchars", "ééééééééééé"] {
        let e = admin::set_password(&app.state.db, "amara", short).await.unwrap_err();
        assert!(e.to_string().contains("at least 12 characters"), "{e}");
    }
    let e = admin::set_password(&app.state.db, "amara", &"x".repeat(1025))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("at most 1024 bytes"), "{e}");
    let e = admin::set_password(&app.state.db, "nobody", PASSWORD)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("user `nobody` does not exist"), "{e}");
    // A refused password changed nothing.
    assert!(signed_in_as(&browser.get(&app, "/").await, "amara"));

    admin::set_password(&app.state.db, "amara", "a new long password")
        .await
        .unwrap();
    assert!(!signed_in_as(&browser.get(&app, "/").await, "amara"));
    let old = browser
        .sign_in(&app, &[("user", "amara"), ("password", PASSWORD)])
        .await;
    assert_eq!(old.res.status, StatusCode::UNAUTHORIZED);
    let new = browser
        .sign_in(&app, &[("user", "amara"), ("password", "a new long password")])
        .await;
    assert_eq!(new.res.status, StatusCode::SEE_OTHER);
}

async fn password_sessions_carry_country_scopes(b: Backend) {
    let app = TestApp::new(b).await;
    user_with_password(&app, "amara").await;
    admin::create_user(&app.state.db, "sl-owner", false).await.unwrap();
    for code in ["SL", "KE"] {
        govstore_server::service::countries::create(&app.state.db, code.parse().unwrap(), "sl-owner", 1, None)
            .await
            .unwrap();
    }
    govstore_server::service::countries::add_member_as_operator(
        &app.state.db,
        "SL".parse().unwrap(),
        "amara",
        "reviewer",
    )
    .await
    .unwrap();
    let mut browser = Browser::new("192.0.2.80:40000");
    browser
        .sign_in(&app, &[("user", "amara"), ("password", PASSWORD)])
        .await;
    let mut headers = axum::http::HeaderMap::new();
    headers.insert("cookie", browser.cookie_header().parse().unwrap());
    let s = session::load(&app.state, &headers).await.unwrap().unwrap();
    let p = s.principal();
    let scopes: Vec<String> = p.scopes.iter().map(ToString::to_string).collect();
    assert_eq!(scopes, ["review:SL", "approve:SL", "country-admin:SL"]);
    assert_eq!(p.user, "amara");
    assert!(!p.admin);
    assert!(p.expires_at.unwrap() <= govstore_server::now_ms() + 12 * 3600 * 1000);
}

async fn required_session_redirects_to_sign_in(b: Backend) {
    let app = TestApp::new(b).await;
    user_with_password(&app, "amara").await;
    // A page that needs a session, behind the same layer as every page.
    let router = Router::new()
        .route("/private", get(|s: WebSession| async move { s.user }))
        .layer(axum::middleware::from_fn_with_state(app.state.clone(), session::layer))
        .with_state(app.state.clone());
    let call = |cookie: Option<String>| {
        let router = router.clone();
        async move {
            let mut req = Request::builder().uri("/private?tab=queue");
            if let Some(c) = cookie {
                req = req.header("cookie", c);
            }
            tower::ServiceExt::oneshot(router, req.body(Body::empty()).unwrap())
                .await
                .unwrap()
        }
    };
    let res = call(None).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        res.headers()["location"].to_str().unwrap(),
        "/signin?next=/private%3Ftab%3Dqueue"
    );
    let mut browser = Browser::new("192.0.2.90:40000");
    browser
        .sign_in(&app, &[("user", "amara"), ("password", PASSWORD)])
        .await;
    let res = call(Some(browser.cookie_header())).await;
    assert_eq!(res.status(), StatusCode::OK);
}

on_both_backends!(an_unknown_page_shows_who_is_signed_in);

/// The 404 page of a path nothing routes shows the signed-in user (not "Sign in"), and
/// is not cached publicly.
async fn an_unknown_page_shows_who_is_signed_in(b: Backend) {
    let app = TestApp::new(b).await;
    user_with_password(&app, "amara").await;
    let mut browser = Browser::new("192.0.2.12:40000");
    browser.get(&app, "/signin").await;
    browser
        .sign_in(&app, &[("user", "amara"), ("password", PASSWORD), ("next", "/")])
        .await;
    let missing = browser.get(&app, "/no/such/page").await;
    assert_eq!(missing.res.status, StatusCode::NOT_FOUND);
    assert!(signed_in_as(&missing, "amara"), "{}", missing.html);
    assert!(!missing.html.contains(">Sign in</a>"));
    assert_eq!(missing.header("cache-control").as_deref(), Some("no-store"));
}
