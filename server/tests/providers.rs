//! The AI providers against fake servers on 127.0.0.1 that speak each
//! provider's wire format: the exact requests TFTSR sends, streamed and
//! whole replies with text and tool calls, and every way a provider can
//! fail — refused keys, unknown models, rate limits, server errors, broken
//! JSON, cut streams, silence, redirects elsewhere, oversized replies.

mod fake_llm;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fake_llm::{FakeServer, Reply};
use futures_util::StreamExt;
use serde_json::{Value, json};
use tftsr_core::ai::{
    ChatEvent, ChatMessage, ChatProvider, ChatRequest, ChatStream, FinishReason, ProviderError,
    ProviderErrorKind, ProviderKind, ToolCall, ToolSpec, Usage,
};
use tftsr_server::providers::{ClientConfig, HttpClient, HttpProvider, OllamaAdmin};
use tftsr_server::secret::Secret;

/// A key no provider would echo by accident; it must appear in no message.
const KEY: &str = "sk-test-KEY-7d1e0c9b5a3f";
/// The user's text; it must appear in no message or log.
const PROMPT: &str = "PROMPT-CANARY why did checkout fail at 09:14";

fn config() -> ClientConfig {
    ClientConfig {
        connect_timeout: Duration::from_secs(2),
        idle_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(5),
        max_retries: 2,
        backoff_base: Duration::from_millis(20),
        max_retry_wait: Duration::from_secs(3),
        max_reply_bytes: 256 * 1024,
        max_stream_bytes: 256 * 1024,
        max_redirects: 3,
        use_env_proxy: false,
        ..ClientConfig::default()
    }
}

fn provider_with(
    config: ClientConfig,
    kind: ProviderKind,
    base: &str,
    key: Option<&str>,
) -> HttpProvider {
    let client = HttpClient::new(config).expect("client");
    HttpProvider::with_client(
        client,
        kind,
        base,
        Some("test-model".into()),
        key.map(|k| Secret::new(k.into())),
    )
    .expect("provider")
}

fn provider(kind: ProviderKind, base: &str) -> HttpProvider {
    provider_with(config(), kind, base, Some(KEY))
}

fn search_tool() -> ToolSpec {
    ToolSpec {
        name: "search_logs".into(),
        description: "Search the attached logs".into(),
        parameters: json!({
            "type": "object",
            "properties": {"query": {"type": "string"}},
            "required": ["query"],
            "additionalProperties": false
        }),
    }
}

fn request(model: &str) -> ChatRequest {
    ChatRequest {
        model: model.into(),
        messages: vec![
            ChatMessage::system("You are a root-cause analyst."),
            ChatMessage::user(PROMPT),
        ],
        tools: vec![search_tool()],
        temperature: Some(0.2),
        max_tokens: Some(300),
    }
}

/// A conversation that already went through one tool call.
fn request_with_tool_round(model: &str) -> ChatRequest {
    let call = ToolCall {
        id: "call_7".into(),
        name: "search_logs".into(),
        arguments: json!({"query": "timeout"}),
    };
    let mut assistant = ChatMessage::assistant("");
    assistant.tool_calls = vec![call.clone()];
    let mut r = request(model);
    r.messages.push(assistant);
    r.messages
        .push(ChatMessage::tool_result(&call, "2 matches"));
    r
}

/// Every event of a stream, and the error that ended it, if any.
async fn drain(mut stream: ChatStream) -> (Vec<ChatEvent>, Option<ProviderError>) {
    let mut events = Vec::new();
    while let Some(item) = stream.next().await {
        match item {
            Ok(event) => events.push(event),
            Err(error) => return (events, Some(error)),
        }
    }
    (events, None)
}

async fn chat_ok(provider: &HttpProvider, request: ChatRequest) -> Vec<ChatEvent> {
    let stream = provider.chat(request).await.expect("stream opens");
    let (events, error) = drain(stream).await;
    assert!(error.is_none(), "stream failed: {error:?}");
    events
}

/// The error of a chat, whether it came before the stream or inside it.
async fn chat_err(provider: &HttpProvider, request: ChatRequest) -> ProviderError {
    let error = match provider.chat(request).await {
        Err(error) => error,
        Ok(stream) => drain(stream).await.1.expect("the stream should fail"),
    };
    assert_clean(&error);
    error
}

/// The key and the prompt appear nowhere in the error.
fn assert_clean(error: &ProviderError) {
    let debug = format!("{error:?}");
    for text in [error.message.as_str(), debug.as_str()] {
        assert!(!text.contains(KEY), "key leaked: {text}");
        assert!(!text.contains("PROMPT-CANARY"), "prompt leaked: {text}");
    }
}

fn text_of(events: &[ChatEvent]) -> String {
    events
        .iter()
        .filter_map(|e| match e {
            ChatEvent::Text { delta } => Some(delta.as_str()),
            _ => None,
        })
        .collect()
}

fn calls_of(events: &[ChatEvent]) -> Vec<ToolCall> {
    events
        .iter()
        .filter_map(|e| match e {
            ChatEvent::ToolCall { call } => Some(call.clone()),
            _ => None,
        })
        .collect()
}

fn last(events: &[ChatEvent]) -> &ChatEvent {
    events.last().expect("some events")
}

// ---------------------------------------------------------------- OpenAI

const OPENAI_TEXT: &[&str] = &[
    "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n",
    "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"The connection \"},\"finish_reason\":null}]}\n\ndata: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"del",
    "ta\":{\"content\":\"pool ran dry.\"},\"finish_reason\":null}]}\n\n",
    "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n",
    ": keep-alive\n\ndata: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"choices\":[],\"usage\":{\"prompt_tokens\":31,\"completion_tokens\":6,\"total_tokens\":37}}\n\n",
    "data: [DONE]\n\n",
];

#[tokio::test]
async fn openai_streams_text_and_sends_the_documented_request() {
    let fake = FakeServer::start(vec![
        Reply::sse(OPENAI_TEXT).chunk_delay(Duration::from_millis(5)),
    ])
    .await;
    let p = provider(ProviderKind::OpenAi, &fake.url("/v1"));
    let events = chat_ok(&p, request("gpt-4o-mini")).await;
    assert_eq!(text_of(&events), "The connection pool ran dry.");
    assert_eq!(
        &events[events.len() - 2..],
        &[
            ChatEvent::Usage {
                usage: Usage {
                    prompt_tokens: 31,
                    completion_tokens: 6
                }
            },
            ChatEvent::Done {
                reason: FinishReason::Stop
            },
        ]
    );

    let sent = fake.request(0);
    assert_eq!(sent.method, "POST");
    assert_eq!(sent.uri, "/v1/chat/completions");
    assert_eq!(
        sent.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(sent.header("content-type"), Some("application/json"));
    assert!(
        sent.header("user-agent")
            .is_some_and(|ua| ua.starts_with("tftsr/"))
    );
    let body = sent.body();
    assert_eq!(body["model"], "gpt-4o-mini");
    assert_eq!(body["stream"], true);
    assert_eq!(body["stream_options"], json!({"include_usage": true}));
    assert_eq!(
        body["messages"][0],
        json!({"role": "system", "content": "You are a root-cause analyst."})
    );
    assert_eq!(
        body["messages"][1],
        json!({"role": "user", "content": PROMPT})
    );
    assert_eq!(
        body["tools"],
        json!([{"type": "function", "function": {
            "name": "search_logs",
            "description": "Search the attached logs",
            "parameters": search_tool().parameters,
        }}])
    );
    assert_eq!(body["tool_choice"], "auto");
    // A local, compatible server: the field every server knows.
    assert_eq!(body["max_tokens"], 300);
    assert!((body["temperature"].as_f64().expect("temp") - 0.2).abs() < 1e-6);
}

#[tokio::test]
async fn openai_streamed_tool_calls_are_assembled_and_replayed() {
    let fake = FakeServer::start(vec![Reply::sse(&[
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"index\":0,\"id\":\"call_Xy1\",\"type\":\"function\",\"function\":{\"name\":\"search_logs\",\"arguments\":\"\"}}]},\"finish_reason\":null}]}\n\n",
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"qu\"}}]},\"finish_reason\":null}]}\n\n",
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"ery\\\":\\\"pool exhausted\\\"}\"}}]},\"finish_reason\":null}]}\n\n",
        "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\ndata: [DONE]\n\n",
    ])])
    .await;
    let p = provider(ProviderKind::OpenAi, &fake.url("/v1"));
    let events = chat_ok(&p, request_with_tool_round("gpt-4o")).await;
    assert_eq!(
        calls_of(&events),
        vec![ToolCall {
            id: "call_Xy1".into(),
            name: "search_logs".into(),
            arguments: json!({"query": "pool exhausted"})
        }]
    );
    assert_eq!(
        last(&events),
        &ChatEvent::Done {
            reason: FinishReason::ToolCalls
        }
    );

    let body = fake.request(0).body().clone();
    assert_eq!(body["messages"][2]["role"], "assistant");
    assert_eq!(body["messages"][2]["content"], Value::Null);
    assert_eq!(body["messages"][2]["tool_calls"][0]["id"], "call_7");
    assert_eq!(
        body["messages"][2]["tool_calls"][0]["function"]["arguments"],
        "{\"query\":\"timeout\"}"
    );
    assert_eq!(
        body["messages"][3],
        json!({"role": "tool", "tool_call_id": "call_7", "content": "2 matches"})
    );
}

#[tokio::test]
async fn openai_whole_reply_with_a_tool_call() {
    let fake = FakeServer::start(vec![Reply::json(200, json!({
        "id": "chatcmpl-9", "object": "chat.completion", "created": 1, "model": "gpt-4o",
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
            "role": "assistant", "content": "Let me check.",
            "tool_calls": [{"id": "call_1", "type": "function",
                            "function": {"name": "search_logs", "arguments": "{\"query\":\"502\"}"}}]}}],
        "usage": {"prompt_tokens": 50, "completion_tokens": 12, "total_tokens": 62}
    }))])
    .await;
    let p = provider(ProviderKind::OpenAi, &fake.url("/v1"));
    let events = p.complete(request("gpt-4o")).await.expect("reply");
    assert_eq!(
        events,
        vec![
            ChatEvent::Text {
                delta: "Let me check.".into()
            },
            ChatEvent::ToolCall {
                call: ToolCall {
                    id: "call_1".into(),
                    name: "search_logs".into(),
                    arguments: json!({"query": "502"})
                }
            },
            ChatEvent::Usage {
                usage: Usage {
                    prompt_tokens: 50,
                    completion_tokens: 12
                }
            },
            ChatEvent::Done {
                reason: FinishReason::ToolCalls
            },
        ]
    );
    let body = fake.request(0).body().clone();
    assert_eq!(body["stream"], false);
    assert!(body.get("stream_options").is_none());
}

#[tokio::test]
async fn openai_lists_models_and_uses_the_default_model() {
    let fake = FakeServer::start(vec![
        Reply::json(
            200,
            json!({"object": "list", "data": [
            {"id": "gpt-4o-mini", "object": "model", "created": 1, "owned_by": "system"},
            {"id": "gpt-4o", "object": "model", "created": 1, "owned_by": "system"}]}),
        ),
        Reply::sse(OPENAI_TEXT),
    ])
    .await;
    let p = provider(ProviderKind::OpenAi, &fake.url("/v1/"));
    let names: Vec<String> = p
        .list_models()
        .await
        .expect("models")
        .into_iter()
        .map(|m| m.name)
        .collect();
    assert_eq!(names, ["gpt-4o", "gpt-4o-mini"]);
    let listed = fake.request(0);
    assert_eq!(
        (listed.method.as_str(), listed.uri.as_str()),
        ("GET", "/v1/models")
    );
    assert_eq!(
        listed.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );

    // A request without a model gets the provider's.
    chat_ok(&p, request("")).await;
    assert_eq!(fake.request(1).body()["model"], "test-model");
}

#[tokio::test]
async fn a_local_server_without_a_key_gets_no_authorization() {
    let fake = FakeServer::start(vec![Reply::sse(OPENAI_TEXT)]).await;
    let p = provider_with(config(), ProviderKind::OpenAi, &fake.url("/v1"), None);
    chat_ok(&p, request("local")).await;
    assert!(fake.request(0).header("authorization").is_none());
}

// ---------------------------------------------------------------- Mistral

#[tokio::test]
async fn mistral_request_and_whole_tool_calls() {
    let fake = FakeServer::start(vec![Reply::sse(&[
        "data: {\"id\":\"a1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"mistral-large-latest\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n",
        "data: {\"id\":\"a1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"mistral-large-latest\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\",\"tool_calls\":[{\"id\":\"D681PevKs\",\"function\":{\"name\":\"search_logs\",\"arguments\":\"{\\\"query\\\": \\\"disk\\\"}\"}}]},\"finish_reason\":\"tool_calls\"}],\"usage\":{\"prompt_tokens\":70,\"total_tokens\":92,\"completion_tokens\":22}}\n\n",
        "data: [DONE]\n\n",
    ])])
    .await;
    let p = provider(ProviderKind::Mistral, &fake.url("/v1"));
    assert_eq!(p.label(), "Mistral");
    let events = chat_ok(&p, request_with_tool_round("mistral-large-latest")).await;
    assert_eq!(calls_of(&events)[0].id, "D681PevKs");
    assert_eq!(calls_of(&events)[0].arguments, json!({"query": "disk"}));
    assert!(events.contains(&ChatEvent::Usage {
        usage: Usage {
            prompt_tokens: 70,
            completion_tokens: 22
        }
    }));

    let sent = fake.request(0);
    assert_eq!(sent.uri, "/v1/chat/completions");
    assert_eq!(
        sent.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    let body = sent.body();
    assert!(
        body.get("stream_options").is_none(),
        "Mistral refuses unknown fields"
    );
    assert_eq!(body["tool_choice"], "auto");
    assert_eq!(body["max_tokens"], 300);
    let id = body["messages"][2]["tool_calls"][0]["id"]
        .as_str()
        .expect("id");
    assert_eq!(id.len(), 9);
    assert!(id.bytes().all(|b| b.is_ascii_alphanumeric()));
    assert_eq!(body["messages"][2]["content"], "");
    assert_eq!(body["messages"][3]["tool_call_id"], id);
    assert_eq!(body["messages"][3]["name"], "search_logs");
}

// ---------------------------------------------------------------- Anthropic

const ANTHROPIC_STREAM: &[&str] = &[
    "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_01\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":\"claude-sonnet-4-5\",\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":120,\"output_tokens\":1}}}\n\n",
    "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\nevent: ping\ndata: {\"type\": \"ping\"}\n\n",
    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Searching \"}}\n\n",
    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"the logs.\"}}\n\nevent: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
    "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_01T1x1fJ34qAmk2tNTrN7Up6\",\"name\":\"search_logs\",\"input\":{}}}\n\n",
    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"query\\\": \\\"conn\"}}\n\n",
    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"ection reset\\\"}\"}}\n\nevent: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":1}\n\n",
    "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":42}}\n\n",
    "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
];

#[tokio::test]
async fn anthropic_stream_and_request() {
    let fake = FakeServer::start(vec![Reply::sse(ANTHROPIC_STREAM)]).await;
    let p = provider(ProviderKind::Anthropic, &fake.url(""));
    let events = chat_ok(&p, request_with_tool_round("claude-sonnet-4-5")).await;
    assert_eq!(
        events,
        vec![
            ChatEvent::Text {
                delta: "Searching ".into()
            },
            ChatEvent::Text {
                delta: "the logs.".into()
            },
            ChatEvent::ToolCall {
                call: ToolCall {
                    id: "toolu_01T1x1fJ34qAmk2tNTrN7Up6".into(),
                    name: "search_logs".into(),
                    arguments: json!({"query": "connection reset"}),
                }
            },
            ChatEvent::Usage {
                usage: Usage {
                    prompt_tokens: 120,
                    completion_tokens: 42
                }
            },
            ChatEvent::Done {
                reason: FinishReason::ToolCalls
            },
        ]
    );

    let sent = fake.request(0);
    assert_eq!(
        (sent.method.as_str(), sent.uri.as_str()),
        ("POST", "/v1/messages")
    );
    assert_eq!(sent.header("x-api-key"), Some(KEY));
    assert_eq!(sent.header("anthropic-version"), Some("2023-06-01"));
    assert!(sent.header("authorization").is_none());
    let body = sent.body();
    assert_eq!(body["system"], "You are a root-cause analyst.");
    assert_eq!(body["stream"], true);
    assert_eq!(body["max_tokens"], 300);
    assert_eq!(
        body["tools"],
        json!([{"name": "search_logs", "description": "Search the attached logs", "input_schema": search_tool().parameters}])
    );
    assert_eq!(
        body["messages"],
        json!([
            {"role": "user", "content": [{"type": "text", "text": PROMPT}]},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "call_7", "name": "search_logs", "input": {"query": "timeout"}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "call_7", "content": "2 matches"}]},
        ])
    );
}

#[tokio::test]
async fn anthropic_whole_reply_and_models() {
    let fake = FakeServer::start(vec![
        Reply::json(200, json!({
            "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
            "content": [{"type": "text", "text": "The certificate expired."}],
            "stop_reason": "end_turn", "stop_sequence": null,
            "usage": {"input_tokens": 12, "output_tokens": 5}
        })),
        Reply::json(200, json!({"data": [
            {"type": "model", "id": "claude-sonnet-4-5", "display_name": "Claude Sonnet 4.5", "created_at": "2025-09-29T00:00:00Z"},
            {"type": "model", "id": "claude-haiku-4-5", "display_name": "Claude Haiku 4.5", "created_at": "2025-10-01T00:00:00Z"}],
            "has_more": false, "first_id": "claude-sonnet-4-5", "last_id": "claude-haiku-4-5"})),
    ])
    .await;
    let p = provider(ProviderKind::Anthropic, &fake.url(""));
    let events = p
        .complete(request("claude-sonnet-4-5"))
        .await
        .expect("reply");
    assert_eq!(text_of(&events), "The certificate expired.");
    assert_eq!(
        last(&events),
        &ChatEvent::Done {
            reason: FinishReason::Stop
        }
    );
    assert_eq!(fake.request(0).body()["stream"], false);

    let models = p.list_models().await.expect("models");
    assert_eq!(models.len(), 2);
    let listed = fake.request(1);
    assert_eq!(listed.uri, "/v1/models?limit=1000");
    assert_eq!(listed.header("x-api-key"), Some(KEY));
    assert_eq!(listed.header("anthropic-version"), Some("2023-06-01"));
}

#[tokio::test]
async fn anthropic_error_event_inside_the_stream() {
    let fake = FakeServer::start(vec![Reply::sse(&[
        ANTHROPIC_STREAM[0],
        "event: error\ndata: {\"type\": \"error\", \"error\": {\"type\": \"overloaded_error\", \"message\": \"Overloaded\"}}\n\n",
    ])])
    .await;
    let p = provider(ProviderKind::Anthropic, &fake.url(""));
    let error = chat_err(&p, request("claude-sonnet-4-5")).await;
    assert_eq!(error.kind, ProviderErrorKind::Server);
    assert!(
        error.message.contains("Anthropic") && error.message.contains("Overloaded"),
        "{}",
        error.message
    );
}

// ---------------------------------------------------------------- Gemini

const GEMINI_STREAM: &[&str] = &[
    "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"The job \"}],\"role\": \"model\"},\"index\": 0}],\"usageMetadata\": {\"promptTokenCount\": 40,\"candidatesTokenCount\": 2,\"totalTokenCount\": 42},\"modelVersion\": \"gemini-2.5-flash\"}\r\n\r\n",
    "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"ran out of memory.\"}],\"role\": \"model\"},\"index\": 0}],\"usageMetadata\": {\"promptTokenCount\": 40,\"candidatesTokenCount\": 7,\"totalTokenCount\": 47}}\r\n\r\n",
    "data: {\"candidates\": [{\"content\": {\"parts\": [{\"functionCall\": {\"name\": \"search_logs\",\"args\": {\"query\": \"OOMKilled\"}}}],\"role\": \"model\"},\"finishReason\": \"STOP\",\"index\": 0}],\"usageMetadata\": {\"promptTokenCount\": 40,\"candidatesTokenCount\": 12,\"totalTokenCount\": 52}}\r\n\r\n",
];

#[tokio::test]
async fn gemini_stream_and_request() {
    let fake = FakeServer::start(vec![Reply::sse(GEMINI_STREAM)]).await;
    let p = provider(ProviderKind::Gemini, &fake.url("/v1beta"));
    let events = chat_ok(&p, request_with_tool_round("gemini-2.5-flash")).await;
    assert_eq!(text_of(&events), "The job ran out of memory.");
    assert_eq!(calls_of(&events)[0].name, "search_logs");
    assert_eq!(
        calls_of(&events)[0].arguments,
        json!({"query": "OOMKilled"})
    );
    assert_eq!(
        &events[events.len() - 2..],
        &[
            ChatEvent::Usage {
                usage: Usage {
                    prompt_tokens: 40,
                    completion_tokens: 12
                }
            },
            ChatEvent::Done {
                reason: FinishReason::ToolCalls
            },
        ]
    );

    let sent = fake.request(0);
    assert_eq!(sent.method, "POST");
    assert_eq!(
        sent.uri,
        "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
    );
    assert_eq!(sent.header("x-goog-api-key"), Some(KEY));
    assert!(!sent.uri.contains("key="), "the key never goes in the URL");
    assert!(sent.header("authorization").is_none());
    let body = sent.body();
    assert_eq!(
        body["systemInstruction"],
        json!({"parts": [{"text": "You are a root-cause analyst."}]})
    );
    assert_eq!(
        body["contents"][0],
        json!({"role": "user", "parts": [{"text": PROMPT}]})
    );
    assert_eq!(body["contents"][1]["role"], "model");
    assert_eq!(
        body["contents"][1]["parts"][0]["functionCall"],
        json!({"name": "search_logs", "args": {"query": "timeout"}})
    );
    assert_eq!(
        body["contents"][2],
        json!({"role": "user", "parts": [{"functionResponse": {"name": "search_logs", "response": {"result": "2 matches"}}}]})
    );
    assert_eq!(
        body["tools"],
        json!([{"functionDeclarations": [{
            "name": "search_logs",
            "description": "Search the attached logs",
            "parameters": {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]},
        }]}])
    );
    assert_eq!(body["generationConfig"]["maxOutputTokens"], 300);
}

#[tokio::test]
async fn gemini_whole_reply_and_models() {
    let fake = FakeServer::start(vec![
        Reply::json(200, json!({
            "candidates": [{"content": {"parts": [{"text": "DNS failed."}], "role": "model"}, "finishReason": "STOP", "index": 0}],
            "usageMetadata": {"promptTokenCount": 8, "candidatesTokenCount": 3, "totalTokenCount": 11}
        })),
        Reply::json(200, json!({"models": [
            {"name": "models/gemini-2.5-flash", "displayName": "Gemini 2.5 Flash", "supportedGenerationMethods": ["generateContent", "countTokens"]},
            {"name": "models/text-embedding-004", "supportedGenerationMethods": ["embedContent"]}]})),
    ])
    .await;
    let p = provider(ProviderKind::Gemini, &fake.url("/v1beta"));
    let events = p
        .complete(request("models/gemini-2.5-flash"))
        .await
        .expect("reply");
    assert_eq!(text_of(&events), "DNS failed.");
    assert_eq!(
        fake.request(0).uri,
        "/v1beta/models/gemini-2.5-flash:generateContent"
    );
    let models = p.list_models().await.expect("models");
    assert_eq!(
        models.iter().map(|m| m.name.as_str()).collect::<Vec<_>>(),
        ["gemini-2.5-flash"]
    );
    let listed = fake.request(1);
    assert_eq!(listed.uri, "/v1beta/models?pageSize=1000");
    assert_eq!(listed.header("x-goog-api-key"), Some(KEY));
}

#[tokio::test]
async fn gemini_rate_limit_wait_from_the_body_is_honoured() {
    let limited = json!({"error": {"code": 429, "message": "Resource has been exhausted (e.g. check quota).",
        "status": "RESOURCE_EXHAUSTED",
        "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "0.4s"}]}});
    let fake = FakeServer::start(vec![Reply::json(429, limited), Reply::sse(GEMINI_STREAM)]).await;
    let p = provider(ProviderKind::Gemini, &fake.url("/v1beta"));
    let started = Instant::now();
    chat_ok(&p, request("gemini-2.5-flash")).await;
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(fake.requests().len(), 2);
}

// ---------------------------------------------------------------- Ollama

const OLLAMA_STREAM: &[&str] = &[
    "{\"model\":\"llama3.2\",\"created_at\":\"2025-01-01T00:00:00Z\",\"message\":{\"role\":\"assistant\",\"content\":\"The disk\"},\"done\":false}\n",
    "{\"model\":\"llama3.2\",\"created_at\":\"2025-01-01T00:00:00Z\",\"message\":{\"role\":\"assistant\",\"content\":\" is full.\"},\"done\":false}\n{\"model\":\"llama3.2\",\"created_at\":\"2025-01-01T00:00:00Z\",\"message\":{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":[{\"function\":{\"name\":\"search_logs\",\"arguments\":{\"query\":\"df -h\"}}}]},",
    "\"done\":false}\n{\"model\":\"llama3.2\",\"created_at\":\"2025-01-01T00:00:00Z\",\"message\":{\"role\":\"assistant\",\"content\":\"\"},\"done\":true,\"done_reason\":\"stop\",\"total_duration\":4883583458,\"prompt_eval_count\":26,\"eval_count\":290}\n",
];

#[tokio::test]
async fn ollama_ndjson_stream_and_request() {
    let fake = FakeServer::start(vec![Reply::ndjson(OLLAMA_STREAM)]).await;
    let p = provider_with(config(), ProviderKind::Ollama, &fake.url(""), None);
    let events = chat_ok(&p, request_with_tool_round("llama3.2")).await;
    assert_eq!(text_of(&events), "The disk is full.");
    assert_eq!(
        calls_of(&events),
        vec![ToolCall {
            id: "call_0".into(),
            name: "search_logs".into(),
            arguments: json!({"query": "df -h"})
        }]
    );
    assert_eq!(
        &events[events.len() - 2..],
        &[
            ChatEvent::Usage {
                usage: Usage {
                    prompt_tokens: 26,
                    completion_tokens: 290
                }
            },
            ChatEvent::Done {
                reason: FinishReason::ToolCalls
            },
        ]
    );
    let sent = fake.request(0);
    assert_eq!(
        (sent.method.as_str(), sent.uri.as_str()),
        ("POST", "/api/chat")
    );
    assert!(sent.header("authorization").is_none());
    let body = sent.body();
    assert_eq!(body["stream"], true);
    assert_eq!(
        body["messages"][0],
        json!({"role": "system", "content": "You are a root-cause analyst."})
    );
    assert_eq!(
        body["messages"][2]["tool_calls"],
        json!([{"function": {"name": "search_logs", "arguments": {"query": "timeout"}}}])
    );
    assert_eq!(
        body["messages"][3],
        json!({"role": "tool", "content": "2 matches", "tool_name": "search_logs"})
    );
    assert_eq!(body["tools"][0]["type"], "function");
    assert_eq!(body["options"]["num_predict"], 300);
}

#[tokio::test]
async fn ollama_models_pull_and_delete() {
    let fake = FakeServer::start(vec![
        Reply::json(200, json!({"models": [
            {"name": "qwen2.5:7b", "model": "qwen2.5:7b", "modified_at": "2025-05-04T17:37:44.706015396-07:00", "size": 4683087332u64, "digest": "845d",
             "details": {"format": "gguf", "family": "qwen2", "parameter_size": "7.6B", "quantization_level": "Q4_K_M"}},
            {"name": "llama3.2:latest", "model": "llama3.2:latest", "size": 2019393189u64, "digest": "a80c"}]})),
        Reply::ndjson(&[
            "{\"status\":\"pulling manifest\"}\n",
            "{\"status\":\"pulling 6a0746a1ec1a\",\"digest\":\"sha256:6a0746a1ec1a\",\"total\":2019377376,\"completed\":1048576}\n",
            "{\"status\":\"pulling 6a0746a1ec1a\",\"digest\":\"sha256:6a0746a1ec1a\",\"total\":2019377376,\"completed\":2019377376}\n{\"status\":\"verifying sha256 digest\"}\n",
            "{\"status\":\"writing manifest\"}\n{\"status\":\"success\"}\n",
        ])
        .chunk_delay(Duration::from_millis(5)),
        Reply::raw(200, "text/plain", ""),
        Reply::json(404, json!({"error": "model 'nope' not found"})),
        Reply::ndjson(&["{\"status\":\"pulling manifest\"}\n", "{\"error\":\"pull model manifest: file does not exist\"}\n"]),
    ])
    .await;
    let client = HttpClient::new(config()).expect("client");
    let admin = OllamaAdmin::new(client, &fake.url(""), None).expect("admin");

    let models = admin.list_models().await.expect("models");
    assert_eq!(models[0].name, "llama3.2:latest");
    assert_eq!(models[0].size_bytes, Some(2_019_393_189));
    assert_eq!(models[1].size_bytes, Some(4_683_087_332));
    assert_eq!(fake.request(0).uri, "/api/tags");

    let mut progress = admin.pull("llama3.2").await.expect("pull starts");
    let mut seen = Vec::new();
    while let Some(step) = progress.next().await {
        seen.push(step.expect("progress"));
    }
    assert_eq!(seen.len(), 6);
    assert_eq!(
        (seen[1].completed, seen[1].total),
        (Some(1_048_576), Some(2_019_377_376))
    );
    assert!(seen[5].is_success());
    let pull = fake.request(1);
    assert_eq!(
        (pull.method.as_str(), pull.uri.as_str()),
        ("POST", "/api/pull")
    );
    assert_eq!(pull.body(), &json!({"model": "llama3.2", "stream": true}));

    admin.delete("llama3.2").await.expect("deleted");
    let delete = fake.request(2);
    assert_eq!(
        (delete.method.as_str(), delete.uri.as_str()),
        ("DELETE", "/api/delete")
    );
    assert_eq!(delete.body(), &json!({"model": "llama3.2"}));

    let missing = admin.delete("nope").await.expect_err("unknown");
    assert_eq!(missing.kind, ProviderErrorKind::UnknownModel);
    assert!(missing.message.contains("Ollama"));

    let mut failing = admin.pull("nope").await.expect("pull starts");
    let mut last = None;
    while let Some(step) = failing.next().await {
        last = Some(step);
    }
    let error = last.expect("an item").expect_err("the pull fails");
    assert_eq!(error.kind, ProviderErrorKind::UnknownModel);

    assert_eq!(
        admin.pull("  ").await.err().map(|e| e.kind),
        Some(ProviderErrorKind::BadRequest)
    );
}

#[tokio::test]
async fn ollama_list_models_through_the_port_has_sizes() {
    let fake = FakeServer::start(vec![Reply::json(
        200,
        json!({"models": [{"name": "phi3:mini", "size": 2176178913u64}]}),
    )])
    .await;
    let p = provider_with(config(), ProviderKind::Ollama, &fake.url(""), None);
    let models = p.list_models().await.expect("models");
    assert_eq!(models[0].size_bytes, Some(2_176_178_913));
}

// ---------------------------------------------------------------- failures

#[tokio::test]
async fn refused_keys_are_auth_errors_and_the_key_is_never_echoed() {
    let echo = json!({"error": {"message": format!("Incorrect API key provided: {KEY}."), "type": "invalid_request_error", "param": null, "code": "invalid_api_key"}});
    let fake = FakeServer::start(vec![
        Reply::json(401, echo),
        Reply::json(403, json!({"type": "error", "error": {"type": "permission_error", "message": "Your API key does not have permission to use the specified resource."}})),
        Reply::json(400, json!({"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.", "status": "INVALID_ARGUMENT",
            "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID", "domain": "googleapis.com"}]}})),
    ])
    .await;
    let openai = provider(ProviderKind::OpenAi, &fake.url("/v1"));
    let error = chat_err(&openai, request("gpt-4o")).await;
    assert_eq!(error.kind, ProviderErrorKind::Auth);
    assert!(
        error.message.contains("refused the API key"),
        "{}",
        error.message
    );
    assert!(error.message.contains("*****"), "{}", error.message);
    assert_eq!(fake.requests().len(), 1, "auth errors are not retried");

    let anthropic = provider(ProviderKind::Anthropic, &fake.url(""));
    assert_eq!(
        chat_err(&anthropic, request("claude")).await.kind,
        ProviderErrorKind::Auth
    );
    let gemini = provider(ProviderKind::Gemini, &fake.url("/v1beta"));
    assert_eq!(
        chat_err(&gemini, request("gemini-2.5-flash")).await.kind,
        ProviderErrorKind::Auth
    );

    for p in [&openai, &anthropic, &gemini] {
        assert!(!format!("{p:?}").contains(KEY), "Debug shows the key");
    }
}

#[tokio::test]
async fn unknown_models_are_named_as_such() {
    let fake = FakeServer::start(vec![
        Reply::json(404, json!({"error": {"message": "The model `gpt-9` does not exist or you do not have access to it.", "type": "invalid_request_error", "param": null, "code": "model_not_found"}})),
        Reply::json(404, json!({"error": "model \"llama9\" not found, try pulling it first"})),
        Reply::json(404, json!({"type": "error", "error": {"type": "not_found_error", "message": "model: claude-9"}})),
    ])
    .await;
    let openai = provider(ProviderKind::OpenAi, &fake.url("/v1"));
    let e = chat_err(&openai, request("gpt-9")).await;
    assert_eq!(e.kind, ProviderErrorKind::UnknownModel);
    assert!(
        e.message.contains("does not know the model"),
        "{}",
        e.message
    );
    let ollama = provider_with(config(), ProviderKind::Ollama, &fake.url(""), None);
    let e = chat_err(&ollama, request("llama9")).await;
    assert_eq!(e.kind, ProviderErrorKind::UnknownModel);
    assert!(e.message.contains("try pulling it first"));
    let anthropic = provider(ProviderKind::Anthropic, &fake.url(""));
    assert_eq!(
        chat_err(&anthropic, request("claude-9")).await.kind,
        ProviderErrorKind::UnknownModel
    );
}

#[tokio::test]
async fn a_429_with_retry_after_is_waited_out_then_succeeds() {
    let fake = FakeServer::start(vec![
        Reply::json(429, json!({"error": {"message": "Rate limit reached for gpt-4o", "type": "requests", "code": "rate_limit_exceeded"}}))
            .header("retry-after", "1"),
        Reply::sse(OPENAI_TEXT),
    ])
    .await;
    let p = provider(ProviderKind::OpenAi, &fake.url("/v1"));
    let started = Instant::now();
    let events = chat_ok(&p, request("gpt-4o")).await;
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(1),
        "Retry-After not honoured: {waited:?}"
    );
    assert!(waited < Duration::from_secs(3), "{waited:?}");
    assert_eq!(text_of(&events), "The connection pool ran dry.");
    assert_eq!(fake.requests().len(), 2);
    assert_eq!(
        fake.request(0).body(),
        fake.request(1).body(),
        "the same request is sent again"
    );
}

#[tokio::test]
async fn a_wait_longer_than_the_cap_is_returned_not_slept() {
    let fake = FakeServer::start(vec![
        Reply::json(429, json!({"type": "error", "error": {"type": "rate_limit_error", "message": "Number of request tokens has exceeded your per-minute rate limit"}}))
            .header("retry-after", "120"),
    ])
    .await;
    let p = provider(ProviderKind::Anthropic, &fake.url(""));
    let started = Instant::now();
    let e = chat_err(&p, request("claude")).await;
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(e.kind, ProviderErrorKind::RateLimited);
    assert_eq!(e.retry_after_ms, Some(120_000));
    assert!(e.message.contains("2 min"), "{}", e.message);
    assert_eq!(fake.requests().len(), 1);
}

#[tokio::test]
async fn rate_limits_that_persist_give_up_after_the_retries() {
    let limited = || {
        Reply::json(
            429,
            json!({"error": {"message": "slow down", "code": "rate_limit_exceeded"}}),
        )
    };
    let fake = FakeServer::start(vec![limited(), limited(), limited(), limited()]).await;
    let p = provider(ProviderKind::OpenAi, &fake.url("/v1"));
    let e = chat_err(&p, request("gpt-4o")).await;
    assert_eq!(e.kind, ProviderErrorKind::RateLimited);
    assert_eq!(fake.requests().len(), 3, "one try and two retries");
}

#[tokio::test]
async fn an_exhausted_quota_is_not_retried() {
    let fake = FakeServer::start(vec![Reply::json(429, json!({"error": {"message": "You exceeded your current quota, please check your plan and billing details.", "type": "insufficient_quota", "param": null, "code": "insufficient_quota"}}))]).await;
    let p = provider(ProviderKind::OpenAi, &fake.url("/v1"));
    let e = chat_err(&p, request("gpt-4o")).await;
    assert_eq!(e.kind, ProviderErrorKind::RateLimited);
    assert!(e.message.contains("quota"));
    assert_eq!(fake.requests().len(), 1);
}

#[tokio::test]
async fn a_500_then_success_is_retried() {
    let fake = FakeServer::start(vec![
        Reply::json(500, json!({"error": {"message": "The server had an error while processing your request.", "type": "server_error"}})),
        Reply::raw(503, "text/html", "<html><body>upstream unavailable</body></html>"),
        Reply::ndjson(OLLAMA_STREAM),
    ])
    .await;
    let p = provider_with(config(), ProviderKind::Ollama, &fake.url(""), None);
    let events = chat_ok(&p, request("llama3.2")).await;
    assert_eq!(text_of(&events), "The disk is full.");
    assert_eq!(fake.requests().len(), 3);
}

#[tokio::test]
async fn server_errors_that_persist_are_reported() {
    let overloaded = || {
        Reply::json(
            529,
            json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
        )
    };
    let fake = FakeServer::start(vec![overloaded(), overloaded(), overloaded()]).await;
    let p = provider(ProviderKind::Anthropic, &fake.url(""));
    let e = chat_err(&p, request("claude")).await;
    assert_eq!(e.kind, ProviderErrorKind::Server);
    assert!(
        e.message.contains("HTTP 529") && e.message.contains("Overloaded"),
        "{}",
        e.message
    );
    assert_eq!(fake.requests().len(), 3);
}

#[tokio::test]
async fn context_too_long_and_bad_requests() {
    let fake = FakeServer::start(vec![
        Reply::json(400, json!({"type": "error", "error": {"type": "invalid_request_error", "message": "prompt is too long: 215000 tokens > 200000 maximum"}})),
        Reply::json(400, json!({"error": {"message": "This model's maximum context length is 128000 tokens. However, your messages resulted in 140000 tokens.", "type": "invalid_request_error", "param": "messages", "code": "context_length_exceeded"}})),
        Reply::json(422, json!({"detail": [{"type": "missing", "loc": ["body", "messages"], "msg": "Field required"}]})),
    ])
    .await;
    let anthropic = provider(ProviderKind::Anthropic, &fake.url(""));
    assert_eq!(
        chat_err(&anthropic, request("claude")).await.kind,
        ProviderErrorKind::ContextTooLong
    );
    let openai = provider(ProviderKind::OpenAi, &fake.url("/v1"));
    assert_eq!(
        chat_err(&openai, request("gpt-4o")).await.kind,
        ProviderErrorKind::ContextTooLong
    );
    let mistral = provider(ProviderKind::Mistral, &fake.url("/v1"));
    let e = chat_err(&mistral, request("mistral-small-latest")).await;
    assert_eq!(e.kind, ProviderErrorKind::BadRequest);
    assert!(e.message.contains("Field required"), "{}", e.message);
    assert_eq!(fake.requests().len(), 3, "none of these is retried");
}

#[tokio::test]
async fn malformed_json_is_reported() {
    let fake = FakeServer::start(vec![
        Reply::raw(200, "application/json", "{\"choices\": [ this is not json"),
        Reply::sse(&[
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"ok\"}}]}\n\n",
            "data: {\"choices\": oops}\n\n",
        ]),
        Reply::raw(200, "text/html", "<html>captive portal</html>"),
    ])
    .await;
    let p = provider(ProviderKind::OpenAi, &fake.url("/v1"));
    let e = p.complete(request("gpt-4o")).await.expect_err("bad JSON");
    assert_clean(&e);
    assert_eq!(e.kind, ProviderErrorKind::Malformed);
    assert!(e.message.contains("OpenAI-compatible"), "{}", e.message);

    let stream = p.chat(request("gpt-4o")).await.expect("opens");
    let (events, error) = drain(stream).await;
    assert_eq!(
        text_of(&events),
        "ok",
        "events before the bad chunk still arrive"
    );
    let error = error.expect("bad chunk");
    assert_clean(&error);
    assert_eq!(error.kind, ProviderErrorKind::Malformed);

    let models = p.list_models().await.expect_err("HTML");
    assert_eq!(models.kind, ProviderErrorKind::Malformed);
}

#[tokio::test]
async fn a_stream_cut_halfway_is_malformed() {
    // The body ends cleanly but the stream has no end ([DONE], message_stop,
    // finishReason, "done": true).
    let fake = FakeServer::start(vec![
        Reply::sse(&OPENAI_TEXT[..3]),
        Reply::sse(&ANTHROPIC_STREAM[..5]),
        Reply::sse(&GEMINI_STREAM[..2]),
        Reply::ndjson(&OLLAMA_STREAM[..2]),
        // The connection breaks mid-stream.
        Reply::sse(&OPENAI_TEXT[..2]).abort(),
    ])
    .await;
    let cases = [
        provider(ProviderKind::OpenAi, &fake.url("/v1")),
        provider(ProviderKind::Anthropic, &fake.url("")),
        provider(ProviderKind::Gemini, &fake.url("/v1beta")),
        provider(ProviderKind::Ollama, &fake.url("")),
        provider(ProviderKind::OpenAi, &fake.url("/v1")),
    ];
    for p in &cases {
        let stream = p.chat(request("m")).await.expect("opens");
        let (events, error) = drain(stream).await;
        let error = error.unwrap_or_else(|| panic!("{} should fail; got {events:?}", p.label()));
        assert_clean(&error);
        assert_eq!(
            error.kind,
            ProviderErrorKind::Malformed,
            "{}: {}",
            p.label(),
            error.message
        );
        assert!(error.message.contains("cut off"), "{}", error.message);
        assert!(!events.iter().any(|e| matches!(e, ChatEvent::Done { .. })));
    }
}

#[tokio::test]
async fn a_slow_server_times_out() {
    let short = ClientConfig {
        idle_timeout: Duration::from_millis(300),
        request_timeout: Duration::from_millis(500),
        max_retries: 0,
        ..config()
    };
    let fake = FakeServer::start(vec![
        // No headers within the idle timeout.
        Reply::sse(OPENAI_TEXT).delay(Duration::from_secs(3)),
        // Headers at once, then silence between chunks.
        Reply::sse(OPENAI_TEXT).chunk_delay(Duration::from_secs(3)),
        // A whole reply slower than the overall timeout.
        Reply::json(200, json!({})).delay(Duration::from_secs(3)),
    ])
    .await;
    let p = provider_with(short, ProviderKind::OpenAi, &fake.url("/v1"), Some(KEY));
    for _ in 0..2 {
        let started = Instant::now();
        let e = chat_err(&p, request("gpt-4o")).await;
        assert_eq!(e.kind, ProviderErrorKind::Timeout, "{}", e.message);
        assert!(e.message.contains(&fake.addr.to_string()), "{}", e.message);
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
    }
    let started = Instant::now();
    let e = p.complete(request("gpt-4o")).await.expect_err("slow");
    assert_eq!(e.kind, ProviderErrorKind::Timeout, "{}", e.message);
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn a_closed_port_is_unreachable_after_retries() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let p = provider(ProviderKind::OpenAi, &format!("http://{addr}/v1"));
    let e = chat_err(&p, request("gpt-4o")).await;
    assert_eq!(e.kind, ProviderErrorKind::Unreachable);
    assert!(
        e.message
            .starts_with(&format!("Could not reach {addr}: is it running?")),
        "{}",
        e.message
    );
}

#[tokio::test]
async fn redirects_are_followed_only_on_the_same_host() {
    let other = FakeServer::start(vec![Reply::sse(OPENAI_TEXT)]).await;
    // `localhost` is another host than `127.0.0.1`, as far as the key goes.
    let elsewhere = format!("http://localhost:{}/v1/chat/completions", other.addr.port());
    let fake = FakeServer::start(vec![
        Reply::redirect(307, &elsewhere),
        Reply::redirect(308, "/v2/chat/completions"),
        Reply::sse(OPENAI_TEXT),
    ])
    .await;
    let p = provider(ProviderKind::OpenAi, &fake.url("/v1"));
    let e = chat_err(&p, request("gpt-4o")).await;
    assert_eq!(e.kind, ProviderErrorKind::BadRequest);
    assert!(
        e.message.contains("redirected to another host (localhost)"),
        "{}",
        e.message
    );
    assert!(
        other.requests().is_empty(),
        "the other host was never asked"
    );

    // Same host: followed, with the key and the body.
    let events = chat_ok(&p, request("gpt-4o")).await;
    assert_eq!(
        last(&events),
        &ChatEvent::Done {
            reason: FinishReason::Stop
        }
    );
    let followed = fake.request(2);
    assert_eq!(followed.uri, "/v2/chat/completions");
    assert_eq!(
        followed.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(followed.body()["model"], "gpt-4o");
}

#[tokio::test]
async fn too_many_redirects_are_refused() {
    let hop = || Reply::redirect(307, "/v1/chat/completions");
    let fake = FakeServer::start(vec![hop(), hop(), hop(), hop(), hop()]).await;
    let p = provider(ProviderKind::OpenAi, &fake.url("/v1"));
    let e = chat_err(&p, request("gpt-4o")).await;
    assert_eq!(e.kind, ProviderErrorKind::BadRequest);
    assert!(e.message.contains("too many"), "{}", e.message);
    assert_eq!(
        fake.requests().len(),
        4,
        "the first try and three redirects"
    );
}

#[tokio::test]
async fn oversized_replies_are_refused() {
    let big = "x".repeat(300 * 1024);
    let huge_chunk = format!(
        "data: {{\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"{}\"}}}}]}}\n\n",
        "y".repeat(100 * 1024)
    );
    let pieces: Vec<&str> = std::iter::repeat_n(huge_chunk.as_str(), 4).collect();
    let fake = FakeServer::start(vec![
        // With a Content-Length over the cap: refused before reading.
        Reply::raw(200, "application/json", big.clone()),
        // Streamed without a length: refused once the count passes the cap.
        Reply::new(
            200,
            "application/json",
            vec![
                big[..150 * 1024].to_owned().into(),
                big[150 * 1024..].to_owned().into(),
            ],
        ),
        Reply::sse(&pieces),
    ])
    .await;
    let p = provider(ProviderKind::OpenAi, &fake.url("/v1"));
    for _ in 0..2 {
        let e = p.complete(request("gpt-4o")).await.expect_err("too big");
        assert_eq!(e.kind, ProviderErrorKind::Malformed);
        assert!(e.message.contains("larger than"), "{}", e.message);
    }
    let stream = p.chat(request("gpt-4o")).await.expect("opens");
    let (events, error) = drain(stream).await;
    let error = error.expect("stream over the cap");
    assert!(error.message.contains("larger than"), "{}", error.message);
    assert!(events.len() <= 2, "{}", events.len());
}

#[tokio::test]
async fn built_in_and_bad_base_urls_are_refused() {
    let client = HttpClient::new(config()).expect("client");
    let builtin = HttpProvider::with_client(client.clone(), ProviderKind::Builtin, "", None, None);
    assert_eq!(
        builtin.err().map(|e| e.kind),
        Some(ProviderErrorKind::BadRequest)
    );
    for bad in [
        "https://user:pw@api.openai.com/v1",
        "https://api.openai.com/v1?key=abc",
        "file:///etc/passwd",
    ] {
        let made = HttpProvider::with_client(
            client.clone(),
            ProviderKind::OpenAi,
            bad,
            None,
            Some(Secret::new(KEY.into())),
        );
        let e = made.err().unwrap_or_else(|| panic!("{bad} accepted"));
        assert_clean(&e);
        assert!(!e.message.contains("pw"), "{}", e.message);
    }
}

// ---------------------------------------------------------------- logs

/// A writer that keeps everything the subscriber logs.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn logs_never_hold_the_key_or_the_prompt() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    // The test runtime is single-threaded: the subscriber sees every task.
    let _guard = tracing::subscriber::set_default(subscriber);

    let echo = json!({"error": {"message": format!("bad key {KEY} for {PROMPT}"), "code": "invalid_api_key"}});
    let fake = FakeServer::start(vec![
        Reply::json(
            500,
            json!({"error": {"message": format!("failed on {PROMPT}")}}),
        ),
        Reply::sse(OPENAI_TEXT),
        Reply::json(401, echo),
        Reply::sse(&OPENAI_TEXT[..2]).abort(),
    ])
    .await;
    let p = provider(ProviderKind::OpenAi, &fake.url("/v1"));
    chat_ok(&p, request("gpt-4o")).await;
    let refused = p.chat(request("gpt-4o")).await.err().expect("401");
    assert!(!refused.message.contains(KEY));
    let cut = chat_err(&p, request("gpt-4o")).await;
    assert_eq!(cut.kind, ProviderErrorKind::Malformed, "{}", cut.message);

    let logs = String::from_utf8(captured.0.lock().expect("lock").clone()).expect("utf8");
    assert!(
        logs.contains("retrying provider request"),
        "the logs say something: {logs}"
    );
    assert!(!logs.contains(KEY), "key in logs: {logs}");
    assert!(!logs.contains("PROMPT-CANARY"), "prompt in logs: {logs}");
}
