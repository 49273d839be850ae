use leptos::prelude::*;

use crate::AppError;

/// Redacts every occurrence of `value` in the file, as type `kind`.
/// Returns how many occurrences were found.
#[server(prefix = "/api", endpoint = "add_manual_redaction")]
pub async fn add_manual_redaction(
    file_id: String,
    kind: String,
    value: String,
) -> Result<u64, AppError> {
    use tftsr_core::pii::PiiType;
    let file = super::parse_file_id(&file_id)?;
    let kind = PiiType::parse(kind.trim())
        .ok_or_else(|| AppError::BadRequest("Choose what kind of data this is.".into()))?;
    crate::services::blocking(move |s| s.logs.add_manual(file, kind, &value)).await
}
