//! Issues: the incidents TFTSR tracks from first report to root cause.
//!
//! The enumerations here are the single source of truth for their spelling:
//! the database's CHECK constraints, the wire format and the UI all use
//! [`Severity::as_str`] and friends.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::Timestamp;

/// Bounds enforced on both sides of the wire (and by the database).
pub mod limits {
    pub const TITLE_MAX: usize = 200;
    pub const DESCRIPTION_MAX: usize = 20_000;
    pub const SHORT_FIELD_MAX: usize = 100;
    pub const TAG_MAX: usize = 40;
    pub const TAGS_MAX: usize = 20;
}

/// A random UUID v7 whose time part is `now`.
pub(crate) fn uuid_v7_at(now: Timestamp) -> uuid::Uuid {
    let millis = u64::try_from(now.unix_millis()).unwrap_or(0);
    let ts = uuid::Timestamp::from_unix(
        uuid::NoContext,
        millis / 1_000,
        u32::try_from((millis % 1_000) * 1_000_000).unwrap_or(0),
    );
    uuid::Uuid::new_v7(ts)
}

/// A UUID v7: sortable by creation time, unique without coordination.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct IssueId(uuid::Uuid);

impl IssueId {
    /// A fresh id whose time part is `now`.
    pub fn new_at(now: Timestamp) -> Self {
        Self(uuid_v7_at(now))
    }

    pub fn parse(text: &str) -> Option<Self> {
        uuid::Uuid::try_parse(text).ok().map(Self)
    }

    pub fn as_uuid(&self) -> uuid::Uuid {
        self.0
    }
}

impl fmt::Display for IssueId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

impl fmt::Debug for IssueId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IssueId({})", self.0.hyphenated())
    }
}

text_enum! {
    /// How bad it is. Ordered from worst to mildest.
    Severity {
        Critical => "critical", "Critical";
        High => "high", "High";
        Medium => "medium", "Medium";
        Low => "low", "Low";
    }
}

text_enum! {
    /// Where the issue is in its life.
    IssueStatus {
        Open => "open", "Open";
        Investigating => "investigating", "Investigating";
        Resolved => "resolved", "Resolved";
        Closed => "closed", "Closed";
    }
}

text_enum! {
    /// The IT domain; it picks the assistant's system prompt.
    Domain {
        Linux => "linux", "Linux";
        Windows => "windows", "Windows";
        Network => "network", "Network";
        K8s => "k8s", "Kubernetes";
        Db => "db", "Databases";
        Virt => "virt", "Virtualisation";
        Hw => "hw", "Hardware";
        Obs => "obs", "Observability";
    }
}

impl IssueStatus {
    /// Whether an issue in this status counts as done (has a resolution time).
    pub const fn is_done(self) -> bool {
        matches!(self, IssueStatus::Resolved | IssueStatus::Closed)
    }
}

/// A stored issue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issue {
    pub id: IssueId,
    pub title: String,
    pub description: String,
    pub severity: Severity,
    pub status: IssueStatus,
    pub domain: Domain,
    pub category: String,
    pub source: String,
    pub assigned_to: String,
    pub tags: Vec<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub resolved_at: Option<Timestamp>,
}

/// What a person typed into the issue form: unvalidated, as text.
///
/// [`IssueDraft::validate`] turns it into a [`ValidIssue`] or says exactly
/// which fields are wrong; the browser and the server run the same code.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct IssueDraft {
    pub title: String,
    pub description: String,
    pub severity: String,
    pub status: String,
    pub domain: String,
    pub category: String,
    pub source: String,
    pub assigned_to: String,
    /// Comma-separated.
    pub tags: String,
}

/// The checked fields of a new or edited issue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidIssue {
    pub title: String,
    pub description: String,
    pub severity: Severity,
    pub status: IssueStatus,
    pub domain: Domain,
    pub category: String,
    pub source: String,
    pub assigned_to: String,
    pub tags: Vec<String>,
}

/// One field's problem, phrased for the person who typed it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ValidationError {
    pub field: &'static str,
    pub message: String,
}

fn clean_line(text: &str) -> String {
    strip_markers(text)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Removes the private-use characters that mark search highlights, so stored
/// text can never fake one.
fn strip_markers(text: &str) -> String {
    text.chars()
        .filter(|c| !crate::query::is_highlight_marker(*c))
        .collect()
}

/// Strips control characters other than newline and tab; normalises line ends.
fn clean_block(text: &str) -> String {
    strip_markers(text)
        .replace("\r\n", "\n")
        .chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .collect::<String>()
        .trim()
        .to_owned()
}

impl IssueDraft {
    /// A draft filled from a stored issue, for the edit form.
    pub fn from_issue(issue: &Issue) -> Self {
        Self {
            title: issue.title.clone(),
            description: issue.description.clone(),
            severity: issue.severity.as_str().to_owned(),
            status: issue.status.as_str().to_owned(),
            domain: issue.domain.as_str().to_owned(),
            category: issue.category.clone(),
            source: issue.source.clone(),
            assigned_to: issue.assigned_to.clone(),
            tags: issue.tags.join(", "),
        }
    }

    /// Checks every field and returns all problems at once, so a form can
    /// show them together. An empty status means "open".
    pub fn validate(&self) -> Result<ValidIssue, Vec<ValidationError>> {
        use limits::*;
        let mut errors = Vec::new();
        let mut err = |field: &'static str, message: String| {
            errors.push(ValidationError { field, message });
        };

        let title = clean_line(&self.title);
        if title.is_empty() {
            err("title", "A title is required.".into());
        } else if title.chars().count() > TITLE_MAX {
            err("title", format!("At most {TITLE_MAX} characters."));
        }
        let description = clean_block(&self.description);
        if description.chars().count() > DESCRIPTION_MAX {
            err(
                "description",
                format!("At most {DESCRIPTION_MAX} characters."),
            );
        }
        let severity = Severity::parse(self.severity.trim());
        if severity.is_none() {
            err("severity", "Choose critical, high, medium or low.".into());
        }
        let status = if self.status.trim().is_empty() {
            Some(IssueStatus::Open)
        } else {
            IssueStatus::parse(self.status.trim())
        };
        if status.is_none() {
            err(
                "status",
                "Choose open, investigating, resolved or closed.".into(),
            );
        }
        let domain = Domain::parse(self.domain.trim());
        if domain.is_none() {
            err("domain", "Choose one of the listed domains.".into());
        }
        let mut short = |field: &'static str, value: &str| {
            let v = clean_line(value);
            if v.chars().count() > SHORT_FIELD_MAX {
                err(field, format!("At most {SHORT_FIELD_MAX} characters."));
            }
            v
        };
        let category = short("category", &self.category);
        let source = short("source", &self.source);
        let assigned_to = short("assigned_to", &self.assigned_to);

        let mut tags: Vec<String> = Vec::new();
        for raw in self.tags.split(',') {
            let tag = clean_line(raw).to_lowercase();
            if tag.is_empty() || tags.contains(&tag) {
                continue;
            }
            if tag.chars().count() > TAG_MAX {
                err("tags", format!("Each tag is at most {TAG_MAX} characters."));
                break;
            }
            tags.push(tag);
        }
        if tags.len() > TAGS_MAX {
            err("tags", format!("At most {TAGS_MAX} tags."));
        }

        match (severity, status, domain) {
            (Some(severity), Some(status), Some(domain)) if errors.is_empty() => Ok(ValidIssue {
                title,
                description,
                severity,
                status,
                domain,
                category,
                source,
                assigned_to,
                tags,
            }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> IssueDraft {
        IssueDraft {
            title: "  Disk   full on db-01 ".into(),
            description: "Postgres stopped\r\naccepting writes\u{0007}".into(),
            severity: "high".into(),
            status: String::new(),
            domain: "db".into(),
            category: "storage".into(),
            source: "pagerduty".into(),
            assigned_to: "ops".into(),
            tags: "Disk, postgres, ,disk".into(),
        }
    }

    #[test]
    fn valid_draft_is_normalised() {
        let v = draft().validate().expect("valid");
        assert_eq!(v.title, "Disk full on db-01");
        assert_eq!(v.description, "Postgres stopped\naccepting writes");
        assert_eq!(v.status, IssueStatus::Open);
        assert_eq!(v.tags, vec!["disk", "postgres"]);
    }

    #[test]
    fn reports_every_bad_field() {
        let d = IssueDraft {
            title: "   ".into(),
            severity: "urgent".into(),
            status: "done".into(),
            domain: "mainframe".into(),
            ..draft()
        };
        let fields: Vec<_> = d
            .validate()
            .expect_err("invalid")
            .iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, vec!["title", "severity", "status", "domain"]);
    }

    #[test]
    fn enforces_length_bounds() {
        let d = IssueDraft {
            title: "x".repeat(limits::TITLE_MAX + 1),
            tags: (0..=limits::TAGS_MAX)
                .map(|i| format!("t{i}"))
                .collect::<Vec<_>>()
                .join(","),
            ..draft()
        };
        let fields: Vec<_> = d
            .validate()
            .expect_err("invalid")
            .iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, vec!["title", "tags"]);
        let ok = IssueDraft {
            title: "é".repeat(limits::TITLE_MAX),
            ..draft()
        };
        assert!(
            ok.validate().is_ok(),
            "the bound counts characters, not bytes"
        );
    }

    #[test]
    fn enum_spellings_round_trip() {
        for s in Severity::ALL {
            assert_eq!(Severity::parse(s.as_str()), Some(*s));
        }
        for s in IssueStatus::ALL {
            assert_eq!(IssueStatus::parse(s.as_str()), Some(*s));
        }
        for d in Domain::ALL {
            assert_eq!(Domain::parse(d.as_str()), Some(*d));
        }
        assert_eq!(Severity::parse("HIGH"), None);
    }

    #[test]
    fn ids_sort_by_creation_time() {
        let a = IssueId::new_at(Timestamp::from_unix_millis(1_000).expect("ts"));
        let b = IssueId::new_at(Timestamp::from_unix_millis(2_000).expect("ts"));
        assert!(a < b);
        assert_eq!(IssueId::parse(&a.to_string()), Some(a));
        assert_eq!(IssueId::parse("not-a-uuid"), None);
    }
}
