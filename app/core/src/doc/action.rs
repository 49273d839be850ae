//! Action items: the follow-up work an RCA or post-mortem commits to.

use serde::{Deserialize, Serialize};
use time::Date;

use crate::issue::ValidationError;
use crate::{IssueId, Timestamp};

/// Bounds enforced on both sides of the wire.
pub mod limits {
    pub const DESCRIPTION_MAX: usize = 1_000;
    pub const OWNER_MAX: usize = 100;
}

text_enum! {
    /// Where an action item stands.
    ActionStatus {
        Open => "open", "Open";
        InProgress => "in_progress", "In progress";
        Done => "done", "Done";
        WontDo => "wont_do", "Won't do";
    }
}

impl ActionStatus {
    /// Whether nothing more will happen to the item.
    pub const fn is_closed(self) -> bool {
        matches!(self, ActionStatus::Done | ActionStatus::WontDo)
    }
}

/// A stored action item.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionItem {
    /// UUID v7 text, like every primary key.
    pub id: String,
    pub issue_id: IssueId,
    pub description: String,
    /// Who does it; empty when nobody was named yet.
    pub owner: String,
    pub due: Option<Date>,
    pub status: ActionStatus,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl ActionItem {
    /// A fresh id whose time part is `now`.
    pub fn new_id(now: Timestamp) -> String {
        crate::issue::uuid_v7_at(now).hyphenated().to_string()
    }

    /// A new item from checked fields.
    pub fn create(issue_id: IssueId, valid: ValidActionItem, now: Timestamp) -> Self {
        Self {
            id: Self::new_id(now),
            issue_id,
            description: valid.description,
            owner: valid.owner,
            due: valid.due,
            status: valid.status,
            created_at: now,
            updated_at: now,
        }
    }

    /// The due date as `YYYY-MM-DD`, or empty.
    pub fn due_text(&self) -> String {
        self.due.map(format_date).unwrap_or_default()
    }
}

/// `YYYY-MM-DD`.
pub fn format_date(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// Parses `YYYY-MM-DD` (a real calendar date).
pub fn parse_date(text: &str) -> Option<Date> {
    let mut parts = text.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some()
        || y.len() != 4
        || m.len() != 2
        || d.len() != 2
        || ![y, m, d]
            .iter()
            .all(|p| p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let month = time::Month::try_from(m.parse::<u8>().ok()?).ok()?;
    Date::from_calendar_date(y.parse().ok()?, month, d.parse().ok()?).ok()
}

/// What a person typed into the action-item form: unvalidated, as text.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ActionItemDraft {
    pub description: String,
    pub owner: String,
    /// `YYYY-MM-DD`, or empty for no due date.
    pub due: String,
    /// Empty means "open".
    pub status: String,
}

/// The checked fields of a new or edited action item.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidActionItem {
    pub description: String,
    pub owner: String,
    pub due: Option<Date>,
    pub status: ActionStatus,
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl ActionItemDraft {
    /// A draft filled from a stored item, for the edit form.
    pub fn from_item(item: &ActionItem) -> Self {
        Self {
            description: item.description.clone(),
            owner: item.owner.clone(),
            due: item.due_text(),
            status: item.status.as_str().to_owned(),
        }
    }

    /// Checks every field and returns all problems at once.
    pub fn validate(&self) -> Result<ValidActionItem, Vec<ValidationError>> {
        let mut errors = Vec::new();
        let mut err = |field: &'static str, message: String| {
            errors.push(ValidationError { field, message });
        };
        let description = one_line(&self.description);
        if description.is_empty() {
            err("description", "Say what needs to be done.".into());
        } else if description.chars().count() > limits::DESCRIPTION_MAX {
            err(
                "description",
                format!("At most {} characters.", limits::DESCRIPTION_MAX),
            );
        }
        let owner = one_line(&self.owner);
        if owner.chars().count() > limits::OWNER_MAX {
            err(
                "owner",
                format!("At most {} characters.", limits::OWNER_MAX),
            );
        }
        let due_text = self.due.trim();
        let due = if due_text.is_empty() {
            Some(None)
        } else {
            parse_date(due_text).map(Some)
        };
        if due.is_none() {
            err("due", "Use a date as YYYY-MM-DD, e.g. 2025-03-31.".into());
        }
        let status = if self.status.trim().is_empty() {
            Some(ActionStatus::Open)
        } else {
            ActionStatus::parse(self.status.trim())
        };
        if status.is_none() {
            err(
                "status",
                "Choose open, in_progress, done or wont_do.".into(),
            );
        }
        match (due, status) {
            (Some(due), Some(status)) if errors.is_empty() => Ok(ValidActionItem {
                description,
                owner,
                due,
                status,
            }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_round_trips() {
        for s in ActionStatus::ALL {
            assert_eq!(ActionStatus::parse(s.as_str()), Some(*s));
        }
        assert_eq!(ActionStatus::parse("finished"), None);
        assert_eq!(ActionStatus::WontDo.label(), "Won't do");
        assert!(ActionStatus::Done.is_closed() && !ActionStatus::InProgress.is_closed());
    }

    #[test]
    fn valid_draft_is_normalised() {
        let v = ActionItemDraft {
            description: "  Add  disk\nalert ".into(),
            owner: " SRE team ".into(),
            due: "2025-02-28".into(),
            status: "in_progress".into(),
        }
        .validate()
        .expect("valid");
        assert_eq!(v.description, "Add disk alert");
        assert_eq!(v.owner, "SRE team");
        assert_eq!(v.due.map(format_date).as_deref(), Some("2025-02-28"));
        assert_eq!(v.status, ActionStatus::InProgress);
        let v = ActionItemDraft {
            description: "x".into(),
            ..Default::default()
        }
        .validate()
        .expect("valid");
        assert_eq!((v.due, v.status), (None, ActionStatus::Open));
    }

    #[test]
    fn reports_every_bad_field() {
        let fields: Vec<_> = ActionItemDraft {
            description: " ".into(),
            owner: "o".repeat(101),
            due: "2025-02-30".into(),
            status: "finished".into(),
        }
        .validate()
        .expect_err("invalid")
        .into_iter()
        .map(|e| e.field)
        .collect();
        assert_eq!(fields, vec!["description", "owner", "due", "status"]);
    }

    #[test]
    fn dates_are_strict() {
        assert!(parse_date("2024-02-29").is_some());
        for bad in [
            "2023-02-29",
            "2024-2-01",
            "24-02-01",
            "2024-02-01x",
            "2024-13-01",
            "+202-02-01",
            "",
        ] {
            assert!(parse_date(bad).is_none(), "{bad}");
        }
    }
}
