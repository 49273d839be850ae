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
