//! `GET /packages/{ns}/{name}[?version=X.Y.Z]`: one package version (the latest unless
//! asked): facts and licence, the install commands, the signature and its key, the README
//! (rendered and sanitised by `govstore_web::markdown`), its versions with their dates and
//! yank reasons, the specs it implements with the compliance levels claimed and their
//! evidence, what it requires, the packages that require it, its downloads, and its
//! approval badges: per country, approved (who, until, threshold met or not) or revoked
//! with the reason (`country::badges`).
//!
//! A package may have many versions (up to `max_versions_per_package`): the page reads
//! them all without their manifests ([`db::pages::listed_versions`]) and only the
//! version shown whole. It lists the newest [`MAX_VERSIONS`] (with their downloads),
//! then the version shown if it is older, and says how many there are. `latest` and the
//! download total still count every version.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use govstore_core::artifact::package_layers;
use govstore_core::manifest::{Evidence, Level, Manifest};
use govstore_core::oci::parse_manifest;
use govstore_core::{Digest, RepoName};
use govstore_web::markdown;
use serde::Serialize;

use super::{Language, PageError, PagePath, date, query_pairs, respond};
use crate::db;
use crate::db::entities::package_versions;
use crate::db::packages::latest;
use crate::db::pages::{ListedVersion, MAX_VERSIONS};
use crate::state::AppState;

/// Days of downloads shown.
const DOWNLOAD_DAYS: u32 = 30;

#[derive(Serialize)]
struct PackagePage {
    pkg: Pkg,
    v: Ver,
    latest: Option<String>,
    sig: Sig,
    readme: Option<Readme>,
    versions: Versions,
    implements: Vec<Implemented>,
    requires: Requires,
    conflicts: Vec<Req>,
    dependents: Dependents,
    downloads: Downloads,
    /// The version's approval state in each country that signed a statement about it.
    approvals: Vec<super::country::Badge>,
}

#[derive(Serialize)]
struct Pkg {
    name: String,
    namespace: String,
    description: String,
    license: String,
    homepage: Option<String>,
    repository: Option<String>,
    maturity: Option<String>,
    keywords: Vec<String>,
    sectors: Vec<String>,
    countries: Vec<String>,
    sdgs: Vec<u8>,
    end_of_life: Option<String>,
    capabilities: Vec<String>,
}

#[derive(Serialize)]
struct Ver {
    version: String,
    date: String,
    digest: String,
    yanked: bool,
    yank_reason: Option<String>,
    is_latest: bool,
}

#[derive(Serialize)]
struct Sig {
    key_id: String,
    key_name: Option<String>,
    revoked: Option<String>,
    revoke_reason: Option<String>,
    signature_digest: String,
}

#[derive(Serialize)]
struct Readme {
    html: String,
    truncated: bool,
}

/// The versions listed: the newest [`MAX_VERSIONS`] (`newest` of them), then the
/// version shown (`older_shown`) when it is not among them; `total` counts them all.
#[derive(Serialize)]
struct Versions {
    rows: Vec<VersionRow>,
    newest: usize,
    older_shown: Option<String>,
    total: usize,
}

#[derive(Serialize)]
struct VersionRow {
    version: String,
    date: String,
    yanked: bool,
    yank_reason: Option<String>,
    current: bool,
}

#[derive(Serialize)]
pub(super) struct Implemented {
    pub spec: String,
    pub title: String,
    pub version: String,
    pub how: &'static str,
    pub deployment: Option<ClaimView>,
    pub interface: Option<ClaimView>,
    pub requirements: Option<ClaimView>,
}

#[derive(Serialize, Default)]
pub(super) struct ClaimView {
    pub level: &'static str,
    pub evidence: Option<String>,
    pub evidence_url: Option<String>,
    pub harness: Option<Harness>,
    pub required: Option<Tally>,
    pub recommended: Option<Tally>,
}

#[derive(Serialize)]
pub(super) struct Harness {
    pub result: &'static str,
    pub report: Option<String>,
    pub date: Option<String>,
}

#[derive(Serialize)]
pub(super) struct Tally {
    pub met: u32,
    pub total: u32,
}

#[derive(Serialize)]
pub(super) struct Req {
    pub name: String,
    pub req: String,
}

#[derive(Serialize, Default)]
pub(super) struct Requires {
    pub specs: Vec<Req>,
    pub packages: Vec<Req>,
    pub platform: Vec<Req>,
}

/// The packages that require this one, as far as they were looked for
/// (`db::pages::dependents`): when not `complete`, only the first `checked` candidates by
/// name were, and the page says that at least `list.len()` packages require this one.
#[derive(Serialize)]
struct Dependents {
    list: Vec<Dependent>,
    checked: u64,
    complete: bool,
}

#[derive(Serialize)]
struct Dependent {
    name: String,
    version: String,
    req: String,
}

/// `total` counts every version; `by_version` only the versions listed.
#[derive(Serialize, Default)]
struct Downloads {
    total: u64,
    by_version: Vec<Count>,
    by_day: Vec<DayCount>,
}

#[derive(Serialize)]
struct Count {
    version: String,
    count: u64,
}

#[derive(Serialize)]
struct DayCount {
    day: String,
    count: u64,
}

pub async fn page(
    State(st): State<AppState>,
    lang: Language,
    headers: HeaderMap,
    uri: Uri,
    PagePath((ns, name)): PagePath<(String, String)>,
) -> Response {
    respond(&lang, &headers, "package.html", build(&st, &uri, &ns, &name).await)
}

fn claim(level: Level, evidence: Option<&Evidence>) -> ClaimView {
    let (evidence, evidence_url) = match evidence {
        Some(Evidence::Url(u)) => (None, Some(u.as_str().to_owned())),
        Some(Evidence::Text(t)) => (Some(t.clone()), None),
        None => (None, None),
    };
    ClaimView {
        level: level.as_str(),
        evidence,
        evidence_url,
        ..ClaimView::default()
    }
}

/// What a manifest implements, with its claims, for the package and compare pages.
/// `titles` maps spec ids to their titles.
pub(super) fn implemented(m: &Manifest, titles: &HashMap<String, String>) -> Vec<Implemented> {
    m.implements
        .iter()
        .map(|i| {
            let c = &i.compliance;
            Implemented {
                spec: i.spec.to_string(),
                title: titles
                    .get(i.spec.as_str())
                    .cloned()
                    .unwrap_or_else(|| i.spec.to_string()),
                version: i.version.to_string(),
                how: i.how.as_str(),
                deployment: c.deployment.as_ref().map(|d| claim(d.level, d.evidence.as_ref())),
                interface: c.interface.as_ref().map(|d| ClaimView {
                    harness: d.test_harness.as_ref().map(|h| Harness {
                        result: h.result.as_str(),
                        report: h.report.as_ref().map(|u| u.as_str().to_owned()),
                        date: h.date.as_ref().map(|d| d.to_string()),
                    }),
                    ..claim(d.level, d.evidence.as_ref())
                }),
                requirements: c.requirements.as_ref().map(|d| ClaimView {
                    required: d.required.map(|t| Tally {
                        met: t.met,
                        total: t.total,
                    }),
                    recommended: d.recommended.map(|t| Tally {
                        met: t.met,
                        total: t.total,
                    }),
                    ..claim(d.level, d.evidence.as_ref())
                }),
            }
        })
        .collect()
}

/// A manifest's `[requires]`, for the package and compare pages.
pub(super) fn requires(m: &Manifest) -> Requires {
    let list = |it: Vec<(String, String)>| it.into_iter().map(|(name, req)| Req { name, req }).collect();
    Requires {
        specs: list(
            m.requires
                .specs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        ),
        packages: list(
            m.requires
                .packages
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        ),
        platform: list(
            m.requires
                .platform
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        ),
    }
}

/// The stored manifest of a version, parsed.
pub(super) fn manifest_of(v: &package_versions::Model) -> Result<Manifest, PageError> {
    Manifest::from_canonical_json(&v.config)
        .map_err(|e| PageError::internal(format_args!("stored manifest of version row {}: {e}", v.id)))
}

/// The titles of every spec, by id.
pub(super) async fn spec_titles(st: &AppState) -> Result<HashMap<String, String>, PageError> {
    Ok(db::pages::spec_titles(&st.db.read).await?.into_iter().collect())
}

async fn build(st: &AppState, uri: &Uri, ns: &str, name: &str) -> Result<PackagePage, PageError> {
    let full = format!("{ns}/{name}");
    let db = &st.db.read;
    let p = db::packages::find(db, &full)
        .await?
        .ok_or_else(|| PageError::not_found("package", &full))?;
    // What does not depend on the version shown, read at once (each query on its own
    // pooled connection): every version without manifests (only the version shown is
    // read whole), dependents, downloads and spec titles.
    let (versions, dependents, per_version, per_day, titles) = tokio::try_join!(
        async { Ok::<_, PageError>(db::pages::listed_versions(db, p.id).await?) },
        async { Ok::<_, PageError>(db::pages::dependents(db, &full).await?) },
        async { Ok::<_, PageError>(db::downloads::per_version(db, p.id).await?) },
        async { Ok::<_, PageError>(db::downloads::per_day(db, p.id, DOWNLOAD_DAYS).await?) },
        spec_titles(st),
    )?;
    let latest_version = latest(&versions).map(|v| v.version.clone());
    let wanted = query_pairs(uri)?
        .into_iter()
        .find(|(k, _)| k == "version")
        .map(|(_, v)| v);
    let shown = match &wanted {
        Some(w) => versions.iter().find(|v| &v.version == w).ok_or_else(|| PageError {
            status: axum::http::StatusCode::NOT_FOUND,
            kind: "version",
            args: serde_json::json!({
                "name": full.chars().take(100).collect::<String>(),
                "version": w.chars().take(100).collect::<String>(),
                "back": format!("/packages/{full}"),
            }),
        })?,
        None => latest(&versions)
            .or(versions.first())
            .ok_or_else(|| PageError::not_found("package", &full))?,
    };
    let v = db::packages::version(db, p.id, &shown.version)
        .await?
        .ok_or_else(|| PageError::internal(format_args!("version row {} of {full} is gone", shown.id)))?;
    let m = manifest_of(&v)?;
    let (key, readme, approvals) = tokio::try_join!(
        async { Ok::<_, PageError>(db::keys::find(db, p.organisation_id, &v.key_id).await?) },
        readme(st, &full, &v.manifest_digest),
        super::country::badges(st, &full, &v.manifest_digest),
    )?;
    // Listed: the newest MAX_VERSIONS (newest first), then the one shown if older.
    let newest = &versions[..versions.len().min(MAX_VERSIONS)];
    let older_shown = (!newest.iter().any(|x| x.id == v.id)).then_some(shown);
    let listed: Vec<&ListedVersion> = newest.iter().chain(older_shown).collect();
    let pk = &m.package;
    Ok(PackagePage {
        pkg: Pkg {
            namespace: ns.to_owned(),
            description: pk.description.clone(),
            license: pk.license.to_string(),
            homepage: pk.homepage.as_ref().map(|u| u.as_str().to_owned()),
            repository: pk.repository.as_ref().map(|u| u.as_str().to_owned()),
            maturity: pk.maturity.map(|x| x.as_str().to_owned()),
            keywords: pk.keywords.clone(),
            sectors: pk.sectors.clone(),
            countries: pk
                .deployment_countries
                .iter()
                .map(|c| {
                    govstore_core::country_names::name_of(c.as_str())
                        .map_or_else(|| c.to_string(), |n| format!("{n} ({c})"))
                })
                .collect(),
            sdgs: pk.sdgs.iter().map(|s| s.get()).collect(),
            end_of_life: pk.end_of_life.as_ref().map(|d| d.to_string()),
            capabilities: m.provides.capabilities.clone(),
            name: full.clone(),
        },
        v: Ver {
            version: v.version.clone(),
            date: date(v.published_at),
            digest: v.manifest_digest.clone(),
            yanked: v.yanked,
            yank_reason: v.yank_reason.clone(),
            is_latest: latest_version.as_deref() == Some(v.version.as_str()),
        },
        latest: latest_version.clone(),
        sig: Sig {
            key_id: v.key_id.clone(),
            key_name: key.as_ref().map(|k| k.name.clone()),
            revoked: key.as_ref().and_then(|k| k.revoked_at).map(date),
            revoke_reason: key.as_ref().and_then(|k| k.revoke_reason.clone()),
            signature_digest: v.signature_digest.clone(),
        },
        readme,
        versions: Versions {
            rows: listed
                .iter()
                .map(|x| VersionRow {
                    version: x.version.clone(),
                    date: date(x.published_at),
                    yanked: x.yanked,
                    yank_reason: x.yank_reason.clone(),
                    current: x.id == v.id,
                })
                .collect(),
            newest: newest.len(),
            older_shown: older_shown.map(|x| x.version.clone()),
            total: versions.len(),
        },
        implements: implemented(&m, &titles),
        requires: requires(&m),
        conflicts: m
            .conflicts
            .packages
            .iter()
            .map(|(k, r)| Req {
                name: k.to_string(),
                req: r.to_string(),
            })
            .collect(),
        dependents: Dependents {
            list: dependents
                .list
                .into_iter()
                .map(|d| Dependent {
                    name: d.name,
                    version: d.version,
                    req: d.req,
                })
                .collect(),
            checked: dependents.checked,
            complete: dependents.complete,
        },
        downloads: Downloads {
            total: per_version.values().sum(),
            by_version: listed
                .iter()
                .map(|x| Count {
                    version: x.version.clone(),
                    count: per_version.get(&x.id).copied().unwrap_or(0),
                })
                .collect(),
            by_day: per_day
                .into_iter()
                .map(|(day, count)| DayCount { day, count })
                .collect(),
        },
        approvals,
    })
}

/// The version's README, read from its README layer (at most
/// [`markdown::MAX_INPUT_BYTES`] of it) and rendered; `None` if it has none.
async fn readme(st: &AppState, name: &str, manifest_digest: &str) -> Result<Option<Readme>, PageError> {
    let repo: RepoName = name.parse().map_err(PageError::internal)?;
    let Some(r) = db::repositories::find(&st.db.read, &repo).await? else {
        return Ok(None);
    };
    let Some(row) = db::manifests::find(&st.db.read, r.id, manifest_digest).await? else {
        return Ok(None);
    };
    let info = parse_manifest(Some(&row.media_type), &row.content).map_err(PageError::internal)?;
    let version = info
        .annotations
        .get(govstore_core::artifact::VERSION_ANNOTATION)
        .cloned()
        .unwrap_or_default();
    let layers = package_layers(&info, name, &version).map_err(PageError::internal)?;
    let Some(d) = layers.readme else { return Ok(None) };
    let Some(bytes) = read_prefix(st, &d.digest, markdown::MAX_INPUT_BYTES).await? else {
        return Ok(None);
    };
    let text = String::from_utf8_lossy(&bytes);
    let rendered = tokio::task::spawn_blocking({
        let text = text.into_owned();
        move || markdown::render(&text)
    })
    .await
    .map_err(PageError::internal)?;
    Ok(Some(Readme {
        html: rendered.html,
        truncated: rendered.truncated || d.size > markdown::MAX_INPUT_BYTES as u64,
    }))
}

/// The first `limit` bytes of a stored blob (never more in memory), `None` if missing.
async fn read_prefix(st: &AppState, digest: &Digest, limit: usize) -> Result<Option<Vec<u8>>, PageError> {
    let Some((file, _len)) = st.blobs.open_blob(digest).await? else {
        return Ok(None);
    };
    let bytes = tokio::task::spawn_blocking(move || {
        use std::io::Read;
        let mut buf = Vec::new();
        file.take(limit as u64).read_to_end(&mut buf).map(|_| buf)
    })
    .await
    .map_err(PageError::internal)??;
    Ok(Some(bytes))
}
