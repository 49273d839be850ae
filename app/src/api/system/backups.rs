use leptos::prelude::*;

use crate::AppError;
use crate::wire::BackupRow;

/// Writes an encrypted backup (same key) into the data directory's
/// `backups/` folder, under a name made from the time.
#[server(prefix = "/api", endpoint = "backup_now")]
pub async fn backup_now() -> Result<BackupRow, AppError> {
    crate::services::blocking(|s| s.system.backup_now()).await
}

/// The backups in the data directory's `backups/` folder, newest first.
#[server(prefix = "/api", endpoint = "list_backups")]
pub async fn list_backups() -> Result<Vec<BackupRow>, AppError> {
    crate::services::blocking(|s| s.system.backups()).await
}
