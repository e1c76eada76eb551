//! How errors are shown: `error: <message>`, optionally `  --> <file>:<line>:<column>`,
//! then `hint: <next step>` where there is one. Plain text, no colour, no trailing period.

use std::fmt;

use govstore_client::registry::ClientError;

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

/// An error made of one diagnostic.
pub fn fail(d: Diagnostic) -> anyhow::Error {
    Diagnostics::from(d).into()
}

/// A registry error, with the next step where there is one.
pub fn client_error(err: &ClientError, registry: &str) -> anyhow::Error {
    let d = Diagnostic::new(err.to_string());
    let d = match err {
        ClientError::Connect { .. } => d.hint("check the URL and that the registry is running, or pass --registry URL"),
        ClientError::Api { code, .. } => match code.as_str() {
            "UNAUTHORIZED" => d.hint(format!("run `govstore login --registry {registry}`")),
            "DENIED" => d.hint(
                "your role or your token's scopes do not allow this; see them with `govstore login`, or ask an owner of the namespace",
            ),
            _ => d,
        },
        _ => d,
    };
    fail(d)
}

/// Messages from elsewhere (the registry, libraries) may end with a period; ours do not.
fn trim_period(s: &str) -> &str {
    match s.strip_suffix('.') {
        Some(rest) if !rest.ends_with('.') => rest,
        _ => s,
    }
}

/// The text to print on stderr for `err`.
pub fn render(err: &anyhow::Error) -> String {
    let Some(Diagnostics(list)) = err.downcast_ref::<Diagnostics>() else {
        // An unexpected error: its message and its causes, on one line.
        return format!("error: {}\n", trim_period(&format!("{err:#}")));
    };
    let mut out = String::new();
    for d in list {
        out.push_str(&format!("error: {}\n", trim_period(&d.message)));
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
