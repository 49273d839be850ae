//! The triage service: conversations with a provider over the issue's
//! redacted logs, driven by core's 5-Whys state machine.
//!
//! A send goes: the engineer's message is checked (it may not carry
//! unreviewed PII to a remote provider) and stored; a background task
//! builds the prompt (domain prompt, state, log digest within the model's
//! context), runs every message through the egress gate, writes the
//! `ai_send` audit entry (provider, model, SHA-256 of the request, log files)
//! *before* anything leaves, streams the reply into memory (the page polls
//! it), then parses it, applies the state machine's effects and stores the
//! reply. The built-in analyst takes the same path without the network.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use serde_json::json;
use sha2::{Digest, Sha256};
use tftsr_app::AppError;
use tftsr_app::services::TriageService;
use tftsr_app::wire::{EvidenceFile, ProviderChoice, ProviderTest, TriageMessage, TriageView};
use tftsr_core::ai::{
    BoxFuture, ChatEvent, ChatMessage, ChatProvider, ChatRequest, ProviderDraft, ProviderError,
    ProviderErrorKind, ProviderId, ProviderKind, ProviderSettings, Role, key_hint,
    repair_tool_turns,
};
use tftsr_core::audit::{AuditAction, NewAuditEntry};
use tftsr_core::logs::{AcceptedValues, LogState, check_clean_to_send};
use tftsr_core::mcp::{McpCallOrigin, McpCallStatus, McpTool, failure_for_model};
use tftsr_core::triage::{
    AnalystInput, DigestBuilder, FileDigest, LogDigest, PromptInput, Triage, analyst_reply,
    build_prompt, parse_reply,
};
use tftsr_core::{Clock, IssueId, IssueStore};

use crate::credentials::Credentials;
use crate::logs::Logs;
use crate::mcp::{ToolCallRequest, ToolCalls};
use crate::secret::Secret;
use crate::store::Database;
use crate::store::ai::{ConversationRow, MessageRow, NewMessage, ProviderRow};

/// Longest message the engineer may send, in characters.
pub const MESSAGE_MAX: usize = 20_000;
/// Longest reply kept, in bytes; a provider that goes on is cut off here.
pub const REPLY_MAX: usize = 256 * 1024;
/// How long the no-JavaScript form waits for a reply.
const WAIT_IDLE_MAX: Duration = Duration::from_secs(300);
/// How many times one reply may go back to the model with tool results.
pub const MAX_TOOL_ROUNDS: usize = 6;
/// Tool calls of one model reply that are run; more are ignored.
const MAX_CALLS_PER_REPLY: usize = 8;
/// Tools offered to the model at most (providers limit the count, and
/// every tool costs context).
const MAX_TOOLS_OFFERED: usize = 64;
/// Added to the system prompt when tools are offered.
const TOOLS_NOTE: &str = "\n\nYou can call the tools offered to gather evidence (metrics, \
    tickets, runbooks, logs) before answering. Tool results are redacted: values such as \
    [IPV4_1] are placeholders, the same value always has the same placeholder, and tools \
    receive placeholders as you write them. Tools that may change something run only if the \
    engineer confirms. Call a tool only when its result would change your answer.";

/// Makes a provider for a configured row (with its decrypted key). The
/// server wires the HTTP providers in; tests may wire fakes.
pub type ProviderFactory =
    Arc<dyn Fn(&ProviderSettings, Option<Secret>) -> Arc<dyn ChatProvider> + Send + Sync>;

struct InFlight {
    text: Arc<Mutex<String>>,
    task: Option<tokio::task::AbortHandle>,
}

/// The service behind [`TriageService`].
pub struct TriageEngine {
    db: Arc<Database>,
    logs: Arc<Logs>,
    clock: Arc<dyn Clock>,
    credentials: Credentials,
    factory: ProviderFactory,
    runtime: tokio::runtime::Handle,
    inflight: Mutex<HashMap<IssueId, InFlight>>,
    /// Digests of redacted copies, by the copy's blob hash.
    digests: Mutex<HashMap<String, Arc<FileDigest>>>,
    /// MCP tool calls; `None` when the installation has no MCP manager.
    tools: Option<Arc<ToolCalls>>,
}

fn internal(e: impl std::fmt::Display) -> AppError {
    tracing::error!(error = %e, "triage failed");
    AppError::Unavailable("The triage hit an internal error; see the server log.".to_owned())
}

/// The reply with the structured block removed, for display.
pub fn display_text(raw: &str) -> String {
    let parsed = parse_reply(raw);
    if parsed.text.is_empty() {
        raw.trim().to_owned()
    } else {
        parsed.text
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl TriageEngine {
    pub fn new(
        db: Arc<Database>,
        logs: Arc<Logs>,
        clock: Arc<dyn Clock>,
        credentials: Credentials,
        factory: ProviderFactory,
        runtime: tokio::runtime::Handle,
    ) -> Result<Self, AppError> {
        db.ensure_builtin_provider(clock.now())?;
        Ok(Self {
            db,
            logs,
            clock,
            credentials,
            factory,
            runtime,
            inflight: Mutex::new(HashMap::new()),
            digests: Mutex::new(HashMap::new()),
            tools: None,
        })
    }

    /// Lets the assistant call the tools of the MCP servers.
    pub fn with_tools(mut self, tools: Arc<ToolCalls>) -> Self {
        self.tools = Some(tools);
        self
    }

    pub fn tools(&self) -> Option<&Arc<ToolCalls>> {
        self.tools.as_ref()
    }

    fn lock_inflight(&self) -> std::sync::MutexGuard<'_, HashMap<IssueId, InFlight>> {
        self.inflight.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn default_provider(&self) -> Result<ProviderRow, AppError> {
        let rows = self.db.providers()?;
        rows.iter()
            .find(|r| r.settings.is_default)
            .or_else(|| {
                rows.iter()
                    .find(|r| r.settings.kind == ProviderKind::Builtin)
            })
            .cloned()
            .ok_or_else(|| AppError::Unavailable("No AI provider is configured.".to_owned()))
    }

    fn provider_row(&self, id: Option<ProviderId>) -> Result<ProviderRow, AppError> {
        match id {
            Some(id) => Ok(self.db.provider(id)?),
            None => self.default_provider(),
        }
    }

    fn make_provider(&self, row: &ProviderRow) -> Result<Arc<dyn ChatProvider>, AppError> {
        let key = match &row.api_key_enc {
            Some(enc) => Some(
                self.credentials
                    .decrypt(enc)
                    .map_err(|e| AppError::Conflict(e.to_string()))?,
            ),
            None => None,
        };
        Ok((self.factory)(&row.settings, key))
    }

    fn conversation(
        &self,
        issue: IssueId,
        provider: Option<ProviderId>,
    ) -> Result<ConversationRow, AppError> {
        if let Some(row) = self.db.latest_conversation(issue)? {
            return Ok(row);
        }
        self.new_conversation(issue, provider)
    }

    fn new_conversation(
        &self,
        issue: IssueId,
        provider: Option<ProviderId>,
    ) -> Result<ConversationRow, AppError> {
        let found = self.db.get_issue(issue)?;
        let provider = self.provider_row(provider)?;
        let now = self.clock.now();
        let row = ConversationRow {
            id: uuid::Uuid::now_v7().to_string(),
            issue_id: issue,
            provider_id: Some(provider.settings.id),
            provider_label: provider.settings.name.clone(),
            model: provider.settings.model.clone(),
            question: Triage::new(&found.title).question().to_owned(),
            root_cause: None,
            created_at: now,
        };
        self.db.insert_conversation(&row)?;
        Ok(row)
    }

    fn triage_of(&self, row: &ConversationRow) -> Result<Triage, AppError> {
        let steps = self.db.why_steps(&row.id)?;
        Ok(Triage::restore(
            steps,
            row.question.clone(),
            row.root_cause.clone(),
        ))
    }

    /// The digest of the issue's redacted logs (cached per redacted copy),
    /// and the ids of the files used.
    fn digest(&self, issue: IssueId) -> Result<(LogDigest, Vec<String>), AppError> {
        let mut digest = LogDigest::default();
        let mut used = Vec::new();
        for file in self.logs.db().log_files(issue)? {
            if file.state != LogState::Redacted {
                continue;
            }
            let (summary, reader) = self.logs.redacted_reader(file.id)?;
            let key = format!(
                "{}:{}",
                summary.id,
                summary
                    .redacted_at
                    .map(|t| t.to_string())
                    .unwrap_or_default()
            );
            let cached = self
                .digests
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(&key)
                .cloned();
            let file_digest = match cached {
                Some(d) => d,
                None => {
                    let mut builder = DigestBuilder::new(summary.name.clone());
                    let mut lines = BufReader::with_capacity(256 * 1024, reader);
                    let mut buf = Vec::new();
                    loop {
                        buf.clear();
                        let n = lines.read_until(b'\n', &mut buf).map_err(internal)?;
                        if n == 0 {
                            break;
                        }
                        let line = String::from_utf8_lossy(&buf);
                        builder.push_line(line.trim_end_matches('\n'));
                    }
                    let d = Arc::new(builder.finish());
                    self.digests
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .insert(key, d.clone());
                    d
                }
            };
            used.push(summary.id.to_string());
            digest.files.push((*file_digest).clone());
        }
        Ok((digest, used))
    }

    fn accepted(&self, issue: IssueId) -> Result<AcceptedValues, AppError> {
        let mut accepted = AcceptedValues::new();
        for (kind, value) in self.logs.db().accepted_values(issue)? {
            accepted.insert(kind, value);
        }
        Ok(accepted)
    }

    /// Checks one outbound text; the error says where the finding is.
    fn gate(&self, text: &str, accepted: &AcceptedValues, what: &str) -> Result<(), AppError> {
        let scanner = self.logs.scanner();
        check_clean_to_send(text, &scanner, accepted).map_err(|not_clean| {
            let listed: Vec<String> = not_clean
                .findings
                .iter()
                .map(|(kind, n)| format!("{n} {kind}"))
                .collect();
            AppError::Conflict(format!(
                "Not sent: {what} contains personal data or secrets that were not reviewed ({}). \
                 Remove them, or redact the log on its review page, then send again.",
                listed.join(", ")
            ))
        })
    }

    fn store_reply(
        &self,
        conversation: &ConversationRow,
        content: &str,
        label: &str,
        usage: (u32, u32),
        error: Option<&str>,
    ) -> Result<(), AppError> {
        self.store_message(
            conversation,
            Role::Assistant,
            content,
            json!([]),
            label,
            usage,
            error,
        )
    }

    /// Stores one message; `tool_calls` is the assistant's calls, or for a
    /// tool message the call it answers (with the `mcp_call_id` of the
    /// recorded call).
    #[allow(clippy::too_many_arguments)]
    fn store_message(
        &self,
        conversation: &ConversationRow,
        role: Role,
        content: &str,
        tool_calls: serde_json::Value,
        label: &str,
        usage: (u32, u32),
        error: Option<&str>,
    ) -> Result<(), AppError> {
        self.db.insert_message(
            &conversation.id,
            &NewMessage {
                id: uuid::Uuid::now_v7().to_string(),
                role,
                content,
                tool_calls,
                provider_label: label,
                prompt_tokens: usage.0,
                completion_tokens: usage.1,
                error,
            },
            None,
            self.clock.now(),
        )?;
        Ok(())
    }

    /// Produces and records the reply to the conversation's newest message.
    async fn reply(
        self: Arc<Self>,
        issue: IssueId,
        conversation: ConversationRow,
        user_message: Option<String>,
        text: Arc<Mutex<String>>,
    ) -> Result<(), AppError> {
        let engine = self.clone();
        let conv = conversation.clone();
        let prepared = tokio::task::spawn_blocking(move || engine.prepare(issue, &conv))
            .await
            .map_err(internal)??;
        let Prepared {
            provider_row,
            triage,
            digest,
            files,
            issue: found,
            history,
        } = prepared;
        let label = provider_row.settings.name.clone();
        let (raw, usage, error) = if provider_row.settings.kind == ProviderKind::Builtin {
            let reply = analyst_reply(&AnalystInput {
                title: &found.title,
                digest: &digest,
                triage: &triage,
                user_message: user_message.as_deref(),
            });
            text.lock()
                .unwrap_or_else(|p| p.into_inner())
                .push_str(&reply);
            (reply, (0, 0), None)
        } else {
            let built = build_prompt(&PromptInput {
                domain: found.domain,
                severity: found.severity,
                title: &found.title,
                description: &found.description,
                digest: &digest,
                triage: &triage,
                history: &history,
                context_tokens: provider_row.settings.context_tokens,
            });
            let offered = self.offered_tools().await;
            let mut messages = built.messages;
            if !offered.is_empty()
                && let Some(system) = messages.first_mut()
            {
                system.content.push_str(TOOLS_NOTE);
            }
            let request = ChatRequest {
                model: provider_row.settings.model.clone(),
                messages,
                tools: offered.iter().map(McpTool::to_tool_spec).collect(),
                // The provider's default: reasoning models refuse any other.
                temperature: None,
                max_tokens: Some(built.reply_tokens),
            };
            let accepted = self.accepted(issue)?;
            let done = self
                .clone()
                .converse(Turn {
                    issue,
                    conversation: &conversation,
                    provider_row: &provider_row,
                    request,
                    offered: &offered,
                    accepted: &accepted,
                    files,
                    text: &text,
                })
                .await?;
            (done.text, done.usage, done.error)
        };
        let engine = self.clone();
        tokio::task::spawn_blocking(move || {
            engine.finish(&conversation, triage, &raw, &label, usage, error.as_deref())
        })
        .await
        .map_err(internal)?
    }

    /// The MCP tools to offer the model: those of enabled, connected
    /// servers. A failure to list them is logged and means no tools.
    async fn offered_tools(&self) -> Vec<McpTool> {
        let Some(tools) = &self.tools else {
            return Vec::new();
        };
        match tools.manager().callable_tools().await {
            Ok(list) => list.into_iter().take(MAX_TOOLS_OFFERED).collect(),
            Err(e) => {
                tracing::warn!(error = %e, "MCP tools could not be listed; none offered");
                Vec::new()
            }
        }
    }

    /// Sends the request and, while the model asks for tools, runs them and
    /// sends again with the results, at most [`MAX_TOOL_ROUNDS`] times
    /// (the last round offers no tools, so the model must answer). Every
    /// round passes the gate and writes its `ai_send` entry first. The
    /// assistant's messages that asked for tools and the tool results are
    /// stored as they happen; the final reply is returned for the caller
    /// to parse and store.
    async fn converse(self: Arc<Self>, turn: Turn<'_>) -> Result<Streamed, AppError> {
        let Turn {
            issue,
            conversation,
            provider_row,
            mut request,
            offered,
            accepted,
            files,
            text,
        } = turn;
        let label = provider_row.settings.name.clone();
        let mut usage = (0u32, 0u32);
        for round in 0..=MAX_TOOL_ROUNDS {
            if round == MAX_TOOL_ROUNDS {
                request.tools.clear();
            }
            // The gate: every byte of every message, as it will leave.
            for message in &request.messages {
                let what = match message.role {
                    Role::System => "the system prompt",
                    Role::User => "the issue, the evidence or your messages",
                    Role::Tool => "a tool result",
                    Role::Assistant => "an earlier reply",
                };
                // The arguments of the model's own tool calls go back to
                // the provider that wrote them; where they go to an MCP
                // server, `ToolCalls` gates them.
                if let Err(e) = self.gate(&message.content, accepted, what) {
                    self.store_reply(conversation, "", &label, usage, Some(&e.to_string()))?;
                    return Err(e);
                }
            }
            let payload = serde_json::to_vec(&request).map_err(internal)?;
            self.db.audit(
                &NewAuditEntry {
                    action: AuditAction::AiSend,
                    entity_type: "issue",
                    entity_id: issue.to_string(),
                    details: json!({
                        "provider": provider_row.settings.kind.as_str(),
                        "provider_id": provider_row.settings.id.to_string(),
                        "base_url": provider_row.settings.base_url,
                        "model": request.model,
                        "payload_sha256": sha256_hex(&payload),
                        "payload_bytes": payload.len(),
                        "log_files": files,
                        "conversation_id": conversation.id,
                        "tools_offered": request.tools.len(),
                        "round": round,
                    }),
                },
                self.clock.now(),
            )?;
            let provider = self.make_provider(provider_row)?;
            let mut done = stream_reply(provider.as_ref(), request.clone(), text).await;
            usage.0 = usage.0.saturating_add(done.usage.0);
            usage.1 = usage.1.saturating_add(done.usage.1);
            done.usage = usage;
            let Some(tools) = self.tools.clone() else {
                return Ok(done);
            };
            if done.error.is_some() || done.calls.is_empty() || request.tools.is_empty() {
                return Ok(done);
            }

            // The model asked for tools: keep what it said, run them, go on.
            let calls = std::mem::take(&mut done.calls);
            self.store_message(
                conversation,
                Role::Assistant,
                &done.text,
                serde_json::to_value(&calls).map_err(internal)?,
                &label,
                done.usage,
                None,
            )?;
            text.lock().unwrap_or_else(|p| p.into_inner()).clear();
            let mut asked = ChatMessage::assistant(done.text);
            asked.tool_calls = calls.clone();
            request.messages.push(asked);
            for call in calls {
                let (content, mcp_call_id) = self
                    .run_model_call(&tools, issue, conversation, offered, &call)
                    .await?;
                let mut answered = serde_json::to_value(&call).map_err(internal)?;
                if let (Some(id), Some(obj)) = (mcp_call_id, answered.as_object_mut()) {
                    obj.insert("mcp_call_id".to_owned(), json!(id));
                }
                self.store_message(
                    conversation,
                    Role::Tool,
                    &content,
                    json!([answered]),
                    "",
                    (0, 0),
                    None,
                )?;
                request
                    .messages
                    .push(ChatMessage::tool_result(&call, content));
            }
        }
        // The last round offers no tools, so the loop always returns.
        Err(internal("the tool loop ended without a reply"))
    }

    /// Runs one call the model asked for; returns what the model is told
    /// and the recorded call's id (none when there was nothing to call).
    async fn run_model_call(
        &self,
        tools: &ToolCalls,
        issue: IssueId,
        conversation: &ConversationRow,
        offered: &[McpTool],
        call: &tftsr_core::ai::ToolCall,
    ) -> Result<(String, Option<String>), AppError> {
        let Some(tool) = offered.iter().find(|t| t.key == call.name) else {
            return Ok((
                format!(
                    "There is no tool named {:?}; use only the tools offered.",
                    call.name
                ),
                None,
            ));
        };
        let arguments = match &call.arguments {
            serde_json::Value::Object(map) => map.clone(),
            serde_json::Value::Null => serde_json::Map::new(),
            _ => {
                return Ok((
                    "The arguments must be a JSON object; the tool was not called.".to_owned(),
                    None,
                ));
            }
        };
        let row = tools
            .run_tool(ToolCallRequest {
                issue,
                conversation_id: Some(conversation.id.clone()),
                provider_call_id: call.id.clone(),
                origin: McpCallOrigin::Model,
                tool: tool.clone(),
                arguments,
            })
            .await
            .map_err(|e| AppError::from(e.0))?;
        let content = match (&row.call.result, row.call.status) {
            (Some(result), McpCallStatus::Done) => result.clone(),
            (_, status) => failure_for_model(status, row.call.error.as_deref().unwrap_or("")),
        };
        Ok((content, Some(row.call.id)))
    }

    fn prepare(
        &self,
        issue: IssueId,
        conversation: &ConversationRow,
    ) -> Result<Prepared, AppError> {
        let found = self.db.get_issue(issue)?;
        let provider_row = match conversation.provider_id {
            Some(id) => self.db.provider(id).or_else(|_| self.default_provider())?,
            None => self.default_provider()?,
        };
        let triage = self.triage_of(conversation)?;
        let (digest, files) = self.digest(issue)?;
        let history = repair_tool_turns(
            self.db
                .messages(&conversation.id)?
                .into_iter()
                .filter(|m| m.error.is_none())
                .map(history_message)
                .filter(|m| {
                    !m.content.is_empty() || !m.tool_calls.is_empty() || m.role == Role::Tool
                })
                .collect(),
        );
        Ok(Prepared {
            provider_row,
            triage,
            digest,
            files,
            issue: found,
            history,
        })
    }

    fn finish(
        &self,
        conversation: &ConversationRow,
        mut triage: Triage,
        raw: &str,
        label: &str,
        usage: (u32, u32),
        error: Option<&str>,
    ) -> Result<(), AppError> {
        if error.is_none() {
            let effects = triage.apply_reply(&parse_reply(raw));
            self.db.apply_triage_effects(
                conversation,
                triage.question(),
                triage.root_cause(),
                &effects,
                self.clock.now(),
            )?;
        }
        self.store_reply(conversation, raw, label, usage, error)
    }
}

impl TriageEngine {
    /// One request outside any conversation (a document section, say) to
    /// the AI provider of the issue's newest conversation, else the default
    /// provider:
    /// every message through the gate, an `ai_send` audit entry carrying
    /// `purpose` before it leaves, and the whole reply returned with the
    /// provider's name. The built-in analyst writes no prose and is refused.
    pub async fn ask_once(
        self: Arc<Self>,
        issue: IssueId,
        system: String,
        user: String,
        purpose: serde_json::Value,
    ) -> Result<(String, String), AppError> {
        let engine = self.clone();
        let (row, accepted) = tokio::task::spawn_blocking(move || {
            let chosen = engine
                .db
                .latest_conversation(issue)?
                .and_then(|c| c.provider_id)
                .and_then(|id| engine.db.provider(id).ok())
                .filter(|row| row.settings.kind != ProviderKind::Builtin);
            let row = match chosen {
                Some(row) => row,
                None => engine.default_provider()?,
            };
            Ok::<_, AppError>((row, engine.accepted(issue)?))
        })
        .await
        .map_err(internal)??;
        if row.settings.kind == ProviderKind::Builtin {
            return Err(AppError::BadRequest(
                "The built-in analyst does not write prose: use “Redraft from data”, or choose \
                 an AI provider for this issue's triage or as the default in Settings → AI \
                 providers."
                    .to_owned(),
            ));
        }
        let request = ChatRequest {
            model: row.settings.model.clone(),
            messages: vec![
                ChatMessage::new(Role::System, system),
                ChatMessage::new(Role::User, user),
            ],
            tools: Vec::new(),
            temperature: None,
            max_tokens: Some(2_048),
        };
        self.gate(&request.messages[0].content, &accepted, "the instructions")?;
        self.gate(&request.messages[1].content, &accepted, "the document")?;
        let payload = serde_json::to_vec(&request).map_err(internal)?;
        let mut details = json!({
            "provider": row.settings.kind.as_str(),
            "provider_id": row.settings.id.to_string(),
            "base_url": row.settings.base_url,
            "model": request.model,
            "payload_sha256": sha256_hex(&payload),
            "payload_bytes": payload.len(),
            "log_files": [],
        });
        if let (Some(d), Some(p)) = (details.as_object_mut(), purpose.as_object()) {
            d.extend(p.clone());
        }
        self.db.audit(
            &NewAuditEntry {
                action: AuditAction::AiSend,
                entity_type: "issue",
                entity_id: issue.to_string(),
                details,
            },
            self.clock.now(),
        )?;
        let provider = self.make_provider(&row)?;
        let text = Mutex::new(String::new());
        let done = stream_reply(provider.as_ref(), request, &text).await;
        match done.error {
            Some(e) => Err(AppError::Unavailable(e)),
            None => Ok((done.text, row.settings.name)),
        }
    }
}

impl crate::documents::SectionDrafter for Triages {
    fn draft(
        &self,
        issue: IssueId,
        system: String,
        user: String,
        purpose: serde_json::Value,
    ) -> BoxFuture<'_, Result<(String, String), AppError>> {
        Box::pin(self.0.clone().ask_once(issue, system, user, purpose))
    }
}

struct Prepared {
    provider_row: ProviderRow,
    triage: Triage,
    digest: LogDigest,
    files: Vec<String>,
    issue: tftsr_core::Issue,
    history: Vec<ChatMessage>,
}

/// A stored message as the model sees it again: an assistant's tool calls,
/// and for a tool result the call it answers.
fn history_message(m: MessageRow) -> ChatMessage {
    let calls: Vec<tftsr_core::ai::ToolCall> =
        serde_json::from_value(m.tool_calls).unwrap_or_default();
    let mut message = ChatMessage::new(m.role, m.content);
    match m.role {
        Role::Assistant => message.tool_calls = calls,
        Role::Tool => {
            if let Some(call) = calls.first() {
                message.tool_call_id = Some(call.id.clone());
                message.tool_name = Some(call.name.clone());
            }
        }
        _ => {}
    }
    message
}

/// One call of [`TriageEngine::converse`].
struct Turn<'a> {
    issue: IssueId,
    conversation: &'a ConversationRow,
    provider_row: &'a ProviderRow,
    request: ChatRequest,
    offered: &'a [McpTool],
    accepted: &'a AcceptedValues,
    files: Vec<String>,
    text: &'a Mutex<String>,
}

/// A streamed reply: its text, token counts, the tools it asked for, and
/// why it failed (the partial text is kept).
struct Streamed {
    text: String,
    usage: (u32, u32),
    calls: Vec<tftsr_core::ai::ToolCall>,
    error: Option<String>,
}

/// Streams a provider's reply into `text`.
async fn stream_reply(
    provider: &dyn ChatProvider,
    request: ChatRequest,
    text: &Mutex<String>,
) -> Streamed {
    let mut out = Streamed {
        text: String::new(),
        usage: (0, 0),
        calls: Vec::new(),
        error: None,
    };
    let mut stream = match provider.chat(request).await {
        Ok(stream) => stream,
        Err(e) => {
            out.error = Some(describe(&e, provider));
            return out;
        }
    };
    while let Some(event) = stream.next().await {
        match event {
            Ok(ChatEvent::Text { delta }) => {
                let mut t = text.lock().unwrap_or_else(|p| p.into_inner());
                if t.len() + delta.len() > REPLY_MAX {
                    out.error = Some("The reply was too long and was cut off.".to_owned());
                    break;
                }
                t.push_str(&delta);
            }
            Ok(ChatEvent::Usage { usage: u }) => out.usage = (u.prompt_tokens, u.completion_tokens),
            Ok(ChatEvent::ToolCall { call }) => {
                if out.calls.len() < MAX_CALLS_PER_REPLY {
                    out.calls.push(call);
                }
            }
            Ok(ChatEvent::Done { .. }) => break,
            Err(e) => {
                out.error = Some(describe(&e, provider));
                break;
            }
        }
    }
    out.text = text.lock().unwrap_or_else(|p| p.into_inner()).clone();
    out
}

fn describe(e: &ProviderError, provider: &dyn ChatProvider) -> String {
    let hint = match e.kind {
        ProviderErrorKind::Auth => " Check the API key in Settings → AI providers.",
        ProviderErrorKind::UnknownModel => " Check the model name in Settings → AI providers.",
        ProviderErrorKind::Unreachable => " Is the server running and the base URL right?",
        ProviderErrorKind::RateLimited => " Wait a moment and send again.",
        ProviderErrorKind::ContextTooLong => {
            " Lower the provider's context size in settings, or start a new conversation."
        }
        _ => "",
    };
    format!("{} ({}){hint}", e.message, provider.label())
}

impl TriageEngine {
    /// The messages as the page shows them: tool results are not messages
    /// of their own but the recorded calls of the assistant message that
    /// asked for them.
    fn shown_messages(rows: Vec<MessageRow>) -> Vec<TriageMessage> {
        let mut out: Vec<TriageMessage> = Vec::with_capacity(rows.len());
        for row in rows {
            if row.role == Role::Tool {
                let id = row
                    .tool_calls
                    .get(0)
                    .and_then(|c| c.get("mcp_call_id"))
                    .and_then(|v| v.as_str())
                    .map(str::to_owned);
                if let (Some(id), Some(asked)) =
                    (id, out.iter_mut().rev().find(|m| m.role == Role::Assistant))
                {
                    asked.calls.push(id);
                }
                continue;
            }
            out.push(Self::to_message(row));
        }
        out
    }

    fn to_message(m: MessageRow) -> TriageMessage {
        TriageMessage {
            content: if m.role == Role::Assistant {
                display_text(&m.content)
            } else {
                m.content
            },
            id: m.id,
            role: m.role,
            provider_label: m.provider_label,
            error: m.error,
            prompt_tokens: m.prompt_tokens,
            completion_tokens: m.completion_tokens,
            created_at: m.created_at,
            calls: Vec::new(),
        }
    }

    /// Starts the reply task for `issue`.
    fn spawn_reply(
        self: &Arc<Self>,
        issue: IssueId,
        conversation: ConversationRow,
        message: Option<String>,
    ) -> Result<(), AppError> {
        let text = Arc::new(Mutex::new(String::new()));
        {
            let mut inflight = self.lock_inflight();
            if inflight.contains_key(&issue) {
                return Err(AppError::Conflict(
                    "A reply is still being written; wait for it or stop it.".to_owned(),
                ));
            }
            inflight.insert(
                issue,
                InFlight {
                    text: text.clone(),
                    task: None,
                },
            );
        }
        let engine = self.clone();
        let handle = self.runtime.spawn(async move {
            let outcome = engine
                .clone()
                .reply(issue, conversation, message, text)
                .await;
            if let Err(e) = outcome {
                tracing::info!(%issue, error = %e, "triage reply not completed");
            }
            engine.lock_inflight().remove(&issue);
        });
        if let Some(entry) = self.lock_inflight().get_mut(&issue) {
            entry.task = Some(handle.abort_handle());
        }
        Ok(())
    }
}

/// The service as the app sees it; wraps the engine in an `Arc` so reply
/// tasks can hold it.
#[derive(Clone)]
pub struct Triages(pub Arc<TriageEngine>);

impl TriageService for Triages {
    fn view(&self, issue: IssueId) -> Result<TriageView, AppError> {
        let engine = &self.0;
        let found = engine.db.get_issue(issue)?;
        let providers = engine.db.providers()?;
        let conversation = engine.db.latest_conversation(issue)?;
        let (messages, triage) = match &conversation {
            Some(row) => (
                TriageEngine::shown_messages(engine.db.messages(&row.id)?),
                engine.triage_of(row)?,
            ),
            None => (Vec::new(), Triage::new(&found.title)),
        };
        let calls = engine
            .db
            .mcp_calls(issue)?
            .into_iter()
            .map(|r| r.call)
            .collect();
        let default = providers.iter().find(|p| p.settings.is_default);
        let (provider_id, provider_label) = match &conversation {
            Some(row) => (
                row.provider_id.map(|p| p.to_string()),
                row.provider_label.clone(),
            ),
            None => (
                default.map(|p| p.settings.id.to_string()),
                default.map(|p| p.settings.name.clone()).unwrap_or_default(),
            ),
        };
        let pending = engine
            .lock_inflight()
            .get(&issue)
            .map(|f| display_text(&f.text.lock().unwrap_or_else(|p| p.into_inner())));
        let evidence = engine
            .logs
            .db()
            .log_files(issue)?
            .into_iter()
            .map(|f| EvidenceFile {
                id: f.id.to_string(),
                name: f.name,
                redacted: f.state == LogState::Redacted,
                lines: f.line_count,
            })
            .collect();
        Ok(TriageView {
            conversation_id: conversation.as_ref().map(|c| c.id.clone()),
            provider_id,
            provider_label,
            messages,
            steps: triage.steps().to_vec(),
            question: triage.question().to_owned(),
            root_cause: triage.root_cause().map(str::to_owned),
            level: triage.level(),
            pending,
            evidence,
            calls,
            providers: providers
                .into_iter()
                .map(|p| ProviderChoice {
                    id: p.settings.id.to_string(),
                    label: if p.settings.model.is_empty() {
                        p.settings.name
                    } else {
                        format!("{} · {}", p.settings.name, p.settings.model)
                    },
                    is_default: p.settings.is_default,
                })
                .collect(),
        })
    }

    fn send(
        &self,
        issue: IssueId,
        message: String,
        provider: Option<ProviderId>,
    ) -> Result<(), AppError> {
        let engine = &self.0;
        let message = message.trim().to_owned();
        if message.chars().count() > MESSAGE_MAX {
            return Err(AppError::BadRequest(format!(
                "A message may have at most {MESSAGE_MAX} characters."
            )));
        }
        let mut conversation = engine.conversation(issue, provider)?;
        if provider.is_some() && provider != conversation.provider_id {
            // Another provider picked: a new conversation with it.
            conversation = engine.new_conversation(issue, provider)?;
        }
        if engine.lock_inflight().contains_key(&issue) {
            return Err(AppError::Conflict(
                "A reply is still being written; wait for it or stop it.".to_owned(),
            ));
        }
        let row = match conversation.provider_id {
            Some(id) => engine
                .db
                .provider(id)
                .or_else(|_| engine.default_provider())?,
            None => engine.default_provider()?,
        };
        if !message.is_empty() {
            if row.settings.kind.is_remote() {
                engine.gate(&message, &engine.accepted(issue)?, "your message")?;
            }
            engine.db.insert_message(
                &conversation.id,
                &NewMessage {
                    id: uuid::Uuid::now_v7().to_string(),
                    role: Role::User,
                    content: &message,
                    tool_calls: json!([]),
                    provider_label: "",
                    prompt_tokens: 0,
                    completion_tokens: 0,
                    error: None,
                },
                None,
                engine.clock.now(),
            )?;
        }
        let message = (!message.is_empty()).then_some(message);
        engine.spawn_reply(issue, conversation, message)
    }

    fn wait_idle(&self, issue: IssueId) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let started = std::time::Instant::now();
            // A call waiting for confirmation ends the wait too: the page
            // must come back to ask for it.
            let waiting = || self.0.tools.as_ref().is_some_and(|t| t.is_waiting(issue));
            while self.0.lock_inflight().contains_key(&issue)
                && !waiting()
                && started.elapsed() < WAIT_IDLE_MAX
            {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    }

    fn cancel(&self, issue: IssueId) -> Result<(), AppError> {
        let engine = &self.0;
        let Some(flight) = engine.lock_inflight().remove(&issue) else {
            return Ok(());
        };
        if let Some(task) = flight.task {
            task.abort();
        }
        engine.db.fail_open_mcp_calls(
            Some(issue),
            "Stopped with the reply.",
            engine.clock.now(),
        )?;
        let partial = flight
            .text
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if let Some(conversation) = engine.db.latest_conversation(issue)? {
            engine.store_reply(
                &conversation,
                &partial,
                &conversation.provider_label,
                (0, 0),
                Some("Stopped before the reply was complete."),
            )?;
        }
        Ok(())
    }

    fn edit_step(
        &self,
        issue: IssueId,
        order: u8,
        question: String,
        answer: String,
    ) -> Result<(), AppError> {
        self.change(issue, |t| t.edit_step(order, &question, &answer))
    }

    fn redo_from(&self, issue: IssueId, order: u8) -> Result<(), AppError> {
        self.change(issue, |t| t.redo_from(order))
    }

    fn conclude(&self, issue: IssueId, root_cause: String) -> Result<(), AppError> {
        self.change(issue, |t| t.conclude(&root_cause))
    }

    fn restart(&self, issue: IssueId, provider: Option<ProviderId>) -> Result<(), AppError> {
        if self.0.lock_inflight().contains_key(&issue) {
            return Err(AppError::Conflict(
                "A reply is still being written; stop it first.".to_owned(),
            ));
        }
        self.0.new_conversation(issue, provider).map(drop)
    }

    fn providers(&self) -> Result<Vec<ProviderSettings>, AppError> {
        Ok(self
            .0
            .db
            .providers()?
            .into_iter()
            .map(|r| r.settings)
            .collect())
    }

    fn save_provider(
        &self,
        id: Option<ProviderId>,
        draft: ProviderDraft,
    ) -> Result<ProviderSettings, AppError> {
        let engine = &self.0;
        let existing = id.map(|id| engine.db.provider(id)).transpose()?;
        let has_key = existing.as_ref().is_some_and(|r| r.api_key_enc.is_some());
        let valid = draft.validate(has_key).map_err(|errors| {
            AppError::Invalid(
                errors
                    .into_iter()
                    .map(|(field, message)| tftsr_app::error::FieldError {
                        field: field.to_owned(),
                        message,
                    })
                    .collect(),
            )
        })?;
        if existing.as_ref().is_some_and(|r| {
            (r.settings.kind == ProviderKind::Builtin) != (valid.kind == ProviderKind::Builtin)
        }) {
            return Err(AppError::BadRequest(
                "The built-in analyst cannot be turned into another kind of provider.".to_owned(),
            ));
        }
        let now = engine.clock.now();
        let settings = ProviderSettings {
            id: id.unwrap_or_else(|| ProviderId::new_at(now)),
            name: valid.name,
            kind: valid.kind,
            base_url: valid.base_url,
            model: valid.model,
            key_hint: None,
            context_tokens: valid.context_tokens,
            is_default: existing.as_ref().is_some_and(|r| r.settings.is_default),
            updated_at: now,
        };
        let key = valid.api_key.as_deref().map(|key| {
            (!key.is_empty()).then(|| {
                (
                    engine.credentials.encrypt(key),
                    key_hint(key).unwrap_or_default(),
                )
            })
        });
        engine.db.save_provider(&settings, key, now)?;
        Ok(engine.db.provider(settings.id)?.settings)
    }

    fn delete_provider(&self, id: ProviderId) -> Result<(), AppError> {
        Ok(self.0.db.delete_provider(id, self.0.clock.now())?)
    }

    fn make_default(&self, id: ProviderId) -> Result<(), AppError> {
        Ok(self.0.db.make_default_provider(id)?)
    }

    fn test_provider(&self, id: ProviderId) -> BoxFuture<'_, Result<ProviderTest, AppError>> {
        Box::pin(async move {
            let engine = self.0.clone();
            let row = tokio::task::spawn_blocking(move || engine.db.provider(id))
                .await
                .map_err(internal)??;
            let started = std::time::Instant::now();
            let provider = self.0.make_provider(&row)?;
            let elapsed =
                |s: std::time::Instant| u64::try_from(s.elapsed().as_millis()).unwrap_or(u64::MAX);
            if row.settings.kind == ProviderKind::Builtin {
                return Ok(ProviderTest {
                    ok: true,
                    message: "The built-in analyst works offline; nothing to connect to."
                        .to_owned(),
                    models: Vec::new(),
                    elapsed_ms: elapsed(started),
                });
            }
            let models = provider.list_models().await;
            // A fixed, PII-free prompt; it is audited like any send.
            let request = ChatRequest {
                model: row.settings.model.clone(),
                messages: vec![ChatMessage::user("Reply with the single word: ok")],
                tools: Vec::new(),
                temperature: None,
                max_tokens: Some(8),
            };
            let payload = serde_json::to_vec(&request).map_err(internal)?;
            let db = self.0.db.clone();
            let now = self.0.clock.now();
            let entry = NewAuditEntry {
                action: AuditAction::AiSend,
                entity_type: "ai_provider",
                entity_id: row.settings.id.to_string(),
                details: json!({
                    "provider": row.settings.kind.as_str(),
                    "base_url": row.settings.base_url,
                    "model": row.settings.model,
                    "payload_sha256": sha256_hex(&payload),
                    "payload_bytes": payload.len(),
                    "log_files": [],
                    "purpose": "connection test",
                }),
            };
            tokio::task::spawn_blocking(move || db.audit(&entry, now))
                .await
                .map_err(internal)??;
            let text = Mutex::new(String::new());
            let error = stream_reply(provider.as_ref(), request, &text).await.error;
            let model_names: Vec<String> = match &models {
                Ok(list) => list.iter().map(|m| m.name.clone()).collect(),
                Err(_) => Vec::new(),
            };
            Ok(match error {
                None => ProviderTest {
                    ok: true,
                    message: format!("Connected: {} answered.", row.settings.model),
                    models: model_names,
                    elapsed_ms: elapsed(started),
                },
                Some(message) => ProviderTest {
                    ok: false,
                    message,
                    models: model_names,
                    elapsed_ms: elapsed(started),
                },
            })
        })
    }
}

impl Triages {
    /// Applies an engineer's change through the state machine.
    fn change(
        &self,
        issue: IssueId,
        f: impl FnOnce(
            &mut Triage,
        )
            -> Result<Vec<tftsr_core::triage::Effect>, tftsr_core::triage::TriageError>,
    ) -> Result<(), AppError> {
        let engine = &self.0;
        if engine.lock_inflight().contains_key(&issue) {
            return Err(AppError::Conflict(
                "A reply is still being written; wait for it or stop it.".to_owned(),
            ));
        }
        let conversation = engine
            .db
            .latest_conversation(issue)?
            .ok_or_else(|| AppError::NotFound("This issue has no triage yet.".to_owned()))?;
        let mut triage = engine.triage_of(&conversation)?;
        let effects = f(&mut triage).map_err(|e| AppError::BadRequest(e.to_string()))?;
        engine.db.apply_triage_effects(
            &conversation,
            triage.question(),
            triage.root_cause(),
            &effects,
            engine.clock.now(),
        )?;
        Ok(())
    }
}

/// The provider object of the built-in analyst. The engine answers for it
/// directly (no request is built), so `chat` is never reached in practice;
/// it reports itself as local for the settings page's test.
pub struct BuiltinProvider;

impl ChatProvider for BuiltinProvider {
    fn label(&self) -> &str {
        tftsr_core::triage::ANALYST_NAME
    }

    fn chat(
        &self,
        _request: ChatRequest,
    ) -> BoxFuture<'_, Result<tftsr_core::ai::ChatStream, ProviderError>> {
        Box::pin(async {
            Err(ProviderError::new(
                ProviderErrorKind::BadRequest,
                "The built-in analyst answers inside the triage engine.",
            ))
        })
    }

    fn list_models(&self) -> BoxFuture<'_, Result<Vec<tftsr_core::ai::ModelInfo>, ProviderError>> {
        Box::pin(async { Ok(Vec::new()) })
    }
}

/// A provider that cannot be built (say, a stored base URL the client
/// refuses); every call reports why.
struct Unusable(ProviderError);

impl ChatProvider for Unusable {
    fn label(&self) -> &str {
        "Unusable provider"
    }

    fn chat(
        &self,
        _request: ChatRequest,
    ) -> BoxFuture<'_, Result<tftsr_core::ai::ChatStream, ProviderError>> {
        let e = self.0.clone();
        Box::pin(async move { Err(e) })
    }

    fn list_models(&self) -> BoxFuture<'_, Result<Vec<tftsr_core::ai::ModelInfo>, ProviderError>> {
        let e = self.0.clone();
        Box::pin(async move { Err(e) })
    }
}

/// The provider factory: the built-in analyst, and each remote kind over
/// one shared hardened HTTP client.
pub fn http_factory(client: crate::providers::HttpClient) -> ProviderFactory {
    Arc::new(move |settings: &ProviderSettings, key: Option<Secret>| {
        if settings.kind == ProviderKind::Builtin {
            return Arc::new(BuiltinProvider) as Arc<dyn ChatProvider>;
        }
        let model = (!settings.model.is_empty()).then(|| settings.model.clone());
        match crate::providers::HttpProvider::with_client(
            client.clone(),
            settings.kind,
            &settings.base_url,
            model,
            key,
        ) {
            Ok(p) => Arc::new(p) as Arc<dyn ChatProvider>,
            Err(e) => Arc::new(Unusable(e)) as Arc<dyn ChatProvider>,
        }
    })
}
