//! RCA and post-mortem documents, their versions, action items and the
//! export history.

use rusqlite::{OptionalExtension, Transaction, params};
use serde_json::json;
use sha2::{Digest, Sha256};
use tftsr_core::audit::{AuditAction, NewAuditEntry};
use tftsr_core::doc::export::ExportFormat;
use tftsr_core::doc::{ActionItem, ActionStatus, DocumentKind};
use tftsr_core::timeline::{NewTimelineEvent, TimelineEventKind};
use tftsr_core::{IssueId, StoreError, StoreErrorKind, Timestamp};

use super::issues::{write_audit, write_events};
use super::{Database, store_error};

/// Autosaves this close to the newest edit entry update it instead of
/// adding a version.
const COALESCE_MILLIS: i64 = 5 * 60 * 1000;

fn corrupt(what: &str) -> StoreError {
    tracing::error!(what, "unreadable value in the database");
    StoreError::new(
        StoreErrorKind::Corrupt,
        format!("An unreadable {what} is stored in the database."),
    )
}

fn ts(text: &str) -> Result<Timestamp, StoreError> {
    Timestamp::parse(text).map_err(|_| corrupt("timestamp"))
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Why a document's content changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SaveReason {
    /// Drafted from the issue's data (first time or again).
    Generated,
    /// The engineer edited it (autosave).
    Edited,
    /// An earlier version was brought back.
    Restored,
    /// One section was drafted again.
    Redrafted,
}

impl SaveReason {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Generated => "generated",
            Self::Edited => "edited",
            Self::Restored => "restored",
            Self::Redrafted => "redrafted",
        }
    }
}

/// A stored document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocumentRow {
    pub id: String,
    pub issue_id: IssueId,
    pub kind: DocumentKind,
    pub title: String,
    pub content: String,
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// An entry of a document's history (without its content).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionRow {
    pub id: String,
    pub version: i64,
    pub reason: String,
    pub title: String,
    pub bytes: i64,
    pub saved_at: Timestamp,
}

/// A file made from a document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportRow {
    pub id: String,
    pub document_id: String,
    pub kind: DocumentKind,
    pub format: String,
    pub version: i64,
    pub size_bytes: i64,
    pub sha256: String,
    pub destination: String,
    pub exported_at: Timestamp,
}

const DOC_COLUMNS: &str = "id, issue_id, doc_type, title, content, version, created_at, updated_at";

type DocTuple = (String, String, String, String, String, i64, String, String);

fn doc_tuple(r: &rusqlite::Row<'_>) -> rusqlite::Result<DocTuple> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
    ))
}

fn doc_row(t: DocTuple) -> Result<DocumentRow, StoreError> {
    let (id, issue, kind, title, content, version, created, updated) = t;
    Ok(DocumentRow {
        id,
        issue_id: IssueId::parse(&issue).ok_or_else(|| corrupt("issue id"))?,
        kind: DocumentKind::parse(&kind).ok_or_else(|| corrupt("document type"))?,
        title,
        content,
        version,
        created_at: ts(&created)?,
        updated_at: ts(&updated)?,
    })
}

type ActionTuple = (
    String,
    String,
    String,
    String,
    Option<String>,
    String,
    String,
    String,
);

fn action_tuple(r: &rusqlite::Row<'_>) -> rusqlite::Result<ActionTuple> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
    ))
}

fn action_row(t: ActionTuple) -> Result<ActionItem, StoreError> {
    let (id, issue, description, owner, due, status, created, updated) = t;
    Ok(ActionItem {
        id,
        issue_id: IssueId::parse(&issue).ok_or_else(|| corrupt("issue id"))?,
        description,
        owner,
        due: due
            .map(|d| tftsr_core::doc::action::parse_date(&d).ok_or_else(|| corrupt("due date")))
            .transpose()?,
        status: ActionStatus::parse(&status).ok_or_else(|| corrupt("action status"))?,
        created_at: ts(&created)?,
        updated_at: ts(&updated)?,
    })
}

const ACTION_COLUMNS: &str =
    "id, issue_id, description, owner, due_date, status, created_at, updated_at";

fn map_fk(e: rusqlite::Error) -> StoreError {
    if let rusqlite::Error::SqliteFailure(f, _) = &e
        && f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY
    {
        return StoreError::new(StoreErrorKind::NotFound, "That issue does not exist.");
    }
    store_error(e)
}

impl Database {
    pub fn document(
        &self,
        issue: IssueId,
        kind: DocumentKind,
    ) -> Result<Option<DocumentRow>, StoreError> {
        let conn = self.lock_reader();
        let row = conn
            .prepare_cached(&format!(
                "SELECT {DOC_COLUMNS} FROM documents WHERE issue_id = ?1 AND doc_type = ?2"
            ))
            .and_then(|mut s| {
                s.query_row(params![issue.to_string(), kind.as_str()], doc_tuple)
                    .optional()
            })
            .map_err(store_error)?;
        row.map(doc_row).transpose()
    }

    /// The issue's documents, RCA first.
    pub fn documents(&self, issue: IssueId) -> Result<Vec<DocumentRow>, StoreError> {
        let conn = self.lock_reader();
        let rows: Vec<DocTuple> = conn
            .prepare_cached(&format!(
                "SELECT {DOC_COLUMNS} FROM documents WHERE issue_id = ?1 ORDER BY doc_type DESC"
            ))
            .and_then(|mut s| s.query_map([issue.to_string()], doc_tuple)?.collect())
            .map_err(store_error)?;
        rows.into_iter().map(doc_row).collect()
    }

    /// Saves a document's new content. `base_version` is the version the
    /// edit started from: if someone saved since, the save is refused with
    /// a conflict and nothing changes. Generated, restored and redrafted
    /// content always gets a history entry; autosaved edits within five
    /// minutes of the newest edit entry update it.
    #[allow(clippy::too_many_arguments)]
    pub fn save_document(
        &self,
        issue: IssueId,
        kind: DocumentKind,
        title: &str,
        content: &str,
        reason: SaveReason,
        base_version: Option<i64>,
        now: Timestamp,
    ) -> Result<DocumentRow, StoreError> {
        let mut conn = self.lock_writer();
        let tx = conn.transaction().map_err(store_error)?;
        let existing = tx
            .prepare_cached(&format!(
                "SELECT {DOC_COLUMNS} FROM documents WHERE issue_id = ?1 AND doc_type = ?2"
            ))
            .and_then(|mut s| {
                s.query_row(params![issue.to_string(), kind.as_str()], doc_tuple)
                    .optional()
            })
            .map_err(store_error)?
            .map(doc_row)
            .transpose()?;
        let (id, version) = match &existing {
            Some(doc) => {
                if let Some(base) = base_version
                    && base != doc.version
                {
                    return Err(StoreError::new(
                        StoreErrorKind::Conflict,
                        format!(
                            "This document was saved elsewhere (now version {}). Reload it to see that version; your text is still in the editor.",
                            doc.version
                        ),
                    ));
                }
                if doc.content == content && doc.title == title && reason == SaveReason::Edited {
                    return Ok(doc.clone());
                }
                tx.execute(
                    "UPDATE documents SET title = ?2, content = ?3, version = version + 1,
                            updated_at = ?4 WHERE id = ?1",
                    params![doc.id, title, content, now.to_string()],
                )
                .map_err(store_error)?;
                (doc.id.clone(), doc.version + 1)
            }
            None => {
                let id = new_id();
                tx.execute(
                    "INSERT INTO documents (id, issue_id, doc_type, title, content, version,
                            created_at, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6, ?6)",
                    params![
                        id,
                        issue.to_string(),
                        kind.as_str(),
                        title,
                        content,
                        now.to_string()
                    ],
                )
                .map_err(map_fk)?;
                (id, 1)
            }
        };
        let added = record_version(&tx, &id, version, reason, title, content, now)?;
        if added {
            write_audit(
                &tx,
                now,
                &NewAuditEntry {
                    action: AuditAction::DocumentSaved,
                    entity_type: "document",
                    entity_id: id.clone(),
                    details: json!({
                        "issue_id": issue.to_string(),
                        "kind": kind.as_str(),
                        "reason": reason.as_str(),
                        "version": version,
                        "content_sha256": sha256_hex(content.as_bytes()),
                    }),
                },
            )
            .map_err(store_error)?;
        }
        if matches!(reason, SaveReason::Generated | SaveReason::Redrafted) {
            let what = if reason == SaveReason::Generated {
                "drafted"
            } else {
                "partly redrafted"
            };
            write_events(
                &tx,
                issue,
                now,
                &[NewTimelineEvent {
                    kind: TimelineEventKind::DocumentGenerated,
                    description: format!("{} {what}", kind.label()),
                    metadata: json!({ "document_id": id, "kind": kind.as_str(), "version": version }),
                }],
            )
            .map_err(store_error)?;
        }
        tx.commit().map_err(store_error)?;
        Ok(DocumentRow {
            id,
            issue_id: issue,
            kind,
            title: title.to_owned(),
            content: content.to_owned(),
            version,
            created_at: existing.as_ref().map_or(now, |d| d.created_at),
            updated_at: now,
        })
    }

    /// A document's history, newest first.
    pub fn document_versions(&self, document: &str) -> Result<Vec<VersionRow>, StoreError> {
        let conn = self.lock_reader();
        let rows: Vec<(String, i64, String, String, i64, String)> = conn
            .prepare_cached(
                "SELECT id, version, reason, title, length(CAST(content AS BLOB)), saved_at
                 FROM document_versions WHERE document_id = ?1 ORDER BY saved_at DESC, id DESC",
            )
            .and_then(|mut s| {
                s.query_map([document], |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                    ))
                })?
                .collect()
            })
            .map_err(store_error)?;
        rows.into_iter()
            .map(|(id, version, reason, title, bytes, saved)| {
                Ok(VersionRow {
                    id,
                    version,
                    reason,
                    title,
                    bytes,
                    saved_at: ts(&saved)?,
                })
            })
            .collect()
    }

    /// One history entry's title and content.
    pub fn document_version(
        &self,
        document: &str,
        version_id: &str,
    ) -> Result<(String, String), StoreError> {
        let conn = self.lock_reader();
        conn.prepare_cached(
            "SELECT title, content FROM document_versions WHERE document_id = ?1 AND id = ?2",
        )
        .and_then(|mut s| {
            s.query_row([document, version_id], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()
        })
        .map_err(store_error)?
        .ok_or_else(|| StoreError::new(StoreErrorKind::NotFound, "That version does not exist."))
    }

    pub fn action_items(&self, issue: IssueId) -> Result<Vec<ActionItem>, StoreError> {
        let conn = self.lock_reader();
        let rows: Vec<ActionTuple> = conn
            .prepare_cached(&format!(
                "SELECT {ACTION_COLUMNS} FROM action_items WHERE issue_id = ?1
                 ORDER BY created_at, id"
            ))
            .and_then(|mut s| s.query_map([issue.to_string()], action_tuple)?.collect())
            .map_err(store_error)?;
        rows.into_iter().map(action_row).collect()
    }

    /// Open and in-progress items of every issue with the issue's title,
    /// those due first (undated last), at most `limit`.
    pub fn open_action_items(&self, limit: u32) -> Result<Vec<(ActionItem, String)>, StoreError> {
        let conn = self.lock_reader();
        let rows: Vec<(ActionTuple, String)> = conn
            .prepare_cached(
                "SELECT a.id, a.issue_id, a.description, a.owner, a.due_date, a.status,
                        a.created_at, a.updated_at, i.title
                 FROM action_items a JOIN issues i ON i.id = a.issue_id
                 WHERE a.status IN ('open', 'in_progress')
                 ORDER BY a.due_date IS NULL, a.due_date, a.created_at LIMIT ?1",
            )
            .and_then(|mut s| {
                s.query_map([limit.min(500)], |r| Ok((action_tuple(r)?, r.get(8)?)))?
                    .collect()
            })
            .map_err(store_error)?;
        rows.into_iter()
            .map(|(t, title)| Ok((action_row(t)?, title)))
            .collect()
    }

    /// Adds `item`, or updates the stored item with its id.
    pub fn save_action_item(&self, item: &ActionItem, now: Timestamp) -> Result<(), StoreError> {
        let mut conn = self.lock_writer();
        let tx = conn.transaction().map_err(store_error)?;
        let before: Option<String> = tx
            .query_row(
                "SELECT status FROM action_items WHERE id = ?1 AND issue_id = ?2",
                params![item.id, item.issue_id.to_string()],
                |r| r.get(0),
            )
            .optional()
            .map_err(store_error)?;
        let due = item.due_text();
        let due = (!due.is_empty()).then_some(due);
        tx.execute(
            "INSERT INTO action_items (id, issue_id, description, owner, due_date, status,
                    created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)
             ON CONFLICT (id) DO UPDATE SET description = excluded.description,
                owner = excluded.owner, due_date = excluded.due_date, status = excluded.status,
                updated_at = excluded.updated_at",
            params![
                item.id,
                item.issue_id.to_string(),
                item.description,
                item.owner,
                due,
                item.status.as_str(),
                now.to_string()
            ],
        )
        .map_err(map_fk)?;
        let event = match before.as_deref() {
            None => Some(NewTimelineEvent {
                kind: TimelineEventKind::ActionItemAdded,
                description: item.description.clone(),
                metadata: json!({ "action_item_id": item.id, "owner": item.owner, "due": item.due_text() }),
            }),
            Some(old) if old != item.status.as_str() => Some(NewTimelineEvent {
                kind: TimelineEventKind::ActionItemUpdated,
                description: format!("{} → {}", item.description, item.status.label()),
                metadata: json!({ "action_item_id": item.id, "from": old, "to": item.status.as_str() }),
            }),
            Some(_) => None,
        };
        if let Some(event) = event {
            write_events(&tx, item.issue_id, now, &[event]).map_err(store_error)?;
        }
        write_audit(
            &tx,
            now,
            &NewAuditEntry {
                action: AuditAction::ActionItemSaved,
                entity_type: "action_item",
                entity_id: item.id.clone(),
                details: json!({ "issue_id": item.issue_id.to_string(), "status": item.status.as_str(), "new": before.is_none() }),
            },
        )
        .map_err(store_error)?;
        tx.commit().map_err(store_error)
    }

    pub fn action_item(&self, issue: IssueId, id: &str) -> Result<ActionItem, StoreError> {
        let conn = self.lock_reader();
        let row = conn
            .prepare_cached(&format!(
                "SELECT {ACTION_COLUMNS} FROM action_items WHERE id = ?1 AND issue_id = ?2"
            ))
            .and_then(|mut s| {
                s.query_row(params![id, issue.to_string()], action_tuple)
                    .optional()
            })
            .map_err(store_error)?
            .ok_or_else(|| {
                StoreError::new(StoreErrorKind::NotFound, "That action item does not exist.")
            })?;
        action_row(row)
    }

    pub fn delete_action_item(
        &self,
        issue: IssueId,
        id: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut conn = self.lock_writer();
        let tx = conn.transaction().map_err(store_error)?;
        let n = tx
            .execute(
                "DELETE FROM action_items WHERE id = ?1 AND issue_id = ?2",
                params![id, issue.to_string()],
            )
            .map_err(store_error)?;
        if n == 0 {
            return Err(StoreError::new(
                StoreErrorKind::NotFound,
                "That action item does not exist.",
            ));
        }
        write_audit(
            &tx,
            now,
            &NewAuditEntry {
                action: AuditAction::ActionItemDeleted,
                entity_type: "action_item",
                entity_id: id.to_owned(),
                details: json!({ "issue_id": issue.to_string() }),
            },
        )
        .map_err(store_error)?;
        tx.commit().map_err(store_error)
    }

    /// Records that `bytes` of `format` were made from `doc`: the export
    /// history, a `document_exported` timeline event and an audit entry.
    pub fn record_export(
        &self,
        doc: &DocumentRow,
        format: ExportFormat,
        bytes: &[u8],
        destination: &str,
        now: Timestamp,
    ) -> Result<ExportRow, StoreError> {
        let mut conn = self.lock_writer();
        let tx = conn.transaction().map_err(store_error)?;
        let row = ExportRow {
            id: new_id(),
            document_id: doc.id.clone(),
            kind: doc.kind,
            format: format.as_str().to_owned(),
            version: doc.version,
            size_bytes: i64::try_from(bytes.len()).unwrap_or(i64::MAX),
            sha256: sha256_hex(bytes),
            destination: destination.to_owned(),
            exported_at: now,
        };
        tx.execute(
            "INSERT INTO export_history (id, document_id, issue_id, format, version, size_bytes,
                    sha256, destination, exported_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                row.id,
                row.document_id,
                doc.issue_id.to_string(),
                row.format,
                row.version,
                row.size_bytes,
                row.sha256,
                row.destination,
                now.to_string()
            ],
        )
        .map_err(store_error)?;
        let details = json!({
            "document_id": doc.id,
            "kind": doc.kind.as_str(),
            "format": row.format,
            "version": row.version,
            "size_bytes": row.size_bytes,
            "sha256": row.sha256,
            "destination": destination,
        });
        write_events(
            &tx,
            doc.issue_id,
            now,
            &[NewTimelineEvent {
                kind: TimelineEventKind::DocumentExported,
                description: format!("{} exported as {}", doc.kind.label(), format.label()),
                metadata: details.clone(),
            }],
        )
        .map_err(store_error)?;
        write_audit(
            &tx,
            now,
            &NewAuditEntry {
                action: AuditAction::DocumentExported,
                entity_type: "document",
                entity_id: doc.id.clone(),
                details,
            },
        )
        .map_err(store_error)?;
        tx.commit().map_err(store_error)?;
        Ok(row)
    }

    /// The issue's exports, newest first.
    pub fn export_history(&self, issue: IssueId) -> Result<Vec<ExportRow>, StoreError> {
        let conn = self.lock_reader();
        type Row = (
            String,
            String,
            String,
            String,
            i64,
            i64,
            String,
            String,
            String,
        );
        let rows: Vec<Row> = conn
            .prepare_cached(
                "SELECT e.id, e.document_id, d.doc_type, e.format, e.version, e.size_bytes,
                        e.sha256, e.destination, e.exported_at
                 FROM export_history e JOIN documents d ON d.id = e.document_id
                 WHERE e.issue_id = ?1 ORDER BY e.exported_at DESC, e.id DESC LIMIT 200",
            )
            .and_then(|mut s| {
                s.query_map([issue.to_string()], |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                        r.get(7)?,
                        r.get(8)?,
                    ))
                })?
                .collect()
            })
            .map_err(store_error)?;
        rows.into_iter()
            .map(
                |(id, document_id, kind, format, version, size_bytes, sha256, destination, at)| {
                    Ok(ExportRow {
                        id,
                        document_id,
                        kind: DocumentKind::parse(&kind).ok_or_else(|| corrupt("document type"))?,
                        format,
                        version,
                        size_bytes,
                        sha256,
                        destination,
                        exported_at: ts(&at)?,
                    })
                },
            )
            .collect()
    }
}

/// Adds a history entry, or folds an autosave into the newest edit entry.
/// Returns whether an entry was added.
fn record_version(
    tx: &Transaction<'_>,
    document: &str,
    version: i64,
    reason: SaveReason,
    title: &str,
    content: &str,
    now: Timestamp,
) -> Result<bool, StoreError> {
    if reason == SaveReason::Edited {
        let newest: Option<(String, String, String)> = tx
            .query_row(
                "SELECT id, reason, saved_at FROM document_versions WHERE document_id = ?1
                 ORDER BY saved_at DESC, id DESC LIMIT 1",
                [document],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .map_err(store_error)?;
        if let Some((id, old_reason, saved_at)) = newest
            && old_reason == SaveReason::Edited.as_str()
            && now.unix_millis() - ts(&saved_at)?.unix_millis() < COALESCE_MILLIS
        {
            tx.execute(
                "UPDATE document_versions SET version = ?2, title = ?3, content = ?4
                 WHERE id = ?1",
                params![id, version, title, content],
            )
            .map_err(store_error)?;
            return Ok(false);
        }
    }
    tx.execute(
        "INSERT INTO document_versions (id, document_id, version, reason, title, content, saved_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            new_id(),
            document,
            version,
            reason.as_str(),
            title,
            content,
            now.to_string()
        ],
    )
    .map_err(store_error)?;
    Ok(true)
}
