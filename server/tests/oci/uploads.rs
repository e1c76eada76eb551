//! Upload sessions: POST+PUT, chunked PATCH with ranges, status, resumption across a
//! restart, cancel, limits, bodies that end early, and expiry; chunks of one session
//! reaching two processes (two `AppState`s on one database and data directory), which
//! continue the hash from the midstate in the database, never from the earlier parts.

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use bytes::Bytes;
use futures_util::StreamExt;
use http_body_util::BodyExt;
use tower::ServiceExt;

use crate::common::{Backend, Res, TestApp, digest_of};
use crate::on_both_backends;

on_both_backends!(
    post_then_put,
    chunked_with_ranges,
    chunks_resume_after_restart,
    cancel_and_unknown_sessions,
    body_ending_early_rolls_back,
    size_and_session_limits,
    idle_sessions_expire,
    put_with_wrong_digest_stores_nothing,
    racing_chunks_never_commit_a_blob_under_a_wrong_digest,
    chunks_continue_on_another_process,
    a_failed_chunk_on_another_process_changes_nothing,
    two_processes_at_one_offset_cannot_both_append,
);

async fn open(app: &TestApp, repo: &str) -> String {
    let res = app
        .req(Method::POST, &format!("/v2/{repo}/blobs/uploads/"), &[], Body::empty())
        .await;
    assert_eq!(res.status, StatusCode::ACCEPTED);
    assert_eq!(res.header("range").as_deref(), Some("0-0"));
    assert!(res.header("docker-upload-uuid").is_some());
    res.header("location").unwrap()
}

async fn post_then_put(b: Backend) {
    let app = TestApp::new(b).await;
    let loc = open(&app, "x/y").await;
    let data = vec![7u8; 70_000];
    let d = digest_of(&data);
    let res = app
        .req(Method::PUT, &format!("{loc}?digest={d}"), &[], data.clone())
        .await;
    assert_eq!(res.status, StatusCode::CREATED);
    assert_eq!(res.header("location"), Some(format!("/v2/x/y/blobs/{d}")));
    assert_eq!(res.header("docker-content-digest"), Some(d.clone()));
    assert_eq!(app.get(&format!("/v2/x/y/blobs/{d}")).await.body, data);
    assert_eq!(app.upload_files(), 0, "the session's part became the blob");
    assert_eq!(
        app.get(&loc).await.status,
        StatusCode::NOT_FOUND,
        "a finished session is gone"
    );
}

async fn chunked_with_ranges(b: Backend) {
    let app = TestApp::new(b).await;
    let data: Vec<u8> = (0..30_000u32).map(|i| (i * 7 % 256) as u8).collect();
    let loc = open(&app, "chunked").await;

    let r1 = app
        .req(
            Method::PATCH,
            &loc,
            &[("content-range", "0-9999"), ("content-length", "10000")],
            data[..10_000].to_vec(),
        )
        .await;
    assert_eq!(r1.status, StatusCode::ACCEPTED);
    assert_eq!(r1.header("range").as_deref(), Some("0-9999"));

    let status = app.get(&loc).await;
    assert_eq!(status.status, StatusCode::NO_CONTENT);
    assert_eq!(status.header("range").as_deref(), Some("0-9999"));

    // The same chunk again, and a chunk that skips ahead: both out of order.
    let again = app
        .req(
            Method::PATCH,
            &loc,
            &[("content-range", "0-9999")],
            data[..10_000].to_vec(),
        )
        .await;
    assert_eq!(again.status, StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(again.code(), "BLOB_UPLOAD_INVALID");
    assert_eq!(again.header("range").as_deref(), Some("0-9999"));
    let gap = app
        .req(
            Method::PATCH,
            &loc,
            &[("content-range", "20000-29999")],
            data[20_000..].to_vec(),
        )
        .await;
    assert_eq!(gap.status, StatusCode::RANGE_NOT_SATISFIABLE);
    insta::assert_json_snapshot!("chunk_out_of_order", gap.json());

    // A malformed Content-Range, and a body shorter than its range.
    let malformed = app
        .req(
            Method::PATCH,
            &loc,
            &[("content-range", "ten-twenty")],
            data[10_000..20_000].to_vec(),
        )
        .await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    let short = app
        .req(
            Method::PATCH,
            &loc,
            &[("content-range", "10000-19999")],
            data[10_000..15_000].to_vec(),
        )
        .await;
    assert_eq!(short.status, StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(
        app.get(&loc).await.header("range").as_deref(),
        Some("0-9999"),
        "a refused chunk changes nothing"
    );

    let r2 = app
        .req(
            Method::PATCH,
            &loc,
            &[("content-range", "10000-19999")],
            data[10_000..20_000].to_vec(),
        )
        .await;
    assert_eq!(r2.status, StatusCode::ACCEPTED);
    // A streamed chunk without Content-Range appends too.
    let r3 = app.req(Method::PATCH, &loc, &[], data[20_000..25_000].to_vec()).await;
    assert_eq!(r3.header("range").as_deref(), Some("0-24999"));
    assert_eq!(
        part_files(&app, &loc),
        3,
        "one immutable part per accepted chunk, none for the refused ones"
    );
    // The last chunk comes with the PUT.
    let d = digest_of(&data);
    let fin = app
        .req(
            Method::PUT,
            &format!("{loc}?digest={d}"),
            &[("content-range", "25000-29999")],
            data[25_000..].to_vec(),
        )
        .await;
    assert_eq!(fin.status, StatusCode::CREATED);
    assert_eq!(app.get(&format!("/v2/chunked/blobs/{d}")).await.body, data);
    assert_eq!(app.upload_files(), 0, "the parts are gone");
}

async fn chunks_resume_after_restart(b: Backend) {
    let mut app = TestApp::new(b).await;
    let data = vec![42u8; 50_000];
    let loc = open(&app, "resume/me").await;
    assert_eq!(
        app.req(
            Method::PATCH,
            &loc,
            &[("content-range", "0-19999")],
            data[..20_000].to_vec()
        )
        .await
        .status,
        StatusCode::ACCEPTED
    );

    app.restart().await;
    let status = app.get(&loc).await;
    assert_eq!(
        status.status,
        StatusCode::NO_CONTENT,
        "the session survived the restart"
    );
    assert_eq!(status.header("range").as_deref(), Some("0-19999"));
    assert_eq!(
        app.req(
            Method::PATCH,
            &loc,
            &[("content-range", "20000-49999")],
            data[20_000..].to_vec()
        )
        .await
        .status,
        StatusCode::ACCEPTED
    );
    let d = digest_of(&data);
    assert_eq!(
        app.req(Method::PUT, &format!("{loc}?digest={d}"), &[], Body::empty())
            .await
            .status,
        StatusCode::CREATED
    );
    assert_eq!(app.get(&format!("/v2/resume/me/blobs/{d}")).await.body, data);
}

async fn cancel_and_unknown_sessions(b: Backend) {
    let app = TestApp::new(b).await;
    let loc = open(&app, "c").await;
    app.req(Method::PATCH, &loc, &[], vec![1u8; 100]).await;
    assert_eq!(
        app.req(Method::DELETE, &loc, &[], Body::empty()).await.status,
        StatusCode::NO_CONTENT
    );
    let gone = app.get(&loc).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    insta::assert_json_snapshot!("upload_unknown", gone.json());
    assert_eq!(app.upload_files(), 0);

    let bogus = app.get("/v2/c/blobs/uploads/not-a-uuid").await;
    assert_eq!(bogus.code(), "BLOB_UPLOAD_UNKNOWN");
    // A session belongs to the repository it was opened in.
    let loc = open(&app, "c").await;
    let id = loc.rsplit('/').next().unwrap();
    app.push_blob("other", b"make the repository exist").await;
    assert_eq!(
        app.get(&format!("/v2/other/blobs/uploads/{id}")).await.code(),
        "BLOB_UPLOAD_UNKNOWN"
    );
}

async fn body_ending_early_rolls_back(b: Backend) {
    let app = TestApp::new(b).await;
    let loc = open(&app, "flaky").await;
    app.req(Method::PATCH, &loc, &[], vec![1u8; 1000]).await;
    // The client sends half its chunk, then the connection breaks.
    let stream = futures_util::stream::iter(vec![
        Ok::<_, std::io::Error>(Bytes::from(vec![2u8; 500])),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "connection reset",
        )),
    ]);
    let res = app.req(Method::PATCH, &loc, &[], Body::from_stream(stream)).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert_eq!(res.code(), "BLOB_UPLOAD_INVALID");
    assert_eq!(
        app.get(&loc).await.header("range").as_deref(),
        Some("0-999"),
        "the broken chunk was dropped"
    );

    // A monolithic upload that breaks stores nothing.
    let stream = futures_util::stream::iter(vec![
        Ok::<_, std::io::Error>(Bytes::from(vec![3u8; 500])),
        Err(std::io::Error::other("reset")),
    ]);
    let d = digest_of(&[3u8; 1000]);
    let res = app
        .req(
            Method::POST,
            &format!("/v2/flaky/blobs/uploads/?digest={d}"),
            &[],
            Body::from_stream(stream),
        )
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        app.get(&format!("/v2/flaky/blobs/{d}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.blob_files(), 0);

    // The session goes on with the right bytes.
    let mut all = vec![1u8; 1000];
    all.extend(vec![2u8; 1000]);
    app.req(Method::PATCH, &loc, &[("content-range", "1000-1999")], vec![2u8; 1000])
        .await;
    let d = digest_of(&all);
    assert_eq!(
        app.req(Method::PUT, &format!("{loc}?digest={d}"), &[], Body::empty())
            .await
            .status,
        StatusCode::CREATED
    );
}

async fn size_and_session_limits(b: Backend) {
    let app = TestApp::with(b, |c| {
        c.limits.max_blob_bytes = 1000;
        c.limits.max_upload_sessions = 2;
    })
    .await;
    let big = vec![0u8; 1001];
    let res = app
        .req(
            Method::POST,
            &format!("/v2/l/blobs/uploads/?digest={}", digest_of(&big)),
            &[],
            big.clone(),
        )
        .await;
    assert_eq!(res.status, StatusCode::PAYLOAD_TOO_LARGE);
    insta::assert_json_snapshot!("blob_too_large", res.json());
    assert_eq!(app.blob_files(), 0);

    let loc = open(&app, "l").await;
    app.req(Method::PATCH, &loc, &[], vec![0u8; 600]).await;
    let over = app.req(Method::PATCH, &loc, &[], vec![0u8; 600]).await;
    assert_eq!(over.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(app.get(&loc).await.header("range").as_deref(), Some("0-599"));

    open(&app, "l").await;
    let third = app.req(Method::POST, "/v2/l/blobs/uploads/", &[], Body::empty()).await;
    assert_eq!(third.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(third.code(), "TOOMANYREQUESTS");
}

async fn idle_sessions_expire(b: Backend) {
    let app = TestApp::with(b, |c| c.limits.upload_ttl = std::time::Duration::ZERO).await;
    let loc = open(&app, "idle").await;
    app.req(Method::PATCH, &loc, &[], vec![9u8; 10]).await;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let expired = govstore_server::oci::expire_uploads(&app.state).await.unwrap();
    assert_eq!(expired, 1);
    assert_eq!(app.get(&loc).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.upload_files(), 0);
}

async fn put_with_wrong_digest_stores_nothing(b: Backend) {
    let app = TestApp::new(b).await;
    let loc = open(&app, "w").await;
    app.req(Method::PATCH, &loc, &[], b"hello".to_vec()).await;
    let wrong = digest_of(b"goodbye");
    let res = app
        .req(Method::PUT, &format!("{loc}?digest={wrong}"), &[], Body::empty())
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert_eq!(res.code(), "DIGEST_INVALID");
    assert_eq!(app.blob_files(), 0);
    assert_eq!(app.upload_files(), 0);
    assert_eq!(
        app.get(&format!("/v2/w/blobs/{}", digest_of(b"hello"))).await.status,
        StatusCode::NOT_FOUND
    );
    let loc = open(&app, "w").await;
    let missing = app.req(Method::PUT, &loc, &[], Body::empty()).await;
    assert_eq!(missing.code(), "DIGEST_INVALID");
}

async fn racing_chunks_never_commit_a_blob_under_a_wrong_digest(b: Backend) {
    let app = TestApp::new(b).await;
    for round in 0..10 {
        let loc = open(&app, "race").await;
        app.req(Method::PATCH, &loc, &[], vec![1u8; 4096]).await;
        let mut expected = vec![1u8; 4096];
        expected.extend(vec![2u8; 4096]);
        let d = digest_of(&expected);
        let put_uri = format!("{loc}?digest={d}");
        let put = app.req(Method::PUT, &put_uri, &[], vec![2u8; 4096]);
        let patch = app.req(Method::PATCH, &loc, &[], vec![3u8; 4096]);
        let (put, patch) = tokio::join!(put, patch);
        for res in [&put, &patch] {
            assert!(
                res.status.is_client_error() || res.status.is_success(),
                "round {round}: {}",
                res.status
            );
        }
        if put.status == StatusCode::CREATED {
            // Whatever the PATCH did, the stored blob is exactly the bytes of its digest.
            let got = app.get(&format!("/v2/race/blobs/{d}")).await;
            assert_eq!(digest_of(&got.body), d, "round {round}");
            assert_eq!(
                patch.code(),
                "BLOB_UPLOAD_UNKNOWN",
                "round {round}: a chunk after the commit is refused"
            );
        } else {
            assert_eq!(put.code(), "DIGEST_INVALID", "round {round}");
        }
    }
}

/// Part files of the session at `loc` (`DATA/uploads/<session>/<part>`).
fn part_files(app: &TestApp, loc: &str) -> usize {
    let id = loc.rsplit('/').next().unwrap();
    std::fs::read_dir(app.dir.path().join("uploads").join(id)).map_or(0, |d| d.count())
}

/// Send a request to a particular process's router.
async fn send(router: &Router, method: Method, uri: &str, headers: &[(&str, &str)], body: impl Into<Body>) -> Res {
    let mut b = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let res = router.clone().oneshot(b.body(body.into()).unwrap()).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body = res.into_body().collect().await.unwrap().to_bytes().to_vec();
    Res { status, headers, body }
}

/// A second process on the same database and data directory: returns the first one's
/// router, and `app` now answers as the second.
async fn second_process(app: &mut TestApp) -> Router {
    let first = app.router.clone();
    app.restart().await;
    first
}

/// Move the part objects of the session at `loc` out of the storage (so that reading one
/// fails), returning what puts them back.
fn hide_parts(app: &TestApp, loc: &str) -> impl FnOnce() + use<> {
    let id = loc.rsplit('/').next().unwrap();
    let dir = app.dir.path().join("uploads").join(id);
    let aside = app.dir.path().join(format!("aside-{id}"));
    std::fs::create_dir(&aside).unwrap();
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(!names.is_empty());
    for n in &names {
        std::fs::rename(dir.join(n), aside.join(n)).unwrap();
    }
    move || {
        for n in &names {
            std::fs::rename(aside.join(n), dir.join(n)).unwrap();
        }
        std::fs::remove_dir(&aside).unwrap();
    }
}

async fn chunks_continue_on_another_process(b: Backend) {
    let mut app = TestApp::new(b).await;
    let data: Vec<u8> = (0..40_000u32).map(|i| (i * 13 % 256) as u8).collect();
    let loc = open(&app, "two/procs").await;
    let one = second_process(&mut app).await;

    let r = send(
        &one,
        Method::PATCH,
        &loc,
        &[("content-range", "0-9999")],
        data[..10_000].to_vec(),
    )
    .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    // The first chunk's part is gone from the storage while the session goes on: the
    // processes continue the hash from the midstate in the database, never from the parts.
    let restore = hide_parts(&app, &loc);
    // The next chunk reaches the other process, which never saw the session.
    let r = app
        .req(
            Method::PATCH,
            &loc,
            &[("content-range", "10000-19999")],
            data[10_000..20_000].to_vec(),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    assert_eq!(r.header("range").as_deref(), Some("0-19999"));
    // Back to the first, which took only the first chunk: it goes on from the database.
    let status = send(&one, Method::GET, &loc, &[], Body::empty()).await;
    assert_eq!(status.header("range").as_deref(), Some("0-19999"));
    let r = send(&one, Method::PATCH, &loc, &[], data[20_000..30_000].to_vec()).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.header("range").as_deref(), Some("0-29999"));
    // The blob is the parts joined: the first one must be back for that, not for the hash.
    restore();
    // The second process finishes, with the last chunk in the PUT.
    let d = digest_of(&data);
    let fin = app
        .req(
            Method::PUT,
            &format!("{loc}?digest={d}"),
            &[("content-range", "30000-39999")],
            data[30_000..].to_vec(),
        )
        .await;
    assert_eq!(
        fin.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&fin.body)
    );
    assert_eq!(fin.header("docker-content-digest"), Some(d.clone()));
    for got in [
        app.get(&format!("/v2/two/procs/blobs/{d}")).await,
        send(
            &one,
            Method::GET,
            &format!("/v2/two/procs/blobs/{d}"),
            &[],
            Body::empty(),
        )
        .await,
    ] {
        assert_eq!(got.status, StatusCode::OK);
        assert_eq!(digest_of(&got.body), d);
    }
    assert_eq!(app.upload_files(), 0);
    // Both processes see the session gone.
    assert_eq!(
        send(&one, Method::GET, &loc, &[], Body::empty()).await.code(),
        "BLOB_UPLOAD_UNKNOWN"
    );

    // An empty PUT closing a session on the process that did not take its chunk.
    let loc = open(&app, "two/procs").await;
    let r = app.req(Method::PATCH, &loc, &[], data.clone()).await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let d = digest_of(&data);
    let fin = send(&one, Method::PUT, &format!("{loc}?digest={d}"), &[], Body::empty()).await;
    assert_eq!(fin.status, StatusCode::CREATED);
    assert_eq!(digest_of(&app.get(&format!("/v2/two/procs/blobs/{d}")).await.body), d);

    // A wrong digest is still refused on the other process, checked from the midstate
    // alone (the part is away), and the session is removed.
    let probe = open(&app, "two/procs").await;
    let r = send(&one, Method::PATCH, &probe, &[], data[..100].to_vec()).await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let restore = hide_parts(&app, &probe);
    let wrong = digest_of(b"something else");
    let bad = app
        .req(Method::PUT, &format!("{probe}?digest={wrong}"), &[], Body::empty())
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.code(), "DIGEST_INVALID");
    assert_eq!(bad.json()["errors"][0]["detail"]["actual"], digest_of(&data[..100]));
    // The session is gone; its part stays away with it.
    drop(restore);
    assert_eq!(app.get(&probe).await.code(), "BLOB_UPLOAD_UNKNOWN");
}

async fn a_failed_chunk_on_another_process_changes_nothing(b: Backend) {
    let mut app = TestApp::new(b).await;
    let loc = open(&app, "flaky/two").await;
    let one = second_process(&mut app).await;
    assert_eq!(
        send(&one, Method::PATCH, &loc, &[], vec![1u8; 1000]).await.status,
        StatusCode::ACCEPTED
    );
    // On the second process: a body that breaks, one shorter than its range, one that
    // starts at the wrong offset.
    let stream = futures_util::stream::iter(vec![
        Ok::<_, std::io::Error>(Bytes::from(vec![2u8; 500])),
        Err(std::io::Error::other("connection reset")),
    ]);
    let broken = app.req(Method::PATCH, &loc, &[], Body::from_stream(stream)).await;
    assert_eq!(broken.status, StatusCode::BAD_REQUEST);
    assert_eq!(broken.code(), "BLOB_UPLOAD_INVALID");
    let short = app
        .req(Method::PATCH, &loc, &[("content-range", "1000-1999")], vec![2u8; 600])
        .await;
    assert_eq!(short.status, StatusCode::RANGE_NOT_SATISFIABLE);
    let wrong = app
        .req(Method::PATCH, &loc, &[("content-range", "900-1899")], vec![2u8; 1000])
        .await;
    assert_eq!(wrong.status, StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(wrong.header("range").as_deref(), Some("0-999"));
    for status in [
        app.get(&loc).await,
        send(&one, Method::GET, &loc, &[], Body::empty()).await,
    ] {
        assert_eq!(
            status.header("range").as_deref(),
            Some("0-999"),
            "the session stayed where it was"
        );
    }
    assert_eq!(part_files(&app, &loc), 1, "refused chunks leave no part");
    // A last chunk that breaks in the PUT leaves the session too.
    let stream = futures_util::stream::iter(vec![
        Ok::<_, std::io::Error>(Bytes::from(vec![2u8; 500])),
        Err(std::io::Error::other("connection reset")),
    ]);
    let mut all = vec![1u8; 1000];
    all.extend(vec![2u8; 1000]);
    let d = digest_of(&all);
    let put = app
        .req(
            Method::PUT,
            &format!("{loc}?digest={d}"),
            &[],
            Body::from_stream(stream),
        )
        .await;
    assert_eq!(put.status, StatusCode::BAD_REQUEST);
    assert_eq!(app.blob_files(), 0);
    assert_eq!(app.get(&loc).await.header("range").as_deref(), Some("0-999"));

    // The session goes on, on the first process.
    let r = send(
        &one,
        Method::PATCH,
        &loc,
        &[("content-range", "1000-1999")],
        vec![2u8; 1000],
    )
    .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let fin = app
        .req(Method::PUT, &format!("{loc}?digest={d}"), &[], Body::empty())
        .await;
    assert_eq!(fin.status, StatusCode::CREATED);
    assert_eq!(app.get(&format!("/v2/flaky/two/blobs/{d}")).await.body, all);
}

async fn two_processes_at_one_offset_cannot_both_append(b: Backend) {
    let mut app = TestApp::new(b).await;
    let loc = open(&app, "race/two").await;
    let one = second_process(&mut app).await;
    app.req(Method::PATCH, &loc, &[], b"head-".to_vec()).await;

    // The first process receives a chunk at 5 that stalls; the second appends at 5 meanwhile.
    let (go, gate) = tokio::sync::oneshot::channel::<()>();
    let stalled = futures_util::stream::once(async { Ok::<_, std::io::Error>(Bytes::from_static(b"one")) }).chain(
        futures_util::stream::once(async move {
            let _ = gate.await;
            Ok::<_, std::io::Error>(Bytes::from_static(b"-one"))
        }),
    );
    let slow = send(
        &one,
        Method::PATCH,
        &loc,
        &[("content-range", "5-11")],
        Body::from_stream(stalled),
    );
    let fast = async {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let r = app
            .req(Method::PATCH, &loc, &[("content-range", "5-11")], b"two-two".to_vec())
            .await;
        go.send(()).unwrap();
        r
    };
    let (slow, fast) = tokio::join!(slow, fast);
    assert_eq!(fast.status, StatusCode::ACCEPTED);
    assert_eq!(slow.status, StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(slow.code(), "BLOB_UPLOAD_INVALID");
    assert_eq!(slow.header("range").as_deref(), Some("0-11"));
    assert_eq!(part_files(&app, &loc), 2, "the loser's part is gone");

    let d = digest_of(b"head-two-two");
    let fin = send(&one, Method::PUT, &format!("{loc}?digest={d}"), &[], Body::empty()).await;
    assert_eq!(fin.status, StatusCode::CREATED);
    assert_eq!(app.get(&format!("/v2/race/two/blobs/{d}")).await.body, b"head-two-two");
}
