use leptos::prelude::*;

use crate::AppError;

/// Deletes an issue and its timeline (the audit entries stay), then sends
/// the browser to the issue list.
#[server(prefix = "/api", endpoint = "delete_issue")]
pub async fn delete_issue(id: String) -> Result<(), AppError> {
    let id = super::super::parse_id(&id)?;
    crate::services::blocking(move |s| Ok(s.tracker.delete(id)?)).await?;
    leptos_axum::redirect("/issues");
    Ok(())
}
