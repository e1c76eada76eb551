//! Limits on what a publisher controls in a spec file.
//!
//! Like a manifest, a spec is stored, indexed and rendered by the registry, so every
//! string and list in it is bounded. The limits leave room for real specifications
//! (GovStack's cross-functional requirements run to a few hundred requirements per
//! version); a spec file that reaches one is almost always a mistake.

/// The largest spec file (TOML) or canonical JSON accepted, in bytes.
pub const MAX_SPEC_BYTES: usize = 512 * 1024;
/// `title`, in characters.
pub const MAX_TITLE_CHARS: usize = 100;
/// `description`, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 1000;
/// `[[versions]]` entries.
pub const MAX_VERSIONS: usize = 100;
/// `openapi` entries in one version.
pub const MAX_OPENAPI_FILES: usize = 50;
/// The `name` of an OpenAPI file, in characters.
pub const MAX_OPENAPI_NAME_CHARS: usize = 100;
/// `requirements` entries in one version.
pub const MAX_REQUIREMENTS: usize = 1000;
/// A requirement id, in bytes.
pub const MAX_REQUIREMENT_ID_LEN: usize = 128;
/// The `text` of a requirement, in characters.
pub const MAX_REQUIREMENT_TEXT_CHARS: usize = 300;
