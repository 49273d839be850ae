//! Working on a document's Markdown by section: its title, and replacing
//! one `## Section` with a fresh draft while leaving the rest of what the
//! engineer wrote alone.

use super::template::{DocumentKind, SectionKind};

/// The most of the document sent along when a model drafts a section.
pub const AI_CONTEXT_MAX_CHARS: usize = 24_000;

/// Whether `line` opens or closes a fenced code block, and with which fence.
fn fence(line: &str) -> Option<&str> {
    let trimmed = line.trim_start();
    if line.len() - trimmed.len() > 3 {
        return None;
    }
    let marker = trimmed.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let run = trimmed.chars().take_while(|c| *c == marker).count();
    (run >= 3).then(|| &trimmed[..run])
}

/// The lines of `markdown` with whether each is outside code blocks.
fn lines_outside_code(markdown: &str) -> Vec<(&str, bool)> {
    let mut open: Option<String> = None;
    markdown
        .split_inclusive('\n')
        .map(|line| match (&open, fence(line)) {
            (None, Some(f)) => {
                open = Some(f.to_owned());
                (line, false)
            }
            (Some(o), Some(f)) if f.starts_with(o.as_str()) && line.trim().len() == f.len() => {
                open = None;
                (line, false)
            }
            (Some(_), _) => (line, false),
            (None, None) => (line, true),
        })
        .collect()
}

/// The heading text of an ATX heading of exactly `level`.
fn heading(line: &str, level: usize) -> Option<&str> {
    let rest = line.strip_prefix(&"#".repeat(level))?;
    if rest.starts_with('#') {
        return None;
    }
    let text = rest.strip_prefix(' ').or_else(|| rest.strip_prefix('\t'))?;
    Some(text.trim().trim_end_matches('#').trim_end())
}

/// The text of the first `# ` heading outside code, if any: what the
/// engineer titled the document.
pub fn document_title(markdown: &str) -> Option<String> {
    lines_outside_code(markdown)
        .into_iter()
        .filter(|(_, outside)| *outside)
        .find_map(|(line, _)| heading(line, 1))
        .map(str::to_owned)
        .filter(|t| !t.is_empty())
        .map(|t| t.chars().take(300).collect())
}

/// `markdown` with the section headed `## <section's heading>` replaced by
/// `replacement` (which starts with its own heading). The section runs to
/// the next `#`/`##` heading outside code. A section that is missing is
/// appended at the end. Headings are matched case-insensitively.
pub fn replace_section(markdown: &str, section: SectionKind, replacement: &str) -> String {
    let lines = lines_outside_code(markdown);
    let wanted = section.heading().to_lowercase();
    let start = lines.iter().position(|(line, outside)| {
        *outside && heading(line, 2).is_some_and(|h| h.to_lowercase() == wanted)
    });
    let mut out = String::with_capacity(markdown.len() + replacement.len());
    let mut replacement = replacement.trim_end_matches('\n').to_owned();
    replacement.push('\n');
    match start {
        None => {
            out.push_str(markdown.trim_end_matches('\n'));
            if !out.is_empty() {
                out.push_str("\n\n");
            }
            out.push_str(&replacement);
        }
        Some(start) => {
            let end = lines[start + 1..]
                .iter()
                .position(|(line, outside)| {
                    *outside && (heading(line, 1).is_some() || heading(line, 2).is_some())
                })
                .map_or(lines.len(), |i| start + 1 + i);
            for (line, _) in &lines[..start] {
                out.push_str(line);
            }
            out.push_str(&replacement);
            if end < lines.len() {
                out.push('\n');
                for (line, _) in &lines[end..] {
                    out.push_str(line);
                }
            }
        }
    }
    out
}

/// What a section should say, for a model drafting it.
pub fn guidance(section: SectionKind) -> &'static str {
    match section {
        SectionKind::Summary => {
            "Two to four sentences: what happened, when, how it was detected and fixed, and the root cause in plain words."
        }
        SectionKind::Impact => {
            "Who and what was affected, for how long and how badly (users, requests, data); say what is not known."
        }
        SectionKind::Detection => {
            "How the incident was noticed (alert, user report, log review), when, and how detection could be faster."
        }
        SectionKind::Timeline => {
            "A Markdown table with columns Time (UTC), Event, Details, in time order, from the timeline and the evidence."
        }
        SectionKind::RootCause => {
            "The root cause in one or two paragraphs, grounded in the 5 Whys."
        }
        SectionKind::FiveWhys => {
            "A Markdown table with columns #, Why?, Answer, Evidence, one row per why, from the 5 Whys given."
        }
        SectionKind::Evidence => {
            "The log lines that support the root cause, as `text` code blocks with file and line, and one sentence on what each shows."
        }
        SectionKind::ContributingFactors => {
            "A bullet list of conditions that made the incident possible or worse, beyond the root cause."
        }
        SectionKind::Resolution => {
            "What was done to restore service and to fix the cause, in order."
        }
        SectionKind::ActionItems => {
            "A Markdown table with columns Item, Owner, Due, Status; keep the action items given and add none that are not supported by the document."
        }
        SectionKind::LessonsLearned => {
            "A short bullet list: what went well, what went badly, where we got lucky."
        }
    }
}

/// The system and user messages asking a model to draft one section of
/// `document`. The document is cut to [`AI_CONTEXT_MAX_CHARS`] characters.
pub fn ai_prompt(kind: DocumentKind, section: SectionKind, document: &str) -> (String, String) {
    let system = format!(
        "You are an experienced site reliability engineer writing the \"{}\" section of an \
         incident {}. Use only the facts in the document you are given; where something is \
         not known, say so instead of inventing it. Values in square brackets such as \
         [IPV4_1] or [EMAIL_2] are redacted placeholders: keep them exactly as they are. \
         Reply with the section's body in Markdown only: no heading, no preamble, no \
         closing remarks.",
        section.heading(),
        kind.label().to_lowercase()
    );
    let mut context: String = document.chars().take(AI_CONTEXT_MAX_CHARS).collect();
    if context.len() < document.len() {
        context.push_str("\n\n[The rest of the document was left out.]");
    }
    let user = format!(
        "Section to write: {}\nWhat it should contain: {}\n\nThe document so far:\n\n{}",
        section.heading(),
        guidance(section),
        context
    );
    (system, user)
}

/// A model's reply made into a section body: a surrounding ```markdown
/// fence and a leading heading naming the section are dropped.
pub fn clean_ai_section(reply: &str, section: SectionKind) -> String {
    let mut text = reply.trim();
    if let Some(rest) = text.strip_prefix("```") {
        let rest = rest.split_once('\n').map_or("", |(_, body)| body);
        text = rest.trim_end().strip_suffix("```").unwrap_or(rest).trim();
    }
    let mut lines = text.lines().peekable();
    while let Some(first) = lines.peek() {
        let heading_text = first.trim_start_matches('#').trim();
        let is_heading = first.starts_with('#');
        if first.trim().is_empty()
            || (is_heading && heading_text.eq_ignore_ascii_case(section.heading()))
        {
            lines.next();
        } else {
            break;
        }
    }
    let body = lines.collect::<Vec<_>>().join("\n");
    // A `#` or `##` heading in the body would end the section: demote it.
    let mut out = String::with_capacity(body.len());
    for (line, outside) in lines_outside_code(&body) {
        match (outside, heading(line, 1).or_else(|| heading(line, 2))) {
            (true, Some(text)) => {
                out.push_str("### ");
                out.push_str(text);
                if line.ends_with('\n') {
                    out.push('\n');
                }
            }
            _ => out.push_str(line),
        }
    }
    out.trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "# Post-mortem: Disk full\n\n*Issue x*\n\n## Summary\n\nMine.\n\n\
                       ## Root cause\n\nOld text.\n\n```sh\n## Root cause\n```\n\nMore old.\n\n\
                       ## Resolution\n\nKept.\n";

    #[test]
    fn the_title_is_the_first_level_one_heading_outside_code() {
        assert_eq!(
            document_title(DOC).as_deref(),
            Some("Post-mortem: Disk full")
        );
        assert_eq!(
            document_title("```\n# not this\n```\n## nor this\n# This one #\n").as_deref(),
            Some("This one")
        );
        assert_eq!(document_title("no heading\n#hashtag\n"), None);
        assert_eq!(document_title("# \n"), None);
    }

    #[test]
    fn a_section_is_replaced_up_to_the_next_heading_ignoring_code() {
        let out = replace_section(DOC, SectionKind::RootCause, "## Root cause\n\nNew text.\n");
        assert_eq!(
            out,
            "# Post-mortem: Disk full\n\n*Issue x*\n\n## Summary\n\nMine.\n\n\
             ## Root cause\n\nNew text.\n\n## Resolution\n\nKept.\n"
        );
    }

    #[test]
    fn the_last_section_runs_to_the_end_and_case_does_not_matter() {
        let doc = "# T\n\n## summary\n\nold\n";
        assert_eq!(
            replace_section(doc, SectionKind::Summary, "## Summary\n\nnew\n\n\n"),
            "# T\n\n## Summary\n\nnew\n"
        );
    }

    #[test]
    fn a_missing_section_is_appended() {
        let out = replace_section(
            "# T\n\n## Summary\n\nx\n",
            SectionKind::LessonsLearned,
            "## Lessons learned\n\n*Write them.*\n",
        );
        assert_eq!(
            out,
            "# T\n\n## Summary\n\nx\n\n## Lessons learned\n\n*Write them.*\n"
        );
        assert_eq!(
            replace_section("", SectionKind::Summary, "## Summary\n\ny\n"),
            "## Summary\n\ny\n"
        );
    }

    #[test]
    fn the_ai_prompt_names_the_section_and_carries_the_document() {
        let (system, user) = ai_prompt(DocumentKind::PostMortem, SectionKind::Impact, DOC);
        assert!(system.contains("\"Impact\" section of an incident post-mortem"));
        assert!(system.contains("[IPV4_1]"));
        assert!(user.starts_with("Section to write: Impact\n"));
        assert!(user.ends_with(DOC));
        let long = "é".repeat(AI_CONTEXT_MAX_CHARS + 10);
        let (_, user) = ai_prompt(DocumentKind::Rca, SectionKind::Summary, &long);
        assert!(user.ends_with("[The rest of the document was left out.]"));
        assert_eq!(user.matches('é').count(), AI_CONTEXT_MAX_CHARS);
    }

    #[test]
    fn ai_replies_lose_their_fence_and_repeated_heading() {
        let s = SectionKind::Impact;
        assert_eq!(
            clean_ai_section("```markdown\n## Impact\n\nUsers saw 502s.\n```\n", s),
            "Users saw 502s."
        );
        assert_eq!(
            clean_ai_section("\n# impact\nA.\n\n## Details\nB.", s),
            "A.\n\n### Details\nB."
        );
        assert_eq!(
            clean_ai_section(
                "Steps:\n\n```sh\n# keep this comment\n```\n# Big heading\n",
                s
            ),
            "Steps:\n\n```sh\n# keep this comment\n```\n### Big heading"
        );
        assert_eq!(clean_ai_section("No heading here.", s), "No heading here.");
        assert_eq!(clean_ai_section("## Impact\n", s), "");
    }

    #[test]
    fn deeper_headings_stay_inside_the_section() {
        let doc = "## Timeline\n\n### Tuesday\n\nold\n\n## Root cause\n\nkeep\n";
        let out = replace_section(doc, SectionKind::Timeline, "## Timeline\n\nnew\n");
        assert_eq!(out, "## Timeline\n\nnew\n\n## Root cause\n\nkeep\n");
    }
}
