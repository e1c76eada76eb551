//! The stack check behind the web catalogue's `/stack-check` page: a country's
//! `stack.toml` resolved against the registry's whole catalogue, as `govstore resolve`
//! would resolve it from the sparse index, with an account of the packages that were not
//! chosen and why.
//!
//! - The catalogue is read from the database into a [`Catalogue`] exactly as the sparse
//!   index serves it (every version, yanked ones included with their reason, the key
//!   the registry verified) and kept in memory ([`CatalogueCache`]) until the database's
//!   [`Generation`] changes, so repeated checks do not reload it.
//! - The stack is parsed by `govstore_core::stack` (errors name the field and line) and
//!   resolved by `govstore_resolver` with the stack's own policy. On success the result
//!   lists the chosen packages and the lockfile `govstore resolve` would write; on
//!   failure, the resolver's plain-language report.
//! - Why another implementer of a wanted spec was not chosen is asked of the resolver,
//!   never guessed: the stack is resolved again on a copy of the catalogue where only
//!   that package implements the spec. If that fails, the resolver's report is the
//!   reason (licence policy, platform, yanks, publishers, compliance, or a clash with
//!   the rest of the stack); if it succeeds, the package fits and the reason is the
//!   resolver's documented preference that put the chosen one first.
//!
//! Limits: the stack text ([`MAX_STACK_TEXT`]), solver steps per resolution
//! ([`MAX_STEPS`]), the alternatives explained ([`MAX_ALTERNATIVES_PER_SPEC`],
//! [`MAX_SPECS_EXPLAINED`]), the time a check may take ([`CHECK_TIME`]) and how many
//! run at once ([`MAX_CONCURRENT_CHECKS`]).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use govstore_core::index::{Catalogue, IndexVersion};
use govstore_core::manifest::{Implementation, Level, Url};
use govstore_core::package::{PackageName, SpecId};
use govstore_core::stack::{Stack, StackError};
use govstore_resolver::{Need, Resolution, ResolveError, ResolveOptions, Resolver, SpecProvider};
use sea_orm::{ConnectionTrait, DbErr};
use semver::{Version, VersionReq};
use serde::Serialize;
use tokio::sync::{Mutex, Semaphore};

use crate::db::catalogue::{self as queries, Generation};

/// The largest stack text accepted, in bytes.
pub const MAX_STACK_TEXT: usize = 64 * 1024;
/// Solver steps one resolution may take.
pub const MAX_STEPS: u64 = 200_000;
/// The time one check may take, waiting for a turn included.
pub const CHECK_TIME: Duration = Duration::from_secs(5);
/// Checks running at once; more wait for a turn (within [`CHECK_TIME`]).
pub const MAX_CONCURRENT_CHECKS: usize = 2;
/// Other implementers resolved, per wanted spec, to say why they were not chosen.
pub const MAX_ALTERNATIVES_PER_SPEC: usize = 12;
/// Wanted specs whose other implementers are explained.
pub const MAX_SPECS_EXPLAINED: usize = 16;

/// Why a check gave no result.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error("no stack profile was given: paste a stack.toml or choose a file")]
    Empty,
    #[error("the stack profile is {size} bytes; the limit is {MAX_STACK_TEXT} bytes (64 KiB)")]
    TooLarge { size: usize },
    #[error("the stack profile is not UTF-8 text")]
    NotText,
    #[error("{0}")]
    Stack(#[from] StackError),
    #[error("the registry is busy with other stack checks; try again in a moment")]
    Busy,
    #[error("the check took longer than {} seconds; simplify the stack's wants and try again", CHECK_TIME.as_secs())]
    TimedOut,
    /// A database or internal failure: logged, never shown.
    #[error("internal error: {0}")]
    Internal(String),
}

impl CheckError {
    /// Whether the client's input is at fault (a 4xx), not the server.
    pub fn is_client_error(&self) -> bool {
        matches!(
            self,
            CheckError::Empty | CheckError::TooLarge { .. } | CheckError::NotText | CheckError::Stack(_)
        )
    }
}

impl From<DbErr> for CheckError {
    fn from(e: DbErr) -> Self {
        CheckError::Internal(e.to_string())
    }
}

/// The catalogue in memory, with the generation it was read at, and the turns for
/// running checks. One per server.
#[derive(Debug)]
pub struct CatalogueCache {
    slot: Mutex<Option<(Generation, Arc<Catalogue>)>>,
    turns: Arc<Semaphore>,
    loads: AtomicU64,
}

impl Default for CatalogueCache {
    fn default() -> Self {
        Self {
            slot: Mutex::new(None),
            turns: Arc::new(Semaphore::new(MAX_CONCURRENT_CHECKS)),
            loads: AtomicU64::new(0),
        }
    }
}

impl CatalogueCache {
    /// The current catalogue: the cached one while the generation is unchanged, else
    /// read again. One reader at a time; others wait and reuse its result.
    pub async fn get(&self, db: &impl ConnectionTrait) -> Result<Arc<Catalogue>, CheckError> {
        let mut slot = self.slot.lock().await;
        // Read the generation first: a change committed while loading makes the next
        // check reload, so the cache is never older than the generation it is kept under.
        let generation = queries::generation(db).await?;
        if let Some((cached, catalogue)) = slot.as_ref()
            && *cached == generation
        {
            return Ok(catalogue.clone());
        }
        let catalogue = Arc::new(load(db).await?);
        self.loads.fetch_add(1, Ordering::Relaxed);
        *slot = Some((generation, catalogue.clone()));
        Ok(catalogue)
    }

    /// How many times the catalogue was read from the database.
    pub fn loads(&self) -> u64 {
        self.loads.load(Ordering::Relaxed)
    }
}

/// Reads the whole catalogue, each package's versions oldest first, as the sparse index
/// (`/api/v1/index/packages/...`) serves them.
pub async fn load(db: &impl ConnectionTrait) -> Result<Catalogue, CheckError> {
    let (packages, versions) = queries::everything(db).await?;
    let names: BTreeMap<i64, PackageName> = packages
        .into_iter()
        .map(|p| {
            let name = p
                .name
                .parse()
                .map_err(|e| CheckError::Internal(format!("stored package name {}: {e}", p.name)))?;
            Ok((p.id, name))
        })
        .collect::<Result<_, CheckError>>()?;
    let mut catalogue = Catalogue::default();
    for v in versions {
        let name = names
            .get(&v.package_id)
            .ok_or_else(|| CheckError::Internal(format!("version row {} has no package", v.id)))?;
        let version = crate::db::index::index_version(name, &v).map_err(|e| CheckError::Internal(e.to_string()))?;
        catalogue.packages.entry(name.clone()).or_default().push(version);
    }
    for versions in catalogue.packages.values_mut() {
        versions.sort_by(|a, b| a.version.cmp(&b.version));
    }
    Ok(catalogue)
}

/// Parses a stack profile as sent by a client: at most [`MAX_STACK_TEXT`] bytes of
/// UTF-8, then `stack.toml`'s own rules.
pub fn parse_stack(bytes: &[u8]) -> Result<Stack, CheckError> {
    if bytes.len() > MAX_STACK_TEXT {
        return Err(CheckError::TooLarge { size: bytes.len() });
    }
    let text = std::str::from_utf8(bytes).map_err(|_| CheckError::NotText)?;
    if text.trim().is_empty() {
        return Err(CheckError::Empty);
    }
    Ok(Stack::from_toml_str(text)?)
}

/// Checks `text` against the catalogue in `cache` (read from `db` when it changed).
/// `source` is the registry URL the lockfile names. Waits at most [`CHECK_TIME`] for a
/// turn (else [`CheckError::Busy`]); the check itself, from the turn on, is bounded by
/// [`CHECK_TIME`] too, so a request that waited long still gets its full time rather than
/// doing work nobody receives.
pub async fn run(
    cache: &CatalogueCache,
    db: &impl ConnectionTrait,
    text: &[u8],
    source: Url,
) -> Result<StackCheck, CheckError> {
    let stack = parse_stack(text)?;
    run_stack(cache, db, stack, source, None).await
}

/// A country's stack with one proposed version in it: the stack, with `package` pinned
/// to `version` among its wants, checked as [`run`] does; under `approved_only` the
/// proposed version (manifest `digest`) counts as approved, since its approval is
/// what is being decided. Answers whether the country could run it, with what.
pub async fn run_with_proposed(
    cache: &CatalogueCache,
    db: &impl ConnectionTrait,
    stack_text: &str,
    package: &PackageName,
    version: &semver::Version,
    digest: &govstore_core::Digest,
    source: Url,
) -> Result<StackCheck, CheckError> {
    let mut stack = parse_stack(stack_text.as_bytes())?;
    let pin = semver::VersionReq::parse(&format!("={version}"))
        .map_err(|e| CheckError::Internal(format!("pinning {package} {version}: {e}")))?;
    stack.wants.packages.insert(package.clone(), pin);
    run_stack(cache, db, stack, source, Some(digest.clone())).await
}

async fn run_stack(
    cache: &CatalogueCache,
    db: &impl ConnectionTrait,
    stack: Stack,
    source: Url,
    proposed: Option<govstore_core::Digest>,
) -> Result<StackCheck, CheckError> {
    let turn = tokio::time::timeout(CHECK_TIME, cache.turns.clone().acquire_owned())
        .await
        .map_err(|_| CheckError::Busy)?
        .map_err(|_| CheckError::Busy)?;
    let deadline = Instant::now() + CHECK_TIME;
    let catalogue = cache.get(db).await?;
    let approvals = if stack.policy.approved_only {
        let country = stack.trust.country.unwrap_or(stack.stack.country);
        let mut a = country_approvals(db, country.as_str())
            .await
            .map_err(|e| CheckError::Internal(format!("reading approvals: {e}")))?;
        if let Some(d) = proposed {
            a.notes.remove(&d);
            a.approved.insert(d);
        }
        a
    } else {
        Approvals::default()
    };
    let task = tokio::task::spawn_blocking(move || {
        let _turn = turn;
        check_with(&catalogue, &stack, &source, deadline, approvals)
    });
    match tokio::time::timeout_at(deadline.into(), task).await {
        Ok(Ok(result)) => Ok(result),
        Ok(Err(e)) => Err(CheckError::Internal(format!("stack check task failed: {e}"))),
        Err(_) => Err(CheckError::TimedOut),
    }
}

/// The outcome of a check, for the page and the download.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StackCheck {
    /// `stack.name`.
    pub name: String,
    /// `stack.country`.
    pub country: String,
    pub outcome: Outcome,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Outcome {
    /// The stack resolves.
    Fits(Fits),
    /// Nothing fits: the resolver's report, whole (`report`, as `govstore resolve`
    /// prints it) and in parts: the explanation's paragraphs, then the hints.
    NoFit {
        report: String,
        explanation: Vec<String>,
        hints: Vec<String>,
    },
    /// The resolver gave up ([`MAX_STEPS`]).
    TooComplex { message: String },
}

/// A resolution, ready to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fits {
    /// Every package of the resolved stack, by name.
    pub packages: Vec<FitRow>,
    /// Who implements each spec the stack or a chosen package needs.
    pub specs: Vec<SpecRow>,
    /// The other implementers of the wanted specs, by spec then package.
    pub not_fitting: Vec<NotChosen>,
    /// How many packages are to install (those the stack does not already run).
    pub to_install: usize,
    /// The `govstore.lock` text, as `govstore resolve` writes it.
    pub lockfile: String,
}

/// One chosen package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FitRow {
    pub name: String,
    pub version: String,
    /// The specs it is chosen to implement, `govstack/identity 1.0.2`.
    pub provides: Vec<String>,
    /// Why it is in the stack, one reason each (the resolver's words).
    pub why: Vec<String>,
    /// The SPDX expression, when the catalogue has this version.
    pub licence: Option<String>,
    /// The manifest digest the lockfile pins.
    pub digest: Option<String>,
    /// The existing system that already runs it: nothing to install.
    pub existing: Option<String>,
    /// `7.5.2 run by national-xroad`: the version this one replaces.
    pub replaces: Option<String>,
}

/// Who implements one spec.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SpecRow {
    pub spec: String,
    pub version: String,
    pub provider: String,
}

/// An implementer of a wanted spec that was not chosen for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotChosen {
    pub spec: String,
    pub package: String,
    pub verdict: Verdict,
    /// One paragraph: the resolver's explanation, or why another was preferred.
    pub reason: String,
    /// The resolver's hints, when it could not use the package.
    pub hints: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The stack cannot use it for the spec.
    DoesNotFit,
    /// It would fit, but the resolver prefers the chosen one.
    FitsButNotPreferred,
    /// An existing system already implements the spec.
    NotNeeded,
    /// Not resolved: a limit was reached.
    NotChecked,
}

/// Resolves `stack` against `catalogue` and explains the alternatives, giving up on
/// explanations (not on the result) at `deadline`.
pub fn check(catalogue: &Catalogue, stack: &Stack, source: &Url, deadline: Instant) -> StackCheck {
    check_with(catalogue, stack, source, deadline, Approvals::default())
}

/// What a country approved, as this registry counts it (its registered, unrevoked
/// approver keys and its threshold): the web check's view. The CLI verifies the
/// envelopes itself against the keys a stack pins.
#[derive(Debug, Clone, Default)]
pub struct Approvals {
    pub approved: std::collections::BTreeSet<govstore_core::Digest>,
    pub notes: std::collections::BTreeMap<govstore_core::Digest, String>,
}

/// Every digest the country has a statement about, counted now.
pub async fn country_approvals(db: &impl ConnectionTrait, code: &str) -> Result<Approvals, sea_orm::DbErr> {
    let mut out = Approvals::default();
    let Some(c) = crate::db::countries::by_code(db, code).await? else {
        return Ok(out);
    };
    let Ok(cc) = code.parse::<govstore_core::manifest::values::CountryCode>() else {
        return Ok(out);
    };
    let now = crate::now_ms() / 1000;
    let mut digests: Vec<String> = crate::db::approvals::of_country(db, c.id)
        .await?
        .into_iter()
        .map(|a| a.manifest_digest)
        .collect();
    digests.sort();
    digests.dedup();
    for d in digests {
        let tally = crate::db::approvals::tally(db, &c, &d, now).await?;
        let Ok(digest) = d.parse() else { continue };
        match tally.why_not(cc) {
            None => {
                out.approved.insert(digest);
            }
            Some(why) => {
                out.notes.insert(digest, why);
            }
        }
    }
    Ok(out)
}

/// [`check`], with the country's approvals for an `approved_only` stack.
pub fn check_with(
    catalogue: &Catalogue,
    stack: &Stack,
    source: &Url,
    deadline: Instant,
    approvals: Approvals,
) -> StackCheck {
    let options = ResolveOptions {
        max_steps: Some(MAX_STEPS),
        approved: approvals.approved,
        approval_notes: approvals.notes,
        ..ResolveOptions::default()
    };
    let outcome = match Resolver::new(catalogue).resolve(stack, &options) {
        Ok(resolution) => Outcome::Fits(fits(catalogue, stack, source, &resolution, &options, deadline)),
        Err(ResolveError::NoSolution(report)) => Outcome::NoFit {
            report: report.to_string(),
            explanation: report
                .explanation()
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect(),
            hints: report.hints().to_vec(),
        },
        Err(e @ ResolveError::TooComplex { .. }) => Outcome::TooComplex {
            message: format!("{e}; simplify the stack's wants and try again"),
        },
    };
    StackCheck {
        name: stack.stack.name.clone(),
        country: stack.stack.country.to_string(),
        outcome,
    }
}

fn fits(
    catalogue: &Catalogue,
    stack: &Stack,
    source: &Url,
    resolution: &Resolution,
    options: &ResolveOptions,
    deadline: Instant,
) -> Fits {
    let provides = |name: &PackageName| -> Vec<String> {
        resolution
            .specs
            .iter()
            .filter(|s| matches!(&s.provider, SpecProvider::Package { name: n, .. } if n == name))
            .map(|s| format!("{} {}", s.spec, s.version))
            .collect()
    };
    let packages = resolution
        .packages
        .iter()
        .map(|p| {
            let entry = find(catalogue, &p.name, &p.version);
            let why = match &p.existing {
                Some(system) => vec![format!("already running as {system}")],
                None => p.satisfies.iter().map(ToString::to_string).collect(),
            };
            FitRow {
                name: p.name.to_string(),
                version: p.version.to_string(),
                provides: provides(&p.name),
                why,
                licence: entry.map(|e| e.manifest.package.license.as_str().to_owned()),
                digest: p.digest.as_ref().map(ToString::to_string),
                existing: p.existing.clone(),
                replaces: p.replaces.as_ref().map(|(system, v)| format!("{v} run by {system}")),
            }
        })
        .collect();
    let specs = resolution
        .specs
        .iter()
        .map(|s| SpecRow {
            spec: s.spec.to_string(),
            version: s.version.to_string(),
            provider: s.provider.to_string(),
        })
        .collect();
    Fits {
        packages,
        specs,
        not_fitting: alternatives(catalogue, stack, resolution, options, deadline),
        to_install: resolution.to_install().count(),
        lockfile: resolution.to_lockfile(stack, source).to_toml_string(),
    }
}

fn find<'c>(catalogue: &'c Catalogue, name: &PackageName, version: &Version) -> Option<&'c IndexVersion> {
    catalogue
        .packages
        .get(name)
        .and_then(|vs| vs.iter().find(|v| &v.version == version))
}

/// Packages with some version implementing `spec` (at any spec version), by name.
fn implementers(catalogue: &Catalogue, spec: &SpecId) -> Vec<PackageName> {
    catalogue
        .packages
        .iter()
        .filter(|(_, versions)| {
            versions
                .iter()
                .any(|v| v.manifest.implements.iter().any(|i| &i.spec == spec))
        })
        .map(|(name, _)| name.clone())
        .collect()
}

/// `versions` with their implementations of `spec` taken out.
fn without_spec(versions: &[IndexVersion], spec: &SpecId) -> Vec<IndexVersion> {
    versions
        .iter()
        .map(|v| {
            let mut v = v.clone();
            v.manifest.implements.retain(|i| &i.spec != spec);
            v
        })
        .collect()
}

/// For each wanted spec, every other implementer and why it was not chosen.
fn alternatives(
    catalogue: &Catalogue,
    stack: &Stack,
    resolution: &Resolution,
    options: &ResolveOptions,
    deadline: Instant,
) -> Vec<NotChosen> {
    let mut out = Vec::new();
    // One working copy, made when first needed; each spec's implementers are stripped
    // of it, then restored.
    let mut work: Option<Catalogue> = None;
    for (k, (spec, requirement)) in stack.wants.specs.iter().enumerate() {
        let Some(choice) = resolution.specs.iter().find(|s| &s.spec == spec) else {
            continue;
        };
        let candidates = implementers(catalogue, spec);
        let row = |package: &PackageName, verdict, reason: String, hints: Vec<String>| NotChosen {
            spec: spec.to_string(),
            package: package.to_string(),
            verdict,
            reason,
            hints,
        };
        match &choice.provider {
            SpecProvider::Existing { system } => {
                let runs: BTreeSet<&PackageName> = stack
                    .existing
                    .iter()
                    .filter(|e| &e.name == system)
                    .filter_map(|e| e.package.as_ref())
                    .collect();
                for p in candidates.iter().filter(|p| !runs.contains(p)) {
                    let reason = format!(
                        "not needed: the stack's existing system {system} already implements {spec} {}",
                        choice.version
                    );
                    out.push(row(p, Verdict::NotNeeded, reason, Vec::new()));
                }
            }
            SpecProvider::Package { name: chosen, .. } => {
                if candidates.iter().all(|p| p == chosen) {
                    continue;
                }
                let work = work.get_or_insert_with(|| catalogue.clone());
                // Only the package under test may implement the spec: the chosen one and
                // every other implementer lose their implementations of it.
                for p in &candidates {
                    if let Some(versions) = catalogue.packages.get(p) {
                        work.packages.insert(p.clone(), without_spec(versions, spec));
                    }
                }
                let others: Vec<&PackageName> = candidates.iter().filter(|p| *p != chosen).collect();
                for (n, p) in others.iter().enumerate() {
                    let limit = if k >= MAX_SPECS_EXPLAINED {
                        Some(format!(
                            "not checked: a stack check explains the implementers of at most {MAX_SPECS_EXPLAINED} wanted specs"
                        ))
                    } else if n >= MAX_ALTERNATIVES_PER_SPEC {
                        Some(format!(
                            "not checked: a stack check explains at most {MAX_ALTERNATIVES_PER_SPEC} other implementers per spec"
                        ))
                    } else if Instant::now() >= deadline {
                        Some(format!(
                            "not checked: the check ran out of its {} seconds",
                            CHECK_TIME.as_secs()
                        ))
                    } else {
                        None
                    };
                    if let Some(reason) = limit {
                        out.push(row(p, Verdict::NotChecked, reason, Vec::new()));
                        continue;
                    }
                    let Some(original) = catalogue.packages.get(*p) else {
                        continue;
                    };
                    let stripped = work.packages.insert((*p).clone(), original.clone());
                    let forced = Resolver::new(work).resolve(stack, options);
                    if let Some(stripped) = stripped {
                        work.packages.insert((*p).clone(), stripped);
                    }
                    let (verdict, reason, hints) = match forced {
                        Err(ResolveError::NoSolution(report)) => (
                            Verdict::DoesNotFit,
                            format!("With {p} implementing {spec}: {}", report.explanation().trim()),
                            report.hints().to_vec(),
                        ),
                        Err(e @ ResolveError::TooComplex { .. }) => {
                            (Verdict::NotChecked, format!("not checked: {e}"), Vec::new())
                        }
                        Ok(with_p) => (
                            Verdict::FitsButNotPreferred,
                            preferred(catalogue, stack, resolution, &with_p, spec, requirement, chosen, p),
                            Vec::new(),
                        ),
                    };
                    out.push(row(p, verdict, reason, hints));
                }
                for p in &candidates {
                    if let Some(versions) = catalogue.packages.get(p) {
                        work.packages.insert(p.clone(), versions.clone());
                    }
                }
            }
        }
    }
    out
}

/// Why the resolver chose `chosen` over `other` for `spec`, when `other` fits too
/// (`with_other` is the resolution with `other` as the only implementer). The order is
/// the resolver's (`govstore_resolver`'s candidates module): what the stack already
/// runs, then what it names (`wants.packages`, `wants.pins`) or already needs for
/// another reason, then higher compliance for the spec (the sum of the three claimed
/// levels, n/a 0, level-1 1, level-2 2), then the newer spec version, then the name.
#[allow(clippy::too_many_arguments)]
fn preferred(
    catalogue: &Catalogue,
    stack: &Stack,
    resolution: &Resolution,
    with_other: &Resolution,
    spec: &SpecId,
    requirement: &VersionReq,
    chosen: &PackageName,
    other: &PackageName,
) -> String {
    let other_version = with_other
        .specs
        .iter()
        .find(|s| &s.spec == spec)
        .and_then(|s| match &s.provider {
            SpecProvider::Package { name, version } if name == other => Some((version.clone(), s.version.clone())),
            _ => None,
        });
    let Some((other_version, other_spec_version)) = other_version else {
        return format!("{other} can be installed, but the resolver still meets {spec} otherwise");
    };
    let Some(choice) = resolution.specs.iter().find(|s| &s.spec == spec) else {
        return format!("{other} {other_version} fits too");
    };
    let chosen_version = resolution.get(chosen).map(|p| p.version.clone());
    let fits = format!(
        "{other} {other_version} fits too (it implements {spec} {other_spec_version}, the stack wants {})",
        req_text(requirement)
    );
    let because = if stack.existing.iter().any(|e| e.package.as_ref() == Some(chosen)) {
        format!("the stack already runs {chosen}")
    } else if stack.wants.packages.contains_key(chosen) {
        format!("the stack asks for {chosen} in wants.packages")
    } else if stack.wants.pins.contains_key(chosen) {
        format!("the stack pins {chosen} in wants.pins")
    } else if let Some(need) = resolution.get(chosen).and_then(|p| {
        p.satisfies
            .iter()
            .find(|n| !matches!(n, Need::Implements { spec: s, .. } if s == spec))
    }) {
        format!("{chosen} is in the stack anyway ({need})")
    } else {
        let score = |name: &PackageName, spec_version: &Version| group_score(catalogue, name, spec, spec_version);
        let (mine, theirs) = (score(chosen, &choice.version), score(other, &other_spec_version));
        if mine.0 != theirs.0 {
            format!(
                "{chosen} claims higher compliance for {spec} ({}) than {other} ({})",
                mine.1, theirs.1
            )
        } else if choice.version != other_spec_version {
            format!(
                "{chosen} implements a newer version of {spec} ({} against {other_spec_version})",
                choice.version
            )
        } else {
            format!(
                "both claim the same compliance for {spec} ({}) and the same spec version, and the resolver then takes the first by name",
                mine.1
            )
        }
    };
    let chosen_text = match chosen_version {
        Some(v) => format!("{chosen} {v}"),
        None => chosen.to_string(),
    };
    let mut reason = format!("{fits}, but {chosen_text} was preferred: {because}");
    let before: BTreeSet<&PackageName> = resolution.packages.iter().map(|p| &p.name).collect();
    let added: Vec<String> = with_other
        .packages
        .iter()
        .filter(|p| &p.name != other && !before.contains(&p.name))
        .map(|p| format!("{} {}", p.name, p.version))
        .collect();
    if !added.is_empty() {
        reason.push_str(&format!(
            "; with {other}, the stack would also need {}",
            added.join(", ")
        ));
    }
    reason
}

/// The highest compliance any version of `name` claims for `spec` at `spec_version`, as
/// the resolver ranks it, with the claims spelled out.
fn group_score(catalogue: &Catalogue, name: &PackageName, spec: &SpecId, spec_version: &Version) -> (u8, String) {
    catalogue
        .packages
        .get(name)
        .into_iter()
        .flatten()
        .flat_map(|v| v.manifest.implements.iter())
        .filter(|i| &i.spec == spec && &i.version == spec_version)
        .map(|i| (score(i), claims(i)))
        .max_by_key(|(s, _)| *s)
        .unwrap_or((0, "no compliance claims".to_owned()))
}

fn score(i: &Implementation) -> u8 {
    let c = &i.compliance;
    rank(c.deployment.as_ref().map(|c| c.level))
        + rank(c.interface.as_ref().map(|c| c.level))
        + rank(c.requirements.as_ref().map(|c| c.level))
}

fn rank(level: Option<Level>) -> u8 {
    match level {
        Some(Level::Level2) => 2,
        Some(Level::Level1) => 1,
        _ => 0,
    }
}

/// `deployment level-2, interface level-1, requirements n/a`.
fn claims(i: &Implementation) -> String {
    let c = &i.compliance;
    let show = |level: Option<Level>| level.map_or_else(|| "n/a".to_owned(), |l| l.to_string());
    format!(
        "deployment {}, interface {}, requirements {}",
        show(c.deployment.as_ref().map(|c| c.level)),
        show(c.interface.as_ref().map(|c| c.level)),
        show(c.requirements.as_ref().map(|c| c.level))
    )
}

/// `*` reads as "any version".
fn req_text(req: &VersionReq) -> String {
    if req.comparators.is_empty() {
        "any version".to_owned()
    } else {
        req.to_string()
    }
}

/// The report of an unsatisfiable stack, as a downloadable text.
pub fn report_text(check: &StackCheck) -> Option<String> {
    match &check.outcome {
        Outcome::NoFit { report, .. } => Some(report.clone()),
        Outcome::TooComplex { message } => Some(format!("{message}\n")),
        Outcome::Fits(_) => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use govstore_core::manifest::Manifest;

    fn examples() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../catalog-examples")
    }

    /// The example catalogue, as the resolver's own tests build it.
    fn example_catalogue() -> Catalogue {
        let mut catalogue = Catalogue::default();
        for entry in std::fs::read_dir(examples()).unwrap() {
            let path = entry.unwrap().path().join("govstore.toml");
            if !path.is_file() {
                continue;
            }
            let manifest = Manifest::from_toml_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            catalogue
                .packages
                .entry(manifest.package.name.clone())
                .or_default()
                .push(IndexVersion {
                    version: manifest.package.version.clone(),
                    digest: manifest.digest(),
                    yanked: false,
                    yank_reason: None,
                    key_ids: vec!["sha256:example".to_owned()],
                    manifest,
                    approvals: Vec::new(),
                });
        }
        for versions in catalogue.packages.values_mut() {
            versions.sort_by(|a, b| a.version.cmp(&b.version));
        }
        catalogue
    }

    fn run_example(file: &str, edit: impl FnOnce(&mut Stack)) -> StackCheck {
        let text = std::fs::read_to_string(examples().join(file)).unwrap();
        let mut stack = parse_stack(text.as_bytes()).unwrap();
        edit(&mut stack);
        let source: Url = "https://registry.example.gov".parse().unwrap();
        check(&example_catalogue(), &stack, &source, Instant::now() + CHECK_TIME)
    }

    fn fits(check: &StackCheck) -> &Fits {
        match &check.outcome {
            Outcome::Fits(f) => f,
            other => panic!("expected a resolution, got {other:?}"),
        }
    }

    fn alternative<'a>(f: &'a Fits, spec: &str, package: &str) -> &'a NotChosen {
        f.not_fitting
            .iter()
            .find(|n| n.spec == spec && n.package == package)
            .unwrap_or_else(|| panic!("{package} not listed for {spec}: {:#?}", f.not_fitting))
    }

    #[test]
    fn greenfield_lists_the_resolution_and_why_kubernetes_packages_do_not_fit() {
        let check = run_example("stack-greenfield-vms.toml", |_| {});
        let f = fits(&check);
        let chosen: Vec<(&str, &str)> = f
            .packages
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str()))
            .collect();
        assert_eq!(
            chosen,
            [
                ("mosip/esignet", "1.8.0"),
                ("openspp/openspp", "1.2.1"),
                ("rapidpro/rapidpro", "9.0.0"),
                ("x-road/security-server", "7.8.0")
            ]
        );
        let esignet = &f.packages[0];
        assert_eq!(esignet.provides, ["govstack/identity 1.0.2"]);
        assert_eq!(esignet.licence.as_deref(), Some("MPL-2.0"));
        assert!(esignet.digest.as_deref().unwrap().starts_with("sha256:"));
        let idrepo = alternative(f, "govstack/identity", "mosip/id-repository");
        assert_eq!(idrepo.verdict, Verdict::DoesNotFit, "{idrepo:?}");
        assert!(idrepo.reason.contains("needs kubernetes"), "{}", idrepo.reason);
        let crvs = alternative(f, "govstack/registration", "opencrvs/opencrvs-core");
        assert_eq!(crvs.verdict, Verdict::DoesNotFit, "{crvs:?}");
        assert!(crvs.reason.contains("elasticsearch"), "{}", crvs.reason);
        // The lockfile is the resolver's.
        let lock = govstore_core::stack::Lockfile::from_toml_str(&f.lockfile).unwrap();
        assert_eq!(lock.packages.len(), 4);
        assert_eq!(f.to_install, 4);
    }

    #[test]
    fn an_existing_system_makes_other_implementers_unneeded() {
        let check = run_example("stack-xroad-mosip-kubernetes.toml", |_| {});
        let f = fits(&check);
        let esignet = alternative(f, "govstack/identity", "mosip/esignet");
        assert_eq!(esignet.verdict, Verdict::NotNeeded);
        assert!(esignet.reason.contains("national-id-registry"), "{}", esignet.reason);
        assert!(
            !f.not_fitting.iter().any(|n| n.package == "mosip/id-repository"),
            "the running package is not an alternative to itself"
        );
        let xroad = f.packages.iter().find(|p| p.name == "x-road/security-server").unwrap();
        assert_eq!(xroad.replaces.as_deref(), Some("7.5.2 run by national-xroad"));
    }

    #[test]
    fn a_fitting_alternative_says_why_the_other_was_preferred() {
        // On Kubernetes with everything, both eSignet and the ID repository fit.
        let check = run_example("stack-no-copyleft.toml", |s| {
            s.policy.deny_copyleft = false;
            s.wants.specs.retain(|spec, _| spec.as_str() == "govstack/identity");
        });
        let f = fits(&check);
        let identity = f.specs.iter().find(|s| s.spec == "govstack/identity").unwrap();
        let chosen = identity.provider.split(' ').next().unwrap();
        let other = if chosen == "mosip/esignet" {
            "mosip/id-repository"
        } else {
            "mosip/esignet"
        };
        let alt = alternative(f, "govstack/identity", other);
        assert_eq!(alt.verdict, Verdict::FitsButNotPreferred, "{}", alt.reason);
        assert!(alt.reason.contains(&format!("{chosen} ")), "{}", alt.reason);
        assert!(alt.reason.contains("was preferred"), "{}", alt.reason);
    }

    #[test]
    fn no_copyleft_gives_the_report() {
        let check = run_example("stack-no-copyleft.toml", |_| {});
        let Outcome::NoFit { report, hints, .. } = &check.outcome else {
            panic!("{check:?}");
        };
        assert!(report.starts_with("no set of packages fits the stack"), "{report}");
        assert!(report.contains("MPL-2.0 is copyleft"), "{report}");
        assert!(hints.iter().any(|h| h.contains("licence policy")), "{hints:?}");
        assert_eq!(report_text(&check).as_deref(), Some(report.as_str()));
    }

    /// The whole result for each example stack: what the page shows.
    #[test]
    fn example_results() {
        for file in [
            "stack-greenfield-vms.toml",
            "stack-xroad-mosip-kubernetes.toml",
            "stack-no-copyleft.toml",
        ] {
            let check = run_example(file, |_| {});
            insta::assert_json_snapshot!(file, check, {
                ".outcome.packages[].digest" => "[digest]",
                ".outcome.lockfile" => "[lockfile]",
            });
        }
    }

    /// A catalogue where `n` packages implement identity, each like eSignet 1.8.0.
    fn many_implementers(n: usize) -> Catalogue {
        let mut catalogue = example_catalogue();
        let esignet: PackageName = "mosip/esignet".parse().unwrap();
        let template = catalogue.packages[&esignet].last().unwrap().clone();
        for i in 0..n {
            let name: PackageName = format!("vendor-{i:02}/idp").parse().unwrap();
            let mut v = template.clone();
            v.manifest.package.name = name.clone();
            catalogue.packages.insert(name, vec![v]);
        }
        catalogue
    }

    fn identity_stack() -> Stack {
        parse_stack(
            b"[stack]\ncountry = \"EE\"\nname = \"Identity\"\n[infrastructure.platform]\npostgresql = \"16\"\nredis = \"7\"\n\
              [wants]\nspecs = { \"govstack/identity\" = \"^1.0\", \"govstack/information-mediator\" = \"^1.1\" }\n",
        )
        .unwrap()
    }

    #[test]
    fn alternatives_past_the_limit_are_listed_as_not_checked() {
        let catalogue = many_implementers(MAX_ALTERNATIVES_PER_SPEC + 3);
        let source: Url = "https://registry.example.gov".parse().unwrap();
        let check = check(&catalogue, &identity_stack(), &source, Instant::now() + CHECK_TIME);
        let f = fits(&check);
        let identity: Vec<&NotChosen> = f.not_fitting.iter().filter(|n| n.spec == "govstack/identity").collect();
        // eSignet 1.7/1.8 and the ID repository, plus the vendors, less the chosen one.
        assert_eq!(identity.len(), MAX_ALTERNATIVES_PER_SPEC + 3 + 1);
        let unchecked = identity.iter().filter(|n| n.verdict == Verdict::NotChecked).count();
        assert_eq!(unchecked, 4, "{identity:#?}");
        assert!(
            identity
                .iter()
                .take(MAX_ALTERNATIVES_PER_SPEC)
                .all(|n| n.verdict != Verdict::NotChecked)
        );
        assert!(
            identity
                .last()
                .unwrap()
                .reason
                .contains("at most 12 other implementers")
        );
        // A copy of eSignet fits as well as eSignet: the preference is the name.
        let twin = identity.iter().find(|n| n.package == "vendor-00/idp").unwrap();
        assert_eq!(twin.verdict, Verdict::FitsButNotPreferred, "{twin:?}");
        assert!(twin.reason.contains("first by name"), "{}", twin.reason);
    }

    #[test]
    fn a_spent_deadline_keeps_the_result_and_skips_the_explanations() {
        let catalogue = many_implementers(2);
        let source: Url = "https://registry.example.gov".parse().unwrap();
        let check = check(&catalogue, &identity_stack(), &source, Instant::now());
        let f = fits(&check);
        assert!(f.packages.iter().any(|p| p.provides == ["govstack/identity 1.0.2"]));
        assert!(!f.not_fitting.is_empty());
        for n in &f.not_fitting {
            assert_eq!(n.verdict, Verdict::NotChecked);
            assert!(n.reason.contains("ran out"), "{}", n.reason);
        }
    }

    #[test]
    fn limits_and_errors() {
        assert!(matches!(parse_stack(b"  \n"), Err(CheckError::Empty)));
        assert!(matches!(parse_stack(&[0xff, 0xfe]), Err(CheckError::NotText)));
        let big = vec![b'#'; MAX_STACK_TEXT + 1];
        assert!(matches!(parse_stack(&big), Err(CheckError::TooLarge { .. })));
        let e = parse_stack(b"[stack]\ncountry = \"ke\"\nname = \"x\"\n").unwrap_err();
        assert!(e.to_string().contains("line 2"), "{e}");
        assert!(e.is_client_error());
    }
}
