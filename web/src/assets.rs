//! Static assets: the one stylesheet, embedded, served under a name that carries a hash
//! of its bytes (`app.<hash8>.css`), so it can be cached for a year and a new build
//! changes its URL. There is no script: every page works with HTML and CSS alone.

use std::sync::OnceLock;

use sha2::{Digest, Sha256};

const APP_CSS: &str = include_str!("../static/app.css");

/// An embedded asset.
#[derive(Debug, Clone)]
pub struct Asset {
    /// The hashed file name, such as `app.1a2b3c4d.css`.
    pub file: String,
    /// `/static/<file>`.
    pub url: String,
    pub content_type: &'static str,
    pub bytes: &'static [u8],
    /// A strong ETag (quoted sha256 of the bytes, first 16 bytes in hex).
    pub etag: String,
}

fn asset(stem: &str, ext: &str, content_type: &'static str, bytes: &'static [u8]) -> Asset {
    let hash = hex::encode(Sha256::digest(bytes));
    let file = format!("{stem}.{}.{ext}", &hash[..8]);
    Asset {
        url: format!("/static/{file}"),
        file,
        content_type,
        bytes,
        etag: format!("\"{}\"", &hash[..32]),
    }
}

/// The stylesheet.
pub fn css() -> &'static Asset {
    static CSS: OnceLock<Asset> = OnceLock::new();
    CSS.get_or_init(|| asset("app", "css", "text/css; charset=utf-8", APP_CSS.as_bytes()))
}

/// The asset served under `file` (a hashed name), if any.
pub fn find(file: &str) -> Option<&'static Asset> {
    [css()].into_iter().find(|a| a.file == file)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_the_hash() {
        let a = css();
        assert!(a.file.starts_with("app.") && a.file.ends_with(".css") && a.file.len() == "app.12345678.css".len());
        assert_eq!(a.url, format!("/static/{}", a.file));
        assert!(find(&a.file).is_some());
        assert!(find("app.css").is_none());
        assert!(find("../Cargo.toml").is_none());
    }

    /// The stylesheet keeps what WCAG 2.2 AA needs from it: a visible focus outline of at
    /// least 2px, a skip link shown on focus, no external fonts or imports.
    #[test]
    fn stylesheet_rules() {
        let css = APP_CSS;
        assert!(css.contains(":focus-visible"));
        let focus = &css[css.find(":focus-visible").unwrap()..];
        let rule = &focus[..focus.find('}').unwrap()];
        assert!(
            rule.contains("outline: 3px solid") || rule.contains("outline: 2px solid"),
            "{rule}"
        );
        assert!(css.contains(".skip-link:focus"));
        assert!(
            !css.contains("@import") && !css.contains("url("),
            "no external resources"
        );
        assert!(css.len() < 12 * 1024, "stylesheet is {} bytes", css.len());
    }
}
