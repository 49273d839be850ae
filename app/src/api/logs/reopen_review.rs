use leptos::prelude::*;

use crate::AppError;

/// Drops the redacted copy so findings can be changed again.
#[server(prefix = "/api", endpoint = "reopen_review")]
pub async fn reopen_review(file_id: String) -> Result<(), AppError> {
    let file = super::parse_file_id(&file_id)?;
    crate::services::blocking(move |s| s.logs.reopen(file)).await
}
