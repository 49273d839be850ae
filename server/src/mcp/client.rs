//! One live connection to an MCP server, over stdio (a child process) or
//! Streamable HTTP, through rmcp's client. Every request has a deadline;
//! dropping a request's future cancels it (rmcp sends
//! `notifications/cancelled`), and dropping or closing the connection ends
//! a child process (its whole process group) and reaps it.

use std::fmt;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rmcp::model::{
    CallToolRequestParams, ClientCapabilities, ClientConfig, Implementation,
    PaginatedRequestParams, ReadResourceRequestParams,
};
use rmcp::service::{ClientInitializeError, RunningService};
use rmcp::transport::streamable_http_client::{
    StreamableHttpClientTransportConfig, StreamableHttpError,
};
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use rmcp::{RoleClient, ServiceError, ServiceExt};
use serde_json::{Map, Value};
use tokio::io::AsyncReadExt;

use super::error::{McpError, McpErrorKind};
use crate::secret::Secret;

/// The environment a stdio server inherits from TFTSR: enough to find and
/// run a command (`npx`, `uvx`, a venv), nothing else. In particular
/// `TFTSR_DB_KEY` and other secrets of ours never reach a child.
const INHERITED_ENV: &[&str] = &[
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TMPDIR",
    "TZ",
    "SYSTEMROOT",
    "APPDATA",
    "LOCALAPPDATA",
    "USERPROFILE",
    "PATHEXT",
    "COMSPEC",
];

/// How much of a child's stderr is kept, for the error message.
const STDERR_TAIL: usize = 2_000;

/// The most pages of a listing followed (a server that paginates forever
/// must not hang discovery).
const MAX_PAGES: usize = 100;

/// An environment variable for a child, its value decrypted.
#[derive(Clone, Debug)]
pub struct EnvVar {
    pub name: String,
    pub value: Secret,
    pub secret: bool,
}

/// How an HTTP server is authenticated, the secret decrypted.
#[derive(Clone, Debug)]
pub enum HttpAuth {
    None,
    /// `name: value`.
    Header {
        name: String,
        value: Secret,
    },
    /// `Authorization: Bearer value`.
    Bearer(Secret),
}

/// Where and how to reach a server. `Debug` shows no value of `env` or
/// `auth` (they are [`Secret`]s).
#[derive(Clone, Debug)]
pub enum Endpoint {
    Stdio {
        command: String,
        args: Vec<String>,
        env: Vec<EnvVar>,
    },
    Http {
        url: String,
        auth: HttpAuth,
    },
}

impl Endpoint {
    /// The values that must never be shown (scrubbed from stderr quotes).
    fn secret_values(&self) -> Vec<Secret> {
        match self {
            Self::Stdio { env, .. } => env
                .iter()
                .filter(|v| v.secret && !v.value.expose().is_empty())
                .map(|v| v.value.clone())
                .collect(),
            Self::Http { auth, .. } => match auth {
                HttpAuth::None => Vec::new(),
                HttpAuth::Header { value, .. } | HttpAuth::Bearer(value) => vec![value.clone()],
            },
        }
    }
}

/// A tool as listed by the server, before keys are assigned.
#[derive(Clone, Debug, PartialEq)]
pub struct ListedTool {
    pub name: String,
    pub description: String,
    pub input_schema: Value,
    pub output_schema: Option<Value>,
    pub annotations: Value,
}

/// A resource as listed by the server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListedResource {
    pub uri: String,
    pub name: String,
    pub description: String,
    pub mime_type: Option<String>,
}

/// One block of a tool result or a resource's contents.
#[derive(Clone, Debug, PartialEq)]
pub enum ContentPart {
    Text(String),
    /// Binary content (images, audio, blobs): not sent on to models.
    Binary {
        mime_type: String,
        bytes_base64: usize,
    },
    /// Anything else (resource links, embedded resources), as sent.
    Other(Value),
}

/// What a tool call returned (without `isError`: that is an error).
#[derive(Clone, Debug, PartialEq)]
pub struct ToolOutput {
    pub content: Vec<ContentPart>,
    /// The structured result, when the tool gives one.
    pub structured: Option<Value>,
}

impl ToolOutput {
    /// The text of the result: its text blocks, or the structured result
    /// as JSON when there are none.
    pub fn text(&self) -> String {
        let texts: Vec<&str> = self
            .content
            .iter()
            .filter_map(|c| match c {
                ContentPart::Text(t) => Some(t.as_str()),
                _ => None,
            })
            .collect();
        if texts.is_empty()
            && let Some(s) = &self.structured
        {
            return s.to_string();
        }
        texts.join("\n")
    }
}

/// A live connection.
pub struct McpConnection {
    service: RunningService<RoleClient, ClientConfig>,
    pid: Option<u32>,
    stderr: Option<Arc<Mutex<String>>>,
    secrets: Vec<Secret>,
}

impl fmt::Debug for McpConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("McpConnection")
            .field("pid", &self.pid)
            .finish_non_exhaustive()
    }
}

fn client_info() -> ClientConfig {
    ClientConfig::new(
        ClientCapabilities::default(),
        Implementation::new("tftsr", env!("CARGO_PKG_VERSION")),
    )
}

/// The MCP client's HTTP client: rustls with ring (the one TLS stack of
/// the app), no redirects (a token must not follow one to another host),
/// a connection timeout; request deadlines are set per request.
pub fn http_client() -> Result<reqwest::Client, McpError> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .referer(false)
        .user_agent(concat!("tftsr/", env!("CARGO_PKG_VERSION")))
        .tls_backend_rustls()
        .build()
        .map_err(|e| McpError::new(McpErrorKind::Unreachable, format!("HTTP client: {e}")))
}

fn scrub(text: &str, secrets: &[Secret]) -> String {
    let mut out = text.to_owned();
    for s in secrets {
        if !s.expose().is_empty() {
            out = out.replace(s.expose(), "*****");
        }
    }
    out
}

/// [`scrub`] over every string of a JSON value, keys included: what a
/// server answers (a tool that prints its environment, a resource that
/// quotes its configuration) may hold the secrets it was started with,
/// and the answer goes on to the store and to the model.
fn scrub_value(value: &mut Value, secrets: &[Secret]) {
    let holds_secret = |text: &str| {
        secrets
            .iter()
            .any(|s| !s.expose().is_empty() && text.contains(s.expose()))
    };
    match value {
        Value::String(text) if holds_secret(text) => *text = scrub(text, secrets),
        Value::Array(items) => items.iter_mut().for_each(|v| scrub_value(v, secrets)),
        Value::Object(map) => {
            if map.keys().any(|k| holds_secret(k)) {
                *map = std::mem::take(map)
                    .into_iter()
                    .map(|(key, v)| (scrub(&key, secrets), v))
                    .collect();
            }
            map.values_mut().for_each(|v| scrub_value(v, secrets));
        }
        _ => {}
    }
}

impl McpConnection {
    /// Starts or reaches the server and runs the `initialize` handshake,
    /// within `timeout`.
    pub async fn connect(
        endpoint: &Endpoint,
        http: &reqwest::Client,
        timeout: Duration,
    ) -> Result<Self, McpError> {
        let secrets = endpoint.secret_values();
        match endpoint {
            Endpoint::Stdio { command, args, env } => {
                let mut cmd = tokio::process::Command::new(command);
                cmd.args(args).env_clear().kill_on_drop(true);
                for name in INHERITED_ENV {
                    if let Some(value) = std::env::var_os(name) {
                        cmd.env(name, value);
                    }
                }
                for var in env {
                    cmd.env(&var.name, var.value.expose());
                }
                let mut wrapped = process_wrap::tokio::CommandWrap::from(cmd);
                #[cfg(unix)]
                wrapped.wrap(process_wrap::tokio::ProcessGroup::leader());
                wrapped.wrap(process_wrap::tokio::KillOnDrop);
                let (transport, stderr) = TokioChildProcess::builder(wrapped)
                    .stderr(Stdio::piped())
                    .spawn()
                    .map_err(|e| spawn_error(command, &e))?;
                let pid = transport.id();
                let tail = Arc::new(Mutex::new(String::new()));
                if let Some(mut stderr) = stderr {
                    let tail = Arc::clone(&tail);
                    tokio::spawn(async move {
                        let mut buf = [0u8; 1024];
                        while let Ok(n) = stderr.read(&mut buf).await {
                            if n == 0 {
                                break;
                            }
                            if let Ok(mut t) = tail.lock() {
                                t.push_str(&String::from_utf8_lossy(&buf[..n]));
                                if t.len() > STDERR_TAIL * 2 {
                                    let cut = t.len() - STDERR_TAIL;
                                    let cut = (cut..t.len())
                                        .find(|i| t.is_char_boundary(*i))
                                        .unwrap_or(t.len());
                                    t.drain(..cut);
                                }
                            }
                        }
                    });
                }
                let handshake = tokio::time::timeout(timeout, client_info().serve(transport)).await;
                let stderr_text = || {
                    // Give the reader a moment to collect what the child
                    // printed before it died.
                    tail.lock().map(|t| t.clone()).unwrap_or_default()
                };
                match handshake {
                    Ok(Ok(service)) => Ok(Self {
                        service,
                        pid,
                        stderr: Some(tail),
                        secrets,
                    }),
                    Ok(Err(e)) => {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        Err(init_error(&e, Some(&stderr_text()), &secrets))
                    }
                    Err(_) => Err(McpError::new(
                        McpErrorKind::Timeout,
                        format!(
                            "The server did not finish the MCP handshake within {}s.{}",
                            timeout.as_secs(),
                            stderr_suffix(&stderr_text(), &secrets)
                        ),
                    )),
                }
            }
            Endpoint::Http { url, auth } => {
                let mut config = StreamableHttpClientTransportConfig::with_uri(url.as_str());
                match auth {
                    HttpAuth::None => {}
                    HttpAuth::Bearer(token) => {
                        config = config.auth_header(token.expose());
                    }
                    HttpAuth::Header { name, value } => {
                        let name = http::HeaderName::try_from(name.as_str()).map_err(|_| {
                            McpError::new(McpErrorKind::Http, "The API key header name is invalid.")
                        })?;
                        let mut value =
                            http::HeaderValue::try_from(value.expose()).map_err(|_| {
                                McpError::new(
                                    McpErrorKind::Http,
                                    "The API key has invalid characters.",
                                )
                            })?;
                        value.set_sensitive(true);
                        config = config.custom_headers([(name, value)].into_iter().collect());
                    }
                }
                let transport = StreamableHttpClientTransport::with_client(http.clone(), config);
                match tokio::time::timeout(timeout, client_info().serve(transport)).await {
                    Ok(Ok(service)) => Ok(Self {
                        service,
                        pid: None,
                        stderr: None,
                        secrets,
                    }),
                    Ok(Err(e)) => Err(init_error(&e, None, &secrets)),
                    Err(_) => Err(McpError::new(
                        McpErrorKind::Timeout,
                        format!(
                            "The server did not finish the MCP handshake within {}s.",
                            timeout.as_secs()
                        ),
                    )),
                }
            }
        }
    }

    /// The child's process id (stdio only).
    pub fn process_id(&self) -> Option<u32> {
        self.pid
    }

    /// Whether the connection has ended (the child exited, the session
    /// closed).
    pub fn is_closed(&self) -> bool {
        self.service.is_transport_closed()
    }

    /// The server's name and version, as it introduced itself.
    pub fn server_name(&self) -> Option<String> {
        self.service
            .peer_info()
            .and_then(|info| info.server_info.clone())
            .map(|i| format!("{} {}", i.name, i.version))
    }

    /// What a failed request means, with the connection's secrets scrubbed
    /// from anything the server sent.
    fn request_error(&self, e: &ServiceError, timeout: Duration) -> McpError {
        let error = self.describe_request_error(e, timeout);
        McpError::new(error.kind(), scrub(error.message(), &self.secrets))
    }

    fn describe_request_error(&self, e: &ServiceError, timeout: Duration) -> McpError {
        let stderr = self
            .stderr
            .as_ref()
            .and_then(|t| t.lock().ok().map(|t| t.clone()));
        match e {
            ServiceError::McpError(data) => McpError::new(
                McpErrorKind::Rejected,
                format!("The server refused the request: {}", data.message),
            ),
            ServiceError::Timeout { .. } => timeout_error(timeout),
            ServiceError::TransportClosed | ServiceError::TransportSend(_)
                if self.pid.is_some() =>
            {
                McpError::new(
                    McpErrorKind::ProcessExited,
                    format!(
                        "The server process stopped.{}",
                        stderr_suffix(stderr.as_deref().unwrap_or_default(), &self.secrets)
                    ),
                )
            }
            ServiceError::TransportSend(t) => {
                classify_chain(t.error.as_ref()).unwrap_or_else(|| {
                    McpError::new(McpErrorKind::Http, format!("The request failed: {e}"))
                })
            }
            ServiceError::TransportClosed => McpError::new(
                McpErrorKind::Unreachable,
                "The connection to the server closed.",
            ),
            other => McpError::new(McpErrorKind::NotMcp, format!("Unexpected reply: {other}")),
        }
    }

    /// Every tool, following pagination.
    pub async fn list_tools(&self, timeout: Duration) -> Result<Vec<ListedTool>, McpError> {
        let mut out = Vec::new();
        let mut cursor = None;
        for _ in 0..MAX_PAGES {
            let params = cursor.map(|c| PaginatedRequestParams::default().with_cursor(Some(c)));
            let page = tokio::time::timeout(timeout, self.service.list_tools(params))
                .await
                .map_err(|_| timeout_error(timeout))?
                .map_err(|e| self.request_error(&e, timeout))?;
            for tool in &page.tools {
                let v = serde_json::to_value(tool).unwrap_or_default();
                out.push(ListedTool {
                    name: tool.name.to_string(),
                    description: tool.description.as_deref().unwrap_or_default().to_owned(),
                    input_schema: Value::Object((*tool.input_schema).clone()),
                    output_schema: tool
                        .output_schema
                        .as_ref()
                        .map(|s| Value::Object((**s).clone())),
                    annotations: v
                        .get("annotations")
                        .cloned()
                        .unwrap_or_else(|| Value::Object(Map::new())),
                });
            }
            match page.next_cursor {
                Some(next) if !next.is_empty() => cursor = Some(next),
                _ => return Ok(out),
            }
        }
        Ok(out)
    }

    /// Every resource, following pagination. A server without resources
    /// (no capability) has none.
    pub async fn list_resources(&self, timeout: Duration) -> Result<Vec<ListedResource>, McpError> {
        let has_resources = self
            .service
            .peer_info()
            .is_some_and(|info| info.capabilities.resources.is_some());
        if !has_resources {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        let mut cursor = None;
        for _ in 0..MAX_PAGES {
            let params = cursor.map(|c| PaginatedRequestParams::default().with_cursor(Some(c)));
            let page = tokio::time::timeout(timeout, self.service.list_resources(params))
                .await
                .map_err(|_| timeout_error(timeout))?
                .map_err(|e| self.request_error(&e, timeout))?;
            for res in &page.resources {
                let v = serde_json::to_value(res).unwrap_or_default();
                let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
                out.push(ListedResource {
                    uri: text("uri").unwrap_or_default(),
                    name: text("name").unwrap_or_default(),
                    description: text("description").unwrap_or_default(),
                    mime_type: text("mimeType"),
                });
            }
            match page.next_cursor {
                Some(next) if !next.is_empty() => cursor = Some(next),
                _ => return Ok(out),
            }
        }
        Ok(out)
    }

    /// Reads one resource.
    pub async fn read_resource(
        &self,
        uri: &str,
        timeout: Duration,
    ) -> Result<Vec<ContentPart>, McpError> {
        let result = tokio::time::timeout(
            timeout,
            self.service
                .read_resource(ReadResourceRequestParams::new(uri)),
        )
        .await
        .map_err(|_| timeout_error(timeout))?
        .map_err(|e| self.request_error(&e, timeout))?;
        let mut v = serde_json::to_value(&result.contents).unwrap_or_default();
        scrub_value(&mut v, &self.secrets);
        Ok(v.as_array()
            .map(|items| items.iter().map(content_part).collect())
            .unwrap_or_default())
    }

    /// Calls a tool with `arguments`, within `timeout`. A result marked
    /// `isError` is a [`McpErrorKind::ToolError`] carrying the tool's text.
    /// Dropping the returned future cancels the call.
    pub async fn call_tool(
        &self,
        name: &str,
        arguments: Map<String, Value>,
        timeout: Duration,
    ) -> Result<ToolOutput, McpError> {
        let params = CallToolRequestParams::new(name.to_owned()).with_arguments(arguments);
        let result = tokio::time::timeout(timeout, self.service.call_tool(params))
            .await
            .map_err(|_| {
                McpError::new(
                    McpErrorKind::Timeout,
                    format!(
                        "The tool {name} did not answer within {}s; the call was cancelled.",
                        timeout.as_secs()
                    ),
                )
            })?
            .map_err(|e| self.request_error(&e, timeout))?;
        let mut v = serde_json::to_value(&result.content).unwrap_or_default();
        scrub_value(&mut v, &self.secrets);
        let mut structured = result.structured_content.clone();
        if let Some(structured) = &mut structured {
            scrub_value(structured, &self.secrets);
        }
        let output = ToolOutput {
            content: v
                .as_array()
                .map(|items| items.iter().map(content_part).collect())
                .unwrap_or_default(),
            structured,
        };
        if result.is_error == Some(true) {
            let text = output.text();
            let text = if text.is_empty() {
                "no details".to_owned()
            } else {
                text.chars().take(2_000).collect()
            };
            return Err(McpError::new(
                McpErrorKind::ToolError,
                format!("The tool {name} reported an error: {text}"),
            ));
        }
        Ok(output)
    }

    /// Ends the session: closes stdin and waits for a child to exit
    /// (then SIGTERM, then SIGKILL to its process group), or deletes the
    /// HTTP session. Bounded by rmcp's own waits plus `timeout`.
    pub async fn close(mut self, timeout: Duration) {
        if let Err(e) = self.service.close_with_timeout(timeout).await {
            tracing::warn!(error = %e, "MCP connection did not close cleanly");
        }
    }
}

fn content_part(v: &Value) -> ContentPart {
    let text = |k: &str| v.get(k).and_then(Value::as_str);
    if let Some(t) = text("text") {
        return ContentPart::Text(t.to_owned());
    }
    if let Some(data) = text("data").or_else(|| text("blob")) {
        return ContentPart::Binary {
            mime_type: text("mimeType")
                .unwrap_or("application/octet-stream")
                .to_owned(),
            bytes_base64: data.len(),
        };
    }
    ContentPart::Other(v.clone())
}

fn timeout_error(timeout: Duration) -> McpError {
    McpError::new(
        McpErrorKind::Timeout,
        format!(
            "The server did not answer within {}s; the request was cancelled.",
            timeout.as_secs()
        ),
    )
}

fn stderr_suffix(stderr: &str, secrets: &[Secret]) -> String {
    let trimmed = stderr.trim();
    if trimmed.is_empty() {
        return String::new();
    }
    let chars: Vec<char> = trimmed.chars().collect();
    let tail: String = chars[chars.len().saturating_sub(500)..].iter().collect();
    format!(" Its last output: {}", scrub(&tail, secrets))
}

fn spawn_error(command: &str, e: &std::io::Error) -> McpError {
    match e.kind() {
        std::io::ErrorKind::NotFound => McpError::new(
            McpErrorKind::CommandNotFound,
            format!("The command '{command}' was not found; install it or give its full path."),
        ),
        std::io::ErrorKind::PermissionDenied => McpError::new(
            McpErrorKind::CommandNotFound,
            format!("The command '{command}' may not be run (permission denied)."),
        ),
        _ => McpError::new(
            McpErrorKind::CommandNotFound,
            format!("The command '{command}' could not be started: {e}"),
        ),
    }
}

/// Finds the cause of an HTTP transport failure in an error chain.
fn classify_chain(error: &(dyn std::error::Error + 'static)) -> Option<McpError> {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = current {
        if let Some(http) = e.downcast_ref::<StreamableHttpError<reqwest::Error>>() {
            return Some(match http {
                StreamableHttpError::HttpStatus(s) => McpError::new(
                    McpErrorKind::Http,
                    format!("The server answered HTTP {}.", s.status),
                ),
                StreamableHttpError::AuthRequired(_)
                | StreamableHttpError::InsufficientScope(_) => McpError::new(
                    McpErrorKind::Http,
                    "The server refused our credentials (HTTP 401/403); check the key or token.",
                ),
                StreamableHttpError::Client(r) => reqwest_error(r),
                StreamableHttpError::UnexpectedContentType(_)
                | StreamableHttpError::UnexpectedServerResponse(_)
                | StreamableHttpError::Deserialize(_)
                | StreamableHttpError::SessionExpired => McpError::new(
                    McpErrorKind::NotMcp,
                    format!("The URL does not answer as an MCP server ({http})."),
                ),
                other => McpError::new(McpErrorKind::Http, format!("The request failed: {other}.")),
            });
        }
        if let Some(r) = e.downcast_ref::<reqwest::Error>() {
            return Some(reqwest_error(r));
        }
        current = e.source();
    }
    None
}

fn reqwest_error(e: &reqwest::Error) -> McpError {
    if let Some(status) = e.status() {
        return McpError::new(
            McpErrorKind::Http,
            format!("The server answered HTTP {}.", status.as_u16()),
        );
    }
    if e.is_connect() || e.is_timeout() || e.is_request() {
        let mut cause = String::new();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            cause = s.to_string();
            source = s.source();
        }
        return McpError::new(
            McpErrorKind::Unreachable,
            format!(
                "The server could not be reached{}.",
                if cause.is_empty() {
                    String::new()
                } else {
                    format!(" ({cause})")
                }
            ),
        );
    }
    McpError::new(McpErrorKind::Http, format!("The request failed: {e}"))
}

fn init_error(e: &ClientInitializeError, stderr: Option<&str>, secrets: &[Secret]) -> McpError {
    let is_stdio = stderr.is_some();
    let suffix = stderr_suffix(stderr.unwrap_or_default(), secrets);
    match e {
        ClientInitializeError::TransportError { error, .. } => {
            if let Some(found) = classify_chain(error.error.as_ref()) {
                return found;
            }
            if is_stdio {
                McpError::new(
                    McpErrorKind::ProcessExited,
                    format!("The server process stopped before the MCP handshake.{suffix}"),
                )
            } else {
                McpError::new(McpErrorKind::Http, format!("The request failed: {e}"))
            }
        }
        ClientInitializeError::ConnectionClosed(_) | ClientInitializeError::Cancelled => {
            if is_stdio {
                McpError::new(
                    McpErrorKind::ProcessExited,
                    format!("The server process exited before the MCP handshake.{suffix}"),
                )
            } else {
                McpError::new(
                    McpErrorKind::Unreachable,
                    "The server closed the connection.",
                )
            }
        }
        ClientInitializeError::LegacyFallbackFailed { fallback, .. } => {
            init_error(fallback, stderr, secrets)
        }
        ClientInitializeError::NoCompatibleProtocolVersion { .. } => McpError::new(
            McpErrorKind::NotMcp,
            "The server speaks no MCP protocol version TFTSR knows.",
        ),
        other => McpError::new(
            McpErrorKind::NotMcp,
            format!(
                "The server did not answer the MCP handshake properly ({}).{suffix}",
                other.to_string().chars().take(200).collect::<String>()
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_are_scrubbed_from_every_string_of_an_answer() {
        let secrets = [
            Secret::new("tok-4242".to_owned()),
            Secret::new(String::new()),
        ];
        let mut answer = json!({
            "text": "TEST_TOKEN=tok-4242; again tok-4242",
            "items": [1, "tok-4242", {"tok-4242": "as a key", "plain": "kept"}],
            "flag": true,
        });
        scrub_value(&mut answer, &secrets);
        assert_eq!(
            answer,
            json!({
                "text": "TEST_TOKEN=*****; again *****",
                "items": [1, "*****", {"*****": "as a key", "plain": "kept"}],
                "flag": true,
            })
        );
        // Nothing to scrub: the answer is left as it was (an empty secret
        // matches nothing).
        let mut clean = json!({"a": ["b", {"c": "d"}]});
        scrub_value(&mut clean, &secrets);
        assert_eq!(clean, json!({"a": ["b", {"c": "d"}]}));
    }
}
