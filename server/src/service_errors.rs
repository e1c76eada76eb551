//! How a use case's failure ([`crate::service::Error`]) is answered over HTTP: its
//! kind picks the status and the error code of the one `ApiError` envelope; an internal
//! failure is logged in full and answered bare.

use axum::http::StatusCode;

use crate::error::{ApiError, Code};
use crate::service::{Error, Kind};

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        let (status, code) = match e.kind {
            Kind::Invalid => (StatusCode::BAD_REQUEST, Code::Invalid),
            Kind::Denied => (StatusCode::FORBIDDEN, Code::Denied),
            Kind::NotFound => (StatusCode::NOT_FOUND, Code::NotFound),
            Kind::VersionExists => (StatusCode::CONFLICT, Code::VersionExists),
            Kind::Conflict => (StatusCode::CONFLICT, Code::Conflict),
            Kind::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, Code::SizeInvalid),
            Kind::SignatureInvalid => (StatusCode::BAD_REQUEST, Code::SignatureInvalid),
            Kind::BlobUnknown => (StatusCode::BAD_REQUEST, Code::ManifestBlobUnknown),
            Kind::Internal => return ApiError::internal(e.message),
        };
        let err = ApiError::new(status, code, e.message);
        match e.detail {
            Some(d) => err.detail(d),
            None => err,
        }
    }
}
