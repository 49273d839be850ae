//! Reading the audit log: filtered, paged newest first by (timestamp, id),
//! and whole for export.

use rusqlite::params_from_iter;
use rusqlite::types::Value;
use tftsr_core::audit::{AuditFilter, AuditPage, AuditQuery};
use tftsr_core::{AuditEntry, StoreError, StoreErrorKind, Timestamp};

use super::{Database, store_error};

const COLUMNS: &str = "id, timestamp, action, entity_type, entity_id, user_id, details";

/// The WHERE clauses and parameters of a filter.
fn clauses(filter: &AuditFilter) -> (Vec<&'static str>, Vec<Value>) {
    let mut clauses = Vec::new();
    let mut values = Vec::new();
    if let Some(a) = filter.action {
        clauses.push("action = ?");
        values.push(Value::Text(a.as_str().to_owned()));
    }
    if let Some(e) = &filter.entity_type {
        clauses.push("entity_type = ?");
        values.push(Value::Text(e.clone()));
    }
    let (from, to) = filter.bounds();
    if let Some(f) = from {
        clauses.push("timestamp >= ?");
        values.push(Value::Text(f));
    }
    if let Some(t) = to {
        clauses.push("timestamp < ?");
        values.push(Value::Text(t));
    }
    (clauses, values)
}

fn decode(row: [String; 7]) -> Result<AuditEntry, StoreError> {
    let [id, ts, action, entity_type, entity_id, user_id, details] = row;
    let timestamp = Timestamp::parse(&ts).map_err(|_| {
        tracing::error!("unreadable audit timestamp");
        StoreError::new(
            StoreErrorKind::Corrupt,
            "An unreadable timestamp is stored in the database.",
        )
    })?;
    Ok(AuditEntry {
        id,
        timestamp,
        action,
        entity_type,
        entity_id,
        user_id,
        details: serde_json::from_str(&details).unwrap_or(serde_json::Value::Null),
    })
}

impl Database {
    fn audit_rows(
        &self,
        clauses: &[&str],
        values: Vec<Value>,
        order: &str,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let filter = if clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", clauses.join(" AND "))
        };
        let sql =
            format!("SELECT {COLUMNS} FROM audit_log {filter} ORDER BY {order} LIMIT {limit}");
        let conn = self.lock_reader();
        let rows: Vec<[String; 7]> = conn
            .prepare(&sql)
            .and_then(|mut s| {
                s.query_map(params_from_iter(values), |r| {
                    Ok([
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                    ])
                })?
                .collect()
            })
            .map_err(store_error)?;
        rows.into_iter().map(decode).collect()
    }

    /// One page of `limit` entries, newest first. Entries with the same
    /// timestamp are ordered by id, so no entry is skipped or repeated
    /// across pages.
    pub fn audit_page(&self, query: &AuditQuery, limit: u32) -> Result<AuditPage, StoreError> {
        let limit = limit.clamp(1, 500);
        let (mut where_, mut values) = clauses(&query.filter);
        let newer = query.after.is_some();
        if let Some(id) = query.before.as_ref().or(query.after.as_ref()) {
            where_.push(if newer {
                "(timestamp, id) > (SELECT timestamp, id FROM audit_log WHERE id = ?)"
            } else {
                "(timestamp, id) < (SELECT timestamp, id FROM audit_log WHERE id = ?)"
            });
            values.push(Value::Text(id.clone()));
        }
        let order = if newer {
            "timestamp ASC, id ASC"
        } else {
            "timestamp DESC, id DESC"
        };
        let mut entries = self.audit_rows(&where_, values, order, limit + 1)?;
        let more = entries.len() > limit as usize;
        entries.truncate(limit as usize);
        if newer {
            entries.reverse();
        }
        let first = entries.first().map(|e| e.id.clone());
        let last = entries.last().map(|e| e.id.clone());
        let (older, newer_cursor) = if newer {
            (last, if more { first } else { None })
        } else {
            (
                if more { last } else { None },
                if query.before.is_some() { first } else { None },
            )
        };
        Ok(AuditPage {
            entries,
            older,
            newer: newer_cursor,
        })
    }

    /// Every entry the filter allows, newest first, at most `cap`.
    pub fn audit_entries(
        &self,
        filter: &AuditFilter,
        cap: u32,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let (where_, values) = clauses(filter);
        self.audit_rows(&where_, values, "timestamp DESC, id DESC", cap)
    }
}
