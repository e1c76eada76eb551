//! Spec file errors. They use the manifest's [`FieldError`]s, so a spec error names its
//! field the same way (`versions[2].requirements[0].level`) with the line and column.

use crate::manifest::FieldError;
use crate::manifest::Location;
use crate::manifest::document::Failure;
use crate::manifest::error::{join, syntax_message};

use super::limits::MAX_SPEC_BYTES;

/// Why a spec file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    /// The input is larger than [`MAX_SPEC_BYTES`].
    #[error("the spec file is {size} bytes; the limit is {MAX_SPEC_BYTES}")]
    TooLarge { size: usize },
    /// The input is not TOML (or not JSON, for canonical JSON).
    #[error("{}", syntax_message(.format, .message, .location))]
    Syntax {
        format: &'static str,
        message: String,
        location: Option<Location>,
    },
    /// One or more fields are wrong. Never empty.
    #[error("{}", join(.0))]
    Invalid(Vec<FieldError>),
    /// The JSON is a valid spec but not in canonical form.
    #[error("the spec JSON is valid but not canonical: expected the exact output of `canonical_json`")]
    NotCanonical,
}

impl SpecError {
    /// The field errors, for [`SpecError::Invalid`]; empty otherwise.
    pub fn field_errors(&self) -> &[FieldError] {
        match self {
            SpecError::Invalid(errors) => errors,
            _ => &[],
        }
    }
}

impl From<Failure> for SpecError {
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::TooLarge { size } => SpecError::TooLarge { size },
            Failure::Syntax {
                format,
                message,
                location,
            } => SpecError::Syntax {
                format,
                message,
                location,
            },
            Failure::Invalid(errors) => SpecError::Invalid(errors),
        }
    }
}
