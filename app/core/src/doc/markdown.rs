//! Markdown parsed into a small owned block model.
//!
//! Every exporter (HTML preview, PDF, DOCX) walks the same [`Block`] tree, so
//! they agree on what a document contains. The dialect is CommonMark plus the
//! GitHub extensions people expect in an RCA: tables, strikethrough and task
//! lists. Raw HTML in the source is kept as *literal text*: no exporter ever
//! treats it as markup.

use pulldown_cmark::{CodeBlockKind, Event, LinkType, Options, Parser, Tag, TagEnd};

/// A block-level element.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Block {
    /// `level` is 1 to 6.
    Heading {
        level: u8,
        content: Vec<Inline>,
    },
    Paragraph(Vec<Inline>),
    List(List),
    Table(Table),
    /// A fenced or indented code block; `language` is the fence's info word.
    CodeBlock {
        language: Option<String>,
        code: String,
    },
    BlockQuote(Vec<Block>),
    /// A thematic break (`---`).
    Rule,
}

/// A run of inline content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Inline {
    Text(String),
    Strong(Vec<Inline>),
    Emphasis(Vec<Inline>),
    Strikethrough(Vec<Inline>),
    Code(String),
    /// A link as written; whether its URL is safe to follow is the
    /// renderer's decision (see [`super::html::safe_url`]).
    Link {
        url: String,
        content: Vec<Inline>,
    },
    /// An image is never fetched: renderers show its alt text.
    Image {
        url: String,
        alt: String,
    },
    /// A hard break (two spaces or a backslash at the end of a line).
    LineBreak,
    /// A soft break: a newline inside a paragraph, shown as a space.
    SoftBreak,
}

/// A bullet list (`start` is `None`) or an ordered list starting at `start`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct List {
    pub start: Option<u64>,
    pub items: Vec<ListItem>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListItem {
    /// `Some(done)` for a task-list item (`- [x]`).
    pub checked: Option<bool>,
    pub blocks: Vec<Block>,
}

/// How a table column is aligned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Alignment {
    None,
    Left,
    Center,
    Right,
}

/// A cell is a run of inline content.
pub type Cell = Vec<Inline>;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Table {
    pub alignments: Vec<Alignment>,
    pub header: Vec<Cell>,
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    /// The number of columns: the widest of the header and the rows.
    pub fn columns(&self) -> usize {
        self.rows
            .iter()
            .map(Vec::len)
            .chain([self.header.len(), self.alignments.len()])
            .max()
            .unwrap_or(0)
    }
}

/// The plain text of inline content (formatting dropped, breaks as spaces).
pub fn plain_text(inlines: &[Inline]) -> String {
    let mut out = String::new();
    push_plain(inlines, &mut out);
    out
}

fn push_plain(inlines: &[Inline], out: &mut String) {
    for inline in inlines {
        match inline {
            Inline::Text(t) | Inline::Code(t) => out.push_str(t),
            Inline::Strong(c)
            | Inline::Emphasis(c)
            | Inline::Strikethrough(c)
            | Inline::Link { content: c, .. } => push_plain(c, out),
            Inline::Image { alt, .. } => out.push_str(alt),
            Inline::LineBreak | Inline::SoftBreak => out.push(' '),
        }
    }
}

/// One open element while parsing.
enum Frame {
    /// The document, a block quote or a list item: holds blocks; inline
    /// content arriving directly (a tight list item) goes to `pending`.
    Blocks {
        kind: BlocksKind,
        blocks: Vec<Block>,
        pending: Vec<Inline>,
    },
    List {
        start: Option<u64>,
        items: Vec<ListItem>,
    },
    Inlines {
        kind: InlineKind,
        content: Vec<Inline>,
    },
    Table {
        table: Table,
        in_head: bool,
    },
    Row(Vec<Cell>),
    Code {
        language: Option<String>,
        code: String,
    },
    /// Raw HTML, kept as literal text.
    Html(String),
}

enum BlocksKind {
    Root,
    Quote,
    Item { checked: Option<bool> },
}

enum InlineKind {
    Paragraph,
    Heading(u8),
    Strong,
    Emphasis,
    Strikethrough,
    Link(String),
    Image(String),
    Cell,
    /// An element we do not model (e.g. a footnote); its content is kept.
    Transparent,
}

struct Builder {
    stack: Vec<Frame>,
}

impl Builder {
    fn push_inline(&mut self, inline: Inline) {
        match self.stack.last_mut() {
            Some(Frame::Inlines { content, .. }) => content.push(inline),
            Some(Frame::Blocks { pending, .. }) => pending.push(inline),
            Some(Frame::Code { code, .. }) => {
                if let Inline::Text(t) = inline {
                    code.push_str(&t);
                }
            }
            Some(Frame::Html(text)) => {
                if let Inline::Text(t) = inline {
                    text.push_str(&t);
                }
            }
            // Inline content straight inside a list, table or row does not
            // occur in pulldown-cmark's event stream.
            Some(Frame::List { .. } | Frame::Table { .. } | Frame::Row(_)) | None => {}
        }
    }

    fn push_block(&mut self, block: Block) {
        for frame in self.stack.iter_mut().rev() {
            if let Frame::Blocks {
                blocks, pending, ..
            } = frame
            {
                flush_pending(blocks, pending);
                blocks.push(block);
                return;
            }
        }
    }

    fn start(&mut self, tag: Tag<'_>) {
        let frame = match tag {
            Tag::Paragraph => inlines(InlineKind::Paragraph),
            Tag::Heading { level, .. } => inlines(InlineKind::Heading(level as u8)),
            Tag::BlockQuote(_) => Frame::Blocks {
                kind: BlocksKind::Quote,
                blocks: Vec::new(),
                pending: Vec::new(),
            },
            Tag::CodeBlock(kind) => Frame::Code {
                language: match kind {
                    CodeBlockKind::Fenced(info) => info
                        .split_whitespace()
                        .next()
                        .filter(|w| !w.is_empty())
                        .map(str::to_owned),
                    CodeBlockKind::Indented => None,
                },
                code: String::new(),
            },
            Tag::HtmlBlock => Frame::Html(String::new()),
            Tag::List(start) => Frame::List {
                start,
                items: Vec::new(),
            },
            Tag::Item => Frame::Blocks {
                kind: BlocksKind::Item { checked: None },
                blocks: Vec::new(),
                pending: Vec::new(),
            },
            Tag::Table(alignments) => Frame::Table {
                table: Table {
                    alignments: alignments.into_iter().map(alignment).collect(),
                    header: Vec::new(),
                    rows: Vec::new(),
                },
                in_head: false,
            },
            Tag::TableHead => {
                if let Some(Frame::Table { in_head, .. }) = self.stack.last_mut() {
                    *in_head = true;
                }
                Frame::Row(Vec::new())
            }
            Tag::TableRow => Frame::Row(Vec::new()),
            Tag::TableCell => inlines(InlineKind::Cell),
            Tag::Emphasis => inlines(InlineKind::Emphasis),
            Tag::Strong => inlines(InlineKind::Strong),
            Tag::Strikethrough => inlines(InlineKind::Strikethrough),
            Tag::Link {
                link_type,
                dest_url,
                ..
            } => {
                let url = if link_type == LinkType::Email && !dest_url.contains(':') {
                    format!("mailto:{dest_url}")
                } else {
                    dest_url.into_string()
                };
                inlines(InlineKind::Link(url))
            }
            Tag::Image { dest_url, .. } => inlines(InlineKind::Image(dest_url.into_string())),
            _ => inlines(InlineKind::Transparent),
        };
        self.stack.push(frame);
    }

    fn end(&mut self, tag: TagEnd) {
        let Some(frame) = self.stack.pop() else {
            return;
        };
        match frame {
            Frame::Inlines { kind, content } => match kind {
                InlineKind::Paragraph => self.push_block(Block::Paragraph(content)),
                InlineKind::Heading(level) => self.push_block(Block::Heading { level, content }),
                InlineKind::Strong => self.push_inline(Inline::Strong(content)),
                InlineKind::Emphasis => self.push_inline(Inline::Emphasis(content)),
                InlineKind::Strikethrough => self.push_inline(Inline::Strikethrough(content)),
                InlineKind::Link(url) => self.push_inline(Inline::Link { url, content }),
                InlineKind::Image(url) => self.push_inline(Inline::Image {
                    url,
                    alt: plain_text(&content),
                }),
                InlineKind::Cell => {
                    if let Some(Frame::Row(cells)) = self.stack.last_mut() {
                        cells.push(content);
                    }
                }
                InlineKind::Transparent => {
                    for inline in content {
                        self.push_inline(inline);
                    }
                }
            },
            Frame::Blocks {
                kind,
                mut blocks,
                mut pending,
            } => {
                flush_pending(&mut blocks, &mut pending);
                match kind {
                    BlocksKind::Root => self.stack.push(Frame::Blocks {
                        kind: BlocksKind::Root,
                        blocks,
                        pending,
                    }),
                    BlocksKind::Quote => self.push_block(Block::BlockQuote(blocks)),
                    BlocksKind::Item { checked } => {
                        if let Some(Frame::List { items, .. }) = self.stack.last_mut() {
                            items.push(ListItem { checked, blocks });
                        }
                    }
                }
            }
            Frame::List { start, items } => self.push_block(Block::List(List { start, items })),
            Frame::Table { table, .. } => self.push_block(Block::Table(table)),
            Frame::Row(cells) => {
                if let Some(Frame::Table { table, in_head }) = self.stack.last_mut() {
                    if *in_head && matches!(tag, TagEnd::TableHead) {
                        table.header = cells;
                        *in_head = false;
                    } else {
                        table.rows.push(cells);
                    }
                }
            }
            Frame::Code { language, code } => self.push_block(Block::CodeBlock { language, code }),
            Frame::Html(text) => {
                let text = text.trim_end_matches('\n');
                let mut content = Vec::new();
                for (i, line) in text.split('\n').enumerate() {
                    if i > 0 {
                        content.push(Inline::LineBreak);
                    }
                    content.push(Inline::Text(line.to_owned()));
                }
                self.push_block(Block::Paragraph(content));
            }
        }
    }
}

fn inlines(kind: InlineKind) -> Frame {
    Frame::Inlines {
        kind,
        content: Vec::new(),
    }
}

fn flush_pending(blocks: &mut Vec<Block>, pending: &mut Vec<Inline>) {
    if !pending.is_empty() {
        blocks.push(Block::Paragraph(std::mem::take(pending)));
    }
}

fn alignment(a: pulldown_cmark::Alignment) -> Alignment {
    match a {
        pulldown_cmark::Alignment::None => Alignment::None,
        pulldown_cmark::Alignment::Left => Alignment::Left,
        pulldown_cmark::Alignment::Center => Alignment::Center,
        pulldown_cmark::Alignment::Right => Alignment::Right,
    }
}

/// Parses Markdown into blocks. Never fails: anything unrecognised is text.
pub fn parse(markdown: &str) -> Vec<Block> {
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let mut b = Builder {
        stack: vec![Frame::Blocks {
            kind: BlocksKind::Root,
            blocks: Vec::new(),
            pending: Vec::new(),
        }],
    };
    for event in Parser::new_ext(markdown, options) {
        match event {
            Event::Start(tag) => b.start(tag),
            Event::End(tag) => b.end(tag),
            Event::Text(t) => b.push_inline(Inline::Text(t.into_string())),
            Event::Code(t) => b.push_inline(Inline::Code(t.into_string())),
            // Raw HTML stays literal text.
            Event::Html(t) | Event::InlineHtml(t) => b.push_inline(Inline::Text(t.into_string())),
            Event::InlineMath(t) | Event::DisplayMath(t) => {
                b.push_inline(Inline::Text(t.into_string()))
            }
            Event::FootnoteReference(t) => b.push_inline(Inline::Text(format!("[^{t}]"))),
            Event::SoftBreak => b.push_inline(Inline::SoftBreak),
            Event::HardBreak => b.push_inline(Inline::LineBreak),
            Event::Rule => b.push_block(Block::Rule),
            Event::TaskListMarker(done) => {
                // In a loose list the marker arrives inside the paragraph.
                let item = b.stack.iter_mut().rev().find_map(|f| match f {
                    Frame::Blocks {
                        kind: BlocksKind::Item { checked },
                        ..
                    } => Some(checked),
                    _ => None,
                });
                if let Some(checked) = item {
                    *checked = Some(done);
                }
            }
        }
    }
    // Close anything left open (cannot happen with a well-formed stream).
    while b.stack.len() > 1 {
        b.end(TagEnd::Paragraph);
    }
    match b.stack.pop() {
        Some(Frame::Blocks {
            mut blocks,
            mut pending,
            ..
        }) => {
            flush_pending(&mut blocks, &mut pending);
            blocks
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(t: &str) -> Inline {
        Inline::Text(t.into())
    }

    #[test]
    fn headings_and_paragraph_runs() {
        let blocks = parse(
            "# Title\n\n### Third\n\nSome **bold** and *it* `code` ~~gone~~ [l](https://x.test)\\\nnext",
        );
        assert_eq!(
            blocks[0],
            Block::Heading {
                level: 1,
                content: vec![text("Title")]
            }
        );
        assert!(matches!(blocks[1], Block::Heading { level: 3, .. }));
        assert_eq!(
            blocks[2],
            Block::Paragraph(vec![
                text("Some "),
                Inline::Strong(vec![text("bold")]),
                text(" and "),
                Inline::Emphasis(vec![text("it")]),
                text(" "),
                Inline::Code("code".into()),
                text(" "),
                Inline::Strikethrough(vec![text("gone")]),
                text(" "),
                Inline::Link {
                    url: "https://x.test".into(),
                    content: vec![text("l")]
                },
                Inline::LineBreak,
                text("next"),
            ])
        );
    }

    #[test]
    fn nested_lists_with_tasks() {
        let blocks = parse("- [x] done\n- [ ] open\n  1. one\n  2. two\n");
        let Block::List(list) = &blocks[0] else {
            panic!("{blocks:?}")
        };
        assert_eq!(list.start, None);
        assert_eq!(list.items.len(), 2);
        assert_eq!(list.items[0].checked, Some(true));
        assert_eq!(list.items[1].checked, Some(false));
        assert_eq!(
            list.items[0].blocks,
            vec![Block::Paragraph(vec![text("done")])]
        );
        let Block::List(inner) = &list.items[1].blocks[1] else {
            panic!("{list:?}")
        };
        assert_eq!(inner.start, Some(1));
        assert_eq!(inner.items.len(), 2);
    }

    #[test]
    fn tables_keep_header_rows_and_alignment() {
        let blocks = parse("| a | b |\n|:--|--:|\n| 1 | **2** |\n| 3 | 4 \\| 5 |\n");
        let Block::Table(t) = &blocks[0] else {
            panic!("{blocks:?}")
        };
        assert_eq!(t.alignments, vec![Alignment::Left, Alignment::Right]);
        assert_eq!(t.header, vec![vec![text("a")], vec![text("b")]]);
        assert_eq!(t.rows.len(), 2);
        assert_eq!(t.rows[0][1], vec![Inline::Strong(vec![text("2")])]);
        assert_eq!(plain_text(&t.rows[1][1]), "4 | 5");
        assert_eq!(t.columns(), 2);
    }

    #[test]
    fn code_quote_rule() {
        let blocks = parse("```rust extra\nfn a() {}\n```\n\n    indented\n\n> quoted\n\n---\n");
        assert_eq!(
            blocks[0],
            Block::CodeBlock {
                language: Some("rust".into()),
                code: "fn a() {}\n".into()
            }
        );
        assert_eq!(
            blocks[1],
            Block::CodeBlock {
                language: None,
                code: "indented\n".into()
            }
        );
        assert_eq!(
            blocks[2],
            Block::BlockQuote(vec![Block::Paragraph(vec![text("quoted")])])
        );
        assert_eq!(blocks[3], Block::Rule);
    }

    #[test]
    fn raw_html_is_literal_text() {
        let blocks = parse("<script>alert(1)</script>\n\nhi <b>there</b>");
        assert_eq!(
            blocks[0],
            Block::Paragraph(vec![text("<script>alert(1)</script>")])
        );
        assert_eq!(
            plain_text(match &blocks[1] {
                Block::Paragraph(c) => c,
                other => panic!("{other:?}"),
            }),
            "hi <b>there</b>"
        );
    }

    #[test]
    fn images_keep_alt_and_email_autolinks_get_mailto() {
        let blocks = parse("![a *b*](http://x/y.png) <ops@example.com>");
        let Block::Paragraph(c) = &blocks[0] else {
            panic!()
        };
        assert_eq!(
            c[0],
            Inline::Image {
                url: "http://x/y.png".into(),
                alt: "a b".into()
            }
        );
        assert!(matches!(&c[2], Inline::Link { url, .. } if url == "mailto:ops@example.com"));
    }
}
