use leptos::prelude::*;
use tftsr_core::IssueDraft;

use crate::AppError;

/// Files a new issue and sends the browser to it.
#[server(prefix = "/api", endpoint = "create_issue")]
pub async fn create_issue(draft: IssueDraft) -> Result<String, AppError> {
    let issue = crate::services::blocking(move |s| Ok(s.tracker.create(&draft)?)).await?;
    let id = issue.id.to_string();
    leptos_axum::redirect(&format!("/issues/{id}"));
    Ok(id)
}
