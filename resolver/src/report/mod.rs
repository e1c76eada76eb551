//! Failure reports: why no set of packages fits a stack, in plain words.
//!
//! The body is built from PubGrub's derivation tree by pubgrub's
//! `DefaultStringReporter` with our [`formatter::Formatter`], which names packages,
//! versions, specs and requirements as the stack profile and the manifests write them,
//! and explains the gaps that policy, platform, yanks and pins left (the candidates
//! ruled out before solving). The hints ([`hints`]) say what would change the outcome.
//! Virtual nodes and their build-metadata versions never appear.

mod collapse;
mod formatter;
mod hints;
mod text;

use std::fmt;

use pubgrub::{DefaultStringReporter, DerivationTree, Reporter};

use crate::provider::{Node, Session};
use crate::ranges::VersionSet;

/// Why no set of packages fits the stack. `Display` gives the whole report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoSolution {
    stack: String,
    explanation: String,
    hints: Vec<String>,
}

impl NoSolution {
    pub(crate) fn build(session: &Session<'_>, tree: &DerivationTree<Node, VersionSet, String>) -> Self {
        let formatter = formatter::Formatter { session };
        let hints = hints::hints(session, tree);
        let mut tree = tree.clone();
        collapse::collapse(session, &mut tree);
        let explanation = match &tree {
            DerivationTree::External(external) => {
                use pubgrub::ReportFormatter;
                format!(
                    "Because {}, the stack cannot be resolved.",
                    formatter.format_external(external)
                )
            }
            DerivationTree::Derived(_) => DefaultStringReporter::report_with_formatter(&tree, &formatter),
        };
        let info = &session.stack.stack;
        Self {
            stack: format!("{:?} ({})", info.name, info.country),
            explanation,
            hints,
        }
    }

    /// The explanation: sentences from the derivation tree, one per line.
    pub fn explanation(&self) -> &str {
        &self.explanation
    }

    /// What would change the outcome, one line each.
    pub fn hints(&self) -> &[String] {
        &self.hints
    }
}

impl fmt::Display for NoSolution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "no set of packages fits the stack {}:", self.stack)?;
        writeln!(f)?;
        for line in self.explanation.lines() {
            if line.is_empty() {
                writeln!(f)?;
            } else {
                writeln!(f, "  {line}")?;
            }
        }
        if !self.hints.is_empty() {
            writeln!(f)?;
            for hint in &self.hints {
                writeln!(f, "hint: {hint}")?;
            }
        }
        Ok(())
    }
}
