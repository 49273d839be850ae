use leptos::prelude::*;

use crate::AppError;
use crate::wire::LogReview;

/// A log file with its findings grouped by type and value.
#[server(prefix = "/api", endpoint = "get_log_review")]
pub async fn get_log_review(file_id: String) -> Result<LogReview, AppError> {
    let file = super::parse_file_id(&file_id)?;
    crate::services::blocking(move |s| {
        let file_summary = s.logs.get(file)?;
        let groups = s.logs.groups(file)?;
        Ok(LogReview {
            file: file_summary,
            groups,
        })
    })
    .await
}
