//! Integrations: the settings of Confluence, ServiceNow and Azure DevOps
//! (tokens go in, never out), their connection test, and publishing a
//! document to them.

use leptos::prelude::*;

use crate::AppError;
use crate::wire::{ConnectionTest, IntegrationView, PublicationView, PublishTarget};

#[cfg(feature = "ssr")]
fn service(text: &str) -> Result<tftsr_core::publish::Service, AppError> {
    tftsr_core::publish::Service::parse(text.trim())
        .ok_or_else(|| AppError::BadRequest("That is not a service TFTSR publishes to.".into()))
}

/// Creates the issue's items where "auto-create on resolve" is on, in the
/// background: the status change never waits for (or fails with) it.
#[cfg(feature = "ssr")]
pub(crate) fn after_status_change(issue: &tftsr_core::Issue) {
    if issue.status != tftsr_core::IssueStatus::Resolved {
        return;
    }
    let Ok(services) = crate::services::services() else {
        return;
    };
    let id = issue.id;
    tokio::spawn(async move {
        services.integrations.issue_resolved(id).await;
    });
}

#[server(prefix = "/api", endpoint = "list_integrations")]
pub async fn list_integrations() -> Result<Vec<IntegrationView>, AppError> {
    crate::services::blocking(|s| s.integrations.integrations()).await
}

/// The settings form of one service. An empty `token` keeps the stored
/// one unless `clear_token` is ticked; check boxes arrive only when ticked.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IntegrationForm {
    pub service: String,
    #[serde(default)]
    pub base_url: String,
    #[serde(default)]
    pub space_key: String,
    #[serde(default)]
    pub project: String,
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub work_item_type: String,
    #[serde(default)]
    pub auto_create_on_resolve: Option<String>,
    #[serde(default)]
    pub enabled: Option<String>,
    #[serde(default)]
    pub token: String,
    #[serde(default)]
    pub clear_token: Option<String>,
}

#[server(prefix = "/api", endpoint = "save_integration")]
pub async fn save_integration(form: IntegrationForm) -> Result<IntegrationView, AppError> {
    let service = service(&form.service)?;
    let ticked = |v: &Option<String>| v.as_deref().is_some_and(|v| !v.is_empty());
    let token = if ticked(&form.clear_token) {
        Some(String::new())
    } else {
        Some(form.token).filter(|t| !t.trim().is_empty())
    };
    let draft = tftsr_core::publish::IntegrationDraft {
        base_url: form.base_url,
        space_key: form.space_key,
        project: form.project,
        username: form.username,
        work_item_type: form.work_item_type,
        auto_create_on_resolve: ticked(&form.auto_create_on_resolve),
        enabled: ticked(&form.enabled),
        token,
    };
    crate::services::blocking(move |s| s.integrations.save_integration(service, draft)).await
}

/// A cheap authenticated request to the service, with the saved settings.
#[server(prefix = "/api", endpoint = "test_integration")]
pub async fn test_integration(service: String) -> Result<ConnectionTest, AppError> {
    let service = self::service(&service)?;
    crate::services::services()?
        .integrations
        .test_connection(service)
        .await
}

#[server(prefix = "/api", endpoint = "publish_targets")]
pub async fn publish_targets(
    issue_id: String,
    kind: String,
) -> Result<Vec<PublishTarget>, AppError> {
    let issue = super::parse_id(&issue_id)?;
    let kind = tftsr_core::doc::DocumentKind::parse(kind.trim()).ok_or_else(|| {
        AppError::BadRequest("That is not a kind of document TFTSR writes.".into())
    })?;
    crate::services::blocking(move |s| s.integrations.publish_targets(issue, kind)).await
}

/// Publishes the stored document (through the PII gate, audited).
#[server(prefix = "/api", endpoint = "publish_document")]
pub async fn publish_document(
    issue_id: String,
    kind: String,
    service: String,
) -> Result<PublicationView, AppError> {
    let issue = super::parse_id(&issue_id)?;
    let kind = tftsr_core::doc::DocumentKind::parse(kind.trim()).ok_or_else(|| {
        AppError::BadRequest("That is not a kind of document TFTSR writes.".into())
    })?;
    let service = self::service(&service)?;
    crate::services::services()?
        .integrations
        .publish(issue, kind, service)
        .await
}
