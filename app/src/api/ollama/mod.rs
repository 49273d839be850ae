//! The Ollama page: this machine's hardware and the model sizes that fit
//! it, and the models of a configured Ollama server (list, pull with live
//! progress, cancel, delete). `server` is an Ollama provider's id, or empty
//! for the local default; the browser never names a URL.

use leptos::prelude::*;
use tftsr_core::ai::ModelInfo;

use crate::AppError;
use crate::wire::{HardwareReport, OllamaServer, PullState};

#[cfg(feature = "ssr")]
fn server_id(text: &str) -> Result<Option<tftsr_core::ai::ProviderId>, AppError> {
    match text.trim() {
        "" => Ok(None),
        id => tftsr_core::ai::ProviderId::parse(id)
            .map(Some)
            .ok_or_else(|| AppError::BadRequest("That is not a valid provider id.".into())),
    }
}

#[server(prefix = "/api", endpoint = "ollama_hardware")]
pub async fn ollama_hardware() -> Result<HardwareReport, AppError> {
    crate::services::services()?.ollama.hardware().await
}

#[server(prefix = "/api", endpoint = "ollama_servers")]
pub async fn ollama_servers() -> Result<Vec<OllamaServer>, AppError> {
    crate::services::blocking(|s| s.ollama.servers()).await
}

#[server(prefix = "/api", endpoint = "ollama_models")]
pub async fn ollama_models(server: String) -> Result<Vec<ModelInfo>, AppError> {
    let server = server_id(&server)?;
    crate::services::services()?.ollama.models(server).await
}

#[server(prefix = "/api", endpoint = "pull_model")]
pub async fn pull_model(server: String, model: String) -> Result<(), AppError> {
    let server = server_id(&server)?;
    crate::services::blocking(move |s| s.ollama.pull(server, model)).await
}

#[server(prefix = "/api", endpoint = "model_pulls")]
pub async fn model_pulls(server: String) -> Result<Vec<PullState>, AppError> {
    let server = server_id(&server)?;
    crate::services::blocking(move |s| s.ollama.pulls(server)).await
}

#[server(prefix = "/api", endpoint = "cancel_pull")]
pub async fn cancel_pull(server: String, model: String) -> Result<(), AppError> {
    let server = server_id(&server)?;
    crate::services::blocking(move |s| s.ollama.cancel_pull(server, model)).await
}

#[server(prefix = "/api", endpoint = "delete_model")]
pub async fn delete_model(server: String, model: String) -> Result<(), AppError> {
    let server = server_id(&server)?;
    crate::services::services()?
        .ollama
        .delete(server, model)
        .await
}
