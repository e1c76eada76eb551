//! A country's public page and its ministry workspace through the production router, on
//! both databases: the public page lists approvals and revocations with their reasons;
//! the workspace needs sign-in and membership; a reviewer proposes and recommends but
//! cannot approve; an approver approves with the key the server holds (a DSSE envelope
//! the service verified, signed by that key, naming the approver); a revocation needs a
//! reason; a form posted without the CSRF token is refused and changes nothing; the
//! package and compare pages show the approval badges; a server-held key that cannot be
//! decrypted stops the start.
//!
//! Browsers are signed in by writing a session row as `/signin` does (sign-in itself is
//! tested in `signin.rs`), so each test is not slowed by argon2.

use axum::body::Body;
use axum::http::{Method, StatusCode};
use govstore_core::approval::{self, Decision, Statement};
use govstore_server::admin;
use govstore_server::config::{ApproverKeyPath, Secret};
use govstore_server::db;
use govstore_server::pages::session::{SESSION_COOKIE, id_hash};
use govstore_signing::KeyPair;
use govstore_signing::dsse::Envelope;
use serde_json::json;

use crate::common::{Backend, Res, TestApp};
use crate::fixture::{post, publisher};
use crate::on_both_backends;
use crate::support::{Page, assert_layout, page, publish};

on_both_backends!(
    public_page_lists_approvals_and_revocations,
    workspace_needs_sign_in_and_membership,
    reviewer_recommends_but_cannot_approve,
    approver_approves_with_the_server_held_key,
    revocation_needs_a_reason,
    posts_without_the_csrf_token_change_nothing,
    without_a_server_key_approvers_are_told_to_sign_themselves,
    the_evidence_checks_the_country_s_own_stack
);

const KEY_PASSWORD: &str = "server key password";

/// A registry with country SL (threshold 2): approvers amara and kofi (each with a
/// registered key), reviewer musa, outsider olu; acme/registry 1.0.0 and 1.1.0
/// published; the server holding a registered approver key for SL when `server_key`.
struct World {
    app: TestApp,
    _keys: tempfile::TempDir,
    server_key: KeyPair,
    kofi_key: KeyPair,
    kofi_token: String,
}

async fn world(backend: Backend, server_key: bool) -> World {
    let keys = tempfile::tempdir().unwrap();
    let key = KeyPair::generate().unwrap();
    let path = keys.path().join("sl.key");
    std::fs::write(&path, key.to_encrypted_pem(KEY_PASSWORD.as_bytes()).unwrap()).unwrap();
    let app = TestApp::with(backend, |c| {
        if server_key {
            c.approver_keys = vec![ApproverKeyPath {
                country: "SL".parse().unwrap(),
                path: path.clone(),
            }];
            c.approver_key_password = Some(Secret::new(KEY_PASSWORD));
        }
    })
    .await;
    let db = &app.state.db;
    let acme = publisher(&app, "acme-owner", "acme").await;
    publish(
        &app,
        &acme,
        &toml("1.0.0", "Apache-2.0", "kubernetes = \">=1.27\""),
        "# Registry\n",
    )
    .await;
    publish(
        &app,
        &acme,
        &toml("1.1.0", "MPL-2.0", "kubernetes = \">=1.29\""),
        "# Registry\n",
    )
    .await;
    for user in ["amara", "kofi", "musa", "olu"] {
        admin::create_user(db, user, false).await.unwrap();
    }
    let sl = "SL".parse().unwrap();
    govstore_server::service::countries::create(db, sl, "amara", 2, None)
        .await
        .unwrap();
    for (user, role) in [("amara", "approver"), ("kofi", "approver"), ("musa", "reviewer")] {
        govstore_server::service::countries::add_member_as_operator(db, sl, user, role)
            .await
            .unwrap();
    }
    let token = |user: &'static str| async move {
        admin::create_token(db, user, "t", &["keys:sl".into(), "approve:SL".into()], Some(1))
            .await
            .unwrap()
    };
    let amara_token = token("amara").await;
    let kofi_token = token("kofi").await;
    let kofi_key = KeyPair::generate().unwrap();
    for (t, k) in [(&amara_token, &key), (&kofi_token, &kofi_key)] {
        let res = post(
            &app,
            "/api/v1/namespaces/sl/keys",
            &format!("Bearer {t}"),
            json!({ "public_key": k.public_key().to_pem(), "name": "k" }).to_string(),
        )
        .await;
        assert_eq!(
            res.status,
            StatusCode::CREATED,
            "{}",
            String::from_utf8_lossy(&res.body)
        );
    }
    World {
        app,
        _keys: keys,
        server_key: key,
        kofi_key,
        kofi_token,
    }
}

fn toml(version: &str, license: &str, platform: &str) -> String {
    format!(
        "[package]\nname = \"acme/registry\"\nversion = \"{version}\"\ndescription = \"A civil registry\"\nlicense = \"{license}\"\n\n[requires.platform]\n{platform}\n"
    )
}

/// A signed-in browser: the session cookie and the form secret.
struct Browser {
    cookie: String,
    csrf: String,
}

async fn sign_in(app: &TestApp, user: &str) -> Browser {
    let u = db::accounts::user(&app.state.db.read, user).await.unwrap().unwrap();
    let id = format!("{:064x}", u128::from(u.id as u64) + 0xabcdef);
    let csrf = format!("{:064x}", u128::from(u.id as u64) + 0x123456);
    let now = govstore_server::now_ms();
    db::web_sessions::insert(
        &app.state.db.write,
        db::web_sessions::NewSession {
            id_hash: &id_hash(&id),
            user_id: u.id,
            method: "password",
            token_id: None,
            csrf: &csrf,
            now,
            expires_at: now + 3_600_000,
        },
    )
    .await
    .unwrap();
    Browser {
        cookie: format!("{SESSION_COOKIE}={id}"),
        csrf,
    }
}

impl Browser {
    async fn get(&self, app: &TestApp, uri: &str) -> Page {
        let res = app
            .req(Method::GET, uri, &[("cookie", &self.cookie)], Body::empty())
            .await;
        let html = String::from_utf8(res.body.clone()).unwrap();
        Page { res, html }
    }

    /// POST a form with the session's CSRF token (unless `csrf` is false).
    async fn post(&self, app: &TestApp, uri: &str, fields: &[(&str, &str)], csrf: bool) -> Page {
        let mut body: Vec<String> = fields
            .iter()
            .map(|(k, v)| format!("{k}={}", govstore_server::pages::percent_encode(v)))
            .collect();
        if csrf {
            body.push(format!("csrf={}", self.csrf));
        }
        let res = app
            .req(
                Method::POST,
                uri,
                &[
                    ("cookie", &self.cookie),
                    ("content-type", "application/x-www-form-urlencoded"),
                ],
                body.join("&"),
            )
            .await;
        let html = String::from_utf8(res.body.clone()).unwrap();
        Page { res, html }
    }
}

fn location(res: &Res) -> String {
    res.header("location").unwrap_or_default()
}

/// Propose acme/registry `version` as `who`; the proposal's id.
async fn propose(app: &TestApp, who: &Browser, version: &str) -> i64 {
    let p = who
        .post(
            app,
            "/countries/SL/proposals",
            &[
                ("package", "acme/registry"),
                ("version", version),
                ("note", "for the pilot"),
            ],
            true,
        )
        .await;
    assert_eq!(p.res.status, StatusCode::SEE_OTHER, "{}", p.html);
    let to = location(&p.res);
    let rest = to.strip_prefix("/countries/SL/proposals/").unwrap();
    assert!(rest.ends_with("?done=proposed"), "{to}");
    rest.trim_end_matches("?done=proposed").parse().unwrap()
}

async fn statements(app: &TestApp) -> Vec<db::approvals::Approval> {
    let c = db::countries::by_code(&app.state.db.read, "SL").await.unwrap().unwrap();
    db::approvals::of_country(&app.state.db.read, c.id).await.unwrap()
}

/// kofi signs an approval of acme/registry `version` on his machine and uploads it.
async fn kofi_approves(w: &World, version: &str) {
    let pkg = db::packages::find(&w.app.state.db.read, "acme/registry")
        .await
        .unwrap()
        .unwrap();
    let v = db::packages::version(&w.app.state.db.read, pkg.id, version)
        .await
        .unwrap()
        .unwrap();
    let s = Statement::new(
        "acme/registry".parse().unwrap(),
        version.parse().unwrap(),
        v.manifest_digest.parse().unwrap(),
        approval::Predicate {
            country: "SL".parse().unwrap(),
            decision: Decision::Approved,
            conditions: Default::default(),
            valid_until: None,
            reason: None,
            recommendation: None,
            approver: Some("kofi".into()),
            signed_at: govstore_core::time::rfc3339(govstore_server::now_ms() / 1000),
        },
    );
    let env = Envelope::sign(&w.kofi_key, approval::PAYLOAD_TYPE, s.to_json()).unwrap();
    let res = post(
        &w.app,
        "/api/v1/countries/SL/approvals",
        &format!("Bearer {}", w.kofi_token),
        String::from_utf8(env.to_json()).unwrap(),
    )
    .await;
    assert_eq!(
        res.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&res.body)
    );
}

async fn public_page_lists_approvals_and_revocations(backend: Backend) {
    let w = world(backend, true).await;
    let app = &w.app;
    let empty = page(app, "/countries/SL", StatusCode::OK).await;
    assert_layout(&empty, "en");
    assert!(empty.html.contains("Sierra Leone"), "{}", empty.html);
    assert!(empty.html.contains("2 distinct approvers must sign"), "{}", empty.html);
    assert!(empty.part("<section id=\"keys\"", "</section>").contains("amara"));
    assert!(empty.html.contains("Nothing approved or revoked yet."));

    // 1.0.0: approved by kofi (uploaded) and amara (server-held key), then revoked.
    kofi_approves(&w, "1.0.0").await;
    let amara = sign_in(app, "amara").await;
    let id = propose(app, &amara, "1.0.0").await;
    let ok = amara
        .post(
            app,
            &format!("/countries/SL/proposals/{id}/approve"),
            &[("until", "2099-12-31")],
            true,
        )
        .await;
    assert_eq!(ok.res.status, StatusCode::SEE_OTHER, "{}", ok.html);
    let pkg = page(app, "/packages/acme/registry?version=1.0.0", StatusCode::OK).await;
    let badge = pkg.part("<section id=\"approvals\"", "</section>");
    assert!(
        badge.contains("Approved") && badge.contains("2 of 2 approvals"),
        "{badge}"
    );
    assert!(
        badge.contains("amara") && badge.contains("kofi") && badge.contains("until 2099-12-31"),
        "{badge}"
    );

    let revoked = amara
        .post(
            app,
            &format!("/countries/SL/proposals/{id}/revoke"),
            &[("reason", "A flaw <b>found</b> in the audit")],
            true,
        )
        .await;
    assert_eq!(revoked.res.status, StatusCode::SEE_OTHER, "{}", revoked.html);

    let p = page(app, "/countries/SL", StatusCode::OK).await;
    assert_layout(&p, "en");
    let table = p.part("<table id=\"statements\"", "</table>");
    assert_eq!(
        table.matches("href=\"/packages/acme/registry?version=1.0.0\"").count(),
        3,
        "{table}"
    );
    assert!(
        table.contains("Revoked") && table.contains("A flaw &lt;b&gt;found&lt;/b&gt; in the audit"),
        "{table}"
    );
    // Newest first: the revocation heads the list.
    assert!(
        table.find("Revoked").unwrap() < table.find("Approved").unwrap(),
        "{table}"
    );
    assert_eq!(table.matches("(cancelled by a later revocation)").count(), 2, "{table}");
    assert!(!p.html.contains("Only the newest"), "not capped");
    let fr = page(app, "/countries/SL?lang=fr", StatusCode::OK).await;
    assert_layout(&fr, "fr");
    assert!(
        fr.html.contains("Révoqué") && fr.html.contains("Approbations de Sierra Leone"),
        "{}",
        fr.html
    );

    let pkg = page(app, "/packages/acme/registry?version=1.0.0", StatusCode::OK).await;
    let badge = pkg.part("<section id=\"approvals\"", "</section>");
    assert!(
        badge.contains("Revoked") && badge.contains("by amara") && badge.contains("A flaw"),
        "{badge}"
    );
    let latest = page(app, "/packages/acme/registry", StatusCode::OK).await;
    assert!(latest.html.contains("No country has approved or revoked this version."));

    // The compare view: approval status per country for each compared version.
    let other = publisher(app, "beta-owner", "beta").await;
    publish(
        app,
        &other,
        &crate::fixture::toml("beta/registry", "1.0.0", ""),
        "# B\n",
    )
    .await;
    kofi_approves(&w, "1.1.0").await;
    let c = page(app, "/compare?p=acme/registry&p=beta/registry", StatusCode::OK).await;
    let row = c.part("<tr><th scope=\"row\">Approved in", "</tr>");
    assert!(
        row.contains("href=\"/countries/SL\"") && row.contains("1 of 2 approvals"),
        "{row}"
    );
    assert!(row.contains("—"), "beta/registry has no approval: {row}");
}

async fn workspace_needs_sign_in_and_membership(backend: Backend) {
    let w = world(backend, true).await;
    let app = &w.app;
    for uri in ["/countries/SL/workspace", "/countries/SL/proposals/1"] {
        let anon = app.get(uri).await;
        assert_eq!(anon.status, StatusCode::SEE_OTHER, "{uri}");
        assert_eq!(
            location(&anon),
            format!("/signin?next={}", govstore_server::pages::percent_encode(uri))
        );
    }
    let anon_post = app
        .req(
            Method::POST,
            "/countries/SL/proposals",
            &[("content-type", "application/x-www-form-urlencoded")],
            "package=acme/registry&version=1.0.0",
        )
        .await;
    assert_eq!(anon_post.status, StatusCode::SEE_OTHER);
    assert!(location(&anon_post).starts_with("/signin?next="));

    let olu = sign_in(app, "olu").await;
    let denied = olu.get(app, "/countries/SL/workspace").await;
    assert_eq!(denied.res.status, StatusCode::FORBIDDEN, "{}", denied.html);
    assert_layout(&denied, "en");
    assert!(denied.html.contains("id=\"workspace-denied\"") && !denied.html.contains("id=\"queue\""));
    assert_eq!(denied.header("cache-control").as_deref(), Some("no-store"));
    let refused = olu
        .post(
            app,
            "/countries/SL/proposals",
            &[("package", "acme/registry"), ("version", "1.0.0")],
            true,
        )
        .await;
    assert_eq!(refused.res.status, StatusCode::FORBIDDEN, "{}", refused.html);
    let c = db::countries::by_code(&app.state.db.read, "SL").await.unwrap().unwrap();
    assert!(
        db::proposals::with_status(&app.state.db.read, c.id, "open", 10)
            .await
            .unwrap()
            .is_empty()
    );

    let musa = sign_in(app, "musa").await;
    let ws = musa.get(app, "/countries/SL/workspace").await;
    assert_eq!(ws.res.status, StatusCode::OK, "{}", ws.html);
    assert_layout(&ws, "en");
    assert!(ws.html.contains("Nothing is waiting for review."));
    let id = propose(app, &musa, "1.1.0").await;
    let ws = musa.get(app, "/countries/SL/workspace").await;
    let queue = ws.part("<table id=\"queue-table\"", "</table>");
    assert!(
        queue.contains(&format!("href=\"/countries/SL/proposals/{id}\"")) && queue.contains("acme/registry 1.1.0"),
        "{queue}"
    );
    assert!(queue.contains("by musa") && queue.contains("for the pilot"), "{queue}");
    // A version that is not published is refused with the service's message.
    let bad = musa
        .post(
            app,
            "/countries/SL/proposals",
            &[("package", "acme/registry"), ("version", "9.9.9")],
            true,
        )
        .await;
    assert_eq!(bad.res.status, StatusCode::NOT_FOUND, "{}", bad.html);
    assert!(
        bad.html.contains("acme/registry@9.9.9 is not a published version"),
        "{}",
        bad.html
    );
    let bad = musa
        .post(
            app,
            "/countries/SL/proposals",
            &[("package", "registry"), ("version", "1.0.0")],
            true,
        )
        .await;
    assert_eq!(bad.res.status, StatusCode::BAD_REQUEST);
    assert!(bad.html.contains("The package name is not valid"), "{}", bad.html);
    // French throughout.
    let fr = musa.get(app, "/countries/SL/workspace?lang=fr").await;
    assert_layout(&fr, "fr");
    assert!(fr.html.contains("File de revue"), "{}", fr.html);
    // Unknown country or proposal: not found.
    assert_eq!(
        musa.get(app, "/countries/KE/workspace").await.res.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        musa.get(app, "/countries/SL/proposals/999").await.res.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.get("/countries/sl").await.status, StatusCode::NOT_FOUND);
}

async fn reviewer_recommends_but_cannot_approve(backend: Backend) {
    let w = world(backend, true).await;
    let app = &w.app;
    let musa = sign_in(app, "musa").await;
    let id = propose(app, &musa, "1.1.0").await;
    let uri = format!("/countries/SL/proposals/{id}");
    let p = musa.get(app, &format!("{uri}?done=proposed")).await;
    assert_eq!(p.res.status, StatusCode::OK, "{}", p.html);
    assert_layout(&p, "en");
    assert!(p.html.contains("id=\"recommend-form\""));
    assert!(
        !p.html.contains("id=\"approve-form\"") && !p.html.contains("id=\"revoke-form\""),
        "reviewers see no signing forms"
    );
    assert!(p.html.contains("The version is in the review queue."));
    assert!(
        p.html
            .contains("No stack profile (stack.toml) of Sierra Leone is on record")
    );
    assert!(
        p.html
            .contains("No earlier version of this package is approved in Sierra Leone.")
    );
    assert!(p.html.contains("id=\"proposal-license\">MPL-2.0<"));

    let r = musa
        .post(
            app,
            &format!("{uri}/recommend"),
            &[("recommendation", "approve"), ("notes", "Checked the claims")],
            true,
        )
        .await;
    assert_eq!(r.res.status, StatusCode::SEE_OTHER, "{}", r.html);
    assert_eq!(location(&r.res), format!("{uri}?done=recommended"));
    let p = musa.get(app, &uri).await;
    let recs = p.part("<section id=\"recommendations\"", "</section>");
    assert!(
        recs.contains("by musa") && recs.contains("Checked the claims"),
        "{recs}"
    );
    let bad = musa
        .post(app, &format!("{uri}/recommend"), &[("recommendation", "maybe")], true)
        .await;
    assert_eq!(bad.res.status, StatusCode::BAD_REQUEST);
    assert!(
        bad.html.contains("a recommendation is `approve` or `reject`"),
        "{}",
        bad.html
    );

    let refused = musa.post(app, &format!("{uri}/approve"), &[], true).await;
    assert_eq!(refused.res.status, StatusCode::FORBIDDEN, "{}", refused.html);
    assert!(
        refused.html.contains("musa is not an approver or owner of SL"),
        "{}",
        refused.html
    );
    assert!(refused.html.contains("id=\"decision-error\""));
    let refused = musa
        .post(app, &format!("{uri}/revoke"), &[("reason", "no")], true)
        .await;
    assert_eq!(refused.res.status, StatusCode::FORBIDDEN);
    assert!(statements(app).await.is_empty(), "nothing was signed");
}

async fn approver_approves_with_the_server_held_key(backend: Backend) {
    let w = world(backend, true).await;
    let app = &w.app;
    kofi_approves(&w, "1.0.0").await;
    let musa = sign_in(app, "musa").await;
    let id = propose(app, &musa, "1.1.0").await;
    let uri = format!("/countries/SL/proposals/{id}");
    musa.post(
        app,
        &format!("{uri}/recommend"),
        &[("recommendation", "approve"), ("notes", "fine")],
        true,
    )
    .await;

    let amara = sign_in(app, "amara").await;
    let p = amara.get(app, &uri).await;
    assert!(
        p.html.contains("id=\"approve-form\"") && p.html.contains("id=\"revoke-form\""),
        "{}",
        p.html
    );
    assert!(p.html.contains(&w.server_key.public_key().key_id()));
    assert!(
        p.html.contains("Not approved yet") && p.html.contains("0 of 2 approvals"),
        "{}",
        p.html
    );
    // 1.0.0 has one approval of two: no earlier version is approved.
    assert!(p.html.contains("No earlier version of this package is approved"));

    let ok = amara
        .post(
            app,
            &format!("{uri}/approve"),
            &[
                ("until", "2099-06-30"),
                ("reason", "Pilot"),
                ("condition", "only with acme/db 2.x"),
            ],
            true,
        )
        .await;
    assert_eq!(ok.res.status, StatusCode::SEE_OTHER, "{}", ok.html);
    assert_eq!(location(&ok.res), format!("{uri}?done=approved"));

    let rows = statements(app).await;
    let row = rows
        .iter()
        .find(|r| r.version == "1.1.0")
        .expect("the approval is recorded");
    assert_eq!(row.decision, "approved");
    assert_eq!(row.key_id, w.server_key.public_key().key_id());
    let amara_id = db::accounts::user(&app.state.db.read, "amara")
        .await
        .unwrap()
        .unwrap()
        .id;
    assert_eq!(
        row.signer_user_id, amara_id,
        "the statement names the signed-in approver"
    );
    // A valid DSSE envelope, signed by the server-held key, of a statement naming amara.
    let env = Envelope::from_json(row.envelope.as_bytes()).unwrap();
    assert!(env.verified_by(&w.server_key.public_key()));
    assert!(!env.verified_by(&w.kofi_key.public_key()));
    let s = Statement::from_json(&env.payload).unwrap();
    assert_eq!(s.subject_name(), "acme/registry@1.1.0");
    assert_eq!(s.predicate.approver.as_deref(), Some("amara"));
    assert_eq!(s.predicate.valid_until.as_deref(), Some("2099-06-30T23:59:59Z"));
    assert_eq!(s.predicate.conditions.text.as_deref(), Some("only with acme/db 2.x"));
    assert_eq!(
        s.predicate.recommendation.as_ref().map(|r| r.reviewer.as_str()),
        Some("musa")
    );

    let p = amara.get(app, &format!("{uri}?done=approved")).await;
    assert_eq!(p.res.status, StatusCode::OK);
    assert_layout(&p, "en");
    assert!(p.html.contains("Your approval was signed and recorded."));
    let state = p.part("<p id=\"approval-state\"", "</p>");
    assert!(state.contains("1 of 2 approvals"), "{state}");
    assert!(
        p.part("<table id=\"decision-statements\"", "</table>")
            .contains("amara")
    );

    // kofi approves 1.1.0 too: the threshold is met, and the evidence of another
    // proposal of the package compares it with 1.1.0, the approved version.
    kofi_approves(&w, "1.1.0").await;
    let p = amara.get(app, &uri).await;
    assert!(p.part("<p id=\"approval-state\"", "</p>").contains("2 of 2 approvals"));
    let id0 = propose(app, &amara, "1.0.0").await;
    let p = amara.get(app, &format!("/countries/SL/proposals/{id0}")).await;
    let changes = p.part("<section id=\"changes\"", "</section>");
    assert!(changes.contains("Changes since version 1.1.0"), "{changes}");
    assert!(
        changes.contains("MPL-2.0")
            && changes.contains("Apache-2.0")
            && changes.contains("Requires platform kubernetes"),
        "{changes}"
    );
}

async fn revocation_needs_a_reason(backend: Backend) {
    let w = world(backend, true).await;
    let app = &w.app;
    let amara = sign_in(app, "amara").await;
    let id = propose(app, &amara, "1.0.0").await;
    let uri = format!("/countries/SL/proposals/{id}");
    let refused = amara
        .post(app, &format!("{uri}/revoke"), &[("reason", "   ")], true)
        .await;
    assert_eq!(refused.res.status, StatusCode::BAD_REQUEST, "{}", refused.html);
    assert!(refused.html.contains("a revocation needs a reason"), "{}", refused.html);
    assert!(statements(app).await.is_empty());
    let bad_day = amara
        .post(app, &format!("{uri}/approve"), &[("until", "31/12/2027")], true)
        .await;
    assert_eq!(bad_day.res.status, StatusCode::BAD_REQUEST);
    assert!(bad_day.html.contains("The validity date is not valid"));
    assert!(statements(app).await.is_empty());

    let ok = amara
        .post(
            app,
            &format!("{uri}/revoke"),
            &[("reason", "Licence changed upstream")],
            true,
        )
        .await;
    assert_eq!(ok.res.status, StatusCode::SEE_OTHER, "{}", ok.html);
    let rows = statements(app).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].decision, "revoked");
    assert_eq!(rows[0].reason.as_deref(), Some("Licence changed upstream"));
    let p = amara.get(app, &format!("{uri}?done=revoked")).await;
    assert!(p.html.contains("Your revocation was signed and recorded."));
    assert!(
        p.part("<p id=\"approval-state\"", "</p>")
            .contains("Licence changed upstream")
    );
    // The revoked proposal left the queue; proposing the version again reopens it.
    let ws = amara.get(app, "/countries/SL/workspace").await;
    assert!(ws.html.contains("Nothing is waiting for review."), "{}", ws.html);
    assert_eq!(propose(app, &amara, "1.0.0").await, id);
    let ws = amara.get(app, "/countries/SL/workspace").await;
    assert!(ws.part("<table id=\"queue-table\"", "</table>").contains(&uri));
}

async fn posts_without_the_csrf_token_change_nothing(backend: Backend) {
    let w = world(backend, true).await;
    let app = &w.app;
    let amara = sign_in(app, "amara").await;
    let refused = amara
        .post(
            app,
            "/countries/SL/proposals",
            &[("package", "acme/registry"), ("version", "1.0.0")],
            false,
        )
        .await;
    assert_eq!(refused.res.status, StatusCode::FORBIDDEN, "{}", refused.html);
    assert!(
        refused.html.contains("did not carry this session’s security token"),
        "{}",
        refused.html
    );
    let c = db::countries::by_code(&app.state.db.read, "SL").await.unwrap().unwrap();
    assert!(
        db::proposals::with_status(&app.state.db.read, c.id, "open", 10)
            .await
            .unwrap()
            .is_empty()
    );

    let id = propose(app, &amara, "1.0.0").await;
    for (action, fields) in [
        ("approve", vec![]),
        ("revoke", vec![("reason", "x")]),
        ("recommend", vec![("recommendation", "approve")]),
    ] {
        let refused = amara
            .post(app, &format!("/countries/SL/proposals/{id}/{action}"), &fields, false)
            .await;
        assert_eq!(refused.res.status, StatusCode::FORBIDDEN, "{action}: {}", refused.html);
    }
    assert!(statements(app).await.is_empty());
    assert!(
        db::proposals::recommendations(&app.state.db.read, id, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn without_a_server_key_approvers_are_told_to_sign_themselves(backend: Backend) {
    let w = world(backend, false).await;
    let app = &w.app;
    let amara = sign_in(app, "amara").await;
    let id = propose(app, &amara, "1.0.0").await;
    let uri = format!("/countries/SL/proposals/{id}");
    let p = amara.get(app, &uri).await;
    assert!(!p.html.contains("id=\"approve-form\""));
    assert!(
        p.html
            .contains("govstore approve acme/registry@1.0.0 --country SL --key approver.key"),
        "{}",
        p.html
    );
    let refused = amara.post(app, &format!("{uri}/approve"), &[], true).await;
    assert_eq!(refused.res.status, StatusCode::CONFLICT);
    assert!(refused.html.contains("This registry holds no approver key for SL"));
    assert!(statements(app).await.is_empty());
}

/// A server-held key that cannot be read or decrypted stops the start, naming the file
/// and never the password; nothing is opened before.
#[tokio::test]
async fn a_server_key_that_cannot_be_decrypted_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sl.key");
    let key = KeyPair::generate().unwrap();
    std::fs::write(&path, key.to_encrypted_pem(KEY_PASSWORD.as_bytes()).unwrap()).unwrap();
    let data = dir.path().join("data");
    let mut config = govstore_server::config::Config::for_data_dir(&data);
    config.approver_keys = vec![ApproverKeyPath {
        country: "SL".parse().unwrap(),
        path: path.clone(),
    }];
    config.approver_key_password = Some(Secret::new("not-the-password-123"));
    let e = govstore_server::app::state(config.clone())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("cannot decrypt the approver key of SL") && e.contains("sl.key"),
        "{e}"
    );
    assert!(!e.contains("not-the-password-123"), "{e}");
    assert!(!data.exists(), "nothing was opened");
    config.approver_keys[0].path = dir.path().join("missing.key");
    let e = govstore_server::app::state(config).await.unwrap_err().to_string();
    assert!(
        e.contains("cannot read the approver key of SL") && e.contains("missing.key"),
        "{e}"
    );
}

/// SL's stack runs Kubernetes 1.28: acme/registry 1.1.0 (needs >= 1.29) does not fit
/// it and 1.0.0 does; the proposal pages say so, with the resolver's reasons. Only
/// the country's owner sets the stack, and only a stack of SL.
async fn the_evidence_checks_the_country_s_own_stack(backend: Backend) {
    let w = world(backend, false).await;
    let app = &w.app;
    let stack = "[stack]\ncountry = \"SL\"\nname = \"Civil registration\"\n\n[infrastructure]\norchestrator = \"kubernetes\"\n\n[infrastructure.platform]\nkubernetes = \"1.28.0\"\n\n[wants]\npackages = { \"acme/registry\" = \"*\" }\n";
    let put = |token: String, body: String| async move {
        app.req(
            axum::http::Method::PUT,
            "/api/v1/countries/SL/stack",
            &[("authorization", &format!("Bearer {token}"))],
            body,
        )
        .await
    };
    let db = &app.state.db;
    admin::create_user(db, "fatmata", false).await.unwrap();
    govstore_server::service::countries::add_member_as_operator(db, "SL".parse().unwrap(), "fatmata", "owner")
        .await
        .unwrap();
    let owner = admin::create_token(db, "fatmata", "t", &["country-admin:SL".into()], Some(1))
        .await
        .unwrap();
    let reviewer = admin::create_token(db, "musa", "t", &["country-admin:SL".into()], Some(1))
        .await
        .unwrap();
    assert_eq!(put(reviewer, stack.to_owned()).await.status, StatusCode::FORBIDDEN);
    let other = put(owner.clone(), stack.replace("\"SL\"", "\"KE\"")).await;
    assert_eq!(other.status, StatusCode::BAD_REQUEST);
    assert!(String::from_utf8_lossy(&other.body).contains("not SL"));
    let set = put(owner, stack.to_owned()).await;
    assert_eq!(set.status, StatusCode::OK, "{}", String::from_utf8_lossy(&set.body));
    let got = app
        .req(
            axum::http::Method::GET,
            "/api/v1/countries/SL/stack",
            &[],
            axum::body::Body::empty(),
        )
        .await;
    assert_eq!(String::from_utf8_lossy(&got.body), stack);

    let musa = sign_in(app, "musa").await;
    let newer = propose(app, &musa, "1.1.0").await;
    let p = musa.get(app, &format!("/countries/SL/proposals/{newer}")).await;
    let section = p.part("<section id=\"stack\"", "</section>");
    assert!(
        section
            .contains("Sierra Leone&#39;s stack “Civil registration” does not resolve with acme/registry 1.1.0 in it"),
        "{section}"
    );
    assert!(section.contains("kubernetes"), "the resolver says why: {section}");
    let older = propose(app, &musa, "1.0.0").await;
    let p = musa.get(app, &format!("/countries/SL/proposals/{older}")).await;
    let section = p.part("<section id=\"stack\"", "</section>");
    assert!(
        section.contains("resolves with acme/registry 1.0.0 in it: 1 packages")
            && section.contains("<code>acme/registry@1.0.0</code>"),
        "{section}"
    );
}
