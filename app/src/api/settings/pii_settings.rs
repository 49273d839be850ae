use leptos::prelude::*;
use tftsr_core::logs::PiiSettingsText;

use crate::AppError;

/// The allowlist, custom patterns and internal domains.
#[server(prefix = "/api", endpoint = "get_pii_settings")]
pub async fn get_pii_settings() -> Result<PiiSettingsText, AppError> {
    crate::services::blocking(|s| s.logs.pii_settings()).await
}

/// Validates and saves them (regexes must compile, sizes are bounded);
/// later scans use them.
#[server(prefix = "/api", endpoint = "save_pii_settings")]
pub async fn save_pii_settings(settings: PiiSettingsText) -> Result<(), AppError> {
    crate::services::blocking(move |s| s.logs.save_pii_settings(settings)).await
}
