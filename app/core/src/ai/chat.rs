//! Chat messages, requests, streamed events and the provider port.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use futures_core::Stream;
use serde::{Deserialize, Serialize};

text_enum! {
    /// Who wrote a message.
    Role {
        System => "system", "System";
        User => "user", "User";
        Assistant => "assistant", "Assistant";
        /// The result of a tool call, fed back to the model.
        Tool => "tool", "Tool";
    }
}

/// A tool the model may call, described by a JSON Schema for its arguments.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ToolSpec {
    /// The name the model uses; `[A-Za-z0-9_-]{1,64}` so that every
    /// provider accepts it.
    pub name: String,
    pub description: String,
    /// A JSON Schema object (`{"type": "object", "properties": ...}`).
    pub parameters: serde_json::Value,
}

/// A call the model asked for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    /// The provider's id for the call (generated when the API has none, as
    /// with Gemini and Ollama), echoed back with the result.
    pub id: String,
    pub name: String,
    /// The arguments as a JSON object.
    pub arguments: serde_json::Value,
}

/// One message of a conversation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub role: Role,
    pub content: String,
    /// Calls the assistant made in this message (assistant messages only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    /// For [`Role::Tool`] messages: the call this result answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
    /// For [`Role::Tool`] messages: the tool's name (Gemini and Ollama key
    /// results by name rather than id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_name: Option<String>,
}

impl ChatMessage {
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        Self {
            role,
            content: content.into(),
            tool_calls: Vec::new(),
            tool_call_id: None,
            tool_name: None,
        }
    }

    pub fn system(content: impl Into<String>) -> Self {
        Self::new(Role::System, content)
    }

    pub fn user(content: impl Into<String>) -> Self {
        Self::new(Role::User, content)
    }

    pub fn assistant(content: impl Into<String>) -> Self {
        Self::new(Role::Assistant, content)
    }

    /// A tool's result, answering `call`.
    pub fn tool_result(call: &ToolCall, content: impl Into<String>) -> Self {
        Self {
            role: Role::Tool,
            content: content.into(),
            tool_calls: Vec::new(),
            tool_call_id: Some(call.id.clone()),
            tool_name: Some(call.name.clone()),
        }
    }
}

/// What is sent to a model. The system prompt is the first message when its
/// role is [`Role::System`]; each wire format moves it where its API wants it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChatRequest {
    pub model: String,
    pub messages: Vec<ChatMessage>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<ToolSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
}

/// Token counts as the provider reported them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
}

text_enum! {
    /// Why the model stopped.
    FinishReason {
        Stop => "stop", "Finished";
        Length => "length", "Stopped at the token limit";
        ToolCalls => "tool_calls", "Asked to call tools";
        ContentFilter => "content_filter", "Stopped by the provider's content filter";
        Other => "other", "Stopped";
    }
}

/// One piece of a streamed reply.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ChatEvent {
    /// More text of the reply.
    Text { delta: String },
    /// A complete tool call (wire decoders assemble streamed fragments).
    ToolCall { call: ToolCall },
    /// Token counts, usually near the end.
    Usage { usage: Usage },
    /// The reply is complete.
    Done { reason: FinishReason },
}

/// What went wrong talking to a provider, in terms a person can act on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ProviderErrorKind {
    /// The API key was refused (401/403).
    Auth,
    /// The model does not exist on that provider.
    UnknownModel,
    /// Could not connect (DNS, refused, TLS).
    Unreachable,
    /// Too many requests; try again later.
    RateLimited,
    /// The conversation is longer than the model's context.
    ContextTooLong,
    /// The provider did not answer in time.
    Timeout,
    /// The reply was not in the provider's format (or was cut off).
    Malformed,
    /// The provider reported an error of its own (5xx, overloaded ...).
    Server,
    /// Refused by the request itself (400 other than the above).
    BadRequest,
    /// The user stopped it.
    Cancelled,
}

/// A provider failure. The message names the provider and what to do; it
/// never contains an API key or the prompt.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("{message}")]
pub struct ProviderError {
    pub kind: ProviderErrorKind,
    pub message: String,
    /// For [`ProviderErrorKind::RateLimited`]: how long the provider asked
    /// us to wait, when it said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
}

impl ProviderError {
    pub fn new(kind: ProviderErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            retry_after_ms: None,
        }
    }

    pub fn malformed(message: impl fmt::Display) -> Self {
        Self::new(
            ProviderErrorKind::Malformed,
            format!("The provider's reply could not be read: {message}"),
        )
    }

    pub fn with_retry_after(mut self, wait: Duration) -> Self {
        self.retry_after_ms = Some(u64::try_from(wait.as_millis()).unwrap_or(u64::MAX));
        self
    }

    /// Whether the same request may succeed if sent again later.
    pub fn is_transient(&self) -> bool {
        matches!(
            self.kind,
            ProviderErrorKind::RateLimited
                | ProviderErrorKind::Server
                | ProviderErrorKind::Timeout
                | ProviderErrorKind::Unreachable
        )
    }
}

/// A model a provider offers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelInfo {
    pub name: String,
    /// Size on disk in bytes, where the API says (Ollama).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<u64>,
}

/// A boxed future, so the port stays object-safe without an async runtime
/// in core.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A streamed reply. It ends after [`ChatEvent::Done`] or an error.
pub type ChatStream = Pin<Box<dyn Stream<Item = Result<ChatEvent, ProviderError>> + Send>>;

/// A chat model, local or remote. The server implements it for each wire
/// format over its HTTP client, and for the built-in analyst.
pub trait ChatProvider: Send + Sync {
    /// A short name for messages and the audit log ("OpenAI-compatible",
    /// "Built-in analyst" ...).
    fn label(&self) -> &str;

    /// Sends the request and streams the reply. Errors before the first
    /// event (auth, unknown model, unreachable) come from the future; errors
    /// after it come through the stream.
    fn chat(&self, request: ChatRequest) -> BoxFuture<'_, Result<ChatStream, ProviderError>>;

    /// The models the provider offers, where its API can list them.
    fn list_models(&self) -> BoxFuture<'_, Result<Vec<ModelInfo>, ProviderError>>;
}

/// Makes a stored conversation safe to send again. Every API refuses an
/// assistant message whose tool calls are not each answered by the tool
/// messages right after it (a reply stopped between the call and its
/// result leaves one), and a tool message that answers nothing. So an
/// assistant message keeps its calls only when the tool messages that
/// follow it answer all of them, one each; otherwise the calls and those
/// tool messages are dropped, and the message too if it has no text.
pub fn repair_tool_turns(messages: Vec<ChatMessage>) -> Vec<ChatMessage> {
    let mut out = Vec::with_capacity(messages.len());
    let mut iter = messages.into_iter().peekable();
    while let Some(mut message) = iter.next() {
        match message.role {
            Role::Tool => {} // answers nothing kept: dropped
            Role::Assistant if !message.tool_calls.is_empty() => {
                let mut results = Vec::new();
                while let Some(result) = iter.next_if(|m| m.role == Role::Tool) {
                    results.push(result);
                }
                let mut unanswered: Vec<&str> =
                    message.tool_calls.iter().map(|c| c.id.as_str()).collect();
                let all_answered = results.len() == unanswered.len()
                    && results.iter().all(|r| {
                        let id = r.tool_call_id.as_deref().unwrap_or_default();
                        match unanswered.iter().position(|u| *u == id) {
                            Some(i) => {
                                unanswered.swap_remove(i);
                                true
                            }
                            None => false,
                        }
                    });
                if all_answered {
                    out.push(message);
                    out.extend(results);
                } else {
                    message.tool_calls.clear();
                    if !message.content.trim().is_empty() {
                        out.push(message);
                    }
                }
            }
            _ => out.push(message),
        }
    }
    out
}

#[cfg(test)]
mod repair_tests {
    use super::*;

    fn call(id: &str) -> ToolCall {
        ToolCall {
            id: id.into(),
            name: "s__t".into(),
            arguments: serde_json::json!({}),
        }
    }

    fn asked(text: &str, ids: &[&str]) -> ChatMessage {
        let mut m = ChatMessage::assistant(text);
        m.tool_calls = ids.iter().map(|i| call(i)).collect();
        m
    }

    #[test]
    fn answered_calls_are_kept_in_order() {
        let messages = vec![
            ChatMessage::user("why?"),
            asked("", &["call_0", "call_1"]),
            ChatMessage::tool_result(&call("call_1"), "b"),
            ChatMessage::tool_result(&call("call_0"), "a"),
            ChatMessage::assistant("because"),
            // Ollama and Gemini ids repeat from one reply to the next.
            asked("again", &["call_0"]),
            ChatMessage::tool_result(&call("call_0"), "c"),
        ];
        assert_eq!(repair_tool_turns(messages.clone()), messages);
    }

    #[test]
    fn unanswered_calls_and_stray_results_are_dropped() {
        let messages = vec![
            ChatMessage::tool_result(&call("x"), "stray"),
            ChatMessage::user("why?"),
            asked("", &["call_0", "call_1"]),
            ChatMessage::tool_result(&call("call_0"), "only one"),
            ChatMessage::user("stopped; go on"),
            asked("Let me check.", &["call_0"]),
            ChatMessage::tool_result(&call("other"), "wrong id"),
        ];
        let repaired = repair_tool_turns(messages);
        assert_eq!(
            repaired,
            vec![
                ChatMessage::user("why?"),
                ChatMessage::user("stopped; go on"),
                ChatMessage::assistant("Let me check."),
            ]
        );
    }
}
