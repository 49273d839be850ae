//! The audit log: an append-only record of every write and, later, of every
//! byte that leaves the machine. Entries outlive the things they describe, so
//! they hold ids and hashes, never content.

use serde::{Deserialize, Serialize};

use crate::Timestamp;

/// What was done.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AuditAction {
    IssueCreated,
    IssueUpdated,
    IssueDeleted,
    LogUploaded,
    LogRedacted,
    LogDeleted,
    PiiSettingsChanged,
    /// A prompt went to an AI provider.
    AiSend,
    ProviderSaved,
    ProviderDeleted,
    /// A local model server was asked to download a model.
    ModelPulled,
    /// A model was removed from a local model server.
    ModelDeleted,
    /// A document got a new version (drafted, edited, redrafted, restored).
    DocumentSaved,
    /// A document was written to a file.
    DocumentExported,
    ActionItemSaved,
    ActionItemDeleted,
    /// An MCP server was added or edited.
    McpServerSaved,
    McpServerDeleted,
    /// A tool on an MCP server is about to be called (written before the
    /// call: server, tool and the SHA-256 of the arguments).
    McpToolCalled,
    /// A resource of an MCP server is about to be read (server and URI).
    McpResourceRead,
    /// A document is about to be published to Confluence (written before
    /// the request: service, base URL, issue, document kind, the SHA-256 of
    /// the payload and of the token).
    PublishToConfluence,
    /// An incident is about to be created in ServiceNow (as above).
    PublishToServicenow,
    /// A work item is about to be created in Azure DevOps (as above).
    PublishToAzureDevops,
    /// An integration's settings were saved (whether the token changed, not
    /// what it is).
    IntegrationSaved,
    /// The database key was changed (`tftsr db rekey`); never the key.
    DbRekeyed,
    /// An encrypted backup of the database was written (file name, SHA-256
    /// and size).
    DbBackup,
    /// An image was attached to an issue (name, type, size, SHA-256).
    ImageAttached,
    /// An image was removed from an issue.
    ImageDeleted,
    /// The engineer confirmed an image shows nothing that must stay on this
    /// machine (or withdrew that); only cleared images can be sent.
    ImageCleared,
}

impl AuditAction {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::IssueCreated => "issue_created",
            Self::IssueUpdated => "issue_updated",
            Self::IssueDeleted => "issue_deleted",
            Self::LogUploaded => "log_uploaded",
            Self::LogRedacted => "log_redacted",
            Self::LogDeleted => "log_deleted",
            Self::PiiSettingsChanged => "pii_settings_changed",
            Self::AiSend => "ai_send",
            Self::ProviderSaved => "provider_saved",
            Self::ProviderDeleted => "provider_deleted",
            Self::ModelPulled => "model_pulled",
            Self::ModelDeleted => "model_deleted",
            Self::DocumentSaved => "document_saved",
            Self::DocumentExported => "document_exported",
            Self::ActionItemSaved => "action_item_saved",
            Self::ActionItemDeleted => "action_item_deleted",
            Self::McpServerSaved => "mcp_server_saved",
            Self::McpServerDeleted => "mcp_server_deleted",
            Self::McpToolCalled => "mcp_tool_called",
            Self::McpResourceRead => "mcp_resource_read",
            Self::PublishToConfluence => "publish_to_confluence",
            Self::PublishToServicenow => "publish_to_servicenow",
            Self::PublishToAzureDevops => "publish_to_azure_devops",
            Self::IntegrationSaved => "integration_saved",
            Self::DbRekeyed => "db_rekeyed",
            Self::DbBackup => "db_backup",
            Self::ImageAttached => "image_attached",
            Self::ImageDeleted => "image_deleted",
            Self::ImageCleared => "image_cleared",
        }
    }
}

/// An entry about to be written.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewAuditEntry {
    pub action: AuditAction,
    pub entity_type: &'static str,
    pub entity_id: String,
    pub details: serde_json::Value,
}

/// A written entry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: String,
    pub timestamp: Timestamp,
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    pub user_id: String,
    pub details: serde_json::Value,
}

impl AuditAction {
    /// Every action, in declaration order: the filter's choices.
    pub const ALL: &'static [AuditAction] = &[
        Self::IssueCreated,
        Self::IssueUpdated,
        Self::IssueDeleted,
        Self::LogUploaded,
        Self::LogRedacted,
        Self::LogDeleted,
        Self::PiiSettingsChanged,
        Self::AiSend,
        Self::ProviderSaved,
        Self::ProviderDeleted,
        Self::ModelPulled,
        Self::ModelDeleted,
        Self::DocumentSaved,
        Self::DocumentExported,
        Self::ActionItemSaved,
        Self::ActionItemDeleted,
        Self::McpServerSaved,
        Self::McpServerDeleted,
        Self::McpToolCalled,
        Self::McpResourceRead,
        Self::PublishToConfluence,
        Self::PublishToServicenow,
        Self::PublishToAzureDevops,
        Self::IntegrationSaved,
        Self::DbRekeyed,
        Self::DbBackup,
        Self::ImageAttached,
        Self::ImageDeleted,
        Self::ImageCleared,
    ];

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|a| a.as_str() == text)
    }
}

/// Entries per page on the security page.
pub const AUDIT_PAGE_SIZE: u32 = 50;
/// The most entries one export holds.
pub const AUDIT_EXPORT_CAP: u32 = 100_000;

/// Which entries to show or export. Dates are validated `YYYY-MM-DD`, in
/// UTC, both ends inclusive.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFilter {
    pub action: Option<AuditAction>,
    pub entity_type: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
}

/// A filter and a position: `before` an entry id (older entries) or
/// `after` one (newer entries); neither means the newest.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditQuery {
    pub filter: AuditFilter,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// One page, newest first, with the cursors of the pages around it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    /// Pass as `before` for the next older page.
    pub older: Option<String>,
    /// Pass as `after` for the next newer page.
    pub newer: Option<String>,
}

/// Why a filter was refused; the messages are for the person who typed it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AuditFilterError {
    #[error("Unknown action; choose one from the list.")]
    UnknownAction,
    #[error("The entity type may hold only lowercase letters, digits and _ (at most 64).")]
    BadEntityType,
    #[error("“{0}” must be a date like 2026-01-31.")]
    BadDate(&'static str),
    #[error("The “from” date is after the “to” date.")]
    FromAfterTo,
    #[error("The page link is not valid; start from the newest entries.")]
    BadCursor,
}

fn date(field: &'static str, text: &str) -> Result<time::Date, AuditFilterError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    if text.len() != 10 {
        return Err(AuditFilterError::BadDate(field));
    }
    time::Date::parse(text, format).map_err(|_| AuditFilterError::BadDate(field))
}

fn cursor(text: &str) -> Result<String, AuditFilterError> {
    let ok = text.len() == 36
        && text.chars().enumerate().all(|(i, c)| {
            matches!(i, 8 | 13 | 18 | 23) == (c == '-') && (c == '-' || c.is_ascii_hexdigit())
        });
    if ok {
        Ok(text.to_ascii_lowercase())
    } else {
        Err(AuditFilterError::BadCursor)
    }
}

fn day_start(d: time::Date) -> String {
    format!(
        "{:04}-{:02}-{:02}T00:00:00.000Z",
        d.year(),
        u8::from(d.month()),
        d.day()
    )
}

impl AuditFilter {
    /// The first timestamp (inclusive) and the end (exclusive) the filter
    /// allows, in the stored timestamp format, which sorts as text.
    pub fn bounds(&self) -> (Option<String>, Option<String>) {
        let from = self
            .from
            .as_deref()
            .and_then(|t| date("from", t).ok())
            .map(day_start);
        let to = self
            .to
            .as_deref()
            .and_then(|t| date("to", t).ok())
            .map(|d| {
                d.next_day()
                    .map_or_else(|| "9999-12-31T23:59:59.999Z~".to_owned(), day_start)
            });
        (from, to)
    }

    /// Query parameters for links and forms: only the set fields.
    pub fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        if let Some(a) = self.action {
            pairs.push(("action", a.as_str().to_owned()));
        }
        if let Some(e) = &self.entity_type {
            pairs.push(("entity", e.clone()));
        }
        if let Some(f) = &self.from {
            pairs.push(("from", f.clone()));
        }
        if let Some(t) = &self.to {
            pairs.push(("to", t.clone()));
        }
        pairs
    }
}

impl AuditQuery {
    /// Reads `action`, `entity`, `from`, `to`, `before` and `after` from
    /// query parameters; empty values mean "any", other keys are ignored.
    pub fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, AuditFilterError> {
        let mut q = Self::default();
        for (key, value) in pairs {
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            match key {
                "action" => {
                    q.filter.action =
                        Some(AuditAction::parse(value).ok_or(AuditFilterError::UnknownAction)?);
                }
                "entity" => {
                    let ok = value.len() <= 64
                        && value
                            .chars()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
                    if !ok {
                        return Err(AuditFilterError::BadEntityType);
                    }
                    q.filter.entity_type = Some(value.to_owned());
                }
                "from" => q.filter.from = Some(date("from", value).map(|_| value.to_owned())?),
                "to" => q.filter.to = Some(date("to", value).map(|_| value.to_owned())?),
                "before" => q.before = Some(cursor(value)?),
                "after" => q.after = Some(cursor(value)?),
                _ => {}
            }
        }
        if let (Some(f), Some(t)) = (&q.filter.from, &q.filter.to)
            && f > t
        {
            return Err(AuditFilterError::FromAfterTo);
        }
        if q.before.is_some() && q.after.is_some() {
            return Err(AuditFilterError::BadCursor);
        }
        Ok(q)
    }
}

/// One CSV cell: a cell a spreadsheet would run as a formula (starting
/// with `=`, `+`, `-`, `@`, tab or carriage return) gets a leading `'`;
/// a cell with a quote, comma or line break is quoted, quotes doubled.
pub fn csv_cell(text: &str) -> String {
    let mut cell = String::with_capacity(text.len() + 2);
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        cell.push('\'');
    }
    cell.push_str(text);
    if cell.contains(['"', ',', '\n', '\r']) {
        format!("\"{}\"", cell.replace('"', "\"\""))
    } else {
        cell
    }
}

/// The entries as CSV (RFC 4180, CRLF line ends, a header row).
pub fn audit_csv(entries: &[AuditEntry]) -> String {
    let mut out = String::from("id,timestamp,action,entity_type,entity_id,user_id,details\r\n");
    for e in entries {
        let cells = [
            e.id.clone(),
            e.timestamp.to_string(),
            e.action.clone(),
            e.entity_type.clone(),
            e.entity_id.clone(),
            e.user_id.clone(),
            e.details.to_string(),
        ];
        let row: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
        out.push_str(&row.join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(q: &[(&'static str, &'static str)]) -> Result<AuditQuery, AuditFilterError> {
        AuditQuery::from_pairs(q.iter().copied())
    }

    #[test]
    fn every_action_is_listed_once_and_parses_back() {
        let mut seen = std::collections::HashSet::new();
        for a in AuditAction::ALL {
            assert!(seen.insert(a.as_str()));
            assert_eq!(AuditAction::parse(a.as_str()), Some(*a));
        }
        assert_eq!(AuditAction::parse("db_backup"), Some(AuditAction::DbBackup));
        assert_eq!(AuditAction::parse("nope"), None);
    }

    #[test]
    fn a_filter_parses_from_query_text() {
        let q = parse(&[
            ("action", "ai_send"),
            ("entity", "issue"),
            ("from", "2026-01-01"),
            ("to", "2026-01-31"),
            ("before", "0190A1B2-C3D4-7E5F-8A9B-0C1D2E3F4A5B"),
            ("format", "csv"),
        ])
        .expect("valid");
        assert_eq!(q.filter.action, Some(AuditAction::AiSend));
        assert_eq!(q.filter.entity_type.as_deref(), Some("issue"));
        assert_eq!(
            q.before.as_deref(),
            Some("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b")
        );
        let (from, to) = q.filter.bounds();
        assert_eq!(from.as_deref(), Some("2026-01-01T00:00:00.000Z"));
        assert_eq!(
            to.as_deref(),
            Some("2026-02-01T00:00:00.000Z"),
            "to is inclusive"
        );
        assert_eq!(
            q.filter.to_pairs(),
            vec![
                ("action", "ai_send".to_owned()),
                ("entity", "issue".to_owned()),
                ("from", "2026-01-01".to_owned()),
                ("to", "2026-01-31".to_owned())
            ]
        );
        assert_eq!(
            parse(&[("action", ""), ("to", " ")]),
            Ok(AuditQuery::default())
        );
    }

    #[test]
    fn bad_filters_are_clear_errors() {
        assert_eq!(
            parse(&[("action", "drop_table")]),
            Err(AuditFilterError::UnknownAction)
        );
        assert_eq!(
            parse(&[("entity", "Issue; --")]),
            Err(AuditFilterError::BadEntityType)
        );
        assert_eq!(
            parse(&[("from", "2026-13-01")]),
            Err(AuditFilterError::BadDate("from"))
        );
        assert_eq!(
            parse(&[("to", "31/01/2026")]),
            Err(AuditFilterError::BadDate("to"))
        );
        assert_eq!(
            parse(&[("from", "2026-1-1")]),
            Err(AuditFilterError::BadDate("from"))
        );
        assert_eq!(
            parse(&[("from", "2026-02-01"), ("to", "2026-01-01")]),
            Err(AuditFilterError::FromAfterTo)
        );
        assert_eq!(
            parse(&[("before", "x' OR 1=1")]),
            Err(AuditFilterError::BadCursor)
        );
        let id = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
        assert_eq!(
            parse(&[("before", id), ("after", id)]),
            Err(AuditFilterError::BadCursor)
        );
        assert!(
            AuditFilterError::BadDate("from")
                .to_string()
                .contains("2026-01-31"),
            "says what a date looks like"
        );
    }

    #[test]
    fn csv_cells_are_escaped_and_formulas_neutralised() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("+1"), "'+1");
        assert_eq!(csv_cell("-2"), "'-2");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_cell(""), "");
    }

    #[test]
    fn the_csv_has_a_header_and_one_row_per_entry() {
        let entry = AuditEntry {
            id: "i".into(),
            timestamp: Timestamp::from_unix_millis(0).expect("ts"),
            action: "ai_send".into(),
            entity_type: "issue".into(),
            entity_id: "=cmd".into(),
            user_id: "local".into(),
            details: serde_json::json!({"sha256": "ab"}),
        };
        let csv = audit_csv(&[entry]);
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert_eq!(
            lines[0],
            "id,timestamp,action,entity_type,entity_id,user_id,details"
        );
        assert_eq!(
            lines[1],
            "i,1970-01-01T00:00:00.000Z,ai_send,issue,'=cmd,local,\"{\"\"sha256\"\":\"\"ab\"\"}\""
        );
        assert_eq!(lines.len(), 3);
    }
}
