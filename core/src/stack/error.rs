//! Stack profile and lockfile errors. They use the manifest's
//! `FieldError`s ([`crate::manifest::FieldError`]), so an error names its field the same way
//! (`wants.pins."x-road/security-server"`), with the line and column.

use crate::manifest::document::Failure;
use crate::manifest::error::{join, syntax_message};
use crate::manifest::{FieldError, Location};
use crate::wire::FormatError;

use super::limits::{MAX_LOCKFILE_BYTES, MAX_STACK_BYTES};

/// Why a `stack.toml` was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StackError {
    /// The input is larger than [`MAX_STACK_BYTES`].
    #[error("the stack profile is {size} bytes; the limit is {MAX_STACK_BYTES}")]
    TooLarge { size: usize },
    /// The input is not TOML.
    #[error("{}", syntax_message(.format, .message, .location))]
    Syntax {
        format: &'static str,
        message: String,
        location: Option<Location>,
    },
    /// One or more fields are wrong. Never empty.
    #[error("{}", join(.0))]
    Invalid(Vec<FieldError>),
}

impl StackError {
    /// The field errors, for [`StackError::Invalid`]; empty otherwise.
    pub fn field_errors(&self) -> &[FieldError] {
        match self {
            StackError::Invalid(errors) => errors,
            _ => &[],
        }
    }
}

impl From<Failure> for StackError {
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::TooLarge { size } => StackError::TooLarge { size },
            Failure::Syntax {
                format,
                message,
                location,
            } => StackError::Syntax {
                format,
                message,
                location,
            },
            Failure::Invalid(errors) => StackError::Invalid(errors),
        }
    }
}

/// Why a `govstore.lock` was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LockfileError {
    /// The input is larger than [`MAX_LOCKFILE_BYTES`].
    #[error("the lockfile is {size} bytes; the limit is {MAX_LOCKFILE_BYTES}")]
    TooLarge { size: usize },
    /// The input is not TOML.
    #[error("{}", syntax_message(.format, .message, .location))]
    Syntax {
        format: &'static str,
        message: String,
        location: Option<Location>,
    },
    /// One or more fields are wrong. Never empty.
    #[error("{}", join(.0))]
    Invalid(Vec<FieldError>),
    /// A format this govstore does not read, such as a newer govstore's; see
    /// [`FormatError::hint`].
    #[error(transparent)]
    Format(#[from] FormatError),
}

impl LockfileError {
    /// The field errors, for [`LockfileError::Invalid`]; empty otherwise.
    pub fn field_errors(&self) -> &[FieldError] {
        match self {
            LockfileError::Invalid(errors) => errors,
            _ => &[],
        }
    }
}

impl From<Failure> for LockfileError {
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::TooLarge { size } => LockfileError::TooLarge { size },
            Failure::Syntax {
                format,
                message,
                location,
            } => LockfileError::Syntax {
                format,
                message,
                location,
            },
            Failure::Invalid(errors) => LockfileError::Invalid(errors),
        }
    }
}
