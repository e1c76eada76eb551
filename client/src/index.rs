//! Reading the registry's sparse index through the local HTTP cache, and filling a
//! [`Catalogue`] for the resolver.
//!
//! Each document (`/api/v1/index/packages/{ns}/{name}`, `/api/v1/index/specs/{ns}/{name}`)
//! is cached under its URL with its `ETag` ([`crate::cache`]). Online, every read is a
//! conditional `GET`: `304 Not Modified` reuses the cached copy, `200` replaces it.
//! A `404` is cached too, so that offline a name the registry did not know is reported
//! as unknown again. Offline, only the cache is read, and a document that is not there
//! is an error that names it.
//!
//! [`IndexClient::prefetch`] starts from the packages and specs a stack wants and walks
//! what they need, transitively: every version's `requires.packages` and
//! `requires.specs`, and every implementation a spec document lists, fetching up to
//! `jobs` documents at a time.

use std::collections::BTreeSet;

use futures_util::StreamExt;
use govstore_core::index::{Catalogue, IndexDocumentError, PackageIndex, SpecIndex};
use govstore_core::package::{PackageName, SpecId};
use govstore_core::stack::{Lockfile, Stack};
use govstore_core::wire::FormatError;
use serde::de::DeserializeOwned;

use crate::cache::{Cache, CacheError, CachedDocument};
use crate::registry::{ClientError, Conditional, RegistryClient};

/// Why an index document could not be had.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error(transparent)]
    Cache(#[from] CacheError),
    #[error("the index document of {what} is not in the local cache ({url})")]
    NotCached { what: String, url: String },
    #[error("the registry sent an invalid index document for {what}: {message}")]
    Invalid { what: String, message: String },
    /// A document in a format this govstore does not read (a newer registry); the
    /// error's subject names the document, and [`FormatError::hint`] says to upgrade.
    #[error(transparent)]
    Format(FormatError),
}

/// Something to start a walk of the index from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Root {
    Package(PackageName),
    Spec(SpecId),
}

/// Where a walk of the index starts for `stack`: the specs and packages it wants or
/// pins, the packages its existing systems are, and the packages of `lock` (so that
/// `outdated` and `update` see every locked package's newer versions).
pub fn stack_roots(stack: &Stack, lock: Option<&Lockfile>) -> Vec<Root> {
    let wants = &stack.wants;
    let mut roots: Vec<Root> = wants.specs.keys().cloned().map(Root::Spec).collect();
    roots.extend(wants.packages.keys().cloned().map(Root::Package));
    roots.extend(wants.pins.keys().cloned().map(Root::Package));
    roots.extend(
        stack
            .existing
            .iter()
            .filter_map(|e| e.package.clone())
            .map(Root::Package),
    );
    roots.extend(
        lock.iter()
            .flat_map(|l| &l.packages)
            .map(|p| Root::Package(p.name.clone())),
    );
    roots.sort();
    roots.dedup();
    roots
}

/// How a document was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Downloaded (new or changed).
    Fetched,
    /// The registry answered `304 Not Modified`: the cached copy is current.
    Revalidated,
    /// Read from the cache without asking (offline).
    Cache,
}

/// What a walk found.
#[derive(Debug, Clone, Default)]
pub struct Prefetched {
    pub catalogue: Catalogue,
    /// Spec documents by spec (implementations of each spec).
    pub specs: Vec<SpecIndex>,
    /// Names the registry does not know (404).
    pub unknown_packages: BTreeSet<PackageName>,
    pub unknown_specs: BTreeSet<SpecId>,
    /// Documents downloaded, confirmed current with `304`, read from the cache alone.
    pub fetched: usize,
    pub revalidated: usize,
    pub from_cache: usize,
}

impl Prefetched {
    fn count(&mut self, source: Source) {
        match source {
            Source::Fetched => self.fetched += 1,
            Source::Revalidated => self.revalidated += 1,
            Source::Cache => self.from_cache += 1,
        }
    }
}

/// Reads index documents from a registry, through a cache.
#[derive(Debug, Clone)]
pub struct IndexClient {
    registry: RegistryClient,
    cache: Cache,
    offline: bool,
}

impl IndexClient {
    /// `offline` reads the cache only; the registry client is used for URLs then.
    pub fn new(registry: RegistryClient, cache: Cache, offline: bool) -> Self {
        Self {
            registry,
            cache,
            offline,
        }
    }

    /// A package's document, or `None` if the registry does not know the package.
    pub async fn package(&self, name: &PackageName) -> Result<Option<(PackageIndex, Source)>, IndexError> {
        let what = format!("package `{name}`");
        let segments = ["api", "v1", "index", "packages", name.namespace(), name.name()];
        let Some((doc, source)) = self.document::<PackageIndex>(&segments, &what).await? else {
            return Ok(None);
        };
        check_package(&doc, name).map_err(|message| IndexError::Invalid { what, message })?;
        Ok(Some((doc, source)))
    }

    /// A spec's document, or `None` if the registry does not know the spec.
    pub async fn spec(&self, spec: &SpecId) -> Result<Option<(SpecIndex, Source)>, IndexError> {
        let what = format!("spec `{spec}`");
        let segments = ["api", "v1", "index", "specs", spec.namespace(), spec.name()];
        let Some((doc, source)) = self.document::<SpecIndex>(&segments, &what).await? else {
            return Ok(None);
        };
        if &doc.spec != spec {
            return Err(IndexError::Invalid {
                what,
                message: format!("it describes `{}`", doc.spec),
            });
        }
        Ok(Some((doc, source)))
    }

    async fn document<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        what: &str,
    ) -> Result<Option<(T, Source)>, IndexError> {
        let url = self.registry.document_url(segments)?;
        let cached = self.cache.document(&url);
        let (body, source) = if self.offline {
            let doc = cached.ok_or_else(|| IndexError::NotCached {
                what: what.to_owned(),
                url: url.clone(),
            })?;
            if doc.not_found {
                return Ok(None);
            }
            (doc.body, Source::Cache)
        } else {
            let etag = cached.as_ref().filter(|d| !d.not_found).and_then(|d| d.etag.as_deref());
            match self.registry.get_conditional(segments, etag).await {
                Ok(Conditional::NotModified) => match cached.filter(etag_sent) {
                    Some(doc) => (doc.body, Source::Revalidated),
                    None => {
                        return Err(IndexError::Invalid {
                            what: what.to_owned(),
                            message: "304 Not Modified to a request without If-None-Match".into(),
                        });
                    }
                },
                Ok(Conditional::Fresh { body, etag }) => {
                    let body = String::from_utf8(body).map_err(|_| IndexError::Invalid {
                        what: what.to_owned(),
                        message: "not UTF-8".into(),
                    })?;
                    // Parse before caching, so the cache only holds documents that parse.
                    parse::<T>(&body, what)?;
                    self.cache.put_document(&CachedDocument {
                        url: url.clone(),
                        etag,
                        body: body.clone(),
                        not_found: false,
                    })?;
                    (body, Source::Fetched)
                }
                Err(e) if e.is_not_found() => {
                    self.cache.put_document(&CachedDocument {
                        url,
                        etag: None,
                        body: String::new(),
                        not_found: true,
                    })?;
                    return Ok(None);
                }
                Err(e) => return Err(e.into()),
            }
        };
        Ok(Some((parse(&body, what)?, source)))
    }

    /// Fetches the documents reachable from `roots` (see the module documentation),
    /// `jobs` at a time.
    pub async fn prefetch(&self, roots: impl IntoIterator<Item = Root>, jobs: usize) -> Result<Prefetched, IndexError> {
        let mut out = Prefetched::default();
        let mut seen: BTreeSet<Root> = BTreeSet::new();
        let mut frontier: Vec<Root> = Vec::new();
        for r in roots {
            if seen.insert(r.clone()) {
                frontier.push(r);
            }
        }
        while !frontier.is_empty() {
            let batch = std::mem::take(&mut frontier);
            let mut results = futures_util::stream::iter(batch.into_iter().map(|root| self.fetch_root(root)))
                .buffer_unordered(jobs.max(1));
            let mut found = Vec::new();
            while let Some(result) = results.next().await {
                found.push(result?);
            }
            drop(results);
            // Sorted, so the walk and the catalogue do not depend on arrival order.
            found.sort_by(|a, b| a.0.cmp(&b.0));
            for (root, fetched) in found {
                let next = match (root, fetched) {
                    (Root::Package(name), None) => {
                        out.unknown_packages.insert(name);
                        continue;
                    }
                    (Root::Spec(spec), None) => {
                        out.unknown_specs.insert(spec);
                        continue;
                    }
                    (_, Some(Fetched::Package(doc, source))) => {
                        out.count(source);
                        let next = package_needs(&doc);
                        out.catalogue.insert(doc);
                        next
                    }
                    (_, Some(Fetched::Spec(doc, source))) => {
                        out.count(source);
                        let next = doc
                            .implementations
                            .iter()
                            .map(|i| Root::Package(i.package.clone()))
                            .collect();
                        out.specs.push(doc);
                        next
                    }
                };
                for r in next {
                    if seen.insert(r.clone()) {
                        frontier.push(r);
                    }
                }
            }
        }
        out.specs.sort_by(|a, b| a.spec.cmp(&b.spec));
        Ok(out)
    }

    /// [`IndexClient::prefetch`] from [`stack_roots`]: the catalogue a resolution of
    /// `stack` (and of `lock`'s packages) can need.
    pub async fn prefetch_stack(
        &self,
        stack: &Stack,
        lock: Option<&Lockfile>,
        jobs: usize,
    ) -> Result<Prefetched, IndexError> {
        self.prefetch(stack_roots(stack, lock), jobs).await
    }

    async fn fetch_root(&self, root: Root) -> Result<(Root, Option<Fetched>), IndexError> {
        let fetched = match &root {
            Root::Package(name) => self.package(name).await?.map(|(d, s)| Fetched::Package(d, s)),
            Root::Spec(spec) => self.spec(spec).await?.map(|(d, s)| Fetched::Spec(d, s)),
        };
        Ok((root, fetched))
    }
}

/// An index document's JSON, its format checked first
/// ([`govstore_core::index::from_json`]).
fn parse<T: DeserializeOwned>(body: &str, what: &str) -> Result<T, IndexError> {
    govstore_core::index::from_json(body).map_err(|e| match e {
        IndexDocumentError::Format(e) => {
            IndexError::Format(e.with_subject(format!("the registry's index document for {what}")))
        }
        IndexDocumentError::Invalid(e) => IndexError::Invalid {
            what: what.to_owned(),
            message: e.to_string(),
        },
    })
}

/// Whether a request for `doc` carried its ETag (so a `304` may refer to it).
fn etag_sent(doc: &CachedDocument) -> bool {
    !doc.not_found && doc.etag.is_some()
}

enum Fetched {
    Package(PackageIndex, Source),
    Spec(SpecIndex, Source),
}

/// The packages and specs any version of a package requires.
fn package_needs(doc: &PackageIndex) -> Vec<Root> {
    let mut out = Vec::new();
    for v in &doc.versions {
        out.extend(v.manifest.requires.packages.keys().cloned().map(Root::Package));
        out.extend(v.manifest.requires.specs.keys().cloned().map(Root::Spec));
    }
    out
}

/// A package document must describe the package asked for, each version's manifest
/// must be for that name and version, and versions must not repeat.
fn check_package(doc: &PackageIndex, name: &PackageName) -> Result<(), String> {
    if &doc.name != name {
        return Err(format!("it describes `{}`", doc.name));
    }
    let mut seen = BTreeSet::new();
    for v in &doc.versions {
        if &v.manifest.package.name != name || v.manifest.package.version != v.version {
            return Err(format!(
                "version {} carries the manifest of {}@{}",
                v.version, v.manifest.package.name, v.manifest.package.version
            ));
        }
        if !seen.insert(&v.version) {
            return Err(format!("version {} is listed twice", v.version));
        }
        v.manifest
            .validate()
            .map_err(|e| format!("the manifest of version {} is invalid: {e}", v.version))?;
    }
    Ok(())
}
