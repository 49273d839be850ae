//! Exported documents read back by independent tools: PDFs through
//! `pdftotext` (poppler-utils), DOCX through `pandoc`. Both tools are
//! required (CI installs them with `.ci/setup`); a missing tool fails the
//! test with a message saying what to install.

use std::path::Path;
use std::process::Command;

use tftsr_core::doc::action::{ActionItem, ActionStatus, parse_date};
use tftsr_core::doc::template::{DocInput, DocumentKind, LogExcerpt, export_doc};
use tftsr_core::doc::{ExportDoc, ExportFormat, Exporter, MarkdownExporter};
use tftsr_core::triage::WhyStep;
use tftsr_core::{Domain, Issue, IssueId, IssueStatus, Severity, TimelineEvent, Timestamp};
use tftsr_server::export::{DocxExporter, PdfExporter};

const UNICODE: &str = "Café naïve Ωμέγα Привет 東京 서울 日本語";

fn ts(s: &str) -> Timestamp {
    Timestamp::parse(s).expect("timestamp")
}

fn input(events: usize) -> DocInput {
    let at = ts("2025-01-30T08:00:00.000Z");
    let issue = Issue {
        id: IssueId::new_at(at),
        title: format!("Disk full on db-01 ({UNICODE})"),
        description: format!("Postgres stopped accepting writes. {UNICODE}."),
        severity: Severity::High,
        status: IssueStatus::Resolved,
        domain: Domain::Db,
        category: "storage".into(),
        source: "pagerduty".into(),
        assigned_to: "ops".into(),
        tags: vec!["disk".into()],
        created_at: at,
        updated_at: at,
        resolved_at: Some(ts("2025-01-30T10:30:00.000Z")),
    };
    let mut doc = DocInput::new(issue.clone(), ts("2025-01-31T09:15:00.000Z"));
    doc.whys = (1..=5)
        .map(|order| WhyStep {
            order,
            question: format!("Why level {order}?"),
            answer: if order == 3 {
                "The WAL archiver failed for six hours".into()
            } else {
                format!("Answer number {order}")
            },
            evidence: vec![format!("postgres.log:{}", order * 10)],
        })
        .collect();
    doc.root_cause = Some("The archive bucket's credentials expired.".into());
    doc.timeline = (0..events)
        .map(|i| TimelineEvent {
            id: format!("e{i}"),
            issue_id: issue.id,
            event_type: "status_changed".into(),
            description: format!("Event {i}: checked replica lag and disk usage on db-01"),
            metadata: serde_json::Value::Null,
            created_at: at.minus_seconds(-(i as i64) * 60),
        })
        .collect();
    doc.excerpts = vec![LogExcerpt {
        file_name: "postgres.log".into(),
        line: 10,
        text: "FATAL: could not write to file \"pg_wal/0001\": No space left on device".into(),
    }];
    doc.contributing_factors = vec![
        "No alert on disk usage".into(),
        "Archive failures were only logged".into(),
    ];
    doc.resolution = Some(format!("Rotated the credentials. {UNICODE}"));
    doc.action_items = vec![ActionItem {
        id: "a1".into(),
        issue_id: issue.id,
        description: "Alert at 80% disk".into(),
        owner: "Zoë".into(),
        due: parse_date("2025-02-15"),
        status: ActionStatus::InProgress,
        created_at: at,
        updated_at: at,
    }];
    doc
}

/// A document exercising every block kind, beyond what templates produce.
fn rich_doc() -> ExportDoc {
    let mut doc = export_doc(DocumentKind::PostMortem, &input(3));
    doc.markdown.push_str(
        "\n## Extras\n\n- Top bullet\n  - Nested bullet\n    1. Deep numbered\n- [x] Done task\n\n\
         1. First step\n2. Second step\n\n> Quoted warning\n\n```sh\nsudo systemctl restart postgresql\n```\n\n\
         Some **bold**, *italic*, `inline code`, ~~struck~~ and a [link](https://example.com/runbook).\n\n---\n\n\
         <script>alert(1)</script>\n",
    );
    doc
}

fn need(tool: &str, package: &str) {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(
        found,
        "`{tool}` is required by these tests: install the `{package}` package (`.ci/setup` does)"
    );
}

fn pdf_text(bytes: &[u8], dir: &Path) -> String {
    need("pdftotext", "poppler-utils");
    let path = dir.join("doc.pdf");
    std::fs::write(&path, bytes).expect("write pdf");
    let out = Command::new("pdftotext")
        .args(["-layout", "-enc", "UTF-8"])
        .arg(&path)
        .arg("-")
        .output()
        .expect("run pdftotext");
    assert!(
        out.status.success(),
        "pdftotext: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

fn pandoc(bytes: &[u8], dir: &Path, to: &str) -> String {
    need("pandoc", "pandoc");
    let path = dir.join("doc.docx");
    std::fs::write(&path, bytes).expect("write docx");
    let out = Command::new("pandoc")
        .args(["-f", "docx", "-t", to, "--wrap=none"])
        .arg(&path)
        .output()
        .expect("run pandoc");
    assert!(
        out.status.success(),
        "pandoc: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// Whitespace-collapsed, so layout spacing does not matter.
fn squash(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn pdf_has_headings_tables_lists_unicode_and_page_numbers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let doc = rich_doc();
    let (bytes, pages) = PdfExporter.render(&doc).expect("pdf");
    assert!(bytes.starts_with(b"%PDF-"));
    let text = pdf_text(&bytes, dir.path());
    let flat = squash(&text);
    for heading in [
        "Post-mortem: Disk full on db-01",
        "Summary",
        "Impact",
        "Detection",
        "Timeline",
        "Root cause",
        "The 5 Whys",
        "Contributing factors",
        "Resolution",
        "Action items",
        "Lessons learned",
    ] {
        assert!(
            flat.contains(heading),
            "heading {heading:?} missing from:\n{text}"
        );
    }
    // A 5-Whys row: its cells on one line of the layout.
    let row = text
        .lines()
        .find(|l| l.contains("Why level 3?"))
        .unwrap_or_else(|| panic!("no 5-Whys row 3 in:\n{text}"));
    assert!(squash(row).contains("3 Why level 3?"), "{row}");
    assert!(
        flat.contains("The WAL archiver failed for six hours"),
        "{text}"
    );
    assert!(flat.contains("postgres.log:30"), "{text}");
    for item in [
        "• Top bullet",
        "◦ Nested bullet",
        "1. Deep numbered",
        "[x] Done task",
        "2. Second step",
    ] {
        assert!(
            flat.contains(item),
            "list item {item:?} missing from:\n{text}"
        );
    }
    assert!(flat.contains("sudo systemctl restart postgresql"), "{text}");
    assert!(
        flat.contains("<script>alert(1)</script>"),
        "raw HTML shown as text:\n{text}"
    );
    for word in UNICODE.split(' ') {
        assert!(flat.contains(word), "{word:?} did not survive:\n{text}");
    }
    assert!(flat.contains(&format!("Page 1 of {pages}")), "{text}");
    assert!(flat.contains(&format!("Page {pages} of {pages}")), "{text}");
}

#[test]
fn long_pdf_breaks_pages_and_repeats_the_table_header() {
    let dir = tempfile::tempdir().expect("tempdir");
    let doc = export_doc(DocumentKind::PostMortem, &input(200));
    let (bytes, pages) = PdfExporter.render(&doc).expect("pdf");
    assert!(pages >= 5, "200 timeline rows on {pages} pages");
    let text = pdf_text(&bytes, dir.path());
    assert_eq!(text.matches("Page ").count(), pages, "one footer per page");
    for n in 1..=pages {
        assert!(text.contains(&format!("Page {n} of {pages}")), "page {n}");
    }
    for i in [0, 99, 199] {
        assert!(text.contains(&format!("Event {i}:")), "event {i}");
    }
    // The header row comes back on the pages the table continues onto.
    let headers = text.matches("Time (UTC)").count();
    assert!(
        headers >= pages - 1,
        "{headers} header rows on {pages} pages"
    );
    // Fonts are subset: the whole embedded set is ~6 MB.
    assert!(bytes.len() < 600_000, "PDF is {} bytes", bytes.len());
}

#[test]
fn docx_reads_back_with_structure() {
    let dir = tempfile::tempdir().expect("tempdir");
    let doc = rich_doc();
    let bytes = DocxExporter.export(&doc).expect("docx");
    assert!(bytes.starts_with(b"PK"));
    let md = pandoc(&bytes, dir.path(), "markdown");
    assert!(md.contains("# Post-mortem: Disk full on db-01"), "{md}");
    for heading in [
        "## Summary",
        "## Timeline",
        "## The 5 Whys",
        "## Action items",
        "## Lessons learned",
    ] {
        assert!(
            md.lines().any(|l| l.starts_with(heading)),
            "{heading} missing from:\n{md}"
        );
    }
    for word in UNICODE.split(' ') {
        assert!(md.contains(word), "{word:?} did not survive:\n{md}");
    }
    assert!(
        md.contains("<script>alert(1)</script>")
            || md.contains("\\<script\\>alert(1)\\</script\\>"),
        "{md}"
    );

    // Structure through pandoc's JSON AST: real tables, lists, code.
    let json: serde_json::Value =
        serde_json::from_str(&pandoc(&bytes, dir.path(), "json")).expect("json");
    let blocks = json["blocks"].as_array().expect("blocks");
    let kinds: Vec<&str> = blocks.iter().filter_map(|b| b["t"].as_str()).collect();
    assert!(
        kinds.iter().filter(|k| **k == "Table").count() >= 3,
        "{kinds:?}"
    );
    assert!(kinds.contains(&"BulletList"), "{kinds:?}");
    assert!(kinds.contains(&"OrderedList"), "{kinds:?}");
    assert!(
        kinds.iter().filter(|k| **k == "Header").count() >= 12,
        "{kinds:?}"
    );
    let flat = serde_json::to_string(&json).expect("json");
    assert!(flat.contains("https://example.com/runbook"), "link kept");
    // The 5-Whys row's cells, via pandoc's plain rendering of the table.
    let plain = pandoc(&bytes, dir.path(), "plain");
    let row = plain
        .lines()
        .find(|l| l.contains("Why level 3?"))
        .unwrap_or_else(|| panic!("no 5-Whys row 3 in:\n{plain}"));
    assert!(
        row.contains("The WAL archiver failed") && row.contains("postgres.log:30"),
        "{row}"
    );
    assert!(
        plain.contains("Nested bullet") && plain.contains("Deep numbered"),
        "{plain}"
    );
}

#[test]
fn docx_core_properties_carry_the_title() {
    use std::io::Read;
    let doc = rich_doc();
    let bytes = DocxExporter.export(&doc).expect("docx");
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip");
    let mut core = String::new();
    zip.by_name("docProps/core.xml")
        .expect("core properties part")
        .read_to_string(&mut core)
        .expect("utf-8");
    let title = format!("<dc:title>Post-mortem: Disk full on db-01 ({UNICODE})</dc:title>");
    assert!(core.contains(&title), "{core}");
    assert!(
        core.contains(
            "<dcterms:created xsi:type=\"dcterms:W3CDTF\">2025-01-31T09:15:00Z</dcterms:created>"
        ),
        "{core}"
    );
    for part in [
        "[Content_Types].xml",
        "word/document.xml",
        "word/styles.xml",
        "word/numbering.xml",
    ] {
        assert!(zip.by_name(part).is_ok(), "{part} missing");
    }
}

#[test]
fn every_exporter_names_its_format() {
    let doc = rich_doc();
    let exporters: [&dyn Exporter; 3] = [&MarkdownExporter, &PdfExporter, &DocxExporter];
    let formats: Vec<ExportFormat> = exporters.iter().map(|e| e.format()).collect();
    assert_eq!(
        formats,
        vec![
            ExportFormat::Markdown,
            ExportFormat::Pdf,
            ExportFormat::Docx
        ]
    );
    for e in exporters {
        assert!(!e.export(&doc).expect("export").is_empty());
    }
}
