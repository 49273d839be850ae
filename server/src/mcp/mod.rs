//! MCP servers: the settings people save (secrets encrypted at rest), the
//! discovery of their tools and resources, and the calls, through one
//! [`McpManager`] that keeps a live connection per server.
//!
//! What leaves the machine through a tool call is the caller's business:
//! [`ToolCalls`] passes the arguments through the PII gate and writes the
//! audit entry before [`McpManager::call_tool`], and redacts what comes back.

mod calls;
mod client;
mod error;
mod service;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use tftsr_core::ai::key_hint;
use tftsr_core::mcp::{
    McpAuth, McpResource, McpServerDraft, McpServerId, McpServerSettings, McpTool, McpTransport,
    assign_tool_keys, key_prefix,
};
use tftsr_core::{Clock, StoreErrorKind};

pub use calls::{
    CONFIRM_TIMEOUT, CallStoreError, DecideError, ToolCallRequest, ToolCalls, render_parts,
};
pub use client::{
    ContentPart, Endpoint, EnvVar, HttpAuth, ListedResource, ListedTool, McpConnection, ToolOutput,
    http_client,
};
pub use error::{McpError, McpErrorKind};
pub use service::McpPanel;

use crate::credentials::Credentials;
use crate::secret::Secret;
use crate::store::Database;
use crate::store::mcp::{DiscoveryOutcome, McpServerRow, SaveMcpServer, StoredEnv};

/// How long each step may take.
#[derive(Clone, Copy, Debug)]
pub struct McpTimeouts {
    /// Starting a server and the `initialize` handshake (`npx -y` may
    /// download a package first).
    pub connect: Duration,
    /// Listing tools or resources, reading a resource.
    pub request: Duration,
    /// One tool call.
    pub tool_call: Duration,
    /// Waiting for a closed session to end (on top of rmcp's own waits for
    /// a child: 3 s after closing stdin, 3 s after SIGTERM).
    pub close: Duration,
}

impl Default for McpTimeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(60),
            request: Duration::from_secs(30),
            tool_call: Duration::from_secs(120),
            close: Duration::from_secs(10),
        }
    }
}

/// Why saving a server failed.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    /// The form's `(field, message)` errors.
    #[error("the MCP server settings are not valid")]
    Invalid(Vec<(&'static str, String)>),
    #[error(transparent)]
    Mcp(#[from] McpError),
}

/// The MCP servers of this installation and their live connections.
pub struct McpManager {
    db: Arc<Database>,
    credentials: Credentials,
    clock: Arc<dyn Clock>,
    http: reqwest::Client,
    timeouts: McpTimeouts,
    connections: tokio::sync::Mutex<HashMap<McpServerId, Arc<McpConnection>>>,
}

impl std::fmt::Debug for McpManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpManager")
            .field("timeouts", &self.timeouts)
            .finish_non_exhaustive()
    }
}

/// Runs a blocking store call on Tokio's blocking pool.
async fn blocking<T, F>(db: &Arc<Database>, f: F) -> Result<T, McpError>
where
    T: Send + 'static,
    F: FnOnce(&Database) -> Result<T, tftsr_core::StoreError> + Send + 'static,
{
    let db = Arc::clone(db);
    tokio::task::spawn_blocking(move || f(&db))
        .await
        .map_err(|_| McpError::new(McpErrorKind::Store, "A database task failed."))?
        .map_err(McpError::from)
}

/// The SHA-256 (hex) of the arguments as they will be sent, for the audit.
pub fn arguments_sha256(arguments: &Map<String, Value>) -> String {
    let bytes = serde_json::to_vec(arguments).unwrap_or_default();
    hex::encode(Sha256::digest(bytes))
}

impl McpManager {
    pub fn new(
        db: Arc<Database>,
        credentials: Credentials,
        clock: Arc<dyn Clock>,
        timeouts: McpTimeouts,
    ) -> Result<Self, McpError> {
        Ok(Self {
            db,
            credentials,
            clock,
            http: http_client()?,
            timeouts,
            connections: tokio::sync::Mutex::new(HashMap::new()),
        })
    }

    /// Every server, with status and counts. No secrets.
    pub async fn servers(&self) -> Result<Vec<McpServerSettings>, McpError> {
        let rows = blocking(&self.db, Database::mcp_servers).await?;
        Ok(rows.into_iter().map(|r| r.settings).collect())
    }

    pub async fn server(&self, id: McpServerId) -> Result<McpServerSettings, McpError> {
        Ok(blocking(&self.db, move |db| db.mcp_server(id))
            .await?
            .settings)
    }

    /// Adds (`id: None`) or edits a server. Secrets are encrypted before
    /// they reach the store; an edit drops the live connection (the next
    /// discovery or call reconnects with the new settings).
    pub async fn save(
        &self,
        id: Option<McpServerId>,
        draft: &McpServerDraft,
    ) -> Result<McpServerSettings, SaveError> {
        let existing = match id {
            Some(id) => Some(blocking(&self.db, move |db| db.mcp_server(id)).await?),
            None => None,
        };
        let stored_env: Vec<&str> = existing
            .iter()
            .flat_map(|r| r.env.iter())
            .filter(|e| e.secret && e.value_enc.is_some())
            .map(|e| e.name.as_str())
            .collect();
        let has_secret = existing.as_ref().is_some_and(|r| r.secret_enc.is_some());
        let valid = draft
            .validate(has_secret, &stored_env)
            .map_err(SaveError::Invalid)?;
        let env = valid
            .env
            .iter()
            .map(|var| {
                if !var.secret {
                    return StoredEnv {
                        name: var.name.clone(),
                        value: var.value.clone(),
                        secret: false,
                        value_enc: None,
                        hint: None,
                    };
                }
                match &var.value {
                    Some(v) => StoredEnv {
                        name: var.name.clone(),
                        value: None,
                        secret: true,
                        value_enc: Some(self.credentials.encrypt(v)),
                        hint: key_hint(v),
                    },
                    None => existing
                        .iter()
                        .flat_map(|r| r.env.iter())
                        .find(|e| e.name == var.name && e.secret)
                        .cloned()
                        .unwrap_or_else(|| StoredEnv {
                            name: var.name.clone(),
                            value: None,
                            secret: true,
                            value_enc: None,
                            hint: None,
                        }),
                }
            })
            .collect();
        let secret = valid.secret.as_ref().map(|s| {
            if s.is_empty() {
                None
            } else {
                Some((self.credentials.encrypt(s), key_hint(s).unwrap_or_default()))
            }
        });
        let now = self.clock.now();
        let id = id.unwrap_or_else(|| McpServerId::new_at(now));
        let save = SaveMcpServer {
            id,
            key_prefix: key_prefix(&valid.name),
            name: valid.name,
            transport: valid.transport,
            command: valid.command,
            args: valid.args,
            env,
            url: valid.url,
            auth: valid.auth,
            auth_header: valid.auth_header,
            secret,
            enabled: valid.enabled,
        };
        let db = Arc::clone(&self.db);
        let saved = tokio::task::spawn_blocking(move || db.save_mcp_server(&save, now))
            .await
            .map_err(|_| McpError::new(McpErrorKind::Store, "A database task failed."))?;
        match saved {
            Err(e) if e.kind() == StoreErrorKind::Conflict => {
                return Err(SaveError::Invalid(vec![("name", e.to_string())]));
            }
            other => other.map_err(McpError::from)?,
        }
        self.disconnect(id).await;
        Ok(self.server(id).await?)
    }

    /// Turns a server on or off; off ends its connection (and process).
    pub async fn set_enabled(&self, id: McpServerId, enabled: bool) -> Result<(), McpError> {
        let now = self.clock.now();
        blocking(&self.db, move |db| {
            db.set_mcp_server_enabled(id, enabled, now)
        })
        .await?;
        if !enabled {
            self.disconnect(id).await;
        }
        Ok(())
    }

    /// Deletes a server, its tools and resources; ends its connection.
    pub async fn delete(&self, id: McpServerId) -> Result<(), McpError> {
        self.disconnect(id).await;
        let now = self.clock.now();
        blocking(&self.db, move |db| db.delete_mcp_server(id, now)).await
    }

    pub async fn tools(&self, id: McpServerId) -> Result<Vec<McpTool>, McpError> {
        blocking(&self.db, move |db| db.mcp_tools(id)).await
    }

    pub async fn resources(&self, id: McpServerId) -> Result<Vec<McpResource>, McpError> {
        blocking(&self.db, move |db| db.mcp_resources(id)).await
    }

    /// The tools the assistant may be offered: those of enabled, connected
    /// servers.
    pub async fn callable_tools(&self) -> Result<Vec<McpTool>, McpError> {
        blocking(&self.db, Database::mcp_callable_tools).await
    }

    /// The tool a model called, by its key.
    pub async fn tool_by_key(&self, key: &str) -> Result<McpTool, McpError> {
        let key = key.to_owned();
        blocking(&self.db, move |db| db.mcp_tool_by_key(&key)).await
    }

    /// The endpoint of a stored server, secrets decrypted.
    fn endpoint(&self, row: &McpServerRow) -> Result<Endpoint, McpError> {
        let s = &row.settings;
        Ok(match s.transport {
            McpTransport::Stdio => Endpoint::Stdio {
                command: s.command.clone(),
                args: s.args.clone(),
                env: row
                    .env
                    .iter()
                    .map(|e| {
                        let value = match (&e.value_enc, &e.value) {
                            (Some(enc), _) if e.secret => self.credentials.decrypt(enc)?,
                            (_, Some(v)) => Secret::new(v.clone()),
                            _ => Secret::new(String::new()),
                        };
                        Ok(EnvVar {
                            name: e.name.clone(),
                            value,
                            secret: e.secret,
                        })
                    })
                    .collect::<Result<_, McpError>>()?,
            },
            McpTransport::Http => {
                let secret = row
                    .secret_enc
                    .as_deref()
                    .map(|enc| self.credentials.decrypt(enc))
                    .transpose()?;
                let auth = match (s.auth, secret) {
                    (McpAuth::None, _) | (_, None) => HttpAuth::None,
                    (McpAuth::ApiKey, Some(value)) => HttpAuth::Header {
                        name: s.auth_header.clone(),
                        value,
                    },
                    (McpAuth::Bearer | McpAuth::OAuth2, Some(token)) => HttpAuth::Bearer(token),
                };
                Endpoint::Http {
                    url: s.url.clone(),
                    auth,
                }
            }
        })
    }

    /// The live connection to a server, connecting when there is none (or
    /// the last one ended).
    async fn connection(&self, id: McpServerId) -> Result<Arc<McpConnection>, McpError> {
        if let Some(conn) = self.connections.lock().await.get(&id)
            && !conn.is_closed()
        {
            return Ok(Arc::clone(conn));
        }
        let row = blocking(&self.db, move |db| db.mcp_server(id)).await?;
        if !row.settings.enabled {
            return Err(McpError::new(
                McpErrorKind::NotAvailable,
                format!("The MCP server {} is disabled.", row.settings.name),
            ));
        }
        let endpoint = self.endpoint(&row)?;
        let conn =
            Arc::new(McpConnection::connect(&endpoint, &self.http, self.timeouts.connect).await?);
        let old = self.connections.lock().await.insert(id, Arc::clone(&conn));
        if let Some(old) = old {
            self.close(old).await;
        }
        Ok(conn)
    }

    async fn close(&self, conn: Arc<McpConnection>) {
        // A call still running holds its own reference; the last one to
        // let go ends the session (rmcp's drop guard, kill-on-drop).
        if let Ok(conn) = Arc::try_unwrap(conn) {
            conn.close(self.timeouts.close).await;
        }
    }

    /// Ends a server's connection (and its process) if there is one.
    pub async fn disconnect(&self, id: McpServerId) {
        let conn = self.connections.lock().await.remove(&id);
        if let Some(conn) = conn {
            self.close(conn).await;
        }
    }

    /// Ends every connection; call at shutdown.
    pub async fn shutdown(&self) {
        let all: Vec<_> = self
            .connections
            .lock()
            .await
            .drain()
            .map(|(_, c)| c)
            .collect();
        for conn in all {
            self.close(conn).await;
        }
    }

    /// The process id of a server's live stdio connection (for tests and
    /// diagnostics).
    pub async fn process_id(&self, id: McpServerId) -> Option<u32> {
        self.connections
            .lock()
            .await
            .get(&id)
            .and_then(|c| c.process_id())
    }

    /// Connects, lists tools and resources, and records the outcome: on
    /// success the tables are replaced in one transaction and the status is
    /// `connected`; on failure the status is `unreachable` or `error` with
    /// the message. Returns the server as stored afterwards; the error
    /// itself is in its `status_error`.
    pub async fn discover(&self, id: McpServerId) -> Result<McpServerSettings, McpError> {
        // A fresh connection: discovery is also how people retry.
        self.disconnect(id).await;
        let outcome = match self.list_everything(id).await {
            Ok((tools, resources)) => DiscoveryOutcome::Found { tools, resources },
            Err(e) => {
                if e.kind() == McpErrorKind::NotAvailable || e.kind() == McpErrorKind::Store {
                    return Err(e);
                }
                self.disconnect(id).await;
                DiscoveryOutcome::Failed {
                    status: e.discovery_status(),
                    error: e.message().to_owned(),
                }
            }
        };
        let now = self.clock.now();
        match &outcome {
            DiscoveryOutcome::Found { tools, resources } => tracing::info!(
                server = %id, tools = tools.len(), resources = resources.len(), "MCP discovery"
            ),
            DiscoveryOutcome::Failed { status, error } => {
                tracing::warn!(server = %id, %status, %error, "MCP discovery failed");
            }
        }
        blocking(&self.db, move |db| {
            db.record_mcp_discovery(id, &outcome, now)
        })
        .await?;
        self.server(id).await
    }

    async fn list_everything(
        &self,
        id: McpServerId,
    ) -> Result<(Vec<McpTool>, Vec<McpResource>), McpError> {
        let row = blocking(&self.db, move |db| db.mcp_server(id)).await?;
        let conn = self.connection(id).await?;
        let listed = conn.list_tools(self.timeouts.request).await?;
        let resources = conn.list_resources(self.timeouts.request).await?;
        let names: Vec<&str> = listed.iter().map(|t| t.name.as_str()).collect();
        let keys = assign_tool_keys(&row.key_prefix, &names);
        let tools = listed
            .into_iter()
            .zip(keys)
            .map(|(t, key)| McpTool {
                server_id: id,
                name: t.name,
                key,
                description: t.description,
                input_schema: t.input_schema,
                output_schema: t.output_schema,
                annotations: t.annotations,
            })
            .collect();
        let resources = resources
            .into_iter()
            .map(|r| McpResource {
                server_id: id,
                uri: r.uri,
                name: r.name,
                description: r.description,
                mime_type: r.mime_type,
            })
            .collect();
        Ok((tools, resources))
    }

    /// Discovers every enabled server in the background and returns at
    /// once: start-up never waits on a slow or dead server.
    pub fn spawn_startup_discovery(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let manager = Arc::clone(self);
        tokio::spawn(async move {
            let servers = match manager.servers().await {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!(error = %e, "MCP servers could not be listed");
                    return;
                }
            };
            let runs = servers.into_iter().filter(|s| s.enabled).map(|s| {
                let manager = Arc::clone(&manager);
                async move {
                    if let Err(e) = manager.discover(s.id).await {
                        tracing::warn!(server = %s.id, error = %e, "MCP discovery failed");
                    }
                }
            });
            futures_util::future::join_all(runs).await;
        })
    }

    /// Calls a tool (from the last discovery) with `arguments`, within the
    /// tool-call timeout. The caller has passed the arguments through the
    /// PII gate and written the audit entry. A connection that died is
    /// dropped, so the next call starts the server again.
    pub async fn call_tool(
        &self,
        tool: &McpTool,
        arguments: Map<String, Value>,
    ) -> Result<ToolOutput, McpError> {
        let conn = self.connection(tool.server_id).await?;
        let result = conn
            .call_tool(&tool.name, arguments, self.timeouts.tool_call)
            .await;
        if let Err(e) = &result
            && matches!(
                e.kind(),
                McpErrorKind::ProcessExited | McpErrorKind::Unreachable
            )
        {
            drop(conn);
            self.disconnect(tool.server_id).await;
        }
        result
    }

    /// Reads a resource of a server.
    pub async fn read_resource(
        &self,
        id: McpServerId,
        uri: &str,
    ) -> Result<Vec<ContentPart>, McpError> {
        let conn = self.connection(id).await?;
        conn.read_resource(uri, self.timeouts.request).await
    }
}
