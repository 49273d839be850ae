//! Image attachments on SQLCipher: rows with the hashes of the image and
//! its thumbnail in the blob store, and whether the engineer cleared the
//! image to leave the machine.

use rusqlite::{OptionalExtension, Transaction, params};
use serde_json::json;
use tftsr_core::attachments::{AttachmentId, ImageAttachment, ImageType};
use tftsr_core::audit::{AuditAction, NewAuditEntry};
use tftsr_core::timeline::TimelineEventKind;
use tftsr_core::{IssueId, StoreError, StoreErrorKind, Timestamp};

use super::issues::write_event_and_audit;
use super::{Database, store_error};

fn corrupt(what: &str) -> StoreError {
    tracing::error!(what, "unreadable value in the database");
    StoreError::new(
        StoreErrorKind::Corrupt,
        format!("An unreadable {what} is stored in the database."),
    )
}

fn not_found() -> StoreError {
    StoreError::new(StoreErrorKind::NotFound, "That image does not exist.")
}

/// An image about to be recorded; its blobs are already written.
#[derive(Clone, Debug)]
pub struct NewImage {
    pub id: AttachmentId,
    pub issue_id: IssueId,
    pub name: String,
    pub image_type: ImageType,
    pub size_bytes: u64,
    pub width: u32,
    pub height: u32,
    pub sha256: String,
    pub thumb_sha256: String,
    pub thumb_size: u64,
}

/// What recording an image did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Inserted {
    New,
    /// The issue already had this image; nothing was added.
    AlreadyAttached(AttachmentId),
}

const COLUMNS: &str = "id, issue_id, name, mime_type, size_bytes, width, height, sha256, \
                       uploaded_at, cleared_at";

type Tuple = (
    String,
    String,
    String,
    String,
    i64,
    i64,
    i64,
    String,
    String,
    Option<String>,
);

fn tuple(r: &rusqlite::Row<'_>) -> rusqlite::Result<Tuple> {
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
        r.get(9)?,
    ))
}

fn decode(t: Tuple) -> Result<ImageAttachment, StoreError> {
    let ts = |text: &str| Timestamp::parse(text).map_err(|_| corrupt("timestamp"));
    let dim = |n: i64| u32::try_from(n).map_err(|_| corrupt("image size"));
    Ok(ImageAttachment {
        id: AttachmentId::parse(&t.0).ok_or_else(|| corrupt("image id"))?,
        issue_id: IssueId::parse(&t.1).ok_or_else(|| corrupt("issue id"))?,
        name: t.2,
        image_type: ImageType::parse(&t.3).ok_or_else(|| corrupt("image type"))?,
        size_bytes: u64::try_from(t.4).map_err(|_| corrupt("image size"))?,
        width: dim(t.5)?,
        height: dim(t.6)?,
        sha256: t.7,
        uploaded_at: ts(&t.8)?,
        cleared_at: t.9.as_deref().map(ts).transpose()?,
    })
}

fn record(
    tx: &Transaction<'_>,
    image: &ImageAttachment,
    now: Timestamp,
    action: AuditAction,
    event: Option<(TimelineEventKind, String)>,
    details: serde_json::Value,
) -> Result<(), StoreError> {
    write_event_and_audit(
        tx,
        image.issue_id,
        now,
        event,
        &NewAuditEntry {
            action,
            entity_type: "attachment",
            entity_id: image.id.to_string(),
            details,
        },
    )
    .map_err(store_error)
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl Database {
    /// Records an image with its blobs, timeline event and audit entry, or
    /// says the issue already has it.
    pub fn insert_image(&self, image: &NewImage, now: Timestamp) -> Result<Inserted, StoreError> {
        let mut conn = self.lock_writer();
        let tx = conn.transaction().map_err(store_error)?;
        let existing: Option<String> = tx
            .query_row(
                "SELECT id FROM attachments WHERE issue_id = ?1 AND sha256 = ?2",
                params![image.issue_id.to_string(), image.sha256],
                |r| r.get(0),
            )
            .optional()
            .map_err(store_error)?;
        if let Some(id) = existing {
            let id = AttachmentId::parse(&id).ok_or_else(|| corrupt("image id"))?;
            return Ok(Inserted::AlreadyAttached(id));
        }
        let issue_exists: bool = tx
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM issues WHERE id = ?1)",
                [image.issue_id.to_string()],
                |r| r.get(0),
            )
            .map_err(store_error)?;
        if !issue_exists {
            return Err(StoreError::new(
                StoreErrorKind::NotFound,
                "That issue does not exist.",
            ));
        }
        let at = now.to_string();
        (|| {
            let mut blob = tx.prepare_cached(
                "INSERT OR IGNORE INTO attachment_blobs (sha256, kind, plain_size, created_at)
                 VALUES (?1, ?2, ?3, ?4)",
            )?;
            blob.execute(params![image.sha256, "image", to_i64(image.size_bytes), at])?;
            blob.execute(params![
                image.thumb_sha256,
                "thumbnail",
                to_i64(image.thumb_size),
                at
            ])?;
            tx.execute(
                "INSERT INTO attachments (id, issue_id, name, mime_type, size_bytes, width, height,
                                          sha256, thumb_sha256, uploaded_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![
                    image.id.to_string(),
                    image.issue_id.to_string(),
                    image.name,
                    image.image_type.as_str(),
                    to_i64(image.size_bytes),
                    image.width,
                    image.height,
                    image.sha256,
                    image.thumb_sha256,
                    at,
                ],
            )
        })()
        .map_err(store_error)?;
        let stored = ImageAttachment {
            id: image.id,
            issue_id: image.issue_id,
            name: image.name.clone(),
            image_type: image.image_type,
            size_bytes: image.size_bytes,
            width: image.width,
            height: image.height,
            sha256: image.sha256.clone(),
            uploaded_at: now,
            cleared_at: None,
        };
        record(
            &tx,
            &stored,
            now,
            AuditAction::ImageAttached,
            Some((
                TimelineEventKind::ImageAttached,
                format!(
                    "Attached {} ({} × {}, {})",
                    image.name,
                    image.width,
                    image.height,
                    tftsr_core::logs::human_bytes(image.size_bytes)
                ),
            )),
            json!({
                "issue_id": image.issue_id.to_string(),
                "type": image.image_type.as_str(),
                "size_bytes": image.size_bytes,
                "sha256": image.sha256,
            }),
        )?;
        tx.commit().map_err(store_error)?;
        Ok(Inserted::New)
    }

    /// The issue's images, oldest first.
    pub fn images(&self, issue: IssueId) -> Result<Vec<ImageAttachment>, StoreError> {
        let conn = self.lock_reader();
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM attachments WHERE issue_id = ?1 ORDER BY uploaded_at, id"
            ))
            .map_err(store_error)?;
        let rows: Vec<Tuple> = stmt
            .query_map([issue.to_string()], tuple)
            .and_then(Iterator::collect)
            .map_err(store_error)?;
        rows.into_iter().map(decode).collect()
    }

    /// One image, with the hash of its thumbnail.
    pub fn image(&self, id: AttachmentId) -> Result<(ImageAttachment, String), StoreError> {
        let conn = self.lock_reader();
        let row: Option<(Tuple, String)> = conn
            .query_row(
                &format!("SELECT {COLUMNS}, thumb_sha256 FROM attachments WHERE id = ?1"),
                [id.to_string()],
                |r| Ok((tuple(r)?, r.get(10)?)),
            )
            .optional()
            .map_err(store_error)?;
        let (t, thumb) = row.ok_or_else(not_found)?;
        Ok((decode(t)?, thumb))
    }

    /// Marks an image of `issue` cleared to leave the machine (or not),
    /// audited.
    pub fn set_image_cleared(
        &self,
        issue: IssueId,
        id: AttachmentId,
        cleared: bool,
        now: Timestamp,
    ) -> Result<ImageAttachment, StoreError> {
        let mut conn = self.lock_writer();
        let tx = conn.transaction().map_err(store_error)?;
        let changed = tx
            .execute(
                "UPDATE attachments SET cleared_at = ?3 WHERE id = ?1 AND issue_id = ?2",
                params![
                    id.to_string(),
                    issue.to_string(),
                    cleared.then(|| now.to_string())
                ],
            )
            .map_err(store_error)?;
        if changed == 0 {
            return Err(not_found());
        }
        let t = tx
            .query_row(
                &format!("SELECT {COLUMNS} FROM attachments WHERE id = ?1"),
                [id.to_string()],
                tuple,
            )
            .map_err(store_error)?;
        let image = decode(t)?;
        record(
            &tx,
            &image,
            now,
            AuditAction::ImageCleared,
            None,
            json!({
                "issue_id": issue.to_string(),
                "cleared": cleared,
                "sha256": image.sha256,
            }),
        )?;
        tx.commit().map_err(store_error)?;
        Ok(image)
    }

    /// Removes an image of `issue`, with its timeline event and audit entry.
    pub fn delete_image(
        &self,
        issue: IssueId,
        id: AttachmentId,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut conn = self.lock_writer();
        let tx = conn.transaction().map_err(store_error)?;
        let t = tx
            .query_row(
                &format!("SELECT {COLUMNS} FROM attachments WHERE id = ?1 AND issue_id = ?2"),
                params![id.to_string(), issue.to_string()],
                tuple,
            )
            .optional()
            .map_err(store_error)?
            .ok_or_else(not_found)?;
        let image = decode(t)?;
        tx.execute("DELETE FROM attachments WHERE id = ?1", [id.to_string()])
            .map_err(store_error)?;
        record(
            &tx,
            &image,
            now,
            AuditAction::ImageDeleted,
            Some((
                TimelineEventKind::ImageDeleted,
                format!("Removed {}", image.name),
            )),
            json!({ "issue_id": issue.to_string(), "sha256": image.sha256 }),
        )?;
        tx.commit().map_err(store_error)
    }

    /// Forgets image and thumbnail blobs no attachment refers to (after a
    /// removal or an issue's deletion) and returns their hashes, so their
    /// files can be removed. A hash the log tables still record is
    /// forgotten here but not returned: its file stays for them.
    pub fn collect_unused_image_blobs(&self) -> Result<Vec<String>, StoreError> {
        let mut conn = self.lock_writer();
        let tx = conn.transaction().map_err(store_error)?;
        let unused: Vec<(String, bool)> = {
            let mut stmt = tx
                .prepare(
                    "SELECT a.sha256, EXISTS (SELECT 1 FROM blobs b WHERE b.sha256 = a.sha256)
                     FROM attachment_blobs a WHERE
                         NOT EXISTS (SELECT 1 FROM attachments t WHERE t.sha256 = a.sha256)
                     AND NOT EXISTS (SELECT 1 FROM attachments t WHERE t.thumb_sha256 = a.sha256)",
                )
                .map_err(store_error)?;
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .and_then(Iterator::collect)
                .map_err(store_error)?
        };
        for (sha, _) in &unused {
            tx.execute("DELETE FROM attachment_blobs WHERE sha256 = ?1", [sha])
                .map_err(store_error)?;
        }
        tx.commit().map_err(store_error)?;
        Ok(unused
            .into_iter()
            .filter(|(_, used_by_logs)| !used_by_logs)
            .map(|(sha, _)| sha)
            .collect())
    }
}
