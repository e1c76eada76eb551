//! Test harness: the production router, in process, on SQLite or on a fresh
//! PostgreSQL database, driven with `tower::ServiceExt::oneshot`.
#![allow(dead_code, clippy::unwrap_used)]

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use govstore_server::config::Config;
use govstore_server::state::AppState;
use http_body_util::BodyExt;
use sea_orm::{ConnectionTrait, Database};
use tempfile::TempDir;
use tower::ServiceExt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The PostgreSQL server tests create their databases on. CI starts one; a missing
/// server fails the PostgreSQL tests loudly rather than skipping them.
pub fn postgres_admin_url() -> String {
    std::env::var("GOVSTORE_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

pub struct TestApp {
    pub state: AppState,
    pub router: Router,
    pub dir: TempDir,
    config: Config,
    pg_db: Option<String>,
}

pub struct Res {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Res {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).map(|v| v.to_str().unwrap().to_owned())
    }

    /// The OCI error code of an error response.
    pub fn code(&self) -> String {
        self.json()["errors"][0]["code"].as_str().unwrap_or_default().to_owned()
    }
}

impl TestApp {
    pub async fn new(backend: Backend) -> Self {
        Self::with(backend, |_| {}).await
    }

    /// A server with anonymous push on (as a local experiment would run it) and
    /// `configure` applied.
    pub async fn with(backend: Backend, configure: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::for_data_dir(dir.path());
        config.insecure_anonymous_push = true;
        let mut pg_db = None;
        if backend == Backend::Postgres {
            let name = format!("govstore_t_{}", uuid::Uuid::new_v4().simple());
            let admin = Database::connect(postgres_admin_url())
                .await
                .expect("PostgreSQL for tests must be running");
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .unwrap();
            admin.close().await.unwrap();
            let base = postgres_admin_url();
            let base = base.rsplit_once('/').map(|(b, _)| b.to_owned()).unwrap();
            config.database_url = Some(format!("{base}/{name}"));
            pg_db = Some(name);
        }
        configure(&mut config);
        let state = govstore_server::app::state(config.clone()).await.unwrap();
        let router = govstore_server::app::router(state.clone());
        Self {
            state,
            router,
            dir,
            config,
            pg_db,
        }
    }

    /// Another replica: a server on the same database with its own data directory (and so its
    /// own blobs and search index), as behind a load balancer. Keep the directory alive.
    #[allow(dead_code)]
    pub async fn replica(&self) -> (AppState, TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let mut config = self.config.clone();
        config.database_url = Some(self.config.effective_database_url());
        config.data_dir = dir.path().to_owned();
        (govstore_server::app::state(config).await.unwrap(), dir)
    }

    /// A new server process on the same data directory and database, as after a restart.
    pub async fn restart(&mut self) {
        let state = govstore_server::app::state(self.config.clone()).await.unwrap();
        self.router = govstore_server::app::router(state.clone());
        self.state = state;
    }

    pub async fn send(&self, req: Request<Body>) -> Res {
        let res = self.router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let body = res.into_body().collect().await.unwrap().to_bytes().to_vec();
        Res { status, headers, body }
    }

    pub async fn req(&self, method: Method, uri: &str, headers: &[(&str, &str)], body: impl Into<Body>) -> Res {
        let mut b = Request::builder().method(method).uri(uri);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        self.send(b.body(body.into()).unwrap()).await
    }

    pub async fn get(&self, uri: &str) -> Res {
        self.req(Method::GET, uri, &[], Body::empty()).await
    }

    /// Push a blob with a monolithic upload; returns its digest.
    pub async fn push_blob(&self, repo: &str, data: &[u8]) -> String {
        let digest = digest_of(data);
        let res = self
            .req(
                Method::POST,
                &format!("/v2/{repo}/blobs/uploads/?digest={digest}"),
                &[],
                data.to_vec(),
            )
            .await;
        assert_eq!(
            res.status,
            StatusCode::CREATED,
            "{}",
            String::from_utf8_lossy(&res.body)
        );
        digest
    }

    /// Push a manifest under a tag or digest; returns the response.
    pub async fn put_manifest(&self, repo: &str, reference: &str, media_type: &str, body: &[u8]) -> Res {
        self.req(
            Method::PUT,
            &format!("/v2/{repo}/manifests/{reference}"),
            &[("content-type", media_type)],
            body.to_vec(),
        )
        .await
    }

    /// Files in the uploads directory (sessions and in-flight uploads).
    pub fn upload_files(&self) -> usize {
        std::fs::read_dir(self.dir.path().join("uploads")).unwrap().count()
    }

    /// Committed blob files.
    pub fn blob_files(&self) -> usize {
        walk(&self.dir.path().join("blobs"))
    }
}

fn walk(p: &std::path::Path) -> usize {
    std::fs::read_dir(p)
        .map(|rd| {
            rd.flatten()
                .map(|e| if e.path().is_dir() { walk(&e.path()) } else { 1 })
                .sum()
        })
        .unwrap_or(0)
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(name) = self.pg_db.take() {
            // Drop the database from a separate runtime: Drop cannot await.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async {
                    if let Ok(admin) = Database::connect(postgres_admin_url()).await {
                        let _ = admin
                            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                            .await;
                    }
                });
            })
            .join();
        }
    }
}

pub fn digest_of(data: &[u8]) -> String {
    govstore_core::Digest::of(data).to_string()
}

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

/// An image manifest JSON over blobs pushed as (digest, size), first one the config.
pub fn image_manifest(config: (&str, usize), layers: &[(&str, usize)], extra: serde_json::Value) -> Vec<u8> {
    let mut m = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": { "mediaType": "application/vnd.govstore.test.config.v1+json", "digest": config.0, "size": config.1 },
        "layers": layers.iter().map(|(d, s)| serde_json::json!({
            "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": d, "size": s
        })).collect::<Vec<_>>(),
    });
    if let serde_json::Value::Object(extra) = extra {
        for (k, v) in extra {
            m[k] = v;
        }
    }
    serde_json::to_vec(&m).unwrap()
}

/// Run each named `async fn(Backend)` as two tests: on SQLite and on PostgreSQL.
#[macro_export]
macro_rules! on_both_backends {
    ($($case:ident),* $(,)?) => {
        $(
            mod $case {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$case($crate::common::Backend::Sqlite).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$case($crate::common::Backend::Postgres).await
                }
            }
        )*
    };
}
