//! Versioned wire formats as the client meets them: an index document of a newer major
//! format from the registry is refused (and not cached), one with fields this govstore
//! does not know is read; a receipt of a newer major format stops an install before
//! anything is written.

#![allow(clippy::unwrap_used)] // a failing test is meant to panic

use std::sync::Arc;

use axum::Router;
use axum::http::header;
use axum::routing::get;
use govstore_client::cache::Cache;
use govstore_client::index::{IndexClient, IndexError};
use govstore_client::install::{InstallError, InstallOptions, RECEIPT_FILE, Receipt, install};
use govstore_client::progress::{NoProgress, Progress};
use govstore_client::registry::RegistryClient;
use govstore_core::Digest;
use govstore_core::stack::Lockfile;
use govstore_core::wire::FormatVersion;

/// A registry that answers every package document with `body`.
async fn registry(body: &'static str) -> RegistryClient {
    let app = Router::new().route(
        "/api/v1/index/packages/{ns}/{name}",
        get(move || async move { ([(header::ETAG, "\"e\"")], body) }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    RegistryClient::new(&format!("http://{addr}"), None).unwrap()
}

#[tokio::test]
async fn an_index_document_of_a_newer_major_format_is_refused_and_not_cached() {
    let registry = registry(r#"{"format":2,"package":{"name":"mosip/esignet"},"releases":[]}"#).await;
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::new(dir.path());
    let name = "mosip/esignet".parse().unwrap();
    let err = IndexClient::new(registry.clone(), cache.clone(), false)
        .package(&name)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "the registry's index document for package `mosip/esignet` uses format 2; this govstore understands format 1"
    );
    let IndexError::Format(format) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(format.hint(), "upgrade govstore to a release that understands format 2");
    let offline = IndexClient::new(registry, cache, true).package(&name).await;
    assert!(matches!(offline, Err(IndexError::NotCached { .. })), "{offline:?}");
}

#[tokio::test]
async fn an_index_document_with_unknown_fields_and_no_format_is_read() {
    let registry = registry(r#"{"name":"mosip/esignet","versions":[],"mirrors":["https://m.example.gov"]}"#).await;
    let dir = tempfile::tempdir().unwrap();
    let (doc, _) = IndexClient::new(registry, Cache::new(dir.path()), false)
        .package(&"mosip/esignet".parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(doc.format, FormatVersion::V1);
    assert!(doc.versions.is_empty());
}

#[tokio::test]
async fn a_receipt_of_a_newer_major_format_stops_the_install() {
    let cache_dir = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let into = dir.path().join("stack");
    std::fs::create_dir(&into).unwrap();
    let newer = r#"{"receipt_version":"2.1","lock":{"sha256":"00"},"packages":{}}"#;
    std::fs::write(into.join(RECEIPT_FILE), newer).unwrap();
    let lock = Lockfile::new(Digest::of(b"stack"), Vec::new());
    let options = InstallOptions {
        into: into.clone(),
        jobs: 1,
        limits: Default::default(),
        bundle: None,
    };
    let progress: Arc<dyn Progress> = Arc::new(NoProgress);
    let err = install(None, &Cache::new(cache_dir.path()), &lock, &options, &progress)
        .await
        .unwrap_err();
    assert!(matches!(err, InstallError::Format(_)), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!(
            "the install receipt `{}` uses format 2.1; this govstore understands format 1",
            into.join(RECEIPT_FILE).display()
        )
    );
    assert_eq!(std::fs::read_to_string(into.join(RECEIPT_FILE)).unwrap(), newer);
    assert_eq!(std::fs::read_dir(&into).unwrap().count(), 1, "nothing else written");
}

/// A receipt is written with its format; one without it (an older govstore's) or with
/// fields this govstore does not know is read; a same-major newer minor is read.
#[test]
fn receipts_are_written_with_their_format_and_read_leniently() {
    let receipt = Receipt::new(Digest::of(b"lock"), "2026-11-21T18:00:00Z".into(), Vec::new());
    let json: serde_json::Value = serde_json::from_slice(&receipt.to_json().unwrap()).unwrap();
    assert_eq!(json["receipt_version"], serde_json::json!(1));
    let mut older = json.clone();
    older.as_object_mut().unwrap().remove("receipt_version");
    older["installed_by"] = serde_json::json!("govstore 0.9");
    assert_eq!(Receipt::from_json(&older.to_string()).unwrap(), Some(receipt.clone()));
    older["receipt_version"] = serde_json::json!("1.4");
    let read = Receipt::from_json(&older.to_string()).unwrap().unwrap();
    assert_eq!(read.receipt_version, FormatVersion::new(1, 4));
    assert_eq!(Receipt::from_json("not a receipt").unwrap(), None);
}
