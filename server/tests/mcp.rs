//! MCP against real MCP servers: a test server built here with rmcp's
//! server side, run over stdio (this very test binary, started again with
//! `TFTSR_MCP_TEST_SERVER=stdio`) and over Streamable HTTP on 127.0.0.1.
//!
//! The harness is our own (`harness = false`) so that the binary can be its
//! own stdio server without libtest writing to stdout. Run one test with
//! `cargo test -p tftsr --test mcp -- NAME`.

mod common;
mod fake_llm;

use std::future::Future;
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::model::{
    CallToolResult, ContentBlock, JsonObject, ListResourcesResult, PaginatedRequestParams,
    ReadResourceRequestParams, ReadResourceResponse, ReadResourceResult, Resource,
    ResourceContents, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt, tool, tool_handler, tool_router};
use serde_json::{Map, Value, json};
use tftsr_core::IssueStore;
use tftsr_core::mcp::{DiscoveryStatus, McpEnvDraft, McpServerDraft, McpServerId};
use tftsr_server::credentials::Credentials;
use tftsr_server::mcp::{ContentPart, McpErrorKind, McpManager, McpTimeouts};

use common::{StepClock, TestDb};

// ---------------------------------------------------------------- server

#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
struct HostQuery {
    /// The host name to look up.
    host: String,
}

#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
struct HostInfo {
    host: String,
    status: String,
    cpu_percent: u32,
}

#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
struct EnvQuery {
    /// Report it as a failed call instead.
    #[serde(default)]
    fail: bool,
}

#[derive(Clone)]
struct TestServer;

#[tool_router]
impl TestServer {
    fn new() -> Self {
        Self
    }

    #[tool(
        description = "Look up a host's health (structured output)",
        annotations(read_only_hint = true)
    )]
    fn host_status(&self, Parameters(q): Parameters<HostQuery>) -> Json<HostInfo> {
        Json(HostInfo {
            status: if q.host == "db-1" { "degraded" } else { "ok" }.to_owned(),
            host: q.host,
            cpu_percent: 93,
        })
    }

    #[tool(description = "Always fails")]
    fn broken(&self) -> Result<CallToolResult, ErrorData> {
        Ok(CallToolResult::error(vec![ContentBlock::text(
            "backend returned 503",
        )]))
    }

    #[tool(description = "Takes a minute")]
    async fn slow(&self) -> Result<CallToolResult, ErrorData> {
        tokio::time::sleep(Duration::from_secs(60)).await;
        Ok(CallToolResult::success(vec![ContentBlock::text("done")]))
    }

    #[tool(
        description = "Who is on call (its answer carries personal data)",
        annotations(read_only_hint = true)
    )]
    fn on_call(&self) -> Result<CallToolResult, ErrorData> {
        Ok(CallToolResult::success(vec![ContentBlock::text(
            "On call: Bob Stone <bob.stone@corp-example.com>, pager +1 415 555 0199, \
             last seen from 198.51.100.23",
        )]))
    }

    #[tool(description = "Makes the server process exit mid-call")]
    fn crash(&self) -> Result<CallToolResult, ErrorData> {
        std::process::exit(7)
    }

    #[tool(description = "Shows the token it was started with, as a careless tool would")]
    fn show_env(&self, Parameters(q): Parameters<EnvQuery>) -> Result<CallToolResult, ErrorData> {
        let token = std::env::var("TEST_TOKEN").unwrap_or_default();
        let text = format!("TEST_TOKEN={token}");
        if q.fail {
            return Ok(CallToolResult::error(vec![ContentBlock::text(format!(
                "cannot use {token}"
            ))]));
        }
        let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
        result.structured_content = Some(json!({ "TEST_TOKEN": token }));
        Ok(result)
    }

    #[tool(description = "Echoes its arguments as JSON")]
    fn echo(&self, Parameters(args): Parameters<JsonObject>) -> Result<CallToolResult, ErrorData> {
        Ok(CallToolResult::success(vec![ContentBlock::text(
            Value::Object(args).to_string(),
        )]))
    }
}

#[tool_handler]
impl ServerHandler for TestServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_resources()
                .build(),
        )
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        let mut runbook = Resource::new("runbook://db-failover", "DB failover runbook");
        runbook.description = Some("How to fail the database over".to_owned());
        runbook.mime_type = Some("text/markdown".to_owned());
        Ok(ListResourcesResult {
            resources: vec![runbook, Resource::new("config://app", "App config")],
            ..Default::default()
        })
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        match request.uri.as_str() {
            "runbook://db-failover" => Ok(ReadResourceResult::new(vec![ResourceContents::text(
                "1. Promote the replica.",
                request.uri.clone(),
            )])
            .into()),
            _ => Err(ErrorData::resource_not_found("no such resource", None)),
        }
    }
}

fn run_stdio_server() -> ExitCode {
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return ExitCode::FAILURE;
    };
    rt.block_on(async {
        let Ok(service) = TestServer::new().serve(rmcp::transport::stdio()).await else {
            return ExitCode::FAILURE;
        };
        let _ = service.waiting().await;
        ExitCode::SUCCESS
    })
}

/// Serves Streamable HTTP on a random 127.0.0.1 port; returns the URL.
async fn start_http_server() -> String {
    use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
    use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};
    let service = StreamableHttpService::new(
        || Ok(TestServer::new()),
        LocalSessionManager::default().into(),
        StreamableHttpServerConfig::default(),
    );
    let router = axum::Router::new().nest_service("/mcp", service);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    format!("http://{addr}/mcp")
}

// ---------------------------------------------------------------- helpers

struct Fixture {
    _db: TestDb,
    manager: Arc<McpManager>,
}

fn fixture() -> Fixture {
    let db = TestDb::new();
    let manager = McpManager::new(
        db.db.clone(),
        Credentials::from_key(&[9u8; 32]),
        StepClock::new(),
        McpTimeouts {
            connect: Duration::from_secs(20),
            request: Duration::from_secs(10),
            tool_call: Duration::from_secs(1),
            close: Duration::from_secs(5),
        },
    )
    .expect("manager");
    Fixture {
        _db: db,
        manager: Arc::new(manager),
    }
}

fn stdio_draft(name: &str, mode: &str) -> McpServerDraft {
    McpServerDraft {
        name: name.into(),
        transport: "stdio".into(),
        command: std::env::current_exe()
            .expect("exe")
            .to_string_lossy()
            .into_owned(),
        env: vec![
            McpEnvDraft {
                name: "TFTSR_MCP_TEST_SERVER".into(),
                value: Some(mode.into()),
                secret: false,
            },
            McpEnvDraft {
                name: "TEST_TOKEN".into(),
                value: Some("tok-very-secret-4242".into()),
                secret: true,
            },
        ],
        enabled: true,
        ..McpServerDraft::default()
    }
}

fn http_draft(url: &str) -> McpServerDraft {
    McpServerDraft {
        name: "Http Test".into(),
        transport: "http".into(),
        url: url.into(),
        auth: "bearer".into(),
        secret: Some("bearer-secret-9876".into()),
        enabled: true,
        ..McpServerDraft::default()
    }
}

fn args(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

fn process_alive(pid: u32) -> bool {
    // A zombie still has a /proc entry; its state is Z.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| !s.contains(") Z "))
        .unwrap_or(false)
}

async fn discovered(f: &Fixture, draft: &McpServerDraft) -> McpServerId {
    let saved = f.manager.save(None, draft).await.expect("saved");
    assert_eq!(saved.status, DiscoveryStatus::Pending);
    let after = f.manager.discover(saved.id).await.expect("discovered");
    assert_eq!(
        after.status,
        DiscoveryStatus::Connected,
        "{:?}",
        after.status_error
    );
    saved.id
}

/// Discovery fills the tables; each kind of call behaves.
async fn exercise(f: &Fixture, id: McpServerId, prefix: &str) {
    let server = f.manager.server(id).await.expect("server");
    assert_eq!(server.tool_count, 7);
    assert_eq!(server.resource_count, 2);
    assert!(server.last_discovered_at.is_some());
    let tools = f.manager.tools(id).await.expect("tools");
    let mut keys: Vec<&str> = tools.iter().map(|t| t.key.as_str()).collect();
    keys.sort_unstable();
    let expected: Vec<String> = [
        "broken",
        "crash",
        "echo",
        "host_status",
        "on_call",
        "show_env",
        "slow",
    ]
    .iter()
    .map(|n| format!("{prefix}__{n}"))
    .collect();
    assert_eq!(keys, expected);
    let host = tools
        .iter()
        .find(|t| t.name == "host_status")
        .expect("host_status");
    assert!(!host.needs_confirmation(), "annotated read-only");
    assert!(host.output_schema.is_some(), "declares its output schema");
    assert_eq!(host.input_schema["required"], json!(["host"]));
    let echo = tools.iter().find(|t| t.name == "echo").expect("echo");
    assert!(echo.needs_confirmation());

    let resources = f.manager.resources(id).await.expect("resources");
    assert_eq!(resources[0].uri, "runbook://db-failover");
    assert_eq!(resources[0].mime_type.as_deref(), Some("text/markdown"));
    assert_eq!(resources[0].description, "How to fail the database over");

    // Structured output.
    let out = f
        .manager
        .call_tool(host, args(json!({"host": "db-1"})))
        .await
        .expect("host_status");
    assert_eq!(
        out.structured,
        Some(json!({"host": "db-1", "status": "degraded", "cpu_percent": 93}))
    );
    // Echo returns exactly the arguments sent.
    let out = f
        .manager
        .call_tool(echo, args(json!({"user": "alice@example.com", "n": 3})))
        .await
        .expect("echo");
    let echoed: Value = serde_json::from_str(&out.text()).expect("json text");
    assert_eq!(echoed, json!({"user": "alice@example.com", "n": 3}));
    // isError is an error with the tool's text.
    let broken = tools.iter().find(|t| t.name == "broken").expect("broken");
    let err = f
        .manager
        .call_tool(broken, Map::new())
        .await
        .expect_err("isError");
    assert_eq!(err.kind(), McpErrorKind::ToolError);
    assert!(err.message().contains("backend returned 503"), "{err}");
    // Resources.
    let parts = f
        .manager
        .read_resource(id, "runbook://db-failover")
        .await
        .expect("read");
    assert_eq!(
        parts,
        [ContentPart::Text("1. Promote the replica.".to_owned())]
    );
    let err = f
        .manager
        .read_resource(id, "nope://x")
        .await
        .expect_err("unknown");
    assert_eq!(err.kind(), McpErrorKind::Rejected);
    // The slow tool times out, clearly, without hanging.
    let slow = tools.iter().find(|t| t.name == "slow").expect("slow");
    let started = std::time::Instant::now();
    let err = f
        .manager
        .call_tool(slow, Map::new())
        .await
        .expect_err("timeout");
    assert_eq!(err.kind(), McpErrorKind::Timeout);
    assert!(err.message().contains("did not answer within 1s"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(5));
    // ... and the connection still serves the next call.
    f.manager
        .call_tool(host, args(json!({"host": "web-1"})))
        .await
        .expect("still usable");
}

// ---------------------------------------------------------------- tests

async fn stdio_discovery_and_calls() {
    let f = fixture();
    let id = discovered(&f, &stdio_draft("Stdio Test", "stdio")).await;
    exercise(&f, id, "stdio_test").await;
    let pid = f.manager.process_id(id).await.expect("a child process");
    assert!(process_alive(pid));
    // Disabling ends the process and reaps it.
    f.manager.set_enabled(id, false).await.expect("disable");
    assert!(!process_alive(pid), "process {pid} left running");
    assert!(f.manager.process_id(id).await.is_none());
    let tools = f.manager.tools(id).await.expect("tools");
    let err = f
        .manager
        .call_tool(&tools[0], Map::new())
        .await
        .expect_err("disabled");
    assert_eq!(err.kind(), McpErrorKind::NotAvailable);
    assert!(f.manager.callable_tools().await.expect("tools").is_empty());
}

/// A server's answers, failures included, never carry the secrets it was
/// started with: they go on to the store and to the model.
async fn secrets_never_come_back_in_answers() {
    let f = fixture();
    let id = discovered(&f, &stdio_draft("Env Test", "stdio")).await;
    let tools = f.manager.tools(id).await.expect("tools");
    let show_env = tools
        .iter()
        .find(|t| t.name == "show_env")
        .expect("show_env");
    let out = f
        .manager
        .call_tool(show_env, Map::new())
        .await
        .expect("show_env");
    assert_eq!(out.text(), "TEST_TOKEN=*****");
    assert_eq!(out.structured, Some(json!({"TEST_TOKEN": "*****"})));
    let err = f
        .manager
        .call_tool(show_env, args(json!({"fail": true})))
        .await
        .expect_err("isError");
    assert_eq!(err.kind(), McpErrorKind::ToolError);
    assert!(err.message().contains("cannot use *****"), "{err}");
    assert!(!err.message().contains("tok-very-secret"), "{err}");
    f.manager.shutdown().await;
}

async fn http_discovery_and_calls() {
    let f = fixture();
    let url = start_http_server().await;
    let id = discovered(&f, &http_draft(&url)).await;
    exercise(&f, id, "http_test").await;
    assert_eq!(f.manager.callable_tools().await.expect("tools").len(), 7);
    // What the server sends back is scrubbed of the token it was given.
    let echo = f
        .manager
        .tool_by_key("http_test__echo")
        .await
        .expect("by key");
    let out = f
        .manager
        .call_tool(&echo, args(json!({"note": "seen bearer-secret-9876"})))
        .await
        .expect("echo");
    assert_eq!(out.text(), r#"{"note":"seen *****"}"#);
    let tool = f
        .manager
        .tool_by_key("http_test__echo")
        .await
        .expect("by key");
    assert_eq!(tool.name, "echo");
    f.manager.shutdown().await;
}

async fn dropping_a_call_does_not_hang_or_kill_the_server() {
    let f = fixture();
    let id = discovered(&f, &stdio_draft("Drop Test", "stdio")).await;
    let tools = f.manager.tools(id).await.expect("tools");
    let slow = tools.iter().find(|t| t.name == "slow").expect("slow");
    let call = f.manager.call_tool(slow, Map::new());
    assert!(
        tokio::time::timeout(Duration::from_millis(200), call)
            .await
            .is_err()
    );
    let echo = tools.iter().find(|t| t.name == "echo").expect("echo");
    f.manager
        .call_tool(echo, args(json!({"a": 1})))
        .await
        .expect("echo after a dropped call");
    let pid = f.manager.process_id(id).await.expect("pid");
    f.manager.delete(id).await.expect("delete");
    assert!(!process_alive(pid));
}

async fn a_command_that_exits_gives_an_error_with_its_output() {
    let f = fixture();
    let saved = f
        .manager
        .save(None, &stdio_draft("Exits", "exit"))
        .await
        .expect("saved");
    let after = f.manager.discover(saved.id).await.expect("recorded");
    assert_eq!(after.status, DiscoveryStatus::Error);
    let text = after.status_error.expect("error text");
    assert!(
        text.contains("exited") || text.contains("stopped"),
        "{text}"
    );
    assert!(text.contains("missing config"), "quotes stderr: {text}");
    assert!(
        !text.contains("tok-very-secret-4242"),
        "secret scrubbed: {text}"
    );
    assert!(text.contains("*****"), "{text}");
}

async fn a_missing_command_is_unreachable() {
    let f = fixture();
    let mut draft = stdio_draft("Missing", "stdio");
    draft.command = "/nonexistent/mcp-server".into();
    let saved = f.manager.save(None, &draft).await.expect("saved");
    let after = f.manager.discover(saved.id).await.expect("recorded");
    assert_eq!(after.status, DiscoveryStatus::Unreachable);
    assert!(
        after
            .status_error
            .as_deref()
            .is_some_and(|t| t.contains("was not found")),
        "{:?}",
        after.status_error
    );
}

async fn a_closed_port_is_unreachable() {
    let f = fixture();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    let saved = f
        .manager
        .save(None, &http_draft(&format!("http://127.0.0.1:{port}/mcp")))
        .await
        .expect("saved");
    let after = f.manager.discover(saved.id).await.expect("recorded");
    assert_eq!(
        after.status,
        DiscoveryStatus::Unreachable,
        "{:?}",
        after.status_error
    );
    assert!(
        !after
            .status_error
            .unwrap_or_default()
            .contains("bearer-secret")
    );
}

async fn a_non_mcp_http_endpoint_is_an_error() {
    let f = fixture();
    let router = axum::Router::new().fallback(|| async { (http::StatusCode::NOT_FOUND, "nope") });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    let saved = f
        .manager
        .save(None, &http_draft(&format!("http://{addr}/mcp")))
        .await
        .expect("saved");
    let after = f.manager.discover(saved.id).await.expect("recorded");
    assert_eq!(
        after.status,
        DiscoveryStatus::Error,
        "{:?}",
        after.status_error
    );
    assert!(after.status_error.is_some());
}

async fn secrets_are_encrypted_and_never_returned() {
    let f = fixture();
    let saved = f
        .manager
        .save(None, &http_draft("http://127.0.0.1:9/mcp"))
        .await
        .expect("saved");
    assert_eq!(saved.secret_hint.as_deref(), Some("9876"));
    let shown = format!("{saved:?}");
    assert!(!shown.contains("bearer-secret"), "{shown}");
    let stdio = f
        .manager
        .save(None, &stdio_draft("Env", "stdio"))
        .await
        .expect("saved");
    let token = stdio
        .env
        .iter()
        .find(|e| e.name == "TEST_TOKEN")
        .expect("var");
    assert_eq!(token.value, None);
    assert_eq!(token.hint.as_deref(), Some("4242"));
    let plain = stdio
        .env
        .iter()
        .find(|e| e.name == "TFTSR_MCP_TEST_SERVER")
        .expect("var");
    assert_eq!(plain.value.as_deref(), Some("stdio"));
    // Keeping a stored secret: the edit sends no value.
    let mut edit = stdio_draft("Env", "stdio");
    edit.env[1].value = None;
    let again = f
        .manager
        .save(Some(stdio.id), &edit)
        .await
        .expect("kept secret");
    assert_eq!(again.env[1].hint.as_deref(), Some("4242"));
    // The secret still reaches the child: discovery works with it.
    let after = f.manager.discover(stdio.id).await.expect("discover");
    assert_eq!(after.status, DiscoveryStatus::Connected);
    f.manager.shutdown().await;
    // A second server whose name sanitises the same is refused.
    let err = f
        .manager
        .save(None, &stdio_draft("env!", "stdio"))
        .await
        .expect_err("conflict");
    assert!(matches!(err, tftsr_server::mcp::SaveError::Invalid(ref e) if e[0].0 == "name"));
}

async fn startup_discovery_runs_in_the_background() {
    let f = fixture();
    let saved = f
        .manager
        .save(None, &stdio_draft("Boot", "stdio"))
        .await
        .expect("saved");
    let handle = f.manager.spawn_startup_discovery();
    // Returned at once; the discovery finishes later.
    handle.await.expect("joined");
    let after = f.manager.server(saved.id).await.expect("server");
    assert_eq!(after.status, DiscoveryStatus::Connected);
    f.manager.shutdown().await;
}

// ------------------------------------------------------ triage with MCP

/// One OpenAI-style streamed reply asking for tools.
fn tool_calls_reply(calls: &[(&str, &str, Value)]) -> fake_llm::Reply {
    let parts: Vec<Value> = calls
        .iter()
        .enumerate()
        .map(|(i, (id, name, args))| {
            json!({"index": i, "id": id, "type": "function",
                   "function": {"name": name, "arguments": args.to_string()}})
        })
        .collect();
    let first = json!({"choices": [{"index": 0, "delta": {"role": "assistant", "content": null,
                        "tool_calls": parts}, "finish_reason": null}]});
    let last = json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}],
                      "usage": {"prompt_tokens": 100, "completion_tokens": 10}});
    fake_llm::Reply::sse(&[
        &format!("data: {first}\n\n"),
        &format!("data: {last}\n\ndata: [DONE]\n\n"),
    ])
}

fn text_reply(text: &str) -> fake_llm::Reply {
    let chunk = json!({"choices": [{"index": 0, "delta": {"role": "assistant", "content": text},
                        "finish_reason": null}]});
    let last = json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]});
    fake_llm::Reply::sse(&[
        &format!("data: {chunk}\n\n"),
        &format!("data: {last}\n\ndata: [DONE]\n\n"),
    ])
}

/// A web harness with the test MCP server (stdio) discovered as "Ops" and
/// an OpenAI-compatible provider at `fake` as the default.
async fn triage_with_mcp(fake: &fake_llm::FakeServer) -> (common::web::Harness, McpServerId) {
    let h = common::web::harness();
    let mcp = h.services.mcp.clone();
    let saved = mcp
        .save(None, stdio_draft("Ops", "stdio"))
        .await
        .expect("saved");
    let found = mcp.discover(saved.id).await.expect("discovered");
    assert_eq!(
        found.status,
        DiscoveryStatus::Connected,
        "{:?}",
        found.status_error
    );
    let triage = h.services.triage.clone();
    let url = fake.url("/v1");
    let provider = tokio::task::spawn_blocking(move || {
        let p = triage.save_provider(
            None,
            tftsr_core::ai::ProviderDraft {
                name: "Fake GPT".into(),
                kind: "openai".into(),
                base_url: url,
                model: "gpt-test".into(),
                api_key: Some("sk-fake-1234".into()),
                context_tokens: "32000".into(),
            },
        )?;
        triage.make_default(p.id)?;
        Ok::<_, tftsr_app::AppError>(p)
    })
    .await
    .expect("join")
    .expect("provider");
    assert!(provider.is_default || provider.id.to_string().len() == 36);
    (h, saved.id)
}

/// Waits (bounded) until a call of the issue other than `except` awaits
/// confirmation; returns it.
async fn awaiting_other(h: &common::web::Harness, except: &str) -> tftsr_core::mcp::McpCall {
    for _ in 0..200 {
        let view = h.services.triage.view(h.issue).expect("view");
        if let Some(c) = view.calls.iter().find(|c| {
            c.status == tftsr_core::mcp::McpCallStatus::AwaitingConfirmation && c.id != except
        }) {
            return c.clone();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no call awaited confirmation");
}

async fn awaiting(h: &common::web::Harness) -> tftsr_core::mcp::McpCall {
    awaiting_other(h, "").await
}

async fn idle(h: &common::web::Harness) {
    for _ in 0..400 {
        if h.services
            .triage
            .view(h.issue)
            .expect("view")
            .pending
            .is_none()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the reply never finished");
}

async fn the_assistant_calls_tools_safely() {
    use tftsr_core::mcp::{McpCallOrigin, McpCallStatus};
    let fake = fake_llm::FakeServer::start(vec![
        // Round 1: a read-only tool, one whose result carries personal data,
        // and one whose arguments do (the gate stops it).
        tool_calls_reply(&[
            // The model knows hosts by their placeholders: `"host": "db-1"`
            // is a keyed host name, which the gate would stop.
            (
                "call_0",
                "ops__host_status",
                json!({"host": "[HOSTNAME_1]"}),
            ),
            ("call_1", "ops__on_call", json!({})),
            (
                "call_2",
                "ops__echo",
                json!({"note": "mail alice.doe@example.com"}),
            ),
        ]),
        // Round 2: a tool that is not read-only: confirmed.
        tool_calls_reply(&[("call_0", "ops__echo", json!({"note": "restart db-1"}))]),
        // Round 3: again: declined.
        tool_calls_reply(&[("call_0", "ops__echo", json!({"note": "drop the cache"}))]),
        text_reply("[HOSTNAME_1] is busy; the on-call engineer [EMAIL_1] was paged."),
    ])
    .await;
    let (h, _) = triage_with_mcp(&fake).await;
    let triage = h.services.triage.clone();
    let issue = h.issue;
    tokio::task::spawn_blocking(move || triage.send(issue, "Why is the API slow?".into(), None))
        .await
        .expect("join")
        .expect("send");
    // The send's wait ends when a call needs the engineer.
    h.services.triage.wait_idle(h.issue).await;
    let first = awaiting(&h).await;
    assert_eq!(first.target, "echo");
    assert!(first.arguments.contains("restart db-1"));
    h.services
        .mcp
        .decide(h.issue, first.id.clone(), true)
        .expect("confirmed");
    let second = awaiting_other(&h, &first.id).await;
    h.services
        .mcp
        .decide(h.issue, second.id.clone(), false)
        .expect("declined");
    // Answering twice is refused.
    let again = h.services.mcp.decide(h.issue, second.id.clone(), true);
    assert!(
        matches!(again, Err(tftsr_app::AppError::Conflict(_))),
        "{again:?}"
    );
    idle(&h).await;

    // What the model was sent.
    let requests = fake.requests();
    assert_eq!(requests.len(), 4);
    let tools = requests[0].body()["tools"]
        .as_array()
        .expect("tools offered")
        .clone();
    let names: Vec<&str> = tools
        .iter()
        .filter_map(|t| t["function"]["name"].as_str())
        .collect();
    assert!(
        names.contains(&"ops__host_status") && names.contains(&"ops__on_call"),
        "{names:?}"
    );
    let host = tools
        .iter()
        .find(|t| t["function"]["name"] == "ops__host_status")
        .expect("host_status");
    assert_eq!(host["function"]["parameters"]["required"], json!(["host"]));
    assert!(
        requests[0].body()["messages"][0]["content"]
            .as_str()
            .is_some_and(|s| s.contains("You can call the tools offered"))
    );
    // Round 2 carries the three results, in order, answering the ids.
    let messages = requests[1].body()["messages"]
        .as_array()
        .expect("messages")
        .clone();
    let results: Vec<&Value> = messages.iter().filter(|m| m["role"] == "tool").collect();
    assert_eq!(results.len(), 3);
    let ids: Vec<&str> = results
        .iter()
        .filter_map(|m| m["tool_call_id"].as_str())
        .collect();
    assert_eq!(ids, ["call_0", "call_1", "call_2"]);
    let text = |m: &Value| m["content"].as_str().unwrap_or_default().to_owned();
    assert!(
        text(results[0]).contains("\"cpu_percent\":93"),
        "{}",
        text(results[0])
    );
    let on_call = text(results[1]);
    assert!(
        on_call.contains("[EMAIL_") && on_call.contains("[IPV4_"),
        "{on_call}"
    );
    assert!(!on_call.contains("bob.stone") && !on_call.contains("198.51.100.23"));
    assert!(
        text(results[2]).starts_with("The tool call failed: Not sent"),
        "{}",
        text(results[2])
    );
    assert!(text(results[2]).contains("EMAIL") && !text(results[2]).contains("alice"));
    let all = serde_json::to_string(
        &requests
            .iter()
            .map(|r| r.body().clone())
            .collect::<Vec<_>>(),
    )
    .expect("json");
    assert!(!all.contains("bob.stone@corp-example.com") && !all.contains("198.51.100.23"));
    // The last round offers no tools... only when the limit is reached;
    // here round 4 still offers them and the model answers in text.
    let last = requests[3].body()["messages"]
        .as_array()
        .expect("messages")
        .clone();
    let declined = last
        .iter()
        .rev()
        .find(|m| m["role"] == "tool")
        .expect("declined result");
    assert!(
        text(declined).starts_with("The engineer declined"),
        "{}",
        text(declined)
    );

    // What was recorded.
    let view = h.services.triage.view(h.issue).expect("view");
    let by_status = |s: McpCallStatus| view.calls.iter().filter(|c| c.status == s).count();
    assert_eq!(view.calls.len(), 5);
    assert_eq!(by_status(McpCallStatus::Done), 3);
    assert_eq!(by_status(McpCallStatus::Failed), 1);
    assert_eq!(by_status(McpCallStatus::Declined), 1);
    assert!(view.calls.iter().all(|c| c.origin == McpCallOrigin::Model));
    let redacted = view
        .calls
        .iter()
        .find(|c| c.target == "on_call")
        .expect("on_call");
    assert!(redacted.redacted >= 3, "{redacted:?}");
    // Shown: the assistant messages carry their calls; no tool messages.
    assert!(
        view.messages
            .iter()
            .all(|m| m.role != tftsr_core::ai::Role::Tool)
    );
    let shown: usize = view.messages.iter().map(|m| m.calls.len()).sum();
    assert_eq!(shown, 5);
    let final_reply = view.messages.last().expect("reply");
    assert!(
        final_reply.content.contains("[HOSTNAME_1] is busy"),
        "{}",
        final_reply.content
    );

    // Audit before each call that ran, none for the blocked or declined.
    let audit = h.t.db.recent_audit(100).expect("audit");
    let called: Vec<_> = audit
        .iter()
        .filter(|a| a.action == "mcp_tool_called")
        .collect();
    assert_eq!(called.len(), 3);
    assert!(
        called
            .iter()
            .all(|a| a.details["arguments_sha256"].as_str().map(str::len) == Some(64))
    );
    assert_eq!(audit.iter().filter(|a| a.action == "ai_send").count(), 4);
    let audit_text = serde_json::to_string(&audit).expect("json");
    assert!(!audit_text.contains("restart db-1") && !audit_text.contains("sk-fake-1234"));
    let events = h.t.db.timeline(h.issue).expect("timeline");
    assert_eq!(
        events
            .iter()
            .filter(|e| e.event_type == "mcp_tool_called")
            .count(),
        3
    );
    h.services.mcp.servers().await.expect("servers");
}

async fn a_server_dying_mid_call_is_a_clear_error_not_a_hang() {
    let fake = fake_llm::FakeServer::start(vec![
        tool_calls_reply(&[("call_0", "ops__crash", json!({}))]),
        text_reply("The tool failed; I'll reason from the logs."),
    ])
    .await;
    let (h, _) = triage_with_mcp(&fake).await;
    // Not read-only: confirm, then the process exits mid-call.
    let triage = h.services.triage.clone();
    let issue = h.issue;
    tokio::task::spawn_blocking(move || triage.send(issue, "go".into(), None))
        .await
        .expect("join")
        .expect("send");
    let call = awaiting(&h).await;
    h.services
        .mcp
        .decide(h.issue, call.id.clone(), true)
        .expect("confirm");
    idle(&h).await;
    let view = h.services.triage.view(h.issue).expect("view");
    let crashed = view.calls.iter().find(|c| c.id == call.id).expect("call");
    assert_eq!(
        crashed.status,
        tftsr_core::mcp::McpCallStatus::Failed,
        "{crashed:?}"
    );
    let error = crashed.error.clone().unwrap_or_default();
    assert!(
        !error.is_empty() && !error.contains("tok-very-secret"),
        "{error}"
    );
    let told = fake.requests()[1].body()["messages"]
        .as_array()
        .and_then(|m| m.iter().find(|m| m["role"] == "tool").cloned())
        .expect("tool result");
    assert!(
        told["content"]
            .as_str()
            .is_some_and(|c| c.starts_with("The tool call failed:"))
    );
    assert!(
        view.messages
            .last()
            .is_some_and(|m| m.content.contains("reason from the logs"))
    );
    // The server is started again for the next call.
    let again = h
        .services
        .mcp
        .run_tool(
            h.issue,
            "ops__host_status".into(),
            vec![("host".into(), "[HOSTNAME_1]".into())],
        )
        .await
        .expect("ran");
    assert_eq!(
        again.status,
        tftsr_core::mcp::McpCallStatus::Done,
        "{again:?}"
    );
}

async fn tools_and_resources_by_hand() {
    use tftsr_core::mcp::McpCallStatus;
    let fake = fake_llm::FakeServer::start(vec![]).await;
    let (h, server) = triage_with_mcp(&fake).await;
    let mcp = h.services.mcp.clone();
    let toolbox = mcp.toolbox().await.expect("toolbox");
    assert_eq!(toolbox.len(), 1);
    assert_eq!(toolbox[0].tools.len(), 7);

    // A missing required field is a field error; nothing is called.
    let err = mcp
        .run_tool(h.issue, "ops__host_status".into(), vec![])
        .await
        .expect_err("invalid");
    assert!(err.field("host").is_some(), "{err:?}");
    // By hand, a tool that is not read-only runs without asking.
    let echo = mcp
        .run_tool(h.issue, "ops__echo".into(), vec![])
        .await
        .expect("echo");
    assert_eq!(echo.status, McpCallStatus::Done, "{echo:?}");
    // Unreviewed personal data typed into a field is not sent.
    let typed = fake_llm_free_form(&h).await;
    assert_eq!(typed.status, McpCallStatus::Failed);
    assert!(
        typed
            .error
            .as_deref()
            .is_some_and(|e| e.contains("Not sent"))
    );
    // Results are redacted; the evidence text carries the placeholders.
    let on_call = mcp
        .run_tool(h.issue, "ops__on_call".into(), vec![])
        .await
        .expect("on_call");
    let result = on_call.result.clone().expect("result");
    assert!(
        result.contains("[EMAIL_") && !result.contains("bob.stone"),
        "{result}"
    );
    let evidence = mcp.evidence(h.issue, on_call.id.clone()).expect("evidence");
    assert!(
        evidence.contains("the MCP tool `on_call` on the server “Ops”")
            && evidence.contains(&result)
    );
    // A failed call cannot be attached; another issue's call is not found.
    assert!(matches!(
        mcp.evidence(h.issue, typed.id.clone()),
        Err(tftsr_app::AppError::Conflict(_))
    ));
    let other =
        h.t.tracker
            .create(&common::draft("Other", "low", "linux"))
            .expect("issue")
            .id;
    assert!(matches!(
        mcp.evidence(other, on_call.id.clone()),
        Err(tftsr_app::AppError::NotFound(_))
    ));
    // A tool error is recorded as such.
    let broken = mcp
        .run_tool(h.issue, "ops__broken".into(), vec![])
        .await
        .expect("broken");
    assert_eq!(broken.status, McpCallStatus::ToolError);
    assert!(
        broken
            .error
            .as_deref()
            .is_some_and(|e| e.contains("backend returned 503"))
    );

    // Resources: read and redacted; unknown ones refused.
    let read = mcp
        .read_resource(h.issue, server, "runbook://db-failover".into())
        .await
        .expect("read");
    assert_eq!(read.status, McpCallStatus::Done);
    assert_eq!(read.result.as_deref(), Some("1. Promote the replica."));
    let unknown = mcp
        .read_resource(h.issue, server, "file:///etc/passwd".into())
        .await
        .expect_err("unknown");
    assert!(matches!(unknown, tftsr_app::AppError::NotFound(_)));
    let audit = h.t.db.recent_audit(100).expect("audit");
    assert_eq!(
        audit
            .iter()
            .filter(|a| a.action == "mcp_resource_read")
            .count(),
        1
    );
    assert_eq!(
        audit
            .iter()
            .filter(|a| a.action == "mcp_tool_called")
            .count(),
        3
    );
    let events = h.t.db.timeline(h.issue).expect("timeline");
    assert_eq!(
        events
            .iter()
            .filter(|e| e.event_type == "mcp_resource_read")
            .count(),
        1
    );
    // Nothing is waiting: deciding is refused.
    assert!(mcp.decide(h.issue, on_call.id.clone(), true).is_err());
}

/// Runs `echo` with an e-mail address typed into a JSON field.
async fn fake_llm_free_form(h: &common::web::Harness) -> tftsr_core::mcp::McpCall {
    // `echo` takes any object; its form has no fields, so call the runner
    // through a schema-less tool: the engine's gate is what is under test.
    h.services
        .mcp
        .run_tool(
            h.issue,
            "ops__host_status".into(),
            vec![("host".into(), "carol@example.org".into())],
        )
        .await
        .expect("call recorded")
}

/// The reference server `@modelcontextprotocol/server-everything` from npm
/// (installed by `.ci/setup` into end2end/node_modules), over stdio.
async fn the_reference_server_everything_works() {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../end2end/node_modules/@modelcontextprotocol/server-everything/dist/index.js");
    if !script.exists() {
        // .ci/run installs it first; a bare `cargo test` may not have.
        println!(
            "  (skipped: {} is not installed; run .ci/setup)",
            script.display()
        );
        return;
    }
    let f = fixture();
    let draft = McpServerDraft {
        name: "Everything".into(),
        transport: "stdio".into(),
        command: "node".into(),
        args: vec![script.to_string_lossy().into_owned()],
        env: vec![McpEnvDraft {
            name: "PAGER_CONTACT".into(),
            value: Some("pager@corp-example.com".into()),
            secret: false,
        }],
        enabled: true,
        ..McpServerDraft::default()
    };
    let id = discovered(&f, &draft).await;
    let tools = f.manager.tools(id).await.expect("tools");
    let sum = tools.iter().find(|t| t.name == "get-sum").expect("get-sum");
    assert_eq!(sum.key, "everything__get-sum");
    assert!(!sum.needs_confirmation(), "annotated read-only");
    let out = f
        .manager
        .call_tool(sum, args(json!({"a": 2, "b": 40})))
        .await
        .expect("get-sum");
    assert!(out.text().contains("42"), "{}", out.text());
    let toggle = tools
        .iter()
        .find(|t| t.name == "toggle-simulated-logging")
        .expect("toggle");
    assert!(toggle.needs_confirmation(), "readOnlyHint false");
    let env = tools.iter().find(|t| t.name == "get-env").expect("get-env");
    let out = f.manager.call_tool(env, Map::new()).await.expect("get-env");
    // Only what was configured reaches the child (plus PATH and HOME).
    assert!(out.text().contains("pager@corp-example.com"));
    // cargo runs tests with CARGO_PKG_NAME set; the child must not see it.
    assert!(std::env::var("CARGO_PKG_NAME").is_ok());
    assert!(!out.text().contains("CARGO_PKG_NAME"), "{}", out.text());
    let resources = f.manager.resources(id).await.expect("resources");
    assert!(!resources.is_empty());
    let parts = f
        .manager
        .read_resource(id, &resources[0].uri)
        .await
        .expect("read");
    assert!(!parts.is_empty());
    // Invalid arguments are the server's refusal, in words.
    let err = f
        .manager
        .call_tool(sum, args(json!({"a": "two"})))
        .await
        .expect_err("invalid");
    assert!(!err.message().is_empty());
    f.manager.shutdown().await;
}

// ---------------------------------------------------------------- harness

type Test = fn() -> Pin<Box<dyn Future<Output = ()>>>;

macro_rules! tests {
    ($($name:ident),* $(,)?) => {
        &[$((stringify!($name), (|| Box::pin($name()) as Pin<Box<dyn Future<Output = ()>>>) as Test)),*]
    };
}

fn main() -> ExitCode {
    match std::env::var("TFTSR_MCP_TEST_SERVER").as_deref() {
        Ok("stdio") => return run_stdio_server(),
        Ok("exit") => {
            let token = std::env::var("TEST_TOKEN").unwrap_or_default();
            eprintln!("fatal: missing config (token {token})");
            return ExitCode::from(3);
        }
        _ => {}
    }
    let all: &[(&str, Test)] = tests![
        stdio_discovery_and_calls,
        secrets_never_come_back_in_answers,
        http_discovery_and_calls,
        dropping_a_call_does_not_hang_or_kill_the_server,
        a_command_that_exits_gives_an_error_with_its_output,
        a_missing_command_is_unreachable,
        a_closed_port_is_unreachable,
        a_non_mcp_http_endpoint_is_an_error,
        secrets_are_encrypted_and_never_returned,
        startup_discovery_runs_in_the_background,
        the_assistant_calls_tools_safely,
        a_server_dying_mid_call_is_a_clear_error_not_a_hang,
        tools_and_resources_by_hand,
        the_reference_server_everything_works,
    ];
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let Ok(rt) = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    else {
        return ExitCode::FAILURE;
    };
    let (mut passed, mut failed) = (0, 0);
    for (name, test) in all {
        if !filter.is_empty() && !filter.iter().any(|f| name.contains(f.as_str())) {
            continue;
        }
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| rt.block_on(test())));
        match result {
            Ok(()) => {
                println!("test {name} ... ok");
                passed += 1;
            }
            Err(_) => {
                println!("test {name} ... FAILED");
                failed += 1;
            }
        }
    }
    println!("\n{passed} passed, {failed} failed");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
