//! The issue list's query language: filters, full-text search and keyset
//! pagination.
//!
//! Pagination is by cursor, not by offset: a page is "the 25 issues created
//! just before (or after) this one", which an index answers in the same time
//! on page 1 and on page 4,000. The list is always newest first, searches
//! included, so paging through search results is as cheap as through the list.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{Domain, IssueId, IssueStatus, Severity, Timestamp};

/// Marks the start of a highlighted match inside a search snippet. A
/// private-use character, never present in stored text (validation strips it),
/// so the UI can split on it and render `<mark>` elements without parsing HTML.
pub const HIGHLIGHT_OPEN: char = '\u{E000}';
/// Marks the end of a highlighted match.
pub const HIGHLIGHT_CLOSE: char = '\u{E001}';

pub fn is_highlight_marker(c: char) -> bool {
    c == HIGHLIGHT_OPEN || c == HIGHLIGHT_CLOSE
}

/// The most search terms honoured; the rest are ignored.
pub const MAX_SEARCH_TERMS: usize = 12;
/// Searches count matches up to this many; beyond it the total reads "N+".
pub const SEARCH_COUNT_CAP: u64 = 10_000;
/// Page sizes a caller may ask for.
pub const PAGE_SIZE_DEFAULT: u32 = 25;
pub const PAGE_SIZE_MAX: u32 = 100;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueFilter {
    pub status: Option<IssueStatus>,
    pub severity: Option<Severity>,
    pub domain: Option<Domain>,
    /// Free text, as typed. See [`fts_match_expression`].
    pub text: Option<String>,
}

/// Which way a cursor points.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Direction {
    /// Older than the cursor (the next page).
    After,
    /// Newer than the cursor (the previous page).
    Before,
}

/// A position in the newest-first list: the `(created_at, id)` of an issue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageCursor {
    pub direction: Direction,
    pub created_at: Timestamp,
    pub id: IssueId,
}

impl PageCursor {
    /// Parses the compact form used in URLs: `a<millis>~<uuid>` or `b…`.
    pub fn parse(text: &str) -> Option<Self> {
        let direction = match text.get(..1)? {
            "a" => Direction::After,
            "b" => Direction::Before,
            _ => return None,
        };
        let (millis, id) = text.get(1..)?.split_once('~')?;
        Some(Self {
            direction,
            created_at: Timestamp::from_unix_millis(millis.parse().ok()?)?,
            id: IssueId::parse(id)?,
        })
    }
}

impl fmt::Display for PageCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = match self.direction {
            Direction::After => 'a',
            Direction::Before => 'b',
        };
        write!(f, "{d}{}~{}", self.created_at.unix_millis(), self.id)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueQuery {
    pub filter: IssueFilter,
    pub cursor: Option<PageCursor>,
    pub limit: u32,
}

impl Default for IssueQuery {
    fn default() -> Self {
        Self {
            filter: IssueFilter::default(),
            cursor: None,
            limit: PAGE_SIZE_DEFAULT,
        }
    }
}

impl IssueQuery {
    /// The page size, clamped to `1..=PAGE_SIZE_MAX`.
    pub fn page_size(&self) -> u32 {
        self.limit.clamp(1, PAGE_SIZE_MAX)
    }
}

/// One row of the issue list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueSummary {
    pub id: IssueId,
    pub title: String,
    pub severity: Severity,
    pub status: IssueStatus,
    pub domain: Domain,
    pub tags: Vec<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// For searches: an excerpt with matches between [`HIGHLIGHT_OPEN`] and
    /// [`HIGHLIGHT_CLOSE`].
    pub snippet: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuePage {
    pub items: Vec<IssueSummary>,
    /// How many issues match the filter in all (for searches, at most
    /// [`SEARCH_COUNT_CAP`] + 1; see `total_capped`).
    pub total: u64,
    /// The count stopped at the cap: there are more than `total` matches.
    pub total_capped: bool,
    /// Cursor to the next (older) page, if there is one.
    pub next: Option<PageCursor>,
    /// Cursor to the previous (newer) page, if there is one.
    pub prev: Option<PageCursor>,
}

/// Builds a safe FTS5 MATCH expression from what a person typed.
///
/// Each word becomes a quoted prefix query (`"disk"*`) and the words are
/// ANDed, so `disk ful` finds "Disk full". FTS5 operators typed by the user
/// (`OR`, `NEAR`, `-`, `:`, quotes, parentheses) are treated as plain text and
/// can never make the expression invalid. `None` when nothing searchable is
/// left.
pub fn fts_match_expression(text: &str) -> Option<String> {
    let terms: Vec<String> = search_terms(text)
        .iter()
        .map(|t| format!("\"{t}\"*"))
        .collect();
    if terms.is_empty() {
        None
    } else {
        Some(terms.join(" "))
    }
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The words of a search, lowercased, at most [`MAX_SEARCH_TERMS`].
pub fn search_terms(text: &str) -> Vec<String> {
    text.split(|c: char| !is_word_char(c))
        .filter(|t| !t.is_empty())
        .take(MAX_SEARCH_TERMS)
        .map(str::to_lowercase)
        .collect()
}

/// An excerpt of `text` around the first word that starts with one of
/// `terms` (as the search matched it: by prefix, ignoring case), with every
/// matching word in the excerpt between [`HIGHLIGHT_OPEN`] and
/// [`HIGHLIGHT_CLOSE`]. At most about `width` characters, cut at word
/// boundaries, with `…` where text was left out. `None` if nothing matches.
///
/// Computed here rather than by FTS5's `snippet()`, which would re-run the
/// full-text query for every page of results.
pub fn excerpt(text: &str, terms: &[String], width: usize) -> Option<String> {
    // Work on a whitespace-normalised copy, by char position.
    let flat: Vec<char> = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .collect();
    // (start, end, matches) for every word.
    let mut words: Vec<(usize, usize, bool)> = Vec::new();
    let mut i = 0;
    while i < flat.len() {
        if !is_word_char(flat[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < flat.len() && is_word_char(flat[i]) {
            i += 1;
        }
        let word = flat[start..i].iter().collect::<String>().to_lowercase();
        let hit = terms
            .iter()
            .any(|t| !t.is_empty() && word.starts_with(t.as_str()));
        words.push((start, i, hit));
    }
    let first = words.iter().find(|w| w.2)?;
    // Start a third of the window before the first match, on a word start.
    let wanted = first.0.saturating_sub(width / 3);
    let from = words
        .iter()
        .map(|w| w.0)
        .find(|s| *s >= wanted)
        .unwrap_or(first.0)
        .min(first.0);
    let mut to = (from + width.max(1)).min(flat.len());
    // Do not cut a word in half.
    if let Some(w) = words.iter().find(|w| w.0 < to && to < w.1) {
        to = if w.0 > from { w.0 } else { w.1 };
    }
    // A long word before the match must not push the match itself out of a
    // narrow window.
    to = to.max(first.1).min(flat.len());
    let mut out = String::new();
    if from > 0 {
        out.push('…');
    }
    let mut pos = from;
    for &(start, end, _) in words.iter().filter(|w| w.2 && w.0 >= from && w.1 <= to) {
        out.extend(&flat[pos..start]);
        out.push(HIGHLIGHT_OPEN);
        out.extend(&flat[start..end]);
        out.push(HIGHLIGHT_CLOSE);
        pos = end;
    }
    out.extend(&flat[pos..to]);
    if to < flat.len() {
        out.push('…');
    }
    Some(out)
}

/// Splits a snippet into `(text, highlighted)` runs for rendering.
pub fn highlight_runs(snippet: &str) -> Vec<(String, bool)> {
    let mut runs = Vec::new();
    let mut current = String::new();
    let mut marked = false;
    for c in snippet.chars() {
        let toggle_to = match c {
            HIGHLIGHT_OPEN => Some(true),
            HIGHLIGHT_CLOSE => Some(false),
            _ => None,
        };
        match toggle_to {
            Some(m) => {
                if !current.is_empty() {
                    runs.push((std::mem::take(&mut current), marked));
                }
                marked = m;
            }
            None => current.push(c),
        }
    }
    if !current.is_empty() {
        runs.push((current, marked));
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn words_become_prefix_terms() {
        assert_eq!(
            fts_match_expression("disk ful").as_deref(),
            Some("\"disk\"* \"ful\"*")
        );
        assert_eq!(fts_match_expression("  ").as_deref(), None);
        assert_eq!(
            fts_match_expression("\"\" OR ()").as_deref(),
            Some("\"or\"*")
        );
        assert_eq!(
            fts_match_expression("db-01:5432 NEAR(x)").as_deref(),
            Some("\"db\"* \"01\"* \"5432\"* \"near\"* \"x\"*")
        );
    }

    fn terms(text: &str) -> Vec<String> {
        search_terms(text)
    }

    #[test]
    fn excerpts_mark_prefix_matches_case_insensitively() {
        let text = "Postgres stopped accepting writes:\n  the WAL volume on pgdb-prod-03 is full.";
        let e = excerpt(text, &terms("wal FUL"), 200).expect("match");
        assert_eq!(
            e,
            format!(
                "Postgres stopped accepting writes: the {o}WAL{c} volume on pgdb-prod-03 is {o}full{c}.",
                o = HIGHLIGHT_OPEN,
                c = HIGHLIGHT_CLOSE
            )
        );
        assert_eq!(excerpt(text, &terms("kafka"), 200), None);
        assert_eq!(
            excerpt(text, &terms("olume"), 200),
            None,
            "matches are by word prefix"
        );
    }

    #[test]
    fn long_texts_are_cut_around_the_first_match_at_word_boundaries() {
        let text = format!("{} needle {}", "alpha ".repeat(100), "omega ".repeat(100));
        let e = excerpt(&text, &terms("needle"), 60).expect("match");
        assert!(e.starts_with('…') && e.ends_with('…'), "{e}");
        assert!(e.contains(&format!("{HIGHLIGHT_OPEN}needle{HIGHLIGHT_CLOSE}")));
        let plain: String = e
            .chars()
            .filter(|c| !is_highlight_marker(*c) && *c != '…')
            .collect();
        assert!(
            plain
                .split_whitespace()
                .all(|w| ["alpha", "omega", "needle"].contains(&w)),
            "{plain}"
        );
        assert!(plain.chars().count() <= 61, "{plain}");
    }

    #[test]
    fn search_terms_are_capped() {
        let many = (0..50)
            .map(|i| format!("w{i}"))
            .collect::<Vec<_>>()
            .join(" ");
        let expr = fts_match_expression(&many).expect("terms");
        assert_eq!(expr.matches('*').count(), MAX_SEARCH_TERMS);
    }

    #[test]
    fn cursor_round_trips() {
        let c = PageCursor {
            direction: Direction::Before,
            created_at: Timestamp::from_unix_millis(1_700_000_000_123).expect("ts"),
            id: IssueId::new_at(Timestamp::from_unix_millis(1).expect("ts")),
        };
        assert_eq!(PageCursor::parse(&c.to_string()), Some(c));
        for bad in ["", "x1~abc", "a~", "a12", "anan~0190", "b1~not-a-uuid"] {
            assert_eq!(PageCursor::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn snippet_runs() {
        let s = format!("a {HIGHLIGHT_OPEN}disk{HIGHLIGHT_CLOSE} b");
        assert_eq!(
            highlight_runs(&s),
            vec![
                ("a ".to_owned(), false),
                ("disk".to_owned(), true),
                (" b".to_owned(), false)
            ]
        );
    }

    proptest! {
        /// Whatever is typed, the expression only ever contains quoted
        /// alphanumeric terms, so FTS5 can't reject it or read an operator.
        #[test]
        fn match_expression_is_always_quoted_terms(input in "\\PC{0,80}") {
            if let Some(expr) = fts_match_expression(&input) {
                for term in expr.split(' ') {
                    prop_assert!(term.starts_with('"') && term.ends_with("\"*"));
                    let inner = &term[1..term.len() - 2];
                    prop_assert!(!inner.is_empty());
                    prop_assert!(inner.chars().all(|c| c.is_alphanumeric() || c == '_'));
                }
            }
        }

        #[test]
        fn excerpts_never_panic_and_only_add_markers(text in "\\PC{0,300}", query in "\\PC{0,20}", width in 1usize..120) {
            if let Some(e) = excerpt(&text, &search_terms(&query), width) {
                prop_assert!(e.contains(HIGHLIGHT_OPEN));
                let plain: String = e.chars().filter(|c| !is_highlight_marker(*c)).collect();
                let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
                prop_assert!(flat.contains(plain.trim_matches('…')));
            }
        }

        #[test]
        fn highlight_runs_keep_all_text(input in "[a-z \u{E000}\u{E001}]{0,40}") {
            let joined: String = highlight_runs(&input).into_iter().map(|(t, _)| t).collect();
            let expected: String = input.chars().filter(|c| !is_highlight_marker(*c)).collect();
            prop_assert_eq!(joined, expected);
        }
    }
}
