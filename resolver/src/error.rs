//! Why resolution failed.

use crate::report::NoSolution;

/// A failed resolution. `Display` gives the full report.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// No set of packages fits the stack; the report says why, with hints.
    #[error("{0}")]
    NoSolution(Box<NoSolution>),
    /// [`ResolveOptions::max_steps`](crate::ResolveOptions::max_steps) was reached.
    #[error("resolution stopped after {steps} steps, the limit set for it")]
    TooComplex { steps: u64 },
}

impl ResolveError {
    /// The report, for [`ResolveError::NoSolution`].
    pub fn no_solution(&self) -> Option<&NoSolution> {
        match self {
            ResolveError::NoSolution(report) => Some(report),
            ResolveError::TooComplex { .. } => None,
        }
    }
}
