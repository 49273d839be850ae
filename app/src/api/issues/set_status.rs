use leptos::prelude::*;
use tftsr_core::Issue;

use crate::AppError;

/// Moves an issue to another status (resolving sets its resolution time).
#[server(prefix = "/api", endpoint = "set_issue_status")]
pub async fn set_issue_status(id: String, status: String) -> Result<Issue, AppError> {
    let id = super::super::parse_id(&id)?;
    let status = tftsr_core::IssueStatus::parse(status.trim())
        .ok_or_else(|| AppError::BadRequest("Unknown status.".into()))?;
    let issue = crate::services::blocking(move |s| Ok(s.tracker.set_status(id, status)?)).await?;
    crate::api::integrations::after_status_change(&issue);
    Ok(issue)
}
