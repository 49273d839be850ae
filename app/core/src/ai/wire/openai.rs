//! The `/chat/completions` format: OpenAI's platform, the many servers that
//! copy it (LM Studio, vLLM, llama.cpp, LiteLLM ...) and Mistral.
//!
//! The base URL ends with the version (`https://api.openai.com/v1`), so
//! paths here are `/chat/completions` and `/models`. The key goes in
//! `Authorization: Bearer`. A stream is SSE: `data: {chunk}` lines, each a
//! `chat.completion.chunk` whose `choices[0].delta` holds more text or
//! fragments of tool calls keyed by `index` (the first fragment carries `id`
//! and `function.name`, later ones pieces of `function.arguments`, a JSON
//! string). `finish_reason` closes the choice, a last chunk may carry
//! `usage`, and `data: [DONE]` ends the stream.
//!
//! The flavours differ in small ways that matter:
//! - OpenAI's platform wants `max_completion_tokens` (its reasoning models
//!   refuse `max_tokens`), and reports usage when asked with
//!   `stream_options.include_usage`.
//! - Mistral refuses fields it does not know (so no `stream_options`; it
//!   sends usage on its own), wants tool-call ids of exactly nine letters
//!   and digits (ids from elsewhere are mapped, the same way every time, so
//!   a call and its result still match), wants the tool's `name` on tool
//!   results, an empty string rather than `null` as the content of an
//!   assistant turn that only calls tools, and may send a tool call whole
//!   without an `index`. Its `tool_choice` takes `auto`, `none`, `any` and
//!   `required`; TFTSR sends `auto`, which both accept.
//! - Other compatible servers get `max_tokens`, the field they all know.

use serde_json::{Map, Value, json};

use super::sse::{SseEvent, SseParser};
use super::{
    Auth, ErrorDetails, Method, StreamDecoder, ToolCallAssembler, WireRequest, classify, cut_off,
    malformed, parse_arguments, parse_json,
};
use crate::ai::{
    ChatEvent, ChatMessage, ChatRequest, FinishReason, ModelInfo, ProviderError, Role, ToolCall,
    Usage,
};

/// Which server speaks the format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    /// Any OpenAI-compatible server.
    Compatible,
    /// OpenAI's own platform (`api.openai.com`).
    OpenAi,
    /// Mistral's platform.
    Mistral,
}

impl Flavor {
    /// OpenAI's platform when the base URL's host is `api.openai.com`,
    /// otherwise a compatible server.
    pub fn for_base_url(base_url: &str) -> Self {
        let rest = base_url
            .strip_prefix("https://")
            .or_else(|| base_url.strip_prefix("http://"))
            .unwrap_or(base_url);
        let authority = rest.split('/').next().unwrap_or_default();
        let host = authority.split(':').next().unwrap_or_default();
        if host.eq_ignore_ascii_case("api.openai.com") {
            Self::OpenAi
        } else {
            Self::Compatible
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Compatible => "OpenAI-compatible",
            Self::OpenAi => "OpenAI",
            Self::Mistral => "Mistral",
        }
    }
}

/// `POST /chat/completions`.
pub fn chat_request(flavor: Flavor, request: &ChatRequest, stream: bool) -> WireRequest {
    let mut body = Map::new();
    body.insert("model".into(), json!(request.model));
    let messages: Vec<Value> = request
        .messages
        .iter()
        .map(|m| message_json(flavor, m))
        .collect();
    body.insert("messages".into(), Value::Array(messages));
    if !request.tools.is_empty() {
        let tools: Vec<Value> = request
            .tools
            .iter()
            .map(|t| {
                json!({
                    "type": "function",
                    "function": {
                        "name": t.name,
                        "description": t.description,
                        "parameters": t.parameters,
                    }
                })
            })
            .collect();
        body.insert("tools".into(), Value::Array(tools));
        body.insert("tool_choice".into(), json!("auto"));
    }
    if let Some(t) = request.temperature {
        body.insert("temperature".into(), json!(t));
    }
    if let Some(max) = request.max_tokens {
        let field = match flavor {
            Flavor::OpenAi => "max_completion_tokens",
            Flavor::Compatible | Flavor::Mistral => "max_tokens",
        };
        body.insert(field.into(), json!(max));
    }
    body.insert("stream".into(), json!(stream));
    if stream && flavor != Flavor::Mistral {
        body.insert("stream_options".into(), json!({"include_usage": true}));
    }
    WireRequest {
        method: Method::Post,
        path: "/chat/completions".into(),
        headers: vec![(
            "accept",
            if stream {
                "text/event-stream"
            } else {
                "application/json"
            }
            .into(),
        )],
        body: Some(Value::Object(body)),
        auth: Auth::Bearer,
        streaming: stream,
    }
}

fn message_json(flavor: Flavor, message: &ChatMessage) -> Value {
    let id = |id: &str| match flavor {
        Flavor::Mistral => mistral_call_id(id),
        Flavor::Compatible | Flavor::OpenAi => id.to_owned(),
    };
    match message.role {
        Role::System | Role::User => {
            json!({"role": message.role.as_str(), "content": message.content})
        }
        Role::Assistant => {
            let mut out = Map::new();
            out.insert("role".into(), json!("assistant"));
            let content = if message.content.is_empty() && !message.tool_calls.is_empty() {
                match flavor {
                    Flavor::Mistral => json!(""),
                    Flavor::Compatible | Flavor::OpenAi => Value::Null,
                }
            } else {
                json!(message.content)
            };
            out.insert("content".into(), content);
            if !message.tool_calls.is_empty() {
                let calls: Vec<Value> = message
                    .tool_calls
                    .iter()
                    .map(|c| {
                        json!({
                            "id": id(&c.id),
                            "type": "function",
                            "function": {
                                "name": c.name,
                                "arguments": c.arguments.to_string(),
                            }
                        })
                    })
                    .collect();
                out.insert("tool_calls".into(), Value::Array(calls));
            }
            Value::Object(out)
        }
        Role::Tool => {
            let mut out = Map::new();
            out.insert("role".into(), json!("tool"));
            out.insert(
                "tool_call_id".into(),
                json!(id(message.tool_call_id.as_deref().unwrap_or_default())),
            );
            if flavor == Flavor::Mistral
                && let Some(name) = &message.tool_name
            {
                out.insert("name".into(), json!(name));
            }
            out.insert("content".into(), json!(message.content));
            Value::Object(out)
        }
    }
}

/// Mistral accepts only ids of nine letters and digits. Others are mapped
/// through a fixed hash, so the same id always gives the same result.
pub fn mistral_call_id(id: &str) -> String {
    if id.len() == 9 && id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return id.to_owned();
    }
    const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    // FNV-1a, 64 bits: stable across builds and platforms.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in id.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    let mut out = String::with_capacity(9);
    for _ in 0..9 {
        let digit = usize::try_from(hash % 62).unwrap_or_default();
        out.push(char::from(ALPHABET[digit]));
        hash /= 62;
        if hash == 0 {
            hash = 0x9e37_79b9_7f4a_7c15;
        }
    }
    out
}

fn finish_reason(text: &str) -> FinishReason {
    match text {
        "stop" | "end_turn" => FinishReason::Stop,
        "length" | "model_length" => FinishReason::Length,
        "tool_calls" | "function_call" => FinishReason::ToolCalls,
        "content_filter" => FinishReason::ContentFilter,
        _ => FinishReason::Other,
    }
}

fn usage(value: &Value) -> Option<Usage> {
    let count = |field: &str| {
        value
            .get(field)
            .and_then(Value::as_u64)
            .map(|n| u32::try_from(n).unwrap_or(u32::MAX))
    };
    let prompt = count("prompt_tokens");
    let completion = count("completion_tokens");
    (prompt.is_some() || completion.is_some()).then(|| Usage {
        prompt_tokens: prompt.unwrap_or_default(),
        completion_tokens: completion.unwrap_or_default(),
    })
}

/// Message content: a string, `null`, or (Mistral's newer models) an array
/// of chunks of which the `text` ones are the reply.
fn content_text(content: Option<&Value>) -> String {
    match content {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Array(chunks)) => chunks
            .iter()
            .filter(|c| c.get("type").and_then(Value::as_str) == Some("text"))
            .filter_map(|c| c.get("text").and_then(Value::as_str))
            .collect(),
        _ => String::new(),
    }
}

/// The stream decoder.
pub struct Decoder {
    flavor: Flavor,
    sse: SseParser,
    calls: ToolCallAssembler,
    reason: Option<FinishReason>,
    saw_tool_calls: bool,
    done: bool,
}

impl Decoder {
    pub fn new(flavor: Flavor) -> Self {
        Self {
            flavor,
            sse: SseParser::new(flavor.label()),
            calls: ToolCallAssembler::default(),
            reason: None,
            saw_tool_calls: false,
            done: false,
        }
    }

    fn label(&self) -> &'static str {
        self.flavor.label()
    }

    fn flush_calls(&mut self, out: &mut Vec<ChatEvent>) -> Result<(), ProviderError> {
        let calls = self.calls.take_all(self.label())?;
        self.saw_tool_calls |= !calls.is_empty();
        out.extend(calls);
        Ok(())
    }

    fn done_event(&mut self, out: &mut Vec<ChatEvent>) -> Result<(), ProviderError> {
        self.flush_calls(out)?;
        let reason = match self.reason {
            Some(FinishReason::Stop) | None if self.saw_tool_calls => FinishReason::ToolCalls,
            Some(reason) => reason,
            None => FinishReason::Stop,
        };
        out.push(ChatEvent::Done { reason });
        self.done = true;
        Ok(())
    }

    fn event(&mut self, event: &SseEvent, out: &mut Vec<ChatEvent>) -> Result<(), ProviderError> {
        if self.done {
            return Ok(());
        }
        if event.is_done_marker() {
            return self.done_event(out);
        }
        let label = self.label();
        let chunk: Value = parse_json(label, event.data.as_bytes(), "a streamed chunk")?;
        if let Some(error) = chunk.get("error").filter(|e| !e.is_null()) {
            let details = ErrorDetails::from_value(&json!({ "error": error }));
            return Err(classify(label, None, None, &details));
        }
        if let Some(choice) = chunk
            .get("choices")
            .and_then(Value::as_array)
            .and_then(|c| c.first())
        {
            if let Some(delta) = choice.get("delta") {
                let text = content_text(delta.get("content"));
                if !text.is_empty() {
                    out.push(ChatEvent::Text { delta: text });
                }
                if let Some(calls) = delta.get("tool_calls").and_then(Value::as_array) {
                    for call in calls {
                        self.call_fragment(call);
                    }
                }
            }
            if let Some(reason) = choice.get("finish_reason").and_then(Value::as_str) {
                self.reason = Some(finish_reason(reason));
                self.flush_calls(out)?;
            }
        }
        if let Some(usage) = chunk.get("usage").and_then(usage) {
            out.push(ChatEvent::Usage { usage });
        }
        Ok(())
    }

    fn call_fragment(&mut self, call: &Value) {
        let id = call.get("id").and_then(Value::as_str);
        let key = match call.get("index").and_then(Value::as_u64) {
            Some(index) => index,
            // No index (Mistral sends whole calls): a fragment with an id
            // starts a call, one without continues the last.
            None if id.is_some() => self.calls.next_key(),
            None => self.calls.last_key().unwrap_or_default(),
        };
        let function = call.get("function");
        let name = function.and_then(|f| f.get("name")).and_then(Value::as_str);
        let args = match function.and_then(|f| f.get("arguments")) {
            Some(Value::String(text)) => text.clone(),
            Some(Value::Null) | None => String::new(),
            // Some servers send the arguments as an object already.
            Some(other) => other.to_string(),
        };
        self.calls.push(key, id, name, &args);
    }
}

impl StreamDecoder for Decoder {
    fn feed(&mut self, bytes: &[u8]) -> Result<Vec<ChatEvent>, ProviderError> {
        let mut out = Vec::new();
        for event in self.sse.feed(bytes)? {
            self.event(&event, &mut out)?;
        }
        Ok(out)
    }

    fn finish(&mut self) -> Result<Vec<ChatEvent>, ProviderError> {
        let mut out = Vec::new();
        if let Some(event) = self.sse.finish()? {
            self.event(&event, &mut out)?;
        }
        if !self.done {
            // A server that closed the choice but skipped `[DONE]` ended
            // properly enough; one that did neither was cut off.
            if self.reason.is_none() {
                return Err(cut_off(self.label()));
            }
            self.done_event(&mut out)?;
        }
        Ok(out)
    }
}

/// Parses a non-streamed `chat.completion`.
pub fn parse_reply(flavor: Flavor, body: &[u8]) -> Result<Vec<ChatEvent>, ProviderError> {
    let label = flavor.label();
    let reply: Value = parse_json(label, body, "the reply")?;
    if let Some(error) = reply.get("error").filter(|e| !e.is_null()) {
        let details = ErrorDetails::from_value(&json!({ "error": error }));
        return Err(classify(label, None, None, &details));
    }
    let choice = reply
        .get("choices")
        .and_then(Value::as_array)
        .and_then(|c| c.first())
        .ok_or_else(|| malformed(label, "it has no choices"))?;
    let message = choice
        .get("message")
        .ok_or_else(|| malformed(label, "its choice has no message"))?;
    let mut out = Vec::new();
    let text = content_text(message.get("content"));
    if !text.is_empty() {
        out.push(ChatEvent::Text { delta: text });
    }
    let mut saw_calls = false;
    for (n, call) in message
        .get("tool_calls")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let function = call
            .get("function")
            .ok_or_else(|| malformed(label, "a tool call has no function"))?;
        let name = function
            .get("name")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
            .ok_or_else(|| malformed(label, "a tool call has no name"))?;
        let arguments = match function.get("arguments") {
            Some(Value::String(text)) => parse_arguments(label, name, text)?,
            Some(value @ Value::Object(_)) => value.clone(),
            _ => Value::Object(Map::new()),
        };
        let id = call
            .get("id")
            .and_then(Value::as_str)
            .filter(|id| !id.is_empty())
            .map_or_else(|| format!("call_{n}"), str::to_owned);
        saw_calls = true;
        out.push(ChatEvent::ToolCall {
            call: ToolCall {
                id,
                name: name.to_owned(),
                arguments,
            },
        });
    }
    if let Some(usage) = reply.get("usage").and_then(usage) {
        out.push(ChatEvent::Usage { usage });
    }
    let reason = match choice.get("finish_reason").and_then(Value::as_str) {
        Some(reason) => finish_reason(reason),
        None => FinishReason::Stop,
    };
    let reason = if saw_calls && reason == FinishReason::Stop {
        FinishReason::ToolCalls
    } else {
        reason
    };
    out.push(ChatEvent::Done { reason });
    Ok(out)
}

/// `GET /models`.
pub fn models_request() -> WireRequest {
    WireRequest {
        method: Method::Get,
        path: "/models".into(),
        headers: vec![("accept", "application/json".into())],
        body: None,
        auth: Auth::Bearer,
        streaming: false,
    }
}

/// Parses `{"object": "list", "data": [{"id": ...}]}`.
pub fn parse_models(flavor: Flavor, body: &[u8]) -> Result<Vec<ModelInfo>, ProviderError> {
    let label = flavor.label();
    let reply: Value = parse_json(label, body, "the model list")?;
    let data = reply
        .get("data")
        .and_then(Value::as_array)
        .ok_or_else(|| malformed(label, "the model list has no `data`"))?;
    let mut models: Vec<ModelInfo> = data
        .iter()
        .filter_map(|m| m.get("id").and_then(Value::as_str))
        .map(|id| ModelInfo {
            name: id.to_owned(),
            size_bytes: None,
        })
        .collect();
    models.sort_by(|a, b| a.name.cmp(&b.name));
    models.dedup();
    Ok(models)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ai::{ProviderErrorKind, ToolSpec};

    fn request() -> ChatRequest {
        let call = ToolCall {
            id: "call_abc123".into(),
            name: "search_logs".into(),
            arguments: json!({"query": "timeout"}),
        };
        let mut assistant = ChatMessage::assistant("");
        assistant.tool_calls = vec![call.clone()];
        ChatRequest {
            model: "gpt-4o-mini".into(),
            messages: vec![
                ChatMessage::system("You are a root-cause analyst."),
                ChatMessage::user("Why did the API fail?"),
                assistant,
                ChatMessage::tool_result(&call, "3 matches"),
            ],
            tools: vec![ToolSpec {
                name: "search_logs".into(),
                description: "Search the logs".into(),
                parameters: json!({"type": "object", "properties": {"query": {"type": "string"}}}),
            }],
            temperature: Some(0.2),
            max_tokens: Some(500),
        }
    }

    fn decode(flavor: Flavor, input: &str, chunk: usize) -> Result<Vec<ChatEvent>, ProviderError> {
        let mut decoder = Decoder::new(flavor);
        let mut out = Vec::new();
        for piece in input.as_bytes().chunks(chunk) {
            out.extend(decoder.feed(piece)?);
        }
        out.extend(decoder.finish()?);
        Ok(out)
    }

    #[test]
    fn openai_request_shape() {
        let wire = chat_request(Flavor::OpenAi, &request(), true);
        assert_eq!(wire.method, Method::Post);
        assert_eq!(wire.path, "/chat/completions");
        assert_eq!(wire.auth, Auth::Bearer);
        let body = wire.body.expect("body");
        assert_eq!(
            body["messages"][0],
            json!({"role": "system", "content": "You are a root-cause analyst."})
        );
        assert_eq!(body["messages"][2]["content"], Value::Null);
        assert_eq!(
            body["messages"][2]["tool_calls"][0],
            json!({"id": "call_abc123", "type": "function",
                   "function": {"name": "search_logs", "arguments": "{\"query\":\"timeout\"}"}})
        );
        assert_eq!(
            body["messages"][3],
            json!({"role": "tool", "tool_call_id": "call_abc123", "content": "3 matches"})
        );
        assert_eq!(body["tools"][0]["type"], "function");
        assert_eq!(body["tools"][0]["function"]["name"], "search_logs");
        assert_eq!(body["tool_choice"], "auto");
        assert_eq!(body["max_completion_tokens"], 500);
        assert!(body.get("max_tokens").is_none());
        assert_eq!(body["stream"], true);
        assert_eq!(body["stream_options"]["include_usage"], true);
    }

    #[test]
    fn mistral_request_differences() {
        let wire = chat_request(Flavor::Mistral, &request(), true);
        let body = wire.body.expect("body");
        assert!(body.get("stream_options").is_none());
        assert_eq!(body["max_tokens"], 500);
        assert_eq!(body["messages"][2]["content"], "");
        let id = body["messages"][2]["tool_calls"][0]["id"]
            .as_str()
            .expect("id");
        assert_eq!(id.len(), 9);
        assert!(id.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_eq!(body["messages"][3]["tool_call_id"], id);
        assert_eq!(body["messages"][3]["name"], "search_logs");
        assert_eq!(mistral_call_id("D681PevKs"), "D681PevKs");
        assert_ne!(mistral_call_id("call_1"), mistral_call_id("call_2"));
    }

    #[test]
    fn compatible_servers_get_max_tokens() {
        let body = chat_request(Flavor::Compatible, &request(), false)
            .body
            .expect("body");
        assert_eq!(body["max_tokens"], 500);
        assert_eq!(body["stream"], false);
        assert!(body.get("stream_options").is_none());
        assert_eq!(
            Flavor::for_base_url("https://api.openai.com/v1"),
            Flavor::OpenAi
        );
        assert_eq!(
            Flavor::for_base_url("http://127.0.0.1:1234/v1"),
            Flavor::Compatible
        );
    }

    const TEXT_STREAM: &str = "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n\
data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"The disk\"},\"finish_reason\":null}]}\n\n\
data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" filled.\"},\"finish_reason\":null}]}\n\n\
data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n\
data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":4,\"total_tokens\":16}}\n\n\
data: [DONE]\n\n";

    #[test]
    fn text_stream_in_any_chunking() {
        for chunk in [1, 7, 64, TEXT_STREAM.len()] {
            let events = decode(Flavor::OpenAi, TEXT_STREAM, chunk).expect("valid");
            assert_eq!(
                events,
                vec![
                    ChatEvent::Text {
                        delta: "The disk".into()
                    },
                    ChatEvent::Text {
                        delta: " filled.".into()
                    },
                    ChatEvent::Usage {
                        usage: Usage {
                            prompt_tokens: 12,
                            completion_tokens: 4
                        }
                    },
                    ChatEvent::Done {
                        reason: FinishReason::Stop
                    },
                ],
                "chunk {chunk}"
            );
        }
    }

    #[test]
    fn tool_call_fragments_are_assembled() {
        let stream = "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"index\":0,\"id\":\"call_Ab\",\"type\":\"function\",\"function\":{\"name\":\"search_logs\",\"arguments\":\"\"}}]},\"finish_reason\":null}]}\n\n\
data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"que\"}}]},\"finish_reason\":null}]}\n\n\
data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":1,\"id\":\"call_Cd\",\"type\":\"function\",\"function\":{\"name\":\"count\",\"arguments\":\"{}\"}}]},\"finish_reason\":null}]}\n\n\
data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"ry\\\": \\\"oom\\\"}\"}}]},\"finish_reason\":null}]}\n\n\
data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\n\
data: [DONE]\n\n";
        let events = decode(Flavor::OpenAi, stream, 5).expect("valid");
        assert_eq!(
            events,
            vec![
                ChatEvent::ToolCall {
                    call: ToolCall {
                        id: "call_Ab".into(),
                        name: "search_logs".into(),
                        arguments: json!({"query": "oom"}),
                    }
                },
                ChatEvent::ToolCall {
                    call: ToolCall {
                        id: "call_Cd".into(),
                        name: "count".into(),
                        arguments: json!({})
                    }
                },
                ChatEvent::Done {
                    reason: FinishReason::ToolCalls
                },
            ]
        );
    }

    #[test]
    fn mistral_whole_calls_without_index() {
        let stream = "data: {\"id\":\"x\",\"object\":\"chat.completion.chunk\",\"model\":\"mistral-small-latest\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n\
data: {\"id\":\"x\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"id\":\"D681PevKs\",\"function\":{\"name\":\"search_logs\",\"arguments\":\"{\\\"query\\\": \\\"disk\\\"}\"}}]},\"finish_reason\":\"tool_calls\"}],\"usage\":{\"prompt_tokens\":70,\"total_tokens\":92,\"completion_tokens\":22}}\n\n\
data: [DONE]\n\n";
        let events = decode(Flavor::Mistral, stream, 9).expect("valid");
        assert_eq!(events.len(), 3);
        assert!(
            matches!(&events[0], ChatEvent::ToolCall { call } if call.id == "D681PevKs" && call.arguments == json!({"query": "disk"}))
        );
        assert_eq!(
            events[1],
            ChatEvent::Usage {
                usage: Usage {
                    prompt_tokens: 70,
                    completion_tokens: 22
                }
            }
        );
    }

    #[test]
    fn a_cut_stream_is_malformed() {
        let cut = &TEXT_STREAM[..TEXT_STREAM.len() / 2];
        let error = decode(Flavor::OpenAi, cut, 10).expect_err("cut");
        assert_eq!(error.kind, ProviderErrorKind::Malformed);
        assert!(error.message.contains("cut off"));
    }

    #[test]
    fn an_error_inside_the_stream_is_reported() {
        let stream = "data: {\"error\":{\"message\":\"The server had an error while processing your request.\",\"type\":\"server_error\"}}\n\n";
        let error = decode(Flavor::OpenAi, stream, 3).expect_err("error");
        assert_eq!(error.kind, ProviderErrorKind::Server);
        assert!(error.message.contains("The server had an error"));
    }

    #[test]
    fn bad_json_in_a_chunk_is_malformed() {
        let error = decode(Flavor::Compatible, "data: {nope\n\n", 100).expect_err("bad");
        assert_eq!(error.kind, ProviderErrorKind::Malformed);
    }

    #[test]
    fn non_streamed_reply() {
        let body = br#"{
          "id": "chatcmpl-123", "object": "chat.completion", "created": 1677652288, "model": "gpt-4o-mini",
          "choices": [{"index": 0, "message": {"role": "assistant", "content": null,
             "tool_calls": [{"id": "call_abc", "type": "function",
                             "function": {"name": "search_logs", "arguments": "{\"query\":\"oom\"}"}}]},
             "logprobs": null, "finish_reason": "tool_calls"}],
          "usage": {"prompt_tokens": 9, "completion_tokens": 12, "total_tokens": 21}
        }"#;
        let events = parse_reply(Flavor::OpenAi, body).expect("valid");
        assert_eq!(events.len(), 3);
        assert_eq!(
            events[2],
            ChatEvent::Done {
                reason: FinishReason::ToolCalls
            }
        );
        let text = br#"{"choices":[{"index":0,"message":{"role":"assistant","content":"Hello"},"finish_reason":"length"}]}"#;
        assert_eq!(
            parse_reply(Flavor::Compatible, text).expect("valid"),
            vec![
                ChatEvent::Text {
                    delta: "Hello".into()
                },
                ChatEvent::Done {
                    reason: FinishReason::Length
                }
            ]
        );
        assert_eq!(
            parse_reply(Flavor::OpenAi, b"{}")
                .expect_err("no choices")
                .kind,
            ProviderErrorKind::Malformed
        );
    }

    #[test]
    fn models_are_listed_sorted() {
        let body = br#"{"object":"list","data":[{"id":"gpt-4o","object":"model","created":1,"owned_by":"system"},{"id":"gpt-4o-mini","object":"model"},{"id":"babbage-002","object":"model"}]}"#;
        let names: Vec<String> = parse_models(Flavor::OpenAi, body)
            .expect("valid")
            .into_iter()
            .map(|m| m.name)
            .collect();
        assert_eq!(names, ["babbage-002", "gpt-4o", "gpt-4o-mini"]);
    }

    #[test]
    fn openai_errors() {
        let d = super::super::Dialect::OpenAi(Flavor::OpenAi);
        let auth = br#"{"error":{"message":"Incorrect API key provided: sk-abc***xyz.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}"#;
        assert_eq!(
            d.error_from_reply(401, None, auth).kind,
            ProviderErrorKind::Auth
        );
        let model = br#"{"error":{"message":"The model `gpt-9` does not exist or you do not have access to it.","type":"invalid_request_error","param":null,"code":"model_not_found"}}"#;
        let e = d.error_from_reply(404, None, model);
        assert_eq!(e.kind, ProviderErrorKind::UnknownModel);
        assert!(e.message.starts_with("OpenAI does not know the model"));
        let context = br#"{"error":{"message":"This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}"#;
        assert_eq!(
            d.error_from_reply(400, None, context).kind,
            ProviderErrorKind::ContextTooLong
        );
    }

    #[test]
    fn mistral_errors() {
        let d = super::super::Dialect::OpenAi(Flavor::Mistral);
        let model = br#"{"object":"error","message":"Invalid model: mistral-huge","type":"invalid_model","param":null,"code":"1500"}"#;
        assert_eq!(
            d.error_from_reply(400, None, model).kind,
            ProviderErrorKind::UnknownModel
        );
        let auth = br#"{"message":"Unauthorized","request_id":"4b0c"}"#;
        assert_eq!(
            d.error_from_reply(401, None, auth).kind,
            ProviderErrorKind::Auth
        );
        let extra = br#"{"object":"error","message":{"detail":[{"type":"extra_forbidden","loc":["body","stream_options"],"msg":"Extra inputs are not permitted"}]},"type":"invalid_request_error"}"#;
        let e = d.error_from_reply(422, None, extra);
        assert_eq!(e.kind, ProviderErrorKind::BadRequest);
        let detail =
            br#"{"detail":[{"type":"missing","loc":["body","model"],"msg":"Field required"}]}"#;
        assert!(
            d.error_from_reply(422, None, detail)
                .message
                .contains("Field required")
        );
    }
}
