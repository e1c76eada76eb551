//! The event sequence: every change appends one event in its transaction, numbered
//! gap-free in commit order; `GET /api/v1/events` pages through it; followers (the
//! search index of another replica) find a change by its number whenever it commits,
//! and a replica that was down catches up when it starts.

use axum::http::StatusCode;
use govstore_core::event::Event;
use govstore_migrations::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, Database, TransactionTrait};
use serde_json::{Value, json};

use crate::common::{Backend, TestApp};
use crate::fixture::{build_simple, get_json, post, publisher};
use crate::on_both_backends;

on_both_backends!(
    every_change_is_an_event_in_order,
    events_page_and_refuse_bad_queries,
    a_late_commit_is_still_followed,
    a_replica_that_was_down_catches_up_when_it_starts,
    an_existing_database_gets_its_history_as_events,
    an_event_this_version_cannot_read_stops_no_follower
);

fn types(page: &Value) -> Vec<String> {
    page["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"]["type"].as_str().unwrap().to_owned())
        .collect()
}

fn search_hit(st: &govstore_server::state::AppState, q: &str) -> Option<Value> {
    let req = govstore_server::search::Request {
        q: q.to_owned(),
        limit: 10,
        ..Default::default()
    };
    st.search.search(&req).unwrap().hits.into_iter().next()
}

async fn every_change_is_an_event_in_order(b: Backend) {
    let app = TestApp::with(b, |c| c.insecure_anonymous_push = false).await;
    let p = publisher(&app, "alice", "mosip").await;
    let one = build_simple(&app, &p, "mosip/esignet", "1.0.0").await;
    assert_eq!(one.publish(&app, &p.auth()).await.status, StatusCode::CREATED);
    let two = build_simple(&app, &p, "mosip/esignet", "1.1.0").await;
    assert_eq!(two.publish(&app, &p.auth()).await.status, StatusCode::CREATED);
    let yank = "/api/v1/packages/mosip/esignet/versions/1.1.0/yank";
    let reason = json!({ "reason": "CVE-2026-0001" }).to_string();
    assert_eq!(post(&app, yank, &p.auth(), reason).await.status, StatusCode::OK);
    // A refused change (already unyanked twice) appends nothing.
    let unyank = "/api/v1/packages/mosip/esignet/versions/1.1.0/unyank";
    assert_eq!(
        post(&app, unyank, &p.auth(), String::new()).await.status,
        StatusCode::OK
    );
    assert_eq!(
        post(&app, unyank, &p.auth(), String::new()).await.status,
        StatusCode::CONFLICT
    );

    let page = get_json(&app, "/api/v1/events").await;
    assert_eq!(page["format"], json!(1));
    assert_eq!(
        types(&page),
        [
            "key_registered",
            "version_published",
            "version_published",
            "version_yanked",
            "version_unyanked"
        ]
    );
    let seqs: Vec<i64> = page["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5], "gap-free, from 1");
    assert_eq!(page["last"], json!(5));
    assert!(page.get("next").is_none());
    let published = &page["events"][1]["event"];
    assert_eq!(published["package"], json!("mosip/esignet"));
    assert_eq!(published["version"], json!("1.0.0"));
    assert_eq!(published["digest"], json!(one.digest.to_string()));
    assert_eq!(page["events"][3]["event"]["reason"], json!("CVE-2026-0001"));
    assert!(!page.to_string().contains("alice"), "events name no accounts");

    // The stored form is the event's canonical JSON, which reads back as the same event.
    let stored = govstore_server::db::events::after(&app.state.db.read, 0, 100, &[])
        .await
        .unwrap();
    for s in &stored {
        assert_eq!(s.payload, s.event.canonical_json());
    }
    assert!(matches!(stored[1].event, Event::VersionPublished { .. }));
}

async fn events_page_and_refuse_bad_queries(b: Backend) {
    let app = TestApp::with(b, |c| c.insecure_anonymous_push = false).await;
    let p = publisher(&app, "alice", "mosip").await;
    for v in ["1.0.0", "1.0.1", "1.0.2"] {
        let built = build_simple(&app, &p, "mosip/esignet", v).await;
        assert_eq!(built.publish(&app, &p.auth()).await.status, StatusCode::CREATED);
    }
    let first = get_json(&app, "/api/v1/events?limit=2").await;
    assert_eq!(first["events"].as_array().unwrap().len(), 2);
    assert_eq!(first["next"], json!("/api/v1/events?after=2&limit=2"));
    let second = get_json(&app, first["next"].as_str().unwrap()).await;
    let seqs: Vec<i64> = second["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, [3, 4]);
    assert!(second.get("next").is_none());
    assert_eq!(get_json(&app, "/api/v1/events?after=4").await["events"], json!([]));

    for bad in [
        "after=abc",
        "after=-1",
        "limit=1001",
        "limit=x",
        "after=99999999999999999999",
    ] {
        let res = app.get(&format!("/api/v1/events?{bad}")).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{bad}");
        let body: Value = res.json();
        assert_eq!(body["errors"][0]["code"], json!("INVALID"), "{bad}: {body}");
    }
}

/// A transaction that commits minutes after it began (and after later transactions
/// committed) is still followed: followers go by number, not by time.
async fn a_late_commit_is_still_followed(b: Backend) {
    let app = TestApp::with(b, |c| c.insecure_anonymous_push = false).await;
    let (replica, _dir) = app.replica().await;
    let follow = || async { replica.search.follow_packages(&replica.db.read).await.unwrap() };
    let p = publisher(&app, "alice", "mosip").await;
    let built = build_simple(&app, &p, "mosip/esignet", "1.0.0").await;
    assert_eq!(built.publish(&app, &p.auth()).await.status, StatusCode::CREATED);
    follow().await;
    assert_eq!(search_hit(&replica, "esignet").unwrap()["yanked"], json!(false));

    // A yank, done by hand as the service does it, held open.
    let db = &app.state.db;
    let package = govstore_server::db::packages::find(&db.read, "mosip/esignet")
        .await
        .unwrap()
        .unwrap();
    let version = govstore_server::db::packages::version(&db.read, package.id, "1.0.0")
        .await
        .unwrap()
        .unwrap();
    let txn = db.write.begin().await.unwrap();
    assert!(
        govstore_server::db::packages::set_yanked(&txn, version.id, Some("held"))
            .await
            .unwrap()
    );

    if b == Backend::Postgres {
        // Meanwhile another change begins and commits, and is followed.
        let other = build_simple(&app, &p, "mosip/resident-portal", "1.0.0").await;
        assert_eq!(other.publish(&app, &p.auth()).await.status, StatusCode::CREATED);
        assert_eq!(follow().await, 1);
        assert!(search_hit(&replica, "resident").is_some());
    }
    let position = replica.search.position();
    // Held open for minutes on PostgreSQL: longer than the 2-minute window the audit-log
    // follower looked back over (which missed exactly this). The replica keeps following
    // meanwhile. On SQLite (one writer) the hold itself is the same code path; seconds do.
    let (rounds, pause) = match b {
        Backend::Postgres => (25, std::time::Duration::from_secs(5)),
        Backend::Sqlite => (3, std::time::Duration::from_millis(100)),
    };
    for _ in 0..rounds {
        tokio::time::sleep(pause).await;
        assert_eq!(follow().await, 0, "nothing committed yet");
    }
    let event = Event::VersionYanked {
        package: "mosip/esignet".parse().unwrap(),
        version: "1.0.0".parse().unwrap(),
        digest: built.digest.clone(),
        reason: "held".into(),
    };
    let seq = govstore_server::db::events::append(&txn, &event).await.unwrap();
    assert_eq!(
        seq,
        position + 1,
        "the late transaction takes the next number at its end"
    );
    txn.commit().await.unwrap();

    assert_eq!(follow().await, 1);
    assert_eq!(replica.search.position(), seq);
    assert_eq!(search_hit(&replica, "esignet").unwrap()["yanked"], json!(true));
}

/// A replica that was down (or crashed right after a commit, before its index update)
/// while others published and yanked shows those changes as soon as it starts again,
/// though its index holds as many documents as the database has packages.
async fn a_replica_that_was_down_catches_up_when_it_starts(b: Backend) {
    let app = TestApp::with(b, |c| c.insecure_anonymous_push = false).await;
    let p = publisher(&app, "alice", "mosip").await;
    let built = build_simple(&app, &p, "mosip/esignet", "1.0.0").await;
    assert_eq!(built.publish(&app, &p.auth()).await.status, StatusCode::CREATED);

    let (replica, dir) = app.replica().await;
    assert_eq!(search_hit(&replica, "esignet").unwrap()["version"], json!("1.0.0"));
    let config = replica.config.as_ref().clone();
    drop(replica);

    // While it is down: a new version of the same package (the document count stays).
    let newer = build_simple(&app, &p, "mosip/esignet", "1.1.0").await;
    assert_eq!(newer.publish(&app, &p.auth()).await.status, StatusCode::CREATED);

    let restarted = govstore_server::app::state(config).await.unwrap();
    let hit = search_hit(&restarted, "esignet").unwrap();
    assert_eq!(hit["version"], json!("1.1.0"), "caught up at start: {hit}");
    assert_eq!(
        restarted.search.position(),
        govstore_server::db::events::last_seq(&restarted.db.read).await.unwrap()
    );
    drop(dir);
}

/// Upgrading a database that already holds packages: the migration writes its history
/// (versions and their yanks, keys with their revocations, specs) as the first events,
/// readable as `Event`s, and each version's signature as an attestation; the next change
/// continues the numbering.
async fn an_existing_database_gets_its_history_as_events(b: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let url = match b {
        Backend::Sqlite => format!("sqlite://{}?mode=rwc", dir.path().join("old.db").display()),
        Backend::Postgres => {
            let admin = Database::connect(crate::common::postgres_admin_url()).await.unwrap();
            let name = format!("govstore_t_{}", uuid::Uuid::new_v4().simple());
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .unwrap();
            let base = crate::common::postgres_admin_url();
            format!("{}/{name}", base.rsplit_once('/').unwrap().0)
        }
    };
    let db = Database::connect(&url).await.unwrap();
    // The schema as the first wave left it, with data.
    Migrator::up(&db, Some(3)).await.unwrap();
    let d1 = format!("sha256:{}", "1".repeat(64));
    let d2 = format!("sha256:{}", "2".repeat(64));
    let s1 = format!("sha256:{}", "3".repeat(64));
    let s2 = format!("sha256:{}", "4".repeat(64));
    let spec = "{\"id\":\"govstack/identity\",\"title\":\"Identity\"}";
    for sql in [
        "INSERT INTO users (name, admin, created_at) VALUES ('alice', false, 1000)".to_owned(),
        "INSERT INTO organisations (name, created_at) VALUES ('mosip', 1000)".to_owned(),
        "INSERT INTO signing_keys (organisation_id, key_id, name, public_key, created_by, created_at, revoked_at, revoke_reason) \
         VALUES (1, 'sha256:k1', 'old', 'pem', 1, 1100, 5000, 'lost laptop')"
            .to_owned(),
        format!("INSERT INTO specs (spec_id, title, document, updated_at) VALUES ('govstack/identity', 'Identity', '{spec}', 1050)"),
        "INSERT INTO packages (organisation_id, name, description, license, created_at) VALUES (1, 'mosip/esignet', 'd', 'MPL-2.0', 1200)".to_owned(),
        format!(
            "INSERT INTO package_versions (package_id, version, manifest_digest, config, signature_digest, key_id, published_by, published_at, yanked, yank_reason) \
             VALUES (1, '1.0.0', '{d1}', '{{}}', '{s1}', 'sha256:k1', 1, 1200, true, 'CVE-1'), \
                    (1, '1.1.0', '{d2}', '{{}}', '{s2}', 'sha256:k1', 1, 1300, false, NULL)"
        ),
    ] {
        db.execute_unprepared(&sql).await.unwrap();
    }
    Migrator::up(&db, None).await.unwrap();

    let events = govstore_server::db::events::after(&db, 0, 100, &[]).await.unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e.event.kind()).collect();
    assert_eq!(
        kinds,
        [
            "spec_published",
            "key_registered",
            "version_published",
            "version_yanked",
            "version_published",
            "key_revoked"
        ],
        "in the order they happened"
    );
    let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5, 6]);
    assert_eq!(
        events[3].event,
        Event::VersionYanked {
            package: "mosip/esignet".parse().unwrap(),
            version: "1.0.0".parse().unwrap(),
            digest: d1.parse().unwrap(),
            reason: "CVE-1".into(),
        }
    );
    for e in &events {
        assert_eq!(e.payload, e.event.canonical_json(), "backfilled events are canonical");
    }
    let sigs = govstore_server::db::attestations::of(&db, &d2.parse().unwrap())
        .await
        .unwrap();
    assert_eq!(sigs.len(), 1);
    assert_eq!(sigs[0].envelope_digest, s2);
    assert_eq!(sigs[0].signer_key_id.as_deref(), Some("sha256:k1"));

    let txn = db.begin().await.unwrap();
    let next = Event::KeyRegistered {
        namespace: "mosip".into(),
        key_id: "sha256:k2".into(),
    };
    assert_eq!(govstore_server::db::events::append(&txn, &next).await.unwrap(), 7);
    txn.commit().await.unwrap();
}

/// A newer govstore may write an event of a known type with a value this one cannot
/// parse (say, another digest algorithm): followers skip it as unknown, the API serves
/// it as stored, and later events are still followed.
async fn an_event_this_version_cannot_read_stops_no_follower(b: Backend) {
    let app = TestApp::with(b, |c| c.insecure_anonymous_push = false).await;
    let (replica, _dir) = app.replica().await;
    let p = publisher(&app, "alice", "mosip").await;
    let newer = r#"{"digest":"sha3-512:00","key_id":"k","package":"mosip/esignet","signature_digest":"sha3-512:00","type":"version_published","version":"9.0.0"}"#;
    let txn = app.state.db.write.begin().await.unwrap();
    let seq = govstore_server::db::events::append(&txn, &Event::Unknown)
        .await
        .unwrap();
    txn.execute_unprepared(&format!(
        "UPDATE events SET kind = 'version_published', payload = '{newer}' WHERE seq = {seq}"
    ))
    .await
    .unwrap();
    txn.commit().await.unwrap();
    let built = build_simple(&app, &p, "mosip/esignet", "1.0.0").await;
    assert_eq!(built.publish(&app, &p.auth()).await.status, StatusCode::CREATED);

    assert_eq!(replica.search.follow_packages(&replica.db.read).await.unwrap(), 1);
    assert!(search_hit(&replica, "esignet").is_some());
    let page = get_json(&app, "/api/v1/events").await;
    let stored = page["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["seq"] == json!(seq))
        .unwrap();
    assert_eq!(stored["event"]["digest"], json!("sha3-512:00"), "served as stored");
}
