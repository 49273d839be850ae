//! What the security page shows about this installation.

use std::sync::Arc;

use tftsr_app::AppError;
use tftsr_app::services::SystemInfo;
use tftsr_app::wire::{BackupRow, EncryptionStatus, MigrationRow};
use tftsr_core::audit::{AUDIT_EXPORT_CAP, AUDIT_PAGE_SIZE, AuditFilter, AuditPage, AuditQuery};
use tftsr_core::{AuditEntry, StoreError, StoreErrorKind, Timestamp};

use crate::store::Database;
use crate::store::key::KeySource;
use crate::store::maintenance::{BACKUP_DIR, MaintenanceError};
use crate::store::migrate::MigrationState;

pub struct LocalSystem {
    pub db: Arc<Database>,
    pub key_source: KeySource,
}

impl SystemInfo for LocalSystem {
    fn encryption_status(&self) -> Result<EncryptionStatus, StoreError> {
        let info = self.db.cipher_info()?;
        let migrations = self
            .db
            .migration_status()
            .map_err(|e| StoreError::new(StoreErrorKind::Other, e.to_string()))?
            .into_iter()
            .map(|m| MigrationRow {
                name: m.name.to_owned(),
                applied_at: match m.state {
                    MigrationState::Applied { applied_at } => Some(applied_at),
                    MigrationState::Pending => None,
                },
            })
            .collect();
        Ok(EncryptionStatus {
            cipher_version: info.cipher_version,
            sqlite_version: info.sqlite_version,
            page_size: info.page_size,
            kdf_iter: info.kdf_iter,
            hmac: info.hmac,
            kdf: info.kdf,
            key_source: self.key_source.to_string(),
            db_path: self.db.path().display().to_string(),
            db_size_bytes: self.db.size_on_disk(),
            migrations,
            wal_size_bytes: std::fs::metadata(self.db.path().with_extension("db-wal"))
                .map(|m| m.len())
                .unwrap_or(0),
        })
    }

    fn audit_page(&self, query: &AuditQuery) -> Result<AuditPage, StoreError> {
        self.db.audit_page(query, AUDIT_PAGE_SIZE)
    }

    fn audit_export(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>, StoreError> {
        self.db.audit_entries(filter, AUDIT_EXPORT_CAP)
    }

    fn backup_now(&self) -> Result<BackupRow, AppError> {
        let dir = self.backup_dir();
        create_private_dir(&dir).map_err(|e| {
            tracing::error!(error = %e, "cannot create the backups folder");
            AppError::Unavailable("Cannot create the backups folder; see the server log.".into())
        })?;
        let now = Timestamp::from_datetime(time::OffsetDateTime::now_utc());
        // A name from the clock alone: nothing from the browser.
        let name = format!("tftsr-{}.db", now.to_string().replace([':', '.'], "-"));
        let info = self
            .db
            .backup_to(&dir.join(&name), None, false, now)
            .map_err(|e| match e {
                MaintenanceError::Exists(_) => {
                    AppError::Conflict("A backup with this name exists; try again.".into())
                }
                MaintenanceError::Store(e) => e.into(),
                e => {
                    tracing::error!(error = %e, "backup failed");
                    AppError::Unavailable("The backup failed; see the server log.".into())
                }
            })?;
        Ok(BackupRow {
            name,
            size_bytes: info.size,
            sha256: Some(info.sha256),
        })
    }

    fn backups(&self) -> Result<Vec<BackupRow>, AppError> {
        let entries = match std::fs::read_dir(self.backup_dir()) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => {
                tracing::error!(error = %e, "cannot list the backups folder");
                return Err(AppError::Unavailable(
                    "Cannot list the backups folder; see the server log.".into(),
                ));
            }
        };
        let mut rows: Vec<BackupRow> = entries
            .filter_map(Result::ok)
            .filter_map(|e| {
                let name = e.file_name().to_str()?.to_owned();
                let meta = e.metadata().ok()?;
                (meta.is_file() && name.ends_with(".db") && !name.starts_with('.')).then_some(
                    BackupRow {
                        size_bytes: meta.len(),
                        name,
                        sha256: None,
                    },
                )
            })
            .collect();
        // Timestamped names sort by time.
        rows.sort_by(|a, b| b.name.cmp(&a.name));
        Ok(rows)
    }
}

impl LocalSystem {
    fn backup_dir(&self) -> std::path::PathBuf {
        self.db
            .path()
            .parent()
            .unwrap_or(std::path::Path::new("."))
            .join(BACKUP_DIR)
    }
}

/// Creates `dir` readable by the owner only, if needed.
fn create_private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}
