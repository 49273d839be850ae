//! PDF export: the Markdown block model laid out on A4 pages and drawn with
//! krilla.
//!
//! Layout happens first, into pages of drawing operations, so the footer
//! can say "Page N of M". Text is real text (searchable, copyable) in the
//! embedded fonts, with per-character fallback to the CJK face. Tables
//! repeat their header row on each page they continue onto.

use krilla::Document;
use krilla::action::{Action, LinkAction};
use krilla::annotation::{Annotation, LinkAnnotation, Target};
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::{DateTime, Metadata};
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;
use krilla::text::TextDirection;
use tftsr_core::doc::html::safe_url;
use tftsr_core::doc::markdown::{Alignment, Block, Inline, List, Table, parse};
use tftsr_core::doc::{ExportDoc, ExportError, ExportErrorKind, ExportFormat, Exporter};

use super::fonts::{FaceId, Fonts, is_cjk};

const PAGE_W: f32 = 595.28;
const PAGE_H: f32 = 841.89;
const MARGIN_X: f32 = 56.0;
const TOP: f32 = 56.0;
const BOTTOM: f32 = PAGE_H - 64.0;
const CONTENT_W: f32 = PAGE_W - 2.0 * MARGIN_X;
const BODY: f32 = 10.5;
const TABLE_SIZE: f32 = 9.0;
const CODE_SIZE: f32 = 8.5;
const CELL_PAD: f32 = 4.0;
const LIST_INDENT: f32 = 18.0;
const QUOTE_INDENT: f32 = 14.0;

#[derive(Clone, Copy, Debug, PartialEq)]
struct Rgb(u8, u8, u8);

const BLACK: Rgb = Rgb(25, 25, 25);
const GREY: Rgb = Rgb(110, 110, 110);
const RULE: Rgb = Rgb(170, 170, 170);
const LINK: Rgb = Rgb(20, 80, 170);
const CODE: Rgb = Rgb(150, 40, 40);
const SHADE: Rgb = Rgb(242, 242, 242);
const HEADER_SHADE: Rgb = Rgb(228, 232, 238);
const QUOTE_BAR: Rgb = Rgb(200, 200, 200);

#[derive(Clone, Copy, Debug, PartialEq)]
struct Style {
    face: FaceId,
    size: f32,
    color: Rgb,
    strike: bool,
    underline: bool,
}

impl Style {
    fn body(size: f32) -> Self {
        Self {
            face: FaceId::Regular,
            size,
            color: BLACK,
            strike: false,
            underline: false,
        }
    }
}

/// A drawing operation; coordinates are points from the top-left corner.
#[derive(Debug)]
enum Op {
    /// `y` is the baseline.
    Text {
        x: f32,
        y: f32,
        face: FaceId,
        size: f32,
        color: Rgb,
        text: String,
    },
    FillRect {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        color: Rgb,
    },
    StrokeRect {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
    },
    Line {
        x1: f32,
        y1: f32,
        x2: f32,
        y2: f32,
        width: f32,
        color: Rgb,
    },
    Link {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        url: String,
    },
}

/// A piece of text that is not broken further, with its style.
#[derive(Clone, Debug)]
struct Atom {
    text: String,
    style: Style,
    link: Option<usize>,
    width: f32,
    space: bool,
}

/// Atoms that stay on one line; `None` is a forced line break.
type Unit = Option<Vec<Atom>>;
type Line = Vec<Atom>;

struct Layout<'f> {
    fonts: &'f Fonts,
    pages: Vec<Vec<Op>>,
    /// The page operations go to.
    current: usize,
    y: f32,
    links: Vec<String>,
    /// The x of each enclosing block quote's bar.
    quote_bars: Vec<f32>,
}

impl<'f> Layout<'f> {
    fn new(fonts: &'f Fonts) -> Self {
        Self {
            fonts,
            pages: vec![Vec::new()],
            current: 0,
            y: TOP,
            links: Vec::new(),
            quote_bars: Vec::new(),
        }
    }

    fn op(&mut self, op: Op) {
        if let Some(page) = self.pages.get_mut(self.current) {
            page.push(op);
        }
    }

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.current = self.pages.len() - 1;
        self.y = TOP;
    }

    /// Starts a new page unless `h` more points fit on this one (or the
    /// page is still empty, where nothing would be gained).
    fn ensure(&mut self, h: f32) -> bool {
        if self.y + h > BOTTOM && self.y > TOP + 0.5 {
            self.new_page();
            true
        } else {
            false
        }
    }

    fn space(&mut self, h: f32) {
        if self.y > TOP + 0.5 {
            self.y = (self.y + h).min(BOTTOM);
        }
    }

    /// Draws the enclosing block quotes' bars beside a stretch of height `h`.
    fn bars(&mut self, h: f32) {
        let bars = self.quote_bars.clone();
        for x in bars {
            self.op(Op::FillRect {
                x,
                y: self.y,
                w: 2.5,
                h,
                color: QUOTE_BAR,
            });
        }
    }

    // ---- inline text ----

    fn flatten(
        &mut self,
        inlines: &[Inline],
        style: Style,
        link: Option<usize>,
        out: &mut Vec<(String, Style, Option<usize>)>,
    ) {
        for inline in inlines {
            match inline {
                Inline::Text(t) => out.push((t.clone(), style, link)),
                Inline::Code(t) => out.push((
                    t.clone(),
                    Style {
                        face: FaceId::Mono,
                        size: style.size * 0.92,
                        color: CODE,
                        ..style
                    },
                    link,
                )),
                Inline::Strong(c) => {
                    let face = match style.face {
                        FaceId::Mono => FaceId::Mono,
                        _ => FaceId::Bold,
                    };
                    self.flatten(c, Style { face, ..style }, link, out);
                }
                Inline::Emphasis(c) => {
                    let face = match style.face {
                        FaceId::Regular => FaceId::Italic,
                        other => other,
                    };
                    self.flatten(c, Style { face, ..style }, link, out);
                }
                Inline::Strikethrough(c) => self.flatten(
                    c,
                    Style {
                        strike: true,
                        ..style
                    },
                    link,
                    out,
                ),
                Inline::Link { url, content } => {
                    let target = if safe_url(url) && url.contains(':') {
                        self.links.push(url.clone());
                        Some(self.links.len() - 1)
                    } else {
                        None
                    };
                    let s = Style {
                        color: LINK,
                        underline: target.is_some(),
                        ..style
                    };
                    self.flatten(content, s, target, out);
                }
                Inline::Image { alt, .. } => {
                    let label = if alt.is_empty() {
                        "[image]".to_owned()
                    } else {
                        format!("[image: {alt}]")
                    };
                    out.push((
                        label,
                        Style {
                            color: GREY,
                            ..style
                        },
                        link,
                    ));
                }
                Inline::LineBreak => out.push(("\n".to_owned(), style, link)),
                Inline::SoftBreak => out.push((" ".to_owned(), style, link)),
            }
        }
    }

    fn atom(&self, text: String, style: Style, link: Option<usize>, space: bool) -> Atom {
        let width = self.fonts.width(style.face, style.size, &text);
        Atom {
            text,
            style,
            link,
            width,
            space,
        }
    }

    /// Splits styled text into units a line may break between: at spaces
    /// and around CJK characters.
    fn units(&self, pieces: Vec<(String, Style, Option<usize>)>) -> Vec<Unit> {
        let mut units: Vec<Unit> = Vec::new();
        let mut current: Vec<Atom> = Vec::new();
        let flush = |current: &mut Vec<Atom>, units: &mut Vec<Unit>| {
            if !current.is_empty() {
                units.push(Some(std::mem::take(current)));
            }
        };
        for (text, style, link) in pieces {
            if text == "\n" {
                flush(&mut current, &mut units);
                units.push(None);
                continue;
            }
            let mut word = String::new();
            for c in text.chars() {
                if c.is_whitespace() {
                    if !word.is_empty() {
                        current.push(self.atom(std::mem::take(&mut word), style, link, false));
                    }
                    flush(&mut current, &mut units);
                    let last_is_space =
                        matches!(units.last(), Some(Some(a)) if a.first().is_some_and(|a| a.space));
                    if !last_is_space {
                        units.push(Some(vec![self.atom(" ".to_owned(), style, link, true)]));
                    }
                } else if is_cjk(c) {
                    if !word.is_empty() {
                        current.push(self.atom(std::mem::take(&mut word), style, link, false));
                    }
                    flush(&mut current, &mut units);
                    units.push(Some(vec![self.atom(c.to_string(), style, link, false)]));
                } else {
                    word.push(c);
                }
            }
            if !word.is_empty() {
                current.push(self.atom(word, style, link, false));
            }
        }
        flush(&mut current, &mut units);
        units
    }

    /// Greedy line filling; a unit wider than a whole line is cut between
    /// characters.
    fn wrap(&self, units: Vec<Unit>, width: f32) -> Vec<Line> {
        let mut lines: Vec<Line> = Vec::new();
        let mut line: Line = Vec::new();
        let mut used = 0.0;
        let finish = |line: &mut Line, used: &mut f32, lines: &mut Vec<Line>| {
            while line.last().is_some_and(|a| a.space) {
                line.pop();
            }
            lines.push(std::mem::take(line));
            *used = 0.0;
        };
        for unit in units {
            let Some(atoms) = unit else {
                finish(&mut line, &mut used, &mut lines);
                continue;
            };
            let w: f32 = atoms.iter().map(|a| a.width).sum();
            if atoms.iter().all(|a| a.space) {
                if !line.is_empty() {
                    used += w;
                    line.extend(atoms);
                }
                continue;
            }
            if used + w > width && !line.is_empty() {
                finish(&mut line, &mut used, &mut lines);
            }
            if w > width {
                // Cut by characters.
                for atom in atoms {
                    let mut chunk = String::new();
                    for c in atom.text.chars() {
                        let cw = self
                            .fonts
                            .width(atom.style.face, atom.style.size, &c.to_string());
                        if used + cw > width && (!chunk.is_empty() || !line.is_empty()) {
                            if !chunk.is_empty() {
                                line.push(self.atom(
                                    std::mem::take(&mut chunk),
                                    atom.style,
                                    atom.link,
                                    false,
                                ));
                            }
                            finish(&mut line, &mut used, &mut lines);
                        }
                        chunk.push(c);
                        used += cw;
                    }
                    if !chunk.is_empty() {
                        line.push(self.atom(chunk, atom.style, atom.link, false));
                    }
                }
            } else {
                used += w;
                line.extend(atoms);
            }
        }
        if !line.is_empty() {
            finish(&mut line, &mut used, &mut lines);
        }
        lines
    }

    fn text_lines(&mut self, inlines: &[Inline], style: Style, width: f32) -> Vec<Line> {
        let mut pieces = Vec::new();
        self.flatten(inlines, style, None, &mut pieces);
        let units = self.units(pieces);
        self.wrap(units, width)
    }

    fn line_height(line: &[Atom], base: f32) -> f32 {
        line.iter().map(|a| a.style.size).fold(base, f32::max) * 1.45
    }

    fn line_width(line: &[Atom]) -> f32 {
        line.iter().map(|a| a.width).sum()
    }

    /// Draws one laid-out line with its baseline at `baseline`.
    fn draw_line(&mut self, line: &[Atom], x: f32, baseline: f32) {
        let mut x = x;
        let mut i = 0;
        while i < line.len() {
            let first = &line[i];
            let mut text = first.text.clone();
            let mut j = i + 1;
            while j < line.len() && line[j].style == first.style && line[j].link == first.link {
                text.push_str(&line[j].text);
                j += 1;
            }
            let (style, link) = (first.style, first.link);
            let start = x;
            // Runs of one resolved face each.
            let mut run = String::new();
            let mut run_face = None;
            for c in text.chars() {
                let face = self.fonts.resolve(style.face, c);
                if run_face.is_some_and(|f| f != face) {
                    x += self.emit_text(&run, run_face.unwrap_or(face), style, x, baseline);
                    run.clear();
                }
                run_face = Some(face);
                run.push(c);
            }
            if let Some(face) = run_face {
                x += self.emit_text(&run, face, style, x, baseline);
            }
            let w = x - start;
            if style.strike {
                self.op(Op::Line {
                    x1: start,
                    y1: baseline - style.size * 0.3,
                    x2: x,
                    y2: baseline - style.size * 0.3,
                    width: 0.6,
                    color: style.color,
                });
            }
            if style.underline {
                self.op(Op::Line {
                    x1: start,
                    y1: baseline + 1.5,
                    x2: x,
                    y2: baseline + 1.5,
                    width: 0.5,
                    color: style.color,
                });
            }
            if let Some(url) = link.and_then(|l| self.links.get(l)).cloned() {
                self.op(Op::Link {
                    x: start,
                    y: baseline - style.size,
                    w,
                    h: style.size * 1.3,
                    url,
                });
            }
            i = j;
        }
    }

    fn emit_text(&mut self, text: &str, face: FaceId, style: Style, x: f32, baseline: f32) -> f32 {
        let w = self.fonts.width(face, style.size, text);
        if !text.trim().is_empty() {
            self.op(Op::Text {
                x,
                y: baseline,
                face,
                size: style.size,
                color: style.color,
                text: text.to_owned(),
            });
        }
        w
    }

    /// Lays out a paragraph-like run of lines at `x`; `marker` is drawn at
    /// the first line's baseline (a list bullet).
    fn flow(&mut self, lines: &[Line], x: f32, base: f32, marker: Option<(String, Style, f32)>) {
        let mut marker = marker;
        for line in lines {
            let h = Self::line_height(line, base);
            self.ensure(h);
            self.bars(h);
            let baseline = self.y + h * 0.76;
            if let Some((text, style, mx)) = marker.take() {
                let m = self.atom(text, style, None, false);
                self.draw_line(&[m], mx, baseline);
            }
            self.draw_line(line, x, baseline);
            self.y += h;
        }
        if let Some((text, style, mx)) = marker {
            // An empty item still shows its bullet.
            let h = base * 1.45;
            self.ensure(h);
            let m = self.atom(text, style, None, false);
            let baseline = self.y + h * 0.76;
            self.draw_line(&[m], mx, baseline);
            self.y += h;
        }
    }

    // ---- blocks ----

    fn blocks(&mut self, blocks: &[Block], x: f32, width: f32, depth: usize) {
        for block in blocks {
            self.block(block, x, width, depth);
        }
    }

    fn block(&mut self, block: &Block, x: f32, width: f32, depth: usize) {
        match block {
            Block::Heading { level, content } => {
                let size = match level {
                    1 => 20.0,
                    2 => 15.5,
                    3 => 13.0,
                    4 => 11.5,
                    _ => 10.5,
                };
                self.space(size * 0.8);
                let style = Style {
                    face: FaceId::Bold,
                    ..Style::body(size)
                };
                let lines = self.text_lines(content, style, width);
                let h: f32 = lines.iter().map(|l| Self::line_height(l, size)).sum();
                // Keep the heading with what follows it.
                self.ensure(h + BODY * 4.5);
                self.flow(&lines, x, size, None);
                if *level <= 2 {
                    self.op(Op::Line {
                        x1: x,
                        y1: self.y + 1.0,
                        x2: x + width,
                        y2: self.y + 1.0,
                        width: if *level == 1 { 1.0 } else { 0.5 },
                        color: RULE,
                    });
                }
                self.y += size * 0.4;
            }
            Block::Paragraph(content) => {
                let lines = self.text_lines(content, Style::body(BODY), width);
                self.flow(&lines, x, BODY, None);
                self.space(BODY * 0.6);
            }
            Block::List(list) => {
                self.list(list, x, width, depth);
                self.space(BODY * 0.4);
            }
            Block::Table(table) => {
                self.table(table, x, width);
                self.space(BODY * 0.8);
            }
            Block::CodeBlock { code, .. } => {
                self.code(code, x, width);
                self.space(BODY * 0.6);
            }
            Block::BlockQuote(blocks) => {
                self.quote_bars.push(x);
                self.blocks(blocks, x + QUOTE_INDENT, width - QUOTE_INDENT, depth);
                self.quote_bars.pop();
            }
            Block::Rule => {
                self.ensure(BODY);
                self.space(BODY * 0.3);
                self.op(Op::Line {
                    x1: x,
                    y1: self.y,
                    x2: x + width,
                    y2: self.y,
                    width: 0.7,
                    color: RULE,
                });
                self.y += BODY * 0.8;
            }
        }
    }

    fn list(&mut self, list: &List, x: f32, width: f32, depth: usize) {
        let bullet = ["•", "◦", "▪"][depth % 3];
        for (i, item) in list.items.iter().enumerate() {
            let mut marker = match list.start {
                Some(n) => format!("{}.", n + i as u64),
                None => bullet.to_owned(),
            };
            if let Some(done) = item.checked {
                marker = if done {
                    "[x]".to_owned()
                } else {
                    "[ ]".to_owned()
                };
            }
            let content_x =
                x + LIST_INDENT.max(self.fonts.width(FaceId::Regular, BODY, &marker) + 6.0);
            let content_w = width - (content_x - x);
            let marker_style = Style::body(BODY);
            let mut pending = Some((marker, marker_style, x + 4.0));
            for block in &item.blocks {
                match (block, pending.take()) {
                    (Block::Paragraph(content), m) => {
                        let lines = self.text_lines(content, Style::body(BODY), content_w);
                        self.flow(&lines, content_x, BODY, m);
                        self.space(BODY * 0.15);
                    }
                    (Block::List(inner), m) => {
                        if let Some(m) = m {
                            self.flow(&[], content_x, BODY, Some(m));
                        }
                        self.list(inner, content_x, content_w, depth + 1);
                    }
                    (other, m) => {
                        if let Some(m) = m {
                            self.flow(&[], content_x, BODY, Some(m));
                        }
                        self.block(other, content_x, content_w, depth + 1);
                    }
                }
            }
            if let Some(m) = pending {
                self.flow(&[], content_x, BODY, Some(m));
            }
        }
    }

    fn code(&mut self, code: &str, x: f32, width: f32) {
        let style = Style {
            face: FaceId::Mono,
            ..Style::body(CODE_SIZE)
        };
        let pad = 6.0;
        let inner = width - 2.0 * pad;
        let mut lines: Vec<Line> = Vec::new();
        for raw in code.trim_end_matches('\n').split('\n') {
            let text = raw.replace('\t', "    ");
            // Code keeps its spaces: one atom per character run, cut to width.
            let atom = self.atom(text, style, None, false);
            if atom.text.is_empty() {
                lines.push(Vec::new());
            } else {
                lines.extend(self.wrap(vec![Some(vec![atom])], inner));
            }
        }
        let lh = CODE_SIZE * 1.45;
        self.ensure(lh * 2.0 + pad * 2.0);
        self.bars(pad);
        self.op(Op::FillRect {
            x,
            y: self.y,
            w: width,
            h: pad,
            color: SHADE,
        });
        self.y += pad;
        for line in &lines {
            if self.ensure(lh) {
                self.op(Op::FillRect {
                    x,
                    y: self.y - pad,
                    w: width,
                    h: pad,
                    color: SHADE,
                });
            }
            self.bars(lh);
            self.op(Op::FillRect {
                x,
                y: self.y,
                w: width,
                h: lh + 0.3,
                color: SHADE,
            });
            let baseline = self.y + lh * 0.76;
            self.draw_line(line, x + pad, baseline);
            self.y += lh;
        }
        self.op(Op::FillRect {
            x,
            y: self.y,
            w: width,
            h: pad,
            color: SHADE,
        });
        self.y += pad;
    }

    fn table(&mut self, table: &Table, x: f32, width: f32) {
        let columns = table.columns();
        if columns == 0 {
            return;
        }
        let cell_style = Style::body(TABLE_SIZE);
        let head_style = Style {
            face: FaceId::Bold,
            ..cell_style
        };
        let empty: Vec<Inline> = Vec::new();
        let cell = |row: &Vec<Vec<Inline>>, c: usize| row.get(c).unwrap_or(&empty).clone();
        // Natural (one-line) and minimum (longest unbreakable unit) widths.
        let mut natural = vec![0.0f32; columns];
        let mut minimum = vec![0.0f32; columns];
        let all_rows: Vec<(&Vec<Vec<Inline>>, Style)> =
            std::iter::once((&table.header, head_style))
                .chain(table.rows.iter().map(|r| (r, cell_style)))
                .collect();
        for (row, style) in &all_rows {
            for c in 0..columns {
                let mut pieces = Vec::new();
                self.flatten(&cell(row, c), *style, None, &mut pieces);
                let units = self.units(pieces);
                let mut line = 0.0f32;
                for unit in units {
                    match unit {
                        Some(atoms) => {
                            let w: f32 = atoms.iter().map(|a| a.width).sum();
                            line += w;
                            if !atoms.iter().all(|a| a.space) {
                                minimum[c] = minimum[c].max(w);
                            }
                        }
                        None => line = 0.0,
                    }
                    natural[c] = natural[c].max(line);
                }
            }
        }
        let pad2 = 2.0 * CELL_PAD;
        let natural: Vec<f32> = natural.iter().map(|w| w + pad2 + 1.0).collect();
        let cap = width / columns as f32;
        let minimum: Vec<f32> = minimum
            .iter()
            .map(|w| (w + pad2 + 1.0).min(cap.max(40.0)))
            .collect();
        let total_natural: f32 = natural.iter().sum();
        let widths: Vec<f32> = if total_natural <= width {
            natural.iter().map(|w| w * width / total_natural).collect()
        } else {
            let total_min: f32 = minimum.iter().sum();
            let slack = (width - total_min).max(0.0);
            let extra: Vec<f32> = natural
                .iter()
                .zip(&minimum)
                .map(|(n, m)| (n - m).max(0.0))
                .collect();
            let total_extra: f32 = extra.iter().sum::<f32>().max(0.001);
            let ws: Vec<f32> = minimum
                .iter()
                .zip(&extra)
                .map(|(m, e)| m + slack * e / total_extra)
                .collect();
            let sum: f32 = ws.iter().sum();
            ws.iter().map(|w| w * width / sum).collect()
        };

        let header = self.table_row(&table.header, columns, &widths, head_style);
        let header_h = header.1;
        self.ensure(header_h * 2.0);
        self.draw_row(&header, x, &widths, true, &table.alignments);
        for row in &table.rows {
            let laid = self.table_row(row, columns, &widths, cell_style);
            if self.ensure(laid.1) {
                self.draw_row(&header, x, &widths, true, &table.alignments);
            }
            self.draw_row(&laid, x, &widths, false, &table.alignments);
        }
    }

    fn table_row(
        &mut self,
        row: &[Vec<Inline>],
        columns: usize,
        widths: &[f32],
        style: Style,
    ) -> (Vec<Vec<Line>>, f32) {
        let mut cells = Vec::with_capacity(columns);
        let mut height = 0.0f32;
        for (c, w) in widths.iter().enumerate().take(columns) {
            let content = row.get(c).cloned().unwrap_or_default();
            let lines = self.text_lines(&content, style, w - 2.0 * CELL_PAD);
            let h: f32 = lines
                .iter()
                .map(|l| Self::line_height(l, style.size))
                .sum::<f32>()
                .max(style.size * 1.45);
            height = height.max(h + 2.0 * CELL_PAD);
            cells.push(lines);
        }
        (cells, height)
    }

    fn draw_row(
        &mut self,
        row: &(Vec<Vec<Line>>, f32),
        x: f32,
        widths: &[f32],
        header: bool,
        alignments: &[Alignment],
    ) {
        let (cells, h) = row;
        self.bars(*h);
        let mut cx = x;
        for (c, lines) in cells.iter().enumerate() {
            let w = widths.get(c).copied().unwrap_or(0.0);
            if header {
                self.op(Op::FillRect {
                    x: cx,
                    y: self.y,
                    w,
                    h: *h,
                    color: HEADER_SHADE,
                });
            }
            self.op(Op::StrokeRect {
                x: cx,
                y: self.y,
                w,
                h: *h,
            });
            let mut y = self.y + CELL_PAD;
            for line in lines {
                let lh = Self::line_height(line, TABLE_SIZE);
                let lw = Self::line_width(line);
                let inner = w - 2.0 * CELL_PAD;
                let lx = match alignments.get(c) {
                    Some(Alignment::Right) => cx + CELL_PAD + (inner - lw).max(0.0),
                    Some(Alignment::Center) => cx + CELL_PAD + ((inner - lw) / 2.0).max(0.0),
                    _ => cx + CELL_PAD,
                };
                self.draw_line(line, lx, y + lh * 0.76);
                y += lh;
            }
            cx += w;
        }
        self.y += h;
    }

    fn footer(&mut self, title: &str) {
        let total = self.pages.len();
        let style = Style {
            color: GREY,
            ..Style::body(8.5)
        };
        let baseline = PAGE_H - 32.0;
        for index in 0..total {
            let label = format!("Page {} of {}", index + 1, total);
            let lw = self.fonts.width(FaceId::Regular, 8.5, &label);
            let label_atom = self.atom(label, style, None, false);
            // The title, shortened to the space left of the page number.
            let max_title = CONTENT_W - lw - 24.0;
            let mut t = String::new();
            for c in title.chars() {
                if self.fonts.width(FaceId::Regular, 8.5, &t)
                    + self.fonts.width(FaceId::Regular, 8.5, &c.to_string())
                    > max_title - 10.0
                {
                    t.push('…');
                    break;
                }
                t.push(c);
            }
            let title_atom = self.atom(t, style, None, false);
            self.current = index;
            self.op(Op::Line {
                x1: MARGIN_X,
                y1: baseline - 12.0,
                x2: PAGE_W - MARGIN_X,
                y2: baseline - 12.0,
                width: 0.4,
                color: RULE,
            });
            self.draw_line(&[title_atom], MARGIN_X, baseline);
            self.draw_line(&[label_atom], PAGE_W - MARGIN_X - lw, baseline);
        }
    }
}

fn fill(c: Rgb) -> Fill {
    Fill {
        paint: rgb::Color::new(c.0, c.1, c.2).into(),
        opacity: NormalizedF32::ONE,
        rule: Default::default(),
    }
}

fn stroke(c: Rgb, width: f32) -> Stroke {
    Stroke {
        paint: rgb::Color::new(c.0, c.1, c.2).into(),
        width,
        ..Default::default()
    }
}

fn draw(surface: &mut Surface<'_>, fonts: &Fonts, op: &Op) {
    match op {
        Op::Text {
            x,
            y,
            face,
            size,
            color,
            text,
        } => {
            surface.set_stroke(None);
            surface.set_fill(Some(fill(*color)));
            surface.draw_text(
                Point::from_xy(*x, *y),
                fonts.face(*face).pdf.clone(),
                *size,
                text,
                false,
                TextDirection::Auto,
            );
        }
        Op::FillRect { x, y, w, h, color } => {
            if let Some(rect) = Rect::from_xywh(*x, *y, *w, *h) {
                let mut pb = PathBuilder::new();
                pb.push_rect(rect);
                if let Some(path) = pb.finish() {
                    surface.set_stroke(None);
                    surface.set_fill(Some(fill(*color)));
                    surface.draw_path(&path);
                }
            }
        }
        Op::StrokeRect { x, y, w, h } => {
            if let Some(rect) = Rect::from_xywh(*x, *y, *w, *h) {
                let mut pb = PathBuilder::new();
                pb.push_rect(rect);
                if let Some(path) = pb.finish() {
                    surface.set_fill(None);
                    surface.set_stroke(Some(stroke(RULE, 0.6)));
                    surface.draw_path(&path);
                }
            }
        }
        Op::Line {
            x1,
            y1,
            x2,
            y2,
            width,
            color,
        } => {
            let mut pb = PathBuilder::new();
            pb.move_to(*x1, *y1);
            pb.line_to(*x2, *y2);
            if let Some(path) = pb.finish() {
                surface.set_fill(None);
                surface.set_stroke(Some(stroke(*color, *width)));
                surface.draw_path(&path);
            }
        }
        Op::Link { .. } => {}
    }
}

fn creation_date(doc: &ExportDoc) -> DateTime {
    let dt = doc.meta.generated_at.as_datetime();
    DateTime::new(u16::try_from(dt.year()).unwrap_or(1970))
        .month(u8::from(dt.month()))
        .day(dt.day())
        .hour(dt.hour())
        .minute(dt.minute())
        .second(dt.second())
}

/// Renders documents to PDF with the embedded fonts.
#[derive(Clone, Copy, Debug, Default)]
pub struct PdfExporter;

impl PdfExporter {
    /// Lays out `doc` and returns the PDF bytes and the page count.
    pub fn render(&self, doc: &ExportDoc) -> Result<(Vec<u8>, usize), ExportError> {
        let fonts = Fonts::get()?;
        let blocks = parse(&doc.markdown);
        let mut layout = Layout::new(fonts);
        layout.blocks(&blocks, MARGIN_X, CONTENT_W, 0);
        layout.footer(&doc.title);
        let page_count = layout.pages.len();

        let mut document = Document::new();
        document.set_metadata(
            Metadata::new()
                .title(doc.title.clone())
                .description(format!(
                    "{} for issue {}",
                    doc.meta.kind.label(),
                    doc.meta.issue_id
                ))
                .creator("TFTSR".to_owned())
                .producer("TFTSR (krilla)".to_owned())
                .creation_date(creation_date(doc)),
        );
        let settings = PageSettings::from_wh(PAGE_W, PAGE_H)
            .ok_or_else(|| ExportError::new(ExportErrorKind::Render, "invalid page size"))?;
        for ops in &layout.pages {
            let mut page = document.start_page_with(settings.clone());
            {
                let mut surface = page.surface();
                for op in ops {
                    draw(&mut surface, fonts, op);
                }
                surface.finish();
            }
            for op in ops {
                if let Op::Link { x, y, w, h, url } = op
                    && let Some(rect) = Rect::from_xywh(*x, *y, w.max(1.0), *h)
                {
                    page.add_annotation(Annotation::new_link(
                        LinkAnnotation::new(
                            rect,
                            Target::Action(Action::Link(LinkAction::new(url.clone()))),
                        ),
                        None,
                    ));
                }
            }
            page.finish();
        }
        let bytes = document.finish().map_err(|e| {
            tracing::error!(error = %e, "PDF serialisation failed");
            ExportError::new(ExportErrorKind::Render, "the PDF could not be written")
        })?;
        Ok((bytes, page_count))
    }
}

impl Exporter for PdfExporter {
    fn format(&self) -> ExportFormat {
        ExportFormat::Pdf
    }

    #[tracing::instrument(skip_all, fields(kind = doc.meta.kind.as_str()))]
    fn export(&self, doc: &ExportDoc) -> Result<Vec<u8>, ExportError> {
        let (bytes, pages) = self.render(doc)?;
        tracing::debug!(pages, bytes = bytes.len(), "PDF exported");
        Ok(bytes)
    }
}
