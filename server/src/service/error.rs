//! The services' error: what went wrong in domain terms, with a message for the user
//! and optional structured detail (hints, limits). The HTTP layer maps [`Kind`] to a
//! status and an error code (`crate::error`); an [`Kind::Internal`] error's text is for
//! the log only.

use serde_json::Value;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What kind of failure, as a client should understand it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The input is malformed or breaks a rule.
    Invalid,
    /// The caller may not do this (scope, role, or a namespace no one owns).
    Denied,
    /// What the request names does not exist.
    NotFound,
    /// The version exists already; versions are immutable.
    VersionExists,
    /// The change conflicts with the current state (already yanked, a limit reached).
    Conflict,
    /// A size limit was exceeded.
    TooLarge,
    /// A signature is malformed, covers something else, or does not verify.
    SignatureInvalid,
    /// A blob the request references is not uploaded.
    BlobUnknown,
    /// A failure of the server (database, storage): logged in full, never shown.
    Internal,
}

/// A use case's failure.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    pub kind: Kind,
    pub message: String,
    pub detail: Option<Value>,
}

impl Error {
    pub fn new(kind: Kind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            detail: None,
        }
    }

    pub fn detail(mut self, detail: Value) -> Self {
        self.detail = Some(detail);
        self
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(Kind::Invalid, message)
    }

    pub fn denied(message: impl Into<String>) -> Self {
        Self::new(Kind::Denied, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(Kind::NotFound, message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(Kind::Conflict, message)
    }

    pub fn too_large(message: impl Into<String>) -> Self {
        Self::new(Kind::TooLarge, message)
    }

    /// A server-side failure; `message` goes to the log, never to a client.
    pub fn internal(err: impl std::fmt::Display) -> Self {
        Self::new(Kind::Internal, err.to_string())
    }
}

impl From<sea_orm::DbErr> for Error {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::internal(format_args!("database: {e}"))
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Self::internal(format_args!("storage: {e}"))
    }
}
