//! Server-side plumbing shared by every server function: the services handed
//! in as context, and running blocking work off the async runtime.

use std::sync::Arc;

use leptos::prelude::use_context;
use tftsr_core::logs::{
    Decision, DecisionScope, LogFileId, LogFileSummary, LogPage, PiiSettingsText, TypeGroup,
};
use tftsr_core::pii::PiiType;
use tftsr_core::{IssueId, IssueTracker, StoreError};

use crate::AppError;
use crate::wire::{
    DocumentView, DocumentsView, EncryptionStatus, ExportedFile, HardwareReport, McpServerDetails,
    OllamaServer, OpenActionItem, PageAt, ProviderTest, PullState, SavedDocument, TriageView,
};
use tftsr_core::ai::{BoxFuture, ModelInfo, ProviderDraft, ProviderId, ProviderSettings};
use tftsr_core::doc::export::ExportFormat;
use tftsr_core::doc::{ActionItem, ActionItemDraft, DocumentKind, SectionKind};
use tftsr_core::mcp::{McpCall, McpServerDraft, McpServerId, McpServerSettings};

/// Facts about the local installation that only the server knows.
pub trait SystemInfo: Send + Sync {
    fn encryption_status(&self) -> Result<EncryptionStatus, StoreError>;
    /// One page of the audit log, newest first.
    fn audit_page(
        &self,
        query: &tftsr_core::audit::AuditQuery,
    ) -> Result<tftsr_core::audit::AuditPage, StoreError>;
    /// Every audit entry the filter allows (capped), newest first.
    fn audit_export(
        &self,
        filter: &tftsr_core::audit::AuditFilter,
    ) -> Result<Vec<tftsr_core::AuditEntry>, StoreError>;
    /// Writes an encrypted backup into the data directory's `backups/`.
    fn backup_now(&self) -> Result<crate::wire::BackupRow, AppError>;
    /// The backups in `backups/`, newest first.
    fn backups(&self) -> Result<Vec<crate::wire::BackupRow>, AppError>;
}

/// Log files: upload happens over a plain HTTP route (it streams); the rest
/// — listing, paging, review, redaction — goes through this port, which the
/// server implements over the encrypted store and blob directory. Every
/// method blocks; call it through [`blocking`].
pub trait LogService: Send + Sync {
    fn list(&self, issue: IssueId) -> Result<Vec<LogFileSummary>, AppError>;
    fn get(&self, file: LogFileId) -> Result<LogFileSummary, AppError>;
    fn groups(&self, file: LogFileId) -> Result<Vec<TypeGroup>, AppError>;
    /// A page of the original text with findings, and each line as it will
    /// read once redacted.
    fn page(&self, file: LogFileId, at: PageAt) -> Result<LogPage, AppError>;
    /// Returns how many findings changed.
    fn decide(
        &self,
        file: LogFileId,
        scope: DecisionScope,
        decision: Decision,
    ) -> Result<u64, AppError>;
    /// Redacts every occurrence of `value`; returns how many were found.
    fn add_manual(&self, file: LogFileId, kind: PiiType, value: &str) -> Result<u64, AppError>;
    /// Adds a finding's value to the allowlist and keeps its occurrences in
    /// this file; returns how many were kept.
    fn allow_value(&self, file: LogFileId, finding: i64) -> Result<u64, AppError>;
    /// Writes the redacted copy.
    fn apply(&self, file: LogFileId) -> Result<(), AppError>;
    /// Drops the redacted copy and goes back to review.
    fn reopen(&self, file: LogFileId) -> Result<(), AppError>;
    fn delete(&self, file: LogFileId) -> Result<(), AppError>;
    /// The allowlist, custom patterns and internal domains.
    fn pii_settings(&self) -> Result<PiiSettingsText, AppError>;
    /// Validates and stores them; later scans use them.
    fn save_pii_settings(&self, settings: PiiSettingsText) -> Result<(), AppError>;
}

/// AI providers and the 5-Whys triage. Sends go through the PII gate and
/// the audit log inside the implementation; replies stream in the
/// background and show up in [`TriageService::view`].
pub trait TriageService: Send + Sync {
    /// The issue's newest conversation (or what a new one would start with).
    fn view(&self, issue: IssueId) -> Result<TriageView, AppError>;
    /// Records the engineer's message (empty to open the conversation) and
    /// starts the reply in the background.
    fn send(
        &self,
        issue: IssueId,
        message: String,
        provider: Option<ProviderId>,
    ) -> Result<(), AppError>;
    /// Resolves when no reply is being generated for the issue (or after a
    /// while); the no-JavaScript form waits on it.
    fn wait_idle(&self, issue: IssueId) -> BoxFuture<'_, ()>;
    /// Stops the reply being generated, if any.
    fn cancel(&self, issue: IssueId) -> Result<(), AppError>;
    fn edit_step(
        &self,
        issue: IssueId,
        order: u8,
        question: String,
        answer: String,
    ) -> Result<(), AppError>;
    fn redo_from(&self, issue: IssueId, order: u8) -> Result<(), AppError>;
    fn conclude(&self, issue: IssueId, root_cause: String) -> Result<(), AppError>;
    /// Starts a fresh conversation (earlier ones stay stored).
    fn restart(&self, issue: IssueId, provider: Option<ProviderId>) -> Result<(), AppError>;

    fn providers(&self) -> Result<Vec<ProviderSettings>, AppError>;
    fn save_provider(
        &self,
        id: Option<ProviderId>,
        draft: ProviderDraft,
    ) -> Result<ProviderSettings, AppError>;
    fn delete_provider(&self, id: ProviderId) -> Result<(), AppError>;
    fn make_default(&self, id: ProviderId) -> Result<(), AppError>;
    /// Sends a tiny request (through the gate) and lists models.
    fn test_provider(&self, id: ProviderId) -> BoxFuture<'_, Result<ProviderTest, AppError>>;
}

/// The Ollama page: this machine's hardware, and the models of a local
/// Ollama server (`server` is a configured Ollama provider, or `None` for
/// the local default). Pulls run in the background; the page polls
/// [`OllamaService::pulls`].
pub trait OllamaService: Send + Sync {
    fn hardware(&self) -> BoxFuture<'_, Result<HardwareReport, AppError>>;
    fn servers(&self) -> Result<Vec<OllamaServer>, AppError>;
    fn models(&self, server: Option<ProviderId>)
    -> BoxFuture<'_, Result<Vec<ModelInfo>, AppError>>;
    /// Starts downloading `model`; an error if it can't start (bad name,
    /// server unknown). Download errors show in [`OllamaService::pulls`].
    fn pull(&self, server: Option<ProviderId>, model: String) -> Result<(), AppError>;
    fn pulls(&self, server: Option<ProviderId>) -> Result<Vec<PullState>, AppError>;
    fn cancel_pull(&self, server: Option<ProviderId>, model: String) -> Result<(), AppError>;
    fn delete(
        &self,
        server: Option<ProviderId>,
        model: String,
    ) -> BoxFuture<'_, Result<(), AppError>>;
}

/// RCA and post-mortem documents and action items.
pub trait DocumentService: Send + Sync {
    fn overview(&self, issue: IssueId) -> Result<DocumentsView, AppError>;
    /// `NotFound` until the document is drafted.
    fn document(&self, issue: IssueId, kind: DocumentKind) -> Result<DocumentView, AppError>;
    /// Drafts (or drafts again) from the issue's data; the old text stays
    /// in the history.
    fn generate(&self, issue: IssueId, kind: DocumentKind) -> Result<DocumentView, AppError>;
    /// Saves edited text; `Conflict` if the document moved past
    /// `base_version`.
    fn save(
        &self,
        issue: IssueId,
        kind: DocumentKind,
        content: String,
        base_version: i64,
    ) -> Result<SavedDocument, AppError>;
    fn redraft_section(
        &self,
        issue: IssueId,
        kind: DocumentKind,
        section: SectionKind,
        base_version: i64,
    ) -> Result<DocumentView, AppError>;
    /// Has the issue's AI provider draft one section (through the PII gate,
    /// audited as `ai_send`); the built-in analyst is refused.
    fn ai_redraft_section(
        &self,
        issue: IssueId,
        kind: DocumentKind,
        section: SectionKind,
        base_version: i64,
    ) -> BoxFuture<'_, Result<DocumentView, AppError>>;
    /// A history entry's title and content.
    fn version_content(
        &self,
        issue: IssueId,
        kind: DocumentKind,
        version_id: &str,
    ) -> Result<(String, String), AppError>;
    fn restore(
        &self,
        issue: IssueId,
        kind: DocumentKind,
        version_id: &str,
    ) -> Result<DocumentView, AppError>;
    /// The file for a browser download, recorded in the export history.
    fn export(
        &self,
        issue: IssueId,
        kind: DocumentKind,
        format: ExportFormat,
    ) -> Result<ExportedFile, AppError>;
    /// Adds (`id: None`) or edits an action item.
    fn save_action_item(
        &self,
        issue: IssueId,
        id: Option<String>,
        draft: ActionItemDraft,
    ) -> Result<ActionItem, AppError>;
    fn delete_action_item(&self, issue: IssueId, id: &str) -> Result<(), AppError>;
    fn open_action_items(&self, limit: u32) -> Result<Vec<OpenActionItem>, AppError>;
}

/// Everything a server function may use, provided as Leptos context by the
/// server binary.
#[derive(Clone)]
pub struct Services {
    pub tracker: IssueTracker,
    pub system: Arc<dyn SystemInfo>,
    pub logs: Arc<dyn LogService>,
    pub triage: Arc<dyn TriageService>,
    pub ollama: Arc<dyn OllamaService>,
    pub documents: Arc<dyn DocumentService>,
    pub mcp: Arc<dyn McpService>,
    pub integrations: Arc<dyn IntegrationService>,
    pub images: Arc<dyn ImageService>,
}

/// Images attached to issues. Their bytes move through plain routes
/// (`POST /api/issues/{id}/images`, `GET /api/images/{id}[/thumb]`); this
/// is the rest.
pub trait ImageService: Send + Sync {
    /// The issue's images, oldest first.
    fn list(
        &self,
        issue: IssueId,
    ) -> Result<Vec<tftsr_core::attachments::ImageAttachment>, AppError>;
    /// Records that the engineer checked the image and it may leave the
    /// machine (or withdraws that), audited.
    fn set_cleared(
        &self,
        issue: IssueId,
        id: tftsr_core::attachments::AttachmentId,
        cleared: bool,
    ) -> Result<tftsr_core::attachments::ImageAttachment, AppError>;
    fn delete(
        &self,
        issue: IssueId,
        id: tftsr_core::attachments::AttachmentId,
    ) -> Result<(), AppError>;
}

/// MCP servers (Settings → MCP servers) and what the engineer does with
/// them during a triage: run a tool by hand, read a resource, confirm a
/// call the assistant asked for, attach a result as evidence. The
/// assistant's own calls are made by the triage service.
pub trait McpService: Send + Sync {
    /// Every server with its status and counts; secrets only as hints.
    fn servers(&self) -> BoxFuture<'_, Result<Vec<McpServerSettings>, AppError>>;
    /// One server with the tools and resources of its last discovery.
    fn server(&self, id: McpServerId) -> BoxFuture<'_, Result<McpServerDetails, AppError>>;
    /// Adds (`id: None`) or edits a server; an enabled one is discovered
    /// in the background afterwards.
    fn save(
        &self,
        id: Option<McpServerId>,
        draft: McpServerDraft,
    ) -> BoxFuture<'_, Result<McpServerSettings, AppError>>;
    fn set_enabled(
        &self,
        id: McpServerId,
        enabled: bool,
    ) -> BoxFuture<'_, Result<McpServerSettings, AppError>>;
    fn delete(&self, id: McpServerId) -> BoxFuture<'_, Result<(), AppError>>;
    /// Connects and lists tools and resources now; the outcome (also a
    /// failure) is in the returned status.
    fn discover(&self, id: McpServerId) -> BoxFuture<'_, Result<McpServerSettings, AppError>>;
    /// The tools and resources a triage can use, by server.
    fn toolbox(&self) -> BoxFuture<'_, Result<Vec<McpServerDetails>, AppError>>;
    /// Runs a tool by hand for an issue with the values of the form built
    /// from its schema (`(property, text)`; invalid values are field
    /// errors), through the PII gate, audited, result redacted. A call that
    /// failed is a call with its error.
    fn run_tool(
        &self,
        issue: IssueId,
        tool_key: String,
        submitted: Vec<(String, String)>,
    ) -> BoxFuture<'_, Result<McpCall, AppError>>;
    fn read_resource(
        &self,
        issue: IssueId,
        server: McpServerId,
        uri: String,
    ) -> BoxFuture<'_, Result<McpCall, AppError>>;
    /// The engineer's yes or no to a call the assistant is waiting on.
    fn decide(&self, issue: IssueId, call: String, run: bool) -> Result<(), AppError>;
    /// The text a finished call of the issue adds to the conversation.
    fn evidence(&self, issue: IssueId, call: String) -> Result<String, AppError>;
}

/// The nonce of the current response's Content-Security-Policy, put in the
/// request's extensions by the security middleware.
#[derive(Clone, Debug)]
pub struct CspNonce(pub String);

/// The services, or an error (not a panic) if the server forgot them.
pub fn services() -> Result<Services, AppError> {
    use_context::<Services>().ok_or_else(|| {
        tracing::error!("services missing from context");
        AppError::Unavailable("The server is not configured correctly; see its log.".into())
    })
}

/// Runs blocking store work on Tokio's blocking pool.
pub async fn blocking<T, F>(f: F) -> Result<T, AppError>
where
    F: FnOnce(Services) -> Result<T, AppError> + Send + 'static,
    T: Send + 'static,
{
    let services = services()?;
    tokio::task::spawn_blocking(move || f(services))
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "blocking task failed");
            AppError::Unavailable("The server hit an internal error; see its log.".into())
        })?
}

/// Publishing to Confluence, ServiceNow and Azure DevOps. Every send
/// passes the PII gate and writes its audit entry inside the
/// implementation; tokens go in and never come out.
pub trait IntegrationService: Send + Sync {
    /// Every service, configured or not, in a fixed order.
    fn integrations(&self) -> Result<Vec<crate::wire::IntegrationView>, AppError>;
    fn save_integration(
        &self,
        service: tftsr_core::publish::Service,
        draft: tftsr_core::publish::IntegrationDraft,
    ) -> Result<crate::wire::IntegrationView, AppError>;
    /// A cheap authenticated request; failures are an outcome, not an error.
    fn test_connection(
        &self,
        service: tftsr_core::publish::Service,
    ) -> BoxFuture<'_, Result<crate::wire::ConnectionTest, AppError>>;
    /// The enabled services a document can go to, with what it has there.
    fn publish_targets(
        &self,
        issue: IssueId,
        kind: DocumentKind,
    ) -> Result<Vec<crate::wire::PublishTarget>, AppError>;
    /// Publishes the stored document (Confluence: creates or updates its
    /// page; ServiceNow / Azure DevOps: creates the issue's item once).
    fn publish(
        &self,
        issue: IssueId,
        kind: DocumentKind,
        service: tftsr_core::publish::Service,
    ) -> BoxFuture<'_, Result<crate::wire::PublicationView, AppError>>;
    /// The issue was resolved: creates its ServiceNow incident / Azure
    /// DevOps work item where "auto-create on resolve" is on. Best effort:
    /// failures go to the issue's timeline, never to the caller.
    fn issue_resolved(&self, issue: IssueId) -> BoxFuture<'_, ()>;
}
