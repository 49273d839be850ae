//! MCP servers and what their discoveries found. Secrets arrive here
//! already encrypted (see [`crate::mcp`]); this module only stores them.

use rusqlite::{OptionalExtension, Transaction, params};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tftsr_core::audit::{AuditAction, NewAuditEntry};
use tftsr_core::mcp::{
    DiscoveryStatus, McpAuth, McpEnvSetting, McpResource, McpServerId, McpServerSettings, McpTool,
    McpTransport,
};
use tftsr_core::{StoreError, StoreErrorKind, Timestamp};

use super::issues::write_audit;
use super::{Database, store_error};

fn corrupt(what: &str) -> StoreError {
    tracing::error!(what, "unreadable value in the database");
    StoreError::new(
        StoreErrorKind::Corrupt,
        format!("An unreadable {what} is stored in the database."),
    )
}

fn ts(text: &str) -> Result<Timestamp, StoreError> {
    Timestamp::parse(text).map_err(|_| corrupt("timestamp"))
}

/// One environment variable as stored: a plain one keeps its value, a
/// secret one its encrypted value and hint.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredEnv {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub secret: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_enc: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl std::fmt::Debug for StoredEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredEnv")
            .field("name", &self.name)
            .field(
                "value",
                &if self.secret {
                    None
                } else {
                    self.value.as_deref()
                },
            )
            .field("secret", &self.secret)
            .finish_non_exhaustive()
    }
}

impl StoredEnv {
    fn setting(&self) -> McpEnvSetting {
        McpEnvSetting {
            name: self.name.clone(),
            value: if self.secret {
                None
            } else {
                self.value.clone()
            },
            secret: self.secret,
            hint: if self.secret { self.hint.clone() } else { None },
        }
    }
}

/// A server row: what the browser may see, plus the encrypted secrets.
#[derive(Clone, Debug)]
pub struct McpServerRow {
    pub settings: McpServerSettings,
    pub key_prefix: String,
    pub env: Vec<StoredEnv>,
    /// base64(nonce || ciphertext || tag) of the key or token, or none.
    pub secret_enc: Option<String>,
}

/// A server about to be saved (secrets already encrypted).
#[derive(Clone, Debug)]
pub struct SaveMcpServer {
    pub id: McpServerId,
    pub name: String,
    pub key_prefix: String,
    pub transport: McpTransport,
    pub command: String,
    pub args: Vec<String>,
    pub env: Vec<StoredEnv>,
    pub url: String,
    pub auth: McpAuth,
    pub auth_header: String,
    /// `None` keeps the stored secret; `Some(None)` removes it;
    /// `Some(Some((encrypted, hint)))` replaces it.
    pub secret: Option<Option<(String, String)>>,
    pub enabled: bool,
}

/// What a discovery found, or why it failed.
#[derive(Clone, Debug)]
pub enum DiscoveryOutcome {
    Found {
        tools: Vec<McpTool>,
        resources: Vec<McpResource>,
    },
    Failed {
        status: DiscoveryStatus,
        error: String,
    },
}

const SERVER_COLUMNS: &str = "s.id, s.name, s.key_prefix, s.transport, s.command, s.args, s.env, \
     s.url, s.auth, s.auth_header, s.secret_enc, s.secret_hint, s.enabled, s.status, \
     s.status_error, s.last_discovered_at, s.created_at, s.updated_at, \
     (SELECT count(*) FROM mcp_tools t WHERE t.server_id = s.id), \
     (SELECT count(*) FROM mcp_resources r WHERE r.server_id = s.id)";

/// The raw columns, converted outside the rusqlite closure so that
/// conversion errors are store errors. `text` skips column 12 (`enabled`).
struct RawServer {
    text: [Option<String>; 17],
    enabled: bool,
    tools: i64,
    resources: i64,
}

fn server_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawServer> {
    let mut text: [Option<String>; 17] = Default::default();
    for (i, slot) in text.iter_mut().enumerate() {
        *slot = r.get(if i >= 12 { i + 1 } else { i })?;
    }
    Ok(RawServer {
        text,
        enabled: r.get::<_, i64>(12)? == 1,
        tools: r.get(18)?,
        resources: r.get(19)?,
    })
}

fn to_server(raw: RawServer) -> Result<McpServerRow, StoreError> {
    let [
        id,
        name,
        key_prefix,
        transport,
        command,
        args,
        env,
        url,
        auth,
        auth_header,
        secret_enc,
        secret_hint,
        status,
        status_error,
        last_discovered,
        created,
        updated,
    ] = raw.text;
    let text = |v: Option<String>| v.unwrap_or_default();
    let env: Vec<StoredEnv> =
        serde_json::from_str(&text(env)).map_err(|_| corrupt("MCP environment"))?;
    Ok(McpServerRow {
        settings: McpServerSettings {
            id: McpServerId::parse(&text(id)).ok_or_else(|| corrupt("MCP server id"))?,
            name: text(name),
            transport: McpTransport::parse(&text(transport))
                .ok_or_else(|| corrupt("MCP transport"))?,
            command: text(command),
            args: serde_json::from_str(&text(args)).map_err(|_| corrupt("MCP arguments"))?,
            env: env.iter().map(StoredEnv::setting).collect(),
            url: text(url),
            auth: McpAuth::parse(&text(auth)).ok_or_else(|| corrupt("MCP auth"))?,
            auth_header: text(auth_header),
            secret_hint,
            enabled: raw.enabled,
            status: DiscoveryStatus::parse(&text(status))
                .ok_or_else(|| corrupt("MCP discovery status"))?,
            status_error,
            last_discovered_at: last_discovered.as_deref().map(ts).transpose()?,
            created_at: ts(&text(created))?,
            updated_at: ts(&text(updated))?,
            tool_count: u32::try_from(raw.tools).unwrap_or(0),
            resource_count: u32::try_from(raw.resources).unwrap_or(0),
        },
        key_prefix: text(key_prefix),
        env,
        secret_enc,
    })
}

const TOOL_COLUMNS: &str =
    "server_id, name, tool_key, description, input_schema, output_schema, annotations";

fn tool_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<[Option<String>; 7]> {
    Ok([
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
    ])
}

fn to_tool(cols: [Option<String>; 7]) -> Result<McpTool, StoreError> {
    let [
        server_id,
        name,
        key,
        description,
        input,
        output,
        annotations,
    ] = cols;
    let text = |v: Option<String>| v.unwrap_or_default();
    let json = |v: &str| serde_json::from_str(v).map_err(|_| corrupt("MCP tool schema"));
    Ok(McpTool {
        server_id: McpServerId::parse(&text(server_id)).ok_or_else(|| corrupt("MCP server id"))?,
        name: text(name),
        key: text(key),
        description: text(description),
        input_schema: json(&text(input))?,
        output_schema: output.as_deref().map(json).transpose()?,
        annotations: json(&text(annotations))?,
    })
}

fn prefix_taken(tx: &Transaction<'_>, prefix: &str, id: &str) -> Result<bool, StoreError> {
    tx.query_row(
        "SELECT 1 FROM mcp_servers WHERE key_prefix = ?1 AND id != ?2",
        params![prefix, id],
        |_| Ok(true),
    )
    .optional()
    .map_err(store_error)
    .map(|v| v.unwrap_or(false))
}

impl Database {
    /// Every server, oldest first.
    pub fn mcp_servers(&self) -> Result<Vec<McpServerRow>, StoreError> {
        let conn = self.lock_reader();
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {SERVER_COLUMNS} FROM mcp_servers s ORDER BY s.created_at, s.id"
            ))
            .map_err(store_error)?;
        let rows = stmt
            .query_map([], server_row)
            .and_then(Iterator::collect::<Result<Vec<_>, _>>)
            .map_err(store_error)?;
        rows.into_iter().map(to_server).collect()
    }

    pub fn mcp_server(&self, id: McpServerId) -> Result<McpServerRow, StoreError> {
        let conn = self.lock_reader();
        let raw = conn
            .query_row(
                &format!("SELECT {SERVER_COLUMNS} FROM mcp_servers s WHERE s.id = ?1"),
                [id.to_string()],
                server_row,
            )
            .optional()
            .map_err(store_error)?
            .ok_or_else(|| StoreError::not_found("That MCP server"))?;
        to_server(raw)
    }

    /// Inserts or updates a server, with its audit entry. An edit puts the
    /// server back to `pending` (its connection may have changed); its tools
    /// stay until the next discovery replaces them. A name whose key prefix
    /// another server has is a `Conflict`.
    pub fn save_mcp_server(
        &self,
        server: &SaveMcpServer,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut conn = self.lock_writer();
        let tx = conn.transaction().map_err(store_error)?;
        let id = server.id.to_string();
        if prefix_taken(&tx, &server.key_prefix, &id)? {
            return Err(StoreError::new(
                StoreErrorKind::Conflict,
                "Another MCP server has this name (or one that differs only in punctuation or \
                 case); pick another.",
            ));
        }
        let exists: bool = tx
            .query_row("SELECT 1 FROM mcp_servers WHERE id = ?1", [&id], |_| {
                Ok(true)
            })
            .optional()
            .map_err(store_error)?
            .unwrap_or(false);
        let args = serde_json::to_string(&server.args).map_err(|_| corrupt("MCP arguments"))?;
        let env = serde_json::to_string(&server.env).map_err(|_| corrupt("MCP environment"))?;
        let values = params![
            id,
            server.name,
            server.key_prefix,
            server.transport.as_str(),
            server.command,
            args,
            env,
            server.url,
            server.auth.as_str(),
            server.auth_header,
            i64::from(server.enabled),
            now.to_string(),
        ];
        if exists {
            tx.execute(
                "UPDATE mcp_servers SET name = ?2, key_prefix = ?3, transport = ?4, command = ?5,
                        args = ?6, env = ?7, url = ?8, auth = ?9, auth_header = ?10,
                        enabled = ?11, status = 'pending', status_error = NULL, updated_at = ?12
                 WHERE id = ?1",
                values,
            )
            .map_err(store_error)?;
        } else {
            tx.execute(
                "INSERT INTO mcp_servers (id, name, key_prefix, transport, command, args, env,
                        url, auth, auth_header, enabled, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12)",
                values,
            )
            .map_err(store_error)?;
        }
        if let Some(secret) = &server.secret {
            let (enc, hint) = match secret {
                Some((enc, hint)) => (Some(enc.as_str()), Some(hint.as_str())),
                None => (None, None),
            };
            tx.execute(
                "UPDATE mcp_servers SET secret_enc = ?2, secret_hint = ?3 WHERE id = ?1",
                params![id, enc, hint],
            )
            .map_err(store_error)?;
        }
        write_audit(
            &tx,
            now,
            &NewAuditEntry {
                action: AuditAction::McpServerSaved,
                entity_type: "mcp_server",
                entity_id: id.clone(),
                details: json!({
                    "name": server.name,
                    "transport": server.transport.as_str(),
                    "enabled": server.enabled,
                    "created": !exists,
                    "secret_changed": server.secret.is_some(),
                }),
            },
        )
        .map_err(store_error)?;
        tx.commit().map_err(store_error)
    }

    /// Turns a server on or off, with an audit entry.
    pub fn set_mcp_server_enabled(
        &self,
        id: McpServerId,
        enabled: bool,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut conn = self.lock_writer();
        let tx = conn.transaction().map_err(store_error)?;
        let changed = tx
            .execute(
                "UPDATE mcp_servers SET enabled = ?2, updated_at = ?3 WHERE id = ?1",
                params![id.to_string(), i64::from(enabled), now.to_string()],
            )
            .map_err(store_error)?;
        if changed == 0 {
            return Err(StoreError::not_found("That MCP server"));
        }
        write_audit(
            &tx,
            now,
            &NewAuditEntry {
                action: AuditAction::McpServerSaved,
                entity_type: "mcp_server",
                entity_id: id.to_string(),
                details: json!({ "enabled": enabled }),
            },
        )
        .map_err(store_error)?;
        tx.commit().map_err(store_error)
    }

    /// Deletes a server with its tools and resources, with an audit entry.
    pub fn delete_mcp_server(&self, id: McpServerId, now: Timestamp) -> Result<(), StoreError> {
        let mut conn = self.lock_writer();
        let tx = conn.transaction().map_err(store_error)?;
        let name: Option<String> = tx
            .query_row(
                "SELECT name FROM mcp_servers WHERE id = ?1",
                [id.to_string()],
                |r| r.get(0),
            )
            .optional()
            .map_err(store_error)?;
        let Some(name) = name else {
            return Err(StoreError::not_found("That MCP server"));
        };
        tx.execute("DELETE FROM mcp_servers WHERE id = ?1", [id.to_string()])
            .map_err(store_error)?;
        write_audit(
            &tx,
            now,
            &NewAuditEntry {
                action: AuditAction::McpServerDeleted,
                entity_type: "mcp_server",
                entity_id: id.to_string(),
                details: json!({ "name": name }),
            },
        )
        .map_err(store_error)?;
        tx.commit().map_err(store_error)
    }

    /// Records a discovery. A success replaces the server's tools and
    /// resources as a whole, in one transaction; a failure records the
    /// status and error and keeps the tools of the last success (only
    /// connected servers' tools are offered, see [`Self::mcp_callable_tools`]).
    pub fn record_mcp_discovery(
        &self,
        id: McpServerId,
        outcome: &DiscoveryOutcome,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut conn = self.lock_writer();
        let tx = conn.transaction().map_err(store_error)?;
        let sid = id.to_string();
        let (status, error) = match outcome {
            DiscoveryOutcome::Found { tools, resources } => {
                tx.execute("DELETE FROM mcp_tools WHERE server_id = ?1", [&sid])
                    .map_err(store_error)?;
                tx.execute("DELETE FROM mcp_resources WHERE server_id = ?1", [&sid])
                    .map_err(store_error)?;
                {
                    let mut insert = tx
                        .prepare_cached(
                            "INSERT INTO mcp_tools (server_id, name, tool_key, description,
                                    input_schema, output_schema, annotations, position)
                             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                        )
                        .map_err(store_error)?;
                    for (i, tool) in tools.iter().enumerate() {
                        insert
                            .execute(params![
                                sid,
                                tool.name,
                                tool.key,
                                tool.description,
                                tool.input_schema.to_string(),
                                tool.output_schema.as_ref().map(ToString::to_string),
                                tool.annotations.to_string(),
                                i64::try_from(i).unwrap_or(i64::MAX),
                            ])
                            .map_err(store_error)?;
                    }
                    let mut insert = tx
                        .prepare_cached(
                            "INSERT INTO mcp_resources (server_id, uri, name, description,
                                    mime_type, position)
                             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                        )
                        .map_err(store_error)?;
                    for (i, res) in resources.iter().enumerate() {
                        insert
                            .execute(params![
                                sid,
                                res.uri,
                                res.name,
                                res.description,
                                res.mime_type,
                                i64::try_from(i).unwrap_or(i64::MAX),
                            ])
                            .map_err(store_error)?;
                    }
                }
                (DiscoveryStatus::Connected, None)
            }
            DiscoveryOutcome::Failed { status, error } => (*status, Some(error.as_str())),
        };
        let changed = tx
            .execute(
                "UPDATE mcp_servers SET status = ?2, status_error = ?3, last_discovered_at = ?4
                 WHERE id = ?1",
                params![sid, status.as_str(), error, now.to_string()],
            )
            .map_err(store_error)?;
        if changed == 0 {
            return Err(StoreError::not_found("That MCP server"));
        }
        tx.commit().map_err(store_error)
    }

    /// A server's tools, in the server's order.
    pub fn mcp_tools(&self, id: McpServerId) -> Result<Vec<McpTool>, StoreError> {
        self.query_tools(
            &format!("SELECT {TOOL_COLUMNS} FROM mcp_tools WHERE server_id = ?1 ORDER BY position"),
            &[&id.to_string()],
        )
    }

    /// The tools the assistant may call: those of enabled servers whose last
    /// discovery succeeded.
    pub fn mcp_callable_tools(&self) -> Result<Vec<McpTool>, StoreError> {
        self.query_tools(
            &format!(
                "SELECT {TOOL_COLUMNS} FROM mcp_tools t
                 WHERE EXISTS (SELECT 1 FROM mcp_servers s WHERE s.id = t.server_id
                               AND s.enabled = 1 AND s.status = 'connected')
                 ORDER BY server_id, position"
            ),
            &[],
        )
    }

    /// The tool a model called by its key.
    pub fn mcp_tool_by_key(&self, key: &str) -> Result<McpTool, StoreError> {
        self.query_tools(
            &format!("SELECT {TOOL_COLUMNS} FROM mcp_tools WHERE tool_key = ?1"),
            &[&key],
        )?
        .into_iter()
        .next()
        .ok_or_else(|| StoreError::not_found("That MCP tool"))
    }

    fn query_tools(
        &self,
        sql: &str,
        args: &[&dyn rusqlite::ToSql],
    ) -> Result<Vec<McpTool>, StoreError> {
        let conn = self.lock_reader();
        let mut stmt = conn.prepare_cached(sql).map_err(store_error)?;
        let rows = stmt
            .query_map(args, tool_row)
            .and_then(Iterator::collect::<Result<Vec<_>, _>>)
            .map_err(store_error)?;
        rows.into_iter().map(to_tool).collect()
    }

    /// A server's resources, in the server's order.
    pub fn mcp_resources(&self, id: McpServerId) -> Result<Vec<McpResource>, StoreError> {
        let conn = self.lock_reader();
        let mut stmt = conn
            .prepare_cached(
                "SELECT uri, name, description, mime_type FROM mcp_resources
                 WHERE server_id = ?1 ORDER BY position",
            )
            .map_err(store_error)?;
        stmt.query_map([id.to_string()], |r| {
            Ok(McpResource {
                server_id: id,
                uri: r.get(0)?,
                name: r.get(1)?,
                description: r.get(2)?,
                mime_type: r.get(3)?,
            })
        })
        .and_then(Iterator::collect::<Result<Vec<_>, _>>)
        .map_err(store_error)
    }
}
