//! A country's bundle pages through the production router, on both databases: the
//! bundle page (members with their approval now, signatures, threshold, the trust and
//! pull commands, the other versions), the latest version at the bundle's address, the
//! diff between two versions (an upgraded and an added package, an approval revoked
//! since), the country page's bundle list, not-found pages, and French.
//!
//! Approvals and bundle signatures are made as approvers make them on their own
//! machines (`govstore approve`, `govstore bundle create/sign`) and uploaded through the
//! JSON API, so every check of the services applies.

use axum::http::StatusCode;
use govstore_core::approval::{self, Decision, Statement};
use govstore_core::bundle::{Bundle, BundleRef, Member};
use govstore_core::{Digest, stack};
use govstore_server::admin;
use govstore_server::db;
use govstore_signing::KeyPair;
use govstore_signing::dsse::Envelope;
use serde_json::json;

use crate::common::{Backend, TestApp};
use crate::fixture::{post, publisher};
use crate::on_both_backends;
use crate::support::{Page, assert_layout, page, publish};

on_both_backends!(
    bundle_page_shows_members_signatures_and_the_pull_command,
    diff_lists_upgraded_added_and_approval_changes,
    unknown_bundles_are_not_found
);

/// An approver: user name, token with `approve:SL`, registered key.
struct Approver {
    user: &'static str,
    token: String,
    key: KeyPair,
}

struct World {
    app: TestApp,
    approvers: Vec<Approver>,
}

fn toml(name: &str, version: &str) -> String {
    format!(
        "[package]\nname = \"{name}\"\nversion = \"{version}\"\ndescription = \"A building block\"\nlicense = \"Apache-2.0\"\n"
    )
}

/// SL (threshold 2) with approvers amara and kofi, each with a registered key;
/// acme/registry 1.0.0 and 1.1.0 and acme/portal 1.0.0 published and approved 2 of 2.
async fn world(backend: Backend) -> World {
    let app = TestApp::new(backend).await;
    let db = &app.state.db;
    let acme = publisher(&app, "acme-owner", "acme").await;
    for (name, version) in [
        ("acme/registry", "1.0.0"),
        ("acme/registry", "1.1.0"),
        ("acme/portal", "1.0.0"),
    ] {
        publish(&app, &acme, &toml(name, version), "# readme\n").await;
    }
    let sl = "SL".parse().unwrap();
    for user in ["amara", "kofi"] {
        admin::create_user(db, user, false).await.unwrap();
    }
    govstore_server::service::countries::create(db, sl, "amara", 2, None)
        .await
        .unwrap();
    let mut approvers = Vec::new();
    for user in ["amara", "kofi"] {
        govstore_server::service::countries::add_member_as_operator(db, sl, user, "approver")
            .await
            .unwrap();
        let token = admin::create_token(db, user, "t", &["keys:sl".into(), "approve:SL".into()], Some(1))
            .await
            .unwrap();
        let key = KeyPair::generate().unwrap();
        let res = post(
            &app,
            "/api/v1/namespaces/sl/keys",
            &format!("Bearer {token}"),
            json!({ "public_key": key.public_key().to_pem(), "name": format!("{user}'s key") }).to_string(),
        )
        .await;
        assert_eq!(
            res.status,
            StatusCode::CREATED,
            "{}",
            String::from_utf8_lossy(&res.body)
        );
        approvers.push(Approver { user, token, key });
    }
    let w = World { app, approvers };
    for (name, version) in [
        ("acme/registry", "1.0.0"),
        ("acme/registry", "1.1.0"),
        ("acme/portal", "1.0.0"),
    ] {
        for a in &w.approvers {
            decide(&w, a, name, version, Decision::Approved, None).await;
        }
    }
    w
}

/// The published version's manifest digest and size.
async fn manifest_of(app: &TestApp, name: &str, version: &str) -> (String, u64) {
    let read = &app.state.db.read;
    let pkg = db::packages::find(read, name).await.unwrap().unwrap();
    let v = db::packages::version(read, pkg.id, version).await.unwrap().unwrap();
    let package: govstore_core::package::PackageName = name.parse().unwrap();
    let repo = db::repositories::find(read, &package.repo_name())
        .await
        .unwrap()
        .unwrap();
    let m = db::manifests::find(read, repo.id, &v.manifest_digest)
        .await
        .unwrap()
        .unwrap();
    (v.manifest_digest, m.size as u64)
}

/// `a` signs an approval (or revocation) of `name@version` in SL and uploads it.
async fn decide(w: &World, a: &Approver, name: &str, version: &str, decision: Decision, reason: Option<&str>) {
    let (digest, _) = manifest_of(&w.app, name, version).await;
    let s = Statement::new(
        name.parse().unwrap(),
        version.parse().unwrap(),
        digest.parse().unwrap(),
        approval::Predicate {
            country: "SL".parse().unwrap(),
            decision,
            conditions: Default::default(),
            valid_until: None,
            reason: reason.map(str::to_owned),
            recommendation: None,
            approver: Some(a.user.into()),
            signed_at: govstore_core::time::rfc3339(govstore_server::now_ms() / 1000),
        },
    );
    let env = Envelope::sign(&a.key, approval::PAYLOAD_TYPE, s.to_json()).unwrap();
    let res = post(
        &w.app,
        "/api/v1/countries/SL/approvals",
        &format!("Bearer {}", a.token),
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

/// Both approvers sign the bundle `reference` of these members.
async fn make_bundle(w: &World, reference: &str, members: &[(&str, &str)]) -> Bundle {
    let r: BundleRef = reference.parse().unwrap();
    let mut list = Vec::new();
    for (name, version) in members {
        let (digest, size) = manifest_of(&w.app, name, version).await;
        list.push(Member {
            name: name.parse().unwrap(),
            version: version.parse().unwrap(),
            digest: digest.parse().unwrap(),
            size,
        });
    }
    let stack_text = "[stack]\ncountry = \"SL\"\nname = \"ID\"\n";
    let b = Bundle::new(
        &r,
        r.version.unwrap(),
        list,
        Digest::of(b"lockfile"),
        stack::Stack::from_toml_str(stack_text)
            .map(|s| s.digest())
            .unwrap_or_else(|_| Digest::of(stack_text.as_bytes())),
    )
    .unwrap();
    let index = b.to_index_json();
    for a in &w.approvers {
        let now = govstore_core::time::rfc3339(govstore_server::now_ms() / 1000);
        let body = govstore_client::bundles::signature_upload(&b, &index, &a.key, Some(a.user), &now).unwrap();
        let res = post(
            &w.app,
            "/api/v1/countries/SL/bundles",
            &format!("Bearer {}", a.token),
            body.to_string(),
        )
        .await;
        assert_eq!(
            res.status,
            StatusCode::CREATED,
            "{}",
            String::from_utf8_lossy(&res.body)
        );
    }
    b
}

async fn key_ids(app: &TestApp) -> Vec<String> {
    let c = db::countries::by_code(&app.state.db.read, "SL").await.unwrap().unwrap();
    db::keys::list(&app.state.db.read, c.organisation_id)
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.key_id)
        .collect()
}

async fn bundle_page_shows_members_signatures_and_the_pull_command(backend: Backend) {
    let w = world(backend).await;
    let app = &w.app;
    let country = page(app, "/countries/SL", StatusCode::OK).await;
    assert!(
        country
            .part("<section id=\"bundles\"", "</section>")
            .contains("No bundle is signed yet."),
        "{}",
        country.html
    );

    let b1 = make_bundle(&w, "SL/national-id@2026.1", &[("acme/registry", "1.0.0")]).await;
    make_bundle(
        &w,
        "SL/national-id@2026.2",
        &[("acme/registry", "1.1.0"), ("acme/portal", "1.0.0")],
    )
    .await;

    let p = page(app, "/countries/SL/bundles/national-id/2026.1", StatusCode::OK).await;
    assert_layout(&p, "en");
    assert!(p.html.contains("<h1>Bundle SL/national-id@2026.1</h1>"), "{}", p.html);
    let digest = Digest::of(&b1.to_index_json()).to_string();
    assert!(p.part("<dl class=\"facts\"", "</dl>").contains(&digest), "{}", p.html);
    let threshold = p.part("<dd id=\"threshold\"", "</dd>");
    assert!(
        threshold.contains("Threshold met") && threshold.contains("2 of 2 signatures"),
        "{threshold}"
    );
    let members = p.part("<table id=\"members-table\"", "</table>");
    assert!(
        members.contains("<a href=\"/packages/acme/registry?version=1.0.0\">acme/registry 1.0.0</a>"),
        "{members}"
    );
    assert!(
        members.contains("Approved") && !members.contains("NOT approved"),
        "{members}"
    );
    let sigs = p.part("<table id=\"signatures-table\"", "</table>");
    assert!(sigs.contains("amara") && sigs.contains("kofi"), "{sigs}");
    let keys = key_ids(app).await;
    for k in &keys {
        assert!(sigs.contains(govstore_core::approval::short_key(k)), "{sigs}");
    }
    let pull = p.part("<section id=\"pull\"", "</section>");
    assert!(
        pull.contains("govstore pull SL/national-id@2026.1 --into DIR"),
        "{pull}"
    );
    let trust = format!(
        "govstore trust add SL --key {} --key {} --threshold 2",
        keys[0], keys[1]
    );
    assert!(pull.contains(&trust), "{pull}");
    let versions = p.part("<section id=\"versions\"", "</section>");
    assert!(
        versions.contains("<a href=\"/countries/SL/bundles/national-id/2026.1\" aria-current=\"page\">2026.1</a>"),
        "{versions}"
    );
    assert!(
        versions.contains("href=\"/countries/SL/bundles/national-id/diff?from=2026.1&amp;to=2026.2\"")
            || versions.contains("href=\"/countries/SL/bundles/national-id/diff?from=2026.1&to=2026.2\""),
        "{versions}"
    );
    insta::assert_snapshot!("bundle_outline", outline(&p));

    // The bundle's address shows the latest version.
    let latest = page(app, "/countries/SL/bundles/national-id", StatusCode::OK).await;
    assert!(
        latest.html.contains("<h1>Bundle SL/national-id@2026.2</h1>"),
        "{}",
        latest.html
    );
    assert!(
        latest
            .part("<table id=\"members-table\"", "</table>")
            .contains("acme/portal 1.0.0")
    );

    // The country page lists the bundle with its versions, newest first.
    let country = page(app, "/countries/SL", StatusCode::OK).await;
    assert_layout(&country, "en");
    let list = country.part("<table id=\"bundles-table\"", "</table>");
    assert!(
        list.contains("<a href=\"/countries/SL/bundles/national-id\">SL/national-id</a>"),
        "{list}"
    );
    let (v2, v1) = (
        list.find("href=\"/countries/SL/bundles/national-id/2026.2\"").unwrap(),
        list.find("href=\"/countries/SL/bundles/national-id/2026.1\"").unwrap(),
    );
    assert!(v2 < v1, "{list}");

    // In French.
    let fr = page(app, "/countries/SL/bundles/national-id/2026.1?lang=fr", StatusCode::OK).await;
    assert_layout(&fr, "fr");
    assert!(fr.html.contains("<h1>Lot SL/national-id@2026.1</h1>"), "{}", fr.html);
    assert!(
        fr.html.contains("Seuil atteint") && fr.html.contains("2 signatures sur 2"),
        "{}",
        fr.html
    );
    assert!(fr.html.contains("Récupérer ce lot"), "{}", fr.html);
}

async fn diff_lists_upgraded_added_and_approval_changes(backend: Backend) {
    let w = world(backend).await;
    let app = &w.app;
    make_bundle(&w, "SL/national-id@2026.1", &[("acme/registry", "1.0.0")]).await;
    make_bundle(
        &w,
        "SL/national-id@2026.2",
        &[("acme/registry", "1.1.0"), ("acme/portal", "1.0.0")],
    )
    .await;
    // Revoked after 2026.1 was signed.
    decide(
        &w,
        &w.approvers[1],
        "acme/registry",
        "1.0.0",
        Decision::Revoked,
        Some("A flaw found in the audit"),
    )
    .await;

    let p = page(
        app,
        "/countries/SL/bundles/national-id/diff?from=2026.1&to=2026.2",
        StatusCode::OK,
    )
    .await;
    assert_layout(&p, "en");
    assert!(
        p.html.contains("Changes in SL/national-id from 2026.1 to 2026.2"),
        "{}",
        p.html
    );
    let upgraded = p.part("<table id=\"upgraded-table\"", "</table>");
    assert!(
        upgraded.contains("acme/registry")
            && upgraded.contains("href=\"/packages/acme/registry?version=1.0.0\"")
            && upgraded.contains("href=\"/packages/acme/registry?version=1.1.0\"")
            && upgraded.contains("upgrade"),
        "{upgraded}"
    );
    let added = p.part("<section id=\"added\"", "</section>");
    assert!(added.contains("acme/portal 1.0.0"), "{added}");
    let removed = p.part("<section id=\"removed\"", "</section>");
    assert!(removed.contains("None."), "{removed}");
    let approvals = p.part("<table id=\"approvals-table\"", "</table>");
    assert!(
        approvals.contains("acme/registry") && approvals.contains("NOT approved") && approvals.contains("Approved"),
        "{approvals}"
    );
    assert!(!approvals.contains("acme/portal"), "{approvals}");

    // The member's page shows it not approved now, and why.
    let old = page(app, "/countries/SL/bundles/national-id/2026.1", StatusCode::OK).await;
    let members = old.part("<table id=\"members-table\"", "</table>");
    assert!(members.contains("NOT approved"), "{members}");

    // Without from/to: the latest against the one before; the form keeps the choice.
    let default = page(app, "/countries/SL/bundles/national-id/diff", StatusCode::OK).await;
    assert!(default.html.contains("from 2026.1 to 2026.2"), "{}", default.html);
    let form = default.part("<form id=\"diff-form\"", "</form>");
    assert!(form.contains("<label for=\"diff-from\">"), "{form}");

    let fr = page(
        app,
        "/countries/SL/bundles/national-id/diff?from=2026.1&to=2026.2&lang=fr",
        StatusCode::OK,
    )
    .await;
    assert_layout(&fr, "fr");
    assert!(
        fr.html.contains("Paquets mis à niveau") && fr.html.contains("Approbations qui ont changé"),
        "{}",
        fr.html
    );
}

async fn unknown_bundles_are_not_found(backend: Backend) {
    let w = world(backend).await;
    let app = &w.app;
    make_bundle(&w, "SL/national-id@2026.1", &[("acme/registry", "1.0.0")]).await;
    for uri in [
        "/countries/SL/bundles/health",
        "/countries/SL/bundles/health/2026.1",
        "/countries/SL/bundles/national-id/2026.9",
        "/countries/SL/bundles/national-id/not-a-version",
        "/countries/SL/bundles/Bad%20Name/2026.1",
        "/countries/ZZ/bundles/national-id/2026.1",
        "/countries/GH/bundles/national-id",
        "/countries/SL/bundles/national-id/diff?from=2026.1&to=2026.7",
        "/countries/SL/bundles/health/diff",
    ] {
        let p = page(app, uri, StatusCode::NOT_FOUND).await;
        assert_layout(&p, "en");
        assert!(p.html.contains("Not found"), "{uri}: {}", p.html);
    }
}

/// The page's landmarks, sections, tables and headings, as in pages.rs.
fn outline(p: &Page) -> String {
    let html = &p.html;
    let mut out = Vec::new();
    let mut rest = html.as_str();
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        let tag: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
        let end = rest.find('>').unwrap_or(rest.len());
        let attrs = &rest[tag.len()..end];
        let id = attrs
            .split("id=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .map(|id| format!("#{id}"))
            .unwrap_or_default();
        match tag.as_str() {
            "header" | "main" | "footer" | "nav" | "section" | "table" | "form" | "pre" => {
                out.push(format!("{tag}{id}"))
            }
            "h1" | "h2" | "h3" => {
                let inner = &rest[end + 1..rest.find(&format!("</{tag}>")).unwrap_or(rest.len())];
                let level: usize = tag[1..].parse().unwrap();
                out.push(format!("{}{tag} {}", "  ".repeat(level - 1), inner.trim()));
            }
            _ => {}
        }
    }
    out.join("\n")
}
