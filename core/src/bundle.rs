//! Bundles: a country's signed, versioned, fully locked set of package versions, as an
//! OCI image index, and the statement an approver signs over it.
//!
//! A bundle `SL/national-id@2026.1` lives in the repository `sl/national-id` (the
//! country code in lower case, as OCI repository names must be), tagged `2026.1`. The
//! index ([`Bundle::to_index_json`]) has the `artifactType` [`ARTIFACT_TYPE`]; its
//! `manifests` are the members' package manifests by digest, sorted by package name,
//! each annotated with the package's name and version; its annotations record the
//! country, the bundle's name and version, the format version ([`FORMAT`]), the digest
//! of the lockfile it was made from and the digest of the stack profile that lockfile
//! was resolved for. The bytes are canonical: the same bundle gives the same index and
//! so the same digest, which is what the country signs.
//!
//! Bundle versions are CalVer, `YEAR.N` (and `YEAR.N.P` for a fix to one): a bundle is a
//! country's release of a set, made on a calendar (budget years, procurement rounds),
//! not an API with a compatibility promise; each member's SemVer already says what its
//! upgrade means, and `govstore bundle diff` shows the rest.
//!
//! The signature: an in-toto Statement v1 whose one subject is the index (`name` =
//! `SL/national-id@2026.1`, `digest.sha256` = the index digest), predicate type
//! [`PREDICATE_TYPE`], in a DSSE envelope; one envelope per approver, counted against
//! the country's threshold like approvals ([`signers`]).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use semver::Version;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::Digest;
use crate::approval::{PAYLOAD_TYPE, STATEMENT_TYPE};
use crate::manifest::values::CountryCode;
use crate::package::PackageName;

/// The `artifactType` of a bundle's image index.
pub const ARTIFACT_TYPE: &str = "application/vnd.govstore.bundle.v1+json";
/// The predicate type of a bundle signature statement; `/v1` is its format version.
pub const PREDICATE_TYPE: &str = "https://govstore.dev/bundle/v1";
/// The bundle index format this code writes (annotation [`ANN_FORMAT`]).
pub const FORMAT: u32 = 1;
/// The most members a bundle may have.
pub const MAX_MEMBERS: usize = 1_000;
/// The largest bundle index read, in bytes.
pub const MAX_INDEX_BYTES: usize = 1024 * 1024;
/// The largest bundle statement read, in bytes.
pub const MAX_STATEMENT_BYTES: usize = 16 * 1024;

pub const ANN_COUNTRY: &str = "dev.govstore.bundle.country";
pub const ANN_NAME: &str = "dev.govstore.bundle.name";
pub const ANN_VERSION: &str = "dev.govstore.bundle.version";
pub const ANN_FORMAT: &str = "dev.govstore.bundle.format";
pub const ANN_LOCK: &str = "dev.govstore.bundle.lockfile.digest";
pub const ANN_STACK: &str = "dev.govstore.bundle.stack.digest";
pub const ANN_PACKAGE: &str = "dev.govstore.package.name";
pub const ANN_PACKAGE_VERSION: &str = "dev.govstore.package.version";

const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

/// Why a bundle reference, index or statement is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BundleError {
    #[error("{input:?} is not a bundle reference: expected COUNTRY/NAME@VERSION such as SL/national-id@2026.1{why}")]
    Reference { input: String, why: String },
    #[error("{input:?} is not a bundle version: expected YEAR.N or YEAR.N.P, such as 2026.1")]
    Version { input: String },
    #[error("{input:?} is not a bundle name: 1 to 64 lower-case letters, digits and '-', starting with a letter")]
    Name { input: String },
    #[error("the bundle index is not valid: {0}")]
    Index(String),
    #[error("the bundle statement is not valid: {0}")]
    Statement(String),
    #[error("a bundle needs at least one member")]
    Empty,
    #[error("a bundle may have at most {MAX_MEMBERS} members, this one has {0}")]
    TooMany(usize),
    #[error("{0} is in the bundle twice")]
    Duplicate(PackageName),
}

/// A bundle version: `YEAR.N` or `YEAR.N.P` (CalVer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BundleVersion {
    pub year: u16,
    pub release: u16,
    pub fix: Option<u16>,
}

impl FromStr for BundleVersion {
    type Err = BundleError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BundleError::Version { input: cut(s) };
        let number = |p: &str, max: u16| -> Option<u16> {
            let ok = !p.is_empty() && p.len() <= 4 && p.bytes().all(|b| b.is_ascii_digit());
            // No leading zeros: one spelling per version, so one tag per version.
            (ok && (p == "0" || !p.starts_with('0')))
                .then(|| p.parse().ok())
                .flatten()
                .filter(|n| *n <= max)
        };
        let parts: Vec<&str> = s.split('.').collect();
        let (year, release, fix) = match parts.as_slice() {
            [y, r] => (y, r, None),
            [y, r, f] => (y, r, Some(*f)),
            _ => return Err(bad()),
        };
        let year = number(year, 2999).filter(|y| *y >= 2000).ok_or_else(bad)?;
        let release = number(release, 999).filter(|r| *r >= 1).ok_or_else(bad)?;
        let fix = match fix {
            Some(f) => Some(number(f, 999).ok_or_else(bad)?),
            None => None,
        };
        Ok(Self { year, release, fix })
    }
}

impl fmt::Display for BundleVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.year, self.release)?;
        if let Some(fix) = self.fix {
            write!(f, ".{fix}")?;
        }
        Ok(())
    }
}

/// A bundle's name within its country: `national-id`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BundleName(String);

impl BundleName {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for BundleName {
    type Err = BundleError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let ok = (1..=64).contains(&s.len())
            && s.starts_with(|c: char| c.is_ascii_lowercase())
            && !s.ends_with('-')
            && !s.contains("--")
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(BundleError::Name { input: cut(s) })
        }
    }
}

impl fmt::Display for BundleName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `SL/national-id@2026.1`, or without a version (`SL/national-id`: every version, or
/// the latest).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BundleRef {
    pub country: CountryCode,
    pub name: BundleName,
    pub version: Option<BundleVersion>,
}

impl BundleRef {
    /// The OCI repository: `sl/national-id`.
    pub fn repository(&self) -> String {
        format!("{}/{}", self.country.as_str().to_ascii_lowercase(), self.name)
    }

    /// The same bundle at `version`.
    pub fn at(&self, version: BundleVersion) -> Self {
        Self {
            version: Some(version),
            ..self.clone()
        }
    }
}

impl FromStr for BundleRef {
    type Err = BundleError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |why: &str| BundleError::Reference {
            input: cut(s),
            why: why.to_owned(),
        };
        let (path, version) = match s.split_once('@') {
            Some((p, v)) => (p, Some(v.parse::<BundleVersion>()?)),
            None => (s, None),
        };
        let (country, name) = path.split_once('/').ok_or_else(|| bad(""))?;
        let country: CountryCode = country
            .to_ascii_uppercase()
            .parse()
            .map_err(|e: crate::manifest::values::ValueError| bad(&format!(" ({e})")))?;
        Ok(Self {
            country,
            name: name.parse()?,
            version,
        })
    }
}

impl fmt::Display for BundleRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.country.as_str(), self.name)?;
        if let Some(v) = &self.version {
            write!(f, "@{v}")?;
        }
        Ok(())
    }
}

/// One member: a package version by manifest digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Member {
    pub name: PackageName,
    pub version: Version,
    pub digest: Digest,
    /// The manifest's size in bytes, as its descriptor says.
    pub size: u64,
}

/// A bundle, as its index describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    pub country: CountryCode,
    pub name: BundleName,
    pub version: BundleVersion,
    /// Sorted by package name; one version per package.
    pub members: Vec<Member>,
    /// The SHA-256 of the lockfile the bundle was made from.
    pub lockfile: Digest,
    /// The stack profile digest the lockfile was resolved for.
    pub stack: Digest,
}

impl Bundle {
    /// A bundle of `members` (sorted here), refusing none, too many or a package twice.
    pub fn new(
        reference: &BundleRef,
        version: BundleVersion,
        mut members: Vec<Member>,
        lockfile: Digest,
        stack: Digest,
    ) -> Result<Self, BundleError> {
        if members.is_empty() {
            return Err(BundleError::Empty);
        }
        if members.len() > MAX_MEMBERS {
            return Err(BundleError::TooMany(members.len()));
        }
        members.sort_by(|a, b| a.name.cmp(&b.name));
        if let Some(w) = members.windows(2).find(|w| w[0].name == w[1].name) {
            return Err(BundleError::Duplicate(w[0].name.clone()));
        }
        Ok(Self {
            country: reference.country,
            name: reference.name.clone(),
            version,
            members,
            lockfile,
            stack,
        })
    }

    pub fn reference(&self) -> BundleRef {
        BundleRef {
            country: self.country,
            name: self.name.clone(),
            version: Some(self.version),
        }
    }

    /// The index, canonical: keys sorted, no whitespace.
    pub fn to_index_json(&self) -> Vec<u8> {
        let manifests: Vec<Value> = self
            .members
            .iter()
            .map(|m| {
                json!({
                    "mediaType": OCI_MANIFEST,
                    "digest": m.digest.to_string(),
                    "size": m.size,
                    "annotations": {
                        ANN_PACKAGE: m.name.as_str(),
                        ANN_PACKAGE_VERSION: m.version.to_string(),
                    },
                })
            })
            .collect();
        let index = json!({
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "artifactType": ARTIFACT_TYPE,
            "manifests": manifests,
            "annotations": {
                ANN_COUNTRY: self.country.as_str(),
                ANN_NAME: self.name.as_str(),
                ANN_VERSION: self.version.to_string(),
                ANN_FORMAT: FORMAT.to_string(),
                ANN_LOCK: self.lockfile.to_string(),
                ANN_STACK: self.stack.to_string(),
            },
        });
        // serde_json's map is a BTreeMap here (no preserve_order): keys come out sorted.
        serde_json::to_vec(&index).unwrap_or_default()
    }

    /// Reads a bundle index, checking its shape; unknown fields and annotations are
    /// ignored, a newer [`ANN_FORMAT`] is refused.
    pub fn from_index_json(bytes: &[u8]) -> Result<Self, BundleError> {
        let bad = |m: &str| BundleError::Index(m.to_owned());
        if bytes.len() > MAX_INDEX_BYTES {
            return Err(bad("it is larger than 1 MiB"));
        }
        let v: Value = serde_json::from_slice(bytes).map_err(|e| BundleError::Index(format!("not JSON: {e}")))?;
        if v["schemaVersion"] != 2 || v["mediaType"] != OCI_INDEX {
            return Err(bad("it is not an OCI image index"));
        }
        if v["artifactType"] != ARTIFACT_TYPE {
            return Err(bad(&format!("its artifactType is not {ARTIFACT_TYPE}")));
        }
        let ann = |key: &str| -> Result<&str, BundleError> {
            v["annotations"][key]
                .as_str()
                .ok_or_else(|| BundleError::Index(format!("the annotation {key} is missing")))
        };
        let format: u32 = ann(ANN_FORMAT)?
            .parse()
            .map_err(|_| bad("its format is not a number"))?;
        if format > FORMAT {
            return Err(BundleError::Index(format!(
                "it is in bundle format {format}; this govstore reads format {FORMAT}: upgrade govstore"
            )));
        }
        let country: CountryCode = ann(ANN_COUNTRY)?
            .parse()
            .map_err(|_| bad("its country is not an ISO 3166-1 code"))?;
        let name: BundleName = ann(ANN_NAME)?.parse()?;
        let version: BundleVersion = ann(ANN_VERSION)?.parse()?;
        let digest = |s: &str, what: &str| -> Result<Digest, BundleError> {
            s.parse()
                .map_err(|_| BundleError::Index(format!("{what} is not a sha256 digest")))
        };
        let lockfile = digest(ann(ANN_LOCK)?, "the lockfile digest")?;
        let stack = digest(ann(ANN_STACK)?, "the stack digest")?;
        let list = v["manifests"].as_array().ok_or_else(|| bad("it has no manifests"))?;
        if list.len() > MAX_MEMBERS {
            return Err(BundleError::TooMany(list.len()));
        }
        let mut members = Vec::with_capacity(list.len());
        for d in list {
            let name: PackageName = d["annotations"][ANN_PACKAGE]
                .as_str()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| bad("a member has no valid package name annotation"))?;
            let version = d["annotations"][ANN_PACKAGE_VERSION]
                .as_str()
                .and_then(|s| Version::parse(s).ok())
                .ok_or_else(|| BundleError::Index(format!("the member {name} has no valid version")))?;
            if d["mediaType"] != OCI_MANIFEST {
                return Err(BundleError::Index(format!(
                    "the member {name} is not an OCI image manifest"
                )));
            }
            let size = d["size"]
                .as_u64()
                .ok_or_else(|| BundleError::Index(format!("the member {name} has no size")))?;
            let digest = digest(
                d["digest"].as_str().unwrap_or_default(),
                &format!("the member {name}'s digest"),
            )?;
            members.push(Member {
                name,
                version,
                digest,
                size,
            });
        }
        let reference = BundleRef {
            country,
            name,
            version: Some(version),
        };
        let bundle = Self::new(&reference, version, members, lockfile, stack)?;
        Ok(bundle)
    }

    /// The statement an approver signs over this bundle's index digest.
    pub fn statement(&self, index: &Digest, signer: Option<&str>, signed_at: &str) -> BundleStatement {
        BundleStatement {
            bundle: self.reference(),
            digest: index.clone(),
            members: self.members.len(),
            signer: signer.map(str::to_owned),
            signed_at: signed_at.to_owned(),
        }
    }
}

/// A bundle signature statement: the country vouches for the index with this digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleStatement {
    /// With its version.
    pub bundle: BundleRef,
    /// The index digest.
    pub digest: Digest,
    pub members: usize,
    /// The approver's account (informative: the key is what counts).
    pub signer: Option<String>,
    /// RFC 3339 UTC.
    pub signed_at: String,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WirePredicate {
    country: String,
    bundle: String,
    version: String,
    members: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    signer: Option<String>,
    signed_at: String,
}

impl BundleStatement {
    /// The in-toto statement's bytes (the DSSE payload, type [`PAYLOAD_TYPE`]).
    pub fn to_json(&self) -> Vec<u8> {
        let version = self.bundle.version.map(|v| v.to_string()).unwrap_or_default();
        let predicate = WirePredicate {
            country: self.bundle.country.as_str().to_owned(),
            bundle: self.bundle.name.to_string(),
            version,
            members: self.members,
            signer: self.signer.clone(),
            signed_at: self.signed_at.clone(),
        };
        let statement = json!({
            "_type": STATEMENT_TYPE,
            "subject": [{"name": self.bundle.to_string(), "digest": {"sha256": self.digest.hex()}}],
            "predicateType": PREDICATE_TYPE,
            "predicate": predicate,
        });
        serde_json::to_vec(&statement).unwrap_or_default()
    }

    /// Reads a statement; unknown fields are ignored.
    pub fn from_json(bytes: &[u8]) -> Result<Self, BundleError> {
        let bad = |m: &str| BundleError::Statement(m.to_owned());
        if bytes.len() > MAX_STATEMENT_BYTES {
            return Err(bad("it is larger than 16 KiB"));
        }
        let v: Value = serde_json::from_slice(bytes).map_err(|e| BundleError::Statement(format!("not JSON: {e}")))?;
        if v["_type"] != STATEMENT_TYPE || v["predicateType"] != PREDICATE_TYPE {
            return Err(bad("it is not a govstore bundle statement"));
        }
        let subjects = v["subject"].as_array().ok_or_else(|| bad("it has no subject"))?;
        let [subject] = subjects.as_slice() else {
            return Err(bad("it must have exactly one subject"));
        };
        let hex = subject["digest"]["sha256"].as_str().unwrap_or_default();
        let digest: Digest = format!("sha256:{hex}")
            .parse()
            .map_err(|_| bad("its subject has no sha256 digest"))?;
        let p: WirePredicate = serde_json::from_value(v["predicate"].clone())
            .map_err(|e| BundleError::Statement(format!("its predicate: {e}")))?;
        let bundle: BundleRef = format!("{}/{}@{}", p.country, p.bundle, p.version).parse()?;
        if subject["name"].as_str() != Some(bundle.to_string().as_str()) {
            return Err(bad("its subject names another bundle than its predicate"));
        }
        Ok(Self {
            bundle,
            digest,
            members: p.members,
            signer: p.signer,
            signed_at: p.signed_at,
        })
    }
}

/// The DSSE payload type of bundle statements (an in-toto statement).
pub const STATEMENT_PAYLOAD_TYPE: &str = PAYLOAD_TYPE;

/// Distinct signers among `statements` that vouch for this very bundle (reference and
/// index digest); `statements` pairs each verified key id with its statement.
pub fn signers<'a>(
    bundle: &BundleRef,
    index: &Digest,
    statements: impl IntoIterator<Item = (&'a str, &'a BundleStatement)>,
) -> BTreeSet<&'a str> {
    statements
        .into_iter()
        .filter(|(_, s)| s.bundle == *bundle && s.digest == *index)
        .map(|(k, _)| k)
        .collect()
}

/// What changes from bundle `a` to bundle `b`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BundleDiff {
    pub added: Vec<Member>,
    pub removed: Vec<Member>,
    /// (before, after), same package, another version or digest.
    pub changed: Vec<(Member, Member)>,
    pub unchanged: Vec<Member>,
}

impl BundleDiff {
    pub fn between(a: &Bundle, b: &Bundle) -> Self {
        let before: BTreeMap<&PackageName, &Member> = a.members.iter().map(|m| (&m.name, m)).collect();
        let after: BTreeMap<&PackageName, &Member> = b.members.iter().map(|m| (&m.name, m)).collect();
        let mut d = Self::default();
        for (name, m) in &after {
            match before.get(name) {
                None => d.added.push((*m).clone()),
                Some(old) if old.digest != m.digest => d.changed.push(((*old).clone(), (*m).clone())),
                Some(_) => d.unchanged.push((*m).clone()),
            }
        }
        d.removed = before
            .iter()
            .filter(|(n, _)| !after.contains_key(*n))
            .map(|(_, m)| (*m).clone())
            .collect();
        d
    }

    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

fn cut(s: &str) -> String {
    s.chars().take(80).collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn member(name: &str, version: &str) -> Member {
        Member {
            name: name.parse().unwrap(),
            version: Version::parse(version).unwrap(),
            digest: Digest::of(format!("{name}@{version}").as_bytes()),
            size: 512,
        }
    }

    fn bundle(version: &str, members: Vec<Member>) -> Bundle {
        let r: BundleRef = "SL/national-id".parse().unwrap();
        Bundle::new(
            &r,
            version.parse().unwrap(),
            members,
            Digest::of(b"lock"),
            Digest::of(b"stack"),
        )
        .unwrap()
    }

    #[test]
    fn references_parse_and_name_their_repository() {
        let r: BundleRef = "SL/national-id@2026.1".parse().unwrap();
        assert_eq!(r.repository(), "sl/national-id");
        assert_eq!(r.to_string(), "SL/national-id@2026.1");
        let lower: BundleRef = "sl/national-id@2026.1.2".parse().unwrap();
        assert_eq!(lower.to_string(), "SL/national-id@2026.1.2");
        for bad in [
            "national-id@2026.1",
            "XX/national-id@2026.1",
            "SL/National@2026.1",
            "SL/national-id@1.2.3.4",
            "SL/national-id@2026.01",
            "SL/national-id@2026.0",
            "SL/a--b",
            "SL/../x",
        ] {
            assert!(bad.parse::<BundleRef>().is_err(), "{bad} parsed");
        }
    }

    #[test]
    fn calendar_versions_order_numerically() {
        let v = |s: &str| s.parse::<BundleVersion>().unwrap();
        assert!(v("2026.2") < v("2026.10"));
        assert!(v("2026.1") < v("2026.1.1"));
        assert!(v("2026.12") < v("2027.1"));
    }

    #[test]
    fn the_index_round_trips_and_is_canonical() {
        let b = bundle(
            "2026.1",
            vec![member("mosip/id-repo", "1.2.0"), member("govstack/consent", "1.0.0")],
        );
        let json = b.to_index_json();
        let back = Bundle::from_index_json(&json).unwrap();
        assert_eq!(back, b);
        assert_eq!(back.to_index_json(), json, "same bundle, same bytes");
        assert_eq!(b.members[0].name.as_str(), "govstack/consent", "sorted by name");
        let v: Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(v["artifactType"], ARTIFACT_TYPE);
        assert_eq!(v["manifests"][1]["annotations"][ANN_PACKAGE], "mosip/id-repo");
    }

    #[test]
    fn bad_indexes_are_refused() {
        let b = bundle("2026.1", vec![member("a/b", "1.0.0")]);
        let mut v: Value = serde_json::from_slice(&b.to_index_json()).unwrap();
        v["annotations"][ANN_FORMAT] = json!("2");
        let err = Bundle::from_index_json(&serde_json::to_vec(&v).unwrap()).unwrap_err();
        assert!(err.to_string().contains("upgrade govstore"), "{err}");
        let mut v: Value = serde_json::from_slice(&b.to_index_json()).unwrap();
        v["manifests"] = json!([v["manifests"][0], v["manifests"][0]]);
        assert!(matches!(
            Bundle::from_index_json(&serde_json::to_vec(&v).unwrap()),
            Err(BundleError::Duplicate(_))
        ));
        assert!(matches!(
            Bundle::new(
                &"SL/x".parse().unwrap(),
                "2026.1".parse().unwrap(),
                vec![],
                Digest::of(b""),
                Digest::of(b"")
            ),
            Err(BundleError::Empty)
        ));
    }

    #[test]
    fn statements_round_trip_and_count_distinct_signers_of_this_index() {
        let b = bundle("2026.1", vec![member("a/b", "1.0.0")]);
        let index = Digest::of(&b.to_index_json());
        let s = b.statement(&index, Some("amara"), "2026-12-07T10:00:00Z");
        let back = BundleStatement::from_json(&s.to_json()).unwrap();
        assert_eq!(back, s);
        let other = b.statement(&Digest::of(b"another index"), None, "2026-12-07T10:00:00Z");
        let r = b.reference();
        let n = signers(&r, &index, [("k1", &s), ("k1", &s), ("k2", &s), ("k3", &other)]);
        assert_eq!(n.into_iter().collect::<Vec<_>>(), ["k1", "k2"]);
    }

    #[test]
    fn diff_names_added_removed_and_upgraded_members() {
        let a = bundle(
            "2026.1",
            vec![
                member("a/keep", "1.0.0"),
                member("a/up", "1.0.0"),
                member("a/gone", "2.0.0"),
            ],
        );
        let b = bundle(
            "2026.2",
            vec![
                member("a/keep", "1.0.0"),
                member("a/up", "1.1.0"),
                member("a/new", "0.1.0"),
            ],
        );
        let d = BundleDiff::between(&a, &b);
        assert_eq!(d.added.iter().map(|m| m.name.as_str()).collect::<Vec<_>>(), ["a/new"]);
        assert_eq!(
            d.removed.iter().map(|m| m.name.as_str()).collect::<Vec<_>>(),
            ["a/gone"]
        );
        assert_eq!(d.changed.len(), 1);
        assert_eq!(d.changed[0].1.version.to_string(), "1.1.0");
        assert_eq!(d.unchanged.len(), 1);
        assert!(BundleDiff::between(&a, &a).is_empty());
    }
}
