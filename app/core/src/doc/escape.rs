//! Escaping user text for Markdown.
//!
//! Every string a person or a model supplied (titles, answers, log lines,
//! owners) passes through here before it becomes part of a template, so it
//! reads as the same text and can never open a heading, a list, a table
//! column, a code span, a link or an HTML tag.

/// Characters that are Markdown syntax wherever they appear: a backslash
/// escape makes each literal (CommonMark allows escaping any ASCII
/// punctuation).
const ALWAYS: &[char] = &['\\', '`', '*', '_', '[', ']', '<', '>', '|', '~', '&', '#'];

fn clean_chars(text: &str) -> impl Iterator<Item = char> + '_ {
    text.chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t' | '\r'))
}

/// Escapes one line of text: whitespace (newlines included) collapses to
/// single spaces, control characters are dropped, Markdown punctuation is
/// backslash-escaped, and a leading list or block marker (`-`, `+`, `=`,
/// `1.`, `2)`) is escaped so the text cannot start a structure wherever it
/// is placed.
pub fn md_escape(text: &str) -> String {
    let cleaned: String = clean_chars(text).collect();
    let line = cleaned.split_whitespace().collect::<Vec<_>>().join(" ");
    escape_line(&line)
}

/// Escapes text for a table cell: like [`md_escape`] (so a pipe or a
/// newline cannot add a column or end the row), and an empty cell stays a
/// cell.
pub fn md_table_cell(text: &str) -> String {
    let escaped = md_escape(text);
    if escaped.is_empty() {
        " ".to_owned()
    } else {
        escaped
    }
}

/// Escapes multi-line text as paragraphs: blank lines separate paragraphs,
/// single newlines become hard line breaks, each line is escaped like
/// [`md_escape`].
pub fn md_escape_block(text: &str) -> String {
    let cleaned: String = clean_chars(text).collect();
    let cleaned = cleaned.replace("\r\n", "\n").replace('\r', "\n");
    let mut paragraphs = Vec::new();
    let mut lines: Vec<String> = Vec::new();
    for raw in cleaned.split('\n') {
        let line = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        if line.is_empty() {
            if !lines.is_empty() {
                paragraphs.push(lines.join("\\\n"));
                lines.clear();
            }
        } else {
            lines.push(escape_line(&line));
        }
    }
    if !lines.is_empty() {
        paragraphs.push(lines.join("\\\n"));
    }
    paragraphs.join("\n\n")
}

/// Text for inside an inline code span: the fence is one backtick longer
/// than the longest run inside, and padded when the text touches a
/// backtick, so nothing can close it early.
pub fn md_code_span(text: &str) -> String {
    let line = clean_chars(text)
        .map(|c| if c.is_whitespace() { ' ' } else { c })
        .collect::<String>();
    let fence = "`".repeat(longest_run(&line, '`') + 1);
    let pad = if line.starts_with('`') || line.ends_with('`') || line.is_empty() {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{line}{pad}{fence}")
}

/// A fence for a code block holding `text`: at least three backticks and
/// longer than any run of backticks in it.
pub fn code_fence(text: &str) -> String {
    "`".repeat((longest_run(text, '`') + 1).max(3))
}

fn longest_run(text: &str, c: char) -> usize {
    let (mut best, mut run) = (0, 0);
    for ch in text.chars() {
        if ch == c {
            run += 1;
            best = best.max(run);
        } else {
            run = 0;
        }
    }
    best
}

fn escape_line(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + 8);
    // A leading block marker: "-", "+", "=", or digits then "." / ")".
    let digits = line.bytes().take_while(u8::is_ascii_digit).count();
    let marker_at = match line.as_bytes().first() {
        Some(b'-' | b'+' | b'=') => Some(0),
        Some(b'0'..=b'9') if matches!(line.as_bytes().get(digits), Some(b'.' | b')')) => {
            Some(digits)
        }
        _ => None,
    };
    for (i, c) in line.char_indices() {
        if ALWAYS.contains(&c) || Some(i) == marker_at {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc::markdown::{Block, Inline, parse, plain_text};
    use proptest::prelude::*;

    #[test]
    fn escapes_structure() {
        assert_eq!(md_escape("# not a heading"), "\\# not a heading");
        assert_eq!(md_escape("a | b"), "a \\| b");
        assert_eq!(
            md_escape("`rm -rf` *x* _y_"),
            "\\`rm -rf\\` \\*x\\* \\_y\\_"
        );
        assert_eq!(md_escape("<script>"), "\\<script\\>");
        assert_eq!(md_escape("- item"), "\\- item");
        assert_eq!(md_escape("12. item"), "12\\. item");
        assert_eq!(md_escape("line\nbreak\r\n  x"), "line break x");
        assert_eq!(md_escape("[a](javascript:x)"), "\\[a\\](javascript:x)");
        assert_eq!(md_escape("&amp; \\"), "\\&amp; \\\\");
        assert_eq!(md_escape("nul\u{0}bell\u{7}"), "nulbell");
    }

    #[test]
    fn table_cells_cannot_add_columns_or_rows() {
        let md = format!(
            "| a | b |\n|---|---|\n| {} | {} |\n",
            md_table_cell("x | y\n| z |"),
            md_table_cell("")
        );
        let blocks = parse(&md);
        let Block::Table(t) = &blocks[0] else {
            panic!("{blocks:?}")
        };
        assert_eq!(t.rows.len(), 1);
        assert_eq!(t.rows[0].len(), 2);
        assert_eq!(plain_text(&t.rows[0][0]), "x | y | z |");
    }

    #[test]
    fn blocks_keep_paragraphs_and_lines() {
        assert_eq!(md_escape_block("a\nb\n\n\n# c\r\n"), "a\\\nb\n\n\\# c");
        let blocks = parse(&md_escape_block("one\n---\n\ntwo"));
        assert_eq!(blocks.len(), 2);
        assert_eq!(
            blocks[0],
            Block::Paragraph(vec![
                Inline::Text("one".into()),
                Inline::LineBreak,
                Inline::Text("---".into())
            ])
        );
    }

    #[test]
    fn code_spans_and_fences_outgrow_backticks() {
        assert_eq!(md_code_span("a`b"), "``a`b``");
        assert_eq!(md_code_span("`x`"), "`` `x` ``");
        assert_eq!(code_fence("no ticks"), "```");
        assert_eq!(code_fence("````"), "`````");
        let blocks = parse(&format!("x {} y", md_code_span("a``b")));
        assert_eq!(
            blocks[0],
            Block::Paragraph(vec![
                Inline::Text("x ".into()),
                Inline::Code("a``b".into()),
                Inline::Text(" y".into())
            ])
        );
    }

    proptest! {
        /// Whatever the text, an escaped line reads back as exactly that
        /// text (whitespace collapsed), as one paragraph, in a list item or
        /// in a table cell.
        #[test]
        fn escaped_text_reads_back(text in "[ -~\n\té东ω]{0,40}") {
            let expected = clean_chars(&text).collect::<String>()
                .split_whitespace().collect::<Vec<_>>().join(" ");
            let escaped = md_escape(&text);
            let para = parse(&escaped);
            if expected.is_empty() {
                prop_assert!(para.is_empty());
            } else {
                prop_assert_eq!(para.len(), 1);
                let Block::Paragraph(c) = &para[0] else { panic!("{para:?}") };
                prop_assert_eq!(plain_text(c), expected.clone());
                let list = parse(&format!("- {escaped}\n"));
                let Block::List(l) = &list[0] else { panic!("{list:?}") };
                prop_assert_eq!(l.items.len(), 1);
                prop_assert_eq!(&l.items[0].blocks, &para);
            }
            let table = parse(&format!("| h | i |\n|---|---|\n| {} | x |\n", md_table_cell(&text)));
            let Block::Table(t) = &table[0] else { panic!("{table:?}") };
            prop_assert_eq!(t.rows.len(), 1);
            prop_assert_eq!(t.rows[0].len(), 2);
            prop_assert_eq!(plain_text(&t.rows[0][0]), expected);
        }
    }
}
