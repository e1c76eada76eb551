//! govstore-web: the catalogue's pages as templates, its stylesheet, its translations and
//! the README renderer, all embedded in the binary (nothing under `web/` is read at run
//! time). No HTTP and no database: the server gathers the data, this crate turns it into
//! HTML.
//!
//! - [`Renderer`]: the minijinja environment, built once, with the layout context (asset
//!   URLs, language), the `t(key, **args)` translation function and the `num` filter
//!   (integers grouped the language's way, see [`format_int`]).
//! - [`Lang`]: the languages pages come in, and how a request chooses one.
//! - [`markdown`]: README Markdown to HTML, sanitised by construction.
//! - [`assets`]: the stylesheet with its content-hashed file name.
//! - [`i18n`]: the translation catalogues (`web/i18n/*.toml`).

pub mod assets;
pub mod i18n;
pub mod markdown;

use std::sync::Arc;

use minijinja::syntax::SyntaxConfig;
use minijinja::value::{Kwargs, Serde, Value};
use minijinja::{AutoEscape, Environment, Output, State, UndefinedBehavior, context};
use serde::Serialize;

pub use i18n::Catalogues;

/// What can go wrong building the renderer or rendering a page.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("template: {0:#}")]
    Template(#[from] minijinja::Error),
    #[error("translation catalogue {file}: {message}")]
    Catalogue { file: &'static str, message: String },
}

/// Every template, by name, embedded. A test checks that each file in `web/templates/`
/// is listed here.
pub const TEMPLATES: &[(&str, &str)] = &[
    ("layout.html", include_str!("../templates/layout.html")),
    ("claims.html", include_str!("../templates/claims.html")),
    ("home.html", include_str!("../templates/home.html")),
    ("search.html", include_str!("../templates/search.html")),
    ("package.html", include_str!("../templates/package.html")),
    ("listing.html", include_str!("../templates/listing.html")),
    ("spec.html", include_str!("../templates/spec.html")),
    ("publisher.html", include_str!("../templates/publisher.html")),
    ("compare.html", include_str!("../templates/compare.html")),
    ("error.html", include_str!("../templates/error.html")),
    ("stack_check.html", include_str!("../templates/stack_check.html")),
    ("signin.html", include_str!("../templates/signin.html")),
    ("country.html", include_str!("../templates/country.html")),
    ("workspace.html", include_str!("../templates/workspace.html")),
    ("proposal.html", include_str!("../templates/proposal.html")),
    ("bundle.html", include_str!("../templates/bundle.html")),
    ("bundle_diff.html", include_str!("../templates/bundle_diff.html")),
    (
        "approvals_badge.html",
        include_str!("../templates/approvals_badge.html"),
    ),
];

/// A language pages are rendered in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    #[default]
    En,
    Fr,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Fr];

    /// The BCP 47 tag, as in `<html lang>` and the `lang` cookie.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
        }
    }

    /// `en` or `fr` (any case, surrounding spaces ignored); anything else is `None`.
    pub fn parse(s: &str) -> Option<Lang> {
        let s = s.trim();
        Lang::ALL.into_iter().find(|l| l.code().eq_ignore_ascii_case(s))
    }

    /// The language of a request: the `lang` query parameter, else the `lang` cookie,
    /// else the best supported language of `Accept-Language`, else English.
    pub fn negotiate(query_lang: Option<&str>, cookie: Option<&str>, accept_language: Option<&str>) -> Lang {
        query_lang
            .and_then(Lang::parse)
            .or_else(|| cookie.and_then(Lang::parse))
            .or_else(|| accept_language.and_then(Lang::from_accept_language))
            .unwrap_or_default()
    }

    /// The supported language with the highest weight in an `Accept-Language` header
    /// (`fr-CH, fr;q=0.9, en;q=0.8`); the first listed wins a tie. At most 32 entries
    /// are read.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut best: Option<(Lang, f32)> = None;
        for item in header.split(',').take(32) {
            let mut parts = item.split(';');
            let tag = parts.next().unwrap_or("").trim();
            let primary = tag.split('-').next().unwrap_or("");
            let mut q = 1.0_f32;
            for p in parts {
                if let Some(v) = p.trim().strip_prefix("q=") {
                    q = v.trim().parse().unwrap_or(0.0);
                }
            }
            let Some(lang) = Lang::parse(primary) else { continue };
            if q > 0.0 && best.is_none_or(|(_, b)| q > b) {
                best = Some((lang, q));
            }
        }
        best.map(|(l, _)| l)
    }
}

/// The page renderer: templates compiled once, plus the translation catalogues.
#[derive(Debug)]
pub struct Renderer {
    env: Environment<'static>,
}

impl Renderer {
    /// Compile every template and load the catalogues. Fails on a template syntax error or
    /// a malformed catalogue (tests catch both).
    pub fn new() -> Result<Self, WebError> {
        let catalogues = Arc::new(Catalogues::embedded()?);
        let mut env = Environment::new();
        env.set_syntax(SyntaxConfig::builder().trim_blocks(true).lstrip_blocks(true).build()?);
        env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
        env.set_formatter(format_value);
        for (name, source) in TEMPLATES {
            env.add_template(name, source)?;
        }
        let cats = Arc::clone(&catalogues);
        env.add_function(
            "t",
            move |state: &State, key: &str, kwargs: Kwargs| -> Result<String, minijinja::Error> {
                translate(&cats, lang_of(state), key, &kwargs)
            },
        );
        env.add_filter(
            "num",
            |state: &State, value: Value| -> Result<String, minijinja::Error> {
                let n = i128::try_from(value.clone())
                    .ok()
                    .filter(|_| value.is_integer())
                    .ok_or_else(|| {
                        minijinja::Error::new(
                            minijinja::ErrorKind::InvalidOperation,
                            format!("`num` formats integers, not {}", value.kind()),
                        )
                    })?;
                Ok(format_int(lang_of(state), n))
            },
        );
        env.add_function("csrf_field", csrf_field);
        env.add_global("css_url", assets::css().url.clone());
        Ok(Self { env })
    }

    /// Render `template` in `lang` with the page's context `ctx` (any serializable value;
    /// its keys override nothing the layout needs: `lang`, `lang_href`, `css_url`). The
    /// footer's language links are the bare `?lang=<code>`; see [`Renderer::render_at`].
    pub fn render(&self, template: &str, lang: Lang, ctx: impl Serialize) -> Result<String, WebError> {
        self.render_at(template, lang, "", ctx)
    }

    /// [`Renderer::render`] for the page at `here`: its path and query, percent-encoded,
    /// without a `lang` parameter (the server builds it). The footer's language links go
    /// to `here` with `lang=<code>` added, so switching language keeps the page, its
    /// search words, filters and chosen version.
    pub fn render_at(&self, template: &str, lang: Lang, here: &str, ctx: impl Serialize) -> Result<String, WebError> {
        let tmpl = self.env.get_template(template)?;
        let sep = if here.contains('?') { '&' } else { '?' };
        let lang_href: std::collections::BTreeMap<&str, String> = Lang::ALL
            .into_iter()
            .map(|l| (l.code(), format!("{here}{sep}lang={}", l.code())))
            .collect();
        let ctx = context! { lang => lang.code(), lang_href, ..Value::from(Serde(&ctx)) };
        Ok(tmpl.render(ctx)?)
    }
}

/// `csrf_field()`: the hidden `csrf` input every form of a signed-in user carries, with
/// the session's secret (`viewer.csrf`, letters and digits only); nothing for an
/// anonymous visitor, whose forms change nothing.
fn csrf_field(state: &State) -> Value {
    let secret = state
        .lookup("viewer")
        .and_then(|v| v.get_attr("csrf").ok())
        .and_then(|v| v.as_str().map(str::to_owned))
        .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric()));
    match secret {
        Some(s) => Value::from_safe_string(format!("<input type=\"hidden\" name=\"csrf\" value=\"{s}\">")),
        None => Value::from_safe_string(String::new()),
    }
}

/// The language of the page being rendered (its `lang` variable), English if unset.
fn lang_of(state: &State) -> Lang {
    state
        .lookup("lang")
        .and_then(|v| v.as_str().and_then(Lang::parse))
        .unwrap_or_default()
}

/// An integer as `lang` writes it, digits grouped by three: `1,234,567` in English,
/// `1 234 567` in French (a narrow no-break space, U+202F, so a number never breaks
/// across lines). The templates' `num` filter, and how `t` fills an integer argument.
pub fn format_int(lang: Lang, n: i128) -> String {
    let sep = match lang {
        Lang::En => ",",
        Lang::Fr => "\u{202F}",
    };
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 * sep.len() + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push_str(sep);
        }
        out.push(d);
    }
    out
}

/// How values print: `none` as nothing, and in HTML only `& < > " '` escaped (the
/// default also escapes `/`, which only bloats URLs).
fn format_value(out: &mut Output, state: &mut State, value: &Value) -> Result<(), minijinja::Error> {
    if !matches!(state.auto_escape(), AutoEscape::Html) || value.is_safe() || value.is_undefined() {
        return minijinja::escape_formatter(out, state, value);
    }
    if value.is_none() {
        return Ok(());
    }
    let text = value.to_string();
    let mut last = 0;
    for (i, b) in text.bytes().enumerate() {
        let rep = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#39;",
            _ => continue,
        };
        out.write_str(&text[last..i])?;
        out.write_str(rep)?;
        last = i + 1;
    }
    out.write_str(&text[last..])?;
    Ok(())
}

/// Look `key` up in `lang` (English if missing) and fill its `{name}` placeholders from
/// `kwargs` (integers formatted by [`format_int`]). With a `count` argument, `key.one` or
/// `key.other` is chosen by the language's plural rule when `key` itself is not a text.
fn translate(cats: &Catalogues, lang: Lang, key: &str, kwargs: &Kwargs) -> Result<String, minijinja::Error> {
    let count: Option<i64> = kwargs.get::<Option<i64>>("count")?;
    let text = cats
        .text(lang, key)
        .or_else(|| count.and_then(|n| cats.text(lang, &format!("{key}.{}", i18n::plural(lang, n)))))
        .ok_or_else(|| {
            minijinja::Error::new(
                minijinja::ErrorKind::InvalidOperation,
                format!("no translation key `{key}`"),
            )
        })?;
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            out.push_str(&rest[open..]);
            rest = "";
            break;
        };
        let name = &after[..close];
        let value: Value = kwargs.get(name)?;
        match i128::try_from(value.clone()) {
            Ok(n) if value.is_integer() => out.push_str(&format_int(lang, n)),
            _ => out.push_str(&value.to_string()),
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    kwargs.assert_all_used()?;
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn negotiation_order_is_query_cookie_header_default() {
        assert_eq!(Lang::negotiate(Some("fr"), Some("en"), Some("en")), Lang::Fr);
        assert_eq!(Lang::negotiate(Some("xx"), Some("fr"), Some("en")), Lang::Fr);
        assert_eq!(Lang::negotiate(None, Some("EN"), Some("fr")), Lang::En);
        assert_eq!(Lang::negotiate(None, None, Some("fr-CH, fr;q=0.9, en;q=0.8")), Lang::Fr);
        assert_eq!(Lang::negotiate(None, None, Some("de-DE, en;q=0.5, fr;q=0.7")), Lang::Fr);
        assert_eq!(Lang::negotiate(None, None, Some("en-GB,en;q=0.9,fr;q=0.8")), Lang::En);
        assert_eq!(Lang::negotiate(None, None, Some("fr;q=0, de")), Lang::En);
        assert_eq!(Lang::negotiate(None, None, Some("*")), Lang::En);
        assert_eq!(Lang::negotiate(None, None, None), Lang::En);
    }

    #[test]
    fn every_template_compiles_and_every_file_is_embedded() {
        Renderer::new().unwrap();
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/templates");
        let embedded: Vec<&str> = TEMPLATES.iter().map(|(n, _)| *n).collect();
        for entry in std::fs::read_dir(dir).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            assert!(embedded.contains(&name.as_str()), "{name} is not in TEMPLATES");
        }
    }

    #[test]
    fn translations_fill_placeholders_and_pick_plurals() {
        let r = Renderer::new().unwrap();
        let mut env = r.env.clone();
        env.add_template("x.html", "{{ t('search.count', count=n) }}|{{ t('layout.skip') }}")
            .unwrap();
        let out = |lang: &str, n: i64| {
            env.get_template("x.html")
                .unwrap()
                .render(context! { lang, n })
                .unwrap()
        };
        assert_eq!(out("en", 1), "1 result|Skip to content");
        assert_eq!(out("en", 12), "12 results|Skip to content");
        assert_eq!(out("fr", 0), "0 résultat|Aller au contenu");
        assert_eq!(out("fr", 3), "3 résultats|Aller au contenu");
    }

    #[test]
    fn integers_are_grouped_the_language_s_way() {
        let cases: [(i128, &str, &str); 7] = [
            (0, "0", "0"),
            (999, "999", "999"),
            (1000, "1,000", "1\u{202F}000"),
            (12_345, "12,345", "12\u{202F}345"),
            (1_234_567, "1,234,567", "1\u{202F}234\u{202F}567"),
            (-1_234, "-1,234", "-1\u{202F}234"),
            (
                u64::MAX.into(),
                "18,446,744,073,709,551,615",
                "18\u{202F}446\u{202F}744\u{202F}073\u{202F}709\u{202F}551\u{202F}615",
            ),
        ];
        for (n, en, fr) in cases {
            assert_eq!(format_int(Lang::En, n), en);
            assert_eq!(format_int(Lang::Fr, n), fr);
        }
    }

    /// The `num` filter formats in the page's language; `t` formats integer arguments
    /// the same way and still picks the plural from the number.
    #[test]
    fn num_filter_and_translations_group_digits() {
        let r = Renderer::new().unwrap();
        let mut env = r.env.clone();
        env.add_template("n.html", "{{ n | num }}|{{ t('search.count', count=n) }}")
            .unwrap();
        env.add_template("bad.html", "{{ s | num }}").unwrap();
        let out = |lang: &str, n: u64| {
            env.get_template("n.html")
                .unwrap()
                .render(context! { lang, n })
                .unwrap()
        };
        assert_eq!(out("en", 0), "0|0 results");
        assert_eq!(out("en", 999), "999|999 results");
        assert_eq!(out("en", 1000), "1,000|1,000 results");
        assert_eq!(out("en", 1_234_567), "1,234,567|1,234,567 results");
        assert_eq!(out("fr", 0), "0|0 résultat");
        assert_eq!(out("fr", 999), "999|999 résultats");
        assert_eq!(out("fr", 1000), "1\u{202F}000|1\u{202F}000 résultats");
        assert_eq!(
            out("fr", 1_234_567),
            "1\u{202F}234\u{202F}567|1\u{202F}234\u{202F}567 résultats"
        );
        // Without a language, English; a non-integer is a template error.
        let bare = env
            .get_template("n.html")
            .unwrap()
            .render(context! { n => 1234 })
            .unwrap();
        assert_eq!(bare, "1,234|1,234 results");
        for s in [Value::from("12"), Value::from(1.5), Value::from(())] {
            assert!(env.get_template("bad.html").unwrap().render(context! { s }).is_err());
        }
    }

    /// Included templates translate in the page's language too.
    #[test]
    fn includes_see_the_language() {
        let r = Renderer::new().unwrap();
        let mut env = r.env.clone();
        env.add_template("x.html", "{% for c in items %}{% include 'claims.html' %}{% endfor %}")
            .unwrap();
        let c = serde_json::json!({ "deployment": { "level": "level-1", "evidence": null, "evidence_url": null },
            "interface": null, "requirements": null });
        let out = env
            .get_template("x.html")
            .unwrap()
            .render(context! { lang => "fr", items => Value::from(Serde(vec![c])) })
            .unwrap();
        assert!(
            out.contains("Conformité du déploiement") && out.contains("Niveau 1"),
            "{out}"
        );
    }

    #[test]
    fn unknown_keys_and_unused_arguments_fail() {
        let r = Renderer::new().unwrap();
        let mut env = r.env.clone();
        env.add_template("a.html", "{{ t('no.such.key') }}").unwrap();
        env.add_template("b.html", "{{ t('layout.skip', extra=1) }}").unwrap();
        assert!(env.get_template("a.html").unwrap().render(context! {}).is_err());
        assert!(env.get_template("b.html").unwrap().render(context! {}).is_err());
    }

    #[test]
    fn language_links_go_to_the_same_page() {
        let r = Renderer::new().unwrap();
        let ctx = serde_json::json!({ "status": 404, "kind": "page" });
        let at = r
            .render_at("error.html", Lang::Fr, "/search?q=mosip&kind=package", &ctx)
            .unwrap();
        assert!(
            at.contains(
                "<a href=\"/search?q=mosip&amp;kind=package&amp;lang=en\" hreflang=\"en\" lang=\"en\">English</a>"
            ),
            "{at}"
        );
        assert!(
            at.contains("<a href=\"/search?q=mosip&amp;kind=package&amp;lang=fr\" hreflang=\"fr\" lang=\"fr\" aria-current=\"true\">Français</a>"),
            "{at}"
        );
        let home = r.render_at("error.html", Lang::En, "/", &ctx).unwrap();
        assert!(home.contains("href=\"/?lang=fr\""), "{home}");
        let bare = r.render("error.html", Lang::En, &ctx).unwrap();
        assert!(bare.contains("href=\"?lang=fr\""), "{bare}");
    }

    #[test]
    fn context_values_are_escaped() {
        let r = Renderer::new().unwrap();
        let html = r
            .render(
                "error.html",
                Lang::En,
                serde_json::json!({ "status": 400, "kind": "message", "message": "<b>bold</b>", "back": "/" }),
            )
            .unwrap();
        assert!(html.contains("&lt;b&gt;bold&lt;/b&gt;"), "{html}");
        assert!(!html.contains("<b>bold"));
        assert!(html.starts_with("<!doctype html>"));
        assert!(html.contains("<html lang=\"en\">"));
    }
}
