//! RCA and post-mortem templates, rendered to Markdown.
//!
//! A template is a fixed list of [`SectionKind`]s; each section is rendered
//! on its own by [`section`], so the UI can redraft one without touching the
//! rest. Every user-supplied string is escaped (see [`super::escape`]); a
//! section whose data is missing says in italics what the engineer should
//! write there, so no heading is ever left empty.

use serde::{Deserialize, Serialize};

use super::action::ActionItem;
use super::escape::{code_fence, md_escape, md_escape_block, md_table_cell};
use super::export::{ExportDoc, ExportMeta};
use crate::triage::WhyStep;
use crate::{Issue, TimelineEvent, Timestamp};

text_enum! {
    /// The documents TFTSR drafts.
    DocumentKind {
        Rca => "rca", "Root cause analysis";
        PostMortem => "post_mortem", "Post-mortem";
    }
}

text_enum! {
    /// The sections documents are made of; the label is the heading text.
    SectionKind {
        Summary => "summary", "Summary";
        Impact => "impact", "Impact";
        Detection => "detection", "Detection";
        Timeline => "timeline", "Timeline";
        RootCause => "root_cause", "Root cause";
        FiveWhys => "five_whys", "The 5 Whys";
        Evidence => "evidence", "Evidence";
        ContributingFactors => "contributing_factors", "Contributing factors";
        Resolution => "resolution", "Resolution";
        ActionItems => "action_items", "Action items";
        LessonsLearned => "lessons_learned", "Lessons learned";
    }
}

impl SectionKind {
    /// The heading text of the section.
    pub const fn heading(self) -> &'static str {
        self.label()
    }
}

impl DocumentKind {
    /// The sections of this document, in order (the title comes first and
    /// is not a section).
    pub const fn sections(self) -> &'static [SectionKind] {
        use SectionKind::*;
        match self {
            DocumentKind::PostMortem => &[
                Summary,
                Impact,
                Detection,
                Timeline,
                RootCause,
                FiveWhys,
                ContributingFactors,
                Resolution,
                ActionItems,
                LessonsLearned,
            ],
            DocumentKind::Rca => &[
                Summary,
                RootCause,
                FiveWhys,
                Evidence,
                ContributingFactors,
                Resolution,
                ActionItems,
            ],
        }
    }
}

/// A redacted line quoted from a log file as evidence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogExcerpt {
    pub file_name: String,
    /// 1-based.
    pub line: u64,
    /// The line's text, already redacted.
    pub text: String,
}

/// Everything a template draws on. Optional narrative fields are what the
/// engineer (or the model) wrote for that section; `None` or empty gives
/// the section's placeholder.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DocInput {
    pub issue: Issue,
    pub whys: Vec<WhyStep>,
    pub root_cause: Option<String>,
    pub timeline: Vec<TimelineEvent>,
    pub excerpts: Vec<LogExcerpt>,
    pub impact: Option<String>,
    pub detection: Option<String>,
    pub contributing_factors: Vec<String>,
    pub resolution: Option<String>,
    pub action_items: Vec<ActionItem>,
    pub lessons_learned: Option<String>,
    pub generated_at: Timestamp,
}

impl DocInput {
    /// An input with only the issue: every section but the summary is a
    /// placeholder.
    pub fn new(issue: Issue, generated_at: Timestamp) -> Self {
        Self {
            issue,
            whys: Vec::new(),
            root_cause: None,
            timeline: Vec::new(),
            excerpts: Vec::new(),
            impact: None,
            detection: None,
            contributing_factors: Vec::new(),
            resolution: None,
            action_items: Vec::new(),
            lessons_learned: None,
            generated_at,
        }
    }
}

/// The document's title as plain text (for file names and PDF metadata),
/// e.g. `Post-mortem: Disk full on db-01`.
pub fn title(kind: DocumentKind, input: &DocInput) -> String {
    format!("{}: {}", kind.label(), input.issue.title.trim())
}

/// The whole document as Markdown: the title block, then every section.
pub fn render(kind: DocumentKind, input: &DocInput) -> String {
    let mut out = title_block(kind, input);
    for s in kind.sections() {
        out.push('\n');
        out.push_str(&section(*s, input));
    }
    out
}

/// The document wrapped for an [`super::Exporter`].
pub fn export_doc(kind: DocumentKind, input: &DocInput) -> ExportDoc {
    ExportDoc {
        title: title(kind, input),
        markdown: render(kind, input),
        meta: ExportMeta {
            issue_id: input.issue.id,
            kind,
            generated_at: input.generated_at,
        },
    }
}

/// The `# Title` line and the italic line of facts under it.
pub fn title_block(kind: DocumentKind, input: &DocInput) -> String {
    let issue = &input.issue;
    format!(
        "# {}: {}\n\n*Issue {} · Generated {}*\n",
        kind.label(),
        md_escape(&issue.title),
        issue.id,
        input.generated_at.short(),
    )
}

/// One section as Markdown: `## Heading`, a blank line, the body, ending in
/// a newline.
pub fn section(kind: SectionKind, input: &DocInput) -> String {
    let body = match kind {
        SectionKind::Summary => summary(input),
        SectionKind::Impact => prose(
            input.impact.as_deref(),
            &format!(
                "Describe who and what was affected, for how long and how badly (users, requests, data, money). The issue was recorded as {} severity.",
                input.issue.severity.label()
            ),
        ),
        SectionKind::Detection => prose(
            input.detection.as_deref(),
            &format!(
                "Describe how the problem was noticed (which alert, which person), and how long after it began. The issue was filed {}{}.",
                input.issue.created_at.short(),
                if input.issue.source.trim().is_empty() {
                    String::new()
                } else {
                    format!(" from {}", md_escape(&input.issue.source))
                }
            ),
        ),
        SectionKind::Timeline => timeline(input),
        SectionKind::RootCause => {
            let fallback = if input.whys.is_empty() {
                "The 5 Whys have not reached a root cause yet. State the underlying cause in one or two sentences, not the symptom."
            } else {
                "State the root cause the 5 Whys arrived at in one or two sentences: the underlying cause, not the symptom."
            };
            prose(input.root_cause.as_deref(), fallback)
        }
        SectionKind::FiveWhys => five_whys(input),
        SectionKind::Evidence => evidence(input),
        SectionKind::ContributingFactors => bullet_list(
            &input.contributing_factors,
            "List the conditions that made the incident possible or worse without causing it: missing alerts, risky defaults, unclear ownership.",
        ),
        SectionKind::Resolution => prose(
            input.resolution.as_deref(),
            "Describe what was done to restore service, and what was done to fix the root cause.",
        ),
        SectionKind::ActionItems => action_items(input),
        SectionKind::LessonsLearned => prose(
            input.lessons_learned.as_deref(),
            "What went well, what went badly, and where did we get lucky?",
        ),
    };
    format!("## {}\n\n{}\n", kind.heading(), body.trim_end())
}

fn placeholder(text: &str) -> String {
    format!("*{text}*\n")
}

fn prose(text: Option<&str>, fallback: &str) -> String {
    match text.map(md_escape_block) {
        Some(t) if !t.is_empty() => format!("{t}\n"),
        _ => placeholder(fallback),
    }
}

fn summary(input: &DocInput) -> String {
    let issue = &input.issue;
    let mut out = String::new();
    let description = md_escape_block(&issue.description);
    if description.is_empty() {
        out.push_str(&placeholder(
            "Summarise in two or three sentences what happened, who was affected and how it ended.",
        ));
    } else {
        out.push_str(&description);
        out.push('\n');
    }
    out.push('\n');
    let mut facts = vec![
        ("Severity", issue.severity.label().to_owned()),
        ("Status", issue.status.label().to_owned()),
        ("Domain", issue.domain.label().to_owned()),
        ("Opened", issue.created_at.short()),
    ];
    if let Some(at) = issue.resolved_at {
        facts.push(("Resolved", at.short()));
    }
    for (name, value) in [
        ("Category", &issue.category),
        ("Source", &issue.source),
        ("Assigned to", &issue.assigned_to),
    ] {
        if !value.trim().is_empty() {
            facts.push((name, md_escape(value)));
        }
    }
    if !issue.tags.is_empty() {
        let tags: Vec<_> = issue.tags.iter().map(|t| md_escape(t)).collect();
        facts.push(("Tags", tags.join(", ")));
    }
    for (name, value) in facts {
        out.push_str(&format!("- **{name}:** {value}\n"));
    }
    out
}

fn timeline(input: &DocInput) -> String {
    if input.timeline.is_empty() {
        return placeholder(
            "No events were recorded. List what happened when (UTC): first signal, alert, escalation, mitigation, recovery.",
        );
    }
    let mut events: Vec<&TimelineEvent> = input.timeline.iter().collect();
    // Stable: events recorded in the same millisecond keep their order.
    events.sort_by_key(|e| e.created_at);
    let mut out = String::from("| Time (UTC) | Event | Details |\n|---|---|---|\n");
    for e in events {
        out.push_str(&format!(
            "| {} | {} | {} |\n",
            e.created_at.short().trim_end_matches(" UTC"),
            md_table_cell(&e.label()),
            md_table_cell(&e.description)
        ));
    }
    out
}

fn five_whys(input: &DocInput) -> String {
    if input.whys.is_empty() {
        return placeholder(
            "The 5 Whys have not been worked through yet. Start from the symptom and ask why it happened, five times, citing evidence for each answer.",
        );
    }
    let mut steps: Vec<&WhyStep> = input.whys.iter().collect();
    steps.sort_by_key(|s| s.order);
    let mut out = String::from("| # | Why? | Answer | Evidence |\n|---|---|---|---|\n");
    for s in steps {
        out.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            s.order,
            md_table_cell(&s.question),
            md_table_cell(&s.answer),
            md_table_cell(&s.evidence.join("; "))
        ));
    }
    out
}

fn evidence(input: &DocInput) -> String {
    if input.excerpts.is_empty() {
        return placeholder(
            "No log excerpts were cited. Quote the redacted log lines that support each answer, with file and line.",
        );
    }
    let mut out = String::new();
    let mut i = 0;
    while i < input.excerpts.len() {
        let file = &input.excerpts[i].file_name;
        let group: Vec<&LogExcerpt> = input.excerpts[i..]
            .iter()
            .take_while(|e| &e.file_name == file)
            .collect();
        i += group.len();
        let width = group
            .iter()
            .map(|e| e.line.to_string().len())
            .max()
            .unwrap_or(1);
        let lines: Vec<String> = group
            .iter()
            .map(|e| {
                let text: String = e
                    .text
                    .chars()
                    .map(|c| if c.is_control() && c != '\t' { ' ' } else { c })
                    .collect();
                format!("{:>width$}: {}", e.line, text.trim_end())
            })
            .collect();
        let body = lines.join("\n");
        let fence = code_fence(&body);
        out.push_str(&format!(
            "**{}**\n\n{fence}text\n{body}\n{fence}\n\n",
            md_escape(file)
        ));
    }
    out
}

fn bullet_list(items: &[String], fallback: &str) -> String {
    let items: Vec<String> = items
        .iter()
        .map(|i| md_escape(i))
        .filter(|i| !i.is_empty())
        .collect();
    if items.is_empty() {
        return placeholder(fallback);
    }
    items.iter().map(|i| format!("- {i}\n")).collect()
}

fn action_items(input: &DocInput) -> String {
    if input.action_items.is_empty() {
        return placeholder(
            "No action items yet. Add one per follow-up, each with an owner and a due date, so the root cause cannot recur unnoticed.",
        );
    }
    let mut out = String::from("| Item | Owner | Due | Status |\n|---|---|---|---|\n");
    for a in &input.action_items {
        let owner = if a.owner.trim().is_empty() {
            "*unassigned*".to_owned()
        } else {
            md_table_cell(&a.owner)
        };
        let due = a.due_text();
        out.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            md_table_cell(&a.description),
            owner,
            if due.is_empty() {
                "—".to_owned()
            } else {
                due
            },
            a.status.label()
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc::action::{ActionStatus, parse_date};
    use crate::doc::markdown::{Block, parse, plain_text};
    use crate::{Domain, IssueId, IssueStatus, Severity};

    fn ts(s: &str) -> Timestamp {
        Timestamp::parse(s).expect("timestamp")
    }

    fn issue() -> Issue {
        let at = ts("2025-01-30T08:00:00.000Z");
        Issue {
            id: IssueId::new_at(at),
            title: "Disk full | on #db-01".into(),
            description: "Postgres stopped accepting writes.\n<script>alert(1)</script>".into(),
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
        }
    }

    fn event(at: &str, kind: &str, description: &str) -> TimelineEvent {
        TimelineEvent {
            id: at.into(),
            issue_id: issue().id,
            event_type: kind.into(),
            description: description.into(),
            metadata: serde_json::Value::Null,
            created_at: ts(at),
        }
    }

    fn full() -> DocInput {
        let issue = issue();
        let mut input = DocInput::new(issue.clone(), ts("2025-01-31T09:15:00.000Z"));
        input.whys = vec![
            WhyStep {
                order: 2,
                question: "Why was the disk full?".into(),
                answer: "WAL | archiving\nfailed".into(),
                evidence: vec!["pg.log:12".into(), "pg.log:14".into()],
            },
            WhyStep {
                order: 1,
                question: "Why did writes fail?".into(),
                answer: "No space left on device".into(),
                evidence: vec![],
            },
        ];
        input.root_cause = Some("The archive bucket's credentials expired.".into());
        input.timeline = vec![
            event(
                "2025-01-30T09:00:00.000Z",
                "status_changed",
                "open → investigating",
            ),
            event("2025-01-30T08:00:00.000Z", "triage_started", "Issue filed"),
        ];
        input.excerpts = vec![
            LogExcerpt {
                file_name: "pg.log".into(),
                line: 12,
                text: "FATAL: could not write ```".into(),
            },
            LogExcerpt {
                file_name: "pg.log".into(),
                line: 140,
                text: "archive command failed".into(),
            },
        ];
        input.contributing_factors = vec!["No disk alert".into(), "  ".into()];
        input.resolution = Some("Rotated credentials.".into());
        input.action_items = vec![ActionItem {
            id: "a1".into(),
            issue_id: issue.id,
            description: "Alert at 80% | disk".into(),
            owner: String::new(),
            due: parse_date("2025-02-15"),
            status: ActionStatus::InProgress,
            created_at: issue.created_at,
            updated_at: issue.created_at,
        }];
        input
    }

    fn headings(md: &str) -> Vec<(u8, String)> {
        parse(md)
            .into_iter()
            .filter_map(|b| match b {
                Block::Heading { level, content } => Some((level, plain_text(&content))),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn post_mortem_sections_in_order() {
        let md = render(DocumentKind::PostMortem, &full());
        let h = headings(&md);
        assert_eq!(h[0], (1, "Post-mortem: Disk full | on #db-01".to_owned()));
        let names: Vec<&str> = h[1..].iter().map(|(_, t)| t.as_str()).collect();
        assert_eq!(
            names,
            vec![
                "Summary",
                "Impact",
                "Detection",
                "Timeline",
                "Root cause",
                "The 5 Whys",
                "Contributing factors",
                "Resolution",
                "Action items",
                "Lessons learned"
            ]
        );
        assert!(h[1..].iter().all(|(l, _)| *l == 2));
    }

    #[test]
    fn rca_is_shorter_and_has_evidence() {
        let md = render(DocumentKind::Rca, &full());
        let names: Vec<String> = headings(&md).into_iter().skip(1).map(|h| h.1).collect();
        assert_eq!(
            names,
            vec![
                "Summary",
                "Root cause",
                "The 5 Whys",
                "Evidence",
                "Contributing factors",
                "Resolution",
                "Action items"
            ]
        );
        // The excerpt holding ``` gets a longer fence and stays one block.
        assert!(md.contains(
            "````text\n 12: FATAL: could not write ```\n140: archive command failed\n````"
        ));
    }

    fn table_in(md: &str) -> crate::doc::markdown::Table {
        parse(md)
            .into_iter()
            .find_map(|b| match b {
                Block::Table(t) => Some(t),
                _ => None,
            })
            .expect("a table")
    }

    #[test]
    fn whys_table_is_ordered_and_escaped() {
        let t = table_in(&section(SectionKind::FiveWhys, &full()));
        let header: Vec<String> = t.header.iter().map(|c| plain_text(c)).collect();
        assert_eq!(header, vec!["#", "Why?", "Answer", "Evidence"]);
        let row: Vec<String> = t.rows[1].iter().map(|c| plain_text(c)).collect();
        assert_eq!(
            row,
            vec![
                "2",
                "Why was the disk full?",
                "WAL | archiving failed",
                "pg.log:12; pg.log:14"
            ]
        );
        assert_eq!(plain_text(&t.rows[0][0]), "1");
    }

    #[test]
    fn timeline_is_sorted_by_time() {
        let t = table_in(&section(SectionKind::Timeline, &full()));
        assert_eq!(plain_text(&t.rows[0][0]), "2025-01-30 08:00");
        assert_eq!(plain_text(&t.rows[0][1]), "Triage started");
        assert_eq!(plain_text(&t.rows[1][2]), "open → investigating");
    }

    #[test]
    fn action_items_table() {
        let t = table_in(&section(SectionKind::ActionItems, &full()));
        let row: Vec<String> = t.rows[0].iter().map(|c| plain_text(c)).collect();
        assert_eq!(
            row,
            vec![
                "Alert at 80% | disk",
                "unassigned",
                "2025-02-15",
                "In progress"
            ]
        );
    }

    #[test]
    fn user_html_stays_text() {
        let md = section(SectionKind::Summary, &full());
        assert!(md.contains("\\<script\\>alert(1)\\</script\\>"), "{md}");
        assert!(!crate::doc::html::render_html(&md).contains("<script"));
    }

    #[test]
    fn missing_data_gives_placeholders_not_empty_headings() {
        let mut input = DocInput::new(issue(), ts("2025-01-31T09:15:00.000Z"));
        input.issue.description.clear();
        for kind in [DocumentKind::PostMortem, DocumentKind::Rca] {
            for s in kind.sections() {
                let md = section(*s, &input);
                let blocks = parse(&md);
                assert!(blocks.len() >= 2, "{s:?} has a body: {md}");
                assert!(matches!(blocks[0], Block::Heading { level: 2, .. }));
            }
        }
        let md = section(SectionKind::RootCause, &input);
        assert_eq!(
            md,
            "## Root cause\n\n*The 5 Whys have not reached a root cause yet. State the underlying cause in one or two sentences, not the symptom.*\n"
        );
        assert!(section(SectionKind::Summary, &input).starts_with("## Summary\n\n*Summarise"));
        assert!(section(SectionKind::ContributingFactors, &input).contains("*List the conditions"));
    }

    #[test]
    fn section_regeneration_matches_the_full_render() {
        let input = full();
        let md = render(DocumentKind::PostMortem, &input);
        for s in DocumentKind::PostMortem.sections() {
            assert!(md.contains(&section(*s, &input)), "{s:?}");
        }
        assert_eq!(SectionKind::FiveWhys.heading(), "The 5 Whys");
        assert_eq!(
            SectionKind::parse("lessons_learned"),
            Some(SectionKind::LessonsLearned)
        );
    }

    #[test]
    fn export_doc_carries_metadata() {
        let input = full();
        let d = export_doc(DocumentKind::Rca, &input);
        assert_eq!(d.title, "Root cause analysis: Disk full | on #db-01");
        assert_eq!(d.meta.issue_id, input.issue.id);
        assert_eq!(d.meta.kind, DocumentKind::Rca);
        assert!(
            d.markdown
                .starts_with("# Root cause analysis: Disk full \\| on \\#db-01\n")
        );
    }
}
