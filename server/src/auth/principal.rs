//! Authenticating a request from its `Authorization` header.

use axum::http::{HeaderMap, StatusCode, header};
use base64::Engine as _;

use super::token;
use crate::db;
use crate::error::{ApiError, ApiResult, Code};
use crate::state::AppState;

pub use crate::service::Principal;

fn bad_credentials(message: &str) -> ApiError {
    ApiError::unauthorized().with_message(message)
}

/// The token in an `Authorization` header: `Bearer <token>`, or `Basic` with the token
/// as the password (the user name is ignored), as OCI clients send it.
fn token_from(headers: &HeaderMap) -> ApiResult<Option<String>> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| bad_credentials("malformed Authorization header"))?;
    if let Some(t) = value.strip_prefix("Bearer ") {
        return Ok(Some(t.trim().to_owned()));
    }
    if let Some(b) = value.strip_prefix("Basic ") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(b.trim())
            .ok()
            .and_then(|d| String::from_utf8(d).ok())
            .ok_or_else(|| bad_credentials("malformed Basic credentials"))?;
        let (_, password) = decoded
            .split_once(':')
            .ok_or_else(|| bad_credentials("malformed Basic credentials"))?;
        return Ok(Some(password.to_owned()));
    }
    Err(bad_credentials("unsupported Authorization scheme; use Bearer or Basic"))
}

/// The caller, or `None` for an anonymous request. Bad, expired or revoked tokens are
/// refused rather than treated as anonymous.
pub async fn authenticate(st: &AppState, headers: &HeaderMap) -> ApiResult<Option<Principal>> {
    let Some(presented) = token_from(headers)? else {
        return Ok(None);
    };
    let Some(prefix) = token::prefix_of(&presented) else {
        return Err(bad_credentials("invalid token"));
    };
    let Some((tok, user)) = db::accounts::token_with_user(&st.db.read, prefix).await? else {
        return Err(bad_credentials("invalid token"));
    };
    if !token::constant_time_eq(&token::hash(&presented), &tok.hash) {
        return Err(bad_credentials("invalid token"));
    }
    let now = crate::now_ms();
    if tok.revoked_at.is_some() {
        return Err(bad_credentials("this token was revoked"));
    }
    if tok.expires_at.is_some_and(|e| e <= now) {
        return Err(bad_credentials("this token has expired; create a new one"));
    }
    if tok.last_used_at.is_none_or(|t| now - t > 60_000) {
        db::accounts::touch_token(&st.db.write, tok.id, now).await?;
    }
    let scopes = serde_json::from_str::<Vec<String>>(&tok.scopes)
        .map_err(ApiError::internal)?
        .iter()
        .filter_map(|s| s.parse().ok())
        .collect();
    Ok(Some(Principal {
        user_id: user.id,
        user: user.name,
        admin: user.admin,
        scopes,
        token_prefix: tok.prefix,
        expires_at: tok.expires_at,
    }))
}

/// The caller, who must have presented a valid token.
pub async fn require_principal(st: &AppState, headers: &HeaderMap) -> ApiResult<Principal> {
    authenticate(st, headers).await?.ok_or_else(|| {
        ApiError::new(StatusCode::UNAUTHORIZED, Code::Unauthorized, "this needs an API token").header(
            header::WWW_AUTHENTICATE,
            axum::http::HeaderValue::from_static("Bearer realm=\"govstore\""),
        )
    })
}
