//! [`HttpProvider`]: the [`ChatProvider`] port over HTTP, for every remote
//! kind (OpenAI-compatible, Mistral, Anthropic, Gemini, Ollama). The wire
//! format comes from `tftsr_core::ai::wire`; this file only moves bytes
//! through the shared [`HttpClient`] and turns the reply into a stream of
//! [`ChatEvent`]s.

use std::collections::VecDeque;
use std::sync::Arc;

use futures_util::StreamExt;
use tftsr_core::ai::wire::{Dialect, StreamDecoder};
use tftsr_core::ai::{
    BoxFuture, ChatEvent, ChatProvider, ChatRequest, ChatStream, ModelInfo, ProviderError,
    ProviderErrorKind, ProviderKind,
};

use super::client::{ClientConfig, Endpoint, HttpClient, ReplyBody};
use crate::secret::Secret;

/// A chat model reached over HTTP.
#[derive(Clone, Debug)]
pub struct HttpProvider {
    client: HttpClient,
    dialect: Dialect,
    endpoint: Arc<Endpoint>,
    model: Option<String>,
}

impl HttpProvider {
    /// A provider with its own client and the default limits. Prefer
    /// [`HttpProvider::with_client`] with one shared client.
    pub fn new(
        kind: ProviderKind,
        base_url: &str,
        model: Option<String>,
        key: Option<Secret>,
    ) -> Result<Self, ProviderError> {
        let client = HttpClient::new(ClientConfig::default())
            .map_err(|e| ProviderError::new(ProviderErrorKind::Unreachable, e.to_string()))?;
        Self::with_client(client, kind, base_url, model, key)
    }

    /// A provider of `kind` at `base_url` (as stored in settings, e.g.
    /// `https://api.openai.com/v1`). `model` is used when a request names
    /// none. Fails for the built-in analyst, which has no HTTP API, and for
    /// a base URL that is not a plain http(s) URL.
    pub fn with_client(
        client: HttpClient,
        kind: ProviderKind,
        base_url: &str,
        model: Option<String>,
        key: Option<Secret>,
    ) -> Result<Self, ProviderError> {
        let dialect = Dialect::for_provider(kind, base_url).ok_or_else(|| {
            ProviderError::new(
                ProviderErrorKind::BadRequest,
                "The built-in analyst is not reached over HTTP.",
            )
        })?;
        let endpoint = Endpoint::new(dialect.label(), base_url, key)?;
        Ok(Self {
            client,
            dialect,
            endpoint: Arc::new(endpoint),
            model: model.filter(|m| !m.trim().is_empty()),
        })
    }

    /// The wire format in use.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    fn with_model(&self, mut request: ChatRequest) -> ChatRequest {
        if request.model.trim().is_empty()
            && let Some(model) = &self.model
        {
            request.model = model.clone();
        }
        request
    }

    /// Sends the request without streaming and returns the whole reply as
    /// events (text, tool calls, usage, then [`ChatEvent::Done`]). Bound by
    /// the client's overall timeout and reply size cap.
    pub async fn complete(&self, request: ChatRequest) -> Result<Vec<ChatEvent>, ProviderError> {
        let request = self.with_model(request);
        let wire = self.dialect.chat_request(&request, false)?;
        tracing::info!(provider = self.endpoint.label, model = %request.model, messages = request.messages.len(), tools = request.tools.len(), "chat (not streamed)");
        let body = self
            .client
            .fetch(&self.endpoint, &wire, self.dialect)
            .await?;
        self.dialect
            .parse_reply(&body)
            .map_err(|e| self.endpoint.scrub(e))
    }

    async fn open_chat(&self, request: ChatRequest) -> Result<ChatStream, ProviderError> {
        let request = self.with_model(request);
        let wire = self.dialect.chat_request(&request, true)?;
        tracing::info!(provider = self.endpoint.label, model = %request.model, messages = request.messages.len(), tools = request.tools.len(), "chat");
        let cap = Some(self.client.config().max_stream_bytes);
        let body = self
            .client
            .open_stream(&self.endpoint, &wire, self.dialect, cap)
            .await?;
        Ok(event_stream(
            body,
            self.dialect.stream_decoder(),
            Arc::clone(&self.endpoint),
        ))
    }

    async fn models(&self) -> Result<Vec<ModelInfo>, ProviderError> {
        let wire = self.dialect.models_request();
        let body = self
            .client
            .fetch(&self.endpoint, &wire, self.dialect)
            .await?;
        self.dialect
            .parse_models(&body)
            .map_err(|e| self.endpoint.scrub(e))
    }
}

impl ChatProvider for HttpProvider {
    fn label(&self) -> &str {
        self.endpoint.label
    }

    fn chat(&self, request: ChatRequest) -> BoxFuture<'_, Result<ChatStream, ProviderError>> {
        Box::pin(self.open_chat(request))
    }

    fn list_models(&self) -> BoxFuture<'_, Result<Vec<ModelInfo>, ProviderError>> {
        Box::pin(self.models())
    }
}

struct StreamState {
    body: Option<ReplyBody>,
    decoder: Box<dyn StreamDecoder>,
    pending: VecDeque<ChatEvent>,
    finished: bool,
    endpoint: Arc<Endpoint>,
}

/// Feeds the body to the decoder and yields its events; ends after
/// [`ChatEvent::Done`] (the rest of the body is not read) or after the
/// first error. Dropping the stream closes the connection.
fn event_stream(
    body: ReplyBody,
    decoder: Box<dyn StreamDecoder>,
    endpoint: Arc<Endpoint>,
) -> ChatStream {
    let state = StreamState {
        body: Some(body),
        decoder,
        pending: VecDeque::new(),
        finished: false,
        endpoint,
    };
    let stream = futures_util::stream::unfold(state, |mut state| async move {
        loop {
            if let Some(event) = state.pending.pop_front() {
                if matches!(event, ChatEvent::Done { .. }) {
                    state.finished = true;
                    state.pending.clear();
                    state.body = None;
                }
                return Some((Ok(event), state));
            }
            if state.finished {
                return None;
            }
            let fed = match state.body.as_mut() {
                Some(body) => match body.next_chunk().await {
                    Ok(Some(bytes)) => state.decoder.feed(&bytes),
                    Ok(None) => {
                        state.body = None;
                        state.finished = true;
                        state.decoder.finish()
                    }
                    Err(e) => Err(e),
                },
                None => return None,
            };
            match fed {
                Ok(events) => state.pending.extend(events),
                Err(error) => {
                    tracing::warn!(provider = state.endpoint.label, kind = ?error.kind, "chat stream failed");
                    state.finished = true;
                    state.pending.clear();
                    state.body = None;
                    let error = state.endpoint.scrub(error);
                    return Some((Err(error), state));
                }
            }
        }
    });
    stream.boxed()
}
