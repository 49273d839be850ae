//! AI providers in settings: list, add, edit, delete, test, pick the
//! default. Keys go in, never out (only their last four characters).

use leptos::prelude::*;
use tftsr_core::ai::ProviderSettings;

use crate::AppError;
use crate::wire::ProviderTest;

#[cfg(feature = "ssr")]
fn parse(id: &str) -> Result<tftsr_core::ai::ProviderId, AppError> {
    tftsr_core::ai::ProviderId::parse(id.trim())
        .ok_or_else(|| AppError::BadRequest("That is not a valid provider id.".into()))
}

#[server(prefix = "/api", endpoint = "list_providers")]
pub async fn list_providers() -> Result<Vec<ProviderSettings>, AppError> {
    crate::services::blocking(|s| s.triage.providers()).await
}

/// The add/edit form. An empty `api_key` keeps the stored key unless
/// `clear_key` is set; an empty `id` adds a provider.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ProviderForm {
    #[serde(default)]
    pub id: String,
    pub name: String,
    pub kind: String,
    #[serde(default)]
    pub base_url: String,
    #[serde(default)]
    pub model: String,
    #[serde(default)]
    pub api_key: String,
    #[serde(default)]
    pub clear_key: Option<String>,
    #[serde(default)]
    pub context_tokens: String,
}

/// Adds or edits a provider.
#[server(prefix = "/api", endpoint = "save_provider")]
pub async fn save_provider(form: ProviderForm) -> Result<ProviderSettings, AppError> {
    let id = match form.id.trim() {
        "" => None,
        text => Some(parse(text)?),
    };
    let api_key = if form.clear_key.is_some_and(|c| !c.is_empty()) {
        Some(String::new())
    } else {
        Some(form.api_key).filter(|k| !k.trim().is_empty())
    };
    let draft = tftsr_core::ai::ProviderDraft {
        name: form.name,
        kind: form.kind,
        base_url: form.base_url,
        model: form.model,
        api_key,
        context_tokens: form.context_tokens,
    };
    crate::services::blocking(move |s| s.triage.save_provider(id, draft)).await
}

#[server(prefix = "/api", endpoint = "delete_provider")]
pub async fn delete_provider(id: String) -> Result<(), AppError> {
    let id = parse(&id)?;
    crate::services::blocking(move |s| s.triage.delete_provider(id)).await
}

#[server(prefix = "/api", endpoint = "make_default_provider")]
pub async fn make_default_provider(id: String) -> Result<(), AppError> {
    let id = parse(&id)?;
    crate::services::blocking(move |s| s.triage.make_default(id)).await
}

/// Tries the provider: a tiny chat through the gate and, where the API can,
/// the list of its models.
#[server(prefix = "/api", endpoint = "test_provider")]
pub async fn test_provider(id: String) -> Result<ProviderTest, AppError> {
    let id = parse(&id)?;
    let services = crate::services::services()?;
    services.triage.test_provider(id).await
}
