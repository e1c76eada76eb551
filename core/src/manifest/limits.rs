//! Limits on what a publisher controls in a manifest.
//!
//! The registry stores, indexes and renders every manifest it accepts, so each string and
//! list a publisher writes is bounded. The limits are generous for real packages; a
//! manifest that reaches one is almost always a mistake.

/// The largest `govstore.toml` or canonical JSON accepted, in bytes.
pub const MAX_MANIFEST_BYTES: usize = 128 * 1024;
/// `package.title`, in characters.
pub const MAX_TITLE_CHARS: usize = 80;
/// `package.description`, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 500;
/// Entries in `package.keywords`.
pub const MAX_KEYWORDS: usize = 10;
/// One keyword, in characters.
pub const MAX_KEYWORD_LEN: usize = 32;
/// Entries in `package.sectors`.
pub const MAX_SECTORS: usize = 10;
/// One sector, in characters.
pub const MAX_SECTOR_LEN: usize = 64;
/// Entries in `provides.capabilities`.
pub const MAX_CAPABILITIES: usize = 50;
/// One capability, in characters.
pub const MAX_CAPABILITY_LEN: usize = 64;
/// Entries in `package.include` and in `package.exclude`, each.
pub const MAX_GLOBS: usize = 100;
/// One include or exclude pattern, in bytes.
pub const MAX_GLOB_LEN: usize = 255;
/// `[[implements]]` entries.
pub const MAX_IMPLEMENTS: usize = 32;
/// Entries in each of `requires.specs`, `requires.packages`, `requires.platform` and
/// `conflicts.packages`.
pub const MAX_DEPENDENCIES: usize = 100;
/// A URL, in bytes.
pub const MAX_URL_LEN: usize = 2048;
/// A relative path (`readme`, `sbom`), in bytes.
pub const MAX_PATH_LEN: usize = 255;
/// A licence expression, in bytes.
pub const MAX_LICENSE_LEN: usize = 256;
/// A textual compliance evidence, in characters.
pub const MAX_EVIDENCE_CHARS: usize = 1000;
