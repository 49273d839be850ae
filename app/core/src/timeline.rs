//! The timeline of an issue: what happened to it, in order. The post-mortem's
//! timeline section is later built from these events.

use serde::{Deserialize, Serialize};

use crate::{IssueId, Timestamp};

/// The kinds of event TFTSR records. Stored as their snake_case name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TimelineEventKind {
    /// The issue was filed; triage begins.
    TriageStarted,
    /// The status moved, e.g. open → investigating.
    StatusChanged,
    /// Fields other than the status were edited.
    IssueUpdated,
    /// A log file was attached.
    LogUploaded,
    /// A log file's review was applied: a redacted copy exists.
    LogRedacted,
    /// A log file was removed.
    LogDeleted,
    /// A why was answered and the next one opened.
    WhyLevelAdvanced,
    /// The 5 Whys reached the root cause.
    RootCauseIdentified,
    /// An RCA or post-mortem was drafted (or a section redrafted).
    DocumentGenerated,
    /// A document was exported to a file.
    DocumentExported,
    /// A follow-up action was added.
    ActionItemAdded,
    /// An action item's status changed.
    ActionItemUpdated,
    /// A tool on an MCP server was called (by the assistant or by hand).
    McpToolCalled,
    /// A resource of an MCP server was read.
    McpResourceRead,
    /// A document was published, or an incident / work item created, in
    /// another tool (Confluence, ServiceNow, Azure DevOps).
    Published,
    /// Creating the remote item on resolve failed (best effort; the status
    /// change stands).
    PublishFailed,
    /// An image was attached.
    ImageAttached,
    /// An image was removed.
    ImageDeleted,
}

impl TimelineEventKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::TriageStarted => "triage_started",
            Self::StatusChanged => "status_changed",
            Self::IssueUpdated => "issue_updated",
            Self::LogUploaded => "log_uploaded",
            Self::LogRedacted => "log_redacted",
            Self::LogDeleted => "log_deleted",
            Self::WhyLevelAdvanced => "why_level_advanced",
            Self::RootCauseIdentified => "root_cause_identified",
            Self::DocumentGenerated => "document_generated",
            Self::DocumentExported => "document_exported",
            Self::ActionItemAdded => "action_item_added",
            Self::ActionItemUpdated => "action_item_updated",
            Self::McpToolCalled => "mcp_tool_called",
            Self::McpResourceRead => "mcp_resource_read",
            Self::Published => "published",
            Self::PublishFailed => "publish_failed",
            Self::ImageAttached => "image_attached",
            Self::ImageDeleted => "image_deleted",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "triage_started" => Some(Self::TriageStarted),
            "status_changed" => Some(Self::StatusChanged),
            "issue_updated" => Some(Self::IssueUpdated),
            "log_uploaded" => Some(Self::LogUploaded),
            "log_redacted" => Some(Self::LogRedacted),
            "log_deleted" => Some(Self::LogDeleted),
            "why_level_advanced" => Some(Self::WhyLevelAdvanced),
            "root_cause_identified" => Some(Self::RootCauseIdentified),
            "document_generated" => Some(Self::DocumentGenerated),
            "document_exported" => Some(Self::DocumentExported),
            "action_item_added" => Some(Self::ActionItemAdded),
            "action_item_updated" => Some(Self::ActionItemUpdated),
            "mcp_tool_called" => Some(Self::McpToolCalled),
            "mcp_resource_read" => Some(Self::McpResourceRead),
            "published" => Some(Self::Published),
            "publish_failed" => Some(Self::PublishFailed),
            "image_attached" => Some(Self::ImageAttached),
            "image_deleted" => Some(Self::ImageDeleted),
            _ => None,
        }
    }

    pub const fn label(self) -> &'static str {
        match self {
            Self::TriageStarted => "Triage started",
            Self::StatusChanged => "Status changed",
            Self::IssueUpdated => "Issue updated",
            Self::LogUploaded => "Log uploaded",
            Self::LogRedacted => "Log redacted",
            Self::LogDeleted => "Log removed",
            Self::WhyLevelAdvanced => "Why answered",
            Self::RootCauseIdentified => "Root cause identified",
            Self::DocumentGenerated => "Document drafted",
            Self::DocumentExported => "Document exported",
            Self::ActionItemAdded => "Action item added",
            Self::ActionItemUpdated => "Action item updated",
            Self::McpToolCalled => "MCP tool called",
            Self::McpResourceRead => "MCP resource read",
            Self::Published => "Published",
            Self::PublishFailed => "Publishing failed",
            Self::ImageAttached => "Image attached",
            Self::ImageDeleted => "Image removed",
        }
    }
}

/// An event about to be recorded.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewTimelineEvent {
    pub kind: TimelineEventKind,
    pub description: String,
    pub metadata: serde_json::Value,
}

/// A recorded event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimelineEvent {
    pub id: String,
    pub issue_id: IssueId,
    /// The stored kind name; kept as text so that events written by a newer
    /// version still display.
    pub event_type: String,
    pub description: String,
    pub metadata: serde_json::Value,
    pub created_at: Timestamp,
}

impl TimelineEvent {
    pub fn kind(&self) -> Option<TimelineEventKind> {
        TimelineEventKind::parse(&self.event_type)
    }

    /// A label for display, falling back to the raw name.
    pub fn label(&self) -> String {
        self.kind()
            .map(|k| k.label().to_owned())
            .unwrap_or_else(|| self.event_type.replace('_', " "))
    }
}
