//! Markdown → the XHTML the remote tools take.
//!
//! Confluence stores pages in its *storage format*: XHTML plus `ac:`
//! macros. It must be well-formed XML (a stray `<` or an unclosed `<br>` is
//! a 400), so this writer is stricter than the preview's HTML: every
//! element is closed, void elements are self-closed, text and attributes
//! are escaped, characters XML forbids become U+FFFD, and code blocks go in
//! the `code` macro as CDATA with any `]]>` in the code split across two
//! sections. Raw HTML in the Markdown is already literal text in the block
//! model, so `<script>` arrives as text. Link URLs pass
//! [`crate::doc::html::safe_url`] or are dropped; images are never
//! embedded (a link to them at most).
//!
//! Azure DevOps shows HTML in a work item's description; the same writer
//! with [`Flavor::Html`] puts code in `<pre><code>`.

use crate::doc::html::safe_url;
use crate::doc::markdown::{Block, Inline, List, Table, parse};

/// Which tool the XHTML is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    /// Confluence storage format: code in the `code` macro.
    Confluence,
    /// Plain XHTML (Azure DevOps descriptions).
    Html,
}

/// Renders Markdown as well-formed XHTML for `flavor`.
pub fn to_xhtml(markdown: &str, flavor: Flavor) -> String {
    let mut out = String::with_capacity(markdown.len() * 2);
    blocks(&parse(markdown), flavor, &mut out);
    out
}

/// Markdown → Confluence storage format.
pub fn confluence_storage(markdown: &str) -> String {
    to_xhtml(markdown, Flavor::Confluence)
}

/// Markdown → XHTML without its leading `# ` heading: Confluence and Azure
/// DevOps show the title themselves.
pub fn body_without_title(markdown: &str, flavor: Flavor) -> String {
    let parsed = parse(markdown);
    let rest = match parsed.first() {
        Some(Block::Heading { level: 1, .. }) => &parsed[1..],
        _ => &parsed[..],
    };
    let mut out = String::with_capacity(markdown.len() * 2);
    blocks(rest, flavor, &mut out);
    out
}

/// Whether XML 1.0 allows the character at all.
fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r')
        || ('\u{20}'..='\u{D7FF}').contains(&c)
        || ('\u{E000}'..='\u{FFFD}').contains(&c)
        || c >= '\u{10000}'
}

/// Escapes text for element content and double- or single-quoted
/// attribute values.
pub fn escape_xml(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\r' => {}
            c if !xml_char(c) || (c.is_control() && c != '\n' && c != '\t') => {
                out.push('\u{FFFD}');
            }
            c => out.push(c),
        }
    }
}

/// `text` as CDATA sections: `]]>` cannot appear inside one, so it is split
/// between two (`]]` ends the first, `>` starts the next).
pub fn cdata(text: &str, out: &mut String) {
    let clean: String = text
        .chars()
        .filter(|c| *c != '\r')
        .map(|c| if xml_char(c) { c } else { '\u{FFFD}' })
        .collect();
    out.push_str("<![CDATA[");
    out.push_str(&clean.replace("]]>", "]]]]><![CDATA[>"));
    out.push_str("]]>");
}

/// Confluence's code macro knows a fixed list of languages (an unknown one
/// is an error on some versions); common fence words are mapped to it and
/// anything else is left out.
fn code_language(fence: &str) -> Option<&'static str> {
    let lang = fence.trim().to_ascii_lowercase();
    Some(match lang.as_str() {
        "sh" | "bash" | "shell" | "console" | "zsh" => "bash",
        "ps" | "ps1" | "powershell" | "pwsh" => "powershell",
        "js" | "javascript" | "ts" | "typescript" | "json" => "js",
        "py" | "python" => "py",
        "java" => "java",
        "c#" | "cs" | "csharp" => "c#",
        "c" | "cpp" | "c++" | "rust" | "rs" | "go" => "cpp",
        "sql" => "sql",
        "xml" | "html" | "xhtml" => "xml",
        "yaml" | "yml" => "yml",
        "diff" | "patch" => "diff",
        "ruby" | "rb" => "ruby",
        "php" => "php",
        "perl" | "pl" => "perl",
        "css" => "css",
        "text" | "txt" | "log" | "plain" => "text",
        _ => return None,
    })
}

fn blocks(list: &[Block], flavor: Flavor, out: &mut String) {
    for b in list {
        block(b, flavor, out);
    }
}

fn block(b: &Block, flavor: Flavor, out: &mut String) {
    match b {
        Block::Heading { level, content } => {
            let level = (*level).clamp(1, 6);
            out.push_str(&format!("<h{level}>"));
            inlines(content, flavor, out);
            out.push_str(&format!("</h{level}>"));
        }
        Block::Paragraph(content) => {
            out.push_str("<p>");
            inlines(content, flavor, out);
            out.push_str("</p>");
        }
        Block::List(l) => list(l, flavor, out),
        Block::Table(t) => table(t, flavor, out),
        Block::CodeBlock { language, code } => match flavor {
            Flavor::Confluence => {
                out.push_str("<ac:structured-macro ac:name=\"code\">");
                if let Some(lang) = language.as_deref().and_then(code_language) {
                    out.push_str("<ac:parameter ac:name=\"language\">");
                    out.push_str(lang);
                    out.push_str("</ac:parameter>");
                }
                out.push_str("<ac:plain-text-body>");
                cdata(code.strip_suffix('\n').unwrap_or(code), out);
                out.push_str("</ac:plain-text-body></ac:structured-macro>");
            }
            Flavor::Html => {
                out.push_str("<pre><code>");
                escape_xml(code.strip_suffix('\n').unwrap_or(code), out);
                out.push_str("</code></pre>");
            }
        },
        Block::BlockQuote(inner) => {
            out.push_str("<blockquote>");
            blocks(inner, flavor, out);
            out.push_str("</blockquote>");
        }
        Block::Rule => out.push_str("<hr />"),
    }
}

fn list(l: &List, flavor: Flavor, out: &mut String) {
    match l.start {
        Some(1) => out.push_str("<ol>"),
        Some(n) => out.push_str(&format!("<ol start=\"{n}\">")),
        None => out.push_str("<ul>"),
    }
    for item in &l.items {
        out.push_str("<li>");
        if let Some(done) = item.checked {
            out.push_str(if done { "\u{2611} " } else { "\u{2610} " });
        }
        match item.blocks.as_slice() {
            [Block::Paragraph(content)] => inlines(content, flavor, out),
            [Block::Paragraph(content), rest @ ..] => {
                inlines(content, flavor, out);
                blocks(rest, flavor, out);
            }
            other => blocks(other, flavor, out),
        }
        out.push_str("</li>");
    }
    out.push_str(if l.start.is_some() { "</ol>" } else { "</ul>" });
}

fn table(t: &Table, flavor: Flavor, out: &mut String) {
    let columns = t.columns();
    out.push_str("<table><tbody><tr>");
    for c in 0..columns {
        out.push_str("<th>");
        if let Some(cell) = t.header.get(c) {
            inlines(cell, flavor, out);
        }
        out.push_str("</th>");
    }
    out.push_str("</tr>");
    for row in &t.rows {
        out.push_str("<tr>");
        for c in 0..columns {
            out.push_str("<td>");
            if let Some(cell) = row.get(c) {
                inlines(cell, flavor, out);
            }
            out.push_str("</td>");
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
}

fn inlines(list: &[Inline], flavor: Flavor, out: &mut String) {
    for inline in list {
        match inline {
            Inline::Text(t) => escape_xml(t, out),
            Inline::Strong(c) => wrap("strong", c, flavor, out),
            Inline::Emphasis(c) => wrap("em", c, flavor, out),
            // Confluence's storage format spells strikethrough as a span.
            Inline::Strikethrough(c) if flavor == Flavor::Confluence => {
                out.push_str("<span style=\"text-decoration: line-through;\">");
                inlines(c, flavor, out);
                out.push_str("</span>");
            }
            Inline::Strikethrough(c) => wrap("s", c, flavor, out),
            Inline::Code(t) => {
                out.push_str("<code>");
                escape_xml(t, out);
                out.push_str("</code>");
            }
            Inline::Link { url, content } => {
                if safe_url(url) && !url.trim().is_empty() {
                    out.push_str("<a href=\"");
                    escape_xml(url.trim(), out);
                    out.push_str("\">");
                    inlines(content, flavor, out);
                    out.push_str("</a>");
                } else {
                    inlines(content, flavor, out);
                }
            }
            Inline::Image { url, alt } => {
                let label = if alt.is_empty() { "image" } else { alt };
                if safe_url(url) && !url.trim().is_empty() {
                    out.push_str("<a href=\"");
                    escape_xml(url.trim(), out);
                    out.push_str("\">");
                    escape_xml(label, out);
                    out.push_str("</a>");
                } else {
                    escape_xml(label, out);
                }
            }
            Inline::LineBreak => out.push_str("<br />"),
            Inline::SoftBreak => out.push('\n'),
        }
    }
}

fn wrap(tag: &str, content: &[Inline], flavor: Flavor, out: &mut String) {
    out.push('<');
    out.push_str(tag);
    out.push('>');
    inlines(content, flavor, out);
    out.push_str("</");
    out.push_str(tag);
    out.push('>');
}

/// A small XML well-formedness check for the tests: balanced tags, quoted
/// attributes, known entities, CDATA closed. Returns the text content
/// (entities decoded, CDATA included) so tests can check what reads back.
#[cfg(test)]
pub(crate) fn check_well_formed(xml: &str) -> Result<String, String> {
    let mut stack: Vec<String> = Vec::new();
    let mut text = String::new();
    let mut rest = xml;
    while let Some(c) = rest.chars().next() {
        if let Some(after) = rest.strip_prefix("<![CDATA[") {
            let end = after.find("]]>").ok_or("unclosed CDATA")?;
            text.push_str(&after[..end]);
            rest = &after[end + 3..];
        } else if let Some(after) = rest.strip_prefix("</") {
            let end = after.find('>').ok_or("unclosed end tag")?;
            let name = &after[..end];
            if stack.pop().as_deref() != Some(name) {
                return Err(format!("mismatched </{name}>"));
            }
            rest = &after[end + 1..];
        } else if let Some(after) = rest.strip_prefix('<') {
            let end = after.find('>').ok_or("unclosed tag")?;
            let tag = &after[..end];
            let (tag, self_closed) = match tag.strip_suffix('/') {
                Some(t) => (t.trim_end(), true),
                None => (tag, false),
            };
            let name_end = tag.find(' ').unwrap_or(tag.len());
            let name = &tag[..name_end];
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == ':' || c == '-')
            {
                return Err(format!("bad tag name {name:?}"));
            }
            let mut attrs = tag[name_end..].trim();
            while !attrs.is_empty() {
                let eq = attrs
                    .find("=\"")
                    .ok_or(format!("bad attribute in {tag:?}"))?;
                let close = attrs[eq + 2..]
                    .find('"')
                    .ok_or(format!("unquoted attribute in {tag:?}"))?;
                let value = &attrs[eq + 2..eq + 2 + close];
                if value.contains('<') {
                    return Err("< in an attribute".into());
                }
                attrs = attrs[eq + 2 + close + 1..].trim_start();
            }
            if !self_closed {
                stack.push(name.to_owned());
            }
            rest = &after[end + 1..];
        } else if let Some(after) = rest.strip_prefix('&') {
            let end = after.find(';').ok_or("bare &")?;
            let entity = &after[..end];
            text.push(match entity {
                "amp" => '&',
                "lt" => '<',
                "gt" => '>',
                "quot" => '"',
                "#39" => '\'',
                other => return Err(format!("unknown entity &{other};")),
            });
            rest = &after[end + 1..];
        } else if c == '>' {
            return Err("bare >".into());
        } else {
            text.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    if let Some(open) = stack.pop() {
        return Err(format!("unclosed <{open}>"));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn storage(md: &str) -> String {
        let xml = confluence_storage(md);
        check_well_formed(&xml).unwrap_or_else(|e| panic!("{e} in {xml}"));
        xml
    }

    #[test]
    fn headings_paragraphs_and_emphasis() {
        assert_eq!(
            storage("# Title\n\nSome **bold** and *em* and ~~gone~~ and `x<y`.\n\n---\n"),
            "<h1>Title</h1><p>Some <strong>bold</strong> and <em>em</em> and <span style=\"text-decoration: line-through;\">gone</span> and \
             <code>x&lt;y</code>.</p><hr />"
        );
    }

    #[test]
    fn code_blocks_use_the_code_macro_and_survive_cdata_terminators() {
        let xml = storage("```bash\necho ']]>' && cat <<EOF\n]]]]>\n```\n");
        assert!(xml.starts_with(
            "<ac:structured-macro ac:name=\"code\"><ac:parameter ac:name=\"language\">bash</ac:parameter>"
        ));
        assert_eq!(xml.matches("]]>").count(), 3, "{xml}");
        let text = check_well_formed(&xml).expect("well-formed");
        assert!(text.contains("bash"));
        assert!(text.contains("echo ']]>' && cat <<EOF\n]]]]>"), "{text}");
    }

    #[test]
    fn unknown_fence_languages_are_left_out() {
        let xml = storage("```\"><script>\nx\n```\n");
        assert!(!xml.contains("ac:name=\"language\""));
        assert!(!xml.contains("<script"));
    }

    #[test]
    fn hostile_text_stays_text() {
        let md = "<script>alert('x')</script>\n\nHe said \"hi\" & left <b>now</b>\n\n[x](javascript:alert(1)) [ok](https://example.com/?a=1&b=\"2\")\n\n![pic](https://evil.example/track.png)";
        let xml = storage(md);
        assert!(!xml.contains("<script"), "{xml}");
        assert!(!xml.contains("<b>"), "{xml}");
        assert!(!xml.contains("javascript:"), "{xml}");
        assert!(!xml.contains("<img"), "{xml}");
        assert!(xml.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
        assert!(xml.contains("<a href=\"https://example.com/?a=1&amp;b=&quot;2&quot;\">ok</a>"));
        assert!(xml.contains("<a href=\"https://evil.example/track.png\">pic</a>"));
    }

    #[test]
    fn non_ascii_and_control_characters() {
        let xml = storage("Zürich — 東京 🚒 bell\u{7}here\n\n```\nnul\u{0}byte\n```\n");
        assert!(xml.contains("Zürich — 東京 🚒 bell\u{FFFD}here"));
        assert!(xml.contains("nul\u{FFFD}byte"));
    }

    #[test]
    fn lists_tasks_tables_and_quotes() {
        let md = "- [x] done\n- [ ] todo\n\n3. three\n4. four\n\n| a | b |\n|---|---|\n| 1 | <2> |\n\n> quoted  \n> line\n";
        let xml = storage(md);
        assert!(xml.contains("<ul><li>\u{2611} done</li><li>\u{2610} todo</li></ul>"));
        assert!(xml.contains("<ol start=\"3\"><li>three</li><li>four</li></ol>"));
        assert!(xml.contains(
            "<table><tbody><tr><th>a</th><th>b</th></tr><tr><td>1</td><td>&lt;2&gt;</td></tr></tbody></table>"
        ));
        assert!(xml.contains("<blockquote><p>quoted<br />line</p></blockquote>"));
    }

    #[test]
    fn html_flavor_puts_code_in_pre() {
        let xml = to_xhtml("```rust\nlet a = \"]]>\" < b;\n```\n", Flavor::Html);
        assert_eq!(
            xml,
            "<pre><code>let a = &quot;]]&gt;&quot; &lt; b;</code></pre>"
        );
        check_well_formed(&xml).expect("well-formed");
    }

    #[test]
    fn the_leading_title_is_dropped() {
        assert_eq!(
            body_without_title("# RCA: x\n\n## Summary\n\ntext\n", Flavor::Confluence),
            "<h2>Summary</h2><p>text</p>"
        );
        assert_eq!(body_without_title("text", Flavor::Html), "<p>text</p>");
    }

    #[test]
    fn the_checker_catches_broken_xml() {
        for bad in [
            "<p>",
            "<p></b>",
            "a & b",
            "<br>",
            "<![CDATA[x",
            "<a href=x>y</a>",
        ] {
            assert!(check_well_formed(bad).is_err(), "{bad}");
        }
    }
}
