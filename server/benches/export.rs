//! How long exporting a realistic post-mortem takes, and how big it is.
//!
//! `cargo bench -p tftsr --bench export` builds a post-mortem through the
//! core template for an issue with 200 timeline events, 5 whys, evidence and
//! action items (synthetic but shaped like a real incident), then exports it
//! to Markdown, PDF and DOCX `TFTSR_BENCH_RUNS` times (default 15) and prints
//! the median and p95 time and the file size of each format. The first PDF
//! export also parses the embedded fonts; it is reported separately.

use std::time::{Duration, Instant};

use tftsr_core::doc::action::{ActionItem, ActionStatus, parse_date};
use tftsr_core::doc::template::{DocInput, DocumentKind, LogExcerpt, export_doc};
use tftsr_core::doc::{Exporter, MarkdownExporter};
use tftsr_core::triage::WhyStep;
use tftsr_core::{Domain, Issue, IssueId, IssueStatus, Severity, TimelineEvent, Timestamp};
use tftsr_server::export::{DocxExporter, PdfExporter};

const KINDS: [(&str, &str); 6] = [
    (
        "status_changed",
        "Status open → investigating after the on-call engineer acknowledged the page",
    ),
    (
        "log_uploaded",
        "postgres-primary.log attached (12.4 MB, 148 211 lines)",
    ),
    (
        "log_redacted",
        "Review applied: 37 IP addresses, 4 e-mail addresses and 2 hostnames pseudonymised",
    ),
    (
        "why_level_advanced",
        "Why 2 answered: WAL segments piled up because archive_command kept failing",
    ),
    (
        "issue_updated",
        "Severity raised to critical: checkout writes failing in eu-west-1",
    ),
    (
        "triage_started",
        "Replica lag on db-02 at 340 s; failover postponed until the archive is fixed",
    ),
];

fn input() -> Result<DocInput, String> {
    let at = Timestamp::parse("2025-01-30T08:00:00.000Z").map_err(|e| e.to_string())?;
    let issue = Issue {
        id: IssueId::new_at(at),
        title: "Checkout writes failing: disk full on db-01 (WAL archive stuck)".into(),
        description: "From 08:00 UTC the primary Postgres cluster stopped accepting writes; checkout returned HTTP 500 for 2 h 30 min in eu-west-1.".into(),
        severity: Severity::Critical,
        status: IssueStatus::Resolved,
        domain: Domain::Db,
        category: "storage".into(),
        source: "pagerduty".into(),
        assigned_to: "sre-oncall".into(),
        tags: vec!["postgres".into(), "disk".into(), "wal".into()],
        created_at: at,
        updated_at: at,
        resolved_at: Some(at.minus_seconds(-9_000)),
    };
    let mut doc = DocInput::new(issue.clone(), at.minus_seconds(-86_400));
    doc.timeline = (0..200)
        .map(|i| {
            let (kind, text) = KINDS[i % KINDS.len()];
            TimelineEvent {
                id: format!("event-{i}"),
                issue_id: issue.id,
                event_type: kind.into(),
                description: format!("{text} (step {i})"),
                metadata: serde_json::Value::Null,
                created_at: at.minus_seconds(-(i as i64) * 45),
            }
        })
        .collect();
    let answers = [
        (
            "Why did checkout fail?",
            "Writes to the orders table failed with 'No space left on device'.",
        ),
        (
            "Why was the disk full?",
            "pg_wal grew from 8 GB to 500 GB because segments were never removed.",
        ),
        (
            "Why were WAL segments kept?",
            "archive_command failed for every segment, so Postgres retained them.",
        ),
        (
            "Why did archive_command fail?",
            "The object-store credentials it used had expired the day before.",
        ),
        (
            "Why did the credentials expire unnoticed?",
            "They were created by hand with a 90-day lifetime and no rotation or alert.",
        ),
    ];
    doc.whys = answers
        .iter()
        .zip(1u8..)
        .map(|((q, a), order)| WhyStep {
            order,
            question: (*q).into(),
            answer: (*a).into(),
            evidence: vec![format!("postgres-primary.log:{}", 1000 * u32::from(order))],
        })
        .collect();
    doc.root_cause = Some("Archive credentials were created by hand with a 90-day lifetime and nothing rotated or monitored them.".into());
    doc.excerpts = (0..20)
        .map(|i| LogExcerpt {
            file_name: "postgres-primary.log".into(),
            line: 1000 + i * 37,
            text: format!(
                "2025-01-30 08:{:02}:11 UTC [4211] LOG: archive command failed with exit code 1",
                i % 60
            ),
        })
        .collect();
    doc.impact = Some(
        "Checkout in eu-west-1 failed for 2 h 30 min; about 18 000 orders were not placed.".into(),
    );
    doc.detection = Some(
        "PagerDuty paged the on-call engineer at 08:04 on the checkout error-rate alert.".into(),
    );
    doc.contributing_factors = vec![
        "No alert on pg_wal size or archive failures".into(),
        "Credentials created by hand, outside the secrets manager".into(),
        "Runbook for disk-full did not mention WAL archiving".into(),
    ];
    doc.resolution =
        Some("Rotated the credentials, let the archiver catch up, and freed 480 GB.".into());
    doc.action_items = (0..8)
        .map(|i| ActionItem {
            id: format!("action-{i}"),
            issue_id: issue.id,
            description: format!("Follow-up {i}: alert on archive failures and pg_wal size"),
            owner: "SRE team".into(),
            due: parse_date("2025-02-28"),
            status: ActionStatus::Open,
            created_at: at,
            updated_at: at,
        })
        .collect();
    doc.lessons_learned = Some("Hand-made credentials need an owner and an expiry alert.".into());
    Ok(doc)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).copied().unwrap_or_default()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let runs: usize = std::env::var("TFTSR_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(15);
    let input = input()?;

    let start = Instant::now();
    let doc = export_doc(DocumentKind::PostMortem, &input);
    let template = start.elapsed();
    println!(
        "template: post-mortem with {} events, {} whys -> {} bytes of Markdown in {:.2} ms",
        input.timeline.len(),
        input.whys.len(),
        doc.markdown.len(),
        template.as_secs_f64() * 1e3
    );

    let start = Instant::now();
    let (_, pages) = PdfExporter.render(&doc)?;
    println!(
        "pdf first export (parses the embedded fonts once): {:.1} ms, {pages} pages",
        start.elapsed().as_secs_f64() * 1e3
    );

    let exporters: [(&str, &dyn Exporter); 3] = [
        ("markdown", &MarkdownExporter),
        ("pdf", &PdfExporter),
        ("docx", &DocxExporter),
    ];
    println!("{runs} runs each:");
    for (name, exporter) in exporters {
        let mut times = Vec::with_capacity(runs);
        let mut size = 0;
        for _ in 0..runs {
            let start = Instant::now();
            let bytes = exporter.export(&doc)?;
            times.push(start.elapsed());
            size = bytes.len();
        }
        times.sort();
        println!(
            "{name:>9}: median {:>8.2} ms  p95 {:>8.2} ms  size {:>8} bytes ({:.1} KB)",
            percentile(&times, 0.5).as_secs_f64() * 1e3,
            percentile(&times, 0.95).as_secs_f64() * 1e3,
            size,
            size as f64 / 1024.0
        );
    }
    Ok(())
}
