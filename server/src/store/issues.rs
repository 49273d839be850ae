//! [`IssueStore`] on SQLCipher: issues, full-text search, timelines, audit.

use rusqlite::types::Value;
use rusqlite::{Connection, Row, Transaction, params, params_from_iter};
use serde_json::Value as Json;
use tftsr_core::audit::NewAuditEntry;
use tftsr_core::query::{Direction, SEARCH_COUNT_CAP, excerpt, fts_match_expression, search_terms};
use tftsr_core::timeline::NewTimelineEvent;
use tftsr_core::{
    AuditEntry, DashboardStats, Domain, Issue, IssueId, IssuePage, IssueQuery, IssueStatus,
    IssueStore, IssueSummary, PageCursor, Severity, StoreError, StoreErrorKind, TimelineEvent,
    Timestamp,
};

use super::{Database, store_error};

/// Who did it. TFTSR is single-user and local; the field is there for when it
/// is not.
const LOCAL_USER: &str = "local";

fn corrupt(what: &str) -> StoreError {
    tracing::error!(what, "unreadable value in the database");
    StoreError::new(
        StoreErrorKind::Corrupt,
        format!("An unreadable {what} is stored in the database."),
    )
}

fn timestamp(text: &str) -> Result<Timestamp, StoreError> {
    Timestamp::parse(text).map_err(|_| corrupt("timestamp"))
}

fn json(text: &str) -> Json {
    serde_json::from_str(text).unwrap_or(Json::Null)
}

pub(super) fn new_row_id(at: Timestamp) -> String {
    IssueId::new_at(at).to_string()
}

/// The raw columns of an `issues` row, decoded after the statement is done so
/// decoding errors become store errors, not SQLite ones.
struct IssueRow {
    id: String,
    title: String,
    description: String,
    severity: String,
    status: String,
    domain: String,
    category: String,
    source: String,
    assigned_to: String,
    tags: String,
    created_at: String,
    updated_at: String,
    resolved_at: Option<String>,
}

const ISSUE_COLUMNS: &str = "id, title, description, severity, status, domain, category, source, \
     assigned_to, tags, created_at, updated_at, resolved_at";

impl IssueRow {
    fn read(r: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: r.get(0)?,
            title: r.get(1)?,
            description: r.get(2)?,
            severity: r.get(3)?,
            status: r.get(4)?,
            domain: r.get(5)?,
            category: r.get(6)?,
            source: r.get(7)?,
            assigned_to: r.get(8)?,
            tags: r.get(9)?,
            created_at: r.get(10)?,
            updated_at: r.get(11)?,
            resolved_at: r.get(12)?,
        })
    }

    fn decode(self) -> Result<Issue, StoreError> {
        Ok(Issue {
            id: IssueId::parse(&self.id).ok_or_else(|| corrupt("issue id"))?,
            title: self.title,
            description: self.description,
            severity: Severity::parse(&self.severity).ok_or_else(|| corrupt("severity"))?,
            status: IssueStatus::parse(&self.status).ok_or_else(|| corrupt("status"))?,
            domain: Domain::parse(&self.domain).ok_or_else(|| corrupt("domain"))?,
            category: self.category,
            source: self.source,
            assigned_to: self.assigned_to,
            tags: serde_json::from_str(&self.tags).map_err(|_| corrupt("tag list"))?,
            created_at: timestamp(&self.created_at)?,
            updated_at: timestamp(&self.updated_at)?,
            resolved_at: self.resolved_at.as_deref().map(timestamp).transpose()?,
        })
    }
}

fn tags_json(tags: &[String]) -> String {
    serde_json::to_string(tags).unwrap_or_else(|_| "[]".to_owned())
}

pub(super) fn write_events(
    tx: &Transaction<'_>,
    issue_id: IssueId,
    at: Timestamp,
    events: &[NewTimelineEvent],
) -> rusqlite::Result<()> {
    let mut stmt = tx.prepare_cached(
        "INSERT INTO timeline_events (id, issue_id, event_type, description, metadata, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    // Events of one write share a timestamp; sorted v7 ids keep their order.
    let mut ids: Vec<String> = events.iter().map(|_| new_row_id(at)).collect();
    ids.sort();
    for (e, id) in events.iter().zip(ids) {
        stmt.execute(params![
            id,
            issue_id.to_string(),
            e.kind.as_str(),
            e.description,
            e.metadata.to_string(),
            at.to_string(),
        ])?;
    }
    Ok(())
}

/// What happened to something of an issue: a timeline event on the issue
/// (when there is one to show) whose metadata is the audit entry's details,
/// and the audit entry, inside the caller's transaction.
pub(super) fn write_event_and_audit(
    tx: &Transaction<'_>,
    issue: IssueId,
    at: Timestamp,
    event: Option<(tftsr_core::TimelineEventKind, String)>,
    audit: &NewAuditEntry,
) -> rusqlite::Result<()> {
    if let Some((kind, description)) = event {
        write_events(
            tx,
            issue,
            at,
            &[NewTimelineEvent {
                kind,
                description,
                metadata: audit.details.clone(),
            }],
        )?;
    }
    write_audit(tx, at, audit)
}

pub(super) fn write_audit(
    tx: &Transaction<'_>,
    at: Timestamp,
    audit: &NewAuditEntry,
) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO audit_log (id, timestamp, action, entity_type, entity_id, user_id, details)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        new_row_id(at),
        at.to_string(),
        audit.action.as_str(),
        audit.entity_type,
        audit.entity_id,
        LOCAL_USER,
        audit.details.to_string(),
    ])?;
    Ok(())
}

/// The WHERE clause and parameters of a list query, without the cursor.
fn filter_clause(query: &IssueQuery, fts: Option<&str>) -> (Vec<&'static str>, Vec<Value>) {
    let mut clauses = Vec::new();
    let mut values = Vec::new();
    let f = &query.filter;
    if let Some(s) = f.status {
        clauses.push("i.status = ?");
        values.push(Value::Text(s.as_str().to_owned()));
    }
    if let Some(s) = f.severity {
        clauses.push("i.severity = ?");
        values.push(Value::Text(s.as_str().to_owned()));
    }
    if let Some(d) = f.domain {
        clauses.push("i.domain = ?");
        values.push(Value::Text(d.as_str().to_owned()));
    }
    if let Some(expr) = fts {
        // Materialises the matching keys once, then walks the created_at
        // index in order and stops at the page size.
        clauses.push("i.search_rowid IN (SELECT rowid FROM issues_fts WHERE issues_fts MATCH ?)");
        values.push(Value::Text(expr.to_owned()));
    }
    (clauses, values)
}

fn where_sql(clauses: &[&str]) -> String {
    if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    }
}

/// Characters of description shown around a search match.
const SNIPPET_CHARS: usize = 160;

struct SummaryRow {
    id: String,
    title: String,
    severity: String,
    status: String,
    domain: String,
    tags: String,
    created_at: String,
    updated_at: String,
    description: String,
}

impl SummaryRow {
    fn decode(self, snippet: Option<String>) -> Result<IssueSummary, StoreError> {
        Ok(IssueSummary {
            id: IssueId::parse(&self.id).ok_or_else(|| corrupt("issue id"))?,
            title: self.title,
            severity: Severity::parse(&self.severity).ok_or_else(|| corrupt("severity"))?,
            status: IssueStatus::parse(&self.status).ok_or_else(|| corrupt("status"))?,
            domain: Domain::parse(&self.domain).ok_or_else(|| corrupt("domain"))?,
            tags: serde_json::from_str(&self.tags).map_err(|_| corrupt("tag list"))?,
            created_at: timestamp(&self.created_at)?,
            updated_at: timestamp(&self.updated_at)?,
            snippet,
        })
    }
}

fn list(conn: &Connection, query: &IssueQuery) -> Result<IssuePage, StoreError> {
    let fts = query.filter.text.as_deref().and_then(fts_match_expression);
    if query
        .filter
        .text
        .as_deref()
        .is_some_and(|t| !t.trim().is_empty())
        && fts.is_none()
    {
        // Only punctuation was typed: nothing can match.
        return Ok(IssuePage::default());
    }
    let (mut clauses, mut values) = filter_clause(query, fts.as_deref());
    // Counting every match of a common word would cost more than the page
    // itself; searches count up to a cap and say "N+".
    let count_sql = if fts.is_some() {
        format!(
            "SELECT count(*) FROM (SELECT 1 FROM issues i {} LIMIT {})",
            where_sql(&clauses),
            SEARCH_COUNT_CAP + 1
        )
    } else {
        format!("SELECT count(*) FROM issues i {}", where_sql(&clauses))
    };
    let total: i64 = conn
        .prepare_cached(&count_sql)
        .and_then(|mut s| s.query_row(params_from_iter(values.iter()), |r| r.get(0)))
        .map_err(store_error)?;
    let total = u64::try_from(total).unwrap_or(0);
    let total_capped = fts.is_some() && total > SEARCH_COUNT_CAP;

    let limit = query.page_size() as usize;
    let backwards = matches!(
        query.cursor,
        Some(PageCursor {
            direction: Direction::Before,
            ..
        })
    );
    if let Some(c) = &query.cursor {
        clauses.push(if backwards {
            "(i.created_at, i.id) > (?, ?)"
        } else {
            "(i.created_at, i.id) < (?, ?)"
        });
        values.push(Value::Text(c.created_at.to_string()));
        values.push(Value::Text(c.id.to_string()));
    }
    let order = if backwards { "ASC" } else { "DESC" };
    let sql = format!(
        "SELECT i.id, i.title, i.severity, i.status, i.domain, i.tags, i.created_at, i.updated_at, {}
         FROM issues i {} ORDER BY i.created_at {order}, i.id {order} LIMIT {}",
        // The description is only needed to excerpt search matches.
        if fts.is_some() { "i.description" } else { "''" },
        where_sql(&clauses),
        limit + 1
    );
    let mut rows: Vec<SummaryRow> = conn
        .prepare_cached(&sql)
        .and_then(|mut s| {
            s.query_map(params_from_iter(values.iter()), |r| {
                Ok(SummaryRow {
                    id: r.get(0)?,
                    title: r.get(1)?,
                    severity: r.get(2)?,
                    status: r.get(3)?,
                    domain: r.get(4)?,
                    tags: r.get(5)?,
                    created_at: r.get(6)?,
                    updated_at: r.get(7)?,
                    description: r.get(8)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()
        })
        .map_err(store_error)?;
    let more = rows.len() > limit;
    rows.truncate(limit);
    if backwards {
        rows.reverse();
    }

    let terms = query
        .filter
        .text
        .as_deref()
        .map(search_terms)
        .unwrap_or_default();
    let items = rows
        .into_iter()
        .map(|row| {
            let snippet = if terms.is_empty() {
                None
            } else {
                excerpt(&row.description, &terms, SNIPPET_CHARS)
            };
            row.decode(snippet)
        })
        .collect::<Result<Vec<_>, _>>()?;

    let cursor = |direction, item: &IssueSummary| PageCursor {
        direction,
        created_at: item.created_at,
        id: item.id,
    };
    let (has_next, has_prev) = match (&query.cursor, backwards) {
        (None, _) => (more, false),
        (Some(_), false) => (more, true),
        (Some(_), true) => (true, more),
    };
    Ok(IssuePage {
        next: items
            .last()
            .filter(|_| has_next)
            .map(|i| cursor(Direction::After, i)),
        prev: items
            .first()
            .filter(|_| has_prev)
            .map(|i| cursor(Direction::Before, i)),
        items,
        total,
        total_capped,
    })
}

impl IssueStore for Database {
    #[tracing::instrument(skip_all, fields(issue = %issue.id))]
    fn insert_issue(
        &self,
        issue: &Issue,
        events: &[NewTimelineEvent],
        audit: &NewAuditEntry,
    ) -> Result<(), StoreError> {
        let mut conn = self.lock_writer();
        let tx = conn.transaction().map_err(store_error)?;
        tx.execute(
            "INSERT INTO issues (id, search_rowid, title, description, severity, status, domain, category,
                                 source, assigned_to, tags, created_at, updated_at, resolved_at)
             VALUES (?1, (SELECT COALESCE(MAX(search_rowid), 0) + 1 FROM issues),
                     ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            params![
                issue.id.to_string(),
                issue.title,
                issue.description,
                issue.severity.as_str(),
                issue.status.as_str(),
                issue.domain.as_str(),
                issue.category,
                issue.source,
                issue.assigned_to,
                tags_json(&issue.tags),
                issue.created_at.to_string(),
                issue.updated_at.to_string(),
                issue.resolved_at.map(|t| t.to_string()),
            ],
        )
        .map_err(store_error)?;
        write_events(&tx, issue.id, issue.created_at, events).map_err(store_error)?;
        write_audit(&tx, issue.created_at, audit).map_err(store_error)?;
        tx.commit().map_err(store_error)
    }

    #[tracing::instrument(skip_all, fields(issue = %issue.id))]
    fn update_issue(
        &self,
        issue: &Issue,
        expected_updated_at: Timestamp,
        events: &[NewTimelineEvent],
        audit: &NewAuditEntry,
    ) -> Result<(), StoreError> {
        let mut conn = self.lock_writer();
        let tx = conn.transaction().map_err(store_error)?;
        let changed = tx
            .execute(
                "UPDATE issues SET title = ?2, description = ?3, severity = ?4, status = ?5, domain = ?6,
                        category = ?7, source = ?8, assigned_to = ?9, tags = ?10, updated_at = ?11,
                        resolved_at = ?12
                 WHERE id = ?1 AND updated_at = ?13",
                params![
                    issue.id.to_string(),
                    issue.title,
                    issue.description,
                    issue.severity.as_str(),
                    issue.status.as_str(),
                    issue.domain.as_str(),
                    issue.category,
                    issue.source,
                    issue.assigned_to,
                    tags_json(&issue.tags),
                    issue.updated_at.to_string(),
                    issue.resolved_at.map(|t| t.to_string()),
                    expected_updated_at.to_string(),
                ],
            )
            .map_err(store_error)?;
        if changed == 0 {
            let exists = tx
                .query_row(
                    "SELECT 1 FROM issues WHERE id = ?1",
                    [issue.id.to_string()],
                    |_| Ok(()),
                )
                .is_ok();
            return Err(if exists {
                StoreError::new(
                    StoreErrorKind::Conflict,
                    "This issue was changed elsewhere since you opened it; reload to see the latest version.",
                )
            } else {
                StoreError::not_found("Issue")
            });
        }
        write_events(&tx, issue.id, issue.updated_at, events).map_err(store_error)?;
        write_audit(&tx, issue.updated_at, audit).map_err(store_error)?;
        tx.commit().map_err(store_error)
    }

    #[tracing::instrument(skip_all, fields(issue = %id))]
    fn delete_issue(
        &self,
        id: IssueId,
        at: Timestamp,
        audit: &NewAuditEntry,
    ) -> Result<(), StoreError> {
        let mut conn = self.lock_writer();
        let tx = conn.transaction().map_err(store_error)?;
        let deleted = tx
            .execute("DELETE FROM issues WHERE id = ?1", [id.to_string()])
            .map_err(store_error)?;
        if deleted == 0 {
            return Err(StoreError::not_found("Issue"));
        }
        write_audit(&tx, at, audit).map_err(store_error)?;
        tx.commit().map_err(store_error)
    }

    fn get_issue(&self, id: IssueId) -> Result<Issue, StoreError> {
        let row = self
            .lock_reader()
            .query_row(
                &format!("SELECT {ISSUE_COLUMNS} FROM issues WHERE id = ?1"),
                [id.to_string()],
                IssueRow::read,
            )
            .map_err(|e| match e {
                rusqlite::Error::QueryReturnedNoRows => StoreError::not_found("Issue"),
                e => store_error(e),
            })?;
        row.decode()
    }

    fn list_issues(&self, query: &IssueQuery) -> Result<IssuePage, StoreError> {
        list(&self.lock_reader(), query)
    }

    fn dashboard_stats(&self, now: Timestamp) -> Result<DashboardStats, StoreError> {
        let conn = self.lock_reader();
        let week_ago = now.minus_seconds(7 * 86_400).to_string();
        (|| -> rusqlite::Result<DashboardStats> {
            let mut open = conn.prepare_cached(
                "SELECT severity, count(*) FROM issues WHERE status = 'open' GROUP BY severity",
            )?;
            let counts: Vec<(String, i64)> = open
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
            let count = |sql: &str, p: &[&dyn rusqlite::ToSql]| {
                conn.query_row(sql, p, |r| r.get::<_, i64>(0))
            };
            let investigating = count(
                "SELECT count(*) FROM issues WHERE status = 'investigating'",
                &[],
            )?;
            let resolved_this_week = count(
                "SELECT count(*) FROM issues WHERE resolved_at >= ?1",
                &[&week_ago],
            )?;
            let total = count("SELECT count(*) FROM issues", &[])?;
            let mttr: Option<f64> = conn.query_row(
                "SELECT avg((julianday(resolved_at) - julianday(created_at)) * 86400.0)
                 FROM issues WHERE resolved_at IS NOT NULL",
                [],
                |r| r.get(0),
            )?;
            let as_u64 = |n: i64| u64::try_from(n).unwrap_or(0);
            Ok(DashboardStats {
                open_by_severity: Severity::ALL
                    .iter()
                    .map(|s| {
                        (
                            *s,
                            counts
                                .iter()
                                .find(|(n, _)| n == s.as_str())
                                .map_or(0, |(_, c)| as_u64(*c)),
                        )
                    })
                    .collect(),
                investigating: as_u64(investigating),
                resolved_this_week: as_u64(resolved_this_week),
                mean_time_to_resolve_secs: mttr,
                total: as_u64(total),
            })
        })()
        .map_err(store_error)
    }

    fn timeline(&self, id: IssueId) -> Result<Vec<TimelineEvent>, StoreError> {
        let conn = self.lock_reader();
        let rows: Vec<(String, String, String, String, String)> = conn
            .prepare_cached(
                "SELECT id, event_type, description, metadata, created_at FROM timeline_events
                 WHERE issue_id = ?1 ORDER BY created_at, id",
            )
            .and_then(|mut s| {
                s.query_map([id.to_string()], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })?
                .collect()
            })
            .map_err(store_error)?;
        rows.into_iter()
            .map(|(eid, event_type, description, metadata, created_at)| {
                Ok(TimelineEvent {
                    id: eid,
                    issue_id: id,
                    event_type,
                    description,
                    metadata: json(&metadata),
                    created_at: timestamp(&created_at)?,
                })
            })
            .collect()
    }

    fn recent_audit(&self, limit: u32) -> Result<Vec<AuditEntry>, StoreError> {
        let conn = self.lock_reader();
        let rows: Vec<[String; 7]> = conn
            .prepare_cached(
                "SELECT id, timestamp, action, entity_type, entity_id, user_id, details FROM audit_log
                 ORDER BY timestamp DESC, id DESC LIMIT ?1",
            )
            .and_then(|mut s| {
                s.query_map([limit.min(1_000)], |r| {
                    Ok([r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?])
                })?
                .collect()
            })
            .map_err(store_error)?;
        rows.into_iter()
            .map(
                |[id, ts, action, entity_type, entity_id, user_id, details]| {
                    Ok(AuditEntry {
                        id,
                        timestamp: timestamp(&ts)?,
                        action,
                        entity_type,
                        entity_id,
                        user_id,
                        details: json(&details),
                    })
                },
            )
            .collect()
    }
}
