//! Wire types: what server functions send that is not a core domain type as
//! is. Core types with a stable serde shape (issues, pages, stats) travel
//! directly; these add what only the UI needs.

use serde::{Deserialize, Serialize};
use tftsr_core::{AuditEntry, Issue, TimelineEvent};

/// The light or dark theme, remembered in a cookie.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Theme {
    Light,
    Dark,
}

impl Theme {
    pub const COOKIE: &'static str = "tftsr_theme";

    pub fn as_str(self) -> &'static str {
        match self {
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "light" => Some(Theme::Light),
            "dark" => Some(Theme::Dark),
            _ => None,
        }
    }

    pub fn other(self) -> Self {
        match self {
            Theme::Light => Theme::Dark,
            Theme::Dark => Theme::Light,
        }
    }

    /// Reads the theme cookie out of a `Cookie` header value.
    pub fn from_cookie_header(header: &str) -> Option<Self> {
        header
            .split(';')
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == Self::COOKIE)
            .and_then(|(_, value)| Self::parse(value))
    }
}

/// An issue with everything its page shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IssueDetail {
    pub issue: Issue,
    pub timeline: Vec<TimelineEvent>,
}

/// What the security page shows about encryption at rest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EncryptionStatus {
    pub cipher_version: String,
    pub sqlite_version: String,
    pub page_size: i64,
    pub kdf_iter: i64,
    pub hmac: String,
    pub kdf: String,
    /// Where the key came from (environment, key file, generated key file).
    pub key_source: String,
    pub db_path: String,
    pub db_size_bytes: u64,
    pub migrations: Vec<MigrationRow>,
    /// Of `db_size_bytes`, the write-ahead log (`-wal`).
    #[serde(default)]
    pub wal_size_bytes: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MigrationRow {
    pub name: String,
    pub applied_at: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SecurityOverview {
    pub encryption: EncryptionStatus,
    pub audit: Vec<AuditEntry>,
}

/// An encrypted backup in the data directory's `backups/` folder.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BackupRow {
    pub name: String,
    pub size_bytes: u64,
    pub sha256: Option<String>,
}

/// The audit filter as typed in the page's form (and its query string):
/// parsed and checked on the server by core.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AuditParams {
    pub action: Option<String>,
    pub entity: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub before: Option<String>,
    pub after: Option<String>,
}

impl AuditParams {
    pub fn pairs(&self) -> Vec<(&'static str, &str)> {
        [
            ("action", &self.action),
            ("entity", &self.entity),
            ("from", &self.from),
            ("to", &self.to),
            ("before", &self.before),
            ("after", &self.after),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_deref().map(|v| (k, v)))
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn theme_cookie_is_found_among_others() {
        assert_eq!(
            Theme::from_cookie_header("a=1; tftsr_theme=dark; b=2"),
            Some(Theme::Dark)
        );
        assert_eq!(Theme::from_cookie_header("tftsr_theme=blue"), None);
        assert_eq!(Theme::from_cookie_header("xtftsr_theme=dark"), None);
        assert_eq!(Theme::from_cookie_header(""), None);
    }
}

/// Which page of a log to show: by number, or the one holding a line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PageAt {
    Page(u32),
    Line(u64),
}

/// A log file and its findings grouped for review.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogReview {
    pub file: tftsr_core::logs::LogFileSummary,
    pub groups: Vec<tftsr_core::logs::TypeGroup>,
}

/// A file accepted by the upload route.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadedFile {
    pub id: String,
    pub name: String,
}

/// A file the upload route refused, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusedFile {
    pub name: String,
    pub message: String,
}

/// The upload route's JSON answer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadReport {
    pub uploaded: Vec<UploadedFile>,
    pub refused: Vec<RefusedFile>,
}

/// One message of a triage conversation as the page shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TriageMessage {
    pub id: String,
    pub role: tftsr_core::ai::Role,
    pub content: String,
    /// Which provider answered (assistant messages).
    pub provider_label: String,
    /// Set when the reply failed or the send was blocked.
    pub error: Option<String>,
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
    pub created_at: tftsr_core::Timestamp,
    /// The MCP calls this (assistant) message asked for, by id; see
    /// [`TriageView::calls`].
    #[serde(default)]
    pub calls: Vec<String>,
}

/// A log file the conversation may use as evidence.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EvidenceFile {
    pub id: String,
    pub name: String,
    /// Only a redacted copy may be used; others are listed so the page can
    /// say what is missing.
    pub redacted: bool,
    pub lines: Option<u64>,
}

/// A provider the triage page can pick.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProviderChoice {
    pub id: String,
    pub label: String,
    pub is_default: bool,
}

/// Everything the triage page shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TriageView {
    pub conversation_id: Option<String>,
    /// The provider of the conversation (or the default for a new one).
    pub provider_id: Option<String>,
    pub provider_label: String,
    pub messages: Vec<TriageMessage>,
    pub steps: Vec<tftsr_core::triage::WhyStep>,
    pub question: String,
    pub root_cause: Option<String>,
    /// 1 to 5, 6 once the root cause is identified.
    pub level: u8,
    /// The reply being streamed, if one is.
    pub pending: Option<String>,
    pub evidence: Vec<EvidenceFile>,
    pub providers: Vec<ProviderChoice>,
    /// The issue's MCP calls (the assistant's and the engineer's), oldest
    /// first; results are redacted.
    #[serde(default)]
    pub calls: Vec<tftsr_core::mcp::McpCall>,
}

/// An issue's documents, action items and recent exports.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DocumentsView {
    pub issue_id: String,
    pub issue_title: String,
    pub documents: Vec<DocumentSummary>,
    pub action_items: Vec<tftsr_core::doc::ActionItem>,
    pub exports: Vec<ExportSummary>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentSummary {
    pub kind: tftsr_core::doc::DocumentKind,
    pub title: String,
    pub version: i64,
    pub updated_at: tftsr_core::Timestamp,
}

/// One document in the editor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentView {
    pub issue_id: String,
    pub issue_title: String,
    pub kind: tftsr_core::doc::DocumentKind,
    pub id: String,
    pub title: String,
    pub content: String,
    /// The version the content is at; a save names it.
    pub version: i64,
    pub updated_at: tftsr_core::Timestamp,
    pub versions: Vec<VersionSummary>,
    pub exports: Vec<ExportSummary>,
}

/// An entry of a document's history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionSummary {
    pub id: String,
    pub version: i64,
    /// generated, edited, restored or redrafted.
    pub reason: String,
    pub title: String,
    pub bytes: i64,
    pub saved_at: tftsr_core::Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionContent {
    pub title: String,
    pub content: String,
}

/// What a save answered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedDocument {
    pub version: i64,
    pub updated_at: tftsr_core::Timestamp,
}

/// A file made from a document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportSummary {
    pub kind: tftsr_core::doc::DocumentKind,
    pub format: String,
    pub version: i64,
    pub size_bytes: i64,
    pub sha256: String,
    /// download or cli.
    pub destination: String,
    pub exported_at: tftsr_core::Timestamp,
}

/// An exported file, for the download route and the CLI (never sent as
/// JSON).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportedFile {
    pub file_name: String,
    pub mime_type: String,
    pub bytes: Vec<u8>,
}

/// An open action item with its issue's title, for the dashboard.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenActionItem {
    pub item: tftsr_core::doc::ActionItem,
    pub issue_title: String,
}

/// The Ollama page's view of this machine: what it has and which model
/// sizes fit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HardwareReport {
    pub hardware: tftsr_core::ai::sizing::Hardware,
    /// The context size the sizes were weighed for.
    pub context_tokens: u32,
    pub recommendations: Vec<tftsr_core::ai::sizing::Recommendation>,
}

/// An Ollama server the page can manage: a configured Ollama provider, or
/// the local default when none is configured.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OllamaServer {
    /// Empty for the local default.
    pub provider_id: String,
    pub name: String,
    pub base_url: String,
    /// The model the provider is set to use (empty for the default).
    pub model: String,
}

/// A model download in progress or just finished.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullState {
    pub model: String,
    /// Ollama's words: `pulling manifest`, `downloading sha256:…`,
    /// `verifying sha256 digest`, `success`.
    pub status: String,
    /// Bytes of the layer being downloaded, when Ollama says.
    pub completed: u64,
    pub total: u64,
    pub done: bool,
    pub error: Option<String>,
}

impl PullState {
    /// Percent of the current layer, when its size is known.
    pub fn percent(&self) -> Option<u8> {
        (self.total > 0)
            .then(|| u8::try_from(self.completed.min(self.total) * 100 / self.total).unwrap_or(100))
    }
}

/// The outcome of "Test" on a provider.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProviderTest {
    pub ok: bool,
    pub message: String,
    pub models: Vec<String>,
    pub elapsed_ms: u64,
}

/// An MCP server with what its last discovery found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct McpServerDetails {
    pub settings: tftsr_core::mcp::McpServerSettings,
    pub tools: Vec<tftsr_core::mcp::McpTool>,
    pub resources: Vec<tftsr_core::mcp::McpResource>,
}

// ---------------------------------------------------------------------------
// Integrations: Confluence, ServiceNow, Azure DevOps.

/// One integration's settings as the settings page shows them. The token
/// never travels: only whether one is stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntegrationView {
    pub service: tftsr_core::publish::Service,
    pub base_url: String,
    pub space_key: String,
    pub project: String,
    pub username: String,
    pub work_item_type: String,
    pub auto_create_on_resolve: bool,
    pub enabled: bool,
    pub token_set: bool,
    /// `None` until saved once.
    pub updated_at: Option<tftsr_core::Timestamp>,
}

impl IntegrationView {
    /// The empty form of a service not configured yet.
    pub fn unconfigured(service: tftsr_core::publish::Service) -> Self {
        Self {
            service,
            base_url: String::new(),
            space_key: String::new(),
            project: String::new(),
            username: String::new(),
            work_item_type: String::new(),
            auto_create_on_resolve: false,
            enabled: false,
            token_set: false,
            updated_at: None,
        }
    }
}

/// The outcome of "Test connection".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionTest {
    pub service: tftsr_core::publish::Service,
    pub outcome: tftsr_core::publish::ConnectionOutcome,
    pub message: String,
    pub elapsed_ms: u64,
}

impl ConnectionTest {
    pub fn ok(&self) -> bool {
        self.outcome == tftsr_core::publish::ConnectionOutcome::Ok
    }
}

/// An item published or created in another tool.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicationView {
    pub service: tftsr_core::publish::Service,
    /// `rca`, `post_mortem`, or `issue` (created on resolve).
    pub doc_type: String,
    pub remote_id: String,
    /// The page title, `INC0010001`, `#42`.
    pub remote_label: String,
    pub remote_url: String,
    pub remote_version: Option<i64>,
    pub published_at: tftsr_core::Timestamp,
}

/// A service a document can be published to, and what it holds already.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishTarget {
    pub service: tftsr_core::publish::Service,
    /// The item of this issue there (for Confluence: this document's page).
    pub existing: Option<PublicationView>,
}
