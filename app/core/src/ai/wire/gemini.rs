//! Google's Gemini API (`generativelanguage.googleapis.com/v1beta`).
//!
//! `POST /models/{model}:streamGenerateContent?alt=sse` streams,
//! `POST /models/{model}:generateContent` does not. The key goes in the
//! `x-goog-api-key` header, never in the URL (a `?key=` would end up in
//! proxy and server logs). The body holds `contents` (roles `user` and
//! `model`, each with `parts`), the system prompt as `systemInstruction`,
//! tools as `functionDeclarations` whose `parameters` are an OpenAPI
//! subset of JSON Schema, and `generationConfig`.
//!
//! The model calls a tool with a `functionCall` part (`name`, `args`,
//! sometimes an `id`), whole, never in fragments; the result goes back as a
//! `functionResponse` part keyed by name, whose `response` must be an
//! object. Each SSE event is a whole `GenerateContentResponse`; there is no
//! end marker, so a stream that stops before a candidate has a
//! `finishReason` was cut off.
//!
//! Gemini 3 models sign their function calls (`thoughtSignature`) and want
//! the signature back when the conversation is sent again. TFTSR keeps no
//! signatures, so it sends the documented placeholder that tells the API
//! the call's reasoning is not available.

use serde_json::{Map, Value, json};

use super::sse::{SseEvent, SseParser};
use super::{
    Auth, ErrorDetails, Method, StreamDecoder, WireRequest, classify, cut_off, malformed,
    parse_json, system_text,
};
use crate::ai::{
    ChatEvent, ChatRequest, FinishReason, ModelInfo, ProviderError, Role, ToolCall, Usage,
};

const LABEL: &str = "Google Gemini";

/// The header that carries the key.
pub const KEY_HEADER: &str = "x-goog-api-key";

/// Sent as the `thoughtSignature` of replayed function calls (see the
/// module docs).
pub const REPLAYED_CALL_SIGNATURE: &str = "skip_thought_signature_validator";

/// The schema keywords Gemini's `Schema` object accepts; others (such as
/// `additionalProperties` or `$schema`) make it refuse the request.
const SCHEMA_KEYS: &[&str] = &[
    "type",
    "format",
    "title",
    "description",
    "nullable",
    "enum",
    "items",
    "maxItems",
    "minItems",
    "properties",
    "required",
    "minProperties",
    "maxProperties",
    "minLength",
    "maxLength",
    "pattern",
    "example",
    "anyOf",
    "propertyOrdering",
    "default",
    "minimum",
    "maximum",
];

/// The model's path segment: without a `models/` prefix, and escaped so
/// that it can't change the path.
fn model_segment(model: &str) -> String {
    let model = model.trim();
    let model = model.strip_prefix("models/").unwrap_or(model);
    let mut out = String::new();
    for byte in model.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// `POST /models/{model}:streamGenerateContent?alt=sse` or
/// `:generateContent`.
pub fn chat_request(request: &ChatRequest, stream: bool) -> WireRequest {
    let mut body = Map::new();
    body.insert("contents".into(), Value::Array(contents(request)));
    if let Some(system) = system_text(request) {
        body.insert(
            "systemInstruction".into(),
            json!({"parts": [{"text": system}]}),
        );
    }
    if !request.tools.is_empty() {
        let declarations: Vec<Value> = request
            .tools
            .iter()
            .map(|t| {
                json!({
                    "name": t.name,
                    "description": t.description,
                    "parameters": schema(&t.parameters),
                })
            })
            .collect();
        body.insert(
            "tools".into(),
            json!([{ "functionDeclarations": declarations }]),
        );
    }
    let mut config = Map::new();
    if let Some(t) = request.temperature {
        config.insert("temperature".into(), json!(t));
    }
    if let Some(max) = request.max_tokens {
        config.insert("maxOutputTokens".into(), json!(max));
    }
    if !config.is_empty() {
        body.insert("generationConfig".into(), Value::Object(config));
    }
    let model = model_segment(&request.model);
    let path = if stream {
        format!("/models/{model}:streamGenerateContent?alt=sse")
    } else {
        format!("/models/{model}:generateContent")
    };
    WireRequest {
        method: Method::Post,
        path,
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
        auth: Auth::Header(KEY_HEADER),
        streaming: stream,
    }
}

fn contents(request: &ChatRequest) -> Vec<Value> {
    let mut turns: Vec<(&'static str, Vec<Value>)> = Vec::new();
    for message in &request.messages {
        let (role, parts) = match message.role {
            Role::System => continue,
            Role::User => ("user", text_part(&message.content)),
            Role::Assistant => {
                let mut parts = text_part(&message.content);
                for (n, call) in message.tool_calls.iter().enumerate() {
                    let args = match &call.arguments {
                        Value::Object(_) => call.arguments.clone(),
                        _ => Value::Object(Map::new()),
                    };
                    let mut part = json!({"functionCall": {"name": call.name, "args": args}});
                    if n == 0 {
                        part["thoughtSignature"] = json!(REPLAYED_CALL_SIGNATURE);
                    }
                    parts.push(part);
                }
                ("model", parts)
            }
            Role::Tool => {
                let response = match serde_json::from_str::<Value>(&message.content) {
                    Ok(object @ Value::Object(_)) => object,
                    _ => json!({"result": message.content}),
                };
                (
                    "user",
                    vec![json!({"functionResponse": {
                        "name": message.tool_name.as_deref().unwrap_or_default(),
                        "response": response,
                    }})],
                )
            }
        };
        if parts.is_empty() {
            continue;
        }
        match turns.last_mut() {
            Some((last, existing)) if *last == role => existing.extend(parts),
            _ => turns.push((role, parts)),
        }
    }
    turns
        .into_iter()
        .map(|(role, parts)| json!({"role": role, "parts": parts}))
        .collect()
}

fn text_part(text: &str) -> Vec<Value> {
    if text.is_empty() {
        Vec::new()
    } else {
        vec![json!({"text": text})]
    }
}

/// A JSON Schema cut down to the keywords Gemini accepts.
pub fn schema(value: &Value) -> Value {
    let Value::Object(map) = value else {
        return value.clone();
    };
    let mut out = Map::new();
    for (key, inner) in map {
        if !SCHEMA_KEYS.contains(&key.as_str()) {
            continue;
        }
        let cleaned = match (key.as_str(), inner) {
            ("properties", Value::Object(props)) => Value::Object(
                props
                    .iter()
                    .map(|(name, prop)| (name.clone(), schema(prop)))
                    .collect(),
            ),
            ("items", item) => schema(item),
            ("anyOf", Value::Array(options)) => Value::Array(options.iter().map(schema).collect()),
            _ => inner.clone(),
        };
        out.insert(key.clone(), cleaned);
    }
    Value::Object(out)
}

fn finish_reason(text: &str) -> FinishReason {
    match text {
        "STOP" => FinishReason::Stop,
        "MAX_TOKENS" => FinishReason::Length,
        "SAFETY" | "RECITATION" | "BLOCKLIST" | "PROHIBITED_CONTENT" | "SPII" | "IMAGE_SAFETY" => {
            FinishReason::ContentFilter
        }
        _ => FinishReason::Other,
    }
}

fn usage(value: &Value) -> Option<Usage> {
    let meta = value.get("usageMetadata")?;
    let count = |field: &str| {
        meta.get(field)
            .and_then(Value::as_u64)
            .map_or(0, |n| u32::try_from(n).unwrap_or(u32::MAX))
    };
    Some(Usage {
        prompt_tokens: count("promptTokenCount"),
        completion_tokens: count("candidatesTokenCount"),
    })
}

/// Reads one `GenerateContentResponse`: its events, and the finish reason
/// when the candidate is complete (or the prompt was blocked).
struct ResponseReader {
    calls_seen: u64,
}

impl ResponseReader {
    fn read(
        &mut self,
        response: &Value,
        out: &mut Vec<ChatEvent>,
    ) -> Result<Option<FinishReason>, ProviderError> {
        if let Some(error) = response.get("error").filter(|e| !e.is_null()) {
            let details = ErrorDetails::from_value(&json!({ "error": error }));
            return Err(classify(LABEL, None, None, &details));
        }
        let candidate = response
            .get("candidates")
            .and_then(Value::as_array)
            .and_then(|c| c.first());
        let Some(candidate) = candidate else {
            let blocked = response
                .get("promptFeedback")
                .and_then(|f| f.get("blockReason"))
                .is_some();
            return Ok(blocked.then_some(FinishReason::ContentFilter));
        };
        let parts = candidate
            .get("content")
            .and_then(|c| c.get("parts"))
            .and_then(Value::as_array);
        for part in parts.into_iter().flatten() {
            if part.get("thought").and_then(Value::as_bool) == Some(true) {
                continue;
            }
            if let Some(text) = part.get("text").and_then(Value::as_str)
                && !text.is_empty()
            {
                out.push(ChatEvent::Text { delta: text.into() });
            }
            if let Some(call) = part.get("functionCall") {
                let name = call
                    .get("name")
                    .and_then(Value::as_str)
                    .filter(|n| !n.is_empty())
                    .ok_or_else(|| malformed(LABEL, "a function call has no name"))?;
                let arguments = match call.get("args") {
                    Some(args @ Value::Object(_)) => args.clone(),
                    _ => Value::Object(Map::new()),
                };
                let id = call
                    .get("id")
                    .and_then(Value::as_str)
                    .filter(|id| !id.is_empty())
                    .map_or_else(|| format!("call_{}", self.calls_seen), str::to_owned);
                self.calls_seen += 1;
                out.push(ChatEvent::ToolCall {
                    call: ToolCall {
                        id,
                        name: name.into(),
                        arguments,
                    },
                });
            }
        }
        let reason = candidate
            .get("finishReason")
            .and_then(Value::as_str)
            .map(finish_reason)
            .map(|reason| {
                if reason == FinishReason::Stop && self.calls_seen > 0 {
                    FinishReason::ToolCalls
                } else {
                    reason
                }
            });
        Ok(reason)
    }
}

/// The stream decoder.
pub struct Decoder {
    sse: SseParser,
    reader: ResponseReader,
    done: bool,
}

impl Default for Decoder {
    fn default() -> Self {
        Self::new()
    }
}

impl Decoder {
    pub fn new() -> Self {
        Self {
            sse: SseParser::new(LABEL),
            reader: ResponseReader { calls_seen: 0 },
            done: false,
        }
    }

    fn event(&mut self, event: &SseEvent, out: &mut Vec<ChatEvent>) -> Result<(), ProviderError> {
        if self.done || event.data.trim().is_empty() {
            return Ok(());
        }
        let response: Value = parse_json(LABEL, event.data.as_bytes(), "a streamed chunk")?;
        if let Some(reason) = self.reader.read(&response, out)? {
            if let Some(usage) = usage(&response) {
                out.push(ChatEvent::Usage { usage });
            }
            out.push(ChatEvent::Done { reason });
            self.done = true;
        }
        Ok(())
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
            return Err(cut_off(LABEL));
        }
        Ok(out)
    }
}

/// Parses a non-streamed `GenerateContentResponse`.
pub fn parse_reply(body: &[u8]) -> Result<Vec<ChatEvent>, ProviderError> {
    let response: Value = parse_json(LABEL, body, "the reply")?;
    let mut out = Vec::new();
    let reason = ResponseReader { calls_seen: 0 }
        .read(&response, &mut out)?
        .ok_or_else(|| malformed(LABEL, "it has no finished candidate"))?;
    if let Some(usage) = usage(&response) {
        out.push(ChatEvent::Usage { usage });
    }
    out.push(ChatEvent::Done { reason });
    Ok(out)
}

/// `GET /models`.
pub fn models_request() -> WireRequest {
    WireRequest {
        method: Method::Get,
        path: "/models?pageSize=1000".into(),
        headers: vec![("accept", "application/json".into())],
        body: None,
        auth: Auth::Header(KEY_HEADER),
        streaming: false,
    }
}

/// Parses `{"models": [{"name": "models/...", "supportedGenerationMethods":
/// [...]}]}`, keeping the models that can chat.
pub fn parse_models(body: &[u8]) -> Result<Vec<ModelInfo>, ProviderError> {
    let reply: Value = parse_json(LABEL, body, "the model list")?;
    let Some(models) = reply.get("models") else {
        // An account with no models answers `{}`.
        return Ok(Vec::new());
    };
    let models = models
        .as_array()
        .ok_or_else(|| malformed(LABEL, "`models` is not a list"))?;
    Ok(models
        .iter()
        .filter(|m| {
            match m
                .get("supportedGenerationMethods")
                .and_then(Value::as_array)
            {
                Some(methods) => methods.iter().any(|x| x == "generateContent"),
                None => true,
            }
        })
        .filter_map(|m| m.get("name").and_then(Value::as_str))
        .map(|name| ModelInfo {
            name: name.strip_prefix("models/").unwrap_or(name).into(),
            size_bytes: None,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ai::wire::Dialect;
    use crate::ai::{ChatMessage, ProviderErrorKind, ToolSpec};
    use std::time::Duration;

    fn request() -> ChatRequest {
        let call = ToolCall {
            id: "call_0".into(),
            name: "search_logs".into(),
            arguments: json!({"query": "oom"}),
        };
        let mut assistant = ChatMessage::assistant("");
        assistant.tool_calls = vec![call.clone()];
        ChatRequest {
            model: "gemini-2.5-flash".into(),
            messages: vec![
                ChatMessage::system("You are a root-cause analyst."),
                ChatMessage::user("What broke?"),
                assistant,
                ChatMessage::tool_result(&call, "no matches"),
                ChatMessage::tool_result(&call, "{\"count\": 3}"),
            ],
            tools: vec![ToolSpec {
                name: "search_logs".into(),
                description: "Search".into(),
                parameters: json!({
                    "$schema": "http://json-schema.org/draft-07/schema#",
                    "type": "object",
                    "additionalProperties": false,
                    "properties": {"query": {"type": "string", "description": "words"},
                                   "tags": {"type": "array", "items": {"type": "string", "additionalProperties": false}}},
                    "required": ["query"]
                }),
            }],
            temperature: Some(0.1),
            max_tokens: Some(256),
        }
    }

    #[test]
    fn request_shape() {
        let wire = chat_request(&request(), true);
        assert_eq!(
            wire.path,
            "/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
        );
        assert_eq!(wire.auth, Auth::Header("x-goog-api-key"));
        assert!(!wire.path.contains("key="));
        let body = wire.body.expect("body");
        assert_eq!(
            body["systemInstruction"],
            json!({"parts": [{"text": "You are a root-cause analyst."}]})
        );
        assert_eq!(
            body["contents"][0],
            json!({"role": "user", "parts": [{"text": "What broke?"}]})
        );
        assert_eq!(body["contents"][1]["role"], "model");
        assert_eq!(
            body["contents"][1]["parts"][0]["functionCall"],
            json!({"name": "search_logs", "args": {"query": "oom"}})
        );
        assert_eq!(
            body["contents"][2]["parts"][0]["functionResponse"],
            json!({"name": "search_logs", "response": {"result": "no matches"}})
        );
        assert_eq!(
            body["contents"][2]["parts"][1]["functionResponse"]["response"],
            json!({"count": 3})
        );
        let decl = &body["tools"][0]["functionDeclarations"][0];
        assert_eq!(decl["name"], "search_logs");
        assert!(decl["parameters"].get("additionalProperties").is_none());
        assert!(decl["parameters"].get("$schema").is_none());
        assert!(
            decl["parameters"]["properties"]["tags"]["items"]
                .get("additionalProperties")
                .is_none()
        );
        assert_eq!(decl["parameters"]["required"], json!(["query"]));
        assert_eq!(
            body["generationConfig"],
            json!({"temperature": 0.1f32, "maxOutputTokens": 256})
        );
        let plain = chat_request(&request(), false);
        assert_eq!(plain.path, "/models/gemini-2.5-flash:generateContent");
    }

    #[test]
    fn model_names_cannot_change_the_path() {
        assert_eq!(model_segment("models/gemini-2.0-flash"), "gemini-2.0-flash");
        assert_eq!(model_segment("../x?key=1"), "..%2Fx%3Fkey%3D1");
    }

    const STREAM: &str = "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"The pod\"}],\"role\": \"model\"},\"index\": 0}],\"usageMetadata\": {\"promptTokenCount\": 9,\"candidatesTokenCount\": 2,\"totalTokenCount\": 11},\"modelVersion\": \"gemini-2.5-flash\"}\r\n\r\n\
data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \" ran out of memory.\"}],\"role\": \"model\"},\"index\": 0}],\"usageMetadata\": {\"promptTokenCount\": 9,\"candidatesTokenCount\": 8,\"totalTokenCount\": 17}}\r\n\r\n\
data: {\"candidates\": [{\"content\": {\"parts\": [{\"functionCall\": {\"name\": \"search_logs\",\"args\": {\"query\": \"OOMKilled\"}}, \"thoughtSignature\": \"CiQB\"}],\"role\": \"model\"},\"finishReason\": \"STOP\",\"index\": 0}],\"usageMetadata\": {\"promptTokenCount\": 9,\"candidatesTokenCount\": 15,\"totalTokenCount\": 24}}\r\n\r\n";

    fn decode(input: &str, chunk: usize) -> Result<Vec<ChatEvent>, ProviderError> {
        let mut decoder = Decoder::new();
        let mut out = Vec::new();
        for piece in input.as_bytes().chunks(chunk) {
            out.extend(decoder.feed(piece)?);
        }
        out.extend(decoder.finish()?);
        Ok(out)
    }

    #[test]
    fn stream_with_text_and_a_call() {
        for chunk in [1, 17, STREAM.len()] {
            assert_eq!(
                decode(STREAM, chunk).expect("valid"),
                vec![
                    ChatEvent::Text {
                        delta: "The pod".into()
                    },
                    ChatEvent::Text {
                        delta: " ran out of memory.".into()
                    },
                    ChatEvent::ToolCall {
                        call: ToolCall {
                            id: "call_0".into(),
                            name: "search_logs".into(),
                            arguments: json!({"query": "OOMKilled"})
                        }
                    },
                    ChatEvent::Usage {
                        usage: Usage {
                            prompt_tokens: 9,
                            completion_tokens: 15
                        }
                    },
                    ChatEvent::Done {
                        reason: FinishReason::ToolCalls
                    },
                ]
            );
        }
    }

    #[test]
    fn a_stream_without_finish_reason_was_cut() {
        let cut = STREAM.split("\r\n\r\n").next().expect("first");
        let e = decode(&format!("{cut}\r\n\r\n"), 5).expect_err("cut");
        assert_eq!(e.kind, ProviderErrorKind::Malformed);
    }

    #[test]
    fn blocked_prompts_end_with_the_filter() {
        let body = br#"{"promptFeedback": {"blockReason": "SAFETY", "safetyRatings": []}}"#;
        assert_eq!(
            parse_reply(body).expect("valid"),
            vec![ChatEvent::Done {
                reason: FinishReason::ContentFilter
            }]
        );
    }

    #[test]
    fn non_streamed_reply_and_models() {
        let body = br#"{"candidates":[{"content":{"parts":[{"text":"thinking...","thought":true},{"text":"Disk full."}],"role":"model"},"finishReason":"MAX_TOKENS","index":0}],"usageMetadata":{"promptTokenCount":4,"candidatesTokenCount":3,"totalTokenCount":7}}"#;
        assert_eq!(
            parse_reply(body).expect("valid"),
            vec![
                ChatEvent::Text {
                    delta: "Disk full.".into()
                },
                ChatEvent::Usage {
                    usage: Usage {
                        prompt_tokens: 4,
                        completion_tokens: 3
                    }
                },
                ChatEvent::Done {
                    reason: FinishReason::Length
                },
            ]
        );
        let models = br#"{"models":[{"name":"models/gemini-2.5-flash","displayName":"Gemini 2.5 Flash","supportedGenerationMethods":["generateContent","countTokens"]},{"name":"models/text-embedding-004","supportedGenerationMethods":["embedContent"]}],"nextPageToken":"x"}"#;
        let names: Vec<String> = parse_models(models)
            .expect("valid")
            .into_iter()
            .map(|m| m.name)
            .collect();
        assert_eq!(names, ["gemini-2.5-flash"]);
    }

    #[test]
    fn gemini_errors() {
        let d = Dialect::Gemini;
        let bad_key = br#"{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com"}]}}"#;
        assert_eq!(
            d.error_from_reply(400, None, bad_key).kind,
            ProviderErrorKind::Auth
        );
        let missing = br#"{"error":{"code":404,"message":"models/gemini-9 is not found for API version v1beta, or is not supported for generateContent.","status":"NOT_FOUND"}}"#;
        assert_eq!(
            d.error_from_reply(404, None, missing).kind,
            ProviderErrorKind::UnknownModel
        );
        let limited = br#"{"error":{"code":429,"message":"You exceeded your current quota.","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"17s"}]}}"#;
        let e = d.error_from_reply(429, None, limited);
        assert_eq!(e.kind, ProviderErrorKind::RateLimited);
        assert_eq!(e.retry_after_ms, Some(17_000));
        let header_wins = d.error_from_reply(429, Some(Duration::from_secs(3)), limited);
        assert_eq!(header_wins.retry_after_ms, Some(3_000));
        let long = br#"{"error":{"code":400,"message":"The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).","status":"INVALID_ARGUMENT"}}"#;
        assert_eq!(
            d.error_from_reply(400, None, long).kind,
            ProviderErrorKind::ContextTooLong
        );
        let internal = br#"{"error":{"code":500,"message":"An internal error has occurred.","status":"INTERNAL"}}"#;
        assert_eq!(
            d.error_from_reply(500, None, internal).kind,
            ProviderErrorKind::Server
        );
    }
}
