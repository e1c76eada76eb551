//! In-process state of upload sessions: a lock per session so that chunks of one
//! session are applied one at a time, and the running SHA-256 so the final digest
//! needs no second pass over the bytes. The durable state (received byte count) is in
//! the database; if the in-process state is lost, the hash is recomputed from the file.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sha2::Sha256;

#[derive(Debug, Default)]
pub struct SessionState {
    /// The hash of the first `hashed` bytes of the upload.
    pub hasher: Option<(u64, Sha256)>,
}

#[derive(Clone, Debug, Default)]
pub struct Sessions {
    inner: Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<SessionState>>>>>,
}

impl Sessions {
    /// The session's lock, created on first use.
    pub fn get(&self, id: &str) -> Arc<tokio::sync::Mutex<SessionState>> {
        let mut map = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(id.to_owned()).or_default().clone()
    }

    pub fn forget(&self, id: &str) {
        let mut map = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(id);
    }
}
