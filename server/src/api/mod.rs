//! The JSON API under `/api/v1`: accounts (`me`), signing keys, publishing, package
//! and version information, yanking, the sparse index, specs, search, the audit log, and the OpenAPI
//! document describing all of it. Errors use the same envelope as `/v2`, rejections
//! too: handlers take `Query` and `Path` from [`extract`], never axum's (which answer in
//! plain text), and a wrong method answers 405 `UNSUPPORTED`.

mod audit;
mod body;
mod bundles;
mod countries;
mod events;
pub(crate) mod extract;
mod index;
mod keys;
mod me;
pub mod openapi;
mod packages;
mod publish;
mod search;
mod specs;

use axum::Router;
use axum::routing::{get, post, put};

use crate::error::ApiError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/me", get(me::me))
        .route("/api/v1/namespaces/{ns}/keys", get(keys::list).post(keys::register))
        .route("/api/v1/namespaces/{ns}/keys/{key_id}/revoke", post(keys::revoke))
        .route("/api/v1/countries", get(countries::list))
        .route("/api/v1/countries/{cc}", get(countries::get))
        .route("/api/v1/countries/{cc}/policy", put(countries::set_policy))
        .route(
            "/api/v1/countries/{cc}/stack",
            get(countries::get_stack).put(countries::set_stack),
        )
        .route("/api/v1/countries/{cc}/members/{user}", put(countries::set_member))
        .route(
            "/api/v1/countries/{cc}/approvals",
            get(countries::list_approvals).post(countries::submit),
        )
        .route(
            "/api/v1/countries/{cc}/proposals",
            get(countries::proposals).post(countries::propose),
        )
        .route(
            "/api/v1/countries/{cc}/proposals/{id}/recommendations",
            post(countries::recommend),
        )
        .route("/api/v1/packages/{ns}/{name}/approvals", get(countries::of_package))
        .route("/api/v1/countries/{cc}/bundles", get(bundles::list).post(bundles::sign))
        .route("/api/v1/countries/{cc}/bundles/{name}/{version}", get(bundles::get))
        .route("/api/v1/packages", get(packages::list))
        .route("/api/v1/packages/{ns}/{name}", get(packages::info))
        .route("/api/v1/packages/{ns}/{name}/versions", post(publish::publish))
        .route(
            "/api/v1/packages/{ns}/{name}/versions/{version}",
            get(packages::version),
        )
        .route(
            "/api/v1/packages/{ns}/{name}/versions/{version}/yank",
            post(packages::yank),
        )
        .route(
            "/api/v1/packages/{ns}/{name}/versions/{version}/unyank",
            post(packages::unyank),
        )
        .route("/api/v1/index/packages/{ns}/{name}", get(index::package))
        .route("/api/v1/index/specs/{ns}/{name}", get(index::spec))
        .route("/api/v1/search", get(search::search))
        .route("/api/v1/specs", get(specs::list).post(specs::publish))
        .route("/api/v1/specs/{ns}/{name}", get(specs::get))
        .route("/api/v1/audit", get(audit::list))
        .route("/api/v1/events", get(events::list))
        .route("/api/v1/openapi.json", get(openapi::document))
        // A method a route does not have: the JSON envelope, not an empty 405. Applies
        // to the routes above, so it stays after them.
        .method_not_allowed_fallback(extract::method_not_allowed)
        .fallback(|| async { ApiError::not_found("no such API endpoint") })
        // Every answer says which major version of the API it speaks; last, so that it
        // covers everything registered above.
        .layer(axum::middleware::map_response(index::api_version_header))
}

/// Milliseconds since the epoch as RFC 3339 UTC (`2026-11-21T18:00:00Z`).
pub(crate) fn rfc3339(ms: i64) -> String {
    govstore_core::time::rfc3339_ms(ms)
}
