//! The encrypted store, on a real SQLCipher database in a temp directory.

mod common;

use std::collections::HashSet;

use common::{TestDb, draft, key};
use rusqlite::Connection;
use tftsr_core::query::HIGHLIGHT_OPEN;
use tftsr_core::{
    IssueFilter, IssueQuery, IssueStatus, IssueStore, Severity, StoreErrorKind, TimelineEventKind,
    TrackerError,
};
use tftsr_server::secret::Secret;
use tftsr_server::store::migrate::{MIGRATIONS, MigrationError, MigrationState};
use tftsr_server::store::{Database, OpenError};

fn search(t: &TestDb, text: &str) -> Vec<String> {
    let q = IssueQuery {
        filter: IssueFilter {
            text: Some(text.into()),
            ..Default::default()
        },
        ..Default::default()
    };
    t.tracker
        .list(&q)
        .expect("list")
        .items
        .into_iter()
        .map(|i| i.title)
        .collect()
}

fn audit_actions(t: &TestDb) -> Vec<String> {
    t.tracker
        .recent_audit(100)
        .expect("audit")
        .into_iter()
        .map(|a| a.action)
        .collect()
}

#[test]
fn migrations_apply_on_a_fresh_database_and_only_once() {
    let t = TestDb::new();
    let status = t.db.migration_status().expect("status");
    assert_eq!(status.len(), MIGRATIONS.len());
    assert!(
        status
            .iter()
            .all(|m| matches!(m.state, MigrationState::Applied { .. }))
    );
    drop(t.db);
    // Reopening applies nothing and keeps the data.
    let db = Database::open(&t.dir.path().join("tftsr.db"), &key()).expect("reopen");
    assert!(
        db.migration_status()
            .expect("status")
            .iter()
            .all(|m| matches!(m.state, MigrationState::Applied { .. }))
    );
}

#[test]
fn reopening_with_the_right_key_keeps_data_and_a_wrong_key_fails_cleanly() {
    let t = TestDb::new();
    let issue = t
        .tracker
        .create(&draft("Disk full", "high", "linux"))
        .expect("create");
    let path = t.path();
    drop(t.tracker);
    drop(t.db);
    let before = std::fs::read(&path).expect("read");

    let wrong = Database::open(&path, &Secret::new("not the key".into()));
    assert!(
        matches!(wrong, Err(OpenError::WrongKey(_))),
        "got {wrong:?}"
    );
    let message = wrong.expect_err("wrong key").to_string();
    assert!(message.contains("key is wrong"), "{message}");
    assert!(
        !message.contains("not the key"),
        "the key must not appear in errors"
    );
    assert_eq!(
        std::fs::read(&path).expect("read"),
        before,
        "a failed open must not touch the file"
    );

    let db = Database::open(&path, &key()).expect("right key");
    assert_eq!(db.get_issue(issue.id).expect("get").title, "Disk full");
}

#[test]
fn the_file_on_disk_is_encrypted() {
    let t = TestDb::new();
    let marker = "ZebraQuokka7741 checkout outage";
    t.tracker
        .create(&draft(marker, "critical", "network"))
        .expect("create");
    // Force everything from the WAL into the main file, then look at both.
    t.db.set_setting(
        "probe",
        "1",
        tftsr_core::Timestamp::from_unix_millis(0).expect("ts"),
    )
    .expect("write");
    drop(t.tracker);
    drop(t.db);
    let dir = t.dir.path();
    let main = std::fs::read(dir.join("tftsr.db")).expect("read db");
    assert!(
        !main.starts_with(b"SQLite format 3"),
        "the header must be encrypted"
    );
    for name in ["tftsr.db", "tftsr.db-wal"] {
        if let Ok(bytes) = std::fs::read(dir.join(name)) {
            let text = String::from_utf8_lossy(&bytes);
            assert!(
                !text.contains("ZebraQuokka7741"),
                "{name} holds row text in plaintext"
            );
        }
    }
    // A plain SQLite connection can't read it.
    let plain = Connection::open(dir.join("tftsr.db")).expect("open plain");
    assert!(
        plain
            .query_row("SELECT count(*) FROM sqlite_master", [], |r| r
                .get::<_, i64>(0))
            .is_err()
    );
}

#[test]
fn an_edited_applied_migration_is_an_error_at_open() {
    let t = TestDb::new();
    let path = t.path();
    drop(t.tracker);
    drop(t.db);
    {
        let conn = Connection::open(&path).expect("open");
        conn.pragma_update(None, "key", key().expose())
            .expect("key");
        conn.execute(
            "UPDATE _migrations SET checksum = 'deadbeef' WHERE name = ?1",
            [MIGRATIONS[0].name],
        )
        .expect("tamper");
    }
    let err = Database::open(&path, &key()).expect_err("must refuse");
    assert!(
        matches!(err, OpenError::Migration(MigrationError::Modified { .. })),
        "got {err:?}"
    );
    assert!(err.to_string().contains("changed after it was applied"));
}

#[test]
fn crud_writes_timeline_and_audit() {
    let t = TestDb::new();
    let created = t
        .tracker
        .create(&draft("Pods crash-looping", "high", "k8s"))
        .expect("create");
    assert_eq!(created.status, IssueStatus::Open);

    let mut edit = draft("Pods crash-looping in payments", "critical", "k8s");
    edit.status = "resolved".into();
    let updated = t
        .tracker
        .update(created.id, &edit, created.updated_at)
        .expect("update");
    assert_eq!(updated.status, IssueStatus::Resolved);
    assert!(updated.resolved_at.is_some());
    assert_eq!(t.tracker.get(created.id).expect("get"), updated);

    let kinds: Vec<_> = t
        .tracker
        .timeline(created.id)
        .expect("timeline")
        .iter()
        .filter_map(|e| e.kind())
        .collect();
    assert_eq!(
        kinds,
        vec![
            TimelineEventKind::TriageStarted,
            TimelineEventKind::StatusChanged,
            TimelineEventKind::IssueUpdated
        ]
    );

    // A stale edit is refused, not applied.
    let stale = t.tracker.update(
        created.id,
        &draft("Overwritten", "low", "k8s"),
        created.updated_at,
    );
    assert!(
        matches!(stale, Err(TrackerError::Store(ref e)) if e.kind() == StoreErrorKind::Conflict),
        "{stale:?}"
    );
    assert_eq!(
        t.tracker.get(created.id).expect("get").title,
        "Pods crash-looping in payments"
    );

    t.tracker.delete(created.id).expect("delete");
    let gone = t.tracker.get(created.id).expect_err("deleted");
    assert_eq!(gone.kind(), StoreErrorKind::NotFound);
    assert!(
        t.tracker.timeline(created.id).expect("timeline").is_empty(),
        "timeline cascades"
    );
    assert!(
        matches!(t.tracker.delete(created.id), Err(TrackerError::Store(ref e)) if e.kind() == StoreErrorKind::NotFound)
    );

    assert_eq!(
        audit_actions(&t),
        vec!["issue_deleted", "issue_updated", "issue_created"]
    );
    let entries = t.tracker.recent_audit(10).expect("audit");
    assert!(
        entries
            .iter()
            .all(|e| e.entity_id == created.id.to_string())
    );
    assert_eq!(entries[1].details["status"]["to"], "resolved");
}

#[test]
fn invalid_input_writes_nothing() {
    let t = TestDb::new();
    let bad = draft("", "urgent", "mainframe");
    assert!(matches!(t.tracker.create(&bad), Err(TrackerError::Invalid(ref e)) if e.len() == 3));
    assert_eq!(t.tracker.stats().expect("stats").total, 0);
    assert!(audit_actions(&t).is_empty());
}

#[test]
fn the_database_enforces_its_enumerations() {
    let t = TestDb::new();
    let issue = t
        .tracker
        .create(&draft("Valid", "low", "hw"))
        .expect("create");
    drop(t.tracker);
    drop(t.db);
    let conn = Connection::open(t.dir.path().join("tftsr.db")).expect("open");
    conn.pragma_update(None, "key", key().expose())
        .expect("key");
    for sql in [
        "UPDATE issues SET severity = 'urgent' WHERE id = ?1",
        "UPDATE issues SET status = 'done' WHERE id = ?1",
        "UPDATE issues SET domain = 'mainframe' WHERE id = ?1",
        "UPDATE issues SET status = 'resolved' WHERE id = ?1", // resolved needs resolved_at
        "UPDATE issues SET tags = 'not json' WHERE id = ?1",
    ] {
        assert!(
            conn.execute(sql, [issue.id.to_string()]).is_err(),
            "{sql} must violate a constraint"
        );
    }
    assert!(
        conn.execute("UPDATE audit_log SET action = 'x'", [])
            .is_err(),
        "audit log is append-only"
    );
}

#[test]
fn full_text_search_follows_create_update_and_delete() {
    let t = TestDb::new();
    let a = t
        .tracker
        .create(&draft("Postgres replication lag", "high", "db"))
        .expect("a");
    t.tracker
        .create(&draft("Nginx 502 on checkout", "critical", "network"))
        .expect("b");

    assert_eq!(
        search(&t, "replic"),
        vec!["Postgres replication lag"],
        "prefix match"
    );
    assert_eq!(
        search(&t, "POSTGRES lag"),
        vec!["Postgres replication lag"],
        "case-insensitive AND"
    );
    assert!(search(&t, "postgres nginx").is_empty());
    assert_eq!(search(&t, "prod").len(), 2, "tags are searchable");
    assert!(
        search(&t, "\"(* OR").is_empty(),
        "operators are plain text, not errors"
    );

    let page = t
        .tracker
        .list(&IssueQuery {
            filter: IssueFilter {
                text: Some("replication".into()),
                ..Default::default()
            },
            ..Default::default()
        })
        .expect("list");
    let snippet = page.items[0].snippet.clone().expect("snippet");
    assert!(
        snippet.contains(&format!("{HIGHLIGHT_OPEN}replication")),
        "{snippet:?}"
    );

    let mut edit = draft("MySQL failover stuck", "high", "db");
    edit.description = "Failover".into();
    t.tracker.update(a.id, &edit, a.updated_at).expect("update");
    assert!(
        search(&t, "replication").is_empty(),
        "old text leaves the index"
    );
    assert_eq!(search(&t, "failover"), vec!["MySQL failover stuck"]);

    t.tracker.delete(a.id).expect("delete");
    assert!(
        search(&t, "failover").is_empty(),
        "deleted issues leave the index"
    );
}

#[test]
fn filters_and_cursor_pagination_walk_every_issue_once() {
    let t = TestDb::new();
    for i in 0..53 {
        let sev = if i % 2 == 0 { "high" } else { "low" };
        t.tracker
            .create(&draft(&format!("Issue {i:02}"), sev, "linux"))
            .expect("create");
    }
    let mut seen = Vec::new();
    let mut query = IssueQuery {
        limit: 10,
        ..Default::default()
    };
    let mut pages = Vec::new();
    loop {
        let page = t.tracker.list(&query).expect("list");
        assert_eq!(page.total, 53);
        seen.extend(page.items.iter().map(|i| i.title.clone()));
        pages.push(page.clone());
        match page.next {
            Some(c) => query.cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(pages.len(), 6);
    let expected: Vec<String> = (0..53).rev().map(|i| format!("Issue {i:02}")).collect();
    assert_eq!(seen, expected, "newest first, no gaps, no repeats");
    assert!(pages[0].prev.is_none());

    // Walking back from the last page gives the same pages.
    let mut query = IssueQuery {
        limit: 10,
        cursor: pages[5].prev,
        ..Default::default()
    };
    for expected in pages[..5].iter().rev() {
        let page = t.tracker.list(&query).expect("list");
        assert_eq!(page.items, expected.items);
        query.cursor = page.prev;
    }
    assert!(
        query.cursor.is_none(),
        "the first page has no previous page"
    );

    let high = IssueQuery {
        filter: IssueFilter {
            severity: Some(Severity::High),
            ..Default::default()
        },
        limit: 100,
        ..Default::default()
    };
    let page = t.tracker.list(&high).expect("list");
    assert_eq!(page.total, 27);
    assert!(page.items.iter().all(|i| i.severity == Severity::High));
    let unique: HashSet<_> = page.items.iter().map(|i| i.id).collect();
    assert_eq!(unique.len(), 27);
}

#[test]
fn dashboard_stats_count_what_they_say() {
    let t = TestDb::new();
    let a = t
        .tracker
        .create(&draft("A", "critical", "linux"))
        .expect("a");
    t.tracker
        .create(&draft("B", "critical", "linux"))
        .expect("b");
    t.tracker.create(&draft("C", "low", "linux")).expect("c");
    let d = t.tracker.create(&draft("D", "medium", "linux")).expect("d");
    t.tracker
        .set_status(d.id, IssueStatus::Investigating)
        .expect("investigate");
    t.tracker
        .set_status(a.id, IssueStatus::Resolved)
        .expect("resolve");

    let s = t.tracker.stats().expect("stats");
    assert_eq!(s.total, 4);
    assert_eq!(s.open_with(Severity::Critical), 1);
    assert_eq!(s.open_with(Severity::Low), 1);
    assert_eq!(s.open_with(Severity::Medium), 0);
    assert_eq!(s.investigating, 1);
    assert_eq!(s.resolved_this_week, 1);
    // The step clock advances one second per reading: A was created at t0
    // and resolved at t5 (B, C, D and D's status change read t1..t4).
    let mttr = s.mean_time_to_resolve_secs.expect("mttr");
    assert!((mttr - 5.0).abs() < 0.01, "mttr {mttr}");
}

#[test]
fn hostile_search_text_never_fails() {
    let t = TestDb::new();
    t.tracker
        .create(&draft("Plain issue", "low", "linux"))
        .expect("create");
    for text in [
        "\"",
        "*",
        "NEAR(a b)",
        "a OR b",
        "-a",
        "title:x",
        "^x",
        "(((",
        "'; DROP TABLE issues; --",
        "\u{0}",
        "\u{E000}mark\u{E001}",
        "日本語 検索",
        "é",
        &"x".repeat(10_000),
        "   ",
        "a\"b*c",
    ] {
        let q = IssueQuery {
            filter: IssueFilter {
                text: Some(text.into()),
                ..Default::default()
            },
            ..Default::default()
        };
        assert!(t.tracker.list(&q).is_ok(), "search for {text:?} failed");
    }
    assert_eq!(
        t.tracker.stats().expect("stats").total,
        1,
        "nothing was dropped"
    );
}
