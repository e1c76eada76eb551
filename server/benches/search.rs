//! Search benchmark: govstore's tantivy index against PostgreSQL full-text search (a
//! weighted `tsvector`, a GIN index and `ts_rank`, the way crates.io and Artifact Hub
//! search), on the same generated listings and the same queries, in the same run.
//!
//! ```text
//! cargo bench -p govstore-server --bench search                     # 100,000 listings, 200 queries x 3
//! cargo bench -p govstore-server --bench search -- --listings 10000 # another size
//! cargo test  -p govstore-server --bench search -- --smoke          # CI: 2,000 listings, 25 queries, dev build
//! ```
//!
//! PostgreSQL must be running: `GOVSTORE_BENCH_PG_URL`, else `GOVSTORE_TEST_POSTGRES_URL`,
//! else `postgres://postgres@127.0.0.1:5432/postgres`. The benchmark creates the table
//! `bench_listings_<pid>` there and drops it at the end (`--keep-table` leaves it, to
//! EXPLAIN the baseline's queries). `GOVSTORE_BENCH_SMOKE=1` is the same as `--smoke`.
//!
//! The listings are generated deterministically (a seeded xorshift): names `ns/name` from
//! word lists, descriptions from GovStack vocabulary, keywords and sectors, one to three of
//! the 16 GovStack specs, a licence, a maturity, deployment countries and SDGs. tantivy
//! indexes them with the production code (`search::document::document` and
//! `Search::replace_all`, what `reindex` does) and answers through `Search::search`.
//!
//! Two modes, each over the whole query set (single words, two words, names, misspellings,
//! prefixes, licence and country codes, browsing without words):
//! - **no facets**: the words only; the best 20 hits and the total. tantivy:
//!   `Search::search` with `facets: false`. PostgreSQL: one statement, the matches ranked in a CTE
//!   (`exact name DESC, ts_rank DESC, name`), the total and the page's 20 rows.
//! - **facets**: the words plus the query's facet filters (about half the queries have
//!   one or two) and the counts of every facet value over the matches, as the search page
//!   shows them. tantivy: `Search::search` with `facets: true`. PostgreSQL: one statement (the shape of
//!   Artifact Hub's search function): the matches in a CTE, filters as `WHERE` clauses
//!   (array containment on GIN indexes, equality on B-tree indexes), `json_build_object` of
//!   total, top 20 and a `GROUP BY` per facet category over the unnested arrays.
//!
//! Each search is timed on the wall clock at the caller and by the CPU time of whoever
//! answered (this thread for tantivy, the connection's backend process for PostgreSQL, both
//! from `/proc/.../schedstat`): CPU times hold steady when other work shares the machine.
//!
//! What differs: tantivy also matches each word of four or more letters at edit distance
//! one (typos) and every word as a prefix; PostgreSQL gets the fair equivalent it has,
//! `word:*` prefix matching, and no typo tolerance (misspelled queries find nothing there,
//! which is the cheapest possible answer). PostgreSQL is measured from the client (sqlx
//! through sea-orm over loopback, one connection, prepared statements, `jit = off`); the
//! round trip of `SELECT 1` is printed as its floor. tantivy runs in process.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use govstore_server::search::document::{Listing, document};
use govstore_server::search::{Request, Search};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement, Value};
use serde_json::json;

/// Hits per page, as the search page asks.
const LIMIT: usize = 20;
/// Rows per INSERT statement when loading PostgreSQL.
const PG_BATCH: usize = 5_000;

// ---------------------------------------------------------------------------------------
// Options

#[derive(Debug)]
struct Options {
    listings: usize,
    /// Use every `stride`-th query of the 200.
    stride: usize,
    passes: usize,
    /// Leave the PostgreSQL table in place (to EXPLAIN the baseline's queries by hand).
    keep_table: bool,
    pg_url: String,
}

const USAGE: &str = "usage: search [--smoke] [--listings N] [--passes N] [--keep-table]";

fn options() -> anyhow::Result<Options> {
    let mut smoke = std::env::var("GOVSTORE_BENCH_SMOKE").is_ok_and(|v| v == "1");
    let mut listings = None;
    let mut passes = None;
    let mut keep_table = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--smoke" => smoke = true,
            "--keep-table" => keep_table = true,
            "--listings" => listings = Some(args.next().context(USAGE)?.parse().context(USAGE)?),
            "--passes" => passes = Some(args.next().context(USAGE)?.parse().context(USAGE)?),
            // `cargo bench` passes --bench to harness = false targets.
            "--bench" => {}
            other => bail!("unknown argument {other:?}\n{USAGE}"),
        }
    }
    let listings: usize = listings.unwrap_or(if smoke { 2_000 } else { 100_000 });
    if !(100..=2_000_000).contains(&listings) {
        bail!("--listings must be between 100 and 2,000,000");
    }
    Ok(Options {
        listings,
        stride: if smoke { 8 } else { 1 },
        passes: passes.unwrap_or(if smoke { 1 } else { 3 }).clamp(1, 100),
        keep_table,
        pg_url: std::env::var("GOVSTORE_BENCH_PG_URL")
            .or_else(|_| std::env::var("GOVSTORE_TEST_POSTGRES_URL"))
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned()),
    })
}

// ---------------------------------------------------------------------------------------
// Generated data

/// A small deterministic generator (xorshift64*), so every run sees the same data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// Skewed towards the front of `items` (popular values first).
    fn skewed<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        let a = self.below(items.len());
        let b = self.below(items.len());
        &items[a.min(b)]
    }

    /// By weight: `(weight, value)`.
    fn weighted<'a>(&mut self, items: &[(u32, &'a str)]) -> &'a str {
        let total: u32 = items.iter().map(|(w, _)| w).sum();
        let mut r = (self.next() % u64::from(total.max(1))) as u32;
        for (w, v) in items {
            if r < *w {
                return v;
            }
            r -= w;
        }
        items.last().map_or("", |(_, v)| v)
    }
}

/// A building block: its spec, the words people use for it and phrases for descriptions.
struct Domain {
    spec: &'static str,
    words: &'static [&'static str],
    phrases: &'static [&'static str],
}

#[rustfmt::skip]
const DOMAINS: [Domain; 16] = [
    Domain {
        spec: "govstack/identity",
        words: &[
            "identity", "authentication", "enrolment", "biometrics", "credentials", "openid", "oauth2",
            "verification", "eid", "deduplication",
        ],
        phrases: &[
            "foundational identity enrolment", "authentication of residents to online services",
            "biometric deduplication of population records", "OpenID Connect login for government portals",
        ],
    },
    Domain {
        spec: "govstack/registration",
        words: &[
            "registration", "civil", "birth", "death", "marriage", "certificates", "vital-statistics",
            "applications",
        ],
        phrases: &[
            "civil registration of births and deaths", "online application forms for public services",
            "issuing certificates with QR code verification", "vital statistics reporting",
        ],
    },
    Domain {
        spec: "govstack/payments",
        words: &[
            "payments", "disbursement", "mobile-money", "g2p", "ledger", "transfers", "bulk-payments",
            "reconciliation",
        ],
        phrases: &[
            "bulk government-to-person disbursements", "mobile money and bank transfers",
            "payment reconciliation with treasury systems", "cash transfer programmes",
        ],
    },
    Domain {
        spec: "govstack/consent",
        words: &[
            "consent", "privacy", "data-protection", "agreements", "gdpr", "personal-data",
        ],
        phrases: &[
            "recording citizens' consent to data sharing", "privacy dashboards for data subjects",
            "consent receipts and revocation",
        ],
    },
    Domain {
        spec: "govstack/messaging",
        words: &[
            "messaging", "sms", "notifications", "email", "ussd", "chatbot", "whatsapp", "broadcast",
        ],
        phrases: &[
            "SMS and email notifications", "USSD and chatbot channels for feature phones",
            "broadcast alerts to citizens",
        ],
    },
    Domain {
        spec: "govstack/workflow",
        words: &[
            "workflow", "bpmn", "process", "orchestration", "automation", "tasks", "case-management",
        ],
        phrases: &[
            "BPMN process orchestration", "case management for caseworkers",
            "automating approvals across agencies",
        ],
    },
    Domain {
        spec: "govstack/digital-registries",
        words: &[
            "registry", "records", "master-data", "beneficiaries", "farmers", "social-registry", "schema",
        ],
        phrases: &[
            "configurable registries of beneficiaries and farmers", "master data with audit trails",
            "schema-driven records exposed through APIs",
        ],
    },
    Domain {
        spec: "govstack/information-mediator",
        words: &[
            "interoperability", "data-exchange", "x-road", "api-gateway", "federation", "mediation",
            "security-server",
        ],
        phrases: &[
            "secure data exchange between agencies", "a federated API gateway",
            "signed and logged message exchange between information systems",
        ],
    },
    Domain {
        spec: "govstack/esignature",
        words: &[
            "signature", "pki", "certificates", "timestamping", "signing", "trust-services",
        ],
        phrases: &[
            "qualified electronic signatures", "document signing with PKI",
            "time-stamping and signature validation services",
        ],
    },
    Domain {
        spec: "govstack/scheduler",
        words: &["scheduler", "appointments", "calendar", "booking", "reminders", "jobs"],
        phrases: &[
            "appointment booking for public offices", "scheduled jobs and reminders",
            "calendar management for clinics",
        ],
    },
    Domain {
        spec: "govstack/cms",
        words: &["cms", "content", "website", "portal", "publishing", "multilingual"],
        phrases: &[
            "multilingual government websites", "content publishing workflows", "citizen service portals",
        ],
    },
    Domain {
        spec: "govstack/emarketplace",
        words: &[
            "marketplace", "procurement", "tenders", "catalogue", "suppliers", "e-commerce",
        ],
        phrases: &[
            "public procurement and tenders", "supplier catalogues",
            "an online marketplace for small businesses",
        ],
    },
    Domain {
        spec: "govstack/gis",
        words: &[
            "gis", "maps", "geospatial", "cadastre", "land", "mapping", "spatial-data",
        ],
        phrases: &[
            "geospatial data and maps", "land registration and cadastre", "spatial analysis for planning",
        ],
    },
    Domain {
        spec: "govstack/cfr",
        words: &[
            "security", "audit", "logging", "monitoring", "compliance", "accessibility",
        ],
        phrases: &[
            "security and audit logging across building blocks", "accessibility and usability requirements",
            "monitoring and alerting",
        ],
    },
    Domain {
        spec: "govstack/cloud-infrastructure",
        words: &["kubernetes", "infrastructure", "hosting", "cloud", "deployment", "helm"],
        phrases: &[
            "hosting on sovereign cloud infrastructure", "Kubernetes deployment with Helm charts",
            "backup and disaster recovery",
        ],
    },
    Domain {
        spec: "govstack/wallet",
        words: &[
            "wallet", "verifiable-credentials", "mobile", "holder", "presentation", "did",
        ],
        phrases: &[
            "a mobile wallet for verifiable credentials", "credential presentation and selective disclosure",
            "offline verification of credentials",
        ],
    },
];

/// Sectors: keywords that are not building blocks.
#[rustfmt::skip]
const SECTORS: [&[&str]; 7] = [
    &[
        "health", "hmis", "patients", "clinics", "immunization", "fhir", "laboratory",
    ],
    &["education", "schools", "learning", "students", "exams"],
    &["agriculture", "farmers", "extension", "subsidies"],
    &["social-protection", "cash-transfers", "targeting", "grievance"],
    &["public-administration", "civil-service", "e-government"],
    &["finance", "tax", "revenue", "budget"],
    &["justice", "courts", "police"],
];

#[rustfmt::skip]
const ADJECTIVES: [&str; 10] = [
    "open source", "lightweight", "scalable", "modular", "cloud-native", "offline-first", "secure",
    "country-owned", "standards-based", "extensible",
];

#[rustfmt::skip]
const COMPONENTS: [&str; 18] = [
    "core", "api", "gateway", "service", "portal", "adapter", "connector", "server", "client", "ui", "sdk",
    "engine", "worker", "sync", "bridge", "console", "manager", "hub",
];

#[rustfmt::skip]
const FEATURES: [&str; 14] = [
    "REST APIs", "an OpenAPI description", "multi-tenant deployments", "audit trails",
    "role-based access control", "Docker images and Helm charts", "horizontal scaling",
    "a multilingual user interface", "PostgreSQL storage", "event streaming", "offline data capture",
    "dashboards and reports", "webhooks", "single sign-on",
];

#[rustfmt::skip]
const SYLLABLES: [&str; 20] = [
    "ve", "ri", "on", "ka", "zu", "lo", "mi", "ta", "ne", "sa", "do", "ra", "ki", "bo", "li", "na", "pe", "tu", "mo",
    "ga",
];

#[rustfmt::skip]
const NS_REAL: [&str; 12] = [
    "mosip", "opencrvs", "x-road", "openg2p", "openspp", "dhis2", "mojaloop", "keycloak", "camunda", "openimis",
    "sunbird", "mifos",
];
#[rustfmt::skip]
const NS_PREFIX: [&str; 20] = [
    "open", "gov", "civic", "digi", "data", "e", "smart", "unity", "terra", "nova", "afri", "pan", "ubuntu", "sahel",
    "andes", "baltic", "mekong", "nile", "lake", "river",
];
#[rustfmt::skip]
const NS_SUFFIX: [&str; 10] = [
    "lab", "works", "tech", "soft", "hub", "systems", "foundation", "collective", "org", "labs",
];

const LICENSES: [(u32, &str); 9] = [
    (35, "Apache-2.0"),
    (20, "MIT"),
    (12, "MPL-2.0"),
    (10, "AGPL-3.0-only"),
    (8, "GPL-3.0-only"),
    (4, "LGPL-3.0-only"),
    (6, "BSD-3-Clause"),
    (3, "EUPL-1.2"),
    (2, "LicenseRef-Proprietary"),
];

const MATURITIES: [(u32, &str); 5] = [
    (15, "experimental"),
    (25, "beta"),
    (40, "stable"),
    (15, "mature"),
    (5, "deprecated"),
];

/// ISO 3166-1 alpha-2, most often deployed first.
#[rustfmt::skip]
const COUNTRIES: [&str; 40] = [
    "KE", "UG", "TZ", "ET", "RW", "NG", "GH", "SN", "ZA", "ZM", "MW", "MZ", "BD", "IN", "PH", "LK", "NP", "PK", "ID",
    "VN", "KH", "MM", "EE", "FI", "DE", "IS", "CO", "PE", "HN", "GT", "SL", "LR", "GN", "ML", "BF", "NE", "TG", "BJ",
    "CM", "DJ",
];

fn namespaces() -> Vec<String> {
    let mut out: Vec<String> = NS_REAL.iter().map(|s| (*s).to_owned()).collect();
    for p in NS_PREFIX {
        for s in NS_SUFFIX {
            out.push(format!("{p}{s}"));
        }
    }
    out
}

fn brand(rng: &mut Rng) -> String {
    let n = 2 + rng.below(2);
    (0..n).map(|_| *rng.pick(&SYLLABLES)).collect()
}

/// Distinct values from `pick`, at most `n` (fewer if it keeps repeating itself).
fn distinct(n: usize, mut pick: impl FnMut() -> String) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for _ in 0..n * 3 {
        if out.len() == n {
            break;
        }
        let v = pick();
        if !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

fn generate(n: usize) -> Vec<Listing> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let namespaces = namespaces();
    let mut taken = HashSet::new();
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        // The first spec is the package's main building block.
        let specs = distinct(1 + rng.below(3).min(rng.below(3)), || {
            rng.skewed(&DOMAINS).spec.to_owned()
        });
        let domains: Vec<&Domain> = specs
            .iter()
            .filter_map(|s| DOMAINS.iter().find(|d| d.spec == s))
            .collect();
        let main = domains[0];
        let short = match rng.below(20) {
            0..=11 => format!("{}-{}", rng.pick(main.words), rng.pick(&COMPONENTS)),
            12..=15 => brand(&mut rng),
            _ => format!("{}-{}", brand(&mut rng), rng.pick(&COMPONENTS)),
        };
        let ns = rng.skewed(&namespaces);
        let mut name = format!("{ns}/{short}");
        let mut k = 2;
        while !taken.insert(name.clone()) {
            name = format!("{ns}/{short}-{k}");
            k += 1;
        }
        let title = short.split('-').next().unwrap_or(&short).to_owned();
        let mut description = format!(
            "{} is {} {} {} for {}",
            capitalise(&title),
            if rng.chance(50) { "an" } else { "a" },
            rng.pick(&ADJECTIVES),
            rng.pick(&COMPONENTS),
            rng.pick(main.phrases),
        );
        for d in &domains[1..] {
            description.push_str(&format!(" and {}", rng.pick(d.phrases)));
        }
        let features = distinct(2 + rng.below(3), || (*rng.pick(&FEATURES)).to_owned());
        description.push_str(&format!(", with {}.", features.join(", ")));
        let sector = if rng.chance(60) {
            Some(*rng.pick(&SECTORS))
        } else {
            None
        };
        if let Some(s) = sector {
            description.push_str(&format!(" Used in {} programmes.", s[0]));
        }
        let mut keywords = distinct(2 + rng.below(4), || {
            let d = rng.pick(&domains);
            (*rng.pick(d.words)).to_owned()
        });
        if let Some(s) = sector {
            keywords.extend(distinct(1 + rng.below(2), || (*rng.pick(s)).to_owned()));
        }
        let countries = distinct(rng.below(7), || (*rng.skewed(&COUNTRIES)).to_owned());
        let sdgs = distinct(rng.below(6), || (1 + rng.below(17)).to_string());
        let version = format!("{}.{}.{}", rng.below(4), rng.below(20), rng.below(10));
        out.push(Listing {
            name,
            implements: specs
                .iter()
                .map(|s| format!("{s}@1.{}.{}", rng.below(3), rng.below(3)))
                .collect(),
            specs,
            version,
            description,
            license: rng.weighted(&LICENSES).to_owned(),
            keywords,
            maturity: rng.chance(90).then(|| rng.weighted(&MATURITIES).to_owned()),
            countries,
            sdgs,
            ..Default::default()
        });
    }
    out
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------
// Queries

#[derive(Debug, Clone)]
struct Query {
    kind: &'static str,
    q: String,
    /// Used in the facets mode only.
    filters: Vec<(String, String)>,
}

const KINDS: [&str; 7] = [
    "word",
    "two words",
    "name",
    "misspelling",
    "prefix",
    "code/licence",
    "browse (no words)",
];

/// One edit (swap, drop, double or replace a letter) inside a word of five letters or more.
fn misspell(rng: &mut Rng, word: &str) -> String {
    let mut c: Vec<char> = word.chars().collect();
    let i = 1 + rng.below(c.len().saturating_sub(2));
    match rng.below(4) {
        0 if i + 1 < c.len() && c[i] != c[i + 1] => c.swap(i, i + 1),
        1 => {
            c.remove(i);
        }
        2 => c.insert(i, c[i]),
        _ => c[i] = if c[i] == 'e' { 'a' } else { 'e' },
    }
    let out: String = c.into_iter().collect();
    if out == word { format!("{word}z") } else { out }
}

fn filter(rng: &mut Rng) -> (String, String) {
    let (c, v) = match rng.below(5) {
        0 => ("spec", rng.skewed(&DOMAINS).spec.to_owned()),
        1 => ("license", rng.weighted(&LICENSES).to_owned()),
        2 => ("maturity", rng.weighted(&MATURITIES).to_owned()),
        3 => ("country", (*rng.skewed(&COUNTRIES)).to_owned()),
        _ => ("sdg", (1 + rng.below(17)).to_string()),
    };
    (c.to_owned(), v)
}

/// 200 queries in realistic proportions, the same for both engines.
fn queries(listings: &[Listing]) -> Vec<Query> {
    let mut rng = Rng(0x0DDB_1A5E_5BAD_5EED);
    let words: Vec<&str> = DOMAINS
        .iter()
        .flat_map(|d| d.words.iter().copied())
        .chain(SECTORS.iter().flat_map(|s| s.iter().copied()))
        .collect();
    let long: Vec<&str> = words
        .iter()
        .copied()
        .filter(|w| w.len() >= 6 && !w.contains('-'))
        .collect();
    let codes = [
        "apache", "mpl", "agpl", "gpl", "mit", "eupl", "ke", "ug", "bd", "in", "stable", "beta", "lgpl", "bsd", "ph",
    ];
    let mut out = Vec::new();
    let mut push = |kind: &'static str, q: String, rng: &mut Rng| {
        let filters = match (kind, rng.below(100)) {
            ("browse (no words)", n) => (0..1 + n % 2).map(|_| filter(rng)).collect(),
            (_, 0..=34) => vec![filter(rng)],
            (_, 35..=49) => vec![filter(rng), filter(rng)],
            _ => Vec::new(),
        };
        out.push(Query { kind, q, filters });
    };
    for _ in 0..50 {
        let w = rng.pick(&words).replace('-', " ");
        push("word", w, &mut rng);
    }
    for _ in 0..35 {
        let d = rng.pick(&DOMAINS);
        let a = rng.pick(d.words);
        let b = rng.pick(d.words);
        let q = if a == b {
            format!("{a} {}", rng.pick(&words))
        } else {
            format!("{a} {b}")
        };
        push("two words", q, &mut rng);
    }
    for _ in 0..25 {
        let l = &listings[rng.below(listings.len())];
        let q = match l.name.split_once('/') {
            Some((_, short)) if rng.chance(50) => short.to_owned(),
            _ => l.name.clone(),
        };
        push("name", q, &mut rng);
    }
    for _ in 0..30 {
        let w = rng_pick_str(&mut rng, &long);
        let w = misspell(&mut rng, w);
        push("misspelling", w, &mut rng);
    }
    for _ in 0..30 {
        let w = rng_pick_str(&mut rng, &long);
        let n = 3 + rng.below(3);
        push("prefix", w.chars().take(n).collect(), &mut rng);
    }
    for _ in 0..15 {
        let c = (*rng.pick(&codes)).to_owned();
        push("code/licence", c, &mut rng);
    }
    for _ in 0..15 {
        push("browse (no words)", String::new(), &mut rng);
    }
    out
}

fn rng_pick_str<'a>(rng: &mut Rng, items: &[&'a str]) -> &'a str {
    items[rng.below(items.len())]
}

// ---------------------------------------------------------------------------------------
// tantivy

/// The production index: `Search` in a temporary directory.
struct Tantivy {
    search: Search,
}

struct Built {
    seconds: f64,
    bytes: u64,
    detail: String,
}

fn dir_size(dir: &Path) -> std::io::Result<u64> {
    let mut total = 0;
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let m = e.metadata()?;
        total += if m.is_dir() { dir_size(&e.path())? } else { m.len() };
    }
    Ok(total)
}

/// Index as `Search::rebuild` does: production documents through `Search::replace_all`
/// (one writer thread, 15 MB, commit, every segment merged into one, facet tables built).
async fn tantivy_build(dir: &Path, listings: &[Listing]) -> anyhow::Result<(Tantivy, Built)> {
    let start = Instant::now();
    let (search, _) = Search::open(dir)?;
    let docs = listings.iter().map(|l| document(l, search.fields())).collect();
    search.replace_all(docs).await?;
    let seconds = start.elapsed().as_secs_f64();
    if search.len() != listings.len() as u64 {
        bail!("tantivy holds {} documents, expected {}", search.len(), listings.len());
    }
    let built = Built {
        seconds,
        bytes: dir_size(dir)?,
        detail: format!("{} segment(s)", search.segments()),
    };
    Ok((Tantivy { search }, built))
}

/// What one search answered: enough to check both engines did the work.
#[derive(Debug, Default, Clone, Copy)]
struct Answer {
    total: u64,
    hits: usize,
    facet_values: usize,
}

impl Tantivy {
    /// The production search (`Search::search`): with facets, the query's filters and
    /// facet counts; without, the words only.
    fn search(&self, q: &Query, facets: bool) -> anyhow::Result<Answer> {
        let found = self.search.search(&Request {
            q: q.q.clone(),
            limit: LIMIT,
            filters: if facets { q.filters.clone() } else { Vec::new() },
            facets,
            ..Default::default()
        })?;
        Ok(Answer {
            total: found.total as u64,
            hits: found.hits.len(),
            facet_values: found.facets.values().map(BTreeMap::len).sum(),
        })
    }
}

// ---------------------------------------------------------------------------------------
// PostgreSQL

struct Pg {
    conn: DatabaseConnection,
    table: String,
    /// `/proc/<backend pid>/schedstat` of the one connection's backend.
    schedstat: String,
}

/// Session settings of the baseline, printed with the results: PostgreSQL's default
/// configuration, with JIT compilation off as latency-bound deployments run it (on these
/// plans it does not fire either way: their costs stay under `jit_above_cost`; checked with
/// `EXPLAIN ANALYZE` on a `--keep-table` run).
const PG_SETTINGS: &str = "SET jit = off";

fn stmt(sql: &str, values: Vec<Value>) -> Statement {
    Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
}

/// The words of `q` as tantivy's default tokenizer cuts them (non-alphanumeric characters
/// split, lowercased, longer than 40 bytes dropped), at most 16 as `search::query` takes.
fn words(q: &str) -> Vec<String> {
    q.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && w.len() <= 40)
        .map(str::to_lowercase)
        .take(16)
        .collect()
}

/// Text as tantivy's tokenizer sees it: PostgreSQL's parser would keep `x-road`,
/// `govstack/identity` or `MPL-2.0` as compound tokens, tantivy splits them.
const SPLIT: &str = "translate({}, '/-_.@', '     ')";

fn split(expr: &str) -> String {
    SPLIT.replace("{}", expr)
}

impl Pg {
    async fn connect(url: &str) -> anyhow::Result<Self> {
        let mut opts = ConnectOptions::new(url.to_owned());
        opts.max_connections(1)
            .min_connections(1)
            .sqlx_logging(false)
            .acquire_timeout(Duration::from_secs(10))
            .connect_timeout(Duration::from_secs(5));
        let conn = Database::connect(opts).await.map_err(|e| {
            anyhow::anyhow!(
                "PostgreSQL is the baseline of this benchmark and must be running: cannot connect to {} ({e}).\n\
                 Start it, or point GOVSTORE_BENCH_PG_URL at one (postgres://user:password@host:port/db).",
                redact(url)
            )
        })?;
        conn.execute_unprepared(PG_SETTINGS).await?;
        let row = conn
            .query_one_raw(stmt("SELECT pg_backend_pid() AS pid", Vec::new()))
            .await?
            .context("no backend pid")?;
        let pid: i32 = row.try_get("", "pid")?;
        Ok(Self {
            conn,
            table: format!("bench_listings_{}", std::process::id()),
            schedstat: format!("/proc/{pid}/schedstat"),
        })
    }

    async fn exec(&self, sql: &str) -> anyhow::Result<()> {
        self.conn.execute_unprepared(sql).await?;
        Ok(())
    }

    async fn version(&self) -> anyhow::Result<String> {
        let row = self
            .conn
            .query_one_raw(stmt("SELECT current_setting('server_version') AS v", Vec::new()))
            .await?
            .context("no version")?;
        Ok(row.try_get::<String>("", "v")?)
    }

    /// Create, load and index the table; returns the load and the index timings.
    async fn build(&self, listings: &[Listing]) -> anyhow::Result<Built> {
        let t = &self.table;
        self.exec(&format!(
            "CREATE TABLE {t} (
                id bigserial PRIMARY KEY,
                name text NOT NULL,
                lower_name text NOT NULL,
                short_name text NOT NULL,
                version text NOT NULL,
                description text NOT NULL,
                license text NOT NULL,
                maturity text,
                keywords text[] NOT NULL,
                specs text[] NOT NULL,
                implements text[] NOT NULL,
                countries text[] NOT NULL,
                sdgs text[] NOT NULL,
                tsv tsvector NOT NULL
            )"
        ))
        .await?;
        let start = Instant::now();
        let arr = |k: &str| format!("ARRAY(SELECT jsonb_array_elements_text(r->'{k}'))");
        let extra = "array_to_string(specs, ' ') || ' ' || license || ' ' || coalesce(maturity, '') || ' ' || \
                     array_to_string(countries, ' ')";
        let insert = format!(
            "INSERT INTO {t} (name, lower_name, short_name, version, description, license, maturity, keywords,
                              specs, implements, countries, sdgs, tsv)
             SELECT name, lower(name), lower(split_part(name, '/', 2)), version, description, license, maturity,
                    keywords, specs, implements, countries, sdgs,
                    setweight(to_tsvector('simple', {name}), 'A')
                    || setweight(to_tsvector('simple', {keywords}), 'B')
                    || setweight(to_tsvector('simple', {extra}), 'C')
                    || setweight(to_tsvector('simple', {description}), 'D')
             FROM (SELECT r->>'name' AS name, r->>'version' AS version, r->>'description' AS description,
                          r->>'license' AS license, r->>'maturity' AS maturity,
                          {kw} AS keywords, {sp} AS specs, {im} AS implements, {co} AS countries, {sd} AS sdgs
                   FROM jsonb_array_elements($1::jsonb) AS r) AS x",
            name = split("name"),
            keywords = split("array_to_string(keywords, ' ')"),
            extra = split(extra),
            description = split("description"),
            kw = arr("keywords"),
            sp = arr("specs"),
            im = arr("implements"),
            co = arr("countries"),
            sd = arr("sdgs"),
        );
        for chunk in listings.chunks(PG_BATCH) {
            let rows: Vec<serde_json::Value> = chunk
                .iter()
                .map(|l| {
                    json!({
                        "name": l.name, "version": l.version, "description": l.description,
                        "license": l.license, "maturity": l.maturity, "keywords": l.keywords,
                        "specs": l.specs, "implements": l.implements, "countries": l.countries, "sdgs": l.sdgs,
                    })
                })
                .collect();
            let payload = serde_json::Value::Array(rows).to_string();
            self.conn.execute_raw(stmt(&insert, vec![Value::from(payload)])).await?;
        }
        let loaded = start.elapsed().as_secs_f64();
        let indexing = Instant::now();
        for ddl in [
            format!("CREATE INDEX {t}_tsv ON {t} USING gin (tsv)"),
            format!("CREATE INDEX {t}_specs ON {t} USING gin (specs)"),
            format!("CREATE INDEX {t}_countries ON {t} USING gin (countries)"),
            format!("CREATE INDEX {t}_sdgs ON {t} USING gin (sdgs)"),
            format!("CREATE INDEX {t}_license ON {t} (license)"),
            format!("CREATE INDEX {t}_maturity ON {t} (maturity)"),
            format!("CREATE INDEX {t}_lower_name ON {t} (lower_name)"),
            format!("CREATE INDEX {t}_short_name ON {t} (short_name)"),
            format!("CREATE INDEX {t}_name ON {t} (name)"),
            format!("ANALYZE {t}"),
        ] {
            self.exec(&ddl).await?;
        }
        let indexed = indexing.elapsed().as_secs_f64();
        let row = self
            .conn
            .query_one_raw(stmt(
                &format!(
                    "SELECT pg_total_relation_size('{t}')::bigint AS total, pg_relation_size('{t}_tsv')::bigint AS gin,
                            (SELECT count(*) FROM {t})::bigint AS n"
                ),
                Vec::new(),
            ))
            .await?
            .context("no size")?;
        let n: i64 = row.try_get("", "n")?;
        if n as usize != listings.len() {
            bail!("PostgreSQL holds {n} rows, expected {}", listings.len());
        }
        let gin: i64 = row.try_get("", "gin")?;
        Ok(Built {
            seconds: loaded + indexed,
            bytes: row.try_get::<i64>("", "total")? as u64,
            detail: format!(
                "load {loaded:.1} s + indexes and ANALYZE {indexed:.1} s; tsvector GIN index {}",
                mib(gin as u64)
            ),
        })
    }

    async fn drop_table(&self) -> anyhow::Result<()> {
        self.exec(&format!("DROP TABLE IF EXISTS {}", self.table)).await
    }

    async fn ping(&self) -> anyhow::Result<()> {
        self.conn.query_one_raw(stmt("SELECT 1 AS one", Vec::new())).await?;
        Ok(())
    }

    /// `WHERE` clauses of the words and filters, and their values.
    fn conditions(q: &Query, facets: bool) -> (Vec<String>, Vec<Value>, bool) {
        let mut cond = Vec::new();
        let mut values = Vec::new();
        let words = words(&q.q);
        let has_words = !words.is_empty();
        if has_words {
            let tsq: Vec<String> = words.iter().map(|w| format!("{w}:*")).collect();
            values.push(Value::from(tsq.join(" & ")));
            values.push(Value::from(q.q.trim().to_lowercase()));
            cond.push("tsv @@ to_tsquery('simple', $1)".to_owned());
        }
        if facets {
            for (c, v) in &q.filters {
                values.push(Value::from(v.clone()));
                let n = values.len();
                cond.push(match c.as_str() {
                    "spec" => format!("specs @> ARRAY[${n}::text]"),
                    "country" => format!("countries @> ARRAY[${n}::text]"),
                    "sdg" => format!("sdgs @> ARRAY[${n}::text]"),
                    "license" => format!("license = ${n}"),
                    _ => format!("maturity = ${n}"),
                });
            }
        }
        (cond, values, has_words)
    }

    fn where_sql(cond: &[String]) -> String {
        if cond.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", cond.join(" AND "))
        }
    }

    /// The rank and exact-name expressions, or constants when there are no words.
    fn ranking(has_words: bool) -> (&'static str, &'static str) {
        if has_words {
            (
                "ts_rank(tsv, to_tsquery('simple', $1))",
                "(lower_name = $2 OR short_name = $2)",
            )
        } else {
            ("0::real", "false")
        }
    }

    /// The best 20 and the total, in one statement. The matches are ranked in a CTE of
    /// narrow rows and only the page's rows are read whole (`count(*) OVER ()` over whole
    /// rows spills to disk with the default `work_mem` and takes half as long again).
    async fn plain(&self, q: &Query) -> anyhow::Result<Answer> {
        let (cond, values, has_words) = Self::conditions(q, false);
        let t = &self.table;
        let w = Self::where_sql(&cond);
        let sql = if has_words {
            let (rank, exact) = Self::ranking(true);
            format!(
                "WITH m AS MATERIALIZED (SELECT id, name, {exact} AS exact, {rank} AS rank FROM {t} {w})
                 SELECT t.name, t.version, t.description, t.license, t.implements, (SELECT count(*) FROM m) AS total
                 FROM (SELECT * FROM m ORDER BY exact DESC, rank DESC, name LIMIT {LIMIT}) AS top
                 JOIN {t} AS t USING (id)
                 ORDER BY top.exact DESC, top.rank DESC, top.name"
            )
        } else {
            // Browsing: in name order, off the B-tree index on name.
            format!(
                "SELECT name, version, description, license, implements, (SELECT count(*) FROM {t} {w}) AS total
                 FROM {t} {w} ORDER BY name LIMIT {LIMIT}"
            )
        };
        let rows = self.conn.query_all_raw(stmt(&sql, values)).await?;
        let total = match rows.first() {
            Some(r) => r.try_get::<i64>("", "total")? as u64,
            None => 0,
        };
        for r in &rows {
            r.try_get::<String>("", "name")?;
            r.try_get::<String>("", "description")?;
        }
        Ok(Answer {
            total,
            hits: rows.len(),
            facet_values: 0,
        })
    }

    /// Total, best 20 and facet counts over the filtered matches, in one statement (the
    /// shape of Artifact Hub's search function): the matches in a CTE of narrow rows, a
    /// `GROUP BY` per facet category, the page's rows read whole.
    async fn facets(&self, q: &Query) -> anyhow::Result<Answer> {
        let (cond, values, has_words) = Self::conditions(q, true);
        let (rank, exact) = Self::ranking(has_words);
        let sql = format!(
            "WITH m AS MATERIALIZED (
                SELECT id, name, license, maturity, specs, countries, sdgs, {rank} AS rank, {exact} AS exact
                FROM {t} {w}
             )
             SELECT json_build_object(
               'total', (SELECT count(*) FROM m),
               'hits', (SELECT coalesce(json_agg(h), '[]') FROM
                          (SELECT t.name, t.version, t.description, t.license, t.implements
                           FROM (SELECT id, exact, rank, name FROM m ORDER BY exact DESC, rank DESC, name LIMIT {LIMIT})
                                AS top
                           JOIN {t} AS t USING (id)
                           ORDER BY top.exact DESC, top.rank DESC, top.name) AS h),
               'facets', (SELECT coalesce(json_agg(f), '[]') FROM (
                   SELECT 'spec' AS c, v, count(*) AS n FROM m, unnest(m.specs) AS v GROUP BY v
                   UNION ALL SELECT 'license', license, count(*) FROM m GROUP BY license
                   UNION ALL SELECT 'maturity', maturity, count(*) FROM m WHERE maturity IS NOT NULL GROUP BY maturity
                   UNION ALL SELECT 'country', v, count(*) FROM m, unnest(m.countries) AS v GROUP BY v
                   UNION ALL SELECT 'sdg', v, count(*) FROM m, unnest(m.sdgs) AS v GROUP BY v
                   UNION ALL SELECT 'signed', 'yes', count(*) FROM m HAVING count(*) > 0
               ) AS f)
             )::text AS result",
            t = self.table,
            w = Self::where_sql(&cond),
        );
        let row = self
            .conn
            .query_one_raw(stmt(&sql, values))
            .await?
            .context("no result row")?;
        let result: serde_json::Value = serde_json::from_str(&row.try_get::<String>("", "result")?)?;
        Ok(Answer {
            total: result["total"].as_u64().unwrap_or(0),
            hits: result["hits"].as_array().map_or(0, Vec::len),
            facet_values: result["facets"].as_array().map_or(0, Vec::len),
        })
    }
}

fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let auth = &url[s + 3..at];
            match auth.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

// ---------------------------------------------------------------------------------------
// Measuring

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Engine {
    Tantivy,
    Postgres,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Mode {
    Plain,
    Facets,
}

impl Engine {
    fn label(self) -> &'static str {
        match self {
            Self::Tantivy => "tantivy",
            Self::Postgres => "PostgreSQL",
        }
    }
}

impl Mode {
    fn label(self) -> &'static str {
        match self {
            Self::Plain => "no facets",
            Self::Facets => "facets",
        }
    }
}

/// One timed search.
#[derive(Debug, Clone, Copy)]
struct Sample {
    /// Index in the query set.
    query: usize,
    wall_ms: f64,
    /// CPU time of the thread that answered (tantivy: this thread; PostgreSQL: the
    /// backend process serving the connection), if /proc tells.
    cpu_ms: Option<f64>,
}

#[derive(Debug, Default)]
struct Samples {
    samples: Vec<Sample>,
    /// Per query (last pass): the answer.
    answers: Vec<Answer>,
}

struct Stats {
    p50: f64,
    p95: f64,
    p99: f64,
    max: f64,
}

fn stats(mut ms: Vec<f64>) -> Stats {
    ms.sort_by(f64::total_cmp);
    let at = |p: f64| {
        if ms.is_empty() {
            return 0.0;
        }
        let i = ((p * ms.len() as f64).ceil() as usize).clamp(1, ms.len()) - 1;
        ms[i]
    };
    Stats {
        p50: at(0.50),
        p95: at(0.95),
        p99: at(0.99),
        max: ms.last().copied().unwrap_or(0.0),
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

/// Nanoseconds a thread or process has run on a CPU (first field of `schedstat`). The
/// kernel brings a running thread's figure up to date only at a tick or a pass through the
/// scheduler, so this thread yields first (a process that waits on a socket, like the
/// PostgreSQL backend between queries, is up to date already).
fn cpu_ns(schedstat: &str) -> Option<u64> {
    std::thread::yield_now();
    std::fs::read_to_string(schedstat)
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

async fn run_one(
    tv: &Tantivy,
    pg: &Pg,
    engine: Engine,
    mode: Mode,
    q: &Query,
) -> anyhow::Result<(f64, Option<f64>, Answer)> {
    let schedstat = match engine {
        Engine::Tantivy => "/proc/thread-self/schedstat",
        Engine::Postgres => pg.schedstat.as_str(),
    };
    let cpu_before = cpu_ns(schedstat);
    let start = Instant::now();
    let answer = match (engine, mode) {
        (Engine::Tantivy, Mode::Plain) => tv.search(q, false)?,
        (Engine::Tantivy, Mode::Facets) => tv.search(q, true)?,
        (Engine::Postgres, Mode::Plain) => pg.plain(q).await?,
        (Engine::Postgres, Mode::Facets) => pg.facets(q).await?,
    };
    let wall = start.elapsed().as_secs_f64() * 1000.0;
    let cpu = match (cpu_before, cpu_ns(schedstat)) {
        (Some(a), Some(b)) => Some(b.saturating_sub(a) as f64 / 1e6),
        _ => None,
    };
    Ok((wall, cpu, answer))
}

const RUNS: [(Engine, Mode); 4] = [
    (Engine::Tantivy, Mode::Plain),
    (Engine::Postgres, Mode::Plain),
    (Engine::Tantivy, Mode::Facets),
    (Engine::Postgres, Mode::Facets),
];

async fn measure(
    tv: &Tantivy,
    pg: &Pg,
    qs: &[Query],
    passes: usize,
) -> anyhow::Result<BTreeMap<(Engine, Mode), Samples>> {
    // Warm-up: every query once on each engine and mode (caches, prepared statements).
    for (engine, mode) in RUNS {
        for q in qs {
            run_one(tv, pg, engine, mode, q).await?;
        }
    }
    let mut out: BTreeMap<(Engine, Mode), Samples> = BTreeMap::new();
    for pass in 0..passes {
        for (engine, mode) in RUNS {
            let s = out.entry((engine, mode)).or_default();
            for (i, q) in qs.iter().enumerate() {
                let (wall_ms, cpu_ms, answer) = run_one(tv, pg, engine, mode, q).await?;
                s.samples.push(Sample {
                    query: i,
                    wall_ms,
                    cpu_ms,
                });
                if pass + 1 == passes {
                    s.answers.push(answer);
                }
            }
        }
    }
    Ok(out)
}

fn fmt_ms(ms: f64) -> String {
    if ms < 10.0 {
        format!("{ms:.2}")
    } else {
        format!("{ms:.1}")
    }
}

fn mean(v: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = v.fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    if n == 0 { 0.0 } else { sum / n as f64 }
}

/// Wall and CPU statistics of the samples `keep` selects.
fn summary(s: &Samples, keep: impl Fn(&Sample) -> bool) -> (Stats, Option<Stats>) {
    let kept: Vec<&Sample> = s.samples.iter().filter(|x| keep(x)).collect();
    let wall = stats(kept.iter().map(|x| x.wall_ms).collect());
    let cpu: Option<Vec<f64>> = kept.iter().map(|x| x.cpu_ms).collect();
    (wall, cpu.map(stats))
}

fn cpu_cell(cpu: &Option<Stats>, f: impl Fn(&Stats) -> f64) -> String {
    cpu.as_ref().map_or_else(|| "-".to_owned(), |c| fmt_ms(f(c)))
}

async fn bench(o: &Options, pg: &Pg) -> anyhow::Result<()> {
    let t0 = Instant::now();
    let listings = generate(o.listings);
    let generated = t0.elapsed().as_secs_f64();
    let qs: Vec<Query> = queries(&listings).into_iter().step_by(o.stride).collect();

    let tmp = tempfile::tempdir()?;
    let (tv, tv_built) = tantivy_build(tmp.path(), &listings).await?;
    let pg_built = pg.build(&listings).await?;

    let mut floor = Vec::new();
    for _ in 0..200 {
        let s = Instant::now();
        pg.ping().await?;
        floor.push(s.elapsed().as_secs_f64() * 1000.0);
    }
    let floor = stats(floor);

    let results = measure(&tv, pg, &qs, o.passes).await?;
    let get = |engine, mode| results.get(&(engine, mode)).context("missing results");

    println!(
        "search benchmark: {} listings (generated in {generated:.1} s), {} queries x {} passes after a warm-up pass, \
         {} cores, PostgreSQL {} ({PG_SETTINGS})",
        o.listings,
        qs.len(),
        o.passes,
        std::thread::available_parallelism().map_or(0, usize::from),
        pg.version().await?,
    );
    println!();
    println!("index build");
    println!(
        "  tantivy     {:>6.1} s {:>10}  production documents through Search::replace_all; {}",
        tv_built.seconds,
        mib(tv_built.bytes),
        tv_built.detail
    );
    println!(
        "  PostgreSQL  {:>6.1} s {:>10}  table and all its indexes; {}",
        pg_built.seconds,
        mib(pg_built.bytes),
        pg_built.detail
    );
    println!();
    println!(
        "latency per search, ms: wall at the caller (PostgreSQL: over loopback, SELECT 1 round trip p50 {} ms), \
         CPU of the thread or backend that answered",
        fmt_ms(floor.p50)
    );
    println!(
        "  {:<11} {:<10} {:>7} {:>7} {:>7} {:>7} | {:>7} {:>7} | {:>10} {:>8}",
        "engine", "mode", "p50", "p95", "p99", "max", "cpu p50", "cpu p99", "mean total", "no match"
    );
    let mut overall: BTreeMap<(Engine, Mode), (Stats, Option<Stats>)> = BTreeMap::new();
    for (engine, mode) in RUNS {
        let s = get(engine, mode)?;
        let (wall, cpu) = summary(s, |_| true);
        println!(
            "  {:<11} {:<10} {:>7} {:>7} {:>7} {:>7} | {:>7} {:>7} | {:>10.0} {:>8}",
            engine.label(),
            mode.label(),
            fmt_ms(wall.p50),
            fmt_ms(wall.p95),
            fmt_ms(wall.p99),
            fmt_ms(wall.max),
            cpu_cell(&cpu, |c| c.p50),
            cpu_cell(&cpu, |c| c.p99),
            mean(s.answers.iter().map(|a| a.total as f64)),
            s.answers.iter().filter(|a| a.total == 0).count()
        );
        overall.insert((engine, mode), (wall, cpu));
    }
    println!();
    println!("how many times faster tantivy is (PostgreSQL / tantivy)");
    let mut verdicts = Vec::new();
    for mode in [Mode::Plain, Mode::Facets] {
        let (Some((tw, tc)), Some((pw, pc))) = (
            overall.get(&(Engine::Tantivy, mode)),
            overall.get(&(Engine::Postgres, mode)),
        ) else {
            continue;
        };
        let ratio = |p: f64, t: f64| p / t.max(1e-9);
        let cpu = match (tc, pc) {
            (Some(tc), Some(pc)) => format!(
                "   cpu p50 {:>6.1}x   cpu p99 {:>6.1}x",
                ratio(pc.p50, tc.p50),
                ratio(pc.p99, tc.p99)
            ),
            _ => String::new(),
        };
        let r99 = ratio(pw.p99, tw.p99);
        println!(
            "  {:<10} p50 {:>6.1}x   p99 {r99:>6.1}x{cpu}",
            mode.label(),
            ratio(pw.p50, tw.p50)
        );
        verdicts.push(format!(
            "{}: tantivy p99 {} ms {} 10 ms, {r99:.1}x PostgreSQL at p99 ({} 5x)",
            mode.label(),
            fmt_ms(tw.p99),
            if tw.p99 < 10.0 { "<" } else { ">=" },
            if r99 >= 5.0 { "met" } else { "missed" },
        ));
    }
    for mode in [Mode::Plain, Mode::Facets] {
        println!();
        println!(
            "by query kind, {}: wall p50 / p99 (cpu p99) ms, tantivy | PostgreSQL | mean total tantivy / PostgreSQL",
            mode.label()
        );
        for kind in KINDS {
            let n = qs.iter().filter(|q| q.kind == kind).count();
            if n == 0 {
                continue;
            }
            let of_kind = |x: &Sample| qs[x.query].kind == kind;
            let (tw, tc) = summary(get(Engine::Tantivy, mode)?, of_kind);
            let (pw, pc) = summary(get(Engine::Postgres, mode)?, of_kind);
            let total = |engine| -> anyhow::Result<f64> {
                Ok(mean(
                    qs.iter()
                        .zip(&get(engine, mode)?.answers)
                        .filter(|(q, _)| q.kind == kind)
                        .map(|(_, a)| a.total as f64),
                ))
            };
            println!(
                "  {kind:<18} n={n:<3} {:>6} / {:>6} ({:>6}) | {:>6} / {:>6} ({:>6}) | {:>7.0} / {:>7.0}",
                fmt_ms(tw.p50),
                fmt_ms(tw.p99),
                cpu_cell(&tc, |c| c.p99),
                fmt_ms(pw.p50),
                fmt_ms(pw.p99),
                cpu_cell(&pc, |c| c.p99),
                total(Engine::Tantivy)?,
                total(Engine::Postgres)?
            );
        }
    }
    // The slowest tantivy searches, to see what costs.
    println!();
    println!("slowest tantivy searches (max over the passes): wall ms, cpu ms, total, mode, query");
    let mut worst: Vec<(f64, Option<f64>, Mode, usize)> = Vec::new();
    for mode in [Mode::Plain, Mode::Facets] {
        for x in &get(Engine::Tantivy, mode)?.samples {
            worst.push((x.wall_ms, x.cpu_ms, mode, x.query));
        }
    }
    worst.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut seen = HashSet::new();
    for (wall, cpu, mode, i) in worst {
        if seen.len() == 8 {
            break;
        }
        if !seen.insert((mode, i)) {
            continue;
        }
        let q = &qs[i];
        let answer = get(Engine::Tantivy, mode)?.answers.get(i).copied().unwrap_or_default();
        println!(
            "  {:>6} {:>6} {:>7} {:<10} {:?}{}",
            fmt_ms(wall),
            cpu.map_or_else(|| "-".to_owned(), fmt_ms),
            answer.total,
            mode.label(),
            q.q,
            if mode == Mode::Facets && !q.filters.is_empty() {
                format!(" {:?}", q.filters)
            } else {
                String::new()
            }
        );
    }
    // Both engines did the work asked: where they match the same number of listings they
    // return the same number of hits and facet counts.
    let (t, p) = (
        get(Engine::Tantivy, Mode::Facets)?,
        get(Engine::Postgres, Mode::Facets)?,
    );
    let (mut same, mut more_t, mut more_p) = (0, 0, 0);
    for (a, b) in t.answers.iter().zip(&p.answers) {
        match a.total.cmp(&b.total) {
            std::cmp::Ordering::Equal => same += 1,
            std::cmp::Ordering::Greater => more_t += 1,
            std::cmp::Ordering::Less => more_p += 1,
        }
        if a.total == b.total && (a.hits != b.hits || (a.total > 0) != (a.facet_values > 0 && b.facet_values > 0)) {
            bail!(
                "the engines disagree on a search with {} matches: {a:?} against {b:?}",
                a.total
            );
        }
    }
    println!();
    println!(
        "match counts (facets mode): equal {same}, tantivy more {more_t} (typo and prefix matches), \
         PostgreSQL more {more_p}"
    );
    println!();
    println!(
        "compared: tantivy = the production query (search::query: every word as a term, a prefix, or at edit \
         distance 1 from 4 letters; field boosts; exact name first; download boost);"
    );
    println!(
        "          PostgreSQL = every word as a `word:*` prefix (no typo tolerance) + exact name first, ts_rank over \
         a setweight tsvector (A name, B keywords, C specs/licence/maturity/countries, D description), GIN index."
    );
    println!("targets: {}", verdicts.join("; "));
    if o.stride > 1 {
        println!("(smoke run: too little data for the figures to mean anything; run without --smoke)");
    }
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let o = options()?;
    let pg = Pg::connect(&o.pg_url).await?;
    let result = bench(&o, &pg).await;
    if o.keep_table {
        println!("kept the PostgreSQL table {}", pg.table);
        return result;
    }
    let dropped = pg.drop_table().await;
    result?;
    dropped
}
