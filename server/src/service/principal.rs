//! Who is calling: the user behind a token, with the token's scopes.

use govstore_core::scope::Scope;

/// The user behind a request's token, with the token's scopes (`auth` builds it from
/// an `Authorization` header; `admin` from the command line).
#[derive(Debug, Clone)]
pub struct Principal {
    pub user_id: i64,
    pub user: String,
    pub admin: bool,
    pub scopes: Vec<Scope>,
    pub token_prefix: String,
    pub expires_at: Option<i64>,
}
