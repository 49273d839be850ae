//! What the security page shows about this installation.

use std::sync::Arc;

use tftsr_app::services::SystemInfo;
use tftsr_app::wire::{EncryptionStatus, MigrationRow};
use tftsr_core::{StoreError, StoreErrorKind};

use crate::store::Database;
use crate::store::key::KeySource;
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
        })
    }
}
