//! Log files end to end through the real router, the encrypted database and
//! the blob store: upload (multipart, streaming), background scan, review,
//! apply, download of the redacted copy — and every way an upload can be
//! wrong.

mod common;

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use tftsr_app::services::LogService;
use tftsr_app::wire::PageAt;
use tftsr_core::IssueId;
use tftsr_core::logs::{
    AcceptedValues, Decision, DecisionScope, LogState, Segment, check_clean_to_send,
};
use tftsr_core::pii::PiiType;
use tftsr_server::security::SESSION_COOKIE;
use tftsr_server::store::key::KeySource;

use common::web::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_scan_review_apply_and_download_the_redacted_copy() {
    let h = harness();
    let (status, report) = upload(&h, &[("../../etc/auth.log", SAMPLE.as_bytes())]).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let id = uploaded_ids(&report)[0];
    assert_eq!(
        report["uploaded"][0]["name"], "auth.log",
        "display name only"
    );

    let file = scanned(&h.logs, id).await;
    assert_eq!(file.state, LogState::Review, "{:?}", file.error);
    assert_eq!(file.text_bytes, Some(SAMPLE.len() as u64));
    assert_eq!(file.line_count, Some(SAMPLE.lines().count() as u64));
    assert!(file.findings.pending > 10, "{:?}", file.findings);

    // The first page shows findings; secrets are masked.
    let page = blocking(&h.logs, move |l| l.page(id, PageAt::Page(0)))
        .await
        .expect("page");
    assert_eq!(page.lines[0].number, 1);
    let finding = page
        .lines
        .iter()
        .flat_map(|l| &l.segments)
        .find_map(|s| match s {
            Segment::Finding { id, kind, .. } if *kind == PiiType::Ipv4 => Some(*id),
            _ => None,
        })
        .expect("an IPv4 finding on page 1");

    // Keep one address (reject every occurrence), redact the rest.
    let groups = blocking(&h.logs, move |l| l.groups(id))
        .await
        .expect("groups");
    assert!(
        groups
            .iter()
            .any(|g| g.kind == PiiType::Ipv4 && g.distinct >= 1)
    );
    let kept = blocking(&h.logs, move |l| {
        l.decide(
            id,
            DecisionScope::SameValue { like: finding },
            Decision::Rejected,
        )
    })
    .await
    .expect("decide");
    assert!(kept >= 1);
    let kept_value = h.t.db.span_value(id, finding).expect("value").1;

    blocking(&h.logs, move |l| l.apply(id))
        .await
        .expect("apply");
    let file = blocking(&h.logs, move |l| l.get(id)).await.expect("file");
    assert_eq!(file.state, LogState::Redacted);
    assert_eq!(file.findings.pending, 0, "pending became approved");

    // Decisions are frozen once applied.
    let late = blocking(&h.logs, move |l| {
        l.decide(id, DecisionScope::AllPending, Decision::Rejected)
    })
    .await;
    assert!(late.is_err());

    let res = send(
        &h.app,
        Request::get(format!("/api/logs/{id}/redacted"))
            .header(header::HOST, HOST)
            .header(header::COOKIE, format!("{SESSION_COOKIE}={TOKEN}"))
            .body(Body::empty())
            .expect("req"),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()[header::CONTENT_DISPOSITION]
            .to_str()
            .expect("ascii")
            .contains("auth.log.redacted.txt")
    );
    let redacted = String::from_utf8(body_bytes(res).await).expect("UTF-8");
    assert!(redacted.contains("[IPV4_"), "placeholders written");
    assert!(redacted.contains(&kept_value), "the kept value stays");
    let scanner = h.logs.scanner();
    for span in scanner.scan(SAMPLE) {
        let value = span.value(SAMPLE).expect("in bounds");
        if value != kept_value && !kept_value.contains(value) {
            assert!(!redacted.contains(value), "{value} leaked");
        }
    }
    // The gate agrees once the kept value is accepted.
    let mut accepted = AcceptedValues::new();
    for (kind, value) in h.t.db.accepted_values(h.issue).expect("accepted") {
        accepted.insert(kind, value);
    }
    assert_eq!(check_clean_to_send(&redacted, &scanner, &accepted), Ok(()));

    // Timeline and audit record the upload and the redaction.
    let timeline = h.t.tracker.timeline(h.issue).expect("timeline");
    assert!(timeline.iter().any(|e| e.event_type == "log_uploaded"));
    assert!(timeline.iter().any(|e| e.event_type == "log_redacted"));
    let audit = tftsr_core::IssueStore::recent_audit(&*h.t.db, 50).expect("audit");
    assert!(audit.iter().any(|a| a.action == "log_uploaded"));
    assert!(audit.iter().any(|a| a.action == "log_redacted"));
    assert!(
        !serde_json::to_string(&audit)
            .expect("json")
            .contains(&kept_value),
        "the audit log holds hashes and ids, never values"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_content_is_stored_once_and_nothing_is_in_clear_on_disk() {
    let h = harness();
    let (_, a) = upload(&h, &[("a.log", SAMPLE.as_bytes())]).await;
    let (_, b) = upload(&h, &[("b.log", SAMPLE.as_bytes())]).await;
    let (a, b) = (uploaded_ids(&a)[0], uploaded_ids(&b)[0]);
    let fa = scanned(&h.logs, a).await;
    let fb = scanned(&h.logs, b).await;
    assert_eq!(fa.sha256, fb.sha256);
    assert_eq!(fa.findings.total(), fb.findings.total());

    let mut blobs = Vec::new();
    let mut stack = vec![h.t.dir.path().join("blobs")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("dir").flatten() {
            if e.path().is_dir() {
                stack.push(e.path());
            } else {
                blobs.push(e.path());
            }
        }
    }
    assert_eq!(
        blobs.len(),
        1,
        "one blob for two identical uploads: {blobs:?}"
    );
    let needle = b"Failed password";
    let mut files = blobs.clone();
    files.push(h.t.path());
    for path in files {
        let bytes = std::fs::read(&path).expect("read");
        assert!(
            !bytes.windows(needle.len()).any(|w| w == needle),
            "{} holds log text in clear",
            path.display()
        );
    }

    // Deleting one keeps the shared blob; deleting both removes it.
    blocking(&h.logs, move |l| l.delete(a))
        .await
        .expect("delete");
    assert!(blobs[0].exists());
    blocking(&h.logs, move |l| l.delete(b))
        .await
        .expect("delete");
    assert!(!blobs[0].exists(), "unused blob collected");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_utf16_and_latin1_uploads_are_decoded() {
    let h = harness();
    let text = "Jan 1 web1 app: login by José <jose@example.org> from 198.51.100.23\n";
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    let latin1: Vec<u8> = text
        .chars()
        .map(|c| u8::try_from(u32::from(c)).expect("latin-1"))
        .collect();
    let (status, report) = upload(
        &h,
        &[
            ("plain.log.gz", &gzip(text.as_bytes())),
            ("windows.log", &utf16),
            ("latin1.log", &latin1),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    for id in uploaded_ids(&report) {
        let file = scanned(&h.logs, id).await;
        assert_eq!(file.state, LogState::Review, "{:?}", file.error);
        let page = blocking(&h.logs, move |l| l.page(id, PageAt::Page(0)))
            .await
            .expect("page");
        let line: String = page.lines[0]
            .segments
            .iter()
            .map(|s| match s {
                Segment::Text(t) => t.clone(),
                Segment::Finding { display, .. } => display.clone(),
            })
            .collect();
        assert_eq!(format!("{line}\n"), text, "{}", file.name);
        assert!(file.findings.total() >= 2, "{}", file.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_oversized_and_misaddressed_uploads_are_refused_clearly() {
    let h = harness_with_limit(64 * 1024);
    let (status, report) = upload(
        &h,
        &[
            ("photo.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
            ("ok.log", b"hello from 10.0.0.1\n"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "the good file still lands");
    assert_eq!(uploaded_ids(&report).len(), 1);
    assert!(
        report["refused"][0]["message"]
            .as_str()
            .expect("message")
            .contains("image"),
        "{report}"
    );

    let big = vec![b'a'; 200 * 1024];
    let res = send(
        &h.app,
        upload_request(&h.issue.to_string(), multipart(&[("big.log", &big)]), true),
    )
    .await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body = String::from_utf8(body_bytes(res).await).expect("utf-8");
    assert!(body.contains("64 KiB"), "{body}");

    let missing = IssueId::new_at(tftsr_core::Timestamp::from_unix_millis(1).expect("ts"));
    let res = send(
        &h.app,
        upload_request(
            &missing.to_string(),
            multipart(&[("a.log", b"text\n")]),
            true,
        ),
    )
    .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    // Without JavaScript the form gets a redirect back with the message.
    let res = send(
        &h.app,
        upload_request(
            &h.issue.to_string(),
            multipart(&[("x.zip", b"PK\x03\x04zipdata")]),
            false,
        ),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let location = res.headers()[header::LOCATION].to_str().expect("ascii");
    assert!(location.starts_with(&format!("/issues/{}?uploaded=0&upload_error=", h.issue)));

    // Nothing refused was recorded; no spool was left behind.
    let files = blocking(&h.logs, {
        let issue = h.issue;
        move |l| l.list(issue)
    })
    .await
    .expect("list");
    assert_eq!(files.len(), 1);
    let _ = scanned(&h.logs, files[0].id).await;
    // The spool of the scanned file goes once its task ends.
    let mut tmp = usize::MAX;
    for _ in 0..100 {
        tmp = std::fs::read_dir(h.t.dir.path().join("blobs/tmp"))
            .expect("tmp")
            .count();
        if tmp == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(tmp, 0, "refused uploads leave no spool");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gzip_with_binary_inside_fails_with_a_reason() {
    let h = harness();
    let (_, report) = upload(&h, &[("core.gz", &gzip(b"\x7fELF\x02\x01\x01\0\0\0\0"))]).await;
    let id = uploaded_ids(&report)[0];
    let file = scanned(&h.logs, id).await;
    assert_eq!(file.state, LogState::Failed);
    assert!(
        file.error.as_deref().unwrap_or("").contains("program"),
        "{:?}",
        file.error
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manual_redactions_and_allowlisting_from_a_finding() {
    let h = harness();
    let text = "ticket INC-4242 opened by opsbot\nagain INC-4242 from 203.0.113.5\n\
                and 203.0.113.5 once more\n";
    let (_, report) = upload(&h, &[("t.log", text.as_bytes())]).await;
    let id = uploaded_ids(&report)[0];
    scanned(&h.logs, id).await;

    let n = blocking(&h.logs, move |l| {
        l.add_manual(id, PiiType::Username, "INC-4242")
    })
    .await
    .expect("manual");
    assert_eq!(n, 2, "both occurrences");
    let again = blocking(&h.logs, move |l| {
        l.add_manual(id, PiiType::Username, "INC-4242")
    })
    .await
    .expect("manual");
    assert_eq!(again, 0, "already redacted occurrences are not added twice");
    assert!(
        blocking(&h.logs, move |l| l.add_manual(id, PiiType::Username, "  "))
            .await
            .is_err()
    );

    let page = blocking(&h.logs, move |l| l.page(id, PageAt::Line(2)))
        .await
        .expect("page");
    let ip_finding = page.lines[1]
        .segments
        .iter()
        .find_map(|s| match s {
            Segment::Finding { id, kind, .. } if *kind == PiiType::Ipv4 => Some(*id),
            _ => None,
        })
        .expect("the address is a finding");
    assert!(
        page.lines[0]
            .redacted
            .as_deref()
            .unwrap_or("")
            .contains("[USERNAME_"),
        "{:?}",
        page.lines[0]
    );
    let kept = blocking(&h.logs, move |l| l.allow_value(id, ip_finding))
        .await
        .expect("allow");
    assert_eq!(kept, 2);
    assert!(
        h.logs
            .scanner()
            .config()
            .allowlist
            .values
            .contains(&"203.0.113.5".to_owned())
    );
    assert!(h.logs.scanner().scan("from 203.0.113.5").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pii_settings_are_validated_saved_audited_and_used() {
    use tftsr_core::logs::PiiSettingsText;
    let h = harness();
    let bad = PiiSettingsText {
        custom_patterns: "ticket | USERNAME | INC-(".into(),
        ..Default::default()
    };
    let err = blocking(&h.logs, move |l| l.save_pii_settings(bad))
        .await
        .expect_err("a regex that does not compile is refused");
    assert!(err.to_string().contains("ticket"), "{err}");

    let good = PiiSettingsText {
        allow_values: "203.0.113.9".into(),
        custom_patterns: "ticket | USERNAME | INC-[0-9]{4}".into(),
        ..Default::default()
    };
    blocking(&h.logs, move |l| l.save_pii_settings(good))
        .await
        .expect("saved");
    let shown = blocking(&h.logs, |l| l.pii_settings()).await.expect("read");
    assert_eq!(shown.custom_patterns, "ticket | USERNAME | INC-[0-9]{4}");

    let (_, report) = upload(
        &h,
        &[("t.log", b"INC-1234 from 203.0.113.9 and 198.51.100.7\n")],
    )
    .await;
    let id = uploaded_ids(&report)[0];
    scanned(&h.logs, id).await;
    let groups = blocking(&h.logs, move |l| l.groups(id))
        .await
        .expect("groups");
    let values: Vec<(PiiType, String)> = groups
        .iter()
        .flat_map(|g| g.values.iter().map(|v| (v.kind, v.display.clone())))
        .collect();
    assert!(
        values.contains(&(PiiType::Username, "INC-1234".into())),
        "{values:?}"
    );
    assert!(values.contains(&(PiiType::Ipv4, "198.51.100.7".into())));
    assert!(
        !values.iter().any(|(_, v)| v == "203.0.113.9"),
        "allowlisted"
    );

    // The settings survive a restart (they live in the encrypted database).
    let again =
        tftsr_server::cli::services(h.t.db.clone(), KeySource::Env, h.t.dir.path(), 1 << 20)
            .expect("services");
    assert_eq!(
        again.logs.scanner().config().custom_patterns.len(),
        1,
        "reloaded from the database"
    );
    let audit = tftsr_core::IssueStore::recent_audit(&*h.t.db, 50).expect("audit");
    assert!(audit.iter().any(|a| a.action == "pii_settings_changed"));
}
