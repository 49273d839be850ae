//! # Log files: the evidence attached to an issue
//!
//! An engineer uploads logs to an issue; TFTSR decodes them to UTF-8, scans
//! them for PII and secrets, and lets the engineer review every finding
//! before a redacted copy is made. Only that redacted copy may ever leave
//! the machine. This module holds the pure parts of that flow:
//!
//! * [`decode`] — recognising what was uploaded (gzip, UTF-8, UTF-16,
//!   Windows-1252, or binary that is refused) and turning it into UTF-8 in
//!   a stream;
//! * [`name`] — making an uploaded file name safe to display (it is never
//!   used as a path);
//! * [`pages`] — cutting a text into pages at line boundaries, so a 100 MB
//!   log is viewed a page at a time;
//! * [`review`] — the state of a file and of each finding, and how findings
//!   are shown (secrets masked) and grouped;
//! * [`gate`] — the one check every outbound payload must pass;
//! * [`settings`] — the allowlist and custom patterns as a form edits them.

pub mod decode;
pub mod gate;
pub mod name;
pub mod pages;
pub mod review;
pub mod settings;

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{IssueId, Timestamp};

pub use decode::{BinaryKind, Sniffed, TextDecoder, TextEncoding, sniff};
pub use gate::{AcceptedValues, NotClean, check_clean_to_send, redact_unreviewed};
pub use name::display_name;
pub use pages::{LineCounter, PageBreaker, PageInfo};
pub use review::{
    Decision, DecisionScope, FindingCounts, FindingRow, LogFileSummary, LogPage, LogState, Segment,
    SpanSource, TypeGroup, ValueGroup, ViewLine, display_value,
};
pub use settings::{PiiSettingsText, SettingsLineError};

/// Bounds on uploads and review.
pub mod limits {
    /// The default largest upload, 2 GiB. Configurable on the server.
    pub const DEFAULT_MAX_UPLOAD_BYTES: u64 = 2 * 1024 * 1024 * 1024;
    /// Files accepted in one upload request.
    pub const MAX_FILES_PER_UPLOAD: usize = 20;
    /// Bytes looked at to decide what a file is.
    pub const SNIFF_BYTES: usize = 8 * 1024;
    /// A manual redaction's longest value.
    pub const MANUAL_VALUE_MAX: usize = 4096;
    /// Value groups listed per type in the review panel.
    pub const VALUES_PER_TYPE: usize = 50;
}

/// A byte count for people: `512 bytes`, `37.9 KiB`, `2 GiB`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: &[&str] = &["bytes", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 || value.fract() == 0.0 {
        format!("{value:.0} {}", UNITS[unit])
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// A UUID v7 naming one uploaded log file.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LogFileId(uuid::Uuid);

impl LogFileId {
    /// A fresh id whose time part is `now`.
    pub fn new_at(now: Timestamp) -> Self {
        Self(crate::issue::uuid_v7_at(now))
    }

    pub fn parse(text: &str) -> Option<Self> {
        uuid::Uuid::try_parse(text).ok().map(Self)
    }
}

impl fmt::Display for LogFileId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

impl fmt::Debug for LogFileId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LogFileId({})", self.0.hyphenated())
    }
}

/// The issue a file belongs to, with the file; handy for links.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogFileRef {
    pub issue_id: IssueId,
    pub file_id: LogFileId,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_counts_read_naturally() {
        assert_eq!(human_bytes(0), "0 bytes");
        assert_eq!(human_bytes(1023), "1023 bytes");
        assert_eq!(human_bytes(64 * 1024), "64 KiB");
        assert_eq!(human_bytes(38_815), "37.9 KiB");
        assert_eq!(human_bytes(2 * 1024 * 1024 * 1024), "2 GiB");
    }
}
