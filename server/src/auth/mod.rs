//! Who is calling and what they may do.
//!
//! - [`token`]: the API token format; tokens are stored only as SHA-256 hashes.
//! - [`principal`]: turning an `Authorization` header (Bearer, or Basic with the token
//!   as password, as OCI clients send it) into the calling user and token scopes.
//! - [`policy`]: the rules: a scope of the token AND a role of the user in the
//!   namespace's organisation, both required.

pub mod policy;
pub mod principal;
pub mod token;

pub use policy::{require, require_admin, require_specs};
pub use principal::{Principal, authenticate, require_principal};
