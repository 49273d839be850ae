//! Working on a document's Markdown by section: its title, and replacing
//! one `## Section` with a fresh draft while leaving the rest of what the
//! engineer wrote alone.

use super::template::SectionKind;

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
    fn deeper_headings_stay_inside_the_section() {
        let doc = "## Timeline\n\n### Tuesday\n\nold\n\n## Root cause\n\nkeep\n";
        let out = replace_section(doc, SectionKind::Timeline, "## Timeline\n\nnew\n");
        assert_eq!(out, "## Timeline\n\nnew\n\n## Root cause\n\nkeep\n");
    }
}
