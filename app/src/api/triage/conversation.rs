use leptos::prelude::*;

use crate::AppError;
use crate::wire::TriageView;

/// The issue's triage: messages, why-steps, the reply being streamed.
#[server(prefix = "/api", endpoint = "get_triage")]
pub async fn get_triage(issue_id: String) -> Result<TriageView, AppError> {
    let issue = crate::api::parse_id(&issue_id)?;
    crate::services::blocking(move |s| s.triage.view(issue)).await
}

/// Sends the engineer's message (empty opens the conversation) and resolves
/// when the reply is complete; the page polls [`get_triage`] meanwhile to
/// show it streaming. Without JavaScript the form posts here and the page
/// reloads with the finished reply.
#[server(prefix = "/api", endpoint = "send_triage_message")]
pub async fn send_triage_message(
    issue_id: String,
    message: String,
    provider_id: Option<String>,
) -> Result<(), AppError> {
    let issue = crate::api::parse_id(&issue_id)?;
    let provider = super::parse_provider(provider_id)?;
    let services = crate::services::services()?;
    let triage = services.triage.clone();
    crate::services::blocking(move |s| s.triage.send(issue, message, provider)).await?;
    triage.wait_idle(issue).await;
    Ok(())
}

/// Stops the reply being generated.
#[server(prefix = "/api", endpoint = "cancel_triage")]
pub async fn cancel_triage(issue_id: String) -> Result<(), AppError> {
    let issue = crate::api::parse_id(&issue_id)?;
    crate::services::blocking(move |s| s.triage.cancel(issue)).await
}

/// Starts a fresh conversation, optionally with another provider.
#[server(prefix = "/api", endpoint = "restart_triage")]
pub async fn restart_triage(issue_id: String, provider_id: Option<String>) -> Result<(), AppError> {
    let issue = crate::api::parse_id(&issue_id)?;
    let provider = super::parse_provider(provider_id)?;
    crate::services::blocking(move |s| s.triage.restart(issue, provider)).await
}
