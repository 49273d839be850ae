//! # tftsr-core
//!
//! TFTSR's pure domain. Everything here can be reasoned about and tested
//! without a disk, a network or a browser: the domain types (issues, timeline
//! events, audit entries), their validation, the query language of the issue
//! list, and the *ports* — traits that the server crate implements with real
//! IO (SQLCipher, the clock).
//!
//! The crate has no async runtime and no web framework, and it builds for
//! `wasm32-unknown-unknown`, so the browser validates with the very same code
//! the server enforces.

#[macro_use]
mod macros;

pub mod ai;
pub mod attachments;
pub mod audit;
pub mod doc;
pub mod issue;
pub mod logs;
pub mod mcp;
pub mod pii;
pub mod ports;
pub mod publish;
pub mod query;
pub mod stats;
pub mod timeline;
pub mod timestamp;
pub mod tracker;
pub mod triage;

pub use audit::{AuditAction, AuditEntry};
pub use issue::{
    Domain, Issue, IssueDraft, IssueId, IssueStatus, Severity, ValidIssue, ValidationError,
};
pub use ports::{Clock, IssueStore, StoreError, StoreErrorKind};
pub use query::{IssueFilter, IssuePage, IssueQuery, IssueSummary, PageCursor};
pub use stats::DashboardStats;
pub use timeline::{TimelineEvent, TimelineEventKind};
pub use timestamp::Timestamp;
pub use tracker::{IssueTracker, TrackerError};
