//! Ollama's native API (`http://127.0.0.1:11434` by default).
//!
//! `POST /api/chat` streams newline-delimited JSON: one object per line,
//! each with a `message` (`content` text, and `tool_calls` whose
//! `function.arguments` is already an object), the last with `"done":
//! true`, a `done_reason` and the token counts `prompt_eval_count` and
//! `eval_count`. An `{"error": "..."}` line reports a failure mid-stream.
//! Tools use the OpenAI shape (`{"type": "function", "function": {...}}`);
//! a tool's result goes back as a `tool` message naming the tool in
//! `tool_name`. Options such as the temperature sit under `options`.
//!
//! Model management: `GET /api/tags` lists installed models with their
//! sizes, `POST /api/pull` streams download progress (`status`, and for
//! layers `digest`, `total`, `completed`) ending with `{"status":
//! "success"}`, and `DELETE /api/delete` removes a model.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::{
    Auth, ErrorDetails, LineBuffer, Method, StreamDecoder, WireRequest, classify, cut_off,
    malformed, parse_arguments, parse_json,
};
use crate::ai::{
    ChatEvent, ChatMessage, ChatRequest, FinishReason, ModelInfo, ProviderError, Role, ToolCall,
    Usage,
};

const LABEL: &str = "Ollama";

fn json_headers() -> Vec<(&'static str, String)> {
    vec![("accept", "application/json".into())]
}

/// `POST /api/chat`.
pub fn chat_request(request: &ChatRequest, stream: bool) -> WireRequest {
    let mut body = Map::new();
    body.insert("model".into(), json!(request.model));
    body.insert(
        "messages".into(),
        Value::Array(request.messages.iter().map(message_json).collect()),
    );
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
    }
    let mut options = Map::new();
    if let Some(t) = request.temperature {
        options.insert("temperature".into(), json!(t));
    }
    if let Some(max) = request.max_tokens {
        options.insert("num_predict".into(), json!(max));
    }
    if !options.is_empty() {
        body.insert("options".into(), Value::Object(options));
    }
    body.insert("stream".into(), json!(stream));
    WireRequest {
        method: Method::Post,
        path: "/api/chat".into(),
        headers: json_headers(),
        body: Some(Value::Object(body)),
        auth: Auth::Bearer,
        streaming: stream,
    }
}

fn message_json(message: &ChatMessage) -> Value {
    let mut out = Map::new();
    out.insert("role".into(), json!(message.role.as_str()));
    out.insert("content".into(), json!(message.content));
    match message.role {
        Role::Assistant if !message.tool_calls.is_empty() => {
            let calls: Vec<Value> = message
                .tool_calls
                .iter()
                .map(|c| json!({"function": {"name": c.name, "arguments": c.arguments}}))
                .collect();
            out.insert("tool_calls".into(), Value::Array(calls));
        }
        Role::Tool => {
            if let Some(name) = &message.tool_name {
                out.insert("tool_name".into(), json!(name));
            }
        }
        _ => {}
    }
    Value::Object(out)
}

fn done_reason(text: Option<&str>) -> FinishReason {
    match text {
        Some("length") => FinishReason::Length,
        Some("stop" | "load" | "unload") | None => FinishReason::Stop,
        Some(_) => FinishReason::Other,
    }
}

/// Reads one line (or a whole non-streamed reply).
struct LineReader {
    calls_seen: u64,
}

impl LineReader {
    /// Returns whether the line was the last (`"done": true`).
    fn read(&mut self, line: &Value, out: &mut Vec<ChatEvent>) -> Result<bool, ProviderError> {
        if line.get("error").is_some() {
            return Err(classify(LABEL, None, None, &ErrorDetails::from_value(line)));
        }
        if let Some(message) = line.get("message") {
            let text = message
                .get("content")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if !text.is_empty() {
                out.push(ChatEvent::Text { delta: text.into() });
            }
            for call in message
                .get("tool_calls")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                out.push(self.tool_call(call)?);
            }
        }
        if line.get("done").and_then(Value::as_bool) != Some(true) {
            return Ok(false);
        }
        let count = |field: &str| {
            line.get(field)
                .and_then(Value::as_u64)
                .map(|n| u32::try_from(n).unwrap_or(u32::MAX))
        };
        let (prompt, completion) = (count("prompt_eval_count"), count("eval_count"));
        if prompt.is_some() || completion.is_some() {
            out.push(ChatEvent::Usage {
                usage: Usage {
                    prompt_tokens: prompt.unwrap_or_default(),
                    completion_tokens: completion.unwrap_or_default(),
                },
            });
        }
        let mut reason = done_reason(line.get("done_reason").and_then(Value::as_str));
        if reason == FinishReason::Stop && self.calls_seen > 0 {
            reason = FinishReason::ToolCalls;
        }
        out.push(ChatEvent::Done { reason });
        Ok(true)
    }

    fn tool_call(&mut self, call: &Value) -> Result<ChatEvent, ProviderError> {
        let function = call
            .get("function")
            .ok_or_else(|| malformed(LABEL, "a tool call has no function"))?;
        let name = function
            .get("name")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
            .ok_or_else(|| malformed(LABEL, "a tool call has no name"))?;
        let arguments = match function.get("arguments") {
            Some(args @ Value::Object(_)) => args.clone(),
            Some(Value::String(text)) => parse_arguments(LABEL, name, text)?,
            _ => Value::Object(Map::new()),
        };
        let id = call
            .get("id")
            .and_then(Value::as_str)
            .filter(|id| !id.is_empty())
            .map_or_else(|| format!("call_{}", self.calls_seen), str::to_owned);
        self.calls_seen += 1;
        Ok(ChatEvent::ToolCall {
            call: ToolCall {
                id,
                name: name.into(),
                arguments,
            },
        })
    }
}

/// The chat stream decoder.
pub struct Decoder {
    lines: LineBuffer,
    reader: LineReader,
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
            lines: LineBuffer::new(),
            reader: LineReader { calls_seen: 0 },
            done: false,
        }
    }

    fn line(&mut self, line: &str, out: &mut Vec<ChatEvent>) -> Result<(), ProviderError> {
        if self.done || line.trim().is_empty() {
            return Ok(());
        }
        let value: Value = parse_json(LABEL, line.as_bytes(), "a streamed line")?;
        self.done = self.reader.read(&value, out)?;
        Ok(())
    }
}

impl StreamDecoder for Decoder {
    fn feed(&mut self, bytes: &[u8]) -> Result<Vec<ChatEvent>, ProviderError> {
        let mut out = Vec::new();
        for line in self.lines.push(LABEL, bytes)? {
            self.line(&line, &mut out)?;
        }
        Ok(out)
    }

    fn finish(&mut self) -> Result<Vec<ChatEvent>, ProviderError> {
        let mut out = Vec::new();
        if let Some(line) = self.lines.finish(LABEL)? {
            // A last line without its newline counts if it is whole JSON;
            // half a line means the stream was cut.
            if !self.done && !line.trim().is_empty() {
                let value: Value = serde_json::from_str(&line).map_err(|_| cut_off(LABEL))?;
                self.done = self.reader.read(&value, &mut out)?;
            }
        }
        if !self.done {
            return Err(cut_off(LABEL));
        }
        Ok(out)
    }
}

/// Parses a non-streamed `/api/chat` reply.
pub fn parse_reply(body: &[u8]) -> Result<Vec<ChatEvent>, ProviderError> {
    let value: Value = parse_json(LABEL, body, "the reply")?;
    let mut out = Vec::new();
    if !(LineReader { calls_seen: 0 }).read(&value, &mut out)? {
        return Err(malformed(LABEL, "the reply is not marked done"));
    }
    Ok(out)
}

/// `GET /api/tags`.
pub fn models_request() -> WireRequest {
    WireRequest {
        method: Method::Get,
        path: "/api/tags".into(),
        headers: json_headers(),
        body: None,
        auth: Auth::Bearer,
        streaming: false,
    }
}

/// Parses `{"models": [{"name", "size", ...}]}`.
pub fn parse_models(body: &[u8]) -> Result<Vec<ModelInfo>, ProviderError> {
    let reply: Value = parse_json(LABEL, body, "the model list")?;
    let models = match reply.get("models") {
        Some(Value::Array(models)) => models.as_slice(),
        Some(Value::Null) | None => &[],
        Some(_) => return Err(malformed(LABEL, "`models` is not a list")),
    };
    let mut out: Vec<ModelInfo> = models
        .iter()
        .filter_map(|m| {
            let name = m
                .get("name")
                .or_else(|| m.get("model"))
                .and_then(Value::as_str)?;
            Some(ModelInfo {
                name: name.into(),
                size_bytes: m.get("size").and_then(Value::as_u64),
            })
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// `POST /api/pull`, streamed.
pub fn pull_request(model: &str) -> WireRequest {
    WireRequest {
        method: Method::Post,
        path: "/api/pull".into(),
        headers: json_headers(),
        body: Some(json!({"model": model.trim(), "stream": true})),
        auth: Auth::Bearer,
        streaming: true,
    }
}

/// `DELETE /api/delete`.
pub fn delete_request(model: &str) -> WireRequest {
    WireRequest {
        method: Method::Delete,
        path: "/api/delete".into(),
        headers: json_headers(),
        body: Some(json!({"model": model.trim()})),
        auth: Auth::Bearer,
        streaming: false,
    }
}

/// One line of pull progress.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullProgress {
    /// `pulling manifest`, `pulling <digest>`, `verifying sha256 digest`,
    /// `writing manifest`, `success` ...
    pub status: String,
    /// The layer being downloaded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// The layer's size in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
    /// Bytes of the layer downloaded so far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed: Option<u64>,
}

impl PullProgress {
    /// Whether this is the last line of a successful pull.
    pub fn is_success(&self) -> bool {
        self.status == "success"
    }
}

/// Decodes the NDJSON of `/api/pull`.
#[derive(Debug, Default)]
pub struct PullDecoder {
    lines: LineBuffer,
    succeeded: bool,
}

impl PullDecoder {
    pub fn new() -> Self {
        Self {
            lines: LineBuffer::new(),
            succeeded: false,
        }
    }

    pub fn feed(&mut self, bytes: &[u8]) -> Result<Vec<PullProgress>, ProviderError> {
        let mut out = Vec::new();
        for line in self.lines.push(LABEL, bytes)? {
            self.line(&line, &mut out)?;
        }
        Ok(out)
    }

    /// The body ended: an error unless the pull reported `success`.
    pub fn finish(&mut self) -> Result<Vec<PullProgress>, ProviderError> {
        let mut out = Vec::new();
        if let Some(line) = self.lines.finish(LABEL)?
            && !self.succeeded
            && !line.trim().is_empty()
        {
            let value: Value = serde_json::from_str(&line).map_err(|_| cut_off(LABEL))?;
            self.value(value, &mut out)?;
        }
        if !self.succeeded {
            return Err(cut_off(LABEL));
        }
        Ok(out)
    }

    fn line(&mut self, line: &str, out: &mut Vec<PullProgress>) -> Result<(), ProviderError> {
        if self.succeeded || line.trim().is_empty() {
            return Ok(());
        }
        let value: Value = parse_json(LABEL, line.as_bytes(), "a progress line")?;
        self.value(value, out)
    }

    fn value(&mut self, value: Value, out: &mut Vec<PullProgress>) -> Result<(), ProviderError> {
        if value.get("error").is_some() {
            return Err(classify(
                LABEL,
                None,
                None,
                &ErrorDetails::from_value(&value),
            ));
        }
        let progress: PullProgress = serde_json::from_value(value)
            .map_err(|_| malformed(LABEL, "a progress line has no status"))?;
        self.succeeded = progress.is_success();
        out.push(progress);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ai::wire::Dialect;
    use crate::ai::{ProviderErrorKind, ToolSpec};

    fn request() -> ChatRequest {
        let call = ToolCall {
            id: "call_0".into(),
            name: "search_logs".into(),
            arguments: json!({"query": "oom"}),
        };
        let mut assistant = ChatMessage::assistant("");
        assistant.tool_calls = vec![call.clone()];
        ChatRequest {
            model: "llama3.2".into(),
            messages: vec![
                ChatMessage::system("Be brief."),
                ChatMessage::user("Why?"),
                assistant,
                ChatMessage::tool_result(&call, "none"),
            ],
            tools: vec![ToolSpec {
                name: "search_logs".into(),
                description: "Search".into(),
                parameters: json!({"type": "object"}),
            }],
            temperature: Some(0.0),
            max_tokens: Some(100),
        }
    }

    #[test]
    fn request_shape() {
        let wire = chat_request(&request(), true);
        assert_eq!(
            (wire.method, wire.path.as_str()),
            (Method::Post, "/api/chat")
        );
        let body = wire.body.expect("body");
        assert_eq!(
            body["messages"][0],
            json!({"role": "system", "content": "Be brief."})
        );
        assert_eq!(
            body["messages"][2]["tool_calls"],
            json!([{"function": {"name": "search_logs", "arguments": {"query": "oom"}}}])
        );
        assert_eq!(
            body["messages"][3],
            json!({"role": "tool", "content": "none", "tool_name": "search_logs"})
        );
        assert_eq!(body["tools"][0]["function"]["name"], "search_logs");
        assert_eq!(
            body["options"],
            json!({"temperature": 0.0, "num_predict": 100})
        );
        assert_eq!(body["stream"], true);
    }

    const STREAM: &str = "{\"model\":\"llama3.2\",\"created_at\":\"2025-01-01T00:00:00Z\",\"message\":{\"role\":\"assistant\",\"content\":\"Disk\"},\"done\":false}\n\
{\"model\":\"llama3.2\",\"created_at\":\"2025-01-01T00:00:00Z\",\"message\":{\"role\":\"assistant\",\"content\":\" full.\"},\"done\":false}\n\
{\"model\":\"llama3.2\",\"created_at\":\"2025-01-01T00:00:00Z\",\"message\":{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":[{\"function\":{\"name\":\"search_logs\",\"arguments\":{\"query\":\"df\"}}}]},\"done\":false}\n\
{\"model\":\"llama3.2\",\"created_at\":\"2025-01-01T00:00:00Z\",\"message\":{\"role\":\"assistant\",\"content\":\"\"},\"done\":true,\"done_reason\":\"stop\",\"total_duration\":4883583458,\"load_duration\":1334875,\"prompt_eval_count\":26,\"prompt_eval_duration\":342546000,\"eval_count\":282,\"eval_duration\":4535599000}\n";

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
    fn ndjson_stream() {
        for chunk in [1, 33, STREAM.len()] {
            assert_eq!(
                decode(STREAM, chunk).expect("valid"),
                vec![
                    ChatEvent::Text {
                        delta: "Disk".into()
                    },
                    ChatEvent::Text {
                        delta: " full.".into()
                    },
                    ChatEvent::ToolCall {
                        call: ToolCall {
                            id: "call_0".into(),
                            name: "search_logs".into(),
                            arguments: json!({"query": "df"})
                        }
                    },
                    ChatEvent::Usage {
                        usage: Usage {
                            prompt_tokens: 26,
                            completion_tokens: 282
                        }
                    },
                    ChatEvent::Done {
                        reason: FinishReason::ToolCalls
                    },
                ]
            );
        }
        // The last line without its newline still counts.
        assert!(decode(STREAM.trim_end(), 10).is_ok());
    }

    #[test]
    fn cut_stream_and_error_line() {
        let cut: String = STREAM.lines().take(2).map(|l| format!("{l}\n")).collect();
        assert_eq!(
            decode(&cut, 7).expect_err("cut").kind,
            ProviderErrorKind::Malformed
        );
        let e = decode("{\"error\":\"model 'llama9' not found\"}\n", 4).expect_err("error");
        assert_eq!(e.kind, ProviderErrorKind::UnknownModel);
    }

    #[test]
    fn non_streamed_reply() {
        let body = br#"{"model":"llama3.2","created_at":"x","message":{"role":"assistant","content":"Hi"},"done_reason":"length","done":true,"prompt_eval_count":3,"eval_count":1}"#;
        assert_eq!(
            parse_reply(body).expect("valid"),
            vec![
                ChatEvent::Text { delta: "Hi".into() },
                ChatEvent::Usage {
                    usage: Usage {
                        prompt_tokens: 3,
                        completion_tokens: 1
                    }
                },
                ChatEvent::Done {
                    reason: FinishReason::Length
                },
            ]
        );
    }

    #[test]
    fn models_with_sizes() {
        let body = br#"{"models":[{"name":"qwen2.5:7b","model":"qwen2.5:7b","modified_at":"2025-05-04T17:37:44.706015396-07:00","size":4683087332,"digest":"845d","details":{"format":"gguf","family":"qwen2","parameter_size":"7.6B","quantization_level":"Q4_K_M"}},{"name":"llama3.2:latest","size":2019393189}]}"#;
        let models = parse_models(body).expect("valid");
        assert_eq!(
            models[0],
            ModelInfo {
                name: "llama3.2:latest".into(),
                size_bytes: Some(2_019_393_189)
            }
        );
        assert_eq!(models[1].size_bytes, Some(4_683_087_332));
        assert!(
            parse_models(b"{\"models\":null}")
                .expect("empty")
                .is_empty()
        );
    }

    #[test]
    fn pull_progress() {
        let body = "{\"status\":\"pulling manifest\"}\n\
{\"status\":\"pulling 6a0746a1ec1a\",\"digest\":\"sha256:6a0746a1ec1a\",\"total\":2142590208,\"completed\":241970}\n\
{\"status\":\"pulling 6a0746a1ec1a\",\"digest\":\"sha256:6a0746a1ec1a\",\"total\":2142590208,\"completed\":2142590208}\n\
{\"status\":\"verifying sha256 digest\"}\n{\"status\":\"writing manifest\"}\n{\"status\":\"success\"}\n";
        let mut decoder = PullDecoder::new();
        let mut all = Vec::new();
        for piece in body.as_bytes().chunks(11) {
            all.extend(decoder.feed(piece).expect("valid"));
        }
        all.extend(decoder.finish().expect("complete"));
        assert_eq!(all.len(), 6);
        assert_eq!(all[1].total, Some(2_142_590_208));
        assert_eq!(all[1].completed, Some(241_970));
        assert!(all[5].is_success());

        let mut cut = PullDecoder::new();
        cut.feed(b"{\"status\":\"pulling manifest\"}\n")
            .expect("valid");
        assert_eq!(
            cut.finish().expect_err("cut").kind,
            ProviderErrorKind::Malformed
        );

        let mut missing = PullDecoder::new();
        let e = missing
            .feed(b"{\"error\":\"pull model manifest: file does not exist\"}\n")
            .expect_err("missing");
        assert_eq!(e.kind, ProviderErrorKind::UnknownModel);
    }

    #[test]
    fn admin_requests_and_errors() {
        let pull = pull_request("llama3.2");
        assert_eq!(pull.path, "/api/pull");
        assert_eq!(
            pull.body,
            Some(json!({"model": "llama3.2", "stream": true}))
        );
        let delete = delete_request("llama3.2");
        assert_eq!(
            (delete.method, delete.path.as_str()),
            (Method::Delete, "/api/delete")
        );
        let d = Dialect::Ollama;
        let e = d.error_from_reply(
            404,
            None,
            br#"{"error":"model \"llama9\" not found, try pulling it first"}"#,
        );
        assert_eq!(e.kind, ProviderErrorKind::UnknownModel);
        assert!(e.message.contains("try pulling it first"));
        let e = d.error_from_reply(
            500,
            None,
            br#"{"error":"llama runner process has terminated: signal: killed"}"#,
        );
        assert_eq!(e.kind, ProviderErrorKind::Server);
    }
}
