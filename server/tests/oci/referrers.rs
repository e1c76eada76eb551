//! `subject` on push and the referrers API with `artifactType` filtering.

use axum::http::StatusCode;
use serde_json::json;

use crate::common::{Backend, OCI_INDEX, OCI_MANIFEST, TestApp, digest_of, image_manifest};
use crate::on_both_backends;

on_both_backends!(referrers_found_and_filtered, referrers_paginate);

async fn referrers_found_and_filtered(b: Backend) {
    let app = TestApp::new(b).await;
    let empty = app.push_blob("pkg", b"{}").await;
    let subject = image_manifest((&empty, 2), &[], json!({}));
    let sd = digest_of(&subject);

    // Referrers may be pushed before their subject exists.
    let subj = json!({ "mediaType": OCI_MANIFEST, "digest": sd, "size": subject.len() });
    let sig = image_manifest(
        (&empty, 2),
        &[],
        json!({
            "artifactType": "application/vnd.dev.cosign.artifact.sig.v1+json",
            "subject": subj, "annotations": { "org.opencontainers.image.created": "2026-11-21T00:00:00Z" }
        }),
    );
    let sbom = image_manifest(
        (&empty, 2),
        &[],
        json!({ "artifactType": "application/spdx+json", "subject": subj }),
    );
    let res = app.put_manifest("pkg", &digest_of(&sig), OCI_MANIFEST, &sig).await;
    assert_eq!(res.status, StatusCode::CREATED);
    assert_eq!(res.header("oci-subject"), Some(sd.clone()));
    app.put_manifest("pkg", &digest_of(&sbom), OCI_MANIFEST, &sbom).await;
    app.put_manifest("pkg", "1.0.0", OCI_MANIFEST, &subject).await;

    let all = app.get(&format!("/v2/pkg/referrers/{sd}")).await;
    assert_eq!(all.status, StatusCode::OK);
    assert_eq!(all.header("content-type").as_deref(), Some(OCI_INDEX));
    assert!(all.header("oci-filters-applied").is_none());
    let body = all.json();
    assert_eq!(body["manifests"].as_array().unwrap().len(), 2);
    insta::assert_json_snapshot!("referrers_all", body, { ".manifests[].digest" => "[digest]" });

    let only = app
        .get(&format!("/v2/pkg/referrers/{sd}?artifactType=application/spdx%2Bjson"))
        .await;
    assert_eq!(only.header("oci-filters-applied").as_deref(), Some("artifactType"));
    assert_eq!(
        only.json()["manifests"],
        json!([{
            "mediaType": OCI_MANIFEST, "digest": digest_of(&sbom), "size": sbom.len(), "artifactType": "application/spdx+json"
        }])
    );

    let none = app.get(&format!("/v2/pkg/referrers/{}", digest_of(b"other"))).await;
    assert_eq!(none.json()["manifests"], json!([]));
    let bad = app.get("/v2/pkg/referrers/sha256:nothex").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.code(), "DIGEST_INVALID");
}

async fn referrers_paginate(b: Backend) {
    let app = TestApp::with(b, |c| c.limits.max_page = 2).await;
    let empty = app.push_blob("p", b"{}").await;
    let subject = json!({ "mediaType": OCI_MANIFEST, "digest": digest_of(b"subject"), "size": 7 });
    let mut pushed = Vec::new();
    for i in 0..5 {
        let kind = if i % 2 == 0 {
            "application/vnd.example.a+json"
        } else {
            "application/vnd.example.b+json"
        };
        let m = image_manifest(
            (&empty, 2),
            &[],
            json!({ "artifactType": kind, "subject": subject, "annotations": { "i": i.to_string() } }),
        );
        app.put_manifest("p", &digest_of(&m), OCI_MANIFEST, &m).await;
        pushed.push((kind, digest_of(&m)));
    }
    for (filter, expected) in [
        (None, pushed.iter().map(|(_, d)| d.clone()).collect::<Vec<_>>()),
        (
            Some("application/vnd.example.a+json"),
            pushed
                .iter()
                .filter(|(k, _)| k.ends_with("a+json"))
                .map(|(_, d)| d.clone())
                .collect(),
        ),
    ] {
        let mut uri = format!("/v2/p/referrers/{}", digest_of(b"subject"));
        if let Some(f) = filter {
            uri.push_str(&format!("?artifactType={}", f.replace('+', "%2B")));
        }
        let mut seen = Vec::new();
        let mut pages = 0;
        loop {
            let res = app.get(&uri).await;
            assert_eq!(res.status, StatusCode::OK);
            pages += 1;
            for m in res.json()["manifests"].as_array().unwrap() {
                seen.push(m["digest"].as_str().unwrap().to_owned());
            }
            let Some(link) = res.header("link") else { break };
            uri = link.trim_start_matches('<').split('>').next().unwrap().to_owned();
        }
        assert_eq!(seen, expected, "filter {filter:?}");
        assert_eq!(pages, expected.len().div_ceil(2).max(1));
    }
    let bad = app
        .get(&format!("/v2/p/referrers/{}?cursor=abc", digest_of(b"subject")))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}
