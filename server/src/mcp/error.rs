//! What can go wrong talking to an MCP server, in words people can act on.
//! Messages never carry secrets: environment values, keys and tokens are
//! not part of any error this module builds, and a child's stderr and what
//! a server says in an error are scrubbed of the secret values before they
//! are quoted.

use tftsr_core::StoreError;
use tftsr_core::mcp::DiscoveryStatus;

/// What kind of failure; callers match on this.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum McpErrorKind {
    /// The stdio command does not exist or may not be run: fix the command
    /// or install the server.
    CommandNotFound,
    /// The child process exited or crashed (before answering, or during a
    /// call): see its last output in the message.
    ProcessExited,
    /// It answered, but not as an MCP server (not JSON-RPC, no initialize
    /// result, an incompatible protocol version).
    NotMcp,
    /// The URL did not answer (connection refused, DNS, TLS).
    Unreachable,
    /// The URL answered with an HTTP error, or refused the credentials.
    Http,
    /// No answer within the time allowed; the request was cancelled.
    Timeout,
    /// The tool ran and reported an error (`isError`).
    ToolError,
    /// The server answered the request with a JSON-RPC error (unknown tool,
    /// invalid arguments, unknown resource).
    Rejected,
    /// The server is disabled, unknown, or its tool is not in the last
    /// discovery.
    NotAvailable,
    /// A stored secret could not be decrypted, or the store failed.
    Store,
}

/// An MCP failure: a kind and a message safe to show and to log.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct McpError {
    kind: McpErrorKind,
    message: String,
}

impl McpError {
    pub fn new(kind: McpErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    pub fn kind(&self) -> McpErrorKind {
        self.kind
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    /// The discovery status this failure leaves a server in.
    pub fn discovery_status(&self) -> DiscoveryStatus {
        match self.kind {
            McpErrorKind::CommandNotFound | McpErrorKind::Unreachable => {
                DiscoveryStatus::Unreachable
            }
            _ => DiscoveryStatus::Error,
        }
    }
}

impl From<StoreError> for McpError {
    fn from(e: StoreError) -> Self {
        let kind = if e.kind() == tftsr_core::StoreErrorKind::NotFound {
            McpErrorKind::NotAvailable
        } else {
            McpErrorKind::Store
        };
        Self::new(kind, e.to_string())
    }
}

impl From<crate::credentials::CredentialError> for McpError {
    fn from(e: crate::credentials::CredentialError) -> Self {
        Self::new(McpErrorKind::Store, e.to_string())
    }
}
