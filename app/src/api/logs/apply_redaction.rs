use leptos::prelude::*;

use crate::AppError;

/// Applies the review: writes the redacted copy (findings not kept become
/// placeholders). Only that copy may ever leave the machine.
#[server(prefix = "/api", endpoint = "apply_redaction")]
pub async fn apply_redaction(file_id: String) -> Result<(), AppError> {
    let file = super::parse_file_id(&file_id)?;
    crate::services::blocking(move |s| s.logs.apply(file)).await
}
