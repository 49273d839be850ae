//! Ports: what the domain needs from the outside world, as traits. The server
//! crate implements them with real IO; core never does IO itself.
//!
//! The store port is synchronous on purpose: SQLite is a blocking library,
//! and the server runs these calls on Tokio's blocking pool. Keeping async out
//! of core keeps it runtime-free and usable from tests without an executor.

use std::fmt;

use crate::audit::NewAuditEntry;
use crate::timeline::NewTimelineEvent;
use crate::{
    AuditEntry, DashboardStats, Issue, IssueId, IssuePage, IssueQuery, TimelineEvent, Timestamp,
};

/// The source of "now"; a fixed clock in tests.
pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

/// What kind of failure a store reports; callers match on this, people read
/// the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreErrorKind {
    /// The row does not exist (or no longer does).
    NotFound,
    /// Someone else changed the row since it was read; reload and retry.
    Conflict,
    /// The database is busy or locked for longer than the wait allowed.
    Busy,
    /// The disk is full; nothing was written.
    Full,
    /// The database file is damaged or not a TFTSR database.
    Corrupt,
    /// Anything else; details are in the server log.
    Other,
}

/// A store failure. The message never contains row content or key material,
/// so it is safe to log and to show.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct StoreError {
    kind: StoreErrorKind,
    message: String,
}

impl StoreError {
    pub fn new(kind: StoreErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    pub fn not_found(what: impl fmt::Display) -> Self {
        Self::new(StoreErrorKind::NotFound, format!("{what} not found"))
    }

    pub fn kind(&self) -> StoreErrorKind {
        self.kind
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

/// Persistence of issues, their timelines and the audit log.
///
/// Each write takes the timeline events and the audit entry that go with it
/// and must apply all of them in one transaction, or none.
pub trait IssueStore: Send + Sync {
    fn insert_issue(
        &self,
        issue: &Issue,
        events: &[NewTimelineEvent],
        audit: &NewAuditEntry,
    ) -> Result<(), StoreError>;

    /// Replaces the issue's fields if its `updated_at` still equals
    /// `expected_updated_at`; otherwise [`StoreErrorKind::Conflict`].
    fn update_issue(
        &self,
        issue: &Issue,
        expected_updated_at: Timestamp,
        events: &[NewTimelineEvent],
        audit: &NewAuditEntry,
    ) -> Result<(), StoreError>;

    /// Deletes the issue and, by cascade, its timeline; the audit entry stays.
    fn delete_issue(
        &self,
        id: IssueId,
        at: Timestamp,
        audit: &NewAuditEntry,
    ) -> Result<(), StoreError>;

    fn get_issue(&self, id: IssueId) -> Result<Issue, StoreError>;

    fn list_issues(&self, query: &IssueQuery) -> Result<IssuePage, StoreError>;

    fn dashboard_stats(&self, now: Timestamp) -> Result<DashboardStats, StoreError>;

    /// The issue's events, oldest first.
    fn timeline(&self, id: IssueId) -> Result<Vec<TimelineEvent>, StoreError>;

    /// The newest audit entries, newest first.
    fn recent_audit(&self, limit: u32) -> Result<Vec<AuditEntry>, StoreError>;
}
