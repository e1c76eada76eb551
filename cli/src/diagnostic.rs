//! How errors are shown: `error: <message>`, optionally `  --> <file>:<line>:<column>`,
//! then `hint: <next step>` where there is one. Plain text, no colour, no trailing period.

use std::fmt;

/// One problem to show the user.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub message: String,
    /// `file:line:column`.
    pub location: Option<String>,
    pub hint: Option<String>,
}

impl Diagnostic {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            location: None,
            hint: None,
        }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

/// An error made of diagnostics, carried through `anyhow` and rendered by `main`.
#[derive(Debug)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            f.write_str(&d.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Self(vec![d])
    }
}

/// The text to print on stderr for `err`.
pub fn render(err: &anyhow::Error) -> String {
    let Some(Diagnostics(list)) = err.downcast_ref::<Diagnostics>() else {
        // An unexpected error: its message and its causes, on one line.
        return format!("error: {err:#}\n");
    };
    let mut out = String::new();
    for d in list {
        out.push_str(&format!("error: {}\n", d.message));
        if let Some(location) = &d.location {
            out.push_str(&format!("  --> {location}\n"));
        }
        if let Some(hint) = &d.hint {
            out.push_str(&format!("hint: {hint}\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_each_diagnostic_with_location_and_hint() {
        let err = anyhow::Error::new(Diagnostics(vec![
            Diagnostic {
                message: "a: broken".into(),
                location: Some("x.toml:1:2".into()),
                hint: Some("fix it".into()),
            },
            Diagnostic::new("b: also broken"),
        ]));
        assert_eq!(
            render(&err),
            "error: a: broken\n  --> x.toml:1:2\nhint: fix it\nerror: b: also broken\n"
        );
        let plain = anyhow::anyhow!("inner").context("outer");
        assert_eq!(render(&plain), "error: outer: inner\n");
    }
}
