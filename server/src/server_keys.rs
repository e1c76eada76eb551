//! Approver keys the server holds: a national instance run by the ministry itself may
//! keep one approver key per country on the server, so that an approver's click in the
//! web workspace signs the approval statement (which then names the signed-in approver).
//!
//! The operator configures them with `--approver-key CC=PATH` (repeatable),
//! `GOVSTORE_APPROVER_KEYS=CC=PATH,CC=PATH` or `approver_keys = ["CC=PATH"]` in the config
//! file. Each file is a cosign-format encrypted private key (`ENCRYPTED COSIGN PRIVATE
//! KEY`, as `govstore keygen` writes it), decrypted at start with the password in
//! `GOVSTORE_APPROVER_KEY_PASSWORD`; a file that cannot be read or decrypted stops the
//! start with an error naming the file (never the password). The decrypted key lives only
//! in memory. Holding a key gives nobody any right: the service still checks that the
//! signed-in user is an approver of the country, and accepts the statement only if the
//! key is registered, unrevoked, as one of the country's approver keys.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use govstore_core::manifest::values::CountryCode;
use govstore_signing::KeyPair;

use crate::config::{ApproverKeyPath, Secret};

/// Why the configured keys cannot be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ServerKeyError {
    #[error("approver keys are configured but GOVSTORE_APPROVER_KEY_PASSWORD is not set")]
    NoPassword,
    #[error("cannot read the approver key of {country} at {path}: {cause}")]
    Read {
        country: CountryCode,
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("cannot decrypt the approver key of {country} at {path} with GOVSTORE_APPROVER_KEY_PASSWORD: {cause}")]
    Decrypt {
        country: CountryCode,
        path: PathBuf,
        cause: govstore_signing::SigningError,
    },
    #[error("two approver keys are configured for {0}; a country has at most one server-held key")]
    Duplicate(CountryCode),
}

/// The approver keys the server holds, by country.
#[derive(Default)]
pub struct ServerKeys {
    keys: RwLock<BTreeMap<CountryCode, Arc<KeyPair>>>,
}

impl fmt::Debug for ServerKeys {
    /// The countries and key ids only: never key material.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ids: BTreeMap<String, String> = self
            .read()
            .iter()
            .map(|(c, k)| (c.to_string(), k.public_key().key_id()))
            .collect();
        f.debug_struct("ServerKeys").field("keys", &ids).finish()
    }
}

impl ServerKeys {
    /// Read and decrypt every configured key.
    pub fn load(paths: &[ApproverKeyPath], password: Option<&Secret>) -> Result<Self, ServerKeyError> {
        let keys = Self::default();
        if paths.is_empty() {
            return Ok(keys);
        }
        let password = password.ok_or(ServerKeyError::NoPassword)?;
        for p in paths {
            if keys.get(p.country).is_some() {
                return Err(ServerKeyError::Duplicate(p.country));
            }
            let pem = std::fs::read_to_string(&p.path).map_err(|cause| ServerKeyError::Read {
                country: p.country,
                path: p.path.clone(),
                cause,
            })?;
            let key = KeyPair::from_encrypted_pem(&pem, password.expose().as_bytes()).map_err(|cause| {
                ServerKeyError::Decrypt {
                    country: p.country,
                    path: p.path.clone(),
                    cause,
                }
            })?;
            tracing::info!(country = %p.country, key = %key.public_key().key_id(), "server-held approver key loaded");
            keys.insert(p.country, key);
        }
        Ok(keys)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<CountryCode, Arc<KeyPair>>> {
        self.keys.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The key held for `country`, if any.
    pub fn get(&self, country: CountryCode) -> Option<Arc<KeyPair>> {
        self.read().get(&country).cloned()
    }

    /// Hold `key` for `country` (the operator's configuration at start, and `--demo`).
    pub fn insert(&self, country: CountryCode, key: KeyPair) {
        self.keys
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(country, Arc::new(key));
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn sl() -> CountryCode {
        "SL".parse().unwrap()
    }

    #[test]
    fn loads_decrypts_and_refuses_clearly() {
        let dir = tempfile::tempdir().unwrap();
        let key = KeyPair::generate().unwrap();
        let path = dir.path().join("sl.key");
        std::fs::write(&path, key.to_encrypted_pem(b"s3cret").unwrap()).unwrap();
        let cfg = [ApproverKeyPath {
            country: sl(),
            path: path.clone(),
        }];

        let keys = ServerKeys::load(&cfg, Some(&Secret::new("s3cret"))).unwrap();
        assert_eq!(keys.get(sl()).unwrap().public_key().key_id(), key.public_key().key_id());
        assert!(keys.get("KE".parse().unwrap()).is_none());
        let debug = format!("{keys:?}");
        assert!(
            debug.contains(&key.public_key().key_id()) && !debug.contains("s3cret"),
            "{debug}"
        );

        let e = ServerKeys::load(&cfg, Some(&Secret::new("guess-xyz"))).unwrap_err();
        assert!(matches!(e, ServerKeyError::Decrypt { .. }), "{e}");
        assert!(
            e.to_string().contains("sl.key") && !e.to_string().contains("guess-xyz"),
            "{e}"
        );

        assert!(matches!(
            ServerKeys::load(&cfg, None).unwrap_err(),
            ServerKeyError::NoPassword
        ));

        let missing = [ApproverKeyPath {
            country: sl(),
            path: dir.path().join("nope.key"),
        }];
        let e = ServerKeys::load(&missing, Some(&Secret::new("s3cret"))).unwrap_err();
        assert!(
            matches!(e, ServerKeyError::Read { .. }) && e.to_string().contains("nope.key"),
            "{e}"
        );

        let twice = [cfg[0].clone(), cfg[0].clone()];
        assert!(matches!(
            ServerKeys::load(&twice, Some(&Secret::new("s3cret"))).unwrap_err(),
            ServerKeyError::Duplicate(_)
        ));
        assert!(ServerKeys::load(&[], None).unwrap().get(sl()).is_none());
    }
}
