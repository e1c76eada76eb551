//! Limits on what a `stack.toml` and a `govstore.lock` may hold. Generous for real
//! countries; reaching one is almost always a mistake.

/// The largest `stack.toml` accepted, in bytes.
pub const MAX_STACK_BYTES: usize = 256 * 1024;
/// `stack.name`, in characters.
pub const MAX_NAME_CHARS: usize = 100;
/// `[[existing]]` entries.
pub const MAX_EXISTING: usize = 200;
/// An existing system's name, in characters.
pub const MAX_SYSTEM_NAME_LEN: usize = 64;
/// `implements` entries of one existing system.
pub const MAX_EXISTING_IMPLEMENTS: usize = 32;
/// Entries in each list and map of `[infrastructure]`, `[policy]` and `[wants]`.
pub const MAX_ENTRIES: usize = 500;
/// The largest `govstore.lock` accepted, in bytes.
pub const MAX_LOCKFILE_BYTES: usize = 4 * 1024 * 1024;
/// `[[package]]` entries in a lockfile.
pub const MAX_LOCKED_PACKAGES: usize = 5000;
/// Key ids of one locked package.
pub const MAX_KEY_IDS: usize = 16;
/// One key id, in bytes.
pub const MAX_KEY_ID_LEN: usize = 200;

/// The most approver keys `[trust]` may pin.
pub const MAX_TRUSTED_KEYS: usize = 64;
