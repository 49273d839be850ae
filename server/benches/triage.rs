//! Time to first streamed token, and what TFTSR adds to it.
//!
//! `cargo bench -p tftsr --bench triage` starts a local OpenAI-compatible
//! server on 127.0.0.1 that streams its first SSE chunk as soon as a request
//! arrives, then measures (median and p95 of `TFTSR_BENCH_RUNS`, default 50):
//!
//! * `raw`      — a plain reqwest POST to the first body chunk: the
//!   provider's own time to first token, as any client sees it;
//! * `provider` — TFTSR's `HttpProvider::chat` to the first `Text` event
//!   (hardened client, request building, SSE decoding);
//! * `engine`   — `TriageService::send` to the moment the request reaches
//!   the server: the triage's own work before anything leaves (database
//!   reads and writes, prompt, the PII gate over every message, the audit
//!   entry).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::response::Response;
use axum::routing::post;
use futures_util::StreamExt;
use tftsr_core::ai::{
    ChatEvent, ChatMessage, ChatProvider, ChatRequest, ProviderDraft, ProviderKind,
};
use tftsr_core::{Clock, IssueDraft, IssueTracker};
use tftsr_server::clock::SystemClock;
use tftsr_server::providers::{ClientConfig, HttpClient, HttpProvider};
use tftsr_server::secret::Secret;
use tftsr_server::store::key::KeySource;
use tftsr_server::store::{DB_FILE, Database};

const FIRST: &str = "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"The\"},\"finish_reason\":null}]}\n\n";
const REST: &str = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\" pool ran dry.\"},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n";

async fn fake(arrivals: Arc<Mutex<Vec<Instant>>>) -> SocketAddr {
    let app = Router::new().route(
        "/v1/chat/completions",
        post(move || {
            let arrivals = arrivals.clone();
            async move {
                arrivals
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(Instant::now());
                let chunks = futures_util::stream::iter([FIRST, REST]).then(|c| async move {
                    if c == REST {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                    Ok::<_, std::io::Error>(c)
                });
                Response::builder()
                    .header("content-type", "text/event-stream")
                    .body(Body::from_stream(chunks))
                    .unwrap_or_default()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

fn stats(label: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let pick = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    println!(
        "{label:>9}: median {:>7.3} ms, p95 {:>7.3} ms ({} runs)",
        pick(0.5).as_secs_f64() * 1e3,
        pick(0.95).as_secs_f64() * 1e3,
        samples.len()
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let runs: usize = std::env::var("TFTSR_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let arrivals = Arc::new(Mutex::new(Vec::new()));
    let addr = fake(arrivals.clone()).await;
    let client = HttpClient::new(ClientConfig::default()).expect("client");
    let body = serde_json::json!({"model": "m", "stream": true, "messages": [{"role": "user", "content": "Why?"}]});

    let raw_client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("reqwest");
    let mut raw = Vec::new();
    for _ in 0..runs {
        let started = Instant::now();
        let res = raw_client
            .post(format!("http://{addr}/v1/chat/completions"))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .expect("send");
        let mut stream = res.bytes_stream();
        let _ = stream.next().await;
        raw.push(started.elapsed());
        while stream.next().await.is_some() {}
    }

    let provider = HttpProvider::with_client(
        client.clone(),
        ProviderKind::OpenAi,
        &format!("http://{addr}/v1"),
        Some("m".into()),
        Some(Secret::new("sk-bench".into())),
    )
    .expect("provider");
    let mut through = Vec::new();
    for _ in 0..runs {
        let request = ChatRequest {
            model: "m".into(),
            messages: vec![ChatMessage::user("Why?")],
            tools: Vec::new(),
            temperature: None,
            max_tokens: None,
        };
        let started = Instant::now();
        let mut stream = provider.chat(request).await.expect("chat");
        while let Some(event) = stream.next().await {
            if matches!(event, Ok(ChatEvent::Text { .. })) {
                through.push(started.elapsed());
                break;
            }
        }
        while stream.next().await.is_some() {}
    }

    // The engine, on a real encrypted database.
    let dir = tempfile::tempdir().expect("tempdir");
    let db = Arc::new(
        Database::open(&dir.path().join(DB_FILE), &Secret::new("bench key".into())).expect("db"),
    );
    let parts = tftsr_server::cli::services(db.clone(), KeySource::Env, dir.path(), 1 << 30)
        .expect("services");
    let tracker = IssueTracker::new(db.clone(), Arc::new(SystemClock));
    let triage = parts.services.triage.clone();
    let url = format!("http://{addr}/v1");
    let t = triage.clone();
    let provider_id = tokio::task::spawn_blocking(move || {
        t.save_provider(
            None,
            ProviderDraft {
                name: "bench".into(),
                kind: "openai".into(),
                base_url: url,
                model: "m".into(),
                api_key: Some("sk-bench".into()),
                context_tokens: String::new(),
            },
        )
    })
    .await
    .expect("join")
    .expect("provider")
    .id;
    let mut engine = Vec::new();
    for n in 0..runs {
        let issue = tracker
            .create(&IssueDraft {
                title: format!("Checkout returns 500s {n}"),
                description: "Errors since the deploy.".into(),
                severity: "high".into(),
                domain: "db".into(),
                ..Default::default()
            })
            .expect("issue")
            .id;
        let before = arrivals.lock().unwrap_or_else(|p| p.into_inner()).len();
        let t = triage.clone();
        let started = Instant::now();
        tokio::task::spawn_blocking(move || {
            t.send(
                issue,
                "It began after the deploy.".into(),
                Some(provider_id),
            )
        })
        .await
        .expect("join")
        .expect("send");
        triage.wait_idle(issue).await;
        let arrived = arrivals.lock().unwrap_or_else(|p| p.into_inner())[before];
        engine.push(arrived.duration_since(started));
    }
    let _ = SystemClock.now();
    stats("raw", raw);
    stats("provider", through);
    stats("engine", engine);
}
