//! The issue tracker: turns what a person asked for into the exact records a
//! store must write (the issue, its timeline events, the audit entry), then
//! hands them to the [`IssueStore`] port.
//!
//! The decisions — what counts as a status change, when `resolved_at` is set
//! or cleared, what the audit entry says — are plain functions
//! ([`plan_create`], [`plan_edit`]) tested without any store.

use std::sync::Arc;

use serde_json::json;

use crate::audit::{AuditAction, NewAuditEntry};
use crate::issue::ValidIssue;
use crate::timeline::{NewTimelineEvent, TimelineEventKind};
use crate::{
    AuditEntry, Clock, DashboardStats, Issue, IssueDraft, IssueId, IssuePage, IssueQuery,
    IssueStatus, IssueStore, StoreError, TimelineEvent, Timestamp, ValidationError,
};

/// A tracker operation failed.
#[derive(Debug, thiserror::Error)]
pub enum TrackerError {
    /// The input was rejected; one entry per bad field.
    #[error("invalid input: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<ValidationError>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A planned write: the issue as it will be stored and what goes with it.
#[derive(Clone, Debug, PartialEq)]
pub struct Planned {
    pub issue: Issue,
    pub events: Vec<NewTimelineEvent>,
    pub audit: NewAuditEntry,
}

fn resolved_at_for(
    status: IssueStatus,
    previous: Option<Timestamp>,
    now: Timestamp,
) -> Option<Timestamp> {
    match (status.is_done(), previous) {
        (true, Some(earlier)) => Some(earlier),
        (true, None) => Some(now),
        (false, _) => None,
    }
}

/// A new issue from validated input.
pub fn plan_create(valid: ValidIssue, id: IssueId, now: Timestamp) -> Planned {
    let resolved_at = resolved_at_for(valid.status, None, now);
    let issue = Issue {
        id,
        title: valid.title,
        description: valid.description,
        severity: valid.severity,
        status: valid.status,
        domain: valid.domain,
        category: valid.category,
        source: valid.source,
        assigned_to: valid.assigned_to,
        tags: valid.tags,
        created_at: now,
        updated_at: now,
        resolved_at,
    };
    let events = vec![NewTimelineEvent {
        kind: TimelineEventKind::TriageStarted,
        description: format!(
            "Issue filed ({} severity, {})",
            issue.severity.label().to_lowercase(),
            issue.domain.label()
        ),
        metadata: json!({ "severity": issue.severity, "domain": issue.domain, "status": issue.status }),
    }];
    let audit = NewAuditEntry {
        action: AuditAction::IssueCreated,
        entity_type: "issue",
        entity_id: id.to_string(),
        details: json!({ "severity": issue.severity, "domain": issue.domain }),
    };
    Planned {
        issue,
        events,
        audit,
    }
}

/// The names of the fields that differ between `old` and `new`.
fn changed_fields(old: &Issue, new: &ValidIssue) -> Vec<&'static str> {
    let mut changed = Vec::new();
    let mut check = |name, differs: bool| {
        if differs {
            changed.push(name);
        }
    };
    check("title", old.title != new.title);
    check("description", old.description != new.description);
    check("severity", old.severity != new.severity);
    check("status", old.status != new.status);
    check("domain", old.domain != new.domain);
    check("category", old.category != new.category);
    check("source", old.source != new.source);
    check("assigned_to", old.assigned_to != new.assigned_to);
    check("tags", old.tags != new.tags);
    changed
}

/// An edit of `old`; `None` when nothing would change.
pub fn plan_edit(old: &Issue, new: ValidIssue, now: Timestamp) -> Option<Planned> {
    let changed = changed_fields(old, &new);
    if changed.is_empty() {
        return None;
    }
    // Keep updated_at strictly increasing so optimistic locking always sees
    // an edit, even two within the same millisecond.
    let now = if now <= old.updated_at {
        Timestamp::from_unix_millis(old.updated_at.unix_millis() + 1).unwrap_or(now)
    } else {
        now
    };
    let mut events = Vec::new();
    if old.status != new.status {
        events.push(NewTimelineEvent {
            kind: TimelineEventKind::StatusChanged,
            description: format!(
                "Status changed from {} to {}",
                old.status.label(),
                new.status.label()
            ),
            metadata: json!({ "from": old.status, "to": new.status }),
        });
    }
    let other: Vec<&str> = changed.iter().copied().filter(|f| *f != "status").collect();
    if !other.is_empty() {
        events.push(NewTimelineEvent {
            kind: TimelineEventKind::IssueUpdated,
            description: format!("Edited {}", other.join(", ").replace('_', " ")),
            metadata: json!({ "fields": other }),
        });
    }
    let mut details = json!({ "changed": changed });
    if old.status != new.status {
        details["status"] = json!({ "from": old.status, "to": new.status });
    }
    let audit = NewAuditEntry {
        action: AuditAction::IssueUpdated,
        entity_type: "issue",
        entity_id: old.id.to_string(),
        details,
    };
    let issue = Issue {
        id: old.id,
        resolved_at: resolved_at_for(new.status, old.resolved_at, now),
        title: new.title,
        description: new.description,
        severity: new.severity,
        status: new.status,
        domain: new.domain,
        category: new.category,
        source: new.source,
        assigned_to: new.assigned_to,
        tags: new.tags,
        created_at: old.created_at,
        updated_at: now,
    };
    Some(Planned {
        issue,
        events,
        audit,
    })
}

/// The use cases around issues, over any store and clock.
#[derive(Clone)]
pub struct IssueTracker {
    store: Arc<dyn IssueStore>,
    clock: Arc<dyn Clock>,
}

impl IssueTracker {
    pub fn new(store: Arc<dyn IssueStore>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }

    pub fn create(&self, draft: &IssueDraft) -> Result<Issue, TrackerError> {
        let valid = draft.validate().map_err(TrackerError::Invalid)?;
        let now = self.clock.now();
        let planned = plan_create(valid, IssueId::new_at(now), now);
        self.store
            .insert_issue(&planned.issue, &planned.events, &planned.audit)?;
        Ok(planned.issue)
    }

    /// Applies an edit made on the version of the issue last updated at
    /// `seen_updated_at`; a concurrent edit gives a conflict, never a silent
    /// overwrite.
    pub fn update(
        &self,
        id: IssueId,
        draft: &IssueDraft,
        seen_updated_at: Timestamp,
    ) -> Result<Issue, TrackerError> {
        let valid = draft.validate().map_err(TrackerError::Invalid)?;
        let old = self.store.get_issue(id)?;
        if old.updated_at != seen_updated_at {
            return Err(StoreError::new(
                crate::StoreErrorKind::Conflict,
                "This issue was changed elsewhere since you opened it; reload to see the latest version.",
            )
            .into());
        }
        self.apply(&old, valid)
    }

    /// Moves the issue to `status`, keeping every other field.
    pub fn set_status(&self, id: IssueId, status: IssueStatus) -> Result<Issue, TrackerError> {
        let old = self.store.get_issue(id)?;
        let mut draft = IssueDraft::from_issue(&old);
        draft.status = status.as_str().to_owned();
        let valid = draft.validate().map_err(TrackerError::Invalid)?;
        self.apply(&old, valid)
    }

    fn apply(&self, old: &Issue, valid: ValidIssue) -> Result<Issue, TrackerError> {
        match plan_edit(old, valid, self.clock.now()) {
            None => Ok(old.clone()),
            Some(p) => {
                self.store
                    .update_issue(&p.issue, old.updated_at, &p.events, &p.audit)?;
                Ok(p.issue)
            }
        }
    }

    pub fn delete(&self, id: IssueId) -> Result<(), TrackerError> {
        let audit = NewAuditEntry {
            action: AuditAction::IssueDeleted,
            entity_type: "issue",
            entity_id: id.to_string(),
            details: json!({}),
        };
        self.store.delete_issue(id, self.clock.now(), &audit)?;
        Ok(())
    }

    pub fn get(&self, id: IssueId) -> Result<Issue, StoreError> {
        self.store.get_issue(id)
    }

    pub fn list(&self, query: &IssueQuery) -> Result<IssuePage, StoreError> {
        self.store.list_issues(query)
    }

    pub fn stats(&self) -> Result<DashboardStats, StoreError> {
        self.store.dashboard_stats(self.clock.now())
    }

    pub fn timeline(&self, id: IssueId) -> Result<Vec<TimelineEvent>, StoreError> {
        self.store.timeline(id)
    }

    pub fn recent_audit(&self, limit: u32) -> Result<Vec<AuditEntry>, StoreError> {
        self.store.recent_audit(limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Domain, Severity};

    fn ts(ms: i64) -> Timestamp {
        Timestamp::from_unix_millis(ms).expect("ts")
    }

    fn valid() -> ValidIssue {
        IssueDraft {
            title: "API latency".into(),
            severity: "high".into(),
            domain: "k8s".into(),
            ..Default::default()
        }
        .validate()
        .expect("valid")
    }

    #[test]
    fn creating_starts_triage_and_audits() {
        let p = plan_create(valid(), IssueId::new_at(ts(10)), ts(10));
        assert_eq!(p.issue.status, IssueStatus::Open);
        assert_eq!(p.issue.resolved_at, None);
        assert_eq!(p.events.len(), 1);
        assert_eq!(p.events[0].kind, TimelineEventKind::TriageStarted);
        assert_eq!(p.audit.action, AuditAction::IssueCreated);
        assert_eq!(p.audit.entity_id, p.issue.id.to_string());
    }

    #[test]
    fn creating_an_already_resolved_issue_sets_resolved_at() {
        let v = ValidIssue {
            status: IssueStatus::Resolved,
            ..valid()
        };
        let p = plan_create(v, IssueId::new_at(ts(10)), ts(10));
        assert_eq!(p.issue.resolved_at, Some(ts(10)));
    }

    #[test]
    fn resolving_sets_and_reopening_clears_resolved_at() {
        let old = plan_create(valid(), IssueId::new_at(ts(10)), ts(10)).issue;
        let resolved = plan_edit(
            &old,
            ValidIssue {
                status: IssueStatus::Resolved,
                ..valid()
            },
            ts(50),
        )
        .expect("changed");
        assert_eq!(resolved.issue.resolved_at, Some(ts(50)));
        assert_eq!(resolved.events.len(), 1);
        assert_eq!(resolved.events[0].kind, TimelineEventKind::StatusChanged);
        assert_eq!(resolved.audit.details["status"]["to"], "resolved");

        // Closing a resolved issue keeps the original resolution time.
        let closed = plan_edit(
            &resolved.issue,
            ValidIssue {
                status: IssueStatus::Closed,
                ..valid()
            },
            ts(90),
        )
        .expect("changed");
        assert_eq!(closed.issue.resolved_at, Some(ts(50)));

        let reopened = plan_edit(&closed.issue, valid(), ts(120)).expect("changed");
        assert_eq!(reopened.issue.resolved_at, None);
    }

    #[test]
    fn edits_list_changed_fields_and_skip_no_ops() {
        let old = plan_create(valid(), IssueId::new_at(ts(10)), ts(10)).issue;
        assert!(plan_edit(&old, valid(), ts(20)).is_none());
        let v = ValidIssue {
            title: "API latency in eu-west".into(),
            severity: Severity::Critical,
            domain: Domain::Network,
            ..valid()
        };
        let p = plan_edit(&old, v, ts(20)).expect("changed");
        assert_eq!(
            p.audit.details["changed"],
            json!(["title", "severity", "domain"])
        );
        assert_eq!(p.events.len(), 1);
        assert_eq!(p.events[0].kind, TimelineEventKind::IssueUpdated);
        assert_eq!(p.issue.created_at, ts(10));
        assert_eq!(p.issue.updated_at, ts(20));
    }

    #[test]
    fn updated_at_always_moves_forward() {
        let old = plan_create(valid(), IssueId::new_at(ts(10)), ts(10)).issue;
        let v = ValidIssue {
            title: "Renamed".into(),
            ..valid()
        };
        let p = plan_edit(&old, v, ts(10)).expect("changed");
        assert!(p.issue.updated_at > old.updated_at);
    }
}
