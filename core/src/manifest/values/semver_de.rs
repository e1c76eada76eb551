//! Serde helpers that give SemVer errors the offending input and a hint.

use std::collections::BTreeMap;

use semver::{Version, VersionReq};
use serde::{Deserialize, Deserializer, de};

use super::ValueError;
use crate::digest::truncate;

pub(crate) fn parse_version(s: &str) -> Result<Version, ValueError> {
    Version::parse(s).map_err(|e| ValueError::Version {
        input: truncate(s),
        reason: e.to_string(),
        advice: if s.split('.').count() < 3 && !s.contains(['-', '+']) {
            "; write all three parts, e.g. \"1.0.0\""
        } else {
            ""
        },
    })
}

pub(crate) fn parse_req(s: &str) -> Result<VersionReq, ValueError> {
    VersionReq::parse(s).map_err(|e| ValueError::VersionReq {
        input: truncate(s),
        reason: e.to_string(),
    })
}

struct Req(VersionReq);

impl<'de> Deserialize<'de> for Req {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        parse_req(&s).map(Req).map_err(de::Error::custom)
    }
}

/// `#[serde(deserialize_with)]` for a `semver::Version` field.
pub(crate) fn version<'de, D: Deserializer<'de>>(d: D) -> Result<Version, D::Error> {
    let s = String::deserialize(d)?;
    parse_version(&s).map_err(de::Error::custom)
}

/// `#[serde(deserialize_with)]` for a map from names to requirements.
pub(crate) fn req_map<'de, D, K>(d: D) -> Result<BTreeMap<K, VersionReq>, D::Error>
where
    D: Deserializer<'de>,
    K: Deserialize<'de> + Ord,
{
    let map = BTreeMap::<K, Req>::deserialize(d)?;
    Ok(map.into_iter().map(|(k, Req(r))| (k, r)).collect())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        let err = parse_version("1.0").unwrap_err().to_string();
        assert!(
            err.starts_with("invalid version \"1.0\": ") && err.ends_with("write all three parts, e.g. \"1.0.0\""),
            "{err}"
        );
        assert!(parse_req(">=7.5, <8").is_ok());
        assert!(parse_req(">=7.5 <<8").is_err());
    }
}
