//! Reviewing findings: the state of a log file and of each finding, and
//! what the browser is shown.
//!
//! A finding starts `pending`. The engineer approves (redact it) or rejects
//! (it is not sensitive; keep it) one finding, every occurrence of a value,
//! or a whole type. Applying the review redacts every finding that is not
//! rejected: pending counts as approved, because the safe default for an
//! unreviewed value is to hide it. Secrets (passwords, keys, tokens) are
//! never sent to the browser in full: [`display_value`] masks them.

use serde::{Deserialize, Serialize};

use super::LogFileId;
use super::decode::TextEncoding;
use crate::pii::PiiType;
use crate::{IssueId, Timestamp};

text_enum! {
    /// Where a log file is in its life.
    LogState {
        /// Uploaded; being decoded and scanned in the background.
        Scanning => "scanning", "Scanning";
        /// Scanned; findings wait for review.
        Review => "review", "Needs review";
        /// The review was applied: a redacted copy exists.
        Redacted => "redacted", "Redacted";
        /// Decoding or scanning failed; `error` says why.
        Failed => "failed", "Failed";
    }
}

text_enum! {
    /// The engineer's call on one finding.
    Decision {
        Pending => "pending", "Not reviewed";
        /// Sensitive: replace it with a placeholder.
        Approved => "approved", "Redact";
        /// Not sensitive: keep it.
        Rejected => "rejected", "Keep";
    }
}

text_enum! {
    /// Who found a finding.
    SpanSource {
        Detected => "detected", "Detected";
        Manual => "manual", "Added by hand";
    }
}

impl Decision {
    /// Whether applying the review replaces the finding.
    pub const fn redacts(self) -> bool {
        !matches!(self, Decision::Rejected)
    }
}

/// What a decision applies to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DecisionScope {
    /// One finding, by its id.
    Finding(i64),
    /// Every finding of this type with the same value as finding `like`.
    SameValue { like: i64 },
    /// Every finding of a type in the file.
    Type(PiiType),
    /// Every finding still pending in the file.
    AllPending,
}

/// Findings of a file by decision.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingCounts {
    pub pending: u64,
    pub approved: u64,
    pub rejected: u64,
}

impl FindingCounts {
    pub const fn total(&self) -> u64 {
        self.pending + self.approved + self.rejected
    }
}

/// A log file as lists and pages show it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogFileSummary {
    pub id: LogFileId,
    pub issue_id: IssueId,
    /// Display name only; never a path.
    pub name: String,
    /// Bytes as uploaded (compressed, if it was).
    pub size_bytes: u64,
    pub mime_type: String,
    /// SHA-256 of the uploaded bytes, hex.
    pub sha256: String,
    pub state: LogState,
    /// Why scanning failed, in words for the user.
    pub error: Option<String>,
    pub encoding: Option<TextEncoding>,
    pub compressed: bool,
    /// Bytes of decoded UTF-8 text.
    pub text_bytes: Option<u64>,
    pub line_count: Option<u64>,
    pub page_count: u32,
    /// Malformed byte sequences replaced by U+FFFD while decoding.
    pub replaced_sequences: u64,
    pub findings: FindingCounts,
    pub uploaded_at: Timestamp,
    pub scanned_at: Option<Timestamp>,
    pub redacted_at: Option<Timestamp>,
    /// Bytes processed so far while scanning (with `size_bytes`, a progress
    /// bar); `None` when not scanning.
    pub progress_bytes: Option<u64>,
}

impl LogFileSummary {
    /// Whether this file's redacted copy may be attached to anything that
    /// leaves the machine; if not, why.
    pub fn attachable(&self) -> Result<(), String> {
        match self.state {
            LogState::Redacted => Ok(()),
            LogState::Scanning => Err(format!("{} is still being scanned.", self.name)),
            LogState::Review => Err(format!(
                "{} has not been reviewed and redacted yet.",
                self.name
            )),
            LogState::Failed => Err(format!("{} could not be read.", self.name)),
        }
    }

    /// Progress of scanning, 0–100.
    pub fn progress_percent(&self) -> u8 {
        match (self.state, self.progress_bytes) {
            (LogState::Scanning, Some(done)) if self.size_bytes > 0 => {
                u8::try_from((done.min(self.size_bytes) * 100) / self.size_bytes).unwrap_or(100)
            }
            (LogState::Scanning, _) => 0,
            _ => 100,
        }
    }
}

/// One finding as the browser sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingRow {
    pub id: i64,
    pub kind: PiiType,
    pub start: u64,
    pub end: u64,
    pub line: u64,
    /// The value, masked if it is a secret.
    pub display: String,
    pub source: SpanSource,
    pub decision: Decision,
}

/// All findings of one value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValueGroup {
    pub kind: PiiType,
    /// The value, masked if it is a secret.
    pub display: String,
    /// A finding with this value, to name the group in decisions.
    pub example_id: i64,
    pub first_line: u64,
    pub counts: FindingCounts,
}

/// All findings of one type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypeGroup {
    pub kind: PiiType,
    pub counts: FindingCounts,
    /// Distinct values.
    pub distinct: u64,
    /// The most frequent values (at most
    /// [`super::limits::VALUES_PER_TYPE`]).
    pub values: Vec<ValueGroup>,
}

/// A piece of a displayed line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Segment {
    Text(String),
    Finding {
        id: i64,
        kind: PiiType,
        display: String,
        decision: Decision,
    },
}

/// One displayed line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewLine {
    pub number: u64,
    pub segments: Vec<Segment>,
    /// The same line as it will read after redaction.
    pub redacted: Option<String>,
}

/// A page of a log for the viewer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogPage {
    /// 0-based.
    pub page: u32,
    pub page_count: u32,
    pub lines: Vec<ViewLine>,
}

/// The value as the browser may see it: personal data in full (the
/// engineer must recognise it to judge it), secrets masked to a short
/// prefix and their length, so a password or key never reaches the page.
pub fn display_value(kind: PiiType, value: &str) -> String {
    if !kind.is_secret() {
        return value.to_owned();
    }
    let chars = value.chars().count();
    if kind == PiiType::PrivateKey {
        return format!("[private key, {chars} chars]");
    }
    let shown = if chars >= 16 { 4 } else { 0 };
    let prefix: String = value.chars().take(shown).collect();
    format!("{prefix}{} ({chars} chars)", "•".repeat(6))
}

/// Builds the segments of `line` (which starts at absolute offset
/// `line_start`) from the findings that touch it, sorted by start.
pub fn segments(
    line: &str,
    line_start: u64,
    findings: &[(i64, PiiType, u64, u64, Decision)],
) -> Vec<Segment> {
    let line_end = line_start + line.len() as u64;
    let mut out = Vec::new();
    let mut pos = 0usize;
    for &(id, kind, start, end, decision) in findings {
        if end <= line_start || start >= line_end {
            continue;
        }
        let s = clamp_to_char(line, start.saturating_sub(line_start));
        let e = clamp_to_char(line, end.saturating_sub(line_start).min(line.len() as u64));
        if s < pos || e <= s {
            continue;
        }
        if s > pos {
            out.push(Segment::Text(line[pos..s].to_owned()));
        }
        out.push(Segment::Finding {
            id,
            kind,
            display: display_value(kind, &line[s..e]),
            decision,
        });
        pos = e;
    }
    if pos < line.len() {
        out.push(Segment::Text(line[pos..].to_owned()));
    }
    out
}

fn clamp_to_char(text: &str, offset: u64) -> usize {
    let mut i = usize::try_from(offset)
        .unwrap_or(usize::MAX)
        .min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_masked_personal_data_is_not() {
        assert_eq!(
            display_value(PiiType::Email, "bob@example.org"),
            "bob@example.org"
        );
        let shown = display_value(PiiType::Password, "hunter2");
        assert!(!shown.contains("hunter2") && !shown.contains("hun"));
        assert!(shown.contains("7 chars"));
        let key = "ghp_abcdefghijklmnopqrstuvwxyz0123456789";
        let shown = display_value(PiiType::ApiKey, key);
        assert!(shown.starts_with("ghp_") && !shown.contains("abcdef"));
        let pem = "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----";
        assert!(!display_value(PiiType::PrivateKey, pem).contains("MIIE"));
    }

    #[test]
    fn segments_split_a_line_around_findings() {
        let line = "from 10.0.0.1 user=bob";
        let findings = [
            (1, PiiType::Ipv4, 105, 113, Decision::Pending),
            (2, PiiType::Username, 119, 122, Decision::Rejected),
            (3, PiiType::Email, 200, 210, Decision::Pending),
        ];
        let segs = segments(line, 100, &findings);
        assert_eq!(
            segs,
            vec![
                Segment::Text("from ".into()),
                Segment::Finding {
                    id: 1,
                    kind: PiiType::Ipv4,
                    display: "10.0.0.1".into(),
                    decision: Decision::Pending
                },
                Segment::Text(" user=".into()),
                Segment::Finding {
                    id: 2,
                    kind: PiiType::Username,
                    display: "bob".into(),
                    decision: Decision::Rejected
                },
            ]
        );
    }

    #[test]
    fn a_finding_spanning_lines_shows_on_each() {
        let findings = [(9, PiiType::PrivateKey, 5, 40, Decision::Pending)];
        let segs = segments("-----END KEY-----", 20, &findings);
        assert!(matches!(segs.first(), Some(Segment::Finding { id: 9, .. })));
    }

    #[test]
    fn progress_and_attachability() {
        let mut file = LogFileSummary {
            id: LogFileId::new_at(Timestamp::from_unix_millis(1_800_000_000_000).expect("valid")),
            issue_id: IssueId::new_at(
                Timestamp::from_unix_millis(1_800_000_000_000).expect("valid"),
            ),
            name: "a.log".into(),
            size_bytes: 200,
            mime_type: "text/plain".into(),
            sha256: "0".repeat(64),
            state: LogState::Scanning,
            error: None,
            encoding: None,
            compressed: false,
            text_bytes: None,
            line_count: None,
            page_count: 0,
            replaced_sequences: 0,
            findings: FindingCounts::default(),
            uploaded_at: Timestamp::from_unix_millis(1_800_000_000_000).expect("valid"),
            scanned_at: None,
            redacted_at: None,
            progress_bytes: Some(50),
        };
        assert_eq!(file.progress_percent(), 25);
        assert!(file.attachable().is_err());
        file.state = LogState::Review;
        assert!(file.attachable().is_err());
        file.state = LogState::Redacted;
        assert!(file.attachable().is_ok());
        assert!(Decision::Pending.redacts() && !Decision::Rejected.redacts());
    }
}
