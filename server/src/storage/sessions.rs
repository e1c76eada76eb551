//! In-process state of upload sessions: a lock per session so that the chunks of one
//! session that reach this process are applied one at a time, and the running SHA-256 so
//! that consecutive chunks and the final digest need no second pass over the bytes.
//!
//! Nothing here is needed for correctness: the durable state (length, parts) is in the
//! database, another process may append between two chunks that reach this one (the
//! database's compare-and-set orders them), and a hash that is missing or behind the
//! session's length is recomputed from the committed parts (see [`super::uploads`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sha2::Sha256;

#[derive(Debug, Default)]
pub struct SessionState {
    /// The hash of the first `n` bytes of the upload, as `(n, hash)`.
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

    /// Drop the state of sessions not in `live` (finished or cancelled by another
    /// process), except those in use right now.
    pub fn retain_live(&self, live: &std::collections::HashSet<String>) {
        let mut map = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|id, state| live.contains(id) || state.try_lock().is_err());
    }

    pub fn forget(&self, id: &str) {
        let mut map = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(id);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::Sessions;

    #[tokio::test]
    async fn state_of_gone_sessions_is_dropped_unless_in_use() {
        let sessions = Sessions::default();
        let (live, gone, busy) = (sessions.get("live"), sessions.get("gone"), sessions.get("busy"));
        let _held = busy.lock().await;
        sessions.retain_live(&["live".to_owned()].into());
        assert!(Arc::ptr_eq(&live, &sessions.get("live")));
        assert!(
            Arc::ptr_eq(&busy, &sessions.get("busy")),
            "a session in use keeps its state"
        );
        assert!(
            !Arc::ptr_eq(&gone, &sessions.get("gone")),
            "a gone session's state is dropped"
        );
    }
}
