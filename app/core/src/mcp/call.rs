//! A call to an MCP server on behalf of an issue — a tool the model or the
//! engineer ran, or a resource read — as it is recorded and shown: who asked,
//! where it stands, the arguments as sent and the result as the model saw
//! it (redacted). Also the text a result becomes when it is fed back to the
//! model or attached to the conversation as evidence.

use serde::{Deserialize, Serialize};

use crate::Timestamp;

text_enum! {
    /// What was asked of the server.
    McpCallKind {
        Tool => "tool", "Tool call";
        Resource => "resource", "Resource read";
    }
}

text_enum! {
    /// Who asked.
    McpCallOrigin {
        /// The model, during a triage reply.
        Model => "model", "Asked by the assistant";
        /// The engineer, from the tools panel.
        User => "user", "Run by you";
    }
}

text_enum! {
    /// Where a call stands. Only `awaiting_confirmation` and `running` change;
    /// the rest are final.
    McpCallStatus {
        /// A tool not marked read-only, waiting for the engineer's yes or no.
        AwaitingConfirmation => "awaiting_confirmation", "Waiting for your confirmation";
        Running => "running", "Running";
        Done => "done", "Done";
        /// The server answered with an error result (`isError`).
        ToolError => "tool_error", "The tool reported an error";
        /// Never reached the server or got no answer: blocked by the PII
        /// gate, unknown tool, dead server, timeout, stopped.
        Failed => "failed", "Failed";
        /// The engineer said no.
        Declined => "declined", "Declined";
    }
}

impl McpCallStatus {
    /// Whether the call is over.
    pub fn is_final(self) -> bool {
        !matches!(self, Self::AwaitingConfirmation | Self::Running)
    }
}

/// The longest result kept and shown to the model, in bytes; a longer one
/// is cut at a line break with a note saying how much was left out.
pub const RESULT_MAX: usize = 32 * 1024;

/// A recorded call, as the triage page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct McpCall {
    pub id: String,
    pub kind: McpCallKind,
    pub origin: McpCallOrigin,
    pub status: McpCallStatus,
    pub server_name: String,
    /// The tool's name on its server, or the resource's URI.
    pub target: String,
    /// The key the model used (tools), empty for resources.
    pub tool_key: String,
    /// The arguments as sent (pretty JSON), `{}` for resources.
    pub arguments: String,
    /// The result as the model saw it: redacted, at most [`RESULT_MAX`].
    pub result: Option<String>,
    /// How many findings were redacted from the result.
    pub redacted: u32,
    /// Why it failed or was declined.
    pub error: Option<String>,
    /// The conversation it belongs to (calls by the model).
    pub conversation_id: Option<String>,
    pub created_at: Timestamp,
    pub finished_at: Option<Timestamp>,
}

impl McpCall {
    /// What this call contributes to the conversation when attached as
    /// evidence: where it came from, then the redacted result in a fence
    /// long enough that the result cannot close it.
    pub fn evidence_message(&self) -> String {
        let what = match self.kind {
            McpCallKind::Tool => format!("the MCP tool `{}`", self.target),
            McpCallKind::Resource => format!("the MCP resource `{}`", self.target),
        };
        let body = self.result.as_deref().unwrap_or_default();
        let fence = fence_for(body);
        let mut out = format!("Evidence from {what} on the server “{}”", self.server_name);
        if self.kind == McpCallKind::Tool && self.arguments.trim() != "{}" {
            out.push_str(&format!(", called with {}", compact_json(&self.arguments)));
        }
        out.push_str(&format!(":\n\n{fence}\n{body}\n{fence}"));
        out
    }
}

/// The result text as sent back to the model for a call that did not
/// produce one: it says plainly what happened, so the model can go on.
pub fn failure_for_model(status: McpCallStatus, error: &str) -> String {
    match status {
        McpCallStatus::Declined => format!("The engineer declined to run this tool. {error}")
            .trim_end()
            .to_owned(),
        _ => format!("The tool call failed: {error}"),
    }
}

/// Cuts `text` to at most [`RESULT_MAX`] bytes at a line break (or a char
/// boundary), adding a note of how much was left out.
pub fn truncate_result(text: &str) -> String {
    if text.len() <= RESULT_MAX {
        return text.to_owned();
    }
    let mut cut = RESULT_MAX;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    if let Some(nl) = text[..cut].rfind('\n').filter(|&nl| nl >= RESULT_MAX / 2) {
        cut = nl;
    }
    format!(
        "{}\n[… {} more bytes of the result were left out]",
        &text[..cut],
        text.len() - cut
    )
}

/// A backtick fence longer than any run of backticks in `body`.
fn fence_for(body: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in body.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    "`".repeat((longest + 1).max(3))
}

fn compact_json(text: &str) -> String {
    serde_json::from_str::<serde_json::Value>(text)
        .map(|v| v.to_string())
        .unwrap_or_else(|_| text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(kind: McpCallKind, result: &str, arguments: &str) -> McpCall {
        McpCall {
            id: "c1".into(),
            kind,
            origin: McpCallOrigin::User,
            status: McpCallStatus::Done,
            server_name: "Grafana".into(),
            target: "query_logs".into(),
            tool_key: "grafana__query_logs".into(),
            arguments: arguments.into(),
            result: Some(result.into()),
            redacted: 0,
            error: None,
            conversation_id: None,
            created_at: Timestamp::from_unix_millis(0).expect("epoch"),
            finished_at: None,
        }
    }

    #[test]
    fn evidence_names_the_source_and_fences_the_result() {
        let text = call(
            McpCallKind::Tool,
            "db [IPV4_1] timed out",
            "{\n  \"q\": \"db\"\n}",
        )
        .evidence_message();
        assert!(text.starts_with("Evidence from the MCP tool `query_logs` on the server “Grafana”, called with {\"q\":\"db\"}:"), "{text}");
        assert!(text.ends_with("```\ndb [IPV4_1] timed out\n```"), "{text}");
    }

    #[test]
    fn a_result_with_fences_cannot_close_the_evidence_fence() {
        let text = call(McpCallKind::Resource, "a ``` b ```` c", "{}").evidence_message();
        assert!(text.contains("`````\na ``` b ```` c\n`````"), "{text}");
        assert!(!text.contains("called with"));
        assert!(text.contains("the MCP resource `query_logs`"));
    }

    #[test]
    fn long_results_are_cut_at_a_line_with_a_note() {
        let line = "x".repeat(99) + "\n";
        let text = line.repeat(1_000);
        let cut = truncate_result(&text);
        assert!(cut.len() < RESULT_MAX + 80);
        let (kept, note) = cut.rsplit_once('\n').expect("a note line");
        assert!(kept.lines().all(|l| l.len() == 99), "cut at a line break");
        let left_out = text.len() - kept.len();
        assert_eq!(
            note,
            format!("[… {left_out} more bytes of the result were left out]")
        );
        assert_eq!(truncate_result("short"), "short");
    }

    #[test]
    fn cutting_never_splits_a_character() {
        let text = "é".repeat(RESULT_MAX);
        let cut = truncate_result(&text);
        assert!(cut.starts_with('é'));
        assert!(cut.contains("more bytes"));
    }

    #[test]
    fn only_waiting_and_running_are_open() {
        let open: Vec<_> = McpCallStatus::ALL
            .iter()
            .filter(|s| !s.is_final())
            .collect();
        assert_eq!(
            open,
            [
                &McpCallStatus::AwaitingConfirmation,
                &McpCallStatus::Running
            ]
        );
    }
}
