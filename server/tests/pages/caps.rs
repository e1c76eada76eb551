//! Lists that pages cap say so: a publisher's packages ([`MAX_ROWS`]), a spec version's
//! implementations ([`MAX_IMPLEMENTATIONS`]) and a package's dependents (the first
//! [`MAX_ROWS`] candidates checked). One publisher has, besides `bulk/base` and
//! `bulk/old`, one package more than [`MAX_ROWS`], each implementing `govstack/cfr` 2.0.0,
//! requiring `bulk/base` and conflicting with `bulk/old`; a small publisher stays under
//! every cap, and a package whose candidates are all unchecked or non-dependents says so.
//!
//! Publishing goes through the API for `bulk/base`, `bulk/old` and the first two of the
//! many; the rest are copies of the second one's rows, written straight into the database
//! (these pages read only database rows, and 500 publishes through the API take over a
//! minute here, against a quarter of a second).

use axum::http::StatusCode;
use govstore_core::Digest;
use govstore_core::manifest::Manifest;
use govstore_server::db;
use govstore_server::db::entities::{package_versions, packages};
use govstore_server::db::pages::{MAX_IMPLEMENTATIONS, MAX_ROWS};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::common::{Backend, TestApp};
use crate::fixture::publisher;
use crate::on_both_backends;
use crate::support::{assert_layout, page, publish, publish_specs, toml};

on_both_backends!(capped_lists_say_so);

const CFR_2: &str = "[[implements]]\nspec = \"govstack/cfr\"\nversion = \"2.0.0\"\nhow = \"native\"\n";
const CFR_1: &str = "[[implements]]\nspec = \"govstack/cfr\"\nversion = \"1.0.0\"\nhow = \"native\"\n";

/// The manifest of `bulk/p<i>`: implements CFR 2.0.0, requires `bulk/base`, conflicts
/// with `bulk/old` (which it so names without requiring it).
fn many_toml(i: usize) -> String {
    let extra = format!(
        "{CFR_2}\n[requires.packages]\n\"bulk/base\" = \"^1\"\n\n[conflicts.packages]\n\"bulk/old\" = \"<1\"\n"
    );
    toml(&format!("bulk/p{i:04}"), "1.0.0", "One of many", &extra)
}

/// Add `bulk/p<i>` for every `i` in `range` as copies of `bulk/p0001`'s package and
/// version rows, each with its own manifest.
async fn copy_rows(app: &TestApp, range: std::ops::Range<usize>) {
    let (read, write) = (&app.state.db.read, &app.state.db.write);
    let src = db::packages::find(read, "bulk/p0001").await.unwrap().unwrap();
    let src_v = db::packages::versions(read, src.id).await.unwrap().remove(0);
    let names: Vec<String> = range.clone().map(|i| format!("bulk/p{i:04}")).collect();
    packages::Entity::insert_many(names.iter().map(|n| packages::ActiveModel {
        id: NotSet,
        organisation_id: Set(src.organisation_id),
        name: Set(n.clone()),
        description: Set(src.description.clone()),
        license: Set(src.license.clone()),
        created_at: Set(src.created_at),
    }))
    .exec(write)
    .await
    .unwrap();
    let ids = packages::Entity::find()
        .filter(packages::Column::Name.is_in(names.clone()))
        .all(write)
        .await
        .unwrap();
    assert_eq!(ids.len(), names.len());
    package_versions::Entity::insert_many(ids.iter().map(|p| {
        let i: usize = p.name["bulk/p".len()..].parse().unwrap();
        let config = Manifest::from_toml_str(&many_toml(i)).unwrap().canonical_json();
        package_versions::ActiveModel {
            id: NotSet,
            package_id: Set(p.id),
            config: Set(config.clone()),
            manifest_digest: Set(Digest::of(config.as_bytes()).to_string()),
            signature_digest: Set(Digest::of(p.name.as_bytes()).to_string()),
            content_digest: Set(None),
            ..src_v.clone().into()
        }
    }))
    .exec(write)
    .await
    .unwrap();
}

/// The `<p>` that follows `after` in `html` (a note under a list), without its tags.
fn note_after<'a>(html: &'a str, after: &str) -> Option<&'a str> {
    let rest = &html[html.find(after)? + after.len()..];
    let rest = rest.trim_start().strip_prefix("<p>")?;
    Some(&rest[..rest.find("</p>")?])
}

async fn capped_lists_say_so(b: Backend) {
    let app = TestApp::new(b).await;
    publish_specs(&app).await;

    // Under every cap: two packages, one requiring the other and implementing CFR 1.0.0.
    let few = publisher(&app, "few-owner", "few").await;
    publish(&app, &few, &toml("few/base", "1.0.0", "Base", ""), "").await;
    let app_toml = toml(
        "few/app",
        "1.0.0",
        "App",
        &format!("{CFR_1}\n[requires.packages]\n\"few/base\" = \"^1\"\n"),
    );
    publish(&app, &few, &app_toml, "").await;

    // Over every cap: besides bulk/base and bulk/old, MAX_ROWS + 1 packages that implement
    // CFR 2.0.0, require bulk/base and conflict with bulk/old.
    let bulk = publisher(&app, "bulk-owner", "bulk").await;
    publish(&app, &bulk, &toml("bulk/base", "1.0.0", "Base", ""), "").await;
    publish(&app, &bulk, &toml("bulk/old", "1.0.0", "Old", ""), "").await;
    let many = MAX_ROWS as usize + 1;
    for i in 0..2 {
        publish(&app, &bulk, &many_toml(i), "").await;
    }
    copy_rows(&app, 2..many).await;

    // The publisher's packages: the heading counts them all, the list stops at MAX_ROWS.
    let p = page(&app, "/publishers/bulk", StatusCode::OK).await;
    assert_layout(&p, "en");
    let section = p.part("<section id=\"packages\"", "</section>");
    assert!(section.contains(&format!(">{} packages</h2>", many + 2)), "{section}");
    assert_eq!(section.matches("<li>").count(), MAX_ROWS as usize);
    assert!(
        section.contains("bulk/p0497") && !section.contains("bulk/p0498"),
        "by name"
    );
    assert_eq!(
        note_after(section, "</ul>"),
        Some(format!("Showing the first {MAX_ROWS} of {} packages (by name).", many + 2).as_str()),
        "{section}"
    );
    let fr = page(&app, "/publishers/bulk?lang=fr", StatusCode::OK).await;
    let section = fr.part("<section id=\"packages\"", "</section>");
    assert_eq!(
        note_after(section, "</ul>"),
        Some(format!("Affichage des {MAX_ROWS} premiers paquets (par nom) sur {}.", many + 2).as_str()),
        "{section}"
    );
    let p = page(&app, "/publishers/few", StatusCode::OK).await;
    let section = p.part("<section id=\"packages\"", "</section>");
    assert!(section.contains(">2 packages</h2>"), "{section}");
    assert_eq!(section.matches("<li>").count(), 2);
    assert_eq!(note_after(section, "</ul>"), None, "{section}");
    assert!(!p.html.contains("Showing the first"), "{}", p.html);

    // The spec: version 2.0.0 lists MAX_IMPLEMENTATIONS of `many`, version 1.0.0 its one.
    let p = page(&app, "/specs/govstack/cfr", StatusCode::OK).await;
    assert_layout(&p, "en");
    let v2 = p.part("<section id=\"v2.0.0\"", "</section>");
    assert_eq!(v2.matches("<tr><th scope=\"row\">").count(), MAX_IMPLEMENTATIONS);
    assert_eq!(
        note_after(v2, "</div>"),
        Some(
            format!(
                "Showing the first {MAX_IMPLEMENTATIONS} of {many} implementations of version 2.0.0. \
                 <a href=\"/search?spec=govstack/cfr\">Search every package that implements govstack/cfr</a>"
            )
            .as_str()
        ),
        "{v2}"
    );
    let v1 = p.part("<section id=\"v1.0.0\"", "</section>");
    assert_eq!(v1.matches("<tr><th scope=\"row\">").count(), 1, "{v1}");
    assert!(v1.contains("few/app 1.0.0"), "{v1}");
    assert_eq!(note_after(v1, "</div>"), None, "{v1}");
    assert_eq!(p.count("Showing the first"), 1);
    let fr = page(&app, "/specs/govstack/cfr?lang=fr", StatusCode::OK).await;
    let v2 = fr.part("<section id=\"v2.0.0\"", "</section>");
    assert!(
        note_after(v2, "</div>").unwrap().starts_with(&format!(
            "Affichage des {MAX_IMPLEMENTATIONS} premières mises en œuvre de la version 2.0.0 sur {many}. \
             <a href=\"/search?spec=govstack/cfr\">Rechercher tous les paquets qui mettent en œuvre govstack/cfr</a>"
        )),
        "{v2}"
    );

    // Dependents: the first MAX_ROWS candidates are checked; at least that many depend.
    let p = page(&app, "/packages/bulk/base", StatusCode::OK).await;
    assert_layout(&p, "en");
    let deps = p.part("<section id=\"dependents\"", "</section>");
    assert_eq!(deps.matches("<li>").count(), MAX_ROWS as usize);
    assert_eq!(
        note_after(deps, "</ul>"),
        Some(
            format!(
                "At least {MAX_ROWS} packages require this one. More may: only the first {MAX_ROWS} packages \
                 (by name) that mention it in a manifest were checked."
            )
            .as_str()
        ),
        "{deps}"
    );
    let fr = page(&app, "/packages/bulk/base?lang=fr", StatusCode::OK).await;
    let deps = fr.part("<section id=\"dependents\"", "</section>");
    assert!(
        note_after(deps, "</ul>")
            .unwrap()
            .starts_with(&format!("Au moins {MAX_ROWS} paquets exigent celui-ci.")),
        "{deps}"
    );
    // Every candidate of bulk/old only conflicts with it: none found, and not all checked.
    let p = page(&app, "/packages/bulk/old", StatusCode::OK).await;
    let deps = p.part("<section id=\"dependents\"", "</section>");
    assert!(!deps.contains("<li>"), "{deps}");
    assert_eq!(
        note_after(deps, "</h2>"),
        Some(
            format!(
                "None of the first {MAX_ROWS} packages (by name) that mention this one in a manifest requires it; \
                 the others were not checked."
            )
            .as_str()
        ),
        "{deps}"
    );
    let p = page(&app, "/packages/few/base", StatusCode::OK).await;
    let deps = p.part("<section id=\"dependents\"", "</section>");
    assert!(deps.contains("<a href=\"/packages/few/app\">few/app</a>"), "{deps}");
    assert_eq!(deps.matches("<li>").count(), 1);
    assert_eq!(note_after(deps, "</ul>"), None, "{deps}");
}
