//! Calls to MCP servers made for an issue (see `migrations/0006_mcp_calls.sql`).
//!
//! The order of writes is the audit promise: a call's audit entry is written
//! in the same transaction that marks it `running`, before anything is sent;
//! its timeline event in the one that records the outcome, after.

use rusqlite::{OptionalExtension, Row, params};
use serde_json::json;
use tftsr_core::audit::NewAuditEntry;
use tftsr_core::mcp::{McpCall, McpCallKind, McpCallOrigin, McpCallStatus, McpServerId};
use tftsr_core::timeline::{NewTimelineEvent, TimelineEventKind};
use tftsr_core::{IssueId, StoreError, StoreErrorKind, Timestamp};

use super::issues::{new_row_id, write_audit, write_events};
use super::{Database, store_error};

/// A call about to be recorded.
#[derive(Clone, Debug)]
pub struct NewMcpCall {
    pub issue: IssueId,
    pub conversation_id: Option<String>,
    pub provider_call_id: String,
    pub kind: McpCallKind,
    pub origin: McpCallOrigin,
    pub server_id: McpServerId,
    pub server_name: String,
    pub target: String,
    pub tool_key: String,
    /// As sent (pretty JSON).
    pub arguments: String,
    pub arguments_sha256: String,
}

/// How a call ended.
#[derive(Clone, Debug)]
pub struct McpCallOutcome {
    pub status: McpCallStatus,
    pub result: Option<String>,
    pub redacted: u32,
    pub error: Option<String>,
}

/// A stored call with what the engine needs besides the view.
#[derive(Clone, Debug)]
pub struct McpCallRow {
    pub call: McpCall,
    pub issue: IssueId,
    pub server_id: String,
    pub provider_call_id: String,
}

const COLUMNS: &str = "id, kind, origin, status, server_name, target, tool_key, arguments, \
                       result, redacted, error, conversation_id, created_at, finished_at, \
                       issue_id, server_id, provider_call_id";

fn corrupt(what: &str) -> StoreError {
    tracing::error!(what, "unreadable value in the database");
    StoreError::new(
        StoreErrorKind::Corrupt,
        format!("An unreadable {what} is stored in the database."),
    )
}

struct Raw {
    id: String,
    kind: String,
    origin: String,
    status: String,
    server_name: String,
    target: String,
    tool_key: String,
    arguments: String,
    result: Option<String>,
    redacted: i64,
    error: Option<String>,
    conversation_id: Option<String>,
    created_at: String,
    finished_at: Option<String>,
    issue_id: String,
    server_id: String,
    provider_call_id: String,
}

fn raw(r: &Row<'_>) -> rusqlite::Result<Raw> {
    Ok(Raw {
        id: r.get(0)?,
        kind: r.get(1)?,
        origin: r.get(2)?,
        status: r.get(3)?,
        server_name: r.get(4)?,
        target: r.get(5)?,
        tool_key: r.get(6)?,
        arguments: r.get(7)?,
        result: r.get(8)?,
        redacted: r.get(9)?,
        error: r.get(10)?,
        conversation_id: r.get(11)?,
        created_at: r.get(12)?,
        finished_at: r.get(13)?,
        issue_id: r.get(14)?,
        server_id: r.get(15)?,
        provider_call_id: r.get(16)?,
    })
}

fn decode(r: Raw) -> Result<McpCallRow, StoreError> {
    let ts = |t: &str| Timestamp::parse(t).map_err(|_| corrupt("timestamp"));
    Ok(McpCallRow {
        call: McpCall {
            kind: McpCallKind::parse(&r.kind).ok_or_else(|| corrupt("MCP call kind"))?,
            origin: McpCallOrigin::parse(&r.origin).ok_or_else(|| corrupt("MCP call origin"))?,
            status: McpCallStatus::parse(&r.status).ok_or_else(|| corrupt("MCP call status"))?,
            server_name: r.server_name,
            target: r.target,
            tool_key: r.tool_key,
            arguments: r.arguments,
            result: r.result,
            redacted: u32::try_from(r.redacted).unwrap_or(u32::MAX),
            error: r.error,
            conversation_id: r.conversation_id,
            created_at: ts(&r.created_at)?,
            finished_at: r.finished_at.as_deref().map(ts).transpose()?,
            id: r.id,
        },
        issue: IssueId::parse(&r.issue_id).ok_or_else(|| corrupt("issue id"))?,
        server_id: r.server_id,
        provider_call_id: r.provider_call_id,
    })
}

impl Database {
    /// Records a call. With `audit` it starts `running` and the audit entry
    /// is written in the same transaction (the caller sends only after this
    /// returns); without, it waits for the engineer's confirmation.
    pub fn insert_mcp_call(
        &self,
        call: &NewMcpCall,
        audit: Option<&NewAuditEntry>,
        now: Timestamp,
    ) -> Result<String, StoreError> {
        let id = new_row_id(now);
        let status = if audit.is_some() {
            McpCallStatus::Running
        } else {
            McpCallStatus::AwaitingConfirmation
        };
        let mut conn = self.lock_writer();
        let tx = conn.transaction().map_err(store_error)?;
        tx.execute(
            "INSERT INTO mcp_calls (id, issue_id, conversation_id, provider_call_id, kind, origin,
                 status, server_id, server_name, target, tool_key, arguments, arguments_sha256,
                 created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            params![
                id,
                call.issue.to_string(),
                call.conversation_id,
                call.provider_call_id,
                call.kind.as_str(),
                call.origin.as_str(),
                status.as_str(),
                call.server_id.to_string(),
                call.server_name,
                call.target,
                call.tool_key,
                call.arguments,
                call.arguments_sha256,
                now.to_string(),
            ],
        )
        .map_err(store_error)?;
        if let Some(audit) = audit {
            write_audit(&tx, now, audit).map_err(store_error)?;
        }
        tx.commit().map_err(store_error)?;
        Ok(id)
    }

    /// A confirmed call: `running`, with its audit entry, in one
    /// transaction. Fails with a conflict unless it was awaiting
    /// confirmation (declined, stopped, or confirmed twice).
    pub fn start_confirmed_mcp_call(
        &self,
        id: &str,
        audit: &NewAuditEntry,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut conn = self.lock_writer();
        let tx = conn.transaction().map_err(store_error)?;
        let changed = tx
            .execute(
                "UPDATE mcp_calls SET status = 'running'
                 WHERE id = ?1 AND status = 'awaiting_confirmation'",
                [id],
            )
            .map_err(store_error)?;
        if changed == 0 {
            return Err(StoreError::new(
                StoreErrorKind::Conflict,
                "This call is no longer waiting for confirmation.",
            ));
        }
        write_audit(&tx, now, audit).map_err(store_error)?;
        tx.commit().map_err(store_error)
    }

    /// Records how an open call ended, with a timeline event when it reached
    /// the server (done or a tool error). Returns the call as stored; a call
    /// already final is left as it was.
    pub fn finish_mcp_call(
        &self,
        id: &str,
        outcome: &McpCallOutcome,
        now: Timestamp,
    ) -> Result<McpCallRow, StoreError> {
        let mut conn = self.lock_writer();
        let tx = conn.transaction().map_err(store_error)?;
        let changed = tx
            .execute(
                "UPDATE mcp_calls SET status = ?2, result = ?3, redacted = ?4, error = ?5,
                     finished_at = ?6
                 WHERE id = ?1 AND status IN ('awaiting_confirmation', 'running')",
                params![
                    id,
                    outcome.status.as_str(),
                    outcome.result,
                    outcome.redacted,
                    outcome.error,
                    now.to_string(),
                ],
            )
            .map_err(store_error)?;
        let row = tx
            .query_row(
                &format!("SELECT {COLUMNS} FROM mcp_calls WHERE id = ?1"),
                [id],
                raw,
            )
            .optional()
            .map_err(store_error)?
            .ok_or_else(|| StoreError::not_found("That MCP call"))
            .and_then(decode)?;
        let reached = matches!(
            outcome.status,
            McpCallStatus::Done | McpCallStatus::ToolError
        );
        if changed > 0 && reached {
            let c = &row.call;
            let (kind, description) = match c.kind {
                McpCallKind::Tool => (
                    TimelineEventKind::McpToolCalled,
                    format!("{} ran {} on {}", who(c.origin), c.target, c.server_name),
                ),
                McpCallKind::Resource => (
                    TimelineEventKind::McpResourceRead,
                    format!("{} read {} on {}", who(c.origin), c.target, c.server_name),
                ),
            };
            write_events(
                &tx,
                row.issue,
                now,
                &[NewTimelineEvent {
                    kind,
                    description,
                    metadata: json!({
                        "call_id": c.id,
                        "server": c.server_name,
                        "target": c.target,
                        "origin": c.origin.as_str(),
                        "status": outcome.status.as_str(),
                        "redacted": outcome.redacted,
                    }),
                }],
            )
            .map_err(store_error)?;
        }
        tx.commit().map_err(store_error)?;
        Ok(row)
    }

    /// One call.
    pub fn mcp_call(&self, id: &str) -> Result<McpCallRow, StoreError> {
        let conn = self.lock_reader();
        conn.query_row(
            &format!("SELECT {COLUMNS} FROM mcp_calls WHERE id = ?1"),
            [id],
            raw,
        )
        .optional()
        .map_err(store_error)?
        .ok_or_else(|| StoreError::not_found("That MCP call"))
        .and_then(decode)
    }

    /// An issue's calls, oldest first.
    pub fn mcp_calls(&self, issue: IssueId) -> Result<Vec<McpCallRow>, StoreError> {
        let conn = self.lock_reader();
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM mcp_calls WHERE issue_id = ?1 ORDER BY created_at, id"
            ))
            .map_err(store_error)?;
        let rows = stmt
            .query_map([issue.to_string()], raw)
            .and_then(Iterator::collect::<Result<Vec<_>, _>>)
            .map_err(store_error)?;
        rows.into_iter().map(decode).collect()
    }

    /// Ends every open call (of one issue, or all) as failed with `reason`:
    /// after a reply was stopped, or at start-up for calls a previous run
    /// left open. Returns how many there were.
    pub fn fail_open_mcp_calls(
        &self,
        issue: Option<IssueId>,
        reason: &str,
        now: Timestamp,
    ) -> Result<usize, StoreError> {
        let conn = self.lock_writer();
        conn.execute(
            "UPDATE mcp_calls SET status = 'failed', error = ?1, finished_at = ?2
             WHERE status IN ('awaiting_confirmation', 'running')
               AND (?3 IS NULL OR issue_id = ?3)",
            params![reason, now.to_string(), issue.map(|i| i.to_string())],
        )
        .map_err(store_error)
    }
}

fn who(origin: McpCallOrigin) -> &'static str {
    match origin {
        McpCallOrigin::Model => "The assistant",
        McpCallOrigin::User => "You",
    }
}
