//! What a caller adds to the stack for one resolution: the lockfile's versions, the
//! country's approvals, and a limit on work.

use std::collections::{BTreeMap, BTreeSet};

use govstore_core::Digest;
use govstore_core::package::PackageName;
use govstore_core::stack::Lockfile;
use semver::Version;

/// Options for [`crate::resolve`]. The default: no lockfile, no approvals, no limit.
#[derive(Debug, Clone, Default)]
pub struct ResolveOptions {
    /// Versions from a lockfile. Each is preferred while it still fits, and stays usable
    /// when it has been yanked or is a pre-release.
    pub locked: BTreeMap<PackageName, Version>,
    /// Manifest digests the country has approved; used when the stack's policy sets
    /// `approved_only`.
    pub approved: BTreeSet<Digest>,
    /// Give up with [`crate::ResolveError::TooComplex`] after this many solver steps
    /// (for resolutions on behalf of untrusted callers). `None`: no limit.
    pub max_steps: Option<u64>,
}

impl ResolveOptions {
    /// Prefers, and keeps usable, the versions `lock` names.
    pub fn with_lockfile(mut self, lock: &Lockfile) -> Self {
        self.locked = lock
            .packages
            .iter()
            .map(|p| (p.name.clone(), p.version.clone()))
            .collect();
        self
    }
}
