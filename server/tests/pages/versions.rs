//! The package page lists at most [`MAX_VERSIONS`] versions (the newest), says so when
//! there are more, and still lists the version it shows when that one is older; download
//! counts print grouped the page language's way. The home page lists at most
//! [`MAX_ROWS`] building blocks and says so.
//!
//! `many/app` is published through the API at 1.0.0 and 1.0.1; its other versions, up to
//! one more than the cap, are copies of 1.0.1's row written straight into the database
//! (as in `caps.rs`: the page reads only rows, and publishing each through the API is
//! slow). The extra building blocks are likewise copies of a spec's row.

use axum::http::StatusCode;
use govstore_core::Digest;
use govstore_core::manifest::Manifest;
use govstore_server::db;
use govstore_server::db::entities::{package_versions, specs};
use govstore_server::db::pages::{MAX_ROWS, MAX_VERSIONS};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::EntityTrait;

use crate::common::{Backend, TestApp};
use crate::fixture::publisher;
use crate::on_both_backends;
use crate::support::{Page, assert_layout, page, publish, publish_specs, toml};

on_both_backends!(package_versions_are_capped, home_building_blocks_are_capped);

/// Add versions `1.0.<i>` of `name` for every `i` in `range`, as copies of its newest
/// version's row, each with its own manifest.
async fn copy_versions(app: &TestApp, name: &str, range: std::ops::RangeInclusive<usize>) {
    let (read, write) = (&app.state.db.read, &app.state.db.write);
    let p = db::packages::find(read, name).await.unwrap().unwrap();
    let mut versions = db::packages::versions(read, p.id).await.unwrap();
    db::packages::sort_newest_first(&mut versions);
    let src = versions.remove(0);
    package_versions::Entity::insert_many(range.map(|i| {
        let version = format!("1.0.{i}");
        let config = Manifest::from_toml_str(&toml(name, &version, "Many versions", ""))
            .unwrap()
            .canonical_json();
        package_versions::ActiveModel {
            id: NotSet,
            version: Set(version.clone()),
            config: Set(config.clone()),
            manifest_digest: Set(Digest::of(config.as_bytes()).to_string()),
            signature_digest: Set(Digest::of(version.as_bytes()).to_string()),
            content_digest: Set(None),
            ..src.clone().into()
        }
    }))
    .exec(write)
    .await
    .unwrap();
}

/// Record `n` downloads on `day` of version `version` of `name`.
async fn downloads(app: &TestApp, day: &str, name: &str, version: &str, n: u64) {
    let db = &app.state.db.write;
    let p = db::packages::find(db, name).await.unwrap().unwrap();
    let v = db::packages::versions(db, p.id)
        .await
        .unwrap()
        .into_iter()
        .find(|v| v.version == version)
        .unwrap();
    db::downloads::record_n(db, v.id, day, n).await.unwrap();
}

/// The `<p>` that follows `after` in `html` (a note under a list), without its tags.
fn note_after<'a>(html: &'a str, after: &str) -> Option<&'a str> {
    let rest = &html[html.find(after)? + after.len()..];
    let rest = rest.trim_start().strip_prefix("<p>")?;
    Some(&rest[..rest.find("</p>")?])
}

/// The versions listed in the page's Versions table, in order.
fn version_rows(p: &Page) -> Vec<&str> {
    let section = p.part("<section id=\"versions\"", "</section>");
    section
        .split("<tr><td>")
        .skip(1)
        .map(|row| {
            let cell = &row[..row.find("</td>").unwrap()];
            let text_end = cell.rfind("</").unwrap();
            &cell[cell[..text_end].rfind('>').unwrap() + 1..text_end]
        })
        .collect()
}

async fn package_versions_are_capped(b: Backend) {
    let app = TestApp::new(b).await;
    let many = publisher(&app, "many-owner", "many").await;
    publish(
        &app,
        &many,
        &toml("many/app", "1.0.0", "Many versions", ""),
        "# The oldest\n\nWritten for 1.0.0.\n",
    )
    .await;
    publish(&app, &many, &toml("many/app", "1.0.1", "Many versions", ""), "").await;
    let total = MAX_VERSIONS + 1;
    copy_versions(&app, "many/app", 2..=total - 1).await;
    // One day for both, so that they add up in one daily row even across midnight.
    let day = db::downloads::today();
    downloads(&app, &day, "many/app", "1.0.0", 1234).await;
    let newest = format!("1.0.{}", total - 1);
    downloads(&app, &day, "many/app", &newest, 1000).await;

    // The latest: the newest MAX_VERSIONS listed, newest first, and a note with both numbers.
    let p = page(&app, "/packages/many/app", StatusCode::OK).await;
    assert_layout(&p, "en");
    let rows = version_rows(&p);
    assert_eq!(rows.len(), MAX_VERSIONS);
    assert_eq!(rows[0], newest);
    assert_eq!(rows[MAX_VERSIONS - 1], "1.0.1");
    assert!(!rows.contains(&"1.0.0"), "{rows:?}");
    let versions = p.part("<section id=\"versions\"", "</section>");
    assert!(
        versions.contains(&format!("<strong aria-current=\"page\">{newest}</strong>")),
        "{versions}"
    );
    assert_eq!(
        note_after(versions, "</div>"),
        Some(format!("Showing the {MAX_VERSIONS} newest of {total} versions.").as_str()),
        "{versions}"
    );
    // Downloads: the total counts every version, grouped; by version, only those listed.
    let dl = p.part("<section id=\"downloads\"", "</section>");
    assert!(dl.contains("<p>2,234 downloads in all</p>"), "{dl}");
    assert!(
        dl.contains(&format!(
            "<p>By version, only the versions listed under “Versions” are shown; the total covers all {total} versions.</p>"
        )),
        "{dl}"
    );
    assert!(
        dl.contains(&format!("<tr><td>{newest}</td><td>1,000</td></tr>")),
        "{dl}"
    );
    assert!(dl.contains("<tr><td>1.0.1</td><td>0</td></tr>"), "{dl}");
    assert!(!dl.contains("<td>1.0.0</td>"), "{dl}");
    assert!(dl.contains("<td>2,234</td>"), "today's downloads: {dl}");

    // The oldest, asked for: its row follows the newest MAX_VERSIONS, marked as the one
    // shown, and the page shows its details.
    let p = page(&app, "/packages/many/app?version=1.0.0", StatusCode::OK).await;
    assert_layout(&p, "en");
    let rows = version_rows(&p);
    assert_eq!(rows.len(), MAX_VERSIONS + 1);
    assert_eq!(rows[0], newest);
    assert_eq!(rows[MAX_VERSIONS], "1.0.0");
    let versions = p.part("<section id=\"versions\"", "</section>");
    assert!(
        versions.contains("<tr><td><strong aria-current=\"page\">1.0.0</strong></td>"),
        "{versions}"
    );
    assert_eq!(versions.matches("aria-current").count(), 1, "{versions}");
    assert!(
        versions.contains(&format!("<a href=\"/packages/many/app?version={newest}\">{newest}</a>")),
        "{versions}"
    );
    assert_eq!(
        note_after(versions, "</div>"),
        Some(
            format!("Showing the {MAX_VERSIONS} newest of {total} versions, and version 1.0.0, the one on this page.")
                .as_str()
        ),
        "{versions}"
    );
    assert!(
        p.html.contains("<dt>Version</dt><dd>1.0.0 <span class=\"muted\">"),
        "{}",
        p.html
    );
    assert!(p.html.contains("Written for 1.0.0."), "the README of 1.0.0");
    assert!(
        p.html.contains("packages = { \"many/app\" = \"=1.0.0\" }"),
        "{}",
        p.html
    );
    assert!(
        p.html.contains("<code>govstore verify many/app@1.0.0</code>"),
        "{}",
        p.html
    );
    assert!(
        p.html.contains(&format!(
            "You are looking at version 1.0.0, not the latest. <a href=\"/packages/many/app\">See the latest, {newest}</a>"
        )),
        "{}",
        p.html
    );
    let dl = p.part("<section id=\"downloads\"", "</section>");
    assert!(dl.contains("<tr><td>1.0.0</td><td>1,234</td></tr>"), "{dl}");

    // In French: the notes, and numbers grouped with a narrow no-break space.
    let fr = page(&app, "/packages/many/app?version=1.0.0&lang=fr", StatusCode::OK).await;
    assert_layout(&fr, "fr");
    let versions = fr.part("<section id=\"versions\"", "</section>");
    assert_eq!(
        note_after(versions, "</div>"),
        Some(
            format!(
                "Affichage des {MAX_VERSIONS} versions les plus récentes sur {total}, et de la version 1.0.0, \
                 celle de cette page."
            )
            .as_str()
        ),
        "{versions}"
    );
    let dl = fr.part("<section id=\"downloads\"", "</section>");
    assert!(dl.contains("<p>2\u{202F}234 téléchargements au total</p>"), "{dl}");
    assert!(dl.contains("<tr><td>1.0.0</td><td>1\u{202F}234</td></tr>"), "{dl}");
    let fr = page(&app, "/packages/many/app?lang=fr", StatusCode::OK).await;
    let versions = fr.part("<section id=\"versions\"", "</section>");
    assert_eq!(
        note_after(versions, "</div>"),
        Some(format!("Affichage des {MAX_VERSIONS} versions les plus récentes sur {total}.").as_str()),
        "{versions}"
    );

    // Few versions: every one listed, no note.
    let few = publisher(&app, "few-owner", "few").await;
    for v in ["1.0.0", "1.1.0"] {
        publish(&app, &few, &toml("few/app", v, "Few versions", ""), "").await;
    }
    downloads(&app, &db::downloads::today(), "few/app", "1.0.0", 3).await;
    for uri in ["/packages/few/app", "/packages/few/app?version=1.0.0"] {
        let p = page(&app, uri, StatusCode::OK).await;
        assert_eq!(version_rows(&p), ["1.1.0", "1.0.0"], "{uri}");
        let versions = p.part("<section id=\"versions\"", "</section>");
        assert_eq!(note_after(versions, "</div>"), None, "{versions}");
        assert!(!p.html.contains("newest of"), "{}", p.html);
        assert!(!p.html.contains("By version, only"), "{}", p.html);
        assert!(p.html.contains("<p>3 downloads in all</p>"), "{}", p.html);
    }
}

async fn home_building_blocks_are_capped(b: Backend) {
    let app = TestApp::new(b).await;
    publish_specs(&app).await;

    // The catalogue's specs: every one listed, no note.
    let p = page(&app, "/", StatusCode::OK).await;
    let blocks = p.part("<section id=\"building-blocks\"", "</section>");
    let published = blocks.matches("<li>").count();
    assert!(published > 1, "{blocks}");
    assert_eq!(note_after(blocks, "</ul>"), None, "{blocks}");

    // One more than MAX_ROWS: copies of a spec's row under new ids.
    let src = specs::Entity::find().one(&app.state.db.read).await.unwrap().unwrap();
    let total = MAX_ROWS as usize + 1;
    specs::Entity::insert_many((published..total).map(|i| specs::ActiveModel {
        id: NotSet,
        spec_id: Set(format!("zz/block-{i:04}")),
        title: Set(format!("Block {i}")),
        ..src.clone().into()
    }))
    .exec(&app.state.db.write)
    .await
    .unwrap();

    let p = page(&app, "/", StatusCode::OK).await;
    assert_layout(&p, "en");
    let blocks = p.part("<section id=\"building-blocks\"", "</section>");
    assert_eq!(blocks.matches("<li>").count(), MAX_ROWS as usize);
    assert!(
        blocks.contains("zz/block-0499") && !blocks.contains("zz/block-0500"),
        "by id"
    );
    assert_eq!(
        note_after(blocks, "</ul>"),
        Some(format!("Showing the first {MAX_ROWS} of {total} building blocks (by identifier).").as_str()),
        "{blocks}"
    );
    let fr = page(&app, "/?lang=fr", StatusCode::OK).await;
    let blocks = fr.part("<section id=\"building-blocks\"", "</section>");
    assert_eq!(
        note_after(blocks, "</ul>"),
        Some(format!("Affichage des {MAX_ROWS} premières briques (par identifiant) sur {total}.").as_str()),
        "{blocks}"
    );
}
