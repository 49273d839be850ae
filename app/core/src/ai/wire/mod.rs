//! Each provider's HTTP wire format, without doing any IO.
//!
//! For every dialect this module builds the request (method, path relative
//! to the provider's base URL, JSON body, non-secret headers and a
//! description of how the key is attached), decodes the streamed reply from
//! bytes in whatever chunks the network delivers them, parses the
//! non-streamed reply and the model list, and maps the provider's error
//! replies to a [`ProviderErrorKind`] with a message a person can act on.
//!
//! The server crate owns the sockets and the secrets: it sends a
//! [`WireRequest`] through its hardened client, adding the key as
//! [`Auth`] says, and feeds the body into a [`StreamDecoder`].
//!
//! Messages built here never contain the request's content or a key: they
//! name the provider, the HTTP status and, truncated, the provider's own
//! error text.

pub mod anthropic;
pub mod gemini;
pub mod ollama;
pub mod openai;
pub mod sse;

use std::time::Duration;

use serde_json::Value;

use super::{ChatEvent, ChatRequest, ModelInfo, ProviderError, ProviderErrorKind, ProviderKind};

/// The HTTP method of a [`WireRequest`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Delete,
}

/// How the server attaches the API key. The key itself never enters this
/// crate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Auth {
    /// No key is sent.
    None,
    /// `Authorization: Bearer <key>` (OpenAI, Mistral, OpenAI-compatible
    /// servers, Ollama behind a proxy).
    Bearer,
    /// The key as the value of this header (`x-api-key` for Anthropic,
    /// `x-goog-api-key` for Gemini). Never a URL parameter.
    Header(&'static str),
}

/// One HTTP request, ready for the server's client.
#[derive(Clone, Debug, PartialEq)]
pub struct WireRequest {
    pub method: Method,
    /// Relative to the base URL, starting with `/`; may carry a query
    /// (`?alt=sse`), never a secret.
    pub path: String,
    /// Headers other than the key (`anthropic-version` ...).
    pub headers: Vec<(&'static str, String)>,
    /// The JSON body, if any.
    pub body: Option<Value>,
    /// How to attach the key, when the provider has one.
    pub auth: Auth,
    /// Whether the reply is a stream (SSE or NDJSON) to feed a decoder.
    pub streaming: bool,
}

/// Turns a streamed reply into [`ChatEvent`]s, whatever the chunking.
pub trait StreamDecoder: Send {
    /// Feeds the next bytes; returns the events they completed.
    fn feed(&mut self, bytes: &[u8]) -> Result<Vec<ChatEvent>, ProviderError>;

    /// The body ended. Returns the last events, or a
    /// [`ProviderErrorKind::Malformed`] error when the stream stopped before
    /// its proper end (the connection was cut).
    fn finish(&mut self) -> Result<Vec<ChatEvent>, ProviderError>;
}

/// The wire formats TFTSR speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// `/chat/completions`, in one of its flavours.
    OpenAi(openai::Flavor),
    /// The Messages API.
    Anthropic,
    /// `generateContent` / `streamGenerateContent`.
    Gemini,
    /// `/api/chat`.
    Ollama,
}

impl Dialect {
    /// The dialect for a provider kind at `base_url` (which tells OpenAI's
    /// own platform from the servers that copy its API). `None` for the
    /// built-in analyst, which has no wire.
    pub fn for_provider(kind: ProviderKind, base_url: &str) -> Option<Self> {
        Some(match kind {
            ProviderKind::Builtin => return None,
            ProviderKind::OpenAi => Self::OpenAi(openai::Flavor::for_base_url(base_url)),
            ProviderKind::Mistral => Self::OpenAi(openai::Flavor::Mistral),
            ProviderKind::Anthropic => Self::Anthropic,
            ProviderKind::Gemini => Self::Gemini,
            ProviderKind::Ollama => Self::Ollama,
        })
    }

    /// The name used in messages.
    pub fn label(self) -> &'static str {
        match self {
            Self::OpenAi(flavor) => flavor.label(),
            Self::Anthropic => ProviderKind::Anthropic.label(),
            Self::Gemini => ProviderKind::Gemini.label(),
            Self::Ollama => ProviderKind::Ollama.label(),
        }
    }

    /// How the key is attached.
    pub fn auth(self) -> Auth {
        match self {
            Self::OpenAi(_) | Self::Ollama => Auth::Bearer,
            Self::Anthropic => Auth::Header(anthropic::KEY_HEADER),
            Self::Gemini => Auth::Header(gemini::KEY_HEADER),
        }
    }

    /// The request for a chat, streamed or not.
    pub fn chat_request(
        self,
        request: &ChatRequest,
        stream: bool,
    ) -> Result<WireRequest, ProviderError> {
        if request.model.trim().is_empty() {
            return Err(ProviderError::new(
                ProviderErrorKind::BadRequest,
                format!(
                    "No model is set for {}: name one in its settings.",
                    self.label()
                ),
            ));
        }
        Ok(match self {
            Self::OpenAi(flavor) => openai::chat_request(flavor, request, stream),
            Self::Anthropic => anthropic::chat_request(request, stream),
            Self::Gemini => gemini::chat_request(request, stream),
            Self::Ollama => ollama::chat_request(request, stream),
        })
    }

    /// A decoder for the streamed reply to [`Dialect::chat_request`].
    pub fn stream_decoder(self) -> Box<dyn StreamDecoder> {
        match self {
            Self::OpenAi(flavor) => Box::new(openai::Decoder::new(flavor)),
            Self::Anthropic => Box::new(anthropic::Decoder::new()),
            Self::Gemini => Box::new(gemini::Decoder::new()),
            Self::Ollama => Box::new(ollama::Decoder::new()),
        }
    }

    /// The events of a non-streamed reply, ending with
    /// [`ChatEvent::Done`].
    pub fn parse_reply(self, body: &[u8]) -> Result<Vec<ChatEvent>, ProviderError> {
        match self {
            Self::OpenAi(flavor) => openai::parse_reply(flavor, body),
            Self::Anthropic => anthropic::parse_reply(body),
            Self::Gemini => gemini::parse_reply(body),
            Self::Ollama => ollama::parse_reply(body),
        }
    }

    /// The request that lists the provider's models.
    pub fn models_request(self) -> WireRequest {
        match self {
            Self::OpenAi(_) => openai::models_request(),
            Self::Anthropic => anthropic::models_request(),
            Self::Gemini => gemini::models_request(),
            Self::Ollama => ollama::models_request(),
        }
    }

    /// Parses the reply to [`Dialect::models_request`].
    pub fn parse_models(self, body: &[u8]) -> Result<Vec<ModelInfo>, ProviderError> {
        match self {
            Self::OpenAi(flavor) => openai::parse_models(flavor, body),
            Self::Anthropic => anthropic::parse_models(body),
            Self::Gemini => gemini::parse_models(body),
            Self::Ollama => ollama::parse_models(body),
        }
    }

    /// Maps an error reply (any status outside 2xx) to a [`ProviderError`].
    /// `retry_after` is the `Retry-After` header, already parsed.
    pub fn error_from_reply(
        self,
        status: u16,
        retry_after: Option<Duration>,
        body: &[u8],
    ) -> ProviderError {
        let details = ErrorDetails::from_body(body);
        classify(self.label(), Some(status), retry_after, &details)
    }

    /// Whether sending the same request again may succeed: rate limits and
    /// server trouble, but not an exhausted quota, which waiting won't fix.
    pub fn worth_retrying(self, status: u16, body: &[u8]) -> bool {
        if !matches!(status, 408 | 429 | 500 | 502 | 503 | 504 | 529) {
            return false;
        }
        let details = ErrorDetails::from_body(body);
        !details.mentions(&["insufficient_quota", "quota exceeded for billing"])
    }
}

/// What an error reply said, dug out of whichever JSON shape the provider
/// uses.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct ErrorDetails {
    /// The provider's human message.
    pub message: Option<String>,
    /// Machine codes: `type`, `code`, `status`, `reason` ...
    pub codes: Vec<String>,
    /// A wait the body asked for (Gemini's `RetryInfo`).
    pub retry_delay: Option<Duration>,
}

/// The longest piece of provider error text quoted in a message.
const QUOTE_MAX: usize = 300;

impl ErrorDetails {
    /// Reads the common shapes: `{"error": {"message", "type", "code",
    /// "status", "details"}}` (OpenAI, Anthropic, Gemini),
    /// `{"error": "text"}` (Ollama, llama.cpp), `{"message", "type",
    /// "code"}` and `{"detail": ...}` (Mistral). A body that is not JSON is
    /// quoted as text unless it looks like an HTML page.
    pub(crate) fn from_body(body: &[u8]) -> Self {
        match serde_json::from_slice::<Value>(body) {
            Ok(value) => Self::from_value(&value),
            Err(_) => {
                let text = String::from_utf8_lossy(body);
                let text = text.trim();
                let message = (!text.is_empty() && !text.starts_with('<')).then(|| quote(text));
                Self {
                    message,
                    ..Self::default()
                }
            }
        }
    }

    pub(crate) fn from_value(value: &Value) -> Self {
        let mut details = Self::default();
        let error = match value.get("error") {
            Some(Value::String(text)) => {
                details.message = Some(quote(text));
                return details;
            }
            Some(error @ Value::Object(_)) => error,
            _ => value,
        };
        details.message = error
            .get("message")
            .and_then(Value::as_str)
            .map(quote)
            .or_else(|| detail_text(error.get("detail")))
            .or_else(|| detail_text(error.get("message").and_then(|m| m.get("detail"))));
        for field in ["type", "code", "status"] {
            match error.get(field) {
                Some(Value::String(code)) if !code.is_empty() => details.codes.push(code.clone()),
                _ => {}
            }
        }
        if let Some(extra) = error.get("details").and_then(Value::as_array) {
            for item in extra {
                if let Some(reason) = item.get("reason").and_then(Value::as_str) {
                    details.codes.push(reason.to_owned());
                }
                if let Some(delay) = item.get("retryDelay").and_then(Value::as_str) {
                    details.retry_delay = parse_seconds_suffix(delay);
                }
            }
        }
        details
    }

    /// "model 'x' not found", "the model `x` does not exist", and
    /// Ollama's pull error "file does not exist".
    fn says_model_is_missing(&self) -> bool {
        let message = self.message.as_deref().unwrap_or_default().to_lowercase();
        (message.contains("model")
            && (message.contains("not found") || message.contains("does not exist")))
            || message.contains("file does not exist")
    }

    fn mentions(&self, needles: &[&str]) -> bool {
        let message = self.message.as_deref().unwrap_or_default().to_lowercase();
        needles.iter().any(|needle| {
            message.contains(needle) || self.codes.iter().any(|c| c.eq_ignore_ascii_case(needle))
        })
    }
}

/// Mistral's validation errors: `{"detail": "text"}` or
/// `{"detail": [{"loc": [...], "msg": "..."}]}`.
fn detail_text(detail: Option<&Value>) -> Option<String> {
    match detail? {
        Value::String(text) => Some(quote(text)),
        Value::Array(items) => {
            let msgs: Vec<&str> = items
                .iter()
                .filter_map(|item| item.get("msg").and_then(Value::as_str))
                .collect();
            (!msgs.is_empty()).then(|| quote(&msgs.join("; ")))
        }
        _ => None,
    }
}

/// `"17s"` or `"1.5s"` (protobuf Duration as JSON).
fn parse_seconds_suffix(text: &str) -> Option<Duration> {
    let seconds: f64 = text.trim().strip_suffix('s')?.parse().ok()?;
    (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds.min(86_400.0)))
}

/// Text from outside (a provider's error, a transport error) fit to put in
/// a message: one line, no control characters, at most 300 characters.
pub fn quote_text(text: &str) -> String {
    quote(text)
}

/// Provider text fit to quote: one line, no control characters, at most
/// [`QUOTE_MAX`] characters.
pub(crate) fn quote(text: &str) -> String {
    let mut out = String::new();
    for (count, c) in text.trim().chars().enumerate() {
        if count == QUOTE_MAX {
            out.push('…');
            break;
        }
        out.push(if c.is_control() { ' ' } else { c });
    }
    out
}

/// Phrases providers use when the conversation does not fit the model.
const CONTEXT_PHRASES: &[&str] = &[
    "context_length_exceeded",
    "maximum context length",
    "context length",
    "context window",
    "prompt is too long",
    "too many tokens",
    "exceeds the maximum number of tokens",
    "input is too long",
    "request_too_large",
];

/// Phrases that say the model does not exist.
const UNKNOWN_MODEL_PHRASES: &[&str] = &[
    "model_not_found",
    "invalid_model",
    "model not found",
    "no such model",
    "unknown model",
    "invalid model",
];

/// Codes that say the key was refused, whatever the status (Gemini answers
/// a bad key with 400 `API_KEY_INVALID`).
const AUTH_CODES: &[&str] = &[
    "authentication_error",
    "permission_error",
    "invalid_api_key",
    "api_key_invalid",
    "unauthenticated",
    "permission_denied",
];

/// Builds the error for a reply. `status` is `None` for an error that
/// arrived inside a stream after a 200.
pub(crate) fn classify(
    label: &str,
    status: Option<u16>,
    retry_after: Option<Duration>,
    details: &ErrorDetails,
) -> ProviderError {
    use ProviderErrorKind as K;
    let said = match (&details.message, status) {
        (Some(text), Some(status)) => format!(" (HTTP {status}: {text})"),
        (Some(text), None) => format!(" ({text})"),
        (None, Some(status)) => format!(" (HTTP {status})"),
        (None, None) => String::new(),
    };
    let codes_lower: Vec<String> = details.codes.iter().map(|c| c.to_lowercase()).collect();
    let has_code = |set: &[&str]| codes_lower.iter().any(|c| set.contains(&c.as_str()));
    let code_is = |code: &str| codes_lower.iter().any(|c| c == code);
    let status_code = status.unwrap_or(0);

    let (kind, message) = if details.mentions(CONTEXT_PHRASES) || status_code == 413 {
        (
            K::ContextTooLong,
            format!(
                "The conversation is too long for the model{said}. Shorten it, attach less \
                 log text, or pick a model with a larger context in {label}'s settings."
            ),
        )
    } else if matches!(status_code, 401 | 403) || has_code(AUTH_CODES) {
        (
            K::Auth,
            format!(
                "{label} refused the API key{said}. Check the key in the provider's settings \
                 and that it may use this model."
            ),
        )
    } else if details.mentions(&["insufficient_quota"]) {
        (
            K::RateLimited,
            format!(
                "{label} says the account's quota is used up{said}. Check the plan and \
                 billing, then try again."
            ),
        )
    } else if status_code == 429
        || has_code(&[
            "rate_limit_error",
            "rate_limit_exceeded",
            "resource_exhausted",
        ])
    {
        let wait = retry_after.or(details.retry_delay);
        let when = match wait {
            Some(wait) => format!("try again in {}", human_wait(wait)),
            None => "wait a moment and try again".to_owned(),
        };
        let error = ProviderError::new(
            K::RateLimited,
            format!("{label} is limiting how often it may be asked{said}; {when}."),
        );
        return match wait {
            Some(wait) => error.with_retry_after(wait),
            None => error,
        };
    } else if status_code == 404
        || details.mentions(UNKNOWN_MODEL_PHRASES)
        || details.says_model_is_missing()
        || (code_is("not_found_error") && status.is_none())
    {
        (
            K::UnknownModel,
            format!(
                "{label} does not know the model, or the base URL is wrong{said}. Check the \
                 model name and the base URL in the provider's settings."
            ),
        )
    } else if status_code >= 500
        || has_code(&[
            "api_error",
            "overloaded_error",
            "server_error",
            "internal",
            "unavailable",
        ])
    {
        (
            K::Server,
            format!("{label} had a problem of its own{said}. Try again in a little while."),
        )
    } else if status.is_none() {
        (
            K::Server,
            format!("{label} stopped the reply with an error{said}. Try again."),
        )
    } else {
        (
            K::BadRequest,
            format!(
                "{label} refused the request{said}. Check the provider's settings (model, base \
                 URL) and try again."
            ),
        )
    };
    ProviderError::new(kind, message)
}

fn human_wait(wait: Duration) -> String {
    let secs = wait.as_secs();
    if secs < 1 {
        "a moment".to_owned()
    } else if secs < 120 {
        format!("{secs} s")
    } else {
        format!("{} min", secs.div_ceil(60))
    }
}

/// The error for a body that ended before its proper end.
pub(crate) fn cut_off(label: &str) -> ProviderError {
    ProviderError::new(
        ProviderErrorKind::Malformed,
        format!("The reply from {label} could not be read: the stream was cut off. Try again."),
    )
}

/// The error for JSON that is not in the provider's format. `what` says
/// which part; the JSON itself is never quoted, since a reply may carry the
/// prompt back.
pub(crate) fn malformed(label: &str, what: &str) -> ProviderError {
    ProviderError::new(
        ProviderErrorKind::Malformed,
        format!("The reply from {label} could not be read: {what}."),
    )
}

/// Parses a JSON body, naming the provider on failure.
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(
    label: &str,
    body: &[u8],
    what: &str,
) -> Result<T, ProviderError> {
    serde_json::from_slice(body).map_err(|e| {
        malformed(
            label,
            &format!(
                "{what} is not valid JSON (line {}, column {})",
                e.line(),
                e.column()
            ),
        )
    })
}

/// Parses a tool call's arguments, which OpenAI-shaped APIs send as a JSON
/// string. Empty means no arguments.
pub(crate) fn parse_arguments(label: &str, name: &str, text: &str) -> Result<Value, ProviderError> {
    if text.trim().is_empty() {
        return Ok(Value::Object(serde_json::Map::new()));
    }
    match serde_json::from_str::<Value>(text) {
        Ok(value @ Value::Object(_)) => Ok(value),
        Ok(_) => Err(malformed(
            label,
            &format!(
                "the arguments of the call to tool `{}` are not a JSON object",
                quote(name)
            ),
        )),
        Err(_) => Err(malformed(
            label,
            &format!(
                "the arguments of the call to tool `{}` are not valid JSON",
                quote(name)
            ),
        )),
    }
}

/// The system prompt: every system message's text, joined.
pub(crate) fn system_text(request: &ChatRequest) -> Option<String> {
    let parts: Vec<&str> = request
        .messages
        .iter()
        .filter(|m| m.role == super::Role::System && !m.content.is_empty())
        .map(|m| m.content.as_str())
        .collect();
    (!parts.is_empty()).then(|| parts.join("\n\n"))
}

/// Splits bytes into lines (`\n`, with an optional `\r` before it),
/// keeping the unfinished tail for the next chunk. Used for NDJSON.
#[derive(Debug, Default)]
pub(crate) struct LineBuffer {
    pending: Vec<u8>,
    max_line: usize,
}

/// The longest line or event a decoder holds before giving up.
pub(crate) const MAX_LINE_BYTES: usize = 16 * 1024 * 1024;

impl LineBuffer {
    pub(crate) fn new() -> Self {
        Self {
            pending: Vec::new(),
            max_line: MAX_LINE_BYTES,
        }
    }

    /// Complete lines, without their terminator.
    pub(crate) fn push(&mut self, label: &str, bytes: &[u8]) -> Result<Vec<String>, ProviderError> {
        self.pending.extend_from_slice(bytes);
        let mut lines = Vec::new();
        let mut start = 0;
        while let Some(offset) = self.pending[start..].iter().position(|&b| b == b'\n') {
            let end = start + offset;
            let line = self.pending[start..end]
                .strip_suffix(b"\r")
                .unwrap_or(&self.pending[start..end]);
            lines.push(utf8(label, line)?);
            start = end + 1;
        }
        self.pending.drain(..start);
        if self.pending.len() > self.max_line {
            return Err(malformed(label, "a line of the stream is too long"));
        }
        Ok(lines)
    }

    /// What is left at the end of the body: a last line without a
    /// terminator, if any.
    pub(crate) fn finish(&mut self, label: &str) -> Result<Option<String>, ProviderError> {
        let rest = std::mem::take(&mut self.pending);
        let rest = rest.strip_suffix(b"\r").unwrap_or(&rest);
        if rest.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        utf8(label, rest).map(Some)
    }
}

fn utf8(label: &str, bytes: &[u8]) -> Result<String, ProviderError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| malformed(label, "the stream is not UTF-8"))
}

/// Assembles tool calls streamed in fragments (OpenAI-shaped deltas,
/// Anthropic's `input_json_delta`), in the order they started.
#[derive(Debug, Default)]
pub(crate) struct ToolCallAssembler {
    calls: Vec<PartialCall>,
}

#[derive(Debug, Default)]
struct PartialCall {
    key: u64,
    id: String,
    name: String,
    arguments: String,
}

impl ToolCallAssembler {
    /// Adds to the call known by `key` (the stream's index), starting it
    /// if new.
    pub(crate) fn push(&mut self, key: u64, id: Option<&str>, name: Option<&str>, args: &str) {
        let call = match self.calls.iter_mut().position(|c| c.key == key) {
            Some(at) => &mut self.calls[at],
            None => {
                self.calls.push(PartialCall {
                    key,
                    ..PartialCall::default()
                });
                let last = self.calls.len() - 1;
                &mut self.calls[last]
            }
        };
        if let Some(id) = id.filter(|id| !id.is_empty()) {
            call.id = id.to_owned();
        }
        if let Some(name) = name.filter(|name| !name.is_empty()) {
            call.name.push_str(name);
        }
        call.arguments.push_str(args);
    }

    /// The next key not yet used, for streams whose fragments carry no
    /// index.
    pub(crate) fn next_key(&self) -> u64 {
        self.calls.iter().map(|c| c.key + 1).max().unwrap_or(0)
    }

    /// The key of the call started last.
    pub(crate) fn last_key(&self) -> Option<u64> {
        self.calls.last().map(|c| c.key)
    }

    /// Completes the call with `key`, if it is pending.
    pub(crate) fn take(
        &mut self,
        label: &str,
        key: u64,
    ) -> Result<Option<ChatEvent>, ProviderError> {
        match self.calls.iter().position(|c| c.key == key) {
            Some(at) => {
                let call = self.calls.remove(at);
                finish_call(label, call).map(Some)
            }
            None => Ok(None),
        }
    }

    /// Completes every pending call, in order.
    pub(crate) fn take_all(&mut self, label: &str) -> Result<Vec<ChatEvent>, ProviderError> {
        std::mem::take(&mut self.calls)
            .into_iter()
            .map(|call| finish_call(label, call))
            .collect()
    }
}

fn finish_call(label: &str, call: PartialCall) -> Result<ChatEvent, ProviderError> {
    if call.name.is_empty() {
        return Err(malformed(label, "a tool call has no name"));
    }
    let arguments = parse_arguments(label, &call.name, &call.arguments)?;
    let id = if call.id.is_empty() {
        format!("call_{}", call.key)
    } else {
        call.id
    };
    Ok(ChatEvent::ToolCall {
        call: super::ToolCall {
            id,
            name: call.name,
            arguments,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(status: u16, body: &str) -> ProviderError {
        Dialect::OpenAi(openai::Flavor::Compatible).error_from_reply(status, None, body.as_bytes())
    }

    #[test]
    fn statuses_map_to_kinds() {
        use ProviderErrorKind as K;
        assert_eq!(error(401, "{}").kind, K::Auth);
        assert_eq!(error(403, "").kind, K::Auth);
        assert_eq!(error(404, "{}").kind, K::UnknownModel);
        assert_eq!(error(429, "{}").kind, K::RateLimited);
        assert_eq!(error(500, "oops").kind, K::Server);
        assert_eq!(error(529, "{}").kind, K::Server);
        assert_eq!(error(400, "{}").kind, K::BadRequest);
        assert_eq!(error(422, "{}").kind, K::BadRequest);
        assert_eq!(error(413, "{}").kind, K::ContextTooLong);
    }

    #[test]
    fn context_phrases_win_over_the_status() {
        for text in [
            "This model's maximum context length is 8192 tokens",
            "prompt is too long: 210000 tokens > 200000 maximum",
            "Input exceeds the context window of the model",
        ] {
            let body = serde_json::json!({"error": {"message": text}}).to_string();
            assert_eq!(
                error(400, &body).kind,
                ProviderErrorKind::ContextTooLong,
                "{text}"
            );
        }
    }

    #[test]
    fn rate_limits_carry_the_wait() {
        let e = Dialect::Anthropic.error_from_reply(429, Some(Duration::from_secs(7)), b"{}");
        assert_eq!(e.retry_after_ms, Some(7_000));
        assert!(e.message.contains("7 s"), "{}", e.message);
    }

    #[test]
    fn provider_text_is_quoted_short_and_on_one_line() {
        let long = "x".repeat(5_000);
        let body = serde_json::json!({"error": {"message": format!("bad\nthing {long}")}});
        let e = error(400, &body.to_string());
        assert!(e.message.len() < 700, "{}", e.message.len());
        assert!(!e.message.contains('\n'));
        assert!(e.message.contains("bad thing"));
        assert!(
            e.message
                .starts_with("OpenAI-compatible refused the request (HTTP 400")
        );
    }

    #[test]
    fn html_bodies_are_not_quoted() {
        let e = error(502, "<html><body>Bad gateway</body></html>");
        assert_eq!(e.kind, ProviderErrorKind::Server);
        assert!(!e.message.contains("html"));
    }

    #[test]
    fn quota_is_not_worth_retrying() {
        let d = Dialect::OpenAi(openai::Flavor::OpenAi);
        let quota = br#"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}}"#;
        assert!(!d.worth_retrying(429, quota));
        assert!(d.worth_retrying(429, b"{}"));
        assert!(d.worth_retrying(503, b""));
        assert!(!d.worth_retrying(400, b""));
        assert_eq!(
            d.error_from_reply(429, None, quota).kind,
            ProviderErrorKind::RateLimited
        );
    }

    #[test]
    fn line_buffer_handles_any_chunking() {
        let mut lines = LineBuffer::new();
        let mut out = Vec::new();
        for chunk in [&b"ab"[..], b"c\r", b"\nd\n", b"e"] {
            out.extend(lines.push("t", chunk).expect("utf8"));
        }
        assert_eq!(out, ["abc", "d"]);
        assert_eq!(lines.finish("t").expect("utf8").as_deref(), Some("e"));
    }

    #[test]
    fn line_buffer_keeps_split_utf8_together() {
        let text = "é\n".as_bytes();
        let mut lines = LineBuffer::new();
        assert!(lines.push("t", &text[..1]).expect("partial").is_empty());
        assert_eq!(lines.push("t", &text[1..]).expect("whole"), ["é"]);
    }

    #[test]
    fn empty_model_is_refused_before_sending() {
        let request = ChatRequest {
            model: " ".into(),
            messages: vec![],
            tools: vec![],
            temperature: None,
            max_tokens: None,
        };
        let e = Dialect::Gemini
            .chat_request(&request, true)
            .expect_err("no model");
        assert_eq!(e.kind, ProviderErrorKind::BadRequest);
    }
}
