//! Publish throughput benchmark (issue 10): the production router in process
//! (`tower::ServiceExt::oneshot`, no network) on a fresh PostgreSQL database, timing only
//! the publish calls (`POST /api/v1/packages/{ns}/{name}/versions`).
//!
//! ```text
//! cargo bench -p govstore-server --bench publish                  # 300 publishes per mode
//! cargo bench -p govstore-server --bench publish -- -n 1000
//! cargo test  -p govstore-server --bench publish -- --smoke       # 10 per mode, dev build
//! ```
//!
//! Options: `--smoke` (N = 10), `-n N` (default 300), `--database-url URL` (the server the
//! bench creates its own database on, and drops it after; default `GOVSTORE_TEST_POSTGRES_URL`
//! or `postgres://postgres:postgres@127.0.0.1:5432/postgres`).
//!
//! Setup, untimed, as `govstore publish` does it: a user, an organisation, a token and a
//! registered key; then for every publish of both modes the blobs (config, content, readme)
//! uploaded through the OCI API and the manifest and simple-signing payload built and signed.
//! The publishes go to a few packages with many versions each, every tenth to a new package.
//!
//! Modes: `sequential`, N publishes one after another; `concurrent-8`, another N with 8 in
//! flight at a time (tokio tasks on the multi-thread runtime). Prints publishes per second
//! (N over the wall time of the mode) and p50/p99 latency of one publish call.
//!
//! Only API that exists both today and at c3ad660 (before the event sequence) is used, so the
//! same file builds at both commits (`scripts/bench-publish-events.sh`).

use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, bail, ensure};
use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use base64::Engine as _;
use govstore_core::Digest;
use govstore_core::artifact::{Blob, PackageArtifact};
use govstore_core::manifest::Manifest;
use govstore_server::admin;
use govstore_server::config::Config;
use govstore_signing::{KeyPair, simple_signing};
use http_body_util::BodyExt;
use sea_orm::{ConnectionTrait, Database};
use tower::ServiceExt;

const NS: &str = "bench";
const CONCURRENCY: usize = 8;
/// Packages with many versions per mode; every tenth publish goes to a new package instead.
const PACKAGES: usize = 4;

struct Options {
    n: usize,
    database_url: String,
}

fn options() -> anyhow::Result<Options> {
    let mut smoke = std::env::var("GOVSTORE_BENCH_SMOKE").is_ok_and(|v| v == "1");
    let mut n = None;
    let mut database_url = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--smoke" => smoke = true,
            "-n" => n = Some(args.next().context("-n N")?.parse::<usize>().context("-n N")?),
            "--database-url" => database_url = Some(args.next().context("--database-url URL")?),
            "--bench" => {}
            other => bail!("unknown argument {other:?}\nusage: publish [--smoke] [-n N] [--database-url URL]"),
        }
    }
    let n = n.unwrap_or(if smoke { 10 } else { 300 }).clamp(1, 100_000);
    let database_url = database_url
        .or_else(|| std::env::var("GOVSTORE_TEST_POSTGRES_URL").ok())
        .unwrap_or_else(|| "postgres://postgres:postgres@127.0.0.1:5432/postgres".into());
    Ok(Options { n, database_url })
}

async fn send(
    router: &Router,
    method: Method,
    uri: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> anyhow::Result<(StatusCode, Vec<u8>)> {
    let mut req = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = router.clone().oneshot(req.body(Body::from(body))?).await?;
    let status = res.status();
    let body = res.into_body().collect().await?.to_bytes().to_vec();
    Ok((status, body))
}

async fn expect(
    router: &Router,
    method: Method,
    uri: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
    want: StatusCode,
) -> anyhow::Result<()> {
    let (status, body) = send(router, method, uri, headers, body).await?;
    ensure!(status == want, "{uri}: {status}: {}", String::from_utf8_lossy(&body));
    Ok(())
}

async fn upload(router: &Router, repo: &str, auth: &str, data: &[u8]) -> anyhow::Result<Blob> {
    let digest = Digest::of(data);
    let uri = format!("/v2/{repo}/blobs/uploads/?digest={digest}");
    expect(
        router,
        Method::POST,
        &uri,
        &[("authorization", auth)],
        data.to_vec(),
        StatusCode::CREATED,
    )
    .await?;
    Ok(Blob {
        digest,
        size: data.len() as u64,
    })
}

/// A deterministic tar.gz of one file.
fn tarball(path: &str, data: &[u8]) -> anyhow::Result<Vec<u8>> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    let mut h = tar::Header::new_ustar();
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_mtime(0);
    h.set_entry_type(tar::EntryType::Regular);
    tar.append_data(&mut h, path, data)?;
    Ok(tar.into_inner()?.finish()?)
}

/// A publish ready to send: the URI and the JSON body.
struct Prepared {
    uri: String,
    body: Vec<u8>,
}

/// Upload the blobs of `name` `version` and build and sign its manifest, as `govstore publish` does.
async fn prepare(router: &Router, auth: &str, key: &KeyPair, name: &str, version: &str) -> anyhow::Result<Prepared> {
    let toml = format!(
        "[package]\nname = \"{name}\"\nversion = \"{version}\"\ndescription = \"A benchmark building block called {name}\"\nlicense = \"Apache-2.0\"\n"
    );
    let manifest = Manifest::from_toml_str(&toml).map_err(|e| anyhow::anyhow!("{e}"))?;
    let config = upload(router, name, auth, manifest.canonical_json().as_bytes()).await?;
    let values = format!("replicas: 1\n# {name} {version}\n");
    let content = upload(router, name, auth, &tarball("deploy/values.yaml", values.as_bytes())?).await?;
    let readme = upload(router, name, auth, format!("# {name}\n").as_bytes()).await?;
    let artifact = PackageArtifact {
        name: name.to_owned(),
        version: version.to_owned(),
        config,
        content,
        readme: Some(readme),
        sbom: None,
    };
    let bytes = artifact.manifest_bytes();
    let digest = Digest::of(&bytes);
    let payload = simple_signing::payload(&format!("127.0.0.1:5000/{name}"), &digest);
    let signature = key.sign(&payload).map_err(|e| anyhow::anyhow!("{e}"))?;
    let b64 = base64::engine::general_purpose::STANDARD;
    let body = serde_json::json!({
        "manifest": String::from_utf8(bytes)?,
        "payload": b64.encode(&payload),
        "signature": b64.encode(&signature),
    })
    .to_string()
    .into_bytes();
    Ok(Prepared {
        uri: format!("/api/v1/packages/{name}/versions"),
        body,
    })
}

/// The (name, version) of publish `i` of a mode: a few packages with many versions each,
/// every tenth a new package.
fn target(mode: &str, i: usize) -> (String, String) {
    if i % 10 == 9 {
        (format!("{NS}/{mode}-new-{i}"), "1.0.0".into())
    } else {
        (format!("{NS}/{mode}-{}", i % PACKAGES), format!("1.0.{i}"))
    }
}

async fn publish(router: &Router, auth: &str, p: &Prepared) -> anyhow::Result<f64> {
    let headers = [("authorization", auth), ("content-type", "application/json")];
    let start = Instant::now();
    let (status, body) = send(router, Method::POST, &p.uri, &headers, p.body.clone()).await?;
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    ensure!(
        status == StatusCode::CREATED,
        "{}: {status}: {}",
        p.uri,
        String::from_utf8_lossy(&body)
    );
    Ok(ms)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn report(mode: &str, mut latencies: Vec<f64>, wall_s: f64) {
    latencies.sort_by(f64::total_cmp);
    println!(
        "{mode}: {} publishes, {:.1}/s, p50 {:.1} ms, p99 {:.1} ms",
        latencies.len(),
        latencies.len() as f64 / wall_s,
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
    );
}

async fn run(opts: &Options, database_url: String) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut config = Config::for_data_dir(dir.path());
    config.database_url = Some(database_url);
    let state = govstore_server::app::state(config).await?;
    let router = govstore_server::app::router(state.clone());
    let db = &state.db;
    admin::create_user(db, "bencher", false).await?;
    admin::create_org(db, NS, "bencher").await?;
    let scopes = [format!("publish:{NS}"), format!("keys:{NS}")];
    let token = admin::create_token(db, "bencher", "bench", &scopes, Some(1)).await?;
    let auth = format!("Bearer {token}");
    let key = KeyPair::generate().map_err(|e| anyhow::anyhow!("{e}"))?;
    let pem = key.public_key().to_pem();
    let body = serde_json::json!({ "public_key": pem, "name": "bench" }).to_string();
    let headers = [("authorization", auth.as_str()), ("content-type", "application/json")];
    let uri = format!("/api/v1/namespaces/{NS}/keys");
    expect(
        &router,
        Method::POST,
        &uri,
        &headers,
        body.into_bytes(),
        StatusCode::CREATED,
    )
    .await?;

    let started = Instant::now();
    let mut sequential = Vec::with_capacity(opts.n);
    let mut concurrent = Vec::with_capacity(opts.n);
    for i in 0..opts.n {
        let (name, version) = target("seq", i);
        sequential.push(prepare(&router, &auth, &key, &name, &version).await?);
        let (name, version) = target("par", i);
        concurrent.push(prepare(&router, &auth, &key, &name, &version).await?);
    }
    eprintln!(
        "prepared {} publishes in {:.1} s",
        2 * opts.n,
        started.elapsed().as_secs_f64()
    );

    let start = Instant::now();
    let mut latencies = Vec::with_capacity(opts.n);
    for p in &sequential {
        latencies.push(publish(&router, &auth, p).await?);
    }
    report("sequential", latencies, start.elapsed().as_secs_f64());

    let auth = Arc::new(auth);
    let sem = Arc::new(tokio::sync::Semaphore::new(CONCURRENCY));
    let mut tasks = tokio::task::JoinSet::new();
    let start = Instant::now();
    for p in concurrent {
        let permit = sem.clone().acquire_owned().await?;
        let (router, auth) = (router.clone(), auth.clone());
        tasks.spawn(async move {
            let ms = publish(&router, &auth, &p).await;
            drop(permit);
            ms
        });
    }
    let mut latencies = Vec::with_capacity(opts.n);
    while let Some(ms) = tasks.join_next().await {
        latencies.push(ms??);
    }
    report(
        &format!("concurrent-{CONCURRENCY}"),
        latencies,
        start.elapsed().as_secs_f64(),
    );
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let opts = options()?;
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async {
        let name = format!("govstore_bench_{}", uuid::Uuid::new_v4().simple());
        let admin = Database::connect(&opts.database_url)
            .await
            .with_context(|| format!("connecting to PostgreSQL at {}", opts.database_url))?;
        admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await?;
        let base = opts
            .database_url
            .rsplit_once('/')
            .map(|(b, _)| b.to_owned())
            .context("database URL")?;
        let result = run(&opts, format!("{base}/{name}")).await;
        let dropped = admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await;
        admin.close().await?;
        result?;
        dropped?;
        Ok(())
    })
}
