//! DOCX export: the Markdown block model written as WordprocessingML.
//!
//! The package is small and written by hand rather than through a
//! library: one document part, a styles part with real `Heading 1`..`6`,
//! `Source Code` and `Block Text` paragraph styles, a numbering part with
//! bullet and decimal definitions nine levels deep (each ordered list gets
//! its own instance so numbering restarts), tables with a repeating header
//! row and borders, external hyperlinks, and core properties (title,
//! subject, creation date). Word and LibreOffice open it; pandoc reads its
//! structure back.

use std::fmt::Write as _;
use std::io::{Cursor, Write as _};

use tftsr_core::doc::html::safe_url;
use tftsr_core::doc::markdown::{Alignment, Block, Inline, List, Table, parse, plain_text};
use tftsr_core::doc::{ExportDoc, ExportError, ExportErrorKind, ExportFormat, Exporter};
use zip::write::SimpleFileOptions;

/// Text width of an A4 page with 2.5 cm margins, in twentieths of a point.
const TEXT_WIDTH: u32 = 9_638;
const BULLET_NUM: u32 = 1;
const ORDERED_ABSTRACT: u32 = 1;

/// Escapes text for XML content and attributes, dropping the characters
/// XML 1.0 cannot carry at all.
fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || matches!(c, '\u{FFFE}' | '\u{FFFF}') => {}
            c => out.push(c),
        }
    }
    out
}

#[derive(Clone, Copy, Default)]
struct RunStyle {
    bold: bool,
    italic: bool,
    strike: bool,
    code: bool,
    link: bool,
}

struct Writer {
    body: String,
    /// External link targets; relationship ids start after the fixed ones.
    links: Vec<String>,
    /// `(numId, start)` of each ordered list instance.
    ordered: Vec<(u32, u64)>,
}

impl Writer {
    fn link_id(&mut self, url: &str) -> String {
        self.links.push(url.to_owned());
        format!("rIdLink{}", self.links.len())
    }

    fn runs(&mut self, inlines: &[Inline], style: RunStyle, out: &mut String) {
        for inline in inlines {
            match inline {
                Inline::Text(t) => run(t, style, false, out),
                Inline::Code(t) => run(
                    t,
                    RunStyle {
                        code: true,
                        ..style
                    },
                    false,
                    out,
                ),
                Inline::Strong(c) => self.runs(
                    c,
                    RunStyle {
                        bold: true,
                        ..style
                    },
                    out,
                ),
                Inline::Emphasis(c) => self.runs(
                    c,
                    RunStyle {
                        italic: true,
                        ..style
                    },
                    out,
                ),
                Inline::Strikethrough(c) => self.runs(
                    c,
                    RunStyle {
                        strike: true,
                        ..style
                    },
                    out,
                ),
                Inline::Link { url, content } => {
                    if safe_url(url) && url.contains(':') {
                        let id = self.link_id(url);
                        let _ = write!(out, "<w:hyperlink r:id=\"{id}\" w:history=\"1\">");
                        self.runs(
                            content,
                            RunStyle {
                                link: true,
                                ..style
                            },
                            out,
                        );
                        out.push_str("</w:hyperlink>");
                    } else {
                        self.runs(content, style, out);
                    }
                }
                Inline::Image { alt, .. } => {
                    let label = if alt.is_empty() {
                        "[image]".to_owned()
                    } else {
                        format!("[image: {alt}]")
                    };
                    run(
                        &label,
                        RunStyle {
                            italic: true,
                            ..style
                        },
                        false,
                        out,
                    );
                }
                Inline::LineBreak => out.push_str("<w:r><w:br/></w:r>"),
                Inline::SoftBreak => run(" ", style, false, out),
            }
        }
    }

    fn paragraph(&mut self, ppr: &str, inlines: &[Inline], style: RunStyle) {
        let mut runs = String::new();
        self.runs(inlines, style, &mut runs);
        let _ = write!(self.body, "<w:p>{}{runs}</w:p>", ppr_xml(ppr));
    }

    fn blocks(&mut self, blocks: &[Block], ctx: &Ctx) {
        for block in blocks {
            self.block(block, ctx);
        }
    }

    fn block(&mut self, block: &Block, ctx: &Ctx) {
        match block {
            Block::Heading { level, content } => {
                let ppr = format!("<w:pStyle w:val=\"Heading{}\"/>", (*level).clamp(1, 6));
                self.paragraph(&ppr, content, RunStyle::default());
            }
            Block::Paragraph(content) => {
                let ppr = ctx.paragraph_props();
                self.paragraph(&ppr, content, RunStyle::default());
            }
            Block::List(list) => self.list(list, ctx),
            Block::Table(table) => self.table(table),
            Block::CodeBlock { code, .. } => {
                for line in code.trim_end_matches('\n').split('\n') {
                    let mut runs = String::new();
                    run(line, RunStyle::default(), true, &mut runs);
                    let ppr = format!("<w:pStyle w:val=\"SourceCode\"/>{}", ctx.indent());
                    let _ = write!(self.body, "<w:p>{}{runs}</w:p>", ppr_xml(&ppr));
                }
            }
            Block::BlockQuote(blocks) => {
                let inner = Ctx {
                    quote: true,
                    ..ctx.clone()
                };
                self.blocks(blocks, &inner);
            }
            Block::Rule => {
                self.body.push_str(
                    "<w:p><w:pPr><w:pBdr><w:bottom w:val=\"single\" w:sz=\"6\" w:space=\"1\" w:color=\"AAAAAA\"/></w:pBdr></w:pPr></w:p>",
                );
            }
        }
    }

    fn list(&mut self, list: &List, ctx: &Ctx) {
        let level = ctx.list_level.map_or(0, |l| l + 1).min(8);
        let num_id = match list.start {
            Some(start) => {
                let id = BULLET_NUM + 1 + self.ordered.len() as u32;
                self.ordered.push((id, start));
                id
            }
            None => BULLET_NUM,
        };
        for item in &list.items {
            let inner = Ctx {
                list_level: Some(level),
                ..ctx.clone()
            };
            let mut first = true;
            for block in &item.blocks {
                match block {
                    Block::Paragraph(content) if first => {
                        let mut content = content.clone();
                        if let Some(done) = item.checked {
                            content
                                .insert(0, Inline::Text(if done { "☒ " } else { "☐ " }.to_owned()));
                        }
                        let ppr = format!(
                            "<w:pStyle w:val=\"ListParagraph\"/><w:numPr><w:ilvl w:val=\"{level}\"/><w:numId w:val=\"{num_id}\"/></w:numPr>"
                        );
                        self.paragraph(&ppr, &content, RunStyle::default());
                    }
                    other => {
                        if first {
                            // An item that opens with something other than
                            // text still gets its bullet.
                            let ppr = format!(
                                "<w:pStyle w:val=\"ListParagraph\"/><w:numPr><w:ilvl w:val=\"{level}\"/><w:numId w:val=\"{num_id}\"/></w:numPr>"
                            );
                            self.paragraph(&ppr, &[], RunStyle::default());
                        }
                        self.block(other, &inner);
                    }
                }
                first = false;
            }
        }
    }

    fn table(&mut self, table: &Table) {
        let columns = table.columns();
        if columns == 0 {
            return;
        }
        // Column widths in proportion to their longest text, within bounds.
        let mut weight = vec![1usize; columns];
        for row in std::iter::once(&table.header).chain(&table.rows) {
            for (c, cell) in row.iter().enumerate().take(columns) {
                weight[c] = weight[c].max(plain_text(cell).chars().count().clamp(3, 60));
            }
        }
        let total: usize = weight.iter().sum();
        let widths: Vec<u32> = weight
            .iter()
            .map(|w| (TEXT_WIDTH as usize * w / total.max(1)) as u32)
            .collect();
        self.body.push_str(
            "<w:tbl><w:tblPr><w:tblStyle w:val=\"TableGrid\"/><w:tblW w:w=\"5000\" w:type=\"pct\"/>\
             <w:tblBorders><w:top w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"999999\"/>\
             <w:left w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"999999\"/>\
             <w:bottom w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"999999\"/>\
             <w:right w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"999999\"/>\
             <w:insideH w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"999999\"/>\
             <w:insideV w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"999999\"/></w:tblBorders>\
             <w:tblLayout w:type=\"fixed\"/>\
             <w:tblLook w:val=\"04A0\" w:firstRow=\"1\" w:lastRow=\"0\" w:firstColumn=\"0\" w:lastColumn=\"0\" w:noHBand=\"0\" w:noVBand=\"1\"/>\
             </w:tblPr><w:tblGrid>",
        );
        for w in &widths {
            let _ = write!(self.body, "<w:gridCol w:w=\"{w}\"/>");
        }
        self.body.push_str("</w:tblGrid>");
        self.row(&table.header, &widths, &table.alignments, true);
        for row in &table.rows {
            self.row(row, &widths, &table.alignments, false);
        }
        // Word needs a paragraph between a table and what follows.
        self.body.push_str("</w:tbl><w:p/>");
    }

    fn row(&mut self, row: &[Vec<Inline>], widths: &[u32], alignments: &[Alignment], header: bool) {
        self.body.push_str("<w:tr>");
        if header {
            self.body.push_str("<w:trPr><w:tblHeader/></w:trPr>");
        }
        for (c, w) in widths.iter().enumerate() {
            let shade = if header {
                "<w:shd w:val=\"clear\" w:color=\"auto\" w:fill=\"E4E8EE\"/>"
            } else {
                ""
            };
            let _ = write!(
                self.body,
                "<w:tc><w:tcPr><w:tcW w:w=\"{w}\" w:type=\"dxa\"/>{shade}</w:tcPr>"
            );
            let jc = match alignments.get(c) {
                Some(Alignment::Center) => "<w:jc w:val=\"center\"/>",
                Some(Alignment::Right) => "<w:jc w:val=\"right\"/>",
                _ => "",
            };
            let ppr = format!("<w:pStyle w:val=\"Compact\"/>{jc}");
            let content = row.get(c).cloned().unwrap_or_default();
            self.paragraph(
                &ppr,
                &content,
                RunStyle {
                    bold: header,
                    ..RunStyle::default()
                },
            );
            self.body.push_str("</w:tc>");
        }
        self.body.push_str("</w:tr>");
    }
}

#[derive(Clone, Default)]
struct Ctx {
    quote: bool,
    list_level: Option<u32>,
}

impl Ctx {
    fn indent(&self) -> String {
        match self.list_level {
            Some(l) => format!("<w:ind w:left=\"{}\"/>", 720 * (l + 1)),
            None => String::new(),
        }
    }

    fn paragraph_props(&self) -> String {
        let style = if self.quote {
            "<w:pStyle w:val=\"BlockText\"/>"
        } else {
            ""
        };
        format!("{style}{}", self.indent())
    }
}

fn ppr_xml(inner: &str) -> String {
    if inner.is_empty() {
        String::new()
    } else {
        format!("<w:pPr>{inner}</w:pPr>")
    }
}

fn run(text: &str, style: RunStyle, keep_spaces: bool, out: &mut String) {
    let mut rpr = String::new();
    if style.code {
        rpr.push_str("<w:rStyle w:val=\"VerbatimChar\"/>");
    } else if style.link {
        rpr.push_str("<w:rStyle w:val=\"Hyperlink\"/>");
    }
    if style.bold {
        rpr.push_str("<w:b/><w:bCs/>");
    }
    if style.italic {
        rpr.push_str("<w:i/><w:iCs/>");
    }
    if style.strike {
        rpr.push_str("<w:strike/>");
    }
    out.push_str("<w:r>");
    if !rpr.is_empty() {
        let _ = write!(out, "<w:rPr>{rpr}</w:rPr>");
    }
    let text = if keep_spaces {
        text.replace('\t', "    ")
    } else {
        text.to_owned()
    };
    let _ = write!(
        out,
        "<w:t xml:space=\"preserve\">{}</w:t></w:r>",
        xml(&text)
    );
}

const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/><Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/><Override PartName="/word/numbering.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.numbering+xml"/><Override PartName="/word/settings.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.settings+xml"/><Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/><Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/></Types>"#;

const ROOT_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties" Target="docProps/app.xml"/></Relationships>"#;

const APP: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"><Application>TFTSR</Application></Properties>"#;

const SETTINGS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:settings xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:defaultTabStop w:val="720"/><w:compat><w:compatSetting w:name="compatibilityMode" w:uri="http://schemas.microsoft.com/office/word" w:val="15"/></w:compat></w:settings>"#;

fn styles() -> String {
    let mut s = String::from(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:styles xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:docDefaults><w:rPrDefault><w:rPr><w:rFonts w:ascii="Calibri" w:hAnsi="Calibri" w:eastAsia="Noto Sans CJK SC" w:cs="Calibri"/><w:sz w:val="22"/><w:szCs w:val="22"/><w:lang w:val="en-GB"/></w:rPr></w:rPrDefault><w:pPrDefault><w:pPr><w:spacing w:after="120" w:line="264" w:lineRule="auto"/></w:pPr></w:pPrDefault></w:docDefaults>
<w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/><w:qFormat/></w:style>
<w:style w:type="character" w:default="1" w:styleId="DefaultParagraphFont"><w:name w:val="Default Paragraph Font"/><w:uiPriority w:val="1"/><w:semiHidden/></w:style>
<w:style w:type="table" w:default="1" w:styleId="TableNormal"><w:name w:val="Normal Table"/><w:semiHidden/><w:tblPr><w:tblInd w:w="0" w:type="dxa"/><w:tblCellMar><w:top w:w="0" w:type="dxa"/><w:left w:w="108" w:type="dxa"/><w:bottom w:w="0" w:type="dxa"/><w:right w:w="108" w:type="dxa"/></w:tblCellMar></w:tblPr></w:style>
"#,
    );
    let sizes = [40, 32, 28, 24, 22, 22];
    for (i, size) in sizes.iter().enumerate() {
        let n = i + 1;
        let _ = writeln!(
            s,
            "<w:style w:type=\"paragraph\" w:styleId=\"Heading{n}\"><w:name w:val=\"heading {n}\"/><w:basedOn w:val=\"Normal\"/><w:next w:val=\"Normal\"/><w:uiPriority w:val=\"9\"/><w:qFormat/><w:pPr><w:keepNext/><w:keepLines/><w:spacing w:before=\"{}\" w:after=\"80\"/><w:outlineLvl w:val=\"{i}\"/></w:pPr><w:rPr><w:b/><w:bCs/><w:color w:val=\"1F3A5F\"/><w:sz w:val=\"{size}\"/><w:szCs w:val=\"{size}\"/></w:rPr></w:style>",
            if n == 1 { 120 } else { 240 }
        );
    }
    s.push_str(
        r#"<w:style w:type="paragraph" w:customStyle="1" w:styleId="SourceCode"><w:name w:val="Source Code"/><w:basedOn w:val="Normal"/><w:qFormat/><w:pPr><w:shd w:val="clear" w:color="auto" w:fill="F2F2F2"/><w:spacing w:after="0" w:line="240" w:lineRule="auto"/></w:pPr><w:rPr><w:rFonts w:ascii="Consolas" w:hAnsi="Consolas" w:cs="Consolas"/><w:sz w:val="18"/><w:szCs w:val="18"/></w:rPr></w:style>
<w:style w:type="character" w:customStyle="1" w:styleId="VerbatimChar"><w:name w:val="Verbatim Char"/><w:rPr><w:rFonts w:ascii="Consolas" w:hAnsi="Consolas" w:cs="Consolas"/><w:color w:val="962828"/><w:sz w:val="20"/></w:rPr></w:style>
<w:style w:type="character" w:styleId="Hyperlink"><w:name w:val="Hyperlink"/><w:rPr><w:color w:val="1450AA"/><w:u w:val="single"/></w:rPr></w:style>
<w:style w:type="paragraph" w:styleId="BlockText"><w:name w:val="Block Text"/><w:basedOn w:val="Normal"/><w:qFormat/><w:pPr><w:pBdr><w:left w:val="single" w:sz="18" w:space="8" w:color="C8C8C8"/></w:pBdr><w:ind w:left="360"/></w:pPr><w:rPr><w:color w:val="555555"/></w:rPr></w:style>
<w:style w:type="paragraph" w:styleId="ListParagraph"><w:name w:val="List Paragraph"/><w:basedOn w:val="Normal"/><w:qFormat/><w:pPr><w:spacing w:after="40"/><w:contextualSpacing/></w:pPr></w:style>
<w:style w:type="paragraph" w:customStyle="1" w:styleId="Compact"><w:name w:val="Compact"/><w:basedOn w:val="Normal"/><w:qFormat/><w:pPr><w:spacing w:before="20" w:after="20"/></w:pPr><w:rPr><w:sz w:val="20"/><w:szCs w:val="20"/></w:rPr></w:style>
<w:style w:type="table" w:styleId="TableGrid"><w:name w:val="Table Grid"/><w:basedOn w:val="TableNormal"/><w:tblPr><w:tblBorders><w:top w:val="single" w:sz="4" w:space="0" w:color="999999"/><w:left w:val="single" w:sz="4" w:space="0" w:color="999999"/><w:bottom w:val="single" w:sz="4" w:space="0" w:color="999999"/><w:right w:val="single" w:sz="4" w:space="0" w:color="999999"/><w:insideH w:val="single" w:sz="4" w:space="0" w:color="999999"/><w:insideV w:val="single" w:sz="4" w:space="0" w:color="999999"/></w:tblBorders></w:tblPr></w:style>
</w:styles>"#,
    );
    s
}

fn numbering(ordered: &[(u32, u64)]) -> String {
    let mut s = String::from(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:numbering xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">"#,
    );
    // Abstract 0: bullets; abstract 1: decimal numbers.
    s.push_str(
        "<w:abstractNum w:abstractNumId=\"0\"><w:multiLevelType w:val=\"hybridMultilevel\"/>",
    );
    for l in 0..9u32 {
        let glyph = ["•", "◦", "▪"][l as usize % 3];
        let _ = write!(
            s,
            "<w:lvl w:ilvl=\"{l}\"><w:start w:val=\"1\"/><w:numFmt w:val=\"bullet\"/><w:lvlText w:val=\"{glyph}\"/><w:lvlJc w:val=\"left\"/><w:pPr><w:ind w:left=\"{}\" w:hanging=\"360\"/></w:pPr></w:lvl>",
            720 * (l + 1)
        );
    }
    s.push_str("</w:abstractNum>");
    let _ = write!(
        s,
        "<w:abstractNum w:abstractNumId=\"{ORDERED_ABSTRACT}\"><w:multiLevelType w:val=\"hybridMultilevel\"/>"
    );
    for l in 0..9u32 {
        let _ = write!(
            s,
            "<w:lvl w:ilvl=\"{l}\"><w:start w:val=\"1\"/><w:numFmt w:val=\"decimal\"/><w:lvlText w:val=\"%{}.\"/><w:lvlJc w:val=\"left\"/><w:pPr><w:ind w:left=\"{}\" w:hanging=\"360\"/></w:pPr></w:lvl>",
            l + 1,
            720 * (l + 1)
        );
    }
    s.push_str("</w:abstractNum>");
    let _ = write!(
        s,
        "<w:num w:numId=\"{BULLET_NUM}\"><w:abstractNumId w:val=\"0\"/></w:num>"
    );
    for (id, start) in ordered {
        let _ = write!(
            s,
            "<w:num w:numId=\"{id}\"><w:abstractNumId w:val=\"{ORDERED_ABSTRACT}\"/>"
        );
        for l in 0..9 {
            let _ = write!(
                s,
                "<w:lvlOverride w:ilvl=\"{l}\"><w:startOverride w:val=\"{start}\"/></w:lvlOverride>"
            );
        }
        s.push_str("</w:num>");
    }
    s.push_str("</w:numbering>");
    s
}

fn core_properties(doc: &ExportDoc) -> String {
    let at = doc.meta.generated_at.as_datetime();
    let when = format!(
        "{}T{:02}:{:02}:{:02}Z",
        doc.meta.generated_at.date(),
        at.hour(),
        at.minute(),
        at.second()
    );
    format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:title>{}</dc:title><dc:subject>{}</dc:subject><dc:creator>TFTSR</dc:creator><cp:keywords>{}</cp:keywords><dc:identifier>{}</dc:identifier><dcterms:created xsi:type="dcterms:W3CDTF">{when}</dcterms:created><dcterms:modified xsi:type="dcterms:W3CDTF">{when}</dcterms:modified></cp:coreProperties>"#,
        xml(&doc.title),
        xml(doc.meta.kind.label()),
        xml(doc.meta.kind.as_str()),
        doc.meta.issue_id,
    )
}

fn document_rels(links: &[String]) -> String {
    let mut s = String::from(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rIdStyles" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/><Relationship Id="rIdNumbering" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/numbering" Target="numbering.xml"/><Relationship Id="rIdSettings" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/settings" Target="settings.xml"/>"#,
    );
    for (i, url) in links.iter().enumerate() {
        let _ = write!(
            s,
            "<Relationship Id=\"rIdLink{}\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink\" Target=\"{}\" TargetMode=\"External\"/>",
            i + 1,
            xml(url)
        );
    }
    s.push_str("</Relationships>");
    s
}

/// Renders documents to Office Open XML (`.docx`).
#[derive(Clone, Copy, Debug, Default)]
pub struct DocxExporter;

impl DocxExporter {
    fn package(&self, doc: &ExportDoc) -> Result<Vec<u8>, zip::result::ZipError> {
        let mut w = Writer {
            body: String::new(),
            links: Vec::new(),
            ordered: Vec::new(),
        };
        w.blocks(&parse(&doc.markdown), &Ctx::default());
        let document = format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><w:body>{}<w:sectPr><w:pgSz w:w="11906" w:h="16838"/><w:pgMar w:top="1418" w:right="1134" w:bottom="1418" w:left="1134" w:header="709" w:footer="709" w:gutter="0"/></w:sectPr></w:body></w:document>"#,
            w.body
        );
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options =
            SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        let parts: [(&str, String); 9] = [
            ("[Content_Types].xml", CONTENT_TYPES.to_owned()),
            ("_rels/.rels", ROOT_RELS.to_owned()),
            ("docProps/core.xml", core_properties(doc)),
            ("docProps/app.xml", APP.to_owned()),
            ("word/_rels/document.xml.rels", document_rels(&w.links)),
            ("word/document.xml", document),
            ("word/styles.xml", styles()),
            ("word/numbering.xml", numbering(&w.ordered)),
            ("word/settings.xml", SETTINGS.to_owned()),
        ];
        for (name, content) in parts {
            zip.start_file(name, options)?;
            zip.write_all(content.as_bytes())?;
        }
        Ok(zip.finish()?.into_inner())
    }
}

impl Exporter for DocxExporter {
    fn format(&self) -> ExportFormat {
        ExportFormat::Docx
    }

    #[tracing::instrument(skip_all, fields(kind = doc.meta.kind.as_str()))]
    fn export(&self, doc: &ExportDoc) -> Result<Vec<u8>, ExportError> {
        let bytes = self.package(doc).map_err(|e| {
            tracing::error!(error = %e, "DOCX packaging failed");
            ExportError::new(ExportErrorKind::Render, "the DOCX could not be written")
        })?;
        tracing::debug!(bytes = bytes.len(), "DOCX exported");
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_escaping_drops_invalid_characters() {
        assert_eq!(xml("a<b>&\"c\u{1}\u{0}\td"), "a&lt;b&gt;&amp;&quot;c\td");
    }

    #[test]
    fn unsafe_links_are_not_written_as_relationships() {
        let mut w = Writer {
            body: String::new(),
            links: Vec::new(),
            ordered: Vec::new(),
        };
        w.blocks(
            &parse("[a](javascript:alert(1)) [b](https://ok.test)"),
            &Ctx::default(),
        );
        assert_eq!(w.links, vec!["https://ok.test".to_owned()]);
        assert!(w.body.contains("<w:hyperlink r:id=\"rIdLink1\""));
        assert!(w.body.contains("<w:rStyle w:val=\"Hyperlink\"/>"));
    }

    #[test]
    fn ordered_lists_get_their_own_numbering_instance() {
        let mut w = Writer {
            body: String::new(),
            links: Vec::new(),
            ordered: Vec::new(),
        };
        w.blocks(
            &parse("1. a\n2. b\n\npara\n\n3. c\n   - d\n"),
            &Ctx::default(),
        );
        assert_eq!(w.ordered, vec![(2, 1), (3, 3)]);
        assert!(
            w.body
                .contains("<w:ilvl w:val=\"1\"/><w:numId w:val=\"1\"/>"),
            "{}",
            w.body
        );
        assert!(numbering(&w.ordered).contains("<w:num w:numId=\"3\"><w:abstractNumId w:val=\"1\"/><w:lvlOverride w:ilvl=\"0\"><w:startOverride w:val=\"3\"/>"));
    }
}
