//! What a caller adds to the stack for one resolution: the lockfile's versions, the
//! country's approvals, and a limit on work.

use std::collections::{BTreeMap, BTreeSet};

use std::sync::Arc;

use govstore_core::Digest;
use govstore_core::approval::Requires;
use govstore_core::index::IndexVersion;
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
    /// Why a version is not approved (revoked, expired, too few approvals), for the
    /// failure report; versions without a note were never approved.
    pub approval_notes: BTreeMap<Digest, String>,
    /// Decides approval for versions not in `approved`, when `approved_only` is set:
    /// called lazily, only for the candidates the solver considers, so a caller that
    /// verifies signatures verifies only those.
    pub approval_check: Option<ApprovalCheck>,
    /// Give up with [`crate::ResolveError::TooComplex`] after this many solver steps
    /// (for resolutions on behalf of untrusted callers). `None`: no limit.
    pub max_steps: Option<u64>,
}

/// A caller's approval decision for one version: when approved, the structured
/// conditions the approvals carry (each: only together with a package in a range; the
/// resolver then requires it), else why not (`None`: never approved).
pub type ApprovalFn = dyn Fn(&IndexVersion) -> Result<Vec<Requires>, Option<String>> + Send + Sync;

/// See [`ResolveOptions::approval_check`].
#[derive(Clone)]
pub struct ApprovalCheck(pub Arc<ApprovalFn>);

impl std::fmt::Debug for ApprovalCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApprovalCheck(..)")
    }
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
