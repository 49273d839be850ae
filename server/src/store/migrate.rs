//! Schema migrations: numbered SQL files from `migrations/`, embedded in the
//! binary, applied in order in one transaction and recorded in `_migrations`
//! with the SHA-256 of their text. A migration that was edited after it was
//! applied is an error at start-up, not something to skip.

use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};

/// One embedded migration.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub name: &'static str,
    pub sql: &'static str,
}

/// Every migration, in order. Adding a file to `migrations/` means adding it
/// here; a test checks that the two lists agree.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        name: "0001_foundation",
        sql: include_str!("../../../migrations/0001_foundation.sql"),
    },
    Migration {
        name: "0002_logs",
        sql: include_str!("../../../migrations/0002_logs.sql"),
    },
    Migration {
        name: "0003_triage",
        sql: include_str!("../../../migrations/0003_triage.sql"),
    },
    Migration {
        name: "0004_documents",
        sql: include_str!("../../../migrations/0004_documents.sql"),
    },
    Migration {
        name: "0005_mcp",
        sql: include_str!("../../../migrations/0005_mcp.sql"),
    },
    Migration {
        name: "0006_mcp_calls",
        sql: include_str!("../../../migrations/0006_mcp_calls.sql"),
    },
    Migration {
        name: "0007_integrations",
        sql: include_str!("../../../migrations/0007_integrations.sql"),
    },
    Migration {
        name: "0008_attachments",
        sql: include_str!("../../../migrations/0008_attachments.sql"),
    },
];

impl Migration {
    pub fn checksum(&self) -> String {
        hex::encode(Sha256::digest(self.sql.as_bytes()))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MigrationError {
    #[error(
        "migration {name} was changed after it was applied (checksum {applied} in the database, \
         {embedded} in this build); restore the original file and add a new migration instead"
    )]
    Modified {
        name: String,
        applied: String,
        embedded: String,
    },
    #[error(
        "the database has migration {0} which this build does not know; \
         it was written by a newer TFTSR — upgrade instead of downgrading"
    )]
    Unknown(String),
    #[error("migration {name} failed: {source}")]
    Failed {
        name: &'static str,
        source: rusqlite::Error,
    },
    #[error("reading the migration table failed: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

/// Where a migration stands in a given database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MigrationState {
    Applied { applied_at: String },
    Pending,
}

#[derive(Debug, Clone)]
pub struct MigrationStatus {
    pub name: &'static str,
    pub checksum: String,
    pub state: MigrationState,
}

const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS _migrations (
    name       TEXT PRIMARY KEY NOT NULL,
    checksum   TEXT NOT NULL,
    applied_at TEXT NOT NULL
)";

fn applied(conn: &Connection) -> Result<Vec<(String, String, String)>, MigrationError> {
    let exists: Option<i64> = conn
        .query_row(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_migrations'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    if exists.is_none() {
        return Ok(Vec::new());
    }
    let mut stmt =
        conn.prepare("SELECT name, checksum, applied_at FROM _migrations ORDER BY name")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Compares the database with `migrations`, failing on edits and unknowns.
pub fn status_of(
    conn: &Connection,
    migrations: &[Migration],
) -> Result<Vec<MigrationStatus>, MigrationError> {
    let applied = applied(conn)?;
    for (name, checksum, _) in &applied {
        match migrations.iter().find(|m| m.name == name) {
            None => return Err(MigrationError::Unknown(name.clone())),
            Some(m) if m.checksum() != *checksum => {
                return Err(MigrationError::Modified {
                    name: name.clone(),
                    applied: checksum.clone(),
                    embedded: m.checksum(),
                });
            }
            Some(_) => {}
        }
    }
    Ok(migrations
        .iter()
        .map(|m| MigrationStatus {
            name: m.name,
            checksum: m.checksum(),
            state: applied.iter().find(|(n, _, _)| n == m.name).map_or(
                MigrationState::Pending,
                |(_, _, at)| MigrationState::Applied {
                    applied_at: at.clone(),
                },
            ),
        })
        .collect())
}

/// Applies every pending migration in one transaction; returns their names.
pub fn apply(
    conn: &mut Connection,
    migrations: &[Migration],
    now: &str,
) -> Result<Vec<&'static str>, MigrationError> {
    conn.execute_batch(CREATE_TABLE)?;
    let pending: Vec<Migration> = status_of(conn, migrations)?
        .into_iter()
        .filter(|s| s.state == MigrationState::Pending)
        .filter_map(|s| migrations.iter().find(|m| m.name == s.name).copied())
        .collect();
    if pending.is_empty() {
        return Ok(Vec::new());
    }
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    for m in &pending {
        tx.execute_batch(m.sql)
            .map_err(|source| MigrationError::Failed {
                name: m.name,
                source,
            })?;
        tx.execute(
            "INSERT INTO _migrations (name, checksum, applied_at) VALUES (?1, ?2, ?3)",
            params![m.name, m.checksum(), now],
        )?;
    }
    tx.commit()?;
    Ok(pending.iter().map(|m| m.name).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_list_matches_the_migrations_directory() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../migrations");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .expect("migrations dir")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".sql"))
            .map(|n| n.trim_end_matches(".sql").to_owned())
            .collect();
        files.sort();
        let embedded: Vec<&str> = MIGRATIONS.iter().map(|m| m.name).collect();
        assert_eq!(
            files, embedded,
            "every file in migrations/ must be listed in MIGRATIONS, in order"
        );
        let mut sorted = embedded.clone();
        sorted.sort();
        assert_eq!(sorted, embedded);
    }
}
