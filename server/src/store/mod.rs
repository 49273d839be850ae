//! The encrypted store: one SQLCipher database file, `tftsr.db`.
//!
//! There is exactly one way to open it — with a key and SQLCipher 4's
//! settings pinned explicitly — so debug builds and tests exercise the same
//! encrypted path as production. Calls are blocking; async callers run them
//! on Tokio's blocking pool.
//!
//! One writer connection serialises writes (SQLite allows one writer anyway);
//! a few reader connections serve the list and search under WAL so a write
//! never waits behind a slow read. Each connection pays the key derivation
//! (PBKDF2, 256,000 rounds) once, at start-up, and keeps a 32 MiB page cache,
//! because a cache miss costs a page decryption and HMAC check.

pub mod ai;
pub mod attachments;
pub mod audit;
pub mod docs;
pub mod integrations;
pub mod issues;
pub mod key;
pub mod logs;
pub mod maintenance;
pub mod mcp;
pub mod mcp_calls;
pub mod migrate;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use rusqlite::{Connection, OpenFlags, OptionalExtension, ffi::ErrorCode};
use tftsr_core::{StoreError, StoreErrorKind, Timestamp};

use crate::secret::Secret;
use migrate::{MIGRATIONS, MigrationError, MigrationStatus};

pub const DB_FILE: &str = "tftsr.db";
const READERS: usize = 2;

/// The cipher settings every connection uses (SQLCipher 4 defaults, pinned so
/// a library upgrade can't change them under an existing database).
pub const CIPHER_PRAGMAS: &[(&str, &str)] = &[
    ("cipher_page_size", "4096"),
    ("kdf_iter", "256000"),
    ("cipher_hmac_algorithm", "HMAC_SHA512"),
    ("cipher_kdf_algorithm", "PBKDF2_HMAC_SHA512"),
];

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(
        "cannot open {0}: the key is wrong, or the file is not a TFTSR database. \
         Nothing was changed."
    )]
    WrongKey(PathBuf),
    #[error("this build's SQLite has no SQLCipher; refusing to store data unencrypted")]
    NoCipher,
    #[error("cannot open {path}: {source}")]
    Sqlite {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error(transparent)]
    Migration(#[from] MigrationError),
}

/// Facts about the open database, for the security page and `db status`.
#[derive(Clone, Debug)]
pub struct CipherInfo {
    pub cipher_version: String,
    pub sqlite_version: String,
    pub page_size: i64,
    pub kdf_iter: i64,
    pub hmac: String,
    pub kdf: String,
}

pub struct Database {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// Opens one keyed connection and proves the key is right.
fn open_connection(path: &Path, key: &Secret) -> Result<Connection, OpenError> {
    let sqlite = |source| OpenError::Sqlite {
        path: path.to_owned(),
        source,
    };
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sqlite)?;
    let cipher: Option<String> = conn
        .query_row("PRAGMA cipher_version", [], |r| r.get(0))
        .optional()
        .map_err(sqlite)?;
    if cipher.as_deref().is_none_or(str::is_empty) {
        return Err(OpenError::NoCipher);
    }
    conn.pragma_update(None, "key", key.expose())
        .map_err(sqlite)?;
    for (name, value) in CIPHER_PRAGMAS {
        conn.execute_batch(&format!("PRAGMA {name} = {value}"))
            .map_err(sqlite)?;
    }
    // The first read decrypts page 1: a wrong key fails here, before anything
    // could be written.
    match conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    }) {
        Ok(_) => {}
        Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == ErrorCode::NotADatabase => {
            return Err(OpenError::WrongKey(path.to_owned()));
        }
        Err(source) => return Err(sqlite(source)),
    }
    conn.execute_batch(
        "PRAGMA foreign_keys = ON;
         PRAGMA journal_mode = WAL;
         PRAGMA synchronous = NORMAL;
         PRAGMA busy_timeout = 5000;
         PRAGMA temp_store = MEMORY;
         PRAGMA cache_size = -32768;",
    )
    .map_err(sqlite)?;
    Ok(conn)
}

/// Maps a SQLite failure to a store error whose message is safe to show;
/// the detail goes to the log only.
pub(crate) fn store_error(e: rusqlite::Error) -> StoreError {
    if let rusqlite::Error::QueryReturnedNoRows = e {
        return StoreError::new(StoreErrorKind::NotFound, "not found");
    }
    let code = match &e {
        rusqlite::Error::SqliteFailure(f, _) => Some(f.code),
        _ => None,
    };
    match code {
        Some(ErrorCode::DiskFull) => {
            tracing::error!(error = %e, "disk full");
            StoreError::new(
                StoreErrorKind::Full,
                "The disk is full; nothing was saved. Free some space and try again.",
            )
        }
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StoreError::new(
            StoreErrorKind::Busy,
            "The database is busy; try again in a moment.",
        ),
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => {
            tracing::error!(error = %e, "database corrupt");
            StoreError::new(
                StoreErrorKind::Corrupt,
                "The database file is damaged; restore a backup.",
            )
        }
        _ => {
            tracing::error!(error = %e, "database error");
            StoreError::new(
                StoreErrorKind::Other,
                "A database error occurred; see the server log.",
            )
        }
    }
}

impl Database {
    /// Opens (or creates) the database at `path` with `key` and applies any
    /// pending migrations. A wrong key or an edited migration is an error and
    /// leaves the file as it was.
    pub fn open(path: &Path, key: &Secret) -> Result<Self, OpenError> {
        let db = Self::open_unmigrated(path, key)?;
        let now = Timestamp::from_datetime(time::OffsetDateTime::now_utc()).to_string();
        let applied = migrate::apply(&mut db.lock_writer(), MIGRATIONS, &now)?;
        for name in applied {
            tracing::info!(migration = name, "applied migration");
        }
        Ok(db)
    }

    /// Opens without migrating, for `db status`.
    pub fn open_unmigrated(path: &Path, key: &Secret) -> Result<Self, OpenError> {
        let writer = open_connection(path, key)?;
        let readers = (0..READERS)
            .map(|_| open_connection(path, key).map(Mutex::new))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            path: path.to_owned(),
            writer: Mutex::new(writer),
            readers,
            next_reader: AtomicUsize::new(0),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn lock_writer(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent (the
        // transaction rolls back on drop), so a poisoned lock is still usable.
        self.writer.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn lock_reader(&self) -> MutexGuard<'_, Connection> {
        for r in &self.readers {
            if let Ok(guard) = r.try_lock() {
                return guard;
            }
        }
        let i = self.next_reader.fetch_add(1, Ordering::Relaxed) % self.readers.len();
        self.readers[i].lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn migration_status(&self) -> Result<Vec<MigrationStatus>, MigrationError> {
        migrate::status_of(&self.lock_reader(), MIGRATIONS)
    }

    pub fn cipher_info(&self) -> Result<CipherInfo, StoreError> {
        let conn = self.lock_reader();
        let text = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, String>(0));
        // SQLCipher answers its numeric pragmas as text.
        let int = |sql: &str| {
            conn.query_row(sql, [], |r| {
                let value: rusqlite::types::Value = r.get(0)?;
                Ok(match value {
                    rusqlite::types::Value::Integer(n) => n,
                    rusqlite::types::Value::Text(t) => t.trim().parse().unwrap_or(-1),
                    _ => -1,
                })
            })
        };
        (|| {
            Ok(CipherInfo {
                cipher_version: text("PRAGMA cipher_version")?,
                sqlite_version: text("SELECT sqlite_version()")?,
                page_size: int("PRAGMA cipher_page_size")?,
                kdf_iter: int("PRAGMA kdf_iter")?,
                hmac: text("PRAGMA cipher_hmac_algorithm")?,
                kdf: text("PRAGMA cipher_kdf_algorithm")?,
            })
        })()
        .map_err(store_error)
    }

    /// Size of the database file and its write-ahead log, in bytes.
    pub fn size_on_disk(&self) -> u64 {
        let wal = self.path.with_extension("db-wal");
        [self.path.as_path(), wal.as_path()]
            .iter()
            .filter_map(|p| std::fs::metadata(p).ok())
            .map(|m| m.len())
            .sum()
    }

    pub fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.lock_reader()
            .query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()
            .map_err(store_error)
    }

    pub fn set_setting(&self, key: &str, value: &str, now: Timestamp) -> Result<(), StoreError> {
        self.lock_writer()
            .execute(
                "INSERT INTO settings (key, value, updated_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                rusqlite::params![key, value, now.to_string()],
            )
            .map(drop)
            .map_err(store_error)
    }
}
