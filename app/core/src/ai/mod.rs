//! The AI side of TFTSR, as pure data and logic: chat messages and the
//! [`ChatProvider`] port every model is reached through, the provider
//! settings people edit, each provider's HTTP wire format (request bodies
//! built and stream events parsed without doing IO), and the built-in
//! offline analyst.
//!
//! The server crate owns the sockets: it turns a [`ChatRequest`] into bytes
//! with [`wire`], sends them through its hardened HTTP client and feeds the
//! reply back into a [`wire`] decoder, yielding [`ChatEvent`]s.

mod chat;
mod provider;
pub mod sizing;
pub mod wire;

pub use chat::{
    BoxFuture, ChatEvent, ChatMessage, ChatProvider, ChatRequest, ChatStream, FinishReason,
    ModelInfo, ProviderError, ProviderErrorKind, Role, ToolCall, ToolSpec, Usage,
    repair_tool_turns,
};
pub use provider::{
    ProviderDraft, ProviderId, ProviderKind, ProviderSettings, ProviderValidation, key_hint,
};
