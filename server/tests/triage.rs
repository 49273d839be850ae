//! The 5-Whys triage end to end on a real encrypted database: logs uploaded
//! through the router, scanned, redacted, then a full triage with the
//! built-in analyst; what a remote provider may and may not receive; and
//! how provider keys are kept.

mod common;
mod fake_llm;

use std::sync::Arc;

use common::web::*;
use fake_llm::{FakeServer, Reply};
use tftsr_app::AppError;
use tftsr_app::services::{LogService, TriageService};
use tftsr_core::IssueStore;
use tftsr_core::ai::{ProviderDraft, ProviderKind};
use tftsr_core::logs::LogState;

async fn ready_redacted_log(h: &Harness) -> String {
    let (_, report) = upload(h, &[("auth.log", SAMPLE.as_bytes())]).await;
    let id = uploaded_ids(&report)[0];
    let file = scanned(&h.logs, id).await;
    assert_eq!(file.state, LogState::Review);
    blocking(&h.logs, move |l| l.apply(id))
        .await
        .expect("apply");
    id.to_string()
}

async fn say(triage: &Arc<dyn TriageService>, issue: tftsr_core::IssueId, text: &str) {
    let t = triage.clone();
    let text = text.to_owned();
    tokio::task::spawn_blocking(move || t.send(issue, text, None))
        .await
        .expect("join")
        .expect("send");
    triage.wait_idle(issue).await;
}

fn view(
    triage: &Arc<dyn TriageService>,
    issue: tftsr_core::IssueId,
) -> tftsr_app::wire::TriageView {
    triage.view(issue).expect("view")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_triage_with_the_builtin_analyst_resumes_after_a_restart() {
    let h = harness();
    let file = ready_redacted_log(&h).await;
    let triage = h.services.triage.clone();
    let issue = h.issue;

    let fresh = view(&triage, issue);
    assert!(fresh.messages.is_empty());
    assert_eq!(fresh.level, 1);
    assert_eq!(fresh.provider_label, "Built-in analyst");
    assert!(fresh.evidence.iter().any(|e| e.id == file && e.redacted));

    say(&triage, issue, "").await;
    let opened = view(&triage, issue);
    assert_eq!(opened.messages.len(), 1);
    let intro = &opened.messages[0].content;
    assert!(
        intro.contains("built-in analyst") || intro.contains("Built-in analyst"),
        "{intro}"
    );
    assert!(intro.contains("auth.log:"), "cites evidence: {intro}");
    assert!(
        !intro.contains("```triage"),
        "the structured block is not shown"
    );
    assert!(opened.steps.is_empty());

    // The analyst works from the redacted copy: no original value appears.
    let manifest_values = ["203.0.113.", "198.51.100."];
    for _ in 0..3 {
        say(&triage, issue, "yes").await;
    }
    let mid = view(&triage, issue);
    assert_eq!(mid.level, 4, "three whys answered: {:#?}", mid.steps);
    for step in &mid.steps {
        assert!(
            step.evidence.iter().all(|e| e.starts_with("auth.log:")),
            "{step:?}"
        );
        for v in manifest_values {
            assert!(
                !step.answer.contains(v) || step.answer.contains('['),
                "{}",
                step.answer
            );
        }
    }
    say(
        &triage,
        issue,
        "A firewall rule allowing SSH from anywhere was left after the migration.",
    )
    .await;
    say(&triage, issue, "root cause").await;
    let done = view(&triage, issue);
    assert_eq!(done.level, 6);
    assert_eq!(
        done.root_cause.as_deref(),
        Some("A firewall rule allowing SSH from anywhere was left after the migration.")
    );

    // Timeline events were recorded with the steps.
    let events = h.t.db.timeline(issue).expect("timeline");
    let kinds: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "why_level_advanced").count(),
        4,
        "{kinds:?}"
    );
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == "root_cause_identified")
            .count(),
        1
    );

    // A restarted server (new services over the same database) resumes it.
    let again = tftsr_server::cli::services(
        h.t.db.clone(),
        tftsr_server::store::key::KeySource::Env,
        h.t.dir.path(),
        1 << 20,
    )
    .expect("services");
    let resumed = again.services.triage.view(issue).expect("view");
    assert_eq!(resumed.steps, done.steps);
    assert_eq!(resumed.root_cause, done.root_cause);
    assert_eq!(resumed.messages.len(), done.messages.len());

    // Redo from why 2: later steps go, the root cause is open again.
    let t = triage.clone();
    tokio::task::spawn_blocking(move || t.redo_from(issue, 2))
        .await
        .expect("join")
        .expect("redo");
    let redone = view(&triage, issue);
    assert_eq!(redone.steps.len(), 1);
    assert_eq!(redone.level, 2);
    assert!(redone.root_cause.is_none());
    assert_eq!(redone.question, done.steps[1].question);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_with_unreviewed_pii_never_reach_a_remote_provider() {
    let h = harness();
    let triage = h.services.triage.clone();
    let issue = h.issue;
    let t = triage.clone();
    let provider = tokio::task::spawn_blocking(move || {
        t.save_provider(
            None,
            ProviderDraft {
                name: "Local LLM".into(),
                kind: "openai".into(),
                // Nothing listens here: the gate must refuse before any connection.
                base_url: "http://127.0.0.1:9/v1".into(),
                model: "test-model".into(),
                api_key: None,
                context_tokens: String::new(),
            },
        )
    })
    .await
    .expect("join")
    .expect("saved");
    assert_eq!(provider.kind, ProviderKind::OpenAi);
    let t = triage.clone();
    let refused = tokio::task::spawn_blocking(move || {
        t.send(
            issue,
            "The login of jane.doe@example.com from 10.20.30.40 failed".into(),
            Some(provider.id),
        )
    })
    .await
    .expect("join");
    let Err(AppError::Conflict(message)) = refused else {
        panic!("expected a refusal, got {refused:?}");
    };
    assert!(message.contains("EMAIL"), "{message}");
    assert!(
        !message.contains("jane.doe"),
        "the refusal names types, not values"
    );
    // Nothing was stored or audited as sent.
    let v = view(&triage, issue);
    assert!(v.messages.is_empty());
    let audit = h.t.db.recent_audit(50).expect("audit");
    assert!(audit.iter().all(|a| a.action != "ai_send"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_keys_are_write_only_and_validated() {
    let h = harness();
    let triage = h.services.triage.clone();
    let key = "sk-live-very-secret-abcd";
    let t = triage.clone();
    let saved = tokio::task::spawn_blocking(move || {
        t.save_provider(
            None,
            ProviderDraft {
                name: "Claude".into(),
                kind: "anthropic".into(),
                base_url: String::new(),
                model: "claude-x".into(),
                api_key: Some(key.into()),
                context_tokens: String::new(),
            },
        )
    })
    .await
    .expect("join")
    .expect("saved");
    assert_eq!(saved.key_hint.as_deref(), Some("abcd"));
    assert_eq!(saved.base_url, "https://api.anthropic.com");
    let listed = serde_json::to_string(&triage.providers().expect("list")).expect("json");
    assert!(!listed.contains("very-secret"), "{listed}");
    // The stored column is ciphertext.
    let db_text =
        h.t.db
            .providers()
            .expect("rows")
            .into_iter()
            .filter_map(|r| r.api_key_enc)
            .collect::<String>();
    assert!(!db_text.is_empty() && !db_text.contains("very-secret"));
    // The audit entry says a key changed, not what it is.
    let audit = serde_json::to_string(&h.t.db.recent_audit(20).expect("audit")).expect("json");
    assert!(audit.contains("provider_saved") && !audit.contains("very-secret"));

    // Editing without a key keeps it; an Anthropic provider without one is refused.
    let t = triage.clone();
    let id = saved.id;
    let kept = tokio::task::spawn_blocking(move || {
        t.save_provider(
            Some(id),
            ProviderDraft {
                name: "Claude 2".into(),
                kind: "anthropic".into(),
                base_url: String::new(),
                model: "claude-y".into(),
                api_key: None,
                context_tokens: "100000".into(),
            },
        )
    })
    .await
    .expect("join")
    .expect("edited");
    assert_eq!(kept.key_hint.as_deref(), Some("abcd"));
    assert_eq!(kept.context_tokens, 100_000);
    let t = triage.clone();
    let refused = tokio::task::spawn_blocking(move || {
        t.save_provider(
            Some(id),
            ProviderDraft {
                name: "Claude".into(),
                kind: "anthropic".into(),
                base_url: "https://user:pw@example.com".into(),
                model: "m".into(),
                api_key: Some(String::new()),
                context_tokens: String::new(),
            },
        )
    })
    .await
    .expect("join");
    let Err(AppError::Invalid(errors)) = refused else {
        panic!("expected field errors");
    };
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert!(
        fields.contains(&"base_url") && fields.contains(&"api_key"),
        "{fields:?}"
    );

    // The built-in analyst stays and cannot be deleted; deleting the default
    // hands the default back to it.
    let t = triage.clone();
    tokio::task::spawn_blocking(move || t.make_default(id))
        .await
        .expect("join")
        .expect("default");
    let t = triage.clone();
    tokio::task::spawn_blocking(move || t.delete_provider(id))
        .await
        .expect("join")
        .expect("deleted");
    let rest = triage.providers().expect("list");
    assert_eq!(rest.len(), 1);
    assert!(rest[0].kind == ProviderKind::Builtin && rest[0].is_default);
    let builtin = rest[0].id;
    let t = triage.clone();
    assert!(
        tokio::task::spawn_blocking(move || t.delete_provider(builtin))
            .await
            .expect("join")
            .is_err()
    );
}

const SECRETS_SAMPLE: &str =
    include_str!("../../app/core/testdata/samples/09_ci_pipeline_secret_leak.log");

/// An OpenAI-style streamed reply that answers why 1 in the structured form.
fn streamed_answer() -> Reply {
    let block = "```triage\\n{\\\"why\\\": 1, \\\"answer\\\": \\\"Repeated failed logins locked the account.\\\", \\\"evidence\\\": [\\\"auth.log:12\\\"], \\\"next_question\\\": \\\"Why were there so many failed logins?\\\", \\\"root_cause\\\": null}\\n```";
    Reply::sse(&[
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"The lockouts follow a burst \"},\"finish_reason\":null}]}\n\n",
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"of failed logins.\\n\\n\"},\"finish_reason\":null}]}\n\n",
        &format!(
            "data: {{\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"{block}\"}},\"finish_reason\":null}}]}}\n\n"
        ),
        "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":812,\"completion_tokens\":64,\"total_tokens\":876}}\n\ndata: [DONE]\n\n",
    ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_triage_sends_only_redacted_evidence_and_is_audited() {
    let h = harness();
    let (_, report) = upload(
        &h,
        &[
            ("auth.log", SAMPLE.as_bytes()),
            ("ci.log", SECRETS_SAMPLE.as_bytes()),
        ],
    )
    .await;
    for id in uploaded_ids(&report) {
        assert_eq!(scanned(&h.logs, id).await.state, LogState::Review);
        blocking(&h.logs, move |l| l.apply(id))
            .await
            .expect("apply");
    }
    // Every value the engine finds in the originals: none may leave.
    let scanner = h.logs.scanner();
    let mut originals: Vec<String> = Vec::new();
    for text in [SAMPLE, SECRETS_SAMPLE] {
        for span in scanner.scan(text) {
            originals.push(text[span.start..span.end].to_owned());
        }
    }
    originals.sort();
    originals.dedup();
    assert!(originals.len() > 20, "{}", originals.len());

    let fake = FakeServer::start(vec![streamed_answer()]).await;
    let triage = h.services.triage.clone();
    let t = triage.clone();
    let url = fake.url("/v1");
    let provider = tokio::task::spawn_blocking(move || {
        t.save_provider(
            None,
            ProviderDraft {
                name: "Local vLLM".into(),
                kind: "openai".into(),
                base_url: url,
                model: "qwen-test".into(),
                api_key: Some("sk-local-test-key-7777".into()),
                context_tokens: "32000".into(),
            },
        )
    })
    .await
    .expect("join")
    .expect("saved");
    let issue = h.issue;
    let t = triage.clone();
    tokio::task::spawn_blocking(move || {
        t.send(
            issue,
            "It started right after the 02:00 maintenance window.".into(),
            Some(provider.id),
        )
    })
    .await
    .expect("join")
    .expect("send");
    triage.wait_idle(issue).await;

    let requests = fake.requests();
    assert_eq!(requests.len(), 1);
    let sent = &requests[0];
    assert_eq!(sent.uri, "/v1/chat/completions");
    assert_eq!(
        sent.header("authorization"),
        Some("Bearer sk-local-test-key-7777")
    );
    let body = sent.body().to_string();
    assert_eq!(sent.body()["model"], "qwen-test");
    assert_eq!(sent.body()["stream"], true);
    // No temperature: reasoning models refuse anything but their default.
    assert!(sent.body().get("temperature").is_none(), "{body}");
    assert!(
        body.contains("auth.log") && body.contains("ci.log"),
        "both redacted logs are evidence"
    );
    assert!(
        body.contains("[IPV4_"),
        "placeholders stand in for addresses"
    );
    assert!(body.contains("02:00 maintenance window"));
    for value in &originals {
        let escaped = serde_json::to_string(value).expect("json");
        let escaped = &escaped[1..escaped.len() - 1];
        assert!(
            !body.contains(value.as_str()) && !body.contains(escaped),
            "an original value left the machine: {value:?}"
        );
    }

    // The streamed reply was parsed into why 1 and shown without its block.
    let v = view(&triage, issue);
    assert_eq!(v.steps.len(), 1, "{:#?}", v.messages);
    assert_eq!(
        v.steps[0].answer,
        "Repeated failed logins locked the account."
    );
    assert_eq!(v.question, "Why were there so many failed logins?");
    let reply = v.messages.last().expect("reply");
    assert_eq!(
        reply.content,
        "The lockouts follow a burst of failed logins."
    );
    assert_eq!((reply.prompt_tokens, reply.completion_tokens), (812, 64));
    assert_eq!(reply.provider_label, "Local vLLM");

    // One ai_send audit entry with the payload's hash and the files used.
    let audit = h.t.db.recent_audit(50).expect("audit");
    let sends: Vec<_> = audit.iter().filter(|a| a.action == "ai_send").collect();
    assert_eq!(sends.len(), 1);
    let details = &sends[0].details;
    assert_eq!(details["model"], "qwen-test");
    assert_eq!(details["provider"], "openai");
    assert_eq!(details["payload_sha256"].as_str().map(str::len), Some(64));
    assert_eq!(details["log_files"].as_array().map(Vec::len), Some(2));
    assert!(
        !serde_json::to_string(&audit)
            .expect("json")
            .contains("sk-local-test-key")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_provider_gives_a_clear_error_and_keeps_the_conversation() {
    let h = harness();
    let fake = FakeServer::start(vec![Reply::json(
        401,
        serde_json::json!({"error": {"message": "Incorrect API key provided", "type": "invalid_request_error", "code": "invalid_api_key"}}),
    )])
    .await;
    let triage = h.services.triage.clone();
    let t = triage.clone();
    let url = fake.url("/v1");
    let provider = tokio::task::spawn_blocking(move || {
        t.save_provider(
            None,
            ProviderDraft {
                name: "Wrong key".into(),
                kind: "openai".into(),
                base_url: url,
                model: "m".into(),
                api_key: Some("sk-wrong-0000".into()),
                context_tokens: String::new(),
            },
        )
    })
    .await
    .expect("join")
    .expect("saved");
    let issue = h.issue;
    let t = triage.clone();
    tokio::task::spawn_blocking(move || {
        t.send(issue, "Why did it fail?".into(), Some(provider.id))
    })
    .await
    .expect("join")
    .expect("send");
    triage.wait_idle(issue).await;
    let v = view(&triage, issue);
    assert_eq!(v.messages.len(), 2);
    let error = v.messages[1]
        .error
        .as_deref()
        .expect("an error on the reply");
    assert!(error.contains("API key"), "{error}");
    assert!(!error.contains("sk-wrong"), "{error}");
    assert!(v.steps.is_empty());
    assert_eq!(v.pending, None);
}
