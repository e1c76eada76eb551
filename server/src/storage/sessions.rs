//! In-process locks of upload sessions: one per session, so that the chunks of one
//! session that reach this process are applied one at a time (a chunk waiting behind
//! another sees its outcome and appends after it instead of losing the compare-and-set).
//!
//! No session state lives here: the length, the parts and the hash's midstate are in the
//! database (see [`super::uploads`]), and between processes the database's compare-and-set
//! orders the chunks.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// A session's lock.
pub type SessionLock = Arc<tokio::sync::Mutex<()>>;

#[derive(Clone, Debug, Default)]
pub struct Sessions {
    inner: Arc<Mutex<HashMap<String, SessionLock>>>,
}

impl Sessions {
    /// The session's lock, created on first use.
    pub fn get(&self, id: &str) -> SessionLock {
        let mut map = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(id.to_owned()).or_default().clone()
    }

    /// Drop the locks of sessions not in `live` (finished or cancelled by another
    /// process), except those held right now.
    pub fn retain_live(&self, live: &std::collections::HashSet<String>) {
        let mut map = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|id, lock| live.contains(id) || lock.try_lock().is_err());
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
    async fn locks_of_gone_sessions_are_dropped_unless_held() {
        let sessions = Sessions::default();
        let (live, gone, busy) = (sessions.get("live"), sessions.get("gone"), sessions.get("busy"));
        let _held = busy.lock().await;
        sessions.retain_live(&["live".to_owned()].into());
        assert!(Arc::ptr_eq(&live, &sessions.get("live")));
        assert!(
            Arc::ptr_eq(&busy, &sessions.get("busy")),
            "a session in use keeps its lock"
        );
        assert!(
            !Arc::ptr_eq(&gone, &sessions.get("gone")),
            "a gone session's lock is dropped"
        );
    }
}
