//! MCP (Model Context Protocol) servers as pure data: the servers people
//! configure (and the validation of the settings form), the tools and
//! resources a discovery finds, the provider-safe tool keys the model calls
//! them by, the form generated from a tool's JSON Schema for running it by
//! hand, and the read-only rule that decides whether a call needs the user's
//! confirmation.
//!
//! The server crate owns the processes and sockets (`server/src/mcp/`); this
//! module never does IO, so the browser validates with the same code.

mod call;
mod form;
mod server;
mod tool;

pub use call::{
    McpCall, McpCallKind, McpCallOrigin, McpCallStatus, RESULT_MAX, failure_for_model,
    truncate_result,
};
pub use form::{FieldKind, FormField, ToolForm, option_text};
pub use server::{
    ARG_MAX, ARGS_MAX, COMMAND_MAX, DiscoveryStatus, ENV_MAX, ENV_NAME_MAX, ENV_VALUE_MAX,
    HEADER_MAX, McpAuth, McpEnvDraft, McpEnvSetting, McpEnvValid, McpServerDraft, McpServerId,
    McpServerSettings, McpServerValidation, McpTransport, NAME_MAX, SECRET_MAX, URL_MAX,
    key_prefix,
};
pub use tool::{
    McpResource, McpTool, TOOL_KEY_MAX, assign_tool_keys, needs_confirmation, sanitize,
};
