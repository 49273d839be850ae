use leptos::prelude::*;

use crate::AppError;
use crate::wire::SecurityOverview;

/// Encryption status and the latest audit entries.
#[server(prefix = "/api", endpoint = "get_security_overview")]
pub async fn get_security_overview() -> Result<SecurityOverview, AppError> {
    crate::services::blocking(|s| {
        Ok(SecurityOverview {
            encryption: s.system.encryption_status()?,
            audit: s.tracker.recent_audit(50)?,
        })
    })
    .await
}
