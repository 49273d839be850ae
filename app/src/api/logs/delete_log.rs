use leptos::prelude::*;

use crate::AppError;

/// Removes a log file, its findings and (if unused elsewhere) its content;
/// then returns to the issue.
#[server(prefix = "/api", endpoint = "delete_log")]
pub async fn delete_log(issue_id: String, file_id: String) -> Result<(), AppError> {
    let issue = crate::api::parse_id(&issue_id)?;
    let file = super::parse_file_id(&file_id)?;
    crate::services::blocking(move |s| s.logs.delete(file)).await?;
    leptos_axum::redirect(&format!("/issues/{issue}#logs"));
    Ok(())
}
