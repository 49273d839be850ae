//! Calls to MCP servers on behalf of an issue, with the safety rules around
//! them, in one place for the assistant's calls and the engineer's:
//!
//! 1. the arguments, exactly as they will be sent, pass the PII gate (a
//!    call carrying unreviewed personal data is refused, not sent);
//! 2. a tool not annotated read-only waits for the engineer's yes (calls by
//!    the model only: running a tool by hand is itself the yes);
//! 3. the call is recorded `running` together with its audit entry (server,
//!    tool, SHA-256 of the arguments) before anything is sent;
//! 4. the result — and any error text, which also comes from outside — is
//!    scanned and redacted with the issue's pseudonyms before it is stored,
//!    shown, or given to the model;
//! 5. the outcome and a timeline event are recorded after.
//!
//! Every failure (a dead server, a timeout, a tool error, a refusal) ends as
//! a recorded call with a plain message; nothing here hangs: confirmation
//! waits are bounded, and calls have the manager's timeouts.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Map, Value, json};
use tftsr_core::audit::{AuditAction, NewAuditEntry};
use tftsr_core::logs::{AcceptedValues, check_clean_to_send, redact_unreviewed};
use tftsr_core::mcp::{
    McpCallKind, McpCallOrigin, McpCallStatus, McpServerId, McpTool, truncate_result,
};
use tftsr_core::{Clock, IssueId, StoreError};
use tokio::sync::oneshot;

use super::{ContentPart, McpError, McpErrorKind, McpManager, arguments_sha256};
use crate::logs::Logs;
use crate::store::Database;
use crate::store::mcp_calls::{McpCallOutcome, McpCallRow, NewMcpCall};

/// How long a call waits for the engineer's confirmation before it is
/// declined on their behalf.
pub const CONFIRM_TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// A call about to be made.
#[derive(Clone, Debug)]
pub struct ToolCallRequest {
    pub issue: IssueId,
    pub conversation_id: Option<String>,
    /// The provider's id for the call ("" for calls by hand).
    pub provider_call_id: String,
    pub origin: McpCallOrigin,
    pub tool: McpTool,
    pub arguments: Map<String, Value>,
}

/// Why a call could not even be recorded (the store failed).
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct CallStoreError(#[from] pub StoreError);

/// The calls of every issue, and the confirmations they wait for.
pub struct ToolCalls {
    manager: Arc<McpManager>,
    db: Arc<Database>,
    logs: Arc<Logs>,
    clock: Arc<dyn Clock>,
    confirm_timeout: Duration,
    waiting: Mutex<HashMap<String, (IssueId, oneshot::Sender<bool>)>>,
}

impl std::fmt::Debug for ToolCalls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ToolCalls").finish_non_exhaustive()
    }
}

/// Removes a waiter when the waiting call ends, however it ends.
struct Waiter<'a> {
    calls: &'a ToolCalls,
    id: String,
}

impl Drop for Waiter<'_> {
    fn drop(&mut self) {
        self.calls.lock_waiting().remove(&self.id);
    }
}

impl ToolCalls {
    /// Also ends the calls a previous run left open (the process that was
    /// waiting on them is gone).
    pub fn new(
        manager: Arc<McpManager>,
        db: Arc<Database>,
        logs: Arc<Logs>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, StoreError> {
        let stale = db.fail_open_mcp_calls(
            None,
            "TFTSR stopped before this call finished.",
            clock.now(),
        )?;
        if stale > 0 {
            tracing::info!(calls = stale, "ended MCP calls left open by the last run");
        }
        Ok(Self {
            manager,
            db,
            logs,
            clock,
            confirm_timeout: CONFIRM_TIMEOUT,
            waiting: Mutex::new(HashMap::new()),
        })
    }

    /// How long a call waits for confirmation (tests shorten it).
    pub fn with_confirm_timeout(mut self, timeout: Duration) -> Self {
        self.confirm_timeout = timeout;
        self
    }

    pub fn manager(&self) -> &Arc<McpManager> {
        &self.manager
    }

    pub fn db(&self) -> &Database {
        &self.db
    }

    /// Whether a call of `issue` is waiting for the engineer's answer.
    pub fn is_waiting(&self, issue: IssueId) -> bool {
        self.lock_waiting().values().any(|(i, _)| *i == issue)
    }

    fn lock_waiting(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<String, (IssueId, oneshot::Sender<bool>)>> {
        self.waiting.lock().unwrap_or_else(|p| p.into_inner())
    }

    async fn store<T, F>(&self, f: F) -> Result<T, CallStoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Database, &Logs) -> Result<T, StoreError> + Send + 'static,
    {
        let db = Arc::clone(&self.db);
        let logs = Arc::clone(&self.logs);
        tokio::task::spawn_blocking(move || f(&db, &logs))
            .await
            .map_err(|_| {
                StoreError::new(tftsr_core::StoreErrorKind::Other, "A database task failed.")
            })?
            .map_err(CallStoreError)
    }

    fn accepted(db: &Database, issue: IssueId) -> Result<AcceptedValues, StoreError> {
        let mut accepted = AcceptedValues::new();
        for (kind, value) in db.accepted_values(issue)? {
            accepted.insert(kind, value);
        }
        Ok(accepted)
    }

    /// Redacts text that came from a server, with the issue's pseudonyms
    /// (new ones are saved), and cuts it to the result limit.
    async fn redact(&self, issue: IssueId, text: String) -> Result<(String, u32), CallStoreError> {
        let now = self.clock.now();
        self.store(move |db, logs| {
            let scanner = logs.scanner();
            let accepted = Self::accepted(db, issue)?;
            let mut map = db.pseudonyms(issue)?;
            let before = map.len();
            let (clean, n) = redact_unreviewed(&text, &scanner, &accepted, &mut map);
            if map.len() != before {
                db.save_pseudonyms(issue, &map, now)?;
            }
            Ok((
                truncate_result(&clean),
                u32::try_from(n).unwrap_or(u32::MAX),
            ))
        })
        .await
    }

    /// The gate on the arguments as they will be sent: `Err` says what
    /// blocks them, by type and count only.
    async fn gate(&self, issue: IssueId, text: String) -> Result<Option<String>, CallStoreError> {
        self.store(move |db, logs| {
            let scanner = logs.scanner();
            let accepted = Self::accepted(db, issue)?;
            Ok(check_clean_to_send(&text, &scanner, &accepted)
                .err()
                .map(|not_clean| {
                    let listed: Vec<String> = not_clean
                        .findings
                        .iter()
                        .map(|(kind, n)| format!("{n} {kind}"))
                        .collect();
                    format!(
                        "Not sent: the arguments contain personal data or secrets that were not \
                         reviewed ({}).",
                        listed.join(", ")
                    )
                }))
        })
        .await
    }

    async fn finish(
        &self,
        id: String,
        outcome: McpCallOutcome,
    ) -> Result<McpCallRow, CallStoreError> {
        let now = self.clock.now();
        self.store(move |db, _| db.finish_mcp_call(&id, &outcome, now))
            .await
    }

    /// Runs a tool call through every rule above and returns the call as
    /// recorded. Only a store failure is an error; a refused, declined or
    /// failed call is a recorded call with its reason.
    pub async fn run_tool(&self, request: ToolCallRequest) -> Result<McpCallRow, CallStoreError> {
        let ToolCallRequest {
            issue,
            conversation_id,
            provider_call_id,
            origin,
            tool,
            arguments,
        } = request;
        let pretty = serde_json::to_string_pretty(&Value::Object(arguments.clone()))
            .unwrap_or_else(|_| "{}".to_owned());
        let sha = arguments_sha256(&arguments);
        let server_name = self
            .manager
            .server(tool.server_id)
            .await
            .map(|s| s.name)
            .unwrap_or_else(|_| "(removed server)".to_owned());
        let record = NewMcpCall {
            issue,
            conversation_id,
            provider_call_id,
            kind: McpCallKind::Tool,
            origin,
            server_id: tool.server_id,
            server_name: server_name.clone(),
            target: tool.name.clone(),
            tool_key: tool.key.clone(),
            arguments: pretty.clone(),
            arguments_sha256: sha.clone(),
        };
        let audit = NewAuditEntry {
            action: AuditAction::McpToolCalled,
            entity_type: "mcp_server",
            entity_id: tool.server_id.to_string(),
            details: json!({
                "server": server_name,
                "tool": tool.name,
                "tool_key": tool.key,
                "arguments_sha256": sha,
                "issue_id": issue.to_string(),
                "origin": origin.as_str(),
            }),
        };

        // 1. The gate, on the exact bytes `call_tool` will serialise.
        let wire = serde_json::to_string(&arguments).unwrap_or_default();
        if let Some(blocked) = self.gate(issue, wire).await? {
            // Not sent, and not kept as typed either: the record holds the
            // arguments redacted, so no unreviewed value is stored.
            let (redacted, _) = self.redact(issue, record.arguments.clone()).await?;
            let record = NewMcpCall {
                arguments: redacted,
                ..record
            };
            let now = self.clock.now();
            let id = self
                .store(move |db, _| db.insert_mcp_call(&record, None, now))
                .await?;
            return self
                .finish(
                    id,
                    McpCallOutcome {
                        status: McpCallStatus::Failed,
                        result: None,
                        redacted: 0,
                        error: Some(blocked),
                    },
                )
                .await;
        }

        // 2. Confirmation, for the model's calls to tools that may change
        //    something.
        let id = if origin == McpCallOrigin::Model && tool.needs_confirmation() {
            let now = self.clock.now();
            let id = self
                .store(move |db, _| db.insert_mcp_call(&record, None, now))
                .await?;
            let (tx, rx) = oneshot::channel();
            self.lock_waiting().insert(id.clone(), (issue, tx));
            let _waiter = Waiter {
                calls: self,
                id: id.clone(),
            };
            let answer = tokio::time::timeout(self.confirm_timeout, rx).await;
            let declined = match answer {
                Ok(Ok(true)) => None,
                Ok(Ok(false)) => Some("You chose not to run it.".to_owned()),
                Ok(Err(_)) => Some("The reply that asked for it was stopped.".to_owned()),
                Err(_) => Some(format!(
                    "Nobody confirmed it within {} minutes.",
                    self.confirm_timeout.as_secs() / 60
                )),
            };
            if let Some(reason) = declined {
                return self
                    .finish(
                        id,
                        McpCallOutcome {
                            status: McpCallStatus::Declined,
                            result: None,
                            redacted: 0,
                            error: Some(reason),
                        },
                    )
                    .await;
            }
            // 3. Running, audited, in one transaction.
            let now = self.clock.now();
            let started = id.clone();
            let started = self
                .store(move |db, _| db.start_confirmed_mcp_call(&started, &audit, now))
                .await;
            if let Err(e) = started {
                // Stopped between the yes and now: leave it as recorded.
                tracing::info!(error = %e, "confirmed MCP call no longer open");
                return self.store(move |db, _| db.mcp_call(&id)).await;
            }
            id
        } else {
            let now = self.clock.now();
            self.store(move |db, _| db.insert_mcp_call(&record, Some(&audit), now))
                .await?
        };

        // 4. The call; results and errors redacted before anyone sees them.
        let outcome = match self.manager.call_tool(&tool, arguments).await {
            Ok(output) => {
                let (text, redacted) = self
                    .redact(
                        issue,
                        render_parts(&output.content, output.structured.as_ref()),
                    )
                    .await?;
                McpCallOutcome {
                    status: McpCallStatus::Done,
                    result: Some(text),
                    redacted,
                    error: None,
                }
            }
            Err(e) => self.failure(issue, &e).await?,
        };
        // 5. The outcome and the timeline event.
        self.finish(id, outcome).await
    }

    async fn failure(
        &self,
        issue: IssueId,
        e: &McpError,
    ) -> Result<McpCallOutcome, CallStoreError> {
        let (message, redacted) = self.redact(issue, e.message().to_owned()).await?;
        Ok(McpCallOutcome {
            status: if e.kind() == McpErrorKind::ToolError {
                McpCallStatus::ToolError
            } else {
                McpCallStatus::Failed
            },
            result: None,
            redacted,
            error: Some(message),
        })
    }

    /// Reads a resource for an issue (by hand): audited before, redacted
    /// after, recorded like a call.
    pub async fn read_resource(
        &self,
        issue: IssueId,
        server: McpServerId,
        uri: String,
    ) -> Result<McpCallRow, CallStoreError> {
        let server_name = self
            .manager
            .server(server)
            .await
            .map(|s| s.name)
            .unwrap_or_else(|_| "(removed server)".to_owned());
        let record = NewMcpCall {
            issue,
            conversation_id: None,
            provider_call_id: String::new(),
            kind: McpCallKind::Resource,
            origin: McpCallOrigin::User,
            server_id: server,
            server_name: server_name.clone(),
            target: uri.clone(),
            tool_key: String::new(),
            arguments: "{}".to_owned(),
            arguments_sha256: String::new(),
        };
        let audit = NewAuditEntry {
            action: AuditAction::McpResourceRead,
            entity_type: "mcp_server",
            entity_id: server.to_string(),
            details: json!({
                "server": server_name,
                "uri": uri,
                "issue_id": issue.to_string(),
            }),
        };
        let now = self.clock.now();
        let id = self
            .store(move |db, _| db.insert_mcp_call(&record, Some(&audit), now))
            .await?;
        let outcome = match self.manager.read_resource(server, &uri).await {
            Ok(parts) => {
                let (text, redacted) = self.redact(issue, render_parts(&parts, None)).await?;
                McpCallOutcome {
                    status: McpCallStatus::Done,
                    result: Some(text),
                    redacted,
                    error: None,
                }
            }
            Err(e) => self.failure(issue, &e).await?,
        };
        self.finish(id, outcome).await
    }

    /// The engineer's answer to a call waiting for confirmation. A call of
    /// another issue, or one nobody waits for any more (the reply was
    /// stopped, TFTSR restarted), is a conflict and is closed.
    pub fn decide(&self, issue: IssueId, call: &str, run: bool) -> Result<(), DecideError> {
        let row = self.db.mcp_call(call)?;
        if row.issue != issue {
            return Err(DecideError::NotFound);
        }
        if row.call.status != McpCallStatus::AwaitingConfirmation {
            return Err(DecideError::NotWaiting);
        }
        let waiter = self.lock_waiting().remove(call);
        match waiter.map(|(_, tx)| tx.send(run)) {
            Some(Ok(())) => Ok(()),
            _ => {
                self.db.finish_mcp_call(
                    call,
                    &McpCallOutcome {
                        status: McpCallStatus::Declined,
                        result: None,
                        redacted: 0,
                        error: Some("The reply that asked for it had ended.".to_owned()),
                    },
                    self.clock.now(),
                )?;
                Err(DecideError::NotWaiting)
            }
        }
    }
}

/// Why a confirmation could not be given.
#[derive(Debug, thiserror::Error)]
pub enum DecideError {
    #[error("That call is not part of this issue.")]
    NotFound,
    #[error("That call is no longer waiting for confirmation.")]
    NotWaiting,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A result as text for people and models: text blocks as they are,
/// binary blocks as a note (they are never sent on), anything else as
/// JSON; the structured result when there is no text.
pub fn render_parts(parts: &[ContentPart], structured: Option<&Value>) -> String {
    let mut out: Vec<String> = Vec::new();
    for part in parts {
        match part {
            ContentPart::Text(t) => out.push(t.clone()),
            ContentPart::Binary {
                mime_type,
                bytes_base64,
            } => out.push(format!(
                "[{mime_type} content of {} bytes, not shown]",
                bytes_base64 / 4 * 3
            )),
            ContentPart::Other(v) => out.push(v.to_string()),
        }
    }
    let has_text = parts.iter().any(|p| matches!(p, ContentPart::Text(_)));
    if !has_text && let Some(s) = structured {
        out.push(serde_json::to_string_pretty(s).unwrap_or_default());
    }
    out.join("\n")
}
