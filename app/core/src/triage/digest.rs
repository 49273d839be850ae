//! Log digests: a large redacted log reduced to what a root-cause
//! conversation needs — its distinct message templates (numbers, ids and
//! placeholders folded), how often each occurs, where it first and last
//! appears, and the lines just before its first appearance — rendered to fit
//! a model's context.
//!
//! A [`DigestBuilder`] takes one line at a time, so a 100 MB file is read in
//! a stream; its memory is bounded by [`MAX_TEMPLATES`], not by the file.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

/// Distinct templates kept per file; lines of further templates are only
/// counted.
pub const MAX_TEMPLATES: usize = 4_000;
/// Characters kept of an example line.
pub const EXAMPLE_MAX: usize = 300;
/// Room kept at the end of a rendering for the "left out" note.
const NOTE_RESERVE: usize = 64;
/// Lines kept from just before a template's first occurrence.
pub const CONTEXT_LINES: usize = 2;

text_enum! {
    /// How bad a line looks.
    LineSeverity {
        Error => "error", "Error";
        Warn => "warn", "Warning";
        Info => "info", "Info";
    }
}

/// One distinct kind of line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Template {
    /// The line with its timestamp removed and its variable parts folded:
    /// digits become `#`, long hex runs `<hex>`, placeholders `<IPV4>`.
    pub signature: String,
    pub severity: LineSeverity,
    pub count: u64,
    /// 1-based line numbers.
    pub first_line: u64,
    pub last_line: u64,
    /// The leading timestamp of the first and last occurrence, as written.
    pub first_time: Option<String>,
    pub last_time: Option<String>,
    /// The first occurrence, shortened to [`EXAMPLE_MAX`] characters.
    pub example: String,
    /// Up to [`CONTEXT_LINES`] lines just before the first occurrence.
    pub context_before: Vec<String>,
}

/// One file's digest.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileDigest {
    /// The file's display name.
    pub file: String,
    pub lines: u64,
    /// In order of first appearance.
    pub templates: Vec<Template>,
    /// Lines whose template did not fit under [`MAX_TEMPLATES`].
    pub uncounted_lines: u64,
}

impl FileDigest {
    pub fn count(&self, severity: LineSeverity) -> u64 {
        self.templates
            .iter()
            .filter(|t| t.severity == severity)
            .map(|t| t.count)
            .sum()
    }
}

/// Builds a [`FileDigest`] a line at a time.
#[derive(Debug)]
pub struct DigestBuilder {
    digest: FileDigest,
    index: HashMap<String, usize>,
    recent: Vec<String>,
}

impl DigestBuilder {
    pub fn new(file: impl Into<String>) -> Self {
        Self {
            digest: FileDigest {
                file: file.into(),
                ..FileDigest::default()
            },
            index: HashMap::new(),
            recent: Vec::with_capacity(CONTEXT_LINES + 1),
        }
    }

    /// Adds the next line (without its line break).
    pub fn push_line(&mut self, line: &str) {
        self.digest.lines += 1;
        let number = self.digest.lines;
        let trimmed = line.trim_end_matches('\r');
        if !trimmed.trim().is_empty() {
            let (time, rest) = split_timestamp(trimmed);
            let signature = signature_of(rest);
            match self.index.get(&signature) {
                Some(&at) => {
                    let template = &mut self.digest.templates[at];
                    template.count += 1;
                    template.last_line = number;
                    if time.is_some() {
                        template.last_time = time.map(str::to_owned);
                    }
                }
                None if self.digest.templates.len() < MAX_TEMPLATES => {
                    self.index
                        .insert(signature.clone(), self.digest.templates.len());
                    self.digest.templates.push(Template {
                        severity: severity_of(rest),
                        signature,
                        count: 1,
                        first_line: number,
                        last_line: number,
                        first_time: time.map(str::to_owned),
                        last_time: time.map(str::to_owned),
                        example: shorten(trimmed, EXAMPLE_MAX),
                        context_before: self.recent.clone(),
                    });
                }
                None => self.digest.uncounted_lines += 1,
            }
        }
        if self.recent.len() == CONTEXT_LINES {
            self.recent.remove(0);
        }
        if CONTEXT_LINES > 0 {
            self.recent.push(shorten(trimmed, EXAMPLE_MAX));
        }
    }

    /// Adds every line of `text`.
    pub fn push_text(&mut self, text: &str) {
        for line in text.lines() {
            self.push_line(line);
        }
    }

    pub fn finish(self) -> FileDigest {
        self.digest
    }
}

/// The evidence of a conversation: the digests of its log files.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogDigest {
    pub files: Vec<FileDigest>,
}

/// A template with the file it came from, for ranking across files.
#[derive(Clone, Copy, Debug)]
pub struct TemplateRef<'a> {
    pub file: &'a FileDigest,
    pub template: &'a Template,
}

impl TemplateRef<'_> {
    /// How the model and the engineer cite it: `app.log:1022`.
    pub fn citation(&self) -> String {
        format!("{}:{}", self.file.file, self.template.first_line)
    }

    /// A sort key for "when did this first happen": the normalised
    /// timestamp when there is one, else the file and line.
    fn time_key(&self) -> (Option<String>, u64) {
        (
            self.template.first_time.as_deref().and_then(normalise_time),
            self.template.first_line,
        )
    }
}

impl LogDigest {
    pub fn is_empty(&self) -> bool {
        self.files.iter().all(|f| f.templates.is_empty())
    }

    /// Error and warning templates, most telling first: errors before
    /// warnings, then by count, then by first appearance.
    pub fn ranked(&self) -> Vec<TemplateRef<'_>> {
        let mut all: Vec<TemplateRef<'_>> = self
            .files
            .iter()
            .flat_map(|file| {
                file.templates
                    .iter()
                    .filter(|t| t.severity != LineSeverity::Info)
                    .map(move |template| TemplateRef { file, template })
            })
            .collect();
        all.sort_by(|a, b| {
            a.template
                .severity
                .cmp(&b.template.severity)
                .then(b.template.count.cmp(&a.template.count))
                .then(a.template.first_line.cmp(&b.template.first_line))
        });
        all
    }

    /// Error and warning templates in order of first appearance. Within a
    /// file that is line order; across files, timestamps decide when both
    /// have one in the same format.
    pub fn chronological(&self) -> Vec<TemplateRef<'_>> {
        let mut all: Vec<TemplateRef<'_>> = Vec::new();
        for file in &self.files {
            for template in file.templates.iter() {
                if template.severity != LineSeverity::Info {
                    all.push(TemplateRef { file, template });
                }
            }
        }
        all.sort_by(|a, b| {
            let (ta, la) = a.time_key();
            let (tb, lb) = b.time_key();
            match (ta, tb) {
                (Some(ta), Some(tb)) if ta.len() == tb.len() => ta.cmp(&tb).then(la.cmp(&lb)),
                _ if std::ptr::eq(a.file, b.file) => la.cmp(&lb),
                _ => std::cmp::Ordering::Equal,
            }
        });
        all
    }

    /// The digest as text for a model, at most `budget` bytes: a header per
    /// file, then error and warning templates (most telling first) with
    /// their counts, first and last occurrence and the lines before the
    /// first, then the most common other templates while room remains.
    pub fn render(&self, budget: usize) -> String {
        let mut out = String::new();
        if self.files.is_empty() {
            out.push_str("No redacted log files are attached to this conversation.\n");
            return out;
        }
        for file in &self.files {
            let _ = writeln!(
                out,
                "File {}: {} lines, {} distinct templates, {} error and {} warning lines.",
                file.file,
                file.lines,
                file.templates.len(),
                file.count(LineSeverity::Error),
                file.count(LineSeverity::Warn),
            );
        }
        out.push('\n');
        let mut omitted = 0usize;
        let ranked = self.ranked();
        for (n, item) in ranked.iter().enumerate() {
            let entry = render_entry(n + 1, item, true);
            if out.len() + entry.len() + NOTE_RESERVE > budget {
                omitted += 1;
                continue;
            }
            out.push_str(&entry);
        }
        let mut others: Vec<TemplateRef<'_>> = self
            .files
            .iter()
            .flat_map(|file| {
                file.templates
                    .iter()
                    .filter(|t| t.severity == LineSeverity::Info)
                    .map(move |template| TemplateRef { file, template })
            })
            .collect();
        others.sort_by_key(|t| std::cmp::Reverse(t.template.count));
        let mut shown_other = false;
        for item in others.iter() {
            let entry = render_entry(0, item, false);
            if out.len() + entry.len() + NOTE_RESERVE > budget {
                omitted += 1;
                continue;
            }
            if !shown_other {
                out.push_str("Other frequent lines:\n");
                shown_other = true;
            }
            out.push_str(&entry);
        }
        if omitted > 0 {
            let note = format!("({omitted} more templates left out to fit the context.)\n");
            if out.len() + note.len() <= budget {
                out.push_str(&note);
            }
        }
        if out.len() > budget {
            let cut = floor_char_boundary(&out, budget);
            out.truncate(cut);
        }
        out
    }
}

fn render_entry(n: usize, item: &TemplateRef<'_>, detailed: bool) -> String {
    let t = item.template;
    let mut entry = String::new();
    let when = match (&t.first_time, &t.last_time) {
        (Some(first), Some(last)) if t.count > 1 => format!(", first {first}, last {last}"),
        (Some(first), _) => format!(", at {first}"),
        _ => String::new(),
    };
    if detailed {
        let _ = writeln!(
            entry,
            "[E{n}] {} x{} in {}, lines {}-{}{} (cite as {})",
            t.severity.label().to_uppercase(),
            t.count,
            item.file.file,
            t.first_line,
            t.last_line,
            when,
            item.citation(),
        );
        let _ = writeln!(entry, "  first: {}", t.example);
        for line in &t.context_before {
            let _ = writeln!(entry, "  before: {line}");
        }
    } else {
        let _ = writeln!(entry, "- x{} {}: {}", t.count, item.citation(), t.example);
    }
    entry
}

fn floor_char_boundary(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// `text` cut to at most `max` characters, with an ellipsis when cut.
pub fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

static TIMESTAMP: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(concat!(
        r"^\s*\[?(?:",
        // ISO 8601 / RFC 3339, with T or a space, optional fraction and zone.
        r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?",
        // syslog: Nov 23 08:31:10 (optionally with a year after it)
        r"|[A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2}(?: \d{4})?",
        // nginx/apache: 23/Nov/2026:08:31:10 +0000
        r"|\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2}(?: [+-]\d{4})?",
        r")\]?\s*",
    ))
    .ok()
});

/// Splits a leading timestamp off a line.
pub(crate) fn split_timestamp(line: &str) -> (Option<&str>, &str) {
    if let Some(re) = TIMESTAMP.as_ref()
        && let Some(m) = re.find(line)
    {
        let stamp = m
            .as_str()
            .trim()
            .trim_start_matches('[')
            .trim_end_matches(']');
        return (Some(stamp), &line[m.end()..]);
    }
    (None, line)
}

/// A timestamp in a form that sorts: ISO ones as `YYYY-MM-DDTHH:MM:SS.fff`.
/// Others (no year) are not compared across files.
fn normalise_time(stamp: &str) -> Option<String> {
    let bytes = stamp.as_bytes();
    if bytes.len() >= 19 && bytes[4] == b'-' && bytes[7] == b'-' {
        let mut key = stamp[..19].replace(' ', "T");
        if let Some(fraction) = stamp[19..].strip_prefix(['.', ',']) {
            let digits: String = fraction.chars().take_while(char::is_ascii_digit).collect();
            key.push('.');
            key.push_str(&format!("{digits:0<3}")[..3]);
        } else {
            key.push_str(".000");
        }
        return Some(key);
    }
    None
}

static SEVERITY: LazyLock<Option<(Regex, Regex)>> = LazyLock::new(|| {
    let error = Regex::new(concat!(
        r"(?i)\b(?:fatal|panic|emerg(?:ency)?|alert|crit(?:ical)?|err(?:or)?|exception|",
        r"fail(?:s|ed|ure|ing)?|refused|denied|unreachable|timed? ?out|timeout|oom|",
        r"out of memory|killed|segfault|traceback|abort(?:ed)?|unavailable|",
        r"invalid|corrupt(?:ed|ion)?|lost|exhausted|locked out|lockout)\b",
    ))
    .ok()?;
    let warn = Regex::new(
        r"(?i)\b(?:warn(?:ing)?|retry(?:ing)?|retries|degraded|slow|throttl(?:ed|ing)|deprecated|high|lag(?:ging)?|backoff)\b",
    )
    .ok()?;
    Some((error, warn))
});

/// Whether a line reads as an error, a warning or neither. An explicit
/// level (`INFO`, `<3>`-free words like `[error]`, `level=debug`,
/// `"level":"warn"`) wins over words in the message.
pub fn severity_of(line: &str) -> LineSeverity {
    if let Some(level) = explicit_level(line) {
        return level;
    }
    match SEVERITY.as_ref() {
        Some((error, _)) if error.is_match(line) => LineSeverity::Error,
        Some((_, warn)) if warn.is_match(line) => LineSeverity::Warn,
        _ => LineSeverity::Info,
    }
}

fn level_word(word: &str) -> Option<LineSeverity> {
    match word.to_ascii_lowercase().as_str() {
        "error" | "err" | "fatal" | "crit" | "critical" | "panic" | "severe" | "emerg"
        | "alert" | "e" | "f" => Some(LineSeverity::Error),
        "warn" | "warning" | "w" => Some(LineSeverity::Warn),
        "info" | "debug" | "trace" | "notice" | "i" | "d" => Some(LineSeverity::Info),
        _ => None,
    }
}

fn explicit_level(line: &str) -> Option<LineSeverity> {
    for key in ["level=", "\"level\":\"", "\"severity\":\"", "lvl="] {
        if let Some(at) = line.find(key) {
            let value: String = line[at + key.len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphabetic())
                .collect();
            if let Some(level) = level_word(&value) {
                return Some(level);
            }
        }
    }
    line.split_whitespace()
        .take(4)
        .map(|w| w.trim_matches(|c: char| !c.is_ascii_alphabetic()))
        .filter(|w| w.len() >= 3 && w.bytes().all(|b| b.is_ascii_uppercase()))
        .find_map(level_word)
        .or_else(|| {
            line.split_whitespace()
                .take(4)
                .filter_map(|w| w.strip_prefix('[').and_then(|w| w.strip_suffix(']')))
                .find_map(level_word)
        })
}

/// The line with its variable parts folded, so that lines differing only
/// in numbers, ids, addresses or redaction placeholders share a template.
pub fn signature_of(line: &str) -> String {
    let mut out = String::with_capacity(line.len().min(200));
    for (i, token) in line.split_whitespace().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        if i >= 40 {
            out.push('…');
            break;
        }
        fold_token(token, &mut out);
    }
    out
}

fn fold_token(token: &str, out: &mut String) {
    // A redaction placeholder: [IPV4_3] -> <IPV4>
    if let Some(inner) = token
        .trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != '[' && c != ']' && c != '_')
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        && let Some((kind, number)) = inner.rsplit_once('_')
        && kind.bytes().next().is_some_and(|b| b.is_ascii_uppercase())
        && kind
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        && number.bytes().all(|b| b.is_ascii_digit())
    {
        out.push('<');
        out.push_str(kind);
        out.push('>');
        return;
    }
    let hex_run = token
        .split(|c: char| !c.is_ascii_hexdigit())
        .any(|run| run.len() >= 8 && run.bytes().any(|b| b.is_ascii_digit()));
    if hex_run {
        // Keep a key= prefix if there is one: request_id=<hex>
        if let Some((key, _)) = token.split_once('=') {
            out.push_str(key);
            out.push('=');
        }
        out.push_str("<hex>");
        return;
    }
    let mut in_digits = false;
    for c in token.chars() {
        if c.is_ascii_digit() {
            if !in_digits {
                out.push('#');
                in_digits = true;
            }
        } else {
            // 1.5s, 10.0.0.1 fold to #s, #
            if !(in_digits && c == '.') {
                out.push(c);
            }
            in_digits = c == '.' && in_digits;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_differing_in_numbers_and_placeholders_share_a_template() {
        let a = signature_of(
            "sshd[1201]: Failed password for [USERNAME_1] from [IPV4_2] port 5022 ssh2",
        );
        let b =
            signature_of("sshd[88]: Failed password for [USERNAME_7] from [IPV4_1] port 41 ssh2");
        assert_eq!(a, b);
        assert_eq!(
            a,
            "sshd[#]: Failed password for <USERNAME> from <IPV4> port # ssh#"
        );
        assert_eq!(
            signature_of("request_id=9f86d081884c7d65 took 1.25s"),
            "request_id=<hex> took #s"
        );
    }

    #[test]
    fn timestamps_are_split_off() {
        assert_eq!(
            split_timestamp("2026-11-23T08:31:10.123Z ERROR db: timeout"),
            (Some("2026-11-23T08:31:10.123Z"), "ERROR db: timeout")
        );
        assert_eq!(
            split_timestamp("Nov 23 08:31:10 web01 sshd[1]: x"),
            (Some("Nov 23 08:31:10"), "web01 sshd[1]: x")
        );
        assert_eq!(split_timestamp("no stamp here"), (None, "no stamp here"));
        assert_eq!(
            normalise_time("2026-11-23 08:31:10,5").as_deref(),
            Some("2026-11-23T08:31:10.500")
        );
    }

    #[test]
    fn severity_reads_levels_and_words() {
        assert_eq!(severity_of("ERROR pool exhausted"), LineSeverity::Error);
        assert_eq!(
            severity_of("level=warn msg=\"replica lag 12s\""),
            LineSeverity::Warn
        );
        assert_eq!(
            severity_of("INFO retry policy loaded; failures allowed: 3"),
            LineSeverity::Info
        );
        assert_eq!(
            severity_of("connection refused by upstream"),
            LineSeverity::Error
        );
        assert_eq!(severity_of("GET /health 200"), LineSeverity::Info);
    }

    fn sample() -> LogDigest {
        let mut b = DigestBuilder::new("app.log");
        b.push_text(concat!(
            "2026-11-23T08:00:00Z INFO start\n",
            "2026-11-23T08:00:01Z WARN disk 91% full on /var\n",
            "2026-11-23T08:00:02Z ERROR write failed: no space left on device\n",
            "2026-11-23T08:00:03Z ERROR request 17 failed: 500\n",
            "2026-11-23T08:00:04Z ERROR request 18 failed: 500\n",
            "2026-11-23T08:00:05Z INFO start\n",
        ));
        LogDigest {
            files: vec![b.finish()],
        }
    }

    #[test]
    fn templates_count_and_remember_first_and_last() {
        let digest = sample();
        let file = &digest.files[0];
        assert_eq!(file.lines, 6);
        assert_eq!(file.templates.len(), 4);
        let failed = &file.templates[3];
        assert_eq!(failed.count, 2);
        assert_eq!((failed.first_line, failed.last_line), (4, 5));
        assert_eq!(failed.last_time.as_deref(), Some("2026-11-23T08:00:04Z"));
        assert_eq!(failed.context_before.len(), 2);
        assert!(failed.context_before[1].contains("no space left"));
        let ranked = digest.ranked();
        assert_eq!(ranked[0].template.signature, "ERROR request # failed: #");
        let chrono = digest.chronological();
        assert!(chrono[0].template.signature.starts_with("WARN disk"));
    }

    #[test]
    fn render_stays_within_budget_and_puts_errors_first() {
        let digest = sample();
        let full = digest.render(10_000);
        let e1 = full.find("[E1] ERROR x2").expect("top error");
        assert!(e1 < full.find("Other frequent lines").expect("others"));
        assert!(full.contains("cite as app.log:4"));
        for budget in [50, 200, 400] {
            assert!(digest.render(budget).len() <= budget);
        }
        assert!(digest.render(300).contains("left out"));
    }

    #[test]
    fn template_count_is_bounded() {
        let mut b = DigestBuilder::new("x");
        for i in 0..(MAX_TEMPLATES + 10) {
            // Letters differ, so each line is its own template.
            let mut word = String::new();
            let mut n = i;
            loop {
                word.push(char::from(b'a' + u8::try_from(n % 26).expect("small")));
                n /= 26;
                if n == 0 {
                    break;
                }
            }
            b.push_line(&format!("event {word}"));
        }
        let d = b.finish();
        assert_eq!(d.templates.len(), MAX_TEMPLATES);
        assert_eq!(d.uncounted_lines, 10);
    }
}
