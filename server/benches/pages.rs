//! Page rendering benchmark: every page type of the web catalogue, rendered by the
//! production router in process (`tower::ServiceExt::oneshot`, no network), on the demo
//! catalogue that `serve --demo` publishes.
//!
//! ```text
//! cargo bench -p govstore-server --bench pages               # 300 requests per page
//! cargo bench -p govstore-server --bench pages -- --requests 1000
//! cargo test  -p govstore-server --bench pages -- --smoke    # 10 requests per page, dev build
//! ```
//!
//! Setup as `serve --demo` does it: a SQLite data directory in a temporary directory, the
//! production state and router, a real listening server on a loopback port for the demo
//! publisher (`govstore_server::demo::run` publishes the specs and every package of
//! `catalog-examples/` signed, through `govstore-client`), and the DPG registry extract
//! (`../shared/data/dpg/dpg-registry-2023.jsonl`, or `GOVSTORE_DPG_FILE`) imported as
//! listings as `govstore-server import dpg` does it, when the extract is there.
//!
//! Prints, per page: HTTP status, p50/p99/max server time (request in, whole body out)
//! over the requests after a warm-up, the mean CPU time the process spent per request (all
//! threads; steadier than wall times when other work shares the machine), and the HTML
//! size, raw and gzip-compressed; then the stylesheet's size and the heaviest package
//! page's HTML + CSS against the 60 KB target. Every page must answer its status (200, or
//! 404 for the unknown package) with its landmark markup (`id="readme"` on a package page,
//! ...); one that does not is printed with what is wrong and fails the run.

use std::io::Write as _;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, bail};
use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use govstore_server::app;
use govstore_server::config::Config;
use http_body_util::BodyExt;
use tower::ServiceExt;

/// The targets of issue 5.
const TARGET_MS: f64 = 5.0;
const TARGET_PACKAGE_BYTES: usize = 60 * 1024;

#[derive(Debug)]
struct Options {
    requests: usize,
}

fn options() -> anyhow::Result<Options> {
    let mut smoke = std::env::var("GOVSTORE_BENCH_SMOKE").is_ok_and(|v| v == "1");
    let mut requests = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--smoke" => smoke = true,
            "--requests" => requests = Some(args.next().context("--requests N")?.parse().context("--requests N")?),
            "--bench" => {}
            other => bail!("unknown argument {other:?}\nusage: pages [--smoke] [--requests N]"),
        }
    }
    let requests: usize = requests.unwrap_or(if smoke { 10 } else { 300 });
    Ok(Options {
        requests: requests.clamp(1, 100_000),
    })
}

/// One response, whole.
struct Got {
    status: StatusCode,
    body: Vec<u8>,
    ms: f64,
}

async fn send(
    router: &Router,
    method: Method,
    uri: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> anyhow::Result<Got> {
    let mut req = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::ACCEPT_LANGUAGE, "en");
    if let Some(ct) = content_type {
        req = req.header(header::CONTENT_TYPE, ct);
    }
    let req = req.body(Body::from(body))?;
    let start = Instant::now();
    let res = router.clone().oneshot(req).await?;
    let status = res.status();
    let body = res.into_body().collect().await?.to_bytes().to_vec();
    Ok(Got {
        status,
        body,
        ms: start.elapsed().as_secs_f64() * 1000.0,
    })
}

fn gzip(bytes: &[u8]) -> anyhow::Result<usize> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(bytes)?;
    Ok(gz.finish()?.len())
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

fn kb(bytes: usize) -> String {
    format!("{:.1} KB", bytes as f64 / 1024.0)
}

/// A page to time: its label, path, form body (for the stack check), the status it must
/// answer and a piece of markup it must contain (so that the page timed is the real one).
struct Page {
    label: &'static str,
    uri: String,
    form: Option<(String, Vec<u8>)>,
    status: StatusCode,
    contains: &'static str,
}

impl Page {
    fn get(label: &'static str, uri: impl Into<String>, contains: &'static str) -> Self {
        Self {
            label,
            uri: uri.into(),
            form: None,
            status: StatusCode::OK,
            contains,
        }
    }
}

struct Timed {
    label: &'static str,
    uri: String,
    status: StatusCode,
    /// What is wrong with the answer, if anything.
    wrong: Option<String>,
    p50: f64,
    p99: f64,
    max: f64,
    /// Mean CPU time of the whole process per request (all threads: handlers, SQLite).
    cpu: Option<f64>,
    bytes: usize,
    gzip: usize,
}

/// CPU time of this process so far (user + system, all threads, in clock ticks of 10 ms:
/// meaningful over many requests, not for one).
fn process_cpu_ms() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i)?.parse::<f64>().ok();
    // After the command name: state is field 3, utime field 14, stime field 15.
    Some((ticks(11)? + ticks(12)?) * 10.0)
}

async fn time_page(router: &Router, page: &Page, n: usize) -> anyhow::Result<Timed> {
    let go = || async {
        match &page.form {
            Some((ct, body)) => send(router, Method::POST, &page.uri, Some(ct), body.clone()).await,
            None => send(router, Method::GET, &page.uri, None, Vec::new()).await,
        }
    };
    for _ in 0..(n / 10).max(3) {
        go().await?;
    }
    let mut ms = Vec::with_capacity(n);
    let mut last = None;
    let cpu_before = process_cpu_ms();
    for _ in 0..n {
        let got = go().await?;
        ms.push(got.ms);
        last = Some(got);
    }
    let cpu = match (cpu_before, process_cpu_ms()) {
        (Some(a), Some(b)) => Some((b - a) / n as f64),
        _ => None,
    };
    let last = last.context("no request made")?;
    ms.sort_by(f64::total_cmp);
    let wrong = if last.status != page.status {
        Some(format!("answered {} (expected {})", last.status, page.status))
    } else if !String::from_utf8_lossy(&last.body).contains(page.contains) {
        Some(format!("has no {:?}", page.contains))
    } else {
        None
    };
    Ok(Timed {
        label: page.label,
        uri: page.uri.clone(),
        status: last.status,
        wrong,
        p50: percentile(&ms, 0.50),
        p99: percentile(&ms, 0.99),
        max: ms.last().copied().unwrap_or(0.0),
        cpu,
        bytes: last.body.len(),
        gzip: gzip(&last.body)?,
    })
}

/// A multipart form with one text field, as a browser sends the stack check.
fn multipart(field: &str, text: &str) -> (String, Vec<u8>) {
    let boundary = "----govstorebenchboundary7MA4YWxkTrZu0gW";
    let body =
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"\r\n\r\n{text}\r\n--{boundary}--\r\n");
    (format!("multipart/form-data; boundary={boundary}"), body.into_bytes())
}

/// The first `href="..."` value in `html` that starts with `prefix`.
fn find_href(html: &str, prefix: &str) -> Option<String> {
    let needle = format!("href=\"{prefix}");
    let start = html.find(&needle)? + "href=\"".len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].replace("&amp;", "&"))
}

async fn setup(data: &Path) -> anyhow::Result<Router> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let state = app::state(Config::for_data_dir(data)).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = app::router(state.clone());
    tokio::spawn(async move { axum::serve(listener, server).await });
    let start = Instant::now();
    let report = govstore_server::demo::run(&state, &format!("http://{addr}"), &root.join("catalog-examples")).await?;
    println!(
        "setup: demo catalogue published in {:.1} s ({} specs, {} packages)",
        start.elapsed().as_secs_f64(),
        report.specs,
        report.published
    );
    publish_long_readme(&state, &format!("http://{addr}"), &report.token, &root, data).await?;
    let dpg = std::env::var_os("GOVSTORE_DPG_FILE")
        .map_or_else(|| root.join("../shared/data/dpg/dpg-registry-2023.jsonl"), Into::into);
    if dpg.is_file() {
        let summary = govstore_server::import::import_dpg_file(&state.db, &dpg).await?;
        let n = state.search.rebuild(&state.db.read).await?;
        println!(
            "setup: DPG extract imported ({} listings), {n} documents in the search index",
            summary.imported
        );
    } else {
        println!(
            "setup: no DPG extract at {} (GOVSTORE_DPG_FILE): DPG listings are not in this run",
            dpg.display()
        );
    }
    Ok(app::router(state))
}

/// The package whose page is the heaviest to render: `mosip/esignet-handbook`, eSignet's
/// manifest with every README of the catalogue as its README (about 27 KB of Markdown with
/// headings, lists, tables, links and code), published signed with the demo key.
async fn publish_long_readme(
    state: &govstore_server::state::AppState,
    base_url: &str,
    token: &str,
    root: &Path,
    data: &Path,
) -> anyhow::Result<()> {
    let catalogue = root.join("catalog-examples");
    let dir = data.join("bench-long-readme");
    std::fs::create_dir_all(&dir)?;
    let manifest = std::fs::read_to_string(catalogue.join("mosip-esignet/govstore.toml"))?;
    let renamed = manifest.replace("name = \"mosip/esignet\"", "name = \"mosip/esignet-handbook\"");
    if renamed == manifest {
        bail!("catalog-examples/mosip-esignet/govstore.toml no longer names mosip/esignet");
    }
    std::fs::write(dir.join("govstore.toml"), renamed)?;
    let mut dirs: Vec<_> = std::fs::read_dir(&catalogue)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("README.md").is_file())
        .collect();
    dirs.sort();
    let mut readme = String::new();
    for d in dirs {
        readme.push_str(&std::fs::read_to_string(d.join("README.md"))?);
        readme.push_str("\n\n");
    }
    std::fs::write(dir.join("README.md"), &readme)?;
    let pem = std::fs::read_to_string(state.config.data_dir.join("demo-keys/mosip.key"))?;
    let key = govstore_signing::KeyPair::from_encrypted_pem(&pem, govstore_server::demo::DEMO_KEY_PASSWORD.as_bytes())?;
    let client = govstore_client::registry::RegistryClient::new(base_url, Some(token.to_owned()))?;
    let progress: std::sync::Arc<dyn govstore_client::progress::Progress> =
        std::sync::Arc::new(govstore_client::progress::NoProgress);
    govstore_client::publish::publish(&client, &dir, &key, &Default::default(), &progress).await?;
    println!(
        "setup: published mosip/esignet-handbook with a {} README",
        kb(readme.len())
    );
    Ok(())
}

async fn bench(o: &Options) -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let router = setup(tmp.path()).await?;

    let stack = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../catalog-examples/stack-xroad-mosip-kubernetes.toml"),
    )?;
    let mut pages = vec![
        Page::get("home", "/", "id=\"building-blocks\""),
        Page::get("search, words", "/search?q=identity", "id=\"results\""),
        Page::get(
            "search, words + facets",
            "/search?q=identity&spec=govstack%2Fidentity&license=MPL-2.0",
            "aria-current=\"true\"",
        ),
        Page::get("search, browse all", "/search", "id=\"facets\""),
        Page::get("package", "/packages/mosip/esignet", "id=\"readme\""),
        Page::get(
            "package, older version",
            "/packages/mosip/esignet?version=1.7.1",
            "id=\"versions\"",
        ),
        Page::get(
            "package, 27 KB README",
            "/packages/mosip/esignet-handbook",
            "id=\"readme\"",
        ),
        Page::get("spec", "/specs/govstack/identity", "mosip/esignet"),
        Page::get("publisher", "/publishers/mosip", "mosip/esignet"),
        Page::get(
            "compare (3)",
            "/compare?p=mosip/esignet&p=keycloak/keycloak&p=mosip/id-repository",
            "id=\"compare\"",
        ),
        Page::get("stack check form", "/stack-check", "id=\"stack-form\""),
        Page {
            label: "stack check result",
            uri: "/stack-check".into(),
            form: Some(multipart("stack", &stack)),
            status: StatusCode::OK,
            contains: "id=\"result\"",
        },
        Page {
            status: StatusCode::NOT_FOUND,
            ..Page::get("not found", "/packages/nobody/nothing", "<h1")
        },
    ];
    // A DPG listing, found the way a visitor finds one: from a search result.
    let found = send(&router, Method::GET, "/search?q=health", None, Vec::new()).await?;
    match find_href(&String::from_utf8_lossy(&found.body), "/listings/") {
        Some(href) => pages.push(Page::get("DPG listing", href, "<h1")),
        None => println!("note: no /listings/ link on /search?q=health: no DPG listing page to time"),
    }

    let mut timed = Vec::new();
    for p in &pages {
        timed.push(time_page(&router, p, o.requests).await?);
    }

    // The stylesheet, as the home page links it.
    let home = send(&router, Method::GET, "/", None, Vec::new()).await?;
    let css_href =
        find_href(&String::from_utf8_lossy(&home.body), "/static/").context("the home page links no stylesheet")?;
    let css = send(&router, Method::GET, &css_href, None, Vec::new()).await?;
    if css.status != StatusCode::OK {
        bail!("{css_href} answered {}", css.status);
    }

    // Every package page of the catalogue: the largest and the slowest.
    let mut largest = (0, String::new());
    let mut slowest = (0.0, String::new());
    for name in package_names()? {
        let page = Page::get("package", format!("/packages/{name}"), "id=\"readme\"");
        let t = time_page(&router, &page, (o.requests / 10).max(3)).await?;
        if let Some(wrong) = t.wrong {
            bail!("/packages/{name} {wrong}");
        }
        if t.bytes > largest.0 {
            largest = (t.bytes, name.clone());
        }
        if t.p99 > slowest.0 {
            slowest = (t.p99, name);
        }
    }

    println!(
        "page rendering: {} requests per page after a warm-up, in process (tower oneshot, whole body), SQLite, \
         {} cores",
        o.requests,
        std::thread::available_parallelism().map_or(0, usize::from)
    );
    println!(
        "  {:<24} {:<68} {:>6} {:>7} {:>7} {:>7} {:>7} {:>9} {:>8}",
        "page", "request", "status", "p50 ms", "p99 ms", "max ms", "cpu ms", "HTML", "gzip"
    );
    for t in &timed {
        println!(
            "  {:<24} {:<68} {:>6} {:>7.2} {:>7.2} {:>7.2} {:>7} {:>9} {:>8}{}",
            t.label,
            if t.label == "stack check result" {
                format!("POST {}", t.uri)
            } else {
                t.uri.clone()
            },
            t.status.as_u16(),
            t.p50,
            t.p99,
            t.max,
            t.cpu.map_or_else(|| "-".to_owned(), |c| format!("{c:.2}")),
            kb(t.bytes),
            kb(t.gzip),
            t.wrong.as_ref().map_or_else(String::new, |w| format!("  WRONG: {w}"))
        );
    }
    println!(
        "  stylesheet {css_href}: {} ({} gzip)",
        kb(css.body.len()),
        kb(gzip(&css.body)?)
    );
    println!(
        "  catalogue package pages: largest {} ({}), slowest at p99 {} ({:.2} ms)",
        largest.1,
        kb(largest.0),
        slowest.1,
        slowest.0
    );
    let heaviest = timed
        .iter()
        .filter(|t| t.label.starts_with("package"))
        .map(|t| t.bytes)
        .chain([largest.0])
        .max()
        .unwrap_or(0);
    let with_css = heaviest + css.body.len();
    let slowest_page = timed
        .iter()
        .fold(("", 0.0), |acc, t| if t.p99 > acc.1 { (t.label, t.p99) } else { acc });
    println!(
        "targets: heaviest package page + CSS {} ({} 60 KB); slowest page at p99 {} {:.2} ms ({} {TARGET_MS} ms)",
        kb(with_css),
        if with_css < TARGET_PACKAGE_BYTES {
            "under"
        } else {
            "OVER"
        },
        slowest_page.0,
        slowest_page.1,
        if slowest_page.1 < TARGET_MS { "under" } else { "OVER" },
    );
    if o.requests < 100 {
        println!("(few requests: the percentiles are rough; run without --smoke)");
    }
    let wrong: Vec<String> = timed
        .iter()
        .filter_map(|t| t.wrong.as_ref().map(|w| format!("{} {}: {w}", t.label, t.uri)))
        .collect();
    if !wrong.is_empty() {
        bail!("pages that did not answer as expected:\n  {}", wrong.join("\n  "));
    }
    Ok(())
}

/// The package names of the example catalogue.
fn package_names() -> anyhow::Result<Vec<String>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../catalog-examples");
    let mut names = Vec::new();
    for e in std::fs::read_dir(&dir)? {
        let manifest = e?.path().join("govstore.toml");
        let Ok(text) = std::fs::read_to_string(&manifest) else {
            continue;
        };
        let doc: toml::Table = text.parse()?;
        if let Some(name) = doc.get("package").and_then(|p| p.get("name")).and_then(|n| n.as_str()) {
            names.push(name.to_owned());
        }
    }
    names.sort();
    names.dedup();
    Ok(names)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let o = options()?;
    bench(&o).await
}
