//! Canonical JSON: the one byte sequence a manifest serializes to, so that the same
//! manifest always has the same digest.
//!
//! Rules: UTF-8; object members sorted by key, by byte order (for the ASCII keys a
//! manifest has, the same order as RFC 8785); no whitespace between tokens; no `null`
//! members (the model also leaves out empty lists, maps and tables); strings escaped as
//! RFC 8785 says (only `"`, `\` and control characters); integers only.
//!
//! The key order is imposed here rather than left to `serde_json::Map`, whose order
//! depends on a Cargo feature (`preserve_order`) that any crate in a build can turn on.

use serde_json::Value;

/// Writes `value` canonically into `out`.
pub(crate) fn write(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut members: Vec<(&String, &Value)> = map.iter().filter(|(_, v)| !v.is_null()).collect();
            members.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push('{');
            for (i, (key, item)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(key, out);
                out.push(':');
                write(item, out);
            }
            out.push('}');
        }
    }
}

/// Escapes as RFC 8785 (and `JSON.stringify`) do: `"` and `\\` with a backslash,
/// `\b \f \n \r \t` by name, other control characters below U+0020 as `\u00xx`
/// in lowercase hex, and everything else as is.
fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c < '\u{20}' => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn canonical(json: &str) -> String {
        let value: Value = serde_json::from_str(json).unwrap();
        let mut out = String::new();
        write(&value, &mut out);
        out
    }

    #[test]
    fn sorts_keys_drops_nulls_and_whitespace() {
        assert_eq!(
            canonical(r#"{ "b": 1, "a": { "z": [1, 2, {"y": null, "x": "é\n\"\u0001"}], "Z": true }, "n": null }"#),
            r#"{"a":{"Z":true,"z":[1,2,{"x":"é\n\"\u0001"}]},"b":1}"#
        );
    }
}
