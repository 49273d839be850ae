use leptos::prelude::*;

use crate::AppError;

/// Adds a finding's value to the allowlist (never redacted again) and keeps
/// its occurrences in this file.
#[server(prefix = "/api", endpoint = "allow_finding")]
pub async fn allow_finding(file_id: String, finding: i64) -> Result<u64, AppError> {
    let file = super::parse_file_id(&file_id)?;
    crate::services::blocking(move |s| s.logs.allow_value(file, finding)).await
}
