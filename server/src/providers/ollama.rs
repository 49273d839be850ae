//! Managing the models of an Ollama server: list them with their sizes,
//! pull one (streaming download progress), delete one.

use std::collections::VecDeque;
use std::pin::Pin;

use futures_util::{Stream, StreamExt};
use tftsr_core::ai::wire::Dialect;
use tftsr_core::ai::wire::ollama::{self, PullDecoder, PullProgress};
use tftsr_core::ai::{ModelInfo, ProviderError, ProviderErrorKind};

use super::client::{Endpoint, HttpClient, ReplyBody};
use crate::secret::Secret;

/// Progress of a pull, ending after the line with status `success` or
/// after an error.
pub type PullStream = Pin<Box<dyn Stream<Item = Result<PullProgress, ProviderError>> + Send>>;

/// An Ollama server's model store.
#[derive(Debug)]
pub struct OllamaAdmin {
    client: HttpClient,
    endpoint: Endpoint,
}

const DIALECT: Dialect = Dialect::Ollama;

impl OllamaAdmin {
    /// The server at `base_url` (`http://127.0.0.1:11434` by default); `key`
    /// for one behind an authenticating proxy.
    pub fn new(
        client: HttpClient,
        base_url: &str,
        key: Option<Secret>,
    ) -> Result<Self, ProviderError> {
        Ok(Self {
            client,
            endpoint: Endpoint::new(DIALECT.label(), base_url, key)?,
        })
    }

    /// The installed models, by name, with their size on disk.
    pub async fn list_models(&self) -> Result<Vec<ModelInfo>, ProviderError> {
        let body = self
            .client
            .fetch(&self.endpoint, &ollama::models_request(), DIALECT)
            .await?;
        ollama::parse_models(&body)
    }

    /// Starts downloading `model` (`llama3.2`, `qwen2.5:7b` ...). Errors
    /// before the download starts come from the future; later ones, and a
    /// stream that ends before `success`, through the stream. Dropping the
    /// stream stops the pull.
    pub async fn pull(&self, model: &str) -> Result<PullStream, ProviderError> {
        let model = check_model_name(model)?;
        tracing::info!(provider = self.endpoint.label, model, "pulling a model");
        // A download's progress may run long; only the idle timeout and a
        // per-line cap apply.
        let body = self
            .client
            .open_stream(&self.endpoint, &ollama::pull_request(model), DIALECT, None)
            .await?;
        Ok(progress_stream(body))
    }

    /// Removes `model` from the server.
    pub async fn delete(&self, model: &str) -> Result<(), ProviderError> {
        let model = check_model_name(model)?;
        tracing::info!(provider = self.endpoint.label, model, "deleting a model");
        self.client
            .fetch(&self.endpoint, &ollama::delete_request(model), DIALECT)
            .await?;
        Ok(())
    }
}

fn check_model_name(model: &str) -> Result<&str, ProviderError> {
    let model = model.trim();
    if model.is_empty() || model.len() > 200 || model.chars().any(char::is_control) {
        return Err(ProviderError::new(
            ProviderErrorKind::BadRequest,
            "Name the Ollama model (such as llama3.2 or qwen2.5:7b).",
        ));
    }
    Ok(model)
}

fn progress_stream(body: ReplyBody) -> PullStream {
    struct State {
        body: Option<ReplyBody>,
        decoder: PullDecoder,
        pending: VecDeque<PullProgress>,
        finished: bool,
    }
    let state = State {
        body: Some(body),
        decoder: PullDecoder::new(),
        pending: VecDeque::new(),
        finished: false,
    };
    futures_util::stream::unfold(state, |mut state| async move {
        loop {
            if let Some(progress) = state.pending.pop_front() {
                if progress.is_success() {
                    state.finished = true;
                    state.pending.clear();
                    state.body = None;
                }
                return Some((Ok(progress), state));
            }
            if state.finished {
                return None;
            }
            let body = state.body.as_mut()?;
            let fed = match body.next_chunk().await {
                Ok(Some(bytes)) => state.decoder.feed(&bytes),
                Ok(None) => {
                    state.body = None;
                    state.finished = true;
                    state.decoder.finish()
                }
                Err(e) => Err(e),
            };
            match fed {
                Ok(progress) => state.pending.extend(progress),
                Err(error) => {
                    state.finished = true;
                    state.body = None;
                    return Some((Err(error), state));
                }
            }
        }
    })
    .boxed()
}
