//! `govstore resolve`, `outdated` and `update` with `--offline`, against index
//! documents placed in the local cache as an earlier online run leaves them (no
//! registry needed): the table, the JSON, the lockfile, the failure report, the
//! outdated report with a yanked version, and targeted and full updates; stdout, stderr
//! and exit code snapshotted.

#![allow(clippy::unwrap_used)] // a failing test is meant to panic

use std::path::Path;
use std::process::{Command, Stdio};

use govstore_client::cache::{Cache, CachedDocument};
use govstore_client::registry::RegistryClient;
use govstore_core::Digest;
use govstore_core::index::{Implementation, IndexVersion, PackageIndex, SpecIndex};
use govstore_core::manifest::Manifest;

const REGISTRY: &str = "http://registry.example.gov";

struct Env {
    dir: tempfile::TempDir,
    config: tempfile::TempDir,
    cache: tempfile::TempDir,
}

impl Env {
    fn new() -> Self {
        let env = Self {
            dir: tempfile::tempdir().unwrap(),
            config: tempfile::tempdir().unwrap(),
            cache: tempfile::tempdir().unwrap(),
        };
        catalogue(&Cache::new(env.cache.path()));
        env
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.path().join(name), text).unwrap();
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path().join(name)).unwrap()
    }

    fn run(&self, args: &[&str]) -> String {
        let out = Command::new(env!("CARGO_BIN_EXE_govstore"))
            .args(["--registry", REGISTRY])
            .args(args)
            .current_dir(self.path())
            .stdin(Stdio::null())
            .env("NO_COLOR", "1")
            .env("GOVSTORE_CONFIG_DIR", self.config.path())
            .env("GOVSTORE_CACHE_DIR", self.cache.path())
            .env_remove("GOVSTORE_TOKEN")
            .env_remove("GOVSTORE_REGISTRY")
            .output()
            .expect("the govstore binary runs");
        format!(
            "exit: {}\n--- stdout\n{}--- stderr\n{}",
            out.status.code().map_or("signal".to_owned(), |c| c.to_string()),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
        .replace(&self.cache.path().display().to_string(), "[CACHE]")
    }
}

fn key_id() -> String {
    Digest::of(b"publisher key").to_string()
}

fn version(name: &str, v: &str, extra: &str, yanked: Option<&str>) -> IndexVersion {
    let toml = format!(
        "[package]\nname = \"{name}\"\nversion = \"{v}\"\ndescription = \"Test\"\nlicense = \"Apache-2.0\"\n{extra}"
    );
    let manifest = Manifest::from_toml_str(&toml).unwrap_or_else(|e| panic!("{e}\n{toml}"));
    IndexVersion {
        version: v.parse().unwrap(),
        digest: Digest::of(format!("{name}@{v}").as_bytes()),
        yanked: yanked.is_some(),
        yank_reason: yanked.map(str::to_owned),
        key_ids: vec![key_id()],
        manifest,
        approvals: Vec::new(),
    }
}

fn put<T: serde::Serialize>(cache: &Cache, segments: &[&str], doc: &T) {
    let client = RegistryClient::new(REGISTRY, None).unwrap();
    let url = client.document_url(segments).unwrap();
    let body = serde_json::to_string(doc).unwrap();
    let etag = Some(format!("\"{}\"", Digest::of(body.as_bytes()).hex()));
    cache
        .put_document(&CachedDocument {
            url,
            etag,
            body,
            not_found: false,
        })
        .unwrap();
}

/// eSignet (identity; needs an information mediator and Kubernetes, 1.9 a newer one),
/// the X-Road security server (information mediator; 7.5.0 yanked) and an AGPL
/// identity registry.
fn catalogue(cache: &Cache) {
    let identity = "\n[[implements]]\nspec = \"govstack/identity\"\nversion = \"1.0.2\"\nhow = \"native\"\n";
    let im = "\n[[implements]]\nspec = \"govstack/information-mediator\"\nversion = \"1.1.0\"\nhow = \"native\"\n";
    let needs = |k8s: &str| {
        format!(
            "{identity}\n[requires.specs]\n\"govstack/information-mediator\" = \"^1.1\"\n[requires.platform]\nkubernetes = \"{k8s}\"\n"
        )
    };
    let esignet = PackageIndex::new(
        "mosip/esignet".parse().unwrap(),
        vec![
            version("mosip/esignet", "1.7.0", &needs(">=1.25"), None),
            version("mosip/esignet", "1.8.0", &needs(">=1.27"), None),
            version("mosip/esignet", "1.9.0", &needs(">=1.29"), None),
        ],
    );
    let xroad = PackageIndex::new(
        "x-road/security-server".parse().unwrap(),
        vec![
            version(
                "x-road/security-server",
                "7.5.0",
                im,
                Some("CVE-2026-0420: proxy bypass"),
            ),
            version("x-road/security-server", "7.8.0", im, None),
        ],
    );
    let mut registry = PackageIndex::new(
        "openspp/registry".parse().unwrap(),
        vec![version("openspp/registry", "2.0.0", identity, None)],
    );
    registry.versions[0].manifest.package.license = "AGPL-3.0-only".parse().unwrap();
    let spec = |id: &str, docs: &[&PackageIndex]| {
        let mut implementations = Vec::new();
        for d in docs {
            for v in &d.versions {
                for i in v.manifest.implements.iter().filter(|i| i.spec.as_str() == id) {
                    implementations.push(Implementation {
                        package: d.name.clone(),
                        version: v.version.clone(),
                        spec_version: i.version.clone(),
                    });
                }
            }
        }
        SpecIndex::new(id.parse().unwrap(), implementations)
    };
    for doc in [&esignet, &xroad, &registry] {
        put(
            cache,
            &["api", "v1", "index", "packages", doc.name.namespace(), doc.name.name()],
            doc,
        );
    }
    put(
        cache,
        &["api", "v1", "index", "specs", "govstack", "identity"],
        &spec("govstack/identity", &[&esignet, &registry]),
    );
    put(
        cache,
        &["api", "v1", "index", "specs", "govstack", "information-mediator"],
        &spec("govstack/information-mediator", &[&xroad]),
    );
}

const STACK: &str = r#"[stack]
country = "KE"
name = "Kenya digital ID"

[infrastructure]
orchestrator = "kubernetes"

[infrastructure.platform]
kubernetes = "1.28"

[policy]
deny_licenses = ["AGPL-3.0-only"]

[wants]
specs = { "govstack/identity" = "^1.0" }
"#;

#[test]
fn resolve_prints_the_set_and_writes_the_lockfile() {
    let env = Env::new();
    env.write("stack.toml", STACK);
    insta::assert_snapshot!("resolve_table", env.run(&["resolve", "--offline"]));
    let lock = env.read("govstore.lock");
    insta::assert_snapshot!("resolve_lockfile", lock);
    // Again: the same lockfile, left as it is.
    let again = env.run(&["resolve", "--offline"]);
    assert!(again.contains("govstore.lock is up to date (2 packages)"), "{again}");
    assert_eq!(env.read("govstore.lock"), lock);
    insta::assert_snapshot!(
        "resolve_json",
        env.run(&["resolve", "--offline", "--json", "--dry-run"])
    );
}

#[test]
fn resolve_failure_prints_the_report_and_exits_1() {
    let env = Env::new();
    env.write(
        "stack.toml",
        &STACK.replace("kubernetes = \"1.28\"", "kubernetes = \"1.24\""),
    );
    insta::assert_snapshot!("resolve_failure", env.run(&["resolve", "--offline"]));
    assert!(!env.path().join("govstore.lock").exists());
}

#[test]
fn resolve_offline_without_the_documents() {
    let env = Env::new();
    env.write(
        "stack.toml",
        &STACK.replace("\"govstack/identity\" = \"^1.0\"", "\"govstack/consent\" = \"^1.0\""),
    );
    insta::assert_snapshot!("resolve_not_cached", env.run(&["resolve", "--offline"]));
}

const OLD_LOCK: &str = r#"version = 1
stack = "STACK"

[[package]]
name = "mosip/esignet"
version = "1.7.0"
digest = "ESIGNET"
key_ids = ["KEY"]
source = "http://registry.example.gov"

[[package]]
name = "x-road/security-server"
version = "7.5.0"
digest = "XROAD"
key_ids = ["KEY"]
source = "http://registry.example.gov"
"#;

fn old_lock(env: &Env) {
    let stack = govstore_core::stack::Stack::from_toml_str(STACK).unwrap();
    let text = OLD_LOCK
        .replace("STACK", &stack.digest().to_string())
        .replace("ESIGNET", &Digest::of(b"mosip/esignet@1.7.0").to_string())
        .replace("XROAD", &Digest::of(b"x-road/security-server@7.5.0").to_string())
        .replace("KEY", &key_id());
    env.write("govstore.lock", &text);
}

#[test]
fn outdated_shows_compatible_latest_and_yanked() {
    let env = Env::new();
    env.write("stack.toml", STACK);
    old_lock(&env);
    insta::assert_snapshot!("outdated", env.run(&["outdated", "--offline"]));
    let json = env.run(&["outdated", "--offline", "--json"]);
    assert!(
        json.contains("\"locked_yanked\": \"CVE-2026-0420: proxy bypass\""),
        "{json}"
    );
}

#[test]
fn update_one_package_then_all() {
    let env = Env::new();
    env.write("stack.toml", STACK);
    old_lock(&env);
    insta::assert_snapshot!(
        "update_one",
        env.run(&["update", "--offline", "x-road/security-server"])
    );
    assert!(
        env.read("govstore.lock").contains("version = \"1.7.0\""),
        "eSignet stays locked"
    );
    insta::assert_snapshot!("update_all", env.run(&["update", "--offline"]));
    insta::assert_snapshot!("update_nothing", env.run(&["update", "--offline"]));
    insta::assert_snapshot!("update_unknown", env.run(&["update", "--offline", "mosip/nothing"]));
    insta::assert_snapshot!("outdated_current", env.run(&["outdated", "--offline"]));
}

/// The URLs of the five documents [`catalogue`] caches.
const DOCUMENTS: [&[&str]; 5] = [
    &["api", "v1", "index", "packages", "mosip", "esignet"],
    &["api", "v1", "index", "packages", "x-road", "security-server"],
    &["api", "v1", "index", "packages", "openspp", "registry"],
    &["api", "v1", "index", "specs", "govstack", "identity"],
    &["api", "v1", "index", "specs", "govstack", "information-mediator"],
];

/// Rewrites every cached index document of `env` with `change`, as a registry that
/// serves them differently would have left them.
fn rewrite_documents(env: &Env, change: impl Fn(&mut serde_json::Value)) {
    let cache = Cache::new(env.cache.path());
    let client = RegistryClient::new(REGISTRY, None).unwrap();
    for segments in DOCUMENTS {
        let url = client.document_url(segments).unwrap();
        let mut doc = cache.document(&url).unwrap();
        let mut value: serde_json::Value = serde_json::from_str(&doc.body).unwrap();
        change(&mut value);
        doc.body = serde_json::to_string(&value).unwrap();
        doc.etag = Some(format!("\"{}\"", Digest::of(doc.body.as_bytes()).hex()));
        cache.put_document(&doc).unwrap();
    }
}

/// What a newer registry might add: fields at every level of the documents, a newer
/// minor format, and manifest fields this govstore does not know.
fn add_unknown_fields(doc: &mut serde_json::Value) {
    use serde_json::json;
    doc["format"] = json!("1.3");
    doc["generated_at"] = json!("2027-01-01T00:00:00Z");
    doc["mirrors"] = json!([{ "url": "https://mirror.example.gov", "priority": 1 }]);
    for v in doc
        .get_mut("versions")
        .and_then(|v| v.as_array_mut())
        .into_iter()
        .flatten()
    {
        v["downloads"] = json!(1234);
        v["attestations"] = json!({ "slsa": { "level": 3 } });
        v["manifest"]["sbom_format"] = json!("spdx-2.3");
        v["manifest"]["package"]["funding"] = json!("https://example.org/fund");
        v["manifest"]["requires"]["hardware"] = json!({ "gpu": false });
    }
    for i in doc
        .get_mut("implementations")
        .and_then(|v| v.as_array_mut())
        .into_iter()
        .flatten()
    {
        i["compliance"] = json!({ "interface": "level-2" });
    }
}

fn catalogue_of(env: &Env) -> govstore_core::index::Catalogue {
    let cache = Cache::new(env.cache.path());
    let client = RegistryClient::new(REGISTRY, None).unwrap();
    let mut catalogue = govstore_core::index::Catalogue::default();
    for segments in &DOCUMENTS[..3] {
        let body = cache.document(&client.document_url(segments).unwrap()).unwrap().body;
        catalogue
            .insert(govstore_core::index::from_json::<PackageIndex>(&body).unwrap_or_else(|e| panic!("{e}\n{body}")));
    }
    catalogue
}

/// Index documents with fields this govstore does not know (a newer registry's, at
/// the document level, in versions, their manifests and implementations, with a newer
/// minor format), and documents without a format (an older registry's), read and
/// resolve exactly as the documents this govstore's registry writes.
#[test]
fn index_documents_with_unknown_fields_or_no_format_resolve_the_same() {
    let plain = Env::new();
    let extended = Env::new();
    rewrite_documents(&extended, add_unknown_fields);
    let older = Env::new();
    rewrite_documents(&older, |doc| {
        assert_eq!(doc["format"], serde_json::json!(1), "the registry writes its format");
        doc.as_object_mut().unwrap().remove("format");
    });
    let extended_body = Cache::new(extended.cache.path())
        .document(
            &RegistryClient::new(REGISTRY, None)
                .unwrap()
                .document_url(DOCUMENTS[0])
                .unwrap(),
        )
        .unwrap()
        .body;
    assert!(extended_body.contains("\"hardware\"") && extended_body.contains("\"1.3\""));

    // The resolver over the catalogues read from each set of documents.
    let stack = govstore_core::stack::Stack::from_toml_str(STACK).unwrap();
    let options = govstore_resolver::ResolveOptions::default();
    let expected = govstore_resolver::resolve(&catalogue_of(&plain), &stack, &options).unwrap();
    assert!(!expected.packages.is_empty());
    for env in [&extended, &older] {
        let catalogue = catalogue_of(env);
        assert_eq!(
            catalogue,
            catalogue_of(&plain),
            "unknown fields are dropped, the rest is the same"
        );
        assert_eq!(
            govstore_resolver::resolve(&catalogue, &stack, &options).unwrap(),
            expected
        );
    }

    // And the command, end to end: the same output and the same lockfile.
    for env in [&plain, &extended, &older] {
        env.write("stack.toml", STACK);
    }
    let want = plain.run(&["resolve", "--offline"]);
    assert!(want.starts_with("exit: 0"), "{want}");
    for env in [&extended, &older] {
        assert_eq!(env.run(&["resolve", "--offline"]), want);
        assert_eq!(env.read("govstore.lock"), plain.read("govstore.lock"));
    }
}

/// A newer registry's index document of a newer major format is refused with a
/// message that says to upgrade, whatever else changed in it.
#[test]
fn index_document_of_a_newer_major_format_is_refused() {
    let env = Env::new();
    env.write("stack.toml", STACK);
    rewrite_documents(&env, |doc| {
        *doc = serde_json::json!({ "format": 2, "name": doc["name"].clone(), "releases": {} });
    });
    assert_eq!(
        env.run(&["resolve", "--offline"]),
        "exit: 1\n--- stdout\n--- stderr\n\
         error: the registry's index document for spec `govstack/identity` uses format 2; this govstore understands format 1\n\
         hint: upgrade govstore to a release that understands format 2\n"
    );
    assert!(!env.path().join("govstore.lock").exists());
}

/// A lockfile of a newer major format is refused by every command that reads it.
#[test]
fn lockfile_of_a_newer_major_format_is_refused() {
    let env = Env::new();
    env.write("stack.toml", STACK);
    old_lock(&env);
    let newer = env.read("govstore.lock").replace("version = 1\n", "version = 2\n");
    env.write("govstore.lock", &newer);
    let refused = "exit: 1\n--- stdout\n--- stderr\n\
         error: `govstore.lock` uses format 2; this govstore understands format 1\n\
         hint: upgrade govstore to a release that understands format 2\n";
    for command in ["resolve", "outdated", "update"] {
        assert_eq!(env.run(&[command, "--offline"]), refused, "{command}");
    }
    assert_eq!(env.read("govstore.lock"), newer, "left as it is");
}
