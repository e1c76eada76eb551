//! The OpenAPI 3.1 document of the JSON API, served at `/api/v1/openapi.json`. Written
//! by hand next to the router; a test checks that every route is documented.

use axum::Json;
use serde_json::{Value, json};

/// Every documented (path, method) pair; the router test compares against this.
pub const OPERATIONS: &[(&str, &str)] = &[
    ("/api/v1/me", "get"),
    ("/api/v1/namespaces/{ns}/keys", "get"),
    ("/api/v1/namespaces/{ns}/keys", "post"),
    ("/api/v1/namespaces/{ns}/keys/{key_id}/revoke", "post"),
    ("/api/v1/countries", "get"),
    ("/api/v1/countries/{cc}", "get"),
    ("/api/v1/countries/{cc}/policy", "put"),
    ("/api/v1/countries/{cc}/stack", "get"),
    ("/api/v1/countries/{cc}/stack", "put"),
    ("/api/v1/countries/{cc}/members/{user}", "put"),
    ("/api/v1/countries/{cc}/approvals", "get"),
    ("/api/v1/countries/{cc}/approvals", "post"),
    ("/api/v1/countries/{cc}/proposals", "get"),
    ("/api/v1/countries/{cc}/proposals", "post"),
    ("/api/v1/countries/{cc}/proposals/{id}/recommendations", "post"),
    ("/api/v1/packages/{ns}/{name}/approvals", "get"),
    ("/api/v1/countries/{cc}/bundles", "get"),
    ("/api/v1/countries/{cc}/bundles", "post"),
    ("/api/v1/countries/{cc}/bundles/{name}/{version}", "get"),
    ("/api/v1/packages", "get"),
    ("/api/v1/packages/{ns}/{name}", "get"),
    ("/api/v1/packages/{ns}/{name}/versions", "post"),
    ("/api/v1/packages/{ns}/{name}/versions/{version}", "get"),
    ("/api/v1/packages/{ns}/{name}/versions/{version}/yank", "post"),
    ("/api/v1/packages/{ns}/{name}/versions/{version}/unyank", "post"),
    ("/api/v1/index/packages/{ns}/{name}", "get"),
    ("/api/v1/index/specs/{ns}/{name}", "get"),
    ("/api/v1/search", "get"),
    ("/api/v1/specs", "get"),
    ("/api/v1/specs", "post"),
    ("/api/v1/specs/{ns}/{name}", "get"),
    ("/api/v1/audit", "get"),
    ("/api/v1/events", "get"),
    ("/api/v1/openapi.json", "get"),
];

fn param(name: &str, description: &str) -> Value {
    json!({ "name": name, "in": "path", "required": true, "description": description, "schema": { "type": "string" } })
}

fn query(name: &str, description: &str, ty: &str) -> Value {
    json!({ "name": name, "in": "query", "required": false, "description": description, "schema": { "type": ty } })
}

/// The parameters of `/api/v1/search`.
fn search_params() -> Vec<Value> {
    vec![
        query(
            "q",
            "words, up to 100 characters; may be empty with a facet filter",
            "string",
        ),
        query("limit", "1 to 100 (default 20)", "integer"),
        query("offset", "hits to skip, 0 to 10000 (default 0)", "integer"),
        query(
            "spec",
            "only packages implementing this spec, e.g. govstack/identity",
            "string",
        ),
        query("license", "only this SPDX licence expression", "string"),
        query("maturity", "only this maturity", "string"),
        query(
            "country",
            "only entries deployed in this country (ISO 3166-1 alpha-2)",
            "string",
        ),
        query(
            "approved",
            "only packages whose indexed version holds its threshold of approvals in this country (ISO 3166-1 alpha-2)",
            "string",
        ),
        query("sdg", "only entries contributing to this SDG (1 to 17)", "string"),
        query(
            "compliance",
            "only packages whose best claimed interface or requirements compliance level is this: level-2, level-1 or none",
            "string",
        ),
        query(
            "signed",
            "yes (every published package version is signed) or no (listings)",
            "string",
        ),
        query(
            "kind",
            "package (installable) or listing (DPG registry metadata, not installable)",
            "string",
        ),
    ]
}

/// The `SearchResults` schema.
fn search_results() -> Value {
    json!({ "type": "object", "required": ["total", "results", "facets"], "properties": { "total": { "type": "integer" }, "full_matches": { "type": "integer", "description": "how many of the total match every word" }, "results": { "type": "array", "items": { "type": "object", "properties": {
                    "kind": { "type": "string", "enum": ["package", "listing"] }, "installable": { "type": "boolean", "description": "true for packages, false for listings" },
                    "id": { "type": "integer", "description": "listings: the id of /listings/{id}" },
                    "name": { "type": "string" }, "title": { "type": ["string", "null"], "description": "packages: the human title from govstore.toml" }, "partial": { "type": "boolean", "description": "matches only some of the query's words; partial hits follow the full matches" }, "version": { "type": "string", "description": "packages: the latest non-yanked version, else the newest (then yanked is true)" }, "description": { "type": "string" }, "license": { "type": "string" },
                    "implements": { "type": "array", "items": { "type": "string" } }, "yanked": { "type": "boolean" },
                    "downloads": { "type": "integer", "description": "packages: all-time downloads, as last indexed (at most 10 minutes old)" },
                    "compliance": { "type": ["string", "null"], "description": "packages: the best claimed interface or requirements level" },
                    "licenses": { "type": "array", "items": { "type": "string" }, "description": "listings: each licence" },
                    "see_also": { "type": "array", "items": { "type": "string" }, "description": "listings: the catalogue packages the listing describes" } } } },
                    "facets": { "type": "object", "description": "for each of spec, license, maturity, country, sdg, compliance, signed, kind: the number of matches per value",
                        "additionalProperties": { "type": "object", "additionalProperties": { "type": "integer" } } } } })
}

fn body(schema: &str) -> Value {
    json!({ "required": true, "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{schema}") } } } })
}

fn ok(description: &str, schema: Option<&str>) -> Value {
    let mut r = json!({ "description": description });
    if let Some(s) = schema {
        r["content"] = json!({ "application/json": { "schema": { "$ref": format!("#/components/schemas/{s}") } } });
    }
    r
}

fn errors(codes: &[&str]) -> Value {
    let mut m = serde_json::Map::new();
    for c in codes {
        m.insert((*c).to_owned(), json!({ "$ref": "#/components/responses/Error" }));
    }
    Value::Object(m)
}

fn op(
    summary: &str,
    secured: bool,
    params: Vec<Value>,
    request: Option<Value>,
    success: (&str, Value),
    errs: &[&str],
) -> Value {
    let mut responses = errors(errs);
    responses[success.0] = success.1;
    let mut o = json!({ "summary": summary, "parameters": params, "responses": responses });
    if let Some(r) = request {
        o["requestBody"] = r;
    }
    if secured {
        o["security"] = json!([{ "token": [] }]);
    }
    o
}

fn if_none_match() -> Value {
    json!({ "name": "If-None-Match", "in": "header", "required": false, "description": "ETag of a cached copy; a match answers 304 with no body", "schema": { "type": "string" } })
}

/// Adds the `304` answer and the caching headers to an index operation.
fn cached(mut o: Value) -> Value {
    let headers = json!({
        "ETag": { "description": "strong: the quoted SHA-256 of the body", "schema": { "type": "string" } },
        "Cache-Control": { "description": "public, max-age=60, must-revalidate", "schema": { "type": "string" } },
    });
    o["responses"]["200"]["headers"] = headers.clone();
    o["responses"]["304"] = json!({ "description": "not modified: the client's copy is current", "headers": headers });
    o
}

pub async fn document() -> Json<Value> {
    Json(spec())
}

/// The document itself.
pub fn spec() -> Value {
    let ns = || param("ns", "namespace (organisation)");
    let name = || param("name", "package name within the namespace");
    let version = || param("version", "SemVer version");
    let cc = || param("cc", "ISO 3166-1 alpha-2 country code, upper case (SL)");
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "govstore API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Registry of signed digital-government building blocks. Package bytes move over the OCI Distribution API under /v2; this API publishes, describes and manages them. Errors: {\"errors\":[{\"code\",\"message\",\"detail\"}]}.",
        },
        "paths": {
            "/api/v1/me": { "get": op("The token's user, organisations and scopes", true, vec![], None, ("200", ok("the caller", Some("Me"))), &["401"]) },
            "/api/v1/namespaces/{ns}/keys": {
                "get": op("Signing keys of a namespace, revoked ones included", false, vec![ns()], None, ("200", ok("keys", Some("KeyList"))), &["404"]),
                "post": op("Register a public key (owners; scope keys:NS)", true, vec![ns()], Some(body("RegisterKey")), ("201", ok("registered", Some("Key"))), &["400", "401", "403", "409"]),
            },
            "/api/v1/namespaces/{ns}/keys/{key_id}/revoke": {
                "post": op("Revoke a key with a reason (owners; scope keys:NS)", true, vec![ns(), param("key_id", "sha256:<hex> of the key's SPKI DER")], Some(body("Reason")), ("200", ok("revoked", Some("Key"))), &["400", "401", "403", "404", "409"]),
            },
            "/api/v1/countries": { "get": op("Countries set up on this registry, with their approval policy", false, vec![], None, ("200", ok("countries", None)), &[]) },
            "/api/v1/countries/{cc}": { "get": op("A country: policy (threshold of distinct approver keys, default validity), members and approver keys (with holders), revoked ones included", false, vec![cc()], None, ("200", ok("country", None)), &["400", "404"]) },
            "/api/v1/countries/{cc}/policy": { "put": op("Change the approval policy (scope country-admin:CC, owner)", true, vec![cc()], Some(body("CountryPolicy")), ("200", ok("the country", None)), &["400", "401", "403", "404"]) },
            "/api/v1/countries/{cc}/stack": {
                "get": op("The country's own stack profile (stack.toml, application/toml)", false, vec![cc()], None, ("200", ok("the stack profile", None)), &["400", "404"]),
                "put": op("Set the country's stack profile, against which the workspace checks each proposed version; the body is the TOML text (at most 256 KiB), an empty body removes it (scope country-admin:CC, owner)", true, vec![cc()], Some(json!({ "required": true, "content": { "application/toml": { "schema": { "type": "string" } } } })), ("200", ok("the country", None)), &["400", "401", "403", "404", "413"]),
            },
            "/api/v1/countries/{cc}/members/{user}": { "put": op("Give a user a role in the country: owner, approver or reviewer (scope country-admin:CC, owner)", true, vec![cc(), param("user", "account name")], Some(body("Role")), ("200", ok("the membership", None)), &["400", "401", "403", "404"]) },
            "/api/v1/countries/{cc}/approvals": {
                "get": op("The country's newest approval and revocation statements, newest first", false, vec![cc(), query("limit", "1 to 500 (default 100)", "integer")], None, ("200", ok("statements", None)), &["400", "404"]),
                "post": op("Record an approval or revocation: the body is a DSSE envelope (payloadType application/vnd.in-toto+json) of an in-toto Statement v1 with predicateType https://govstore.dev/approval/v1, signed by a registered, unrevoked key of the country held by an approver (scope approve:CC). 201 when recorded, 200 when this envelope was recorded before", true, vec![cc()], Some(json!({ "required": true, "content": { "application/json": { "schema": { "type": "object" } } } })), ("201", ok("recorded, with the version's approval state", None)), &["400", "401", "403", "404", "413"]),
            },
            "/api/v1/countries/{cc}/proposals": {
                "get": op("The review queue (status open by default)", false, vec![cc(), query("status", "open, approved, revoked or rejected", "string")], None, ("200", ok("proposals", None)), &["400", "404"]),
                "post": op("Propose a published version for review (scope review:CC)", true, vec![cc()], Some(body("Propose")), ("201", ok("the proposal (200 when it existed)", None)), &["400", "401", "403", "404"]),
            },
            "/api/v1/countries/{cc}/proposals/{id}/recommendations": { "post": op("A reviewer's recommendation, approve or reject, with notes (scope review:CC)", true, vec![cc(), param("id", "proposal id")], Some(body("Recommend")), ("201", ok("the recommendation", None)), &["400", "401", "403", "404", "409"]) },
            "/api/v1/packages/{ns}/{name}/approvals": { "get": op("Every country's approval statements about a package's versions, with each version's state per country (threshold met, expired, revoked)", false, vec![ns(), name()], None, ("200", ok("approvals", None)), &["400", "404"]) },
            "/api/v1/countries/{cc}/bundles": {
                "get": op("The country's bundles, each with its versions oldest first", false, vec![cc()], None, ("200", ok("bundles", None)), &["400", "404"]),
                "post": op("Sign a bundle version, making it if new: {index: base64 of the canonical OCI image index (artifactType application/vnd.govstore.bundle.v1+json), envelope: a DSSE envelope of an in-toto Statement v1 with predicateType https://govstore.dev/bundle/v1 over the index digest, cosign_signature: base64 DER signature by the same key over the cosign simple-signing payload of the index}. Every member must be a published version approved in the country; the key must be a registered, unrevoked key of the country held by an approver (scope approve:CC). 201 when this signature is new, 200 when it was recorded before; the answer is the bundle's state", true, vec![cc()], Some(json!({ "required": true, "content": { "application/json": { "schema": { "type": "object" } } } })), ("201", ok("the bundle's state", None)), &["400", "401", "403", "404", "409", "413"]),
            },
            "/api/v1/countries/{cc}/bundles/{name}/{version}": { "get": op("One bundle version: index digest, members with their approval state now, signatures with their DSSE envelopes, the threshold, the other versions", false, vec![cc(), name(), version()], None, ("200", ok("the bundle's state", None)), &["400", "404"]) },
            "/api/v1/packages": { "get": op("All packages by name", false, vec![query("limit", "at most 1000", "integer")], None, ("200", ok("packages", None)), &[]) },
            "/api/v1/packages/{ns}/{name}": { "get": op("A package and its versions, newest first", false, vec![ns(), name()], None, ("200", ok("package", Some("Package"))), &["404"]) },
            "/api/v1/packages/{ns}/{name}/versions": {
                "post": op("Publish a signed version (scope publish:NS, owner or publisher). Upload the blobs first.", true, vec![ns(), name()], Some(body("Publish")), ("201", ok("published", Some("Published"))), &["400", "401", "403", "409", "413"]),
            },
            "/api/v1/packages/{ns}/{name}/versions/{version}": { "get": op("One version with its package manifest", false, vec![ns(), name(), version()], None, ("200", ok("version", Some("Version"))), &["404"]) },
            "/api/v1/packages/{ns}/{name}/versions/{version}/yank": {
                "post": op("Yank a version with a reason (scope yank:NS); it stays pullable by digest", true, vec![ns(), name(), version()], Some(body("Reason")), ("200", ok("yanked", Some("Version"))), &["400", "401", "403", "404", "409"]),
            },
            "/api/v1/packages/{ns}/{name}/versions/{version}/unyank": {
                "post": op("Undo a yank (scope yank:NS)", true, vec![ns(), name(), version()], None, ("200", ok("restored", Some("Version"))), &["401", "403", "404", "409"]),
            },
            "/api/v1/index/packages/{ns}/{name}": { "get": cached(op("Sparse index: every version of a package, yanked ones included, with digest, signer key ids and manifest; oldest first", false, vec![ns(), name(), if_none_match()], None, ("200", ok("the package's index document", Some("PackageIndex"))), &["400", "404"])) },
            "/api/v1/index/specs/{ns}/{name}": { "get": cached(op("Sparse index: the package versions implementing a spec, yanked ones included (see the package document for yank state)", false, vec![param("ns", "spec namespace"), param("name", "spec name"), if_none_match()], None, ("200", ok("the spec's index document", Some("SpecIndex"))), &["400", "404"])) },
            "/api/v1/search": { "get": op("Search packages and DPG listings: name, keywords, specs, licence, countries and description, with typo tolerance and prefixes; an exact name first; more downloads rank a little higher. Facet counts are over all matches", false, search_params(), None, ("200", ok("results", Some("SearchResults"))), &["400"]) },
            "/api/v1/specs": {
                "get": op("All specs", false, vec![], None, ("200", ok("specs", None)), &[]),
                "post": op("Publish or replace a spec document (scope specs)", true, vec![], Some(body("PublishSpec")), ("201", ok("published", None)), &["400", "401", "403"]),
            },
            "/api/v1/specs/{ns}/{name}": { "get": op("One spec document", false, vec![ns(), name()], None, ("200", ok("spec", None)), &["404"]) },
            "/api/v1/audit": { "get": op("The audit log, newest first (admins)", true, vec![query("limit", "1 to 1000", "integer"), query("before", "event id to page from", "integer")], None, ("200", ok("events", None)), &["401", "403"]) },
            "/api/v1/events": { "get": op("The event sequence, oldest first: every publish, yank, unyank, key and spec change, numbered gap-free in commit order (format 1; follow with `after`)", false, vec![query("after", "return events numbered above this (default 0)", "integer"), query("limit", "1 to 1000 (default 100)", "integer")], None, ("200", ok("events", None)), &["400"]) },
            "/api/v1/openapi.json": { "get": op("This document", false, vec![], None, ("200", ok("OpenAPI 3.1", None)), &[]) },
        },
        "components": {
            "securitySchemes": { "token": { "type": "http", "scheme": "bearer", "description": "an API token, gvs_..." } },
            "responses": { "Error": { "description": "error", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Errors" } } } } },
            "schemas": {
                "Errors": { "type": "object", "required": ["errors"], "properties": { "errors": { "type": "array", "items": {
                    "type": "object", "required": ["code", "message"],
                    "properties": { "code": { "type": "string" }, "message": { "type": "string" }, "detail": {} } } } } },
                "Me": { "type": "object", "properties": { "user": { "type": "string" }, "admin": { "type": "boolean" },
                    "orgs": { "type": "array", "items": { "type": "object", "properties": { "name": { "type": "string" }, "role": { "enum": ["owner", "publisher"] } } } },
                    "token": { "type": "object", "properties": { "prefix": { "type": "string" }, "scopes": { "type": "array", "items": { "type": "string" } }, "expires_at": { "type": ["string", "null"] } } } } },
                "RegisterKey": { "type": "object", "required": ["public_key"], "additionalProperties": false,
                    "properties": { "public_key": { "type": "string", "description": "PEM, PUBLIC KEY (P-256)" }, "name": { "type": "string" } } },
                "Key": { "type": "object", "properties": { "key_id": { "type": "string" }, "name": { "type": "string" }, "public_key": { "type": "string" },
                    "created_at": { "type": "string" }, "revoked_at": { "type": ["string", "null"] }, "revoke_reason": { "type": ["string", "null"] } } },
                "KeyList": { "type": "object", "properties": { "namespace": { "type": "string" }, "keys": { "type": "array", "items": { "$ref": "#/components/schemas/Key" } } } },
                "Reason": { "type": "object", "required": ["reason"], "additionalProperties": false, "properties": { "reason": { "type": "string" } } },
                "Publish": { "type": "object", "required": ["manifest", "payload", "signature"], "additionalProperties": false, "properties": {
                    "manifest": { "type": "string", "description": "the OCI image manifest's exact bytes" },
                    "payload": { "type": "string", "description": "base64 cosign simple-signing payload over the manifest digest" },
                    "signature": { "type": "string", "description": "base64 DER ECDSA P-256 SHA-256 signature of the payload" } } },
                "Published": { "type": "object", "properties": { "name": { "type": "string" }, "version": { "type": "string" }, "digest": { "type": "string" },
                    "signature_digest": { "type": "string" }, "key_id": { "type": "string" } } },
                "Version": { "type": "object", "properties": { "version": { "type": "string" }, "digest": { "type": "string" }, "published_at": { "type": "string" },
                    "yanked": { "type": "boolean" }, "yank_reason": { "type": ["string", "null"] }, "key_id": { "type": "string" }, "signature_digest": { "type": "string" },
                    "manifest": { "type": "object", "description": "govstore.toml as canonical JSON (single-version responses)" } } },
                "Package": { "type": "object", "properties": { "name": { "type": "string" }, "title": { "type": ["string", "null"], "description": "the latest version's human title" }, "namespace": { "type": "string" }, "description": { "type": "string" },
                    "owners": { "type": "array", "description": "members of the organisation that owns the namespace", "items": { "type": "object", "properties": { "user": { "type": "string" }, "role": { "enum": ["owner", "publisher"] } } } },
                    "license": { "type": "string" }, "latest": { "type": ["string", "null"] }, "versions": { "type": "array", "items": { "$ref": "#/components/schemas/Version" } } } },
                "SearchResults": search_results(),
                "PackageIndex": { "type": "object", "required": ["name", "versions"], "properties": { "format": { "type": ["integer", "string"], "description": "format version (1); readers refuse a newer major" }, "name": { "type": "string" },
                    "versions": { "type": "array", "description": "oldest first by SemVer precedence", "items": { "type": "object", "required": ["version", "digest", "yanked", "key_ids", "manifest"], "properties": {
                        "version": { "type": "string" }, "digest": { "type": "string" }, "yanked": { "type": "boolean" }, "yank_reason": { "type": "string" },
                        "key_ids": { "type": "array", "items": { "type": "string" }, "description": "keys whose signatures the registry verified at publish" },
                        "manifest": { "type": "object", "description": "govstore.toml as canonical JSON" } } } } } },
                "SpecIndex": { "type": "object", "required": ["spec", "implementations"], "properties": { "format": { "type": ["integer", "string"], "description": "format version (1); readers refuse a newer major" }, "spec": { "type": "string" },
                    "implementations": { "type": "array", "items": { "type": "object", "required": ["package", "version", "spec_version"], "properties": {
                        "package": { "type": "string" }, "version": { "type": "string" }, "spec_version": { "type": "string" } } } } } },
                "CountryPolicy": { "type": "object", "required": ["threshold"], "additionalProperties": false, "properties": { "threshold": { "type": "integer", "minimum": 1, "maximum": 16 }, "default_validity_days": { "type": ["integer", "null"], "minimum": 1, "maximum": 3650 } } },
                "Role": { "type": "object", "required": ["role"], "additionalProperties": false, "properties": { "role": { "enum": ["owner", "approver", "reviewer"] } } },
                "Propose": { "type": "object", "required": ["package", "version"], "additionalProperties": false, "properties": { "package": { "type": "string" }, "version": { "type": "string" }, "note": { "type": "string" } } },
                "Recommend": { "type": "object", "required": ["recommendation"], "additionalProperties": false, "properties": { "recommendation": { "enum": ["approve", "reject"] }, "notes": { "type": "string" } } },
                "PublishSpec": { "type": "object", "required": ["toml"], "additionalProperties": false, "properties": { "toml": { "type": "string", "description": "the spec file's TOML text" } } },
            },
        },
    })
}
