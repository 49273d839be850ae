//! The live preview: Markdown rendered to sanitised HTML.
//!
//! The browser injects this string as HTML, so it is built only from the
//! tags this module writes itself. Text is always escaped, raw HTML in the
//! source is already literal text in the block model, link URLs pass
//! [`safe_url`] or are dropped, and images are never fetched: they become a
//! link (or just their alt text), so nothing loads from the network. The
//! output is deterministic: the same Markdown gives the same bytes.

use super::markdown::{Alignment, Block, Inline, List, Table, parse};

/// Renders Markdown to sanitised HTML.
pub fn render_html(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len() * 2);
    blocks_html(&parse(markdown), &mut out);
    out
}

/// Renders already parsed blocks to sanitised HTML.
pub fn blocks_html(blocks: &[Block], out: &mut String) {
    for block in blocks {
        block_html(block, out);
    }
}

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape_html(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // NUL and other C0 controls (but tab and newline) have no place
            // in a preview.
            c if c.is_control() && c != '\n' && c != '\t' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
}

/// Whether a link target may be followed: `http`, `https` and `mailto`
/// URLs, and relative references (`#section`, `/path`, `page.md`).
/// Anything else with a scheme — `javascript:`, `data:`, `vbscript:`,
/// `file:` — is refused. Browsers ignore tabs, newlines and leading
/// whitespace or control characters in a scheme, so they are removed before
/// looking at it.
pub fn safe_url(url: &str) -> bool {
    let cleaned: String = url
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .collect();
    let scheme_end = cleaned.find([':', '/', '?', '#']);
    match scheme_end {
        Some(i) if cleaned[i..].starts_with(':') => {
            let scheme = cleaned[..i].to_ascii_lowercase();
            matches!(scheme.as_str(), "http" | "https" | "mailto")
        }
        // No scheme: a relative reference, resolved against the page.
        _ => true,
    }
}

fn block_html(block: &Block, out: &mut String) {
    match block {
        Block::Heading { level, content } => {
            let level = (*level).clamp(1, 6);
            out.push_str(&format!("<h{level}>"));
            inlines_html(content, out);
            out.push_str(&format!("</h{level}>\n"));
        }
        Block::Paragraph(content) => {
            out.push_str("<p>");
            inlines_html(content, out);
            out.push_str("</p>\n");
        }
        Block::List(list) => list_html(list, out),
        Block::Table(table) => table_html(table, out),
        Block::CodeBlock { language, code } => {
            out.push_str("<pre><code");
            if let Some(lang) = language {
                out.push_str(" class=\"language-");
                escape_html(lang, out);
                out.push('"');
            }
            out.push('>');
            escape_html(code, out);
            out.push_str("</code></pre>\n");
        }
        Block::BlockQuote(blocks) => {
            out.push_str("<blockquote>\n");
            blocks_html(blocks, out);
            out.push_str("</blockquote>\n");
        }
        Block::Rule => out.push_str("<hr>\n"),
    }
}

fn list_html(list: &List, out: &mut String) {
    match list.start {
        Some(1) => out.push_str("<ol>\n"),
        Some(n) => out.push_str(&format!("<ol start=\"{n}\">\n")),
        None => out.push_str("<ul>\n"),
    }
    for item in &list.items {
        out.push_str("<li>");
        if let Some(done) = item.checked {
            out.push_str(if done {
                "<input type=\"checkbox\" checked disabled> "
            } else {
                "<input type=\"checkbox\" disabled> "
            });
        }
        // A single paragraph is shown inline, as in a tight list.
        match item.blocks.as_slice() {
            [Block::Paragraph(content)] => inlines_html(content, out),
            [Block::Paragraph(content), rest @ ..] => {
                inlines_html(content, out);
                out.push('\n');
                blocks_html(rest, out);
            }
            blocks => blocks_html(blocks, out),
        }
        out.push_str("</li>\n");
    }
    out.push_str(if list.start.is_some() {
        "</ol>\n"
    } else {
        "</ul>\n"
    });
}

fn table_html(table: &Table, out: &mut String) {
    let columns = table.columns();
    let cell = |tag: &str, column: usize, content: Option<&Vec<Inline>>, out: &mut String| {
        out.push('<');
        out.push_str(tag);
        match table
            .alignments
            .get(column)
            .copied()
            .unwrap_or(Alignment::None)
        {
            Alignment::None => {}
            Alignment::Left => out.push_str(" class=\"align-left\""),
            Alignment::Center => out.push_str(" class=\"align-center\""),
            Alignment::Right => out.push_str(" class=\"align-right\""),
        }
        out.push('>');
        if let Some(content) = content {
            inlines_html(content, out);
        }
        out.push_str("</");
        out.push_str(tag);
        out.push('>');
    };
    out.push_str("<table>\n<thead>\n<tr>");
    for column in 0..columns {
        cell("th", column, table.header.get(column), out);
    }
    out.push_str("</tr>\n</thead>\n");
    if !table.rows.is_empty() {
        out.push_str("<tbody>\n");
        for row in &table.rows {
            out.push_str("<tr>");
            for column in 0..columns {
                cell("td", column, row.get(column), out);
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</tbody>\n");
    }
    out.push_str("</table>\n");
}

fn inlines_html(inlines: &[Inline], out: &mut String) {
    for inline in inlines {
        match inline {
            Inline::Text(t) => escape_html(t, out),
            Inline::Strong(c) => wrap("strong", c, out),
            Inline::Emphasis(c) => wrap("em", c, out),
            Inline::Strikethrough(c) => wrap("del", c, out),
            Inline::Code(t) => {
                out.push_str("<code>");
                escape_html(t, out);
                out.push_str("</code>");
            }
            Inline::Link { url, content } => {
                if safe_url(url) {
                    out.push_str("<a href=\"");
                    escape_html(url, out);
                    out.push_str("\" rel=\"noopener noreferrer nofollow\">");
                    inlines_html(content, out);
                    out.push_str("</a>");
                } else {
                    // The text stays; the link does not.
                    inlines_html(content, out);
                }
            }
            Inline::Image { url, alt } => {
                let label = if alt.is_empty() { "image" } else { alt };
                if safe_url(url) {
                    out.push_str("<a class=\"image-link\" href=\"");
                    escape_html(url, out);
                    out.push_str("\" rel=\"noopener noreferrer nofollow\">");
                    escape_html(label, out);
                    out.push_str("</a>");
                } else {
                    escape_html(label, out);
                }
            }
            Inline::LineBreak => out.push_str("<br>\n"),
            Inline::SoftBreak => out.push('\n'),
        }
    }
}

fn wrap(tag: &str, content: &[Inline], out: &mut String) {
    out.push('<');
    out.push_str(tag);
    out.push('>');
    inlines_html(content, out);
    out.push_str("</");
    out.push_str(tag);
    out.push('>');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_blocks_are_escaped() {
        assert_eq!(
            render_html("<script>alert(1)</script>"),
            "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>\n"
        );
    }

    #[test]
    fn inline_html_with_handlers_is_escaped() {
        assert_eq!(
            render_html("see <img src=x onerror=\"alert(1)\"> here"),
            "<p>see &lt;img src=x onerror=&quot;alert(1)&quot;&gt; here</p>\n"
        );
    }

    #[test]
    fn javascript_links_lose_their_href() {
        assert_eq!(
            render_html(
                "[x](javascript:alert(1)) [y](JaVaScRiPt:alert(1)) [z](<java script:alert(1)>)"
            ),
            "<p>x y z</p>\n"
        );
        assert_eq!(
            render_html("[d](data:text/html;base64,PHNjcmlwdD4=) [v](vbscript:msgbox)"),
            "<p>d v</p>\n"
        );
    }

    #[test]
    fn autolinks_are_checked_too() {
        assert_eq!(
            render_html("<https://ok.test/a?b=1&c=2> <javascript:alert(1)> <ops@example.com>"),
            "<p><a href=\"https://ok.test/a?b=1&amp;c=2\" rel=\"noopener noreferrer nofollow\">https://ok.test/a?b=1&amp;c=2</a> \
             javascript:alert(1) \
             <a href=\"mailto:ops@example.com\" rel=\"noopener noreferrer nofollow\">ops@example.com</a></p>\n"
        );
    }

    #[test]
    fn images_are_never_loaded() {
        assert_eq!(
            render_html(
                "![graph](https://evil.test/track.png) ![x](javascript:alert(1)) ![](data:image/png;base64,AAAA)"
            ),
            "<p><a class=\"image-link\" href=\"https://evil.test/track.png\" rel=\"noopener noreferrer nofollow\">graph</a> x image</p>\n"
        );
        assert!(!render_html("![a](https://x.test/a.png)").contains("<img"));
    }

    #[test]
    fn quotes_in_urls_cannot_break_out_of_the_attribute() {
        assert_eq!(
            render_html("[a](<https://x.test/\"onmouseover=\"alert(1)>)"),
            "<p><a href=\"https://x.test/&quot;onmouseover=&quot;alert(1)\" rel=\"noopener noreferrer nofollow\">a</a></p>\n"
        );
    }

    #[test]
    fn html_nested_in_tables_is_escaped() {
        assert_eq!(
            render_html("| a | b |\n|---|:-:|\n| <b onclick=x>1</b> | <iframe src=//x> |\n"),
            "<table>\n<thead>\n<tr><th>a</th><th class=\"align-center\">b</th></tr>\n</thead>\n<tbody>\n\
             <tr><td>&lt;b onclick=x&gt;1&lt;/b&gt;</td><td class=\"align-center\">&lt;iframe src=//x&gt;</td></tr>\n\
             </tbody>\n</table>\n"
        );
    }

    #[test]
    fn code_is_escaped_and_language_class_quoted() {
        assert_eq!(
            render_html("```x\"onload=y\n<b>&</b>\n```"),
            "<pre><code class=\"language-x&quot;onload=y\">&lt;b&gt;&amp;&lt;/b&gt;\n</code></pre>\n"
        );
    }

    #[test]
    fn lists_tasks_and_structure() {
        assert_eq!(
            render_html("# T\n\n- [x] a\n- b\n\n  3. c\n\n> q\n\n---"),
            "<h1>T</h1>\n<ul>\n<li><input type=\"checkbox\" checked disabled> a</li>\n<li>b\n\
             <ol start=\"3\">\n<li>c</li>\n</ol>\n</li>\n</ul>\n<blockquote>\n<p>q</p>\n</blockquote>\n<hr>\n"
        );
    }

    #[test]
    fn safe_url_policy() {
        for ok in [
            "https://a.test",
            "HTTP://a",
            "mailto:x@y",
            "#frag",
            "/p",
            "page.md",
            "a/b:c",
        ] {
            assert!(safe_url(ok), "{ok}");
        }
        for bad in [
            "javascript:x",
            " javascript:x",
            "java\nscript:x",
            "data:x",
            "vbscript:x",
            "file:///etc/passwd",
            "\u{1}javascript:x",
        ] {
            assert!(!safe_url(bad), "{bad:?}");
        }
    }

    #[test]
    fn output_is_deterministic() {
        let md = "# a\n\n| x |\n|---|\n| y |\n\n*b* <i>c</i>";
        assert_eq!(render_html(md), render_html(md));
    }
}
