//! Turning text into a [`Stack`] or a [`Lockfile`], through the parsing shared with
//! manifests (strict serde, field paths, lines and columns), with their own limits,
//! rules and hints.

use super::error::{LockfileError, StackError};
use super::limits::{MAX_LOCKFILE_BYTES, MAX_STACK_BYTES};
use super::lock::{LOCKFILE_FORMAT, Lockfile, validate_lockfile};
use super::model::Stack;
use super::validate::validate;
use crate::manifest::document::{self, Rules};
use crate::manifest::{FieldPath, Segment};

const STACK_FIELDS: &[&str] = &["country", "name"];
const POLICY_FIELDS: &[&str] = &[
    "allow_licenses",
    "deny_licenses",
    "deny_copyleft",
    "minimum_compliance",
    "trusted_publishers",
    "allow_prereleases",
    "approved_only",
];
const WANTS_FIELDS: &[&str] = &["specs", "packages", "pins", "excludes"];
const TABLES: &[&str] = &["stack", "existing", "infrastructure", "policy", "wants", "trust"];

const STACK_RULES: Rules<Stack> = Rules {
    max_bytes: MAX_STACK_BYTES,
    validate,
    unknown_hint,
    other_hint,
};

const LOCK_RULES: Rules<Lockfile> = Rules {
    max_bytes: MAX_LOCKFILE_BYTES,
    validate: validate_lockfile,
    unknown_hint: |_, _| None,
    other_hint: lock_hint,
};

pub(crate) fn stack_from_toml(text: &str) -> Result<Stack, StackError> {
    document::from_toml(text, &STACK_RULES).map_err(StackError::from)
}

/// The format first, so that a newer govstore's lockfile is refused for its format
/// whatever else changed in it.
pub(crate) fn lockfile_from_toml(text: &str) -> Result<Lockfile, LockfileError> {
    if text.len() <= MAX_LOCKFILE_BYTES {
        LOCKFILE_FORMAT.check_toml(text)?;
    }
    document::from_toml(text, &LOCK_RULES).map_err(LockfileError::from)
}

/// Where a misplaced key belongs, or what to write instead of a key that does not exist.
fn unknown_hint(path: &FieldPath, given: &str) -> Option<String> {
    let table = match path.segments() {
        [] => None,
        [Segment::Key(k)] => Some(k.as_str()),
        _ => return None,
    };
    let home = if STACK_FIELDS.contains(&given) {
        Some("stack")
    } else if POLICY_FIELDS.contains(&given) {
        Some("policy")
    } else if WANTS_FIELDS.contains(&given) {
        Some("wants")
    } else {
        None
    };
    if let Some(home) = home.filter(|h| table != Some(*h)) {
        return Some(format!("`{given}` belongs in the `[{home}]` table"));
    }
    if table.is_some() && TABLES.contains(&given) {
        return Some(format!(
            "`{given}` is a top-level table; keys written after a `[table]` header belong to that table, \
             so start a `[{given}]` table instead"
        ));
    }
    match (table, given) {
        (None, "requires" | "dependencies") => {
            Some("a stack says what it needs in `[wants]` (`specs`, `packages`)".to_owned())
        }
        (Some("infrastructure"), _) => Some(format!(
            "platform components go under `[infrastructure.platform]`: `{given} = \"1.2.3\"`"
        )),
        _ => None,
    }
}

/// `[existing]` (one bracket) makes a table where a list of tables is expected.
fn other_hint(path: &FieldPath, message: &str) -> Option<String> {
    if !message.starts_with("invalid type: map, expected a sequence") {
        return None;
    }
    match path.segments() {
        [Segment::Key(k)] if k == "existing" => {
            Some("`existing` is a list: write `[[existing]]` with two brackets, once per system".to_owned())
        }
        _ => None,
    }
}

fn lock_hint(path: &FieldPath, message: &str) -> Option<String> {
    if !message.starts_with("invalid type: map, expected a sequence") {
        return None;
    }
    match path.segments() {
        [Segment::Key(k)] if k == "package" => {
            Some("`package` is a list: write `[[package]]` with two brackets".to_owned())
        }
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn hints() {
        let root = FieldPath::root();
        assert_eq!(
            unknown_hint(&root, "country").as_deref(),
            Some("`country` belongs in the `[stack]` table")
        );
        assert_eq!(
            unknown_hint(&root.key("wants"), "deny_licenses").as_deref(),
            Some("`deny_licenses` belongs in the `[policy]` table")
        );
        assert!(
            unknown_hint(&root.key("infrastructure"), "postgresql")
                .unwrap()
                .contains("[infrastructure.platform]")
        );
        assert_eq!(unknown_hint(&root.key("stack"), "colour"), None);
    }

    /// Every field the hints name is one the model accepts where the hints say.
    #[test]
    fn field_lists_are_the_models() {
        for (table, fields) in [
            ("stack", STACK_FIELDS),
            ("policy", POLICY_FIELDS),
            ("wants", WANTS_FIELDS),
        ] {
            for field in fields {
                let text = format!("[{table}]\n{field} = 0\n");
                let err = stack_from_toml(&text).unwrap_err().to_string();
                assert!(!err.contains("unknown field"), "{table}.{field}: {err}");
            }
        }
    }
}
