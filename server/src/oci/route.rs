//! Parsing `/v2/...` paths into the endpoint they name.
//!
//! Repository names may contain slashes (`a/b/c`), so the endpoint is found from the
//! end of the path. The name is validated on the raw path as the client sent it, never
//! percent-decoded: `%2e%2e` is not a valid name component, so it cannot smuggle `..`.

use govstore_core::RepoName;

use crate::error::ApiError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `/v2/`
    Base,
    /// `/v2/<name>/tags/list`
    Tags { name: RepoName },
    /// `/v2/<name>/manifests/<reference>`
    Manifest { name: RepoName, reference: String },
    /// `/v2/<name>/blobs/<digest>`
    Blob { name: RepoName, digest: String },
    /// `/v2/<name>/blobs/uploads/`
    UploadStart { name: RepoName },
    /// `/v2/<name>/blobs/uploads/<id>`
    Upload { name: RepoName, id: String },
    /// `/v2/<name>/referrers/<digest>`
    Referrers { name: RepoName, digest: String },
}

/// `Ok(None)` means no endpoint has this shape.
pub fn parse(path: &str) -> Result<Option<Route>, ApiError> {
    let Some(rest) = path.strip_prefix("/v2/") else {
        return Ok((path == "/v2").then_some(Route::Base));
    };
    if rest.is_empty() {
        return Ok(Some(Route::Base));
    }
    let segs: Vec<&str> = rest.split('/').collect();
    let n = segs.len();
    let name = |upto: usize| -> Result<RepoName, ApiError> {
        if upto == 0 {
            return Err(ApiError::name_invalid("repository name is empty"));
        }
        segs[..upto]
            .join("/")
            .parse::<RepoName>()
            .map_err(|e| ApiError::name_invalid(e.to_string()))
    };
    let route = match segs.as_slice() {
        [.., "tags", "list"] => Route::Tags { name: name(n - 2)? },
        [.., "blobs", "uploads", id] if n >= 4 => {
            if id.is_empty() {
                Route::UploadStart { name: name(n - 3)? }
            } else {
                Route::Upload {
                    name: name(n - 3)?,
                    id: (*id).to_owned(),
                }
            }
        }
        [.., "blobs", "uploads"] if n >= 3 => Route::UploadStart { name: name(n - 2)? },
        [.., "blobs", digest] if n >= 3 => Route::Blob {
            name: name(n - 2)?,
            digest: (*digest).to_owned(),
        },
        [.., "manifests", r] if n >= 3 => Route::Manifest {
            name: name(n - 2)?,
            reference: (*r).to_owned(),
        },
        [.., "referrers", d] if n >= 3 => Route::Referrers {
            name: name(n - 2)?,
            digest: (*d).to_owned(),
        },
        _ => return Ok(None),
    };
    Ok(Some(route))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(s: &str) -> RepoName {
        s.parse().expect("valid name")
    }

    #[test]
    fn routes() {
        assert_eq!(parse("/v2/").ok().flatten(), Some(Route::Base));
        assert_eq!(
            parse("/v2/a/b/c/tags/list").ok().flatten(),
            Some(Route::Tags { name: name("a/b/c") })
        );
        assert_eq!(
            parse("/v2/a/blobs/uploads/").ok().flatten(),
            Some(Route::UploadStart { name: name("a") })
        );
        assert_eq!(
            parse("/v2/blobs/blobs/uploads/x").ok().flatten(),
            Some(Route::Upload {
                name: name("blobs"),
                id: "x".into()
            })
        );
        assert_eq!(
            parse("/v2/a/manifests/manifests/v1").ok().flatten(),
            Some(Route::Manifest {
                name: name("a/manifests"),
                reference: "v1".into()
            })
        );
        assert_eq!(parse("/v2/a/unknown/x").ok().flatten(), None);
    }

    #[test]
    fn path_like_names_are_invalid() {
        for p in [
            "/v2/../manifests/x",
            "/v2/a/%2e%2e/manifests/x",
            "/v2/%2e/blobs/uploads/",
            "/v2//manifests/x",
        ] {
            assert!(parse(p).is_err(), "{p} must be refused");
        }
    }
}
