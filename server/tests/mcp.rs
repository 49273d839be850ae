//! MCP against real MCP servers: a test server built here with rmcp's
//! server side, run over stdio (this very test binary, started again with
//! `TFTSR_MCP_TEST_SERVER=stdio`) and over Streamable HTTP on 127.0.0.1.
//!
//! The harness is our own (`harness = false`) so that the binary can be its
//! own stdio server without libtest writing to stdout. Run one test with
//! `cargo test -p tftsr --test mcp -- NAME`.

mod common;

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
    assert_eq!(server.tool_count, 4);
    assert_eq!(server.resource_count, 2);
    assert!(server.last_discovered_at.is_some());
    let tools = f.manager.tools(id).await.expect("tools");
    let mut keys: Vec<&str> = tools.iter().map(|t| t.key.as_str()).collect();
    keys.sort_unstable();
    let expected: Vec<String> = ["broken", "echo", "host_status", "slow"]
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

async fn http_discovery_and_calls() {
    let f = fixture();
    let url = start_http_server().await;
    let id = discovered(&f, &http_draft(&url)).await;
    exercise(&f, id, "http_test").await;
    assert_eq!(f.manager.callable_tools().await.expect("tools").len(), 4);
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
        http_discovery_and_calls,
        dropping_a_call_does_not_hang_or_kill_the_server,
        a_command_that_exits_gives_an_error_with_its_output,
        a_missing_command_is_unreachable,
        a_closed_port_is_unreachable,
        a_non_mcp_http_endpoint_is_an_error,
        secrets_are_encrypted_and_never_returned,
        startup_discovery_runs_in_the_background,
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
