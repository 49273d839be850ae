//! Log files, their pages and findings, and the issue's pseudonyms, on
//! SQLCipher. Content itself is in the blob store; rows hold its hash.

use rusqlite::{OptionalExtension, Transaction, params};
use serde_json::json;
use tftsr_core::audit::{AuditAction, NewAuditEntry};
use tftsr_core::logs::{
    Decision, DecisionScope, FindingCounts, LogFileId, LogFileSummary, LogState, PageInfo,
    SpanSource, TextEncoding, TypeGroup, ValueGroup, display_value, limits,
};
use tftsr_core::pii::{PiiType, PseudonymMap};
use tftsr_core::timeline::TimelineEventKind;
use tftsr_core::{IssueId, StoreError, StoreErrorKind, Timestamp};

use super::issues::{write_audit, write_event_and_audit};
use super::{Database, store_error};

fn corrupt(what: &str) -> StoreError {
    tracing::error!(what, "unreadable value in the database");
    StoreError::new(
        StoreErrorKind::Corrupt,
        format!("An unreadable {what} is stored in the database."),
    )
}

fn not_found() -> StoreError {
    StoreError::new(StoreErrorKind::NotFound, "That log file does not exist.")
}

fn ts(text: &str) -> Result<Timestamp, StoreError> {
    Timestamp::parse(text).map_err(|_| corrupt("timestamp"))
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// A file just received, before scanning.
#[derive(Clone, Debug)]
pub struct NewLogFile {
    pub id: LogFileId,
    pub issue_id: IssueId,
    pub name: String,
    pub size_bytes: u64,
    pub mime_type: String,
    pub sha256: String,
    pub compressed: bool,
}

/// What scanning produced (besides the findings, inserted in batches).
#[derive(Clone, Debug)]
pub struct ScanOutcome {
    pub encoding: TextEncoding,
    pub text_sha256: String,
    pub text_bytes: u64,
    pub line_count: u64,
    pub replaced: u64,
    pub pages: Vec<PageInfo>,
}

/// A finding to insert.
#[derive(Clone, Debug)]
pub struct NewSpan {
    pub kind: PiiType,
    pub start: u64,
    pub end: u64,
    pub line: u64,
    pub value: String,
    pub source: SpanSource,
    pub decision: Decision,
}

/// A finding as redaction needs it.
#[derive(Clone, Debug)]
pub struct StoredSpan {
    pub id: i64,
    pub kind: PiiType,
    pub start: u64,
    pub end: u64,
    pub value: String,
    pub decision: Decision,
}

const SUMMARY_SQL: &str = "SELECT f.id, f.issue_id, f.name, f.size_bytes, f.mime_type, f.sha256,
        f.state, f.error, f.encoding, f.compressed, f.text_bytes, f.line_count,
        f.replaced_sequences, f.uploaded_at, f.scanned_at, f.redacted_at,
        (SELECT count(*) FROM log_pages p WHERE p.log_file_id = f.id),
        (SELECT count(*) FROM pii_spans s WHERE s.log_file_id = f.id AND s.decision = 'pending'),
        (SELECT count(*) FROM pii_spans s WHERE s.log_file_id = f.id AND s.decision = 'approved'),
        (SELECT count(*) FROM pii_spans s WHERE s.log_file_id = f.id AND s.decision = 'rejected'),
        f.text_blob, f.redacted_blob
     FROM log_files f";

struct SummaryRow {
    cols: (String, String, String, i64, String, String, String),
    more: (
        Option<String>,
        Option<String>,
        bool,
        Option<i64>,
        Option<i64>,
        i64,
    ),
    times: (String, Option<String>, Option<String>),
    counts: (i64, i64, i64, i64),
    blobs: (Option<String>, Option<String>),
}

impl SummaryRow {
    fn read(r: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            cols: (
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ),
            more: (
                r.get(7)?,
                r.get(8)?,
                r.get(9)?,
                r.get(10)?,
                r.get(11)?,
                r.get(12)?,
            ),
            times: (r.get(13)?, r.get(14)?, r.get(15)?),
            counts: (r.get(16)?, r.get(17)?, r.get(18)?, r.get(19)?),
            blobs: (r.get(20)?, r.get(21)?),
        })
    }

    fn decode(self) -> Result<(LogFileSummary, Option<String>, Option<String>), StoreError> {
        let (id, issue_id, name, size, mime, sha, state) = self.cols;
        let (error, encoding, compressed, text_bytes, lines, replaced) = self.more;
        let (uploaded, scanned, redacted) = self.times;
        let (pages, pending, approved, rejected) = self.counts;
        let summary = LogFileSummary {
            id: LogFileId::parse(&id).ok_or_else(|| corrupt("log file id"))?,
            issue_id: IssueId::parse(&issue_id).ok_or_else(|| corrupt("issue id"))?,
            name,
            size_bytes: to_u64(size),
            mime_type: mime,
            sha256: sha,
            state: LogState::parse(&state).ok_or_else(|| corrupt("log state"))?,
            error,
            encoding: encoding
                .as_deref()
                .map(|e| TextEncoding::parse(e).ok_or_else(|| corrupt("encoding")))
                .transpose()?,
            compressed,
            text_bytes: text_bytes.map(to_u64),
            line_count: lines.map(to_u64),
            page_count: u32::try_from(pages).unwrap_or(u32::MAX),
            replaced_sequences: to_u64(replaced),
            findings: FindingCounts {
                pending: to_u64(pending),
                approved: to_u64(approved),
                rejected: to_u64(rejected),
            },
            uploaded_at: ts(&uploaded)?,
            scanned_at: scanned.as_deref().map(ts).transpose()?,
            redacted_at: redacted.as_deref().map(ts).transpose()?,
            progress_bytes: None,
        };
        Ok((summary, self.blobs.0, self.blobs.1))
    }
}

/// A log file with the hashes of its stored text and redacted copy.
#[derive(Clone, Debug)]
pub struct LogFileRecord {
    pub summary: LogFileSummary,
    pub text_blob: Option<String>,
    pub redacted_blob: Option<String>,
}

fn map_fk(e: rusqlite::Error) -> StoreError {
    if let rusqlite::Error::SqliteFailure(f, _) = &e
        && f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY
    {
        return StoreError::new(StoreErrorKind::NotFound, "That issue does not exist.");
    }
    store_error(e)
}

impl Database {
    /// Records a received file (state `scanning`) with its timeline event
    /// and audit entry.
    pub fn insert_log_file(&self, file: &NewLogFile, now: Timestamp) -> Result<(), StoreError> {
        let mut conn = self.lock_writer();
        let tx = conn.transaction().map_err(store_error)?;
        tx.execute(
            "INSERT INTO log_files (id, issue_id, name, size_bytes, mime_type, sha256, state,
                                    compressed, uploaded_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'scanning', ?7, ?8)",
            params![
                file.id.to_string(),
                file.issue_id.to_string(),
                file.name,
                to_i64(file.size_bytes),
                file.mime_type,
                file.sha256,
                file.compressed,
                now.to_string(),
            ],
        )
        .map_err(map_fk)?;
        let details = json!({
            "log_file_id": file.id.to_string(),
            "size_bytes": file.size_bytes,
            "sha256": file.sha256,
        });
        record_log_event(
            &tx,
            file.issue_id,
            file.id.to_string(),
            now,
            (TimelineEventKind::LogUploaded, AuditAction::LogUploaded),
            format!("Uploaded {} ({} bytes)", file.name, file.size_bytes),
            details,
        )?;
        tx.commit().map_err(store_error)
    }

    /// Adds findings of a file being scanned (or added by hand).
    pub fn insert_spans(
        &self,
        file: LogFileId,
        spans: &[NewSpan],
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut conn = self.lock_writer();
        let tx = conn.transaction().map_err(store_error)?;
        insert_spans_tx(&tx, file, spans, now).map_err(store_error)?;
        tx.commit().map_err(store_error)
    }

    /// Completes a scan: the text blob, the page table, state `review`.
    pub fn finish_scan(
        &self,
        file: LogFileId,
        outcome: &ScanOutcome,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut conn = self.lock_writer();
        let tx = conn.transaction().map_err(store_error)?;
        (|| {
            tx.execute(
                "INSERT OR IGNORE INTO blobs (sha256, kind, plain_size, created_at)
                 VALUES (?1, 'log_text', ?2, ?3)",
                params![
                    outcome.text_sha256,
                    to_i64(outcome.text_bytes),
                    now.to_string()
                ],
            )?;
            let mut stmt = tx.prepare_cached(
                "INSERT INTO log_pages (log_file_id, page, start_byte, end_byte, first_line)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            let id = file.to_string();
            for (n, page) in outcome.pages.iter().enumerate() {
                stmt.execute(params![
                    id,
                    n as i64,
                    to_i64(page.start),
                    to_i64(page.end),
                    to_i64(page.first_line)
                ])?;
            }
            tx.execute(
                "UPDATE log_files SET state = 'review', encoding = ?2, text_blob = ?3,
                        text_bytes = ?4, line_count = ?5, replaced_sequences = ?6, scanned_at = ?7
                 WHERE id = ?1 AND state = 'scanning'",
                params![
                    id,
                    outcome.encoding.as_str(),
                    outcome.text_sha256,
                    to_i64(outcome.text_bytes),
                    to_i64(outcome.line_count),
                    to_i64(outcome.replaced),
                    now.to_string()
                ],
            )
        })()
        .map_err(store_error)?;
        tx.commit().map_err(store_error)
    }

    /// Marks a scan failed with a message for the user; drops partial
    /// findings.
    pub fn fail_scan(&self, file: LogFileId, message: &str) -> Result<(), StoreError> {
        let mut conn = self.lock_writer();
        let tx = conn.transaction().map_err(store_error)?;
        let id = file.to_string();
        (|| {
            tx.execute("DELETE FROM pii_spans WHERE log_file_id = ?1", [&id])?;
            tx.execute("DELETE FROM log_pages WHERE log_file_id = ?1", [&id])?;
            tx.execute(
                "UPDATE log_files SET state = 'failed', error = ?2, text_blob = NULL
                 WHERE id = ?1 AND state = 'scanning'",
                params![id, message],
            )
        })()
        .map_err(store_error)?;
        tx.commit().map_err(store_error)
    }

    /// At start-up: scans that were running when the server stopped cannot
    /// resume (their upload was encrypted under a key that lived only in
    /// memory). Returns how many were marked failed.
    pub fn fail_interrupted_scans(&self) -> Result<usize, StoreError> {
        let mut conn = self.lock_writer();
        let tx = conn.transaction().map_err(store_error)?;
        let n = (|| {
            tx.execute(
                "DELETE FROM pii_spans WHERE log_file_id IN
                    (SELECT id FROM log_files WHERE state = 'scanning')",
                [],
            )?;
            tx.execute(
                "DELETE FROM log_pages WHERE log_file_id IN
                    (SELECT id FROM log_files WHERE state = 'scanning')",
                [],
            )?;
            tx.execute(
                "UPDATE log_files SET state = 'failed', text_blob = NULL,
                        error = 'The server stopped while this file was being scanned. Upload it again.'
                 WHERE state = 'scanning'",
                [],
            )
        })()
        .map_err(store_error)?;
        tx.commit().map_err(store_error)?;
        Ok(n)
    }

    pub fn log_files(&self, issue: IssueId) -> Result<Vec<LogFileSummary>, StoreError> {
        let conn = self.lock_reader();
        let mut stmt = conn
            .prepare_cached(&format!(
                "{SUMMARY_SQL} WHERE f.issue_id = ?1 ORDER BY f.uploaded_at, f.id"
            ))
            .map_err(store_error)?;
        let rows = stmt
            .query_map([issue.to_string()], SummaryRow::read)
            .and_then(Iterator::collect::<Result<Vec<_>, _>>)
            .map_err(store_error)?;
        rows.into_iter()
            .map(|r| r.decode().map(|(s, _, _)| s))
            .collect()
    }

    pub fn log_file(&self, file: LogFileId) -> Result<LogFileRecord, StoreError> {
        let conn = self.lock_reader();
        let row = conn
            .query_row(
                &format!("{SUMMARY_SQL} WHERE f.id = ?1"),
                [file.to_string()],
                SummaryRow::read,
            )
            .optional()
            .map_err(store_error)?
            .ok_or_else(not_found)?;
        let (summary, text_blob, redacted_blob) = row.decode()?;
        Ok(LogFileRecord {
            summary,
            text_blob,
            redacted_blob,
        })
    }

    /// What the viewer needs about a file, without counting its findings:
    /// issue, state, text blob and page count.
    pub fn log_file_brief(
        &self,
        file: LogFileId,
    ) -> Result<(IssueId, LogState, Option<String>, u32), StoreError> {
        let (issue, state, blob, pages): (String, String, Option<String>, i64) = self
            .lock_reader()
            .query_row(
                "SELECT issue_id, state, text_blob,
                        (SELECT count(*) FROM log_pages p WHERE p.log_file_id = f.id)
                 FROM log_files f WHERE id = ?1",
                [file.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()
            .map_err(store_error)?
            .ok_or_else(not_found)?;
        Ok((
            IssueId::parse(&issue).ok_or_else(|| corrupt("issue id"))?,
            LogState::parse(&state).ok_or_else(|| corrupt("log state"))?,
            blob,
            u32::try_from(pages).unwrap_or(u32::MAX),
        ))
    }

    /// Page `n` of a file, or `None` past the end.
    pub fn log_page(&self, file: LogFileId, n: u32) -> Result<Option<PageInfo>, StoreError> {
        self.lock_reader()
            .query_row(
                "SELECT start_byte, end_byte, first_line FROM log_pages
                 WHERE log_file_id = ?1 AND page = ?2",
                params![file.to_string(), i64::from(n)],
                |r| {
                    Ok(PageInfo {
                        start: to_u64(r.get(0)?),
                        end: to_u64(r.get(1)?),
                        first_line: to_u64(r.get(2)?),
                        lines: 0,
                    })
                },
            )
            .optional()
            .map_err(store_error)
    }

    /// The page holding line `line`.
    pub fn page_of_line(&self, file: LogFileId, line: u64) -> Result<u32, StoreError> {
        let page: Option<i64> = self
            .lock_reader()
            .query_row(
                "SELECT page FROM log_pages WHERE log_file_id = ?1 AND first_line <= ?2
                 ORDER BY page DESC LIMIT 1",
                params![file.to_string(), to_i64(line)],
                |r| r.get(0),
            )
            .optional()
            .map_err(store_error)?;
        Ok(page.and_then(|p| u32::try_from(p).ok()).unwrap_or(0))
    }

    /// Findings overlapping bytes `start..end`, by position.
    pub fn spans_between(
        &self,
        file: LogFileId,
        start: u64,
        end: u64,
    ) -> Result<Vec<StoredSpan>, StoreError> {
        // Findings are short except private keys; looking back 64 KiB for
        // one that started on an earlier page is enough and keeps the
        // index range tight.
        query_spans(
            &self.lock_reader(),
            "SELECT id, pii_type, start_byte, end_byte, value, decision FROM pii_spans
             WHERE log_file_id = ?1 AND start_byte >= ?2 AND start_byte < ?3 AND end_byte > ?4
             ORDER BY start_byte",
            params![
                file.to_string(),
                to_i64(start.saturating_sub(64 * 1024)),
                to_i64(end),
                to_i64(start)
            ],
        )
    }

    /// Up to `limit` findings that applying redacts (not rejected), by
    /// position, starting after byte `after`.
    pub fn redacting_spans_after(
        &self,
        file: LogFileId,
        after: Option<u64>,
        limit: u32,
    ) -> Result<Vec<StoredSpan>, StoreError> {
        query_spans(
            &self.lock_reader(),
            "SELECT id, pii_type, start_byte, end_byte, value, decision FROM pii_spans
             WHERE log_file_id = ?1 AND start_byte > ?2 AND decision != 'rejected'
             ORDER BY start_byte LIMIT ?3",
            params![file.to_string(), after.map_or(-1, to_i64), i64::from(limit)],
        )
    }

    /// Every finding of a file, by position, to `visit`.
    pub fn for_each_span(
        &self,
        file: LogFileId,
        mut visit: impl FnMut(StoredSpan) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let conn = self.lock_reader();
        let mut stmt = conn
            .prepare_cached(
                "SELECT id, pii_type, start_byte, end_byte, value, decision FROM pii_spans
                 WHERE log_file_id = ?1 ORDER BY start_byte",
            )
            .map_err(store_error)?;
        let mut rows = stmt.query([file.to_string()]).map_err(store_error)?;
        while let Some(row) = rows.next().map_err(store_error)? {
            visit(decode_span(read_span(row).map_err(store_error)?)?)?;
        }
        Ok(())
    }

    /// Findings grouped by type, and by value within a type.
    pub fn finding_groups(&self, file: LogFileId) -> Result<Vec<TypeGroup>, StoreError> {
        let conn = self.lock_reader();
        let id = file.to_string();
        let mut by_value = conn
            .prepare_cached(
                "SELECT pii_type, value, min(id), min(line),
                        sum(decision = 'pending'), sum(decision = 'approved'),
                        sum(decision = 'rejected')
                 FROM pii_spans WHERE log_file_id = ?1
                 GROUP BY pii_type, value",
            )
            .map_err(store_error)?;
        let rows = by_value
            .query_map([&id], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, i64>(5)?,
                    r.get::<_, i64>(6)?,
                ))
            })
            .and_then(Iterator::collect::<Result<Vec<_>, _>>)
            .map_err(store_error)?;
        let mut groups: Vec<TypeGroup> = Vec::new();
        for (kind, value, example, line, pending, approved, rejected) in rows {
            let kind = PiiType::parse(&kind).ok_or_else(|| corrupt("PII type"))?;
            let counts = FindingCounts {
                pending: to_u64(pending),
                approved: to_u64(approved),
                rejected: to_u64(rejected),
            };
            let group = match groups.iter_mut().find(|g| g.kind == kind) {
                Some(g) => g,
                None => {
                    groups.push(TypeGroup {
                        kind,
                        counts: FindingCounts::default(),
                        distinct: 0,
                        values: Vec::new(),
                    });
                    let last = groups.len() - 1;
                    &mut groups[last]
                }
            };
            group.counts.pending += counts.pending;
            group.counts.approved += counts.approved;
            group.counts.rejected += counts.rejected;
            group.distinct += 1;
            group.values.push(ValueGroup {
                kind,
                display: display_value(kind, &value),
                example_id: example,
                first_line: to_u64(line),
                counts,
            });
        }
        for g in &mut groups {
            g.values.sort_by(|a, b| {
                b.counts
                    .total()
                    .cmp(&a.counts.total())
                    .then(a.first_line.cmp(&b.first_line))
            });
            g.values.truncate(limits::VALUES_PER_TYPE);
        }
        // Secrets first (they must never leave), then the most frequent.
        groups.sort_by(|a, b| {
            b.kind
                .is_secret()
                .cmp(&a.kind.is_secret())
                .then(b.counts.total().cmp(&a.counts.total()))
                .then(a.kind.cmp(&b.kind))
        });
        Ok(groups)
    }

    /// Applies a decision; returns how many findings changed. Only while the
    /// file is in review.
    pub fn decide(
        &self,
        file: LogFileId,
        scope: &DecisionScope,
        decision: Decision,
        now: Timestamp,
    ) -> Result<u64, StoreError> {
        let conn = self.lock_writer();
        let id = file.to_string();
        let state: Option<String> = conn
            .query_row("SELECT state FROM log_files WHERE id = ?1", [&id], |r| {
                r.get(0)
            })
            .optional()
            .map_err(store_error)?;
        match state.as_deref() {
            None => return Err(not_found()),
            Some("review") => {}
            Some(_) => {
                return Err(StoreError::new(
                    StoreErrorKind::Conflict,
                    "Findings can only be changed while the file is in review.",
                ));
            }
        }
        let at = now.to_string();
        let d = decision.as_str();
        let changed = match scope {
            DecisionScope::Finding(span) => conn.execute(
                "UPDATE pii_spans SET decision = ?3, decided_at = ?4
                 WHERE log_file_id = ?1 AND id = ?2",
                params![id, span, d, at],
            ),
            DecisionScope::SameValue { like } => conn.execute(
                "UPDATE pii_spans SET decision = ?3, decided_at = ?4
                 WHERE log_file_id = ?1 AND (pii_type, value) =
                    (SELECT pii_type, value FROM pii_spans WHERE log_file_id = ?1 AND id = ?2)",
                params![id, like, d, at],
            ),
            DecisionScope::Type(kind) => conn.execute(
                "UPDATE pii_spans SET decision = ?3, decided_at = ?4
                 WHERE log_file_id = ?1 AND pii_type = ?2",
                params![id, kind.as_str(), d, at],
            ),
            DecisionScope::AllPending => conn.execute(
                "UPDATE pii_spans SET decision = ?2, decided_at = ?3
                 WHERE log_file_id = ?1 AND decision = 'pending'",
                params![id, d, at],
            ),
        }
        .map_err(store_error)?;
        Ok(changed as u64)
    }

    /// The value and type of one finding.
    pub fn span_value(&self, file: LogFileId, span: i64) -> Result<(PiiType, String), StoreError> {
        let (kind, value): (String, String) = self
            .lock_reader()
            .query_row(
                "SELECT pii_type, value FROM pii_spans WHERE log_file_id = ?1 AND id = ?2",
                params![file.to_string(), span],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(store_error)?
            .ok_or_else(|| StoreError::new(StoreErrorKind::NotFound, "No such finding."))?;
        Ok((
            PiiType::parse(&kind).ok_or_else(|| corrupt("PII type"))?,
            value,
        ))
    }

    pub fn pseudonyms(&self, issue: IssueId) -> Result<PseudonymMap, StoreError> {
        let text: Option<String> = self
            .lock_reader()
            .query_row(
                "SELECT map FROM issue_pseudonyms WHERE issue_id = ?1",
                [issue.to_string()],
                |r| r.get(0),
            )
            .optional()
            .map_err(store_error)?;
        match text {
            None => Ok(PseudonymMap::new()),
            Some(t) => serde_json::from_str(&t).map_err(|_| corrupt("pseudonym map")),
        }
    }

    pub fn save_pseudonyms(
        &self,
        issue: IssueId,
        map: &PseudonymMap,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let map_json = serde_json::to_string(map).map_err(|_| corrupt("pseudonym map"))?;
        self.lock_writer()
            .execute(
                "INSERT INTO issue_pseudonyms (issue_id, map, updated_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (issue_id) DO UPDATE SET map = excluded.map,
                                                      updated_at = excluded.updated_at",
                params![issue.to_string(), map_json, now.to_string()],
            )
            .map(drop)
            .map_err(map_fk)
    }

    /// Writes one audit entry on its own.
    pub fn audit(&self, entry: &NewAuditEntry, now: Timestamp) -> Result<(), StoreError> {
        let mut conn = self.lock_writer();
        let tx = conn.transaction().map_err(store_error)?;
        write_audit(&tx, now, entry).map_err(store_error)?;
        tx.commit().map_err(store_error)
    }

    /// Values the engineer kept (rejected findings) in the issue's logs.
    pub fn accepted_values(&self, issue: IssueId) -> Result<Vec<(PiiType, String)>, StoreError> {
        let conn = self.lock_reader();
        let mut stmt = conn
            .prepare_cached(
                "SELECT DISTINCT s.pii_type, s.value FROM pii_spans s
                 JOIN log_files f ON f.id = s.log_file_id
                 WHERE f.issue_id = ?1 AND s.decision = 'rejected'",
            )
            .map_err(store_error)?;
        let rows = stmt
            .query_map([issue.to_string()], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })
            .and_then(Iterator::collect::<Result<Vec<_>, _>>)
            .map_err(store_error)?;
        rows.into_iter()
            .map(|(k, v)| Ok((PiiType::parse(&k).ok_or_else(|| corrupt("PII type"))?, v)))
            .collect()
    }

    /// Records an applied review: the redacted blob, the pseudonyms, the
    /// decisions (pending ones become approved), a timeline event and an
    /// audit entry.
    pub fn mark_redacted(
        &self,
        file: &LogFileSummary,
        redacted_sha256: &str,
        redacted_size: u64,
        map: &PseudonymMap,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut conn = self.lock_writer();
        let tx = conn.transaction().map_err(store_error)?;
        let id = file.id.to_string();
        let map_json = serde_json::to_string(map).map_err(|_| corrupt("pseudonym map"))?;
        let changed = (|| {
            tx.execute(
                "INSERT OR IGNORE INTO blobs (sha256, kind, plain_size, created_at)
                 VALUES (?1, 'log_redacted', ?2, ?3)",
                params![redacted_sha256, to_i64(redacted_size), now.to_string()],
            )?;
            tx.execute(
                "UPDATE pii_spans SET decision = 'approved', decided_at = ?2
                 WHERE log_file_id = ?1 AND decision = 'pending'",
                params![id, now.to_string()],
            )?;
            tx.execute(
                "INSERT INTO issue_pseudonyms (issue_id, map, updated_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (issue_id) DO UPDATE SET map = excluded.map,
                                                      updated_at = excluded.updated_at",
                params![file.issue_id.to_string(), map_json, now.to_string()],
            )?;
            tx.execute(
                "UPDATE log_files SET state = 'redacted', redacted = 1, redacted_blob = ?2,
                        redacted_at = ?3
                 WHERE id = ?1 AND state = 'review'",
                params![id, redacted_sha256, now.to_string()],
            )
        })()
        .map_err(store_error)?;
        if changed != 1 {
            return Err(StoreError::new(
                StoreErrorKind::Conflict,
                "The file is no longer in review; reload the page.",
            ));
        }
        let redacted = file.findings.pending + file.findings.approved;
        let details = json!({
            "log_file_id": id,
            "redacted_sha256": redacted_sha256,
            "redacted": redacted,
            "kept": file.findings.rejected,
        });
        record_log_event(
            &tx,
            file.issue_id,
            id,
            now,
            (TimelineEventKind::LogRedacted, AuditAction::LogRedacted),
            format!(
                "Redacted {}: {redacted} finding(s) replaced, {} kept",
                file.name, file.findings.rejected
            ),
            details,
        )?;
        tx.commit().map_err(store_error)
    }

    /// Back to review: the redacted copy is dropped (its blob is collected
    /// if unused).
    pub fn reopen_review(&self, file: LogFileId) -> Result<(), StoreError> {
        let n = self
            .lock_writer()
            .execute(
                "UPDATE log_files SET state = 'review', redacted = 0, redacted_blob = NULL,
                        redacted_at = NULL
                 WHERE id = ?1 AND state = 'redacted'",
                [file.to_string()],
            )
            .map_err(store_error)?;
        if n == 1 {
            Ok(())
        } else {
            Err(StoreError::new(
                StoreErrorKind::Conflict,
                "Only a redacted file can go back to review.",
            ))
        }
    }

    /// Deletes a file with its findings and pages.
    pub fn delete_log_file(&self, file: &LogFileSummary, now: Timestamp) -> Result<(), StoreError> {
        let mut conn = self.lock_writer();
        let tx = conn.transaction().map_err(store_error)?;
        let n = tx
            .execute("DELETE FROM log_files WHERE id = ?1", [file.id.to_string()])
            .map_err(store_error)?;
        if n == 0 {
            return Err(not_found());
        }
        let details = json!({ "log_file_id": file.id.to_string(), "sha256": file.sha256 });
        record_log_event(
            &tx,
            file.issue_id,
            file.id.to_string(),
            now,
            (TimelineEventKind::LogDeleted, AuditAction::LogDeleted),
            format!("Removed {}", file.name),
            details,
        )?;
        tx.commit().map_err(store_error)
    }

    /// Forgets blobs no file refers to and returns their hashes, so their
    /// files can be removed.
    pub fn collect_unused_blobs(&self) -> Result<Vec<String>, StoreError> {
        let mut conn = self.lock_writer();
        let tx = conn.transaction().map_err(store_error)?;
        let unused: Vec<String> = {
            let mut stmt = tx
                .prepare(
                    "SELECT sha256 FROM blobs b WHERE
                       NOT EXISTS (SELECT 1 FROM log_files f WHERE f.text_blob = b.sha256)
                   AND NOT EXISTS (SELECT 1 FROM log_files f WHERE f.redacted_blob = b.sha256)
                   AND NOT EXISTS (SELECT 1 FROM attachment_blobs a WHERE a.sha256 = b.sha256)",
                )
                .map_err(store_error)?;
            stmt.query_map([], |r| r.get(0))
                .and_then(Iterator::collect)
                .map_err(store_error)?
        };
        for sha in &unused {
            tx.execute("DELETE FROM blobs WHERE sha256 = ?1", [sha])
                .map_err(store_error)?;
        }
        tx.commit().map_err(store_error)?;
        Ok(unused)
    }

    /// Whether a blob is recorded (content already stored).
    pub fn has_blob(&self, sha256: &str) -> Result<bool, StoreError> {
        self.lock_reader()
            .query_row(
                "SELECT 1 FROM blobs WHERE sha256 = ?1",
                [sha256],
                |_| Ok(()),
            )
            .optional()
            .map(|r| r.is_some())
            .map_err(store_error)
    }
}

/// Records what happened to a log file: a timeline event on its issue and
/// an audit entry (ids and hashes only), inside the caller's transaction.
fn record_log_event(
    tx: &Transaction<'_>,
    issue: IssueId,
    file_id: String,
    now: Timestamp,
    (kind, action): (TimelineEventKind, AuditAction),
    description: String,
    details: serde_json::Value,
) -> Result<(), StoreError> {
    write_event_and_audit(
        tx,
        issue,
        now,
        Some((kind, description)),
        &NewAuditEntry {
            action,
            entity_type: "log_file",
            entity_id: file_id,
            details,
        },
    )
    .map_err(store_error)
}

/// Runs a query whose columns are those of [`read_span`].
fn query_spans(
    conn: &rusqlite::Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<StoredSpan>, StoreError> {
    let mut stmt = conn.prepare_cached(sql).map_err(store_error)?;
    let rows = stmt
        .query_map(params, read_span)
        .and_then(Iterator::collect::<Result<Vec<_>, _>>)
        .map_err(store_error)?;
    rows.into_iter().map(decode_span).collect()
}

fn insert_spans_tx(
    tx: &Transaction<'_>,
    file: LogFileId,
    spans: &[NewSpan],
    now: Timestamp,
) -> rusqlite::Result<()> {
    let mut stmt = tx.prepare_cached(
        "INSERT INTO pii_spans (log_file_id, pii_type, start_byte, end_byte, line, value, source,
                                decision, decided_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?;
    let id = file.to_string();
    let at = now.to_string();
    for s in spans {
        let decided = (s.decision != Decision::Pending).then_some(at.as_str());
        stmt.execute(params![
            id,
            s.kind.as_str(),
            to_i64(s.start),
            to_i64(s.end),
            to_i64(s.line),
            s.value,
            s.source.as_str(),
            s.decision.as_str(),
            decided,
        ])?;
    }
    Ok(())
}

type SpanColumns = (i64, String, i64, i64, String, String);

fn read_span(r: &rusqlite::Row<'_>) -> rusqlite::Result<SpanColumns> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
    ))
}

fn decode_span(
    (id, kind, start, end, value, decision): SpanColumns,
) -> Result<StoredSpan, StoreError> {
    Ok(StoredSpan {
        id,
        kind: PiiType::parse(&kind).ok_or_else(|| corrupt("PII type"))?,
        start: to_u64(start),
        end: to_u64(end),
        value,
        decision: Decision::parse(&decision).ok_or_else(|| corrupt("decision"))?,
    })
}
