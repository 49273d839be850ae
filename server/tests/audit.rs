//! The audit log on the security page: filters, keyset paging and export,
//! on a real encrypted database and through the router.

mod common;

use std::collections::HashSet;

use axum::body::Body;
use common::web::{HOST, ORIGIN, TOKEN, body_bytes, harness, send};
use common::{TestDb, draft};
use http::{Request, StatusCode, header};
use serde_json::json;
use tftsr_core::Timestamp;
use tftsr_core::audit::{AuditAction, AuditFilterError, AuditQuery, NewAuditEntry};

fn entry(action: AuditAction, entity_type: &'static str, id: &str) -> NewAuditEntry {
    NewAuditEntry {
        action,
        entity_type,
        entity_id: id.to_owned(),
        details: json!({ "sha256": "ab" }),
    }
}

fn at(text: &str) -> Timestamp {
    Timestamp::parse(text).expect("timestamp")
}

fn query(pairs: &[(&str, &str)]) -> AuditQuery {
    AuditQuery::from_pairs(pairs.iter().copied()).expect("valid")
}

#[test]
fn filters_combine_and_dates_are_inclusive() {
    let t = TestDb::new();
    let rows = [
        (AuditAction::AiSend, "issue", "2026-01-01T00:00:00.000Z"),
        (AuditAction::AiSend, "issue", "2026-01-31T23:59:59.999Z"),
        (AuditAction::AiSend, "issue", "2026-02-01T00:00:00.000Z"),
        (AuditAction::AiSend, "log_file", "2026-01-15T12:00:00.000Z"),
        (
            AuditAction::LogUploaded,
            "issue",
            "2026-01-15T12:00:00.000Z",
        ),
    ];
    for (i, (action, entity, ts)) in rows.iter().enumerate() {
        t.db.audit(&entry(*action, entity, &i.to_string()), at(ts))
            .expect("audit");
    }
    let ids = |pairs: &[(&str, &str)]| -> Vec<String> {
        t.db.audit_page(&query(pairs), 50)
            .expect("page")
            .entries
            .into_iter()
            .map(|e| e.entity_id)
            .collect()
    };
    assert_eq!(ids(&[]).len(), 5);
    assert_eq!(
        ids(&[
            ("action", "ai_send"),
            ("entity", "issue"),
            ("from", "2026-01-01"),
            ("to", "2026-01-31")
        ]),
        vec!["1", "0"],
        "newest first; both ends inclusive"
    );
    assert_eq!(ids(&[("entity", "log_file")]), vec!["3"]);
    assert_eq!(
        ids(&[("action", "log_uploaded"), ("to", "2026-01-14")]),
        Vec::<String>::new()
    );
    assert_eq!(ids(&[("from", "2026-02-01")]), vec!["2"]);
    let all =
        t.db.audit_entries(&query(&[("action", "ai_send")]).filter, 1000)
            .expect("export");
    assert_eq!(all.len(), 4);

    assert_eq!(
        AuditQuery::from_pairs([("from", "2026-02-30")]),
        Err(AuditFilterError::BadDate("from"))
    );
}

#[test]
fn paging_is_stable_when_timestamps_are_equal() {
    let t = TestDb::new();
    let same = at("2026-03-01T10:00:00.000Z");
    for i in 0..7 {
        t.db.audit(
            &entry(AuditAction::IssueUpdated, "issue", &format!("e{i}")),
            same,
        )
        .expect("audit");
    }
    t.db.audit(
        &entry(AuditAction::IssueCreated, "issue", "newest"),
        at("2026-03-02T10:00:00.000Z"),
    )
    .expect("audit");

    // Walk older 3 at a time, then back newer: every entry once, in order.
    let mut seen = Vec::new();
    let mut q = AuditQuery::default();
    let first = t.db.audit_page(&q, 3).expect("page");
    assert!(first.newer.is_none(), "the first page has nothing newer");
    let mut page = first;
    loop {
        seen.extend(page.entries.iter().map(|e| e.id.clone()));
        match page.older.clone() {
            Some(id) => {
                q.before = Some(id);
                page = t.db.audit_page(&q, 3).expect("page");
                assert!(page.newer.is_some());
            }
            None => break,
        }
    }
    assert_eq!(seen.len(), 8);
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 8, "no repeats");
    let all: Vec<String> =
        t.db.audit_page(&AuditQuery::default(), 50)
            .expect("all")
            .entries
            .into_iter()
            .map(|e| e.id)
            .collect();
    assert_eq!(seen, all, "pages join up into the full order");

    // From the last page, "Newer" gives back the page before it.
    let q = AuditQuery {
        after: Some(all[6].clone()),
        ..Default::default()
    };
    let back = t.db.audit_page(&q, 3).expect("newer");
    let ids: Vec<String> = back.entries.into_iter().map(|e| e.id).collect();
    assert_eq!(ids, all[3..6].to_vec());
    assert_eq!(back.older.as_deref(), Some(all[5].as_str()));
    assert_eq!(back.newer.as_deref(), Some(all[3].as_str()));
}

fn cookie() -> String {
    format!("{}={TOKEN}", tftsr_server::security::SESSION_COOKIE)
}

fn get(uri: &str) -> Request<Body> {
    Request::get(uri)
        .header(header::HOST, HOST)
        .header(header::COOKIE, cookie())
        .body(Body::empty())
        .expect("request")
}

#[tokio::test]
async fn the_export_is_filtered_escaped_an_attachment_and_needs_the_session() {
    let h = harness();
    h.t.db
        .audit(
            &entry(AuditAction::AiSend, "=HYPERLINK(\"http://x\")", "a,b"),
            at("2026-04-01T00:00:00.000Z"),
        )
        .expect("audit");

    let res = send(&h.app, get("/api/audit/export?format=csv&action=ai_send")).await;
    assert_eq!(res.status(), StatusCode::OK);
    let disposition = res.headers()[header::CONTENT_DISPOSITION]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert_eq!(disposition, "attachment; filename=\"tftsr-audit.csv\"");
    assert!(
        res.headers()[header::CONTENT_TYPE]
            .to_str()
            .expect("ascii")
            .starts_with("text/csv")
    );
    let csv = String::from_utf8(body_bytes(res).await).expect("utf-8");
    let lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 2, "{csv}");
    assert!(
        lines[1].contains(",\"'=HYPERLINK(\"\"http://x\"\")\",\"a,b\","),
        "{}",
        lines[1]
    );
    assert!(!csv.contains("issue_created"), "filtered by action");

    let res = send(&h.app, get("/api/audit/export?format=json")).await;
    assert_eq!(res.status(), StatusCode::OK);
    let json: serde_json::Value = serde_json::from_slice(&body_bytes(res).await).expect("json");
    let actions: Vec<&str> = json
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(
        actions.contains(&"ai_send") && actions.contains(&"issue_created"),
        "{actions:?}"
    );

    let res = send(&h.app, get("/api/audit/export?format=csv&from=2026-99-01")).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(String::from_utf8_lossy(&body_bytes(res).await).contains("2026-01-31"));
    let res = send(&h.app, get("/api/audit/export?format=xml")).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);

    // No session cookie: refused before the handler.
    let res = send(
        &h.app,
        Request::get("/api/audit/export?format=csv")
            .header(header::HOST, HOST)
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    // Another site: refused.
    let res = send(
        &h.app,
        Request::get("/api/audit/export?format=csv")
            .header(header::HOST, HOST)
            .header(header::COOKIE, cookie())
            .header(header::ORIGIN, "http://evil.example")
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_audit_page_server_function_checks_the_filter() {
    let h = harness();
    h.t.tracker
        .create(&draft("Second", "low", "linux"))
        .expect("create");
    let call = |body: &'static str| {
        Request::post("/api/get_audit_page")
            .header(header::HOST, HOST)
            .header(header::ORIGIN, ORIGIN)
            .header(header::COOKIE, cookie())
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json")
            .body(Body::from(body))
            .expect("request")
    };
    let res = send(&h.app, call("params[action]=issue_created")).await;
    assert_eq!(res.status(), StatusCode::OK);
    let page: serde_json::Value = serde_json::from_slice(&body_bytes(res).await).expect("json");
    assert_eq!(page["entries"].as_array().map(Vec::len), Some(2));
    assert!(page["older"].is_null() && page["newer"].is_null());
    let res = send(&h.app, call("params[from]=yesterday")).await;
    assert!(!res.status().is_success());
    assert!(String::from_utf8_lossy(&body_bytes(res).await).contains("2026-01-31"));
}

#[tokio::test]
async fn back_up_now_writes_a_timestamped_encrypted_file_into_backups() {
    let h = harness();
    let call = |endpoint: &str| {
        Request::post(format!("/api/{endpoint}"))
            .header(header::HOST, HOST)
            .header(header::ORIGIN, ORIGIN)
            .header(header::COOKIE, cookie())
            .header(header::ACCEPT, "application/json")
            .body(Body::empty())
            .expect("request")
    };
    let res = send(&h.app, call("backup_now")).await;
    assert_eq!(res.status(), StatusCode::OK);
    let row: serde_json::Value = serde_json::from_slice(&body_bytes(res).await).expect("json");
    let name = row["name"].as_str().expect("name").to_owned();
    assert!(
        name.starts_with("tftsr-") && name.ends_with(".db"),
        "{name}"
    );
    let file = h.t.dir.path().join("backups").join(&name);
    let bytes = std::fs::read(&file).expect("backup file");
    assert_ne!(&bytes[..16], b"SQLite format 3\0");
    let copy =
        tftsr_server::store::Database::open(&file, &common::key()).expect("opens with the key");
    drop(copy);

    let res = send(&h.app, call("list_backups")).await;
    assert_eq!(res.status(), StatusCode::OK);
    let list: serde_json::Value = serde_json::from_slice(&body_bytes(res).await).expect("json");
    assert_eq!(list[0]["name"], name.as_str());
    let audit = h.t.tracker.recent_audit(5).expect("audit");
    assert_eq!(audit[0].action, "db_backup");
}
