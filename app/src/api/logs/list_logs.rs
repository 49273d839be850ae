use leptos::prelude::*;
use tftsr_core::logs::LogFileSummary;

use crate::AppError;

/// The log files of an issue, oldest first, with scanning progress.
#[server(prefix = "/api", endpoint = "list_logs")]
pub async fn list_logs(issue_id: String) -> Result<Vec<LogFileSummary>, AppError> {
    let issue = crate::api::parse_id(&issue_id)?;
    crate::services::blocking(move |s| s.logs.list(issue)).await
}
