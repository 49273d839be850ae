//! Changing the database key and writing encrypted backups.
//!
//! Both keep the key out of every message: SQLite's error text is never
//! passed on for the statements that carry it, only its error code.

use std::io::Read;
use std::path::{Path, PathBuf};

use rusqlite::ffi::ErrorCode;
use serde_json::json;
use sha2::{Digest, Sha256};
use tftsr_core::Timestamp;
use tftsr_core::audit::{AuditAction, NewAuditEntry};

use super::{CIPHER_PRAGMAS, Database, OpenError, open_connection};
use crate::secret::Secret;

/// The shortest new key `db rekey` accepts.
pub const MIN_KEY_CHARS: usize = 16;
/// Where the new key comes from for `db rekey` (else stdin).
pub const NEW_KEY_ENV: &str = "TFTSR_NEW_DB_KEY";
/// The folder of backups made from the security page, in the data directory.
pub const BACKUP_DIR: &str = "backups";

#[derive(Debug, thiserror::Error)]
pub enum MaintenanceError {
    #[error("the new key is empty")]
    EmptyKey,
    #[error("the new key is too short: use at least {MIN_KEY_CHARS} characters")]
    KeyTooShort,
    #[error("the new key is the same as the current one")]
    SameKey,
    #[error("{0} does not exist")]
    NoDatabase(PathBuf),
    #[error(
        "the database is in use (is `tftsr serve` running?); stop the server and try again. \
         Nothing was changed."
    )]
    InUse,
    #[error(
        "changing the key failed (SQLite error {0:?}); the database still opens with the old key"
    )]
    Rekey(ErrorCode),
    #[error(
        "the key was changed but the database does not open with the new key; \
         keep both keys and see Troubleshooting.md"
    )]
    VerifyFailed,
    #[error("{0} exists; pass --force to replace it")]
    Exists(PathBuf),
    #[error("writing the backup failed (SQLite error {0:?}); nothing was written")]
    Backup(ErrorCode),
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Open(#[from] OpenError),
    #[error("{0}")]
    Store(#[from] tftsr_core::StoreError),
}

/// Checks a new key before anything is changed.
pub fn validate_new_key(key: &Secret) -> Result<(), MaintenanceError> {
    let k = key.expose();
    if k.trim().is_empty() {
        return Err(MaintenanceError::EmptyKey);
    }
    if k.chars().count() < MIN_KEY_CHARS {
        return Err(MaintenanceError::KeyTooShort);
    }
    Ok(())
}

fn code(e: &rusqlite::Error) -> ErrorCode {
    match e {
        rusqlite::Error::SqliteFailure(f, _) => f.code,
        _ => ErrorCode::Unknown,
    }
}

/// Changes the key of the database at `path` from `old` to `new`, proves
/// the new key opens it, and records `db_rekeyed`. No other connection may
/// be open (the server must be stopped): the write-ahead log is folded in
/// first, which needs the database to itself.
pub fn rekey(
    path: &Path,
    old: &Secret,
    new: &Secret,
    now: Timestamp,
) -> Result<(), MaintenanceError> {
    validate_new_key(new)?;
    if old.matches(new.expose()) {
        return Err(MaintenanceError::SameKey);
    }
    if !path.exists() {
        return Err(MaintenanceError::NoDatabase(path.to_owned()));
    }
    {
        let conn = open_connection(path, old)?;
        // Leaving WAL mode checkpoints the log and needs an exclusive lock:
        // it fails if anyone else has the database open.
        let mode: String = conn
            .query_row("PRAGMA journal_mode = DELETE", [], |r| r.get(0))
            .map_err(|e| {
                tracing::warn!(code = ?code(&e), "cannot leave WAL mode for rekey");
                MaintenanceError::InUse
            })?;
        if !mode.eq_ignore_ascii_case("delete") {
            return Err(MaintenanceError::InUse);
        }
        conn.pragma_update(None, "rekey", new.expose())
            .map_err(|e| MaintenanceError::Rekey(code(&e)))?;
        // Back to WAL under the new key, as every connection expects.
        conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0))
            .map_err(|e| MaintenanceError::Rekey(code(&e)))?;
    }
    let db = match Database::open_unmigrated(path, new) {
        Ok(db) => db,
        Err(OpenError::WrongKey(_)) => return Err(MaintenanceError::VerifyFailed),
        Err(e) => return Err(e.into()),
    };
    db.audit(
        &NewAuditEntry {
            action: AuditAction::DbRekeyed,
            entity_type: "database",
            entity_id: super::DB_FILE.to_owned(),
            details: json!({ "verified": true }),
        },
        now,
    )?;
    tracing::info!(path = %path.display(), "database key changed");
    Ok(())
}

/// What a backup wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackupInfo {
    pub path: PathBuf,
    pub sha256: String,
    pub size: u64,
}

/// SHA-256 and size of a file.
fn digest(path: &Path) -> std::io::Result<(String, u64)> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        size += n as u64;
        hasher.update(&buf[..n]);
    }
    Ok((hex::encode(hasher.finalize()), size))
}

impl Database {
    /// Writes an encrypted copy of the whole database to `dest`, under
    /// `key` (the key this database is open with; `None` lets SQLCipher
    /// use the open database's own key), and records `db_backup`
    /// with the file's SHA-256 and size. The copy is written to a temp file
    /// beside `dest` and renamed, so a full disk never leaves half a file;
    /// an existing `dest` is replaced only with `overwrite`.
    pub fn backup_to(
        &self,
        dest: &Path,
        key: Option<&Secret>,
        overwrite: bool,
        now: Timestamp,
    ) -> Result<BackupInfo, MaintenanceError> {
        let io = |source| MaintenanceError::Io {
            path: dest.to_owned(),
            source,
        };
        if !overwrite && dest.exists() {
            return Err(MaintenanceError::Exists(dest.to_owned()));
        }
        let dir = dest
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let tmp = tempfile::Builder::new()
            .prefix(".tftsr-backup-")
            .suffix(".tmp")
            .tempfile_in(dir)
            .map_err(io)?;
        {
            // On the writer, so no write of ours lands half-way through.
            let conn = self.lock_writer();
            let export = || -> rusqlite::Result<()> {
                let file = tmp.path().to_string_lossy();
                match key {
                    Some(key) => conn.execute(
                        "ATTACH DATABASE ?1 AS backup KEY ?2",
                        rusqlite::params![file, key.expose()],
                    )?,
                    // Without KEY, SQLCipher attaches with the main
                    // database's key.
                    None => conn.execute("ATTACH DATABASE ?1 AS backup", [file])?,
                };
                for (name, value) in CIPHER_PRAGMAS {
                    conn.execute_batch(&format!("PRAGMA backup.{name} = {value}"))?;
                }
                conn.query_row("SELECT sqlcipher_export('backup')", [], |_| Ok(()))?;
                Ok(())
            };
            let exported = export();
            let detached = conn.execute_batch("DETACH DATABASE backup");
            if let Err(e) = exported.and(detached) {
                tracing::error!(code = ?code(&e), "backup failed");
                return Err(MaintenanceError::Backup(code(&e)));
            }
        }
        tmp.as_file().sync_all().map_err(io)?;
        let (sha256, size) = digest(tmp.path()).map_err(io)?;
        if overwrite {
            tmp.persist(dest).map_err(|e| io(e.error))?;
        } else {
            tmp.persist_noclobber(dest).map_err(|e| {
                if e.error.kind() == std::io::ErrorKind::AlreadyExists {
                    MaintenanceError::Exists(dest.to_owned())
                } else {
                    io(e.error)
                }
            })?;
        }
        let file_name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        self.audit(
            &NewAuditEntry {
                action: AuditAction::DbBackup,
                entity_type: "database",
                entity_id: super::DB_FILE.to_owned(),
                details: json!({ "file": file_name, "sha256": sha256, "size": size }),
            },
            now,
        )?;
        tracing::info!(path = %dest.display(), size, "database backup written");
        Ok(BackupInfo {
            path: dest.to_owned(),
            sha256,
            size,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_keys_are_checked() {
        assert!(matches!(
            validate_new_key(&Secret::new(String::new())),
            Err(MaintenanceError::EmptyKey)
        ));
        assert!(matches!(
            validate_new_key(&Secret::new("   ".into())),
            Err(MaintenanceError::EmptyKey)
        ));
        assert!(matches!(
            validate_new_key(&Secret::new("short".into())),
            Err(MaintenanceError::KeyTooShort)
        ));
        assert!(validate_new_key(&Secret::new("a".repeat(MIN_KEY_CHARS))).is_ok());
        let message = validate_new_key(&Secret::new("hunter2".into()))
            .expect_err("short")
            .to_string();
        assert!(!message.contains("hunter2"));
    }
}
