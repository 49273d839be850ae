//! The 5-Whys triage end to end on a real encrypted database: logs uploaded
//! through the router, scanned, redacted, then a full triage with the
//! built-in analyst; what a remote provider may and may not receive; and
//! how provider keys are kept.

mod common;

use std::sync::Arc;

use common::web::*;
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
