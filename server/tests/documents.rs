//! RCA and post-mortem documents end to end on a real encrypted database:
//! drafted from a finished triage over a redacted sample log, edited with
//! version checks and history, a section redrafted, exported through the
//! download route and the CLI, and what each step records.

mod common;
mod fake_llm;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::web::*;
use tftsr_app::AppError;
use tftsr_app::services::{DocumentService, LogService, TriageService};
use tftsr_core::IssueStore;
use tftsr_core::doc::{ActionItemDraft, DocumentKind, SectionKind};
use tftsr_core::logs::LogState;
use tftsr_server::security::SESSION_COOKIE;

async fn finished_triage(h: &Harness) {
    let (_, report) = upload(h, &[("auth.log", SAMPLE.as_bytes())]).await;
    let id = uploaded_ids(&report)[0];
    assert_eq!(scanned(&h.logs, id).await.state, LogState::Review);
    blocking(&h.logs, move |l| l.apply(id))
        .await
        .expect("apply");
    let triage: Arc<dyn TriageService> = h.services.triage.clone();
    for text in [
        "",
        "yes",
        "yes",
        "Password logins were open to the internet.",
        "root cause",
    ] {
        let t = triage.clone();
        let issue = h.issue;
        let text = text.to_owned();
        tokio::task::spawn_blocking(move || t.send(issue, text, None))
            .await
            .expect("join")
            .expect("send");
        triage.wait_idle(h.issue).await;
    }
    let view = triage.view(h.issue).expect("view");
    assert!(view.root_cause.is_some(), "the triage reached a root cause");
}

fn docs(h: &Harness) -> Arc<dyn DocumentService> {
    h.services.documents.clone()
}

async fn run<T: Send + 'static>(
    h: &Harness,
    f: impl FnOnce(Arc<dyn DocumentService>) -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    let d = docs(h);
    tokio::task::spawn_blocking(move || f(d))
        .await
        .expect("join")
}

fn action(description: &str, owner: &str, due: &str) -> ActionItemDraft {
    ActionItemDraft {
        description: description.into(),
        owner: owner.into(),
        due: due.into(),
        status: String::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_mortem_is_drafted_from_the_triage_edited_and_restored() {
    let h = harness();
    finished_triage(&h).await;
    let issue = h.issue;
    let item = run(&h, move |d| {
        d.save_action_item(
            issue,
            None,
            action(
                "Disable password SSH logins | everywhere",
                "Dana",
                "2026-12-01",
            ),
        )
    })
    .await
    .expect("action item");
    let bad = run(&h, move |d| {
        d.save_action_item(issue, None, action("", "", "2026-13-40"))
    })
    .await;
    match bad {
        Err(AppError::Invalid(fields)) => {
            let names: Vec<_> = fields.iter().map(|f| f.field.as_str()).collect();
            assert!(
                names.contains(&"description") && names.contains(&"due"),
                "{names:?}"
            );
        }
        other => panic!("expected field errors, got {other:?}"),
    }

    let missing = run(&h, move |d| d.document(issue, DocumentKind::PostMortem)).await;
    assert!(matches!(missing, Err(AppError::NotFound(_))));
    let doc = run(&h, move |d| d.generate(issue, DocumentKind::PostMortem))
        .await
        .expect("drafted");
    assert_eq!(doc.version, 1);
    let md = &doc.content;
    for heading in [
        "## Summary",
        "## Timeline",
        "## The 5 Whys",
        "## Action items",
        "## Lessons learned",
    ] {
        assert!(md.contains(heading), "{heading} missing from:\n{md}");
    }
    assert!(
        md.contains("Password logins were open to the internet."),
        "{md}"
    );
    // The action item's pipe cannot break its table row.
    assert!(
        md.contains("Disable password SSH logins \\| everywhere"),
        "{md}"
    );
    assert!(md.contains("Dana") && md.contains("2026-12-01"));
    // The timeline section lists the triage's events.
    assert!(md.contains("Root cause identified"), "{md}");
    // Evidence quoted from the redacted copy only: the sample's attacker
    // address is replaced by a placeholder.
    for ip in ["108.46.160.153", "132.157.90.2", "142.172.177.164"] {
        assert!(!md.contains(ip), "{ip} leaked into:\n{md}");
    }
    assert_eq!(doc.versions.len(), 1);
    assert_eq!(doc.versions[0].reason, "generated");

    // Two quick edits are one history entry; the version still moves.
    let edited = format!("{md}\nFirst edit.\n");
    let saved = run(&h, {
        let e = edited.clone();
        move |d| d.save(issue, DocumentKind::PostMortem, e, 1)
    })
    .await
    .expect("saved");
    assert_eq!(saved.version, 2);
    let saved = run(&h, {
        let e = format!("{edited}Second edit.\n");
        move |d| d.save(issue, DocumentKind::PostMortem, e, 2)
    })
    .await
    .expect("saved");
    assert_eq!(saved.version, 3);
    // A tab still at version 2 cannot overwrite version 3.
    let stale = run(&h, move |d| {
        d.save(issue, DocumentKind::PostMortem, "# Lost?\n".into(), 2)
    })
    .await;
    assert!(matches!(stale, Err(AppError::Conflict(_))), "{stale:?}");
    // Too big is refused with a reason, and nothing changes.
    let huge = "x".repeat(1024 * 1024 + 1);
    let big = run(&h, move |d| {
        d.save(issue, DocumentKind::PostMortem, huge, 3)
    })
    .await;
    assert!(
        matches!(big, Err(AppError::BadRequest(ref m)) if m.contains("limit")),
        "{big:?}"
    );

    let doc = run(&h, move |d| d.document(issue, DocumentKind::PostMortem))
        .await
        .expect("doc");
    assert_eq!(doc.version, 3);
    assert!(doc.content.ends_with("Second edit.\n"));
    assert_eq!(
        doc.versions
            .iter()
            .map(|v| v.reason.as_str())
            .collect::<Vec<_>>(),
        ["edited", "generated"]
    );

    // Redrafting one section keeps the engineer's text elsewhere.
    let mut mine = doc.content.replace(
        "## Lessons learned",
        "## Lessons learned\n\nOur own lesson.\n\n<!-- -->",
    );
    mine = mine.replace(
        "## Timeline",
        "## Timeline\n\nHand-written timeline note.\n",
    );
    let v = run(&h, {
        let m = mine.clone();
        move |d| d.save(issue, DocumentKind::PostMortem, m, 3)
    })
    .await
    .expect("saved")
    .version;
    let redrafted = run(&h, move |d| {
        d.redraft_section(issue, DocumentKind::PostMortem, SectionKind::Timeline, v)
    })
    .await
    .expect("redrafted");
    assert!(!redrafted.content.contains("Hand-written timeline note."));
    assert!(redrafted.content.contains("Our own lesson."));
    assert!(redrafted.content.contains("Root cause identified"));

    // Restore the first draft.
    let first = redrafted.versions.last().expect("first version").id.clone();
    let restored = run(&h, move |d| {
        d.restore(issue, DocumentKind::PostMortem, &first)
    })
    .await
    .expect("restored");
    assert_eq!(restored.content, *md);
    assert_eq!(restored.versions[0].reason, "restored");

    // The dashboard lists the open item; done items leave it.
    let open = run(&h, |d| d.open_action_items(10)).await.expect("open");
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].item.id, item.id);
    let id = item.id.clone();
    run(&h, move |d| {
        d.save_action_item(
            issue,
            Some(id),
            ActionItemDraft {
                status: "done".into(),
                ..action(
                    "Disable password SSH logins | everywhere",
                    "Dana",
                    "2026-12-01",
                )
            },
        )
    })
    .await
    .expect("done");
    assert!(
        run(&h, |d| d.open_action_items(10))
            .await
            .expect("open")
            .is_empty()
    );

    let timeline = h.t.db.timeline(issue).expect("timeline");
    let kinds: Vec<_> = timeline.iter().map(|e| e.event_type.as_str()).collect();
    assert!(kinds.contains(&"document_generated"), "{kinds:?}");
    assert!(
        kinds.contains(&"action_item_added") && kinds.contains(&"action_item_updated"),
        "{kinds:?}"
    );
    let audit = h.t.db.recent_audit(100).expect("audit");
    let saves = audit
        .iter()
        .filter(|a| a.action == "document_saved")
        .count();
    // generated, the first edit entry (the second folded in), the edit
    // before the redraft is folded too, redrafted, restored.
    assert_eq!(
        saves,
        4,
        "{:?}",
        audit.iter().map(|a| &a.action).collect::<Vec<_>>()
    );

    // The RCA quotes the cited lines, from the redacted copy.
    let rca = run(&h, move |d| d.generate(issue, DocumentKind::Rca))
        .await
        .expect("rca");
    assert!(rca.content.contains("## Evidence"), "{}", rca.content);
    assert!(rca.content.contains("auth.log"), "{}", rca.content);
    assert!(
        rca.content.contains("[IPV4_"),
        "quoted lines are redacted:\n{}",
        rca.content
    );
    for ip in ["108.46.160.153", "132.157.90.2", "142.172.177.164"] {
        assert!(
            !rca.content.contains(ip),
            "{ip} leaked into:\n{}",
            rca.content
        );
    }
}

fn export_request(issue: &str, kind: &str, format: &str) -> Request<Body> {
    Request::get(format!("/api/export/{issue}/{kind}/{format}"))
        .header(header::HOST, HOST)
        .header(header::COOKIE, format!("{SESSION_COOKIE}={TOKEN}"))
        .body(Body::empty())
        .expect("request")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documents_download_in_each_format_and_every_export_is_recorded() {
    let h = harness();
    finished_triage(&h).await;
    let issue = h.issue.to_string();
    for (format, mime, magic) in [
        (
            "markdown",
            "text/markdown; charset=utf-8",
            &b"# Root cause analysis"[..],
        ),
        ("pdf", "application/pdf", &b"%PDF-"[..]),
        (
            "docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            &b"PK\x03\x04"[..],
        ),
    ] {
        let res = send(&h.app, export_request(&issue, "rca", format)).await;
        assert_eq!(res.status(), StatusCode::OK, "{format}");
        assert_eq!(res.headers()[header::CONTENT_TYPE], mime);
        let disposition = res.headers()[header::CONTENT_DISPOSITION]
            .to_str()
            .expect("ascii")
            .to_owned();
        assert!(
            disposition
                .starts_with("attachment; filename=\"root-cause-analysis-brute-force-on-bastion-"),
            "{disposition}"
        );
        let body = body_bytes(res).await;
        assert!(
            body.starts_with(magic),
            "{format} starts with {:?}",
            &body[..8.min(body.len())]
        );
    }
    // The first export drafted the RCA; there is still one document.
    let overview = h.services.documents.overview(h.issue).expect("overview");
    assert_eq!(overview.documents.len(), 1);
    assert_eq!(overview.exports.len(), 3);
    assert!(
        overview
            .exports
            .iter()
            .all(|e| e.destination == "download" && e.sha256.len() == 64)
    );
    let timeline = h.t.db.timeline(h.issue).expect("timeline");
    assert_eq!(
        timeline
            .iter()
            .filter(|e| e.event_type == "document_exported")
            .count(),
        3
    );
    let audit = h.t.db.recent_audit(50).expect("audit");
    let exported: Vec<_> = audit
        .iter()
        .filter(|a| a.action == "document_exported")
        .collect();
    assert_eq!(exported.len(), 3);
    assert!(exported.iter().any(|a| a.details["format"] == "pdf"));

    // Bad names are refused without recording anything.
    for (kind, format) in [("rca", "exe"), ("memo", "pdf")] {
        let res = send(&h.app, export_request(&issue, kind, format)).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    }
    let unknown = tftsr_core::IssueId::new_at(
        tftsr_core::Timestamp::from_unix_millis(1_800_000_000_000).expect("time"),
    )
    .to_string();
    let res = send(&h.app, export_request(&unknown, "rca", "pdf")).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // Without the session, nothing.
    let res = send(
        &h.app,
        Request::get(format!("/api/export/{issue}/rca/pdf"))
            .header(header::HOST, HOST)
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_ne!(res.status(), StatusCode::OK);
    assert_eq!(
        h.services
            .documents
            .overview(h.issue)
            .expect("overview")
            .exports
            .len(),
        3
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_exports_a_post_mortem_to_a_file() {
    let h = harness();
    finished_triage(&h).await;
    let out = h.t.dir.path().join("out").join("pm.docx");
    std::fs::create_dir_all(out.parent().expect("parent")).expect("mkdir");
    let issue = h.issue.to_string();
    let data_dir = h.t.dir.path().to_owned();
    let run = move |args: Vec<String>| {
        std::process::Command::new(env!("CARGO_BIN_EXE_tftsr"))
            .env("RUST_LOG", "off")
            .env("TFTSR_DB_KEY", common::key().expose())
            .env("TFTSR_DATA_DIR", &data_dir)
            .args(args)
            .output()
            .expect("runs")
    };
    let args = vec![
        "export".to_owned(),
        issue.clone(),
        "--doc".into(),
        "postmortem".into(),
        "--format".into(),
        "docx".into(),
        "-o".into(),
        out.display().to_string(),
    ];
    let result = tokio::task::spawn_blocking({
        let run = run.clone();
        move || run(args)
    })
    .await
    .expect("join");
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let bytes = std::fs::read(&out).expect("written");
    assert!(bytes.starts_with(b"PK\x03\x04"));
    let exports = h
        .services
        .documents
        .overview(h.issue)
        .expect("overview")
        .exports;
    assert_eq!(exports.len(), 1);
    assert_eq!(exports[0].destination, "cli");
    assert_eq!(exports[0].kind, DocumentKind::PostMortem);

    let bad = tokio::task::spawn_blocking(move || {
        run(vec![
            "export".into(),
            issue,
            "--format".into(),
            "odt".into(),
        ])
    })
    .await
    .expect("join");
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("choose markdown, pdf or docx"));
}

fn sse_chunk(content: &str) -> String {
    format!(
        "data: {}\n\n",
        serde_json::json!({"choices": [{"index": 0, "delta": {"content": content}, "finish_reason": null}]})
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_section_drafted_by_the_ai_provider_passes_the_gate_and_is_audited() {
    use fake_llm::{FakeServer, Reply};
    let h = harness();
    finished_triage(&h).await;
    let issue = h.issue;
    let doc = run(&h, move |d| d.generate(issue, DocumentKind::PostMortem))
        .await
        .expect("drafted");

    // With only the built-in analyst there is no one to ask.
    let refused = docs(&h)
        .ai_redraft_section(
            issue,
            DocumentKind::PostMortem,
            SectionKind::Impact,
            doc.version,
        )
        .await;
    assert!(
        matches!(refused, Err(AppError::BadRequest(ref m)) if m.contains("built-in analyst")),
        "{refused:?}"
    );

    let first = sse_chunk("```markdown\n## Impact\n\nLogins from [IPV4_1] were locked out");
    let second = sse_chunk(" for 40 minutes.\n```");
    let fake = FakeServer::start(vec![Reply::sse(&[
        first.as_str(),
        second.as_str(),
        "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n",
        "data: [DONE]\n\n",
    ])])
    .await;
    let triage = h.services.triage.clone();
    let provider = triage
        .save_provider(
            None,
            tftsr_core::ai::ProviderDraft {
                name: "Local vLLM".into(),
                kind: "openai".into(),
                base_url: fake.url("/v1"),
                model: "qwen2.5-7b".into(),
                api_key: Some("sk-docs-test-4242".into()),
                context_tokens: String::new(),
            },
        )
        .expect("saved")
        .id;
    triage.make_default(provider).expect("default");

    let drafted = docs(&h)
        .ai_redraft_section(
            issue,
            DocumentKind::PostMortem,
            SectionKind::Impact,
            doc.version,
        )
        .await
        .expect("drafted by the model");
    assert!(
        drafted.content.contains(
            "## Impact\n\nLogins from [IPV4_1] were locked out for 40 minutes.\n\n## Detection"
        ),
        "{}",
        drafted.content
    );
    // The rest is as it was.
    let after_impact =
        |text: &str| text[text.find("## Detection").expect("detection")..].to_owned();
    assert_eq!(after_impact(&drafted.content), after_impact(&doc.content));
    assert_eq!(drafted.versions[0].reason, "redrafted");

    let sent = fake.request(0);
    assert_eq!(
        sent.header("authorization"),
        Some("Bearer sk-docs-test-4242")
    );
    let body = sent.body().to_string();
    assert!(body.contains("Section to write: Impact"), "{body}");
    assert!(body.contains("Password logins were open to the internet."));
    for ip in ["108.46.160.153", "132.157.90.2", "142.172.177.164"] {
        assert!(!body.contains(ip), "{ip} was sent");
    }
    let audit = h.t.db.recent_audit(100).expect("audit");
    let send = audit
        .iter()
        .find(|a| a.action == "ai_send" && a.details["purpose"] == "document_section")
        .expect("the send is audited");
    assert_eq!(send.details["section"], "impact");
    assert_eq!(send.details["model"], "qwen2.5-7b");
    assert!(
        !serde_json::to_string(&audit)
            .expect("json")
            .contains("sk-docs-test")
    );

    // An unreviewed address typed into the document blocks the next send.
    let text = format!(
        "{}\nAsk maria.kovacs@acme-corp.io for access.\n",
        drafted.content
    );
    let version = run(&h, move |d| {
        d.save(issue, DocumentKind::PostMortem, text, drafted.version)
    })
    .await
    .expect("saved")
    .version;
    let blocked = docs(&h)
        .ai_redraft_section(
            issue,
            DocumentKind::PostMortem,
            SectionKind::Summary,
            version,
        )
        .await;
    assert!(
        matches!(blocked, Err(AppError::Conflict(ref m)) if m.contains("EMAIL") && !m.contains("maria")),
        "{blocked:?}"
    );
    assert_eq!(fake.requests().len(), 1, "nothing more was sent");
}
