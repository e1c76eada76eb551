//! README Markdown to HTML, sanitised by construction rather than by cleaning HTML
//! afterwards: the parser's events are rewritten before the HTML writer sees them.
//!
//! - Raw HTML (blocks and inline) becomes text, so it is shown escaped, never run.
//! - Links keep their destination only if it is `http:`, `https:`, `mailto:` or a relative
//!   path; any other (`javascript:`, `data:`, `vbscript:`, protocol-relative `//host`) is
//!   dropped and the link's text stays as plain text.
//! - Images are never loaded: an image with an allowed URL becomes a link to it (its alt
//!   text as the link text), otherwise just its alt text.
//! - Headings move down so that the README's top level (its smallest heading level,
//!   whatever it is) becomes `<h3>` and deeper levels follow it, capped at `<h6>`: the
//!   README sits in a section under the page's `<h2>`, the page keeps its one `<h1>`, and
//!   no level is skipped. Heading ids and classes are dropped.
//! - A link or converted image with no text gets its URL as text (no empty links).
//! - At most [`MAX_INPUT_BYTES`] of input are rendered; the rest is cut and reported.

use pulldown_cmark::{CodeBlockKind, CowStr, Event, HeadingLevel, LinkType, Options, Parser, Tag, TagEnd};

/// The most README bytes rendered (256 KiB).
pub const MAX_INPUT_BYTES: usize = 256 * 1024;

/// Rendered HTML, and whether the input was cut at [`MAX_INPUT_BYTES`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub html: String,
    pub truncated: bool,
}

/// Whether a link destination may be kept: `http`, `https`, `mailto`, or a relative
/// reference that cannot reach another host.
pub fn allowed_url(url: &str) -> bool {
    let u = url.trim();
    if u.is_empty() || u.chars().any(|c| c.is_control() || c.is_whitespace() || c == '\\') || u.starts_with("//") {
        return false;
    }
    match u.find([':', '/', '?', '#']) {
        Some(i) if u.as_bytes()[i] == b':' => {
            let scheme = u[..i].to_ascii_lowercase();
            matches!(scheme.as_str(), "http" | "https" | "mailto")
        }
        _ => true,
    }
}

/// The level of the README's top headings (`top`, 1 to 6) on the page.
const TOP_LEVEL: usize = 3;

/// `level` moved so that the README's top level `top` becomes [`TOP_LEVEL`], at most `<h6>`.
fn shift(level: HeadingLevel, top: usize) -> HeadingLevel {
    let n = (level as usize).saturating_sub(top) + TOP_LEVEL;
    match n {
        ..=3 => HeadingLevel::H3,
        4 => HeadingLevel::H4,
        5 => HeadingLevel::H5,
        _ => HeadingLevel::H6,
    }
}

/// An open link or image: whether it is rendered as a link, where its events start in the
/// output, and its destination (the text of an empty link).
struct Open<'a> {
    kept: bool,
    start: usize,
    dest: CowStr<'a>,
}

fn has_text(events: &[Event<'_>]) -> bool {
    events.iter().any(|e| match e {
        Event::Text(t) | Event::Code(t) => !t.trim().is_empty(),
        _ => false,
    })
}

/// Render `input` as sanitised HTML.
pub fn render(input: &str) -> Rendered {
    let mut cut = input.len().min(MAX_INPUT_BYTES);
    while !input.is_char_boundary(cut) {
        cut -= 1;
    }
    let truncated = cut < input.len();
    let text = &input[..cut];
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let mut out: Vec<Event<'_>> = Vec::new();
    let mut open: Vec<Open<'_>> = Vec::new();
    let events: Vec<Event<'_>> = Parser::new_ext(text, options).collect();
    let top = events
        .iter()
        .filter_map(|e| match e {
            Event::Start(Tag::Heading { level, .. }) => Some(*level as usize),
            _ => None,
        })
        .min()
        .unwrap_or(1);
    for event in events {
        match event {
            Event::Html(s) | Event::InlineHtml(s) => out.push(Event::Text(s)),
            Event::Start(Tag::HtmlBlock) => out.push(Event::Start(Tag::CodeBlock(CodeBlockKind::Indented))),
            Event::End(TagEnd::HtmlBlock) => out.push(Event::End(TagEnd::CodeBlock)),
            Event::Start(Tag::Heading { level, .. }) => out.push(Event::Start(Tag::Heading {
                level: shift(level, top),
                id: None,
                classes: Vec::new(),
                attrs: Vec::new(),
            })),
            Event::End(TagEnd::Heading(level)) => out.push(Event::End(TagEnd::Heading(shift(level, top)))),
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                // Links do not nest in CommonMark; an image inside a link is only text.
                let kept = open.is_empty() && allowed_url(&dest_url);
                if kept {
                    out.push(Event::Start(Tag::Link {
                        link_type,
                        dest_url: dest_url.clone(),
                        title,
                        id,
                    }));
                }
                open.push(Open {
                    kept,
                    start: out.len(),
                    dest: dest_url,
                });
            }
            Event::Start(Tag::Image { dest_url, title, .. }) => {
                let kept = open.is_empty() && allowed_url(&dest_url);
                if kept {
                    out.push(Event::Start(Tag::Link {
                        link_type: LinkType::Inline,
                        dest_url: dest_url.clone(),
                        title,
                        id: CowStr::Borrowed(""),
                    }));
                }
                open.push(Open {
                    kept,
                    start: out.len(),
                    dest: dest_url,
                });
            }
            Event::End(TagEnd::Link | TagEnd::Image) => {
                if let Some(o) = open.pop()
                    && o.kept
                {
                    if !has_text(&out[o.start..]) {
                        out.push(Event::Text(o.dest));
                    }
                    out.push(Event::End(TagEnd::Link));
                }
            }
            other => out.push(other),
        }
    }
    let mut html = String::with_capacity(text.len() + text.len() / 4);
    pulldown_cmark::html::push_html(&mut html, out.into_iter());
    Rendered { html, truncated }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn html(md: &str) -> String {
        render(md).html
    }

    #[test]
    fn raw_html_is_shown_as_text() {
        let out = html("<script>alert(1)</script>\n\nHello <img src=x onerror=alert(1)> world <b>bold</b>\n");
        assert!(!out.contains("<script"), "{out}");
        assert!(!out.contains("<img"), "{out}");
        assert!(!out.contains("<b>"), "{out}");
        assert!(out.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{out}");
        assert!(out.contains("&lt;img src=x onerror=alert(1)&gt;"), "{out}");
    }

    #[test]
    fn dangerous_link_schemes_are_dropped_keeping_the_text() {
        for md in [
            "[click](javascript:alert(1))",
            "[click](JavaScript:alert(1))",
            "[click](jav&#x61;script:alert(1))",
            "[click](<java\tscript:alert(1)>)",
            "[click](data:text/html;base64,PHNjcmlwdD4=)",
            "[click](vbscript:msgbox)",
            "[click](//evil.example/x)",
            "[click](/\\evil.example)",
            "[click][r]\n\n[r]: javascript:alert(1)",
        ] {
            let out = html(md);
            assert!(!out.contains("<a"), "{md} -> {out}");
            assert!(out.contains("click"), "{md} -> {out}");
            assert!(!out.to_lowercase().contains("javascript:"), "{md} -> {out}");
        }
        let out = html("<javascript:alert(1)>");
        assert!(!out.contains("<a"), "{out}");
    }

    #[test]
    fn safe_links_are_kept() {
        assert_eq!(
            html("[site](https://mosip.io/a?b=1&c=2)"),
            "<p><a href=\"https://mosip.io/a?b=1&amp;c=2\">site</a></p>\n"
        );
        assert!(html("[mail](mailto:a@example.org)").contains("href=\"mailto:a@example.org\""));
        assert!(html("[values](deploy/values.yaml)").contains("href=\"deploy/values.yaml\""));
        assert!(html("[top](#install)").contains("href=\"#install\""));
        assert!(
            html("<https://x-road.global>").contains("<a href=\"https://x-road.global\">https://x-road.global</a>")
        );
    }

    #[test]
    fn images_are_links_or_text_never_loaded() {
        let out = html("![Architecture](https://example.org/arch.png)");
        assert_eq!(
            out,
            "<p><a href=\"https://example.org/arch.png\">Architecture</a></p>\n"
        );
        let out = html("![x](data:image/svg+xml;base64,PHN2Zz4=)");
        assert!(
            !out.contains("<img") && !out.contains("<a") && out.contains('x'),
            "{out}"
        );
        let out = html("![](https://example.org/a.png)");
        assert!(out.contains(">https://example.org/a.png</a>"), "{out}");
        let out = html("[![badge](https://ci.example/badge.svg)](https://ci.example)");
        assert_eq!(out, "<p><a href=\"https://ci.example\">badge</a></p>\n");
        assert!(!html("![a](\"onerror=\"alert(1))").contains("<img"));
    }

    #[test]
    fn empty_links_get_their_url_as_text() {
        assert_eq!(
            html("[](https://example.org)"),
            "<p><a href=\"https://example.org\">https://example.org</a></p>\n"
        );
    }

    #[test]
    fn the_top_heading_level_becomes_h3_whatever_it_is() {
        let out = html("## Install\n\n### Helm\n\n## Use\n");
        assert!(out.contains("<h3>Install</h3>"), "{out}");
        assert!(out.contains("<h4>Helm</h4>"), "{out}");
        assert!(out.contains("<h3>Use</h3>"), "{out}");
        assert!(!out.contains("<h5"), "{out}");
        let out = html("#### Only\n\n###### Deeper\n");
        assert!(
            out.contains("<h3>Only</h3>") && out.contains("<h5>Deeper</h5>"),
            "{out}"
        );
        assert!(html("# A\n\n###### B\n").contains("<h6>B</h6>"));
    }

    #[test]
    fn headings_move_down_two_levels() {
        let out = html("# Title\n\n## Part\n\n###### Deep {#id .cls}\n");
        assert!(out.contains("<h3>Title</h3>"), "{out}");
        assert!(out.contains("<h4>Part</h4>"), "{out}");
        assert!(out.contains("<h6>"), "{out}");
        assert!(!out.contains("<h1") && !out.contains("<h2"), "{out}");
        assert!(!out.contains("id="), "{out}");
    }

    #[test]
    fn attribute_injection_is_escaped() {
        let out = html("[x](https://a.example/\"onmouseover=\"alert(1))");
        assert!(!out.contains("\"onmouseover"), "{out}");
        let out = html("[x](https://a.example \"title\\\" onclick=\\\"alert(1)\")");
        assert!(!out.contains("\" onclick"), "{out}");
    }

    #[test]
    fn html_blocks_become_code() {
        let out = html("<div onclick=\"x()\">\n<iframe src=\"https://evil.example\"></iframe>\n</div>\n");
        assert!(out.starts_with("<pre><code>"), "{out}");
        assert!(!out.contains("<iframe") && !out.contains("<div"), "{out}");
    }

    #[test]
    fn input_is_cut_at_the_limit() {
        let big = "é".repeat(MAX_INPUT_BYTES);
        let r = render(&big);
        assert!(r.truncated);
        assert!(r.html.len() < MAX_INPUT_BYTES + 100);
        let small = render("hello");
        assert!(!small.truncated);
    }

    #[test]
    fn tables_and_code_render() {
        let out = html("| a | b |\n|---|---|\n| 1 | 2 |\n\n```toml\n[package]\n```\n");
        assert!(out.contains("<table>") && out.contains("<td>1</td>"), "{out}");
        assert!(out.contains("<code class=\"language-toml\">[package]"), "{out}");
    }
}
