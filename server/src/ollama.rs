//! The service behind the Ollama page: hardware facts and model sizes, and
//! the models of the configured Ollama servers (list, pull with progress,
//! delete), through [`OllamaAdmin`].
//!
//! Only servers the engineer configured as Ollama providers, or the local
//! default when there is none, can be managed: the browser names a provider
//! id, never a URL. A pull runs in a background task that keeps the latest
//! progress in memory; the page polls it. Pulls and deletions are audited.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::json;
use tftsr_app::AppError;
use tftsr_app::services::OllamaService;
use tftsr_app::wire::{HardwareReport, OllamaServer, PullState};
use tftsr_core::Clock;
use tftsr_core::ai::sizing::{self, Hardware};
use tftsr_core::ai::{
    BoxFuture, ModelInfo, ProviderError, ProviderErrorKind, ProviderId, ProviderKind,
};
use tftsr_core::audit::{AuditAction, NewAuditEntry};

use crate::credentials::Credentials;
use crate::hardware::HardwareProbe;
use crate::providers::{HttpClient, OllamaAdmin};
use crate::store::Database;

/// How long a finished pull stays on the page.
const FINISHED_KEPT: Duration = Duration::from_secs(600);
/// How long hardware facts are reused before they are read again.
const HARDWARE_FRESH: Duration = Duration::from_secs(30);

struct Job {
    state: Arc<Mutex<PullState>>,
    task: tokio::task::AbortHandle,
    started: Instant,
    finished: Arc<Mutex<Option<Instant>>>,
}

/// A server resolved from what the browser named.
struct Target {
    server: OllamaServer,
    admin: OllamaAdmin,
}

pub struct OllamaManager {
    db: Arc<Database>,
    credentials: Credentials,
    client: HttpClient,
    clock: Arc<dyn Clock>,
    probe: HardwareProbe,
    runtime: tokio::runtime::Handle,
    /// Pulls by (base URL, model).
    jobs: Mutex<HashMap<(String, String), Job>>,
    hardware: tokio::sync::Mutex<Option<(Instant, Hardware)>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A provider error as the page shows it, with what to do about it.
fn app_error(e: ProviderError) -> AppError {
    let hint = match e.kind {
        ProviderErrorKind::Unreachable | ProviderErrorKind::Timeout => {
            " Start Ollama with `ollama serve`."
        }
        ProviderErrorKind::Auth => " Check the key of the Ollama provider in Settings.",
        _ => "",
    };
    let message = format!("{}{hint}", e.message);
    match e.kind {
        ProviderErrorKind::UnknownModel => AppError::NotFound(message),
        ProviderErrorKind::BadRequest => AppError::BadRequest(message),
        _ => AppError::Unavailable(message),
    }
}

impl OllamaManager {
    pub fn new(
        db: Arc<Database>,
        credentials: Credentials,
        client: HttpClient,
        clock: Arc<dyn Clock>,
        probe: HardwareProbe,
        runtime: tokio::runtime::Handle,
    ) -> Self {
        Self {
            db,
            credentials,
            client,
            clock,
            probe,
            runtime,
            jobs: Mutex::new(HashMap::new()),
            hardware: tokio::sync::Mutex::new(None),
        }
    }

    fn default_server() -> OllamaServer {
        OllamaServer {
            provider_id: String::new(),
            name: "Local Ollama (default)".to_owned(),
            base_url: ProviderKind::Ollama.default_base_url().to_owned(),
            model: String::new(),
        }
    }

    fn list_servers(&self) -> Result<Vec<OllamaServer>, AppError> {
        let mut servers: Vec<OllamaServer> = self
            .db
            .providers()?
            .into_iter()
            .filter(|r| r.settings.kind == ProviderKind::Ollama)
            .map(|r| OllamaServer {
                provider_id: r.settings.id.to_string(),
                name: r.settings.name,
                base_url: r.settings.base_url,
                model: r.settings.model,
            })
            .collect();
        if servers.is_empty() {
            servers.push(Self::default_server());
        }
        Ok(servers)
    }

    /// The server `server` names; `None` is the first configured Ollama
    /// provider, or the local default when there is none (as
    /// [`OllamaService::servers`] lists them).
    fn target(&self, server: Option<ProviderId>) -> Result<Target, AppError> {
        let server = match server {
            Some(id) => Some(id),
            None => self
                .db
                .providers()?
                .into_iter()
                .find(|r| r.settings.kind == ProviderKind::Ollama)
                .map(|r| r.settings.id),
        };
        let (server, key) = match server {
            None => (Self::default_server(), None),
            Some(id) => {
                let row = self.db.provider(id)?;
                if row.settings.kind != ProviderKind::Ollama {
                    return Err(AppError::BadRequest(
                        "That provider is not an Ollama server.".to_owned(),
                    ));
                }
                let key = match &row.api_key_enc {
                    Some(enc) => Some(
                        self.credentials
                            .decrypt(enc)
                            .map_err(|e| AppError::Conflict(e.to_string()))?,
                    ),
                    None => None,
                };
                let server = OllamaServer {
                    provider_id: row.settings.id.to_string(),
                    name: row.settings.name,
                    base_url: row.settings.base_url,
                    model: row.settings.model,
                };
                (server, key)
            }
        };
        let admin =
            OllamaAdmin::new(self.client.clone(), &server.base_url, key).map_err(app_error)?;
        Ok(Target { server, admin })
    }

    fn audit(&self, action: AuditAction, target: &Target, model: &str) -> Result<(), AppError> {
        let entity_id = if target.server.provider_id.is_empty() {
            "default".to_owned()
        } else {
            target.server.provider_id.clone()
        };
        self.db.audit(
            &NewAuditEntry {
                action,
                entity_type: "ollama_server",
                entity_id,
                details: json!({ "base_url": target.server.base_url, "model": model }),
            },
            self.clock.now(),
        )?;
        Ok(())
    }

    /// The context size the sizes are weighed for: the default Ollama
    /// provider's, else Ollama's default.
    fn context_tokens(&self) -> u32 {
        self.db
            .providers()
            .ok()
            .and_then(|rows| {
                let ollama: Vec<_> = rows
                    .into_iter()
                    .filter(|r| r.settings.kind == ProviderKind::Ollama)
                    .collect();
                ollama
                    .iter()
                    .find(|r| r.settings.is_default)
                    .or(ollama.first())
                    .map(|r| r.settings.context_tokens)
            })
            .unwrap_or_else(|| ProviderKind::Ollama.default_context_tokens())
    }

    fn prune(jobs: &mut HashMap<(String, String), Job>) {
        jobs.retain(|_, job| lock(&job.finished).is_none_or(|at| at.elapsed() < FINISHED_KEPT));
    }
}

impl OllamaService for OllamaManager {
    fn hardware(&self) -> BoxFuture<'_, Result<HardwareReport, AppError>> {
        Box::pin(async move {
            let hardware = {
                let mut cached = self.hardware.lock().await;
                match &*cached {
                    Some((at, hw)) if at.elapsed() < HARDWARE_FRESH => hw.clone(),
                    _ => {
                        let hw = self.probe.detect().await;
                        *cached = Some((Instant::now(), hw.clone()));
                        hw
                    }
                }
            };
            let context_tokens = self.context_tokens();
            Ok(HardwareReport {
                recommendations: sizing::recommend(&hardware, context_tokens),
                hardware,
                context_tokens,
            })
        })
    }

    fn servers(&self) -> Result<Vec<OllamaServer>, AppError> {
        self.list_servers()
    }

    fn models(
        &self,
        server: Option<ProviderId>,
    ) -> BoxFuture<'_, Result<Vec<ModelInfo>, AppError>> {
        Box::pin(async move {
            let target = self.target(server)?;
            let mut models = target.admin.list_models().await.map_err(app_error)?;
            models.sort_by(|a, b| a.name.cmp(&b.name));
            Ok(models)
        })
    }

    fn pull(&self, server: Option<ProviderId>, model: String) -> Result<(), AppError> {
        let model = model.trim().to_owned();
        let target = self.target(server)?;
        let key = (target.server.base_url.clone(), model.clone());
        let mut jobs = lock(&self.jobs);
        Self::prune(&mut jobs);
        if let Some(job) = jobs.get(&key)
            && lock(&job.finished).is_none()
        {
            return Err(AppError::Conflict(format!(
                "{model} is already being pulled."
            )));
        }
        // Validates the name before anything is recorded.
        if model.is_empty() || model.len() > 200 || model.chars().any(char::is_control) {
            return Err(AppError::BadRequest(
                "Name the Ollama model (such as llama3.2 or qwen2.5:7b).".to_owned(),
            ));
        }
        self.audit(AuditAction::ModelPulled, &target, &model)?;
        let state = Arc::new(Mutex::new(PullState {
            model: model.clone(),
            status: "starting".to_owned(),
            completed: 0,
            total: 0,
            done: false,
            error: None,
        }));
        let finished = Arc::new(Mutex::new(None));
        let task = {
            let state = state.clone();
            let finished = finished.clone();
            self.runtime.spawn(async move {
                let outcome = async {
                    let mut stream = target.admin.pull(&model).await?;
                    while let Some(progress) = stream.next().await {
                        let progress = progress?;
                        let mut s = lock(&state);
                        s.status = progress.status.clone();
                        // Keep the bar where it is between layers.
                        if let Some(total) = progress.total {
                            s.total = total;
                            s.completed = progress.completed.unwrap_or(0);
                        }
                        if progress.is_success() {
                            s.done = true;
                            s.completed = s.total;
                        }
                    }
                    Ok::<(), ProviderError>(())
                }
                .await;
                let mut s = lock(&state);
                match outcome {
                    Ok(()) if s.done => {
                        tracing::info!(model = %s.model, "model pulled");
                    }
                    Ok(()) => {
                        s.done = true;
                        s.error = Some("Ollama ended the download before it finished.".to_owned());
                    }
                    Err(e) => {
                        tracing::warn!(model = %s.model, error = %e.message, "model pull failed");
                        s.done = true;
                        s.error = Some(app_error(e).to_string());
                    }
                }
                *lock(&finished) = Some(Instant::now());
            })
        };
        jobs.insert(
            key,
            Job {
                state,
                task: task.abort_handle(),
                started: Instant::now(),
                finished,
            },
        );
        Ok(())
    }

    fn pulls(&self, server: Option<ProviderId>) -> Result<Vec<PullState>, AppError> {
        let base_url = self.target(server)?.server.base_url;
        let mut jobs = lock(&self.jobs);
        Self::prune(&mut jobs);
        let mut list: Vec<(Instant, PullState)> = jobs
            .iter()
            .filter(|((url, _), _)| *url == base_url)
            .map(|(_, job)| (job.started, lock(&job.state).clone()))
            .collect();
        list.sort_by_key(|(started, _)| *started);
        Ok(list.into_iter().map(|(_, s)| s).collect())
    }

    fn cancel_pull(&self, server: Option<ProviderId>, model: String) -> Result<(), AppError> {
        let base_url = self.target(server)?.server.base_url;
        let mut jobs = lock(&self.jobs);
        let job = jobs
            .remove(&(base_url, model.trim().to_owned()))
            .ok_or_else(|| AppError::NotFound("That model is not being pulled.".to_owned()))?;
        // Dropping the stream closes the connection, which stops Ollama's
        // download.
        job.task.abort();
        Ok(())
    }

    fn delete(
        &self,
        server: Option<ProviderId>,
        model: String,
    ) -> BoxFuture<'_, Result<(), AppError>> {
        Box::pin(async move {
            let model = model.trim().to_owned();
            let target = self.target(server)?;
            target.admin.delete(&model).await.map_err(app_error)?;
            self.audit(AuditAction::ModelDeleted, &target, &model)?;
            Ok(())
        })
    }
}
