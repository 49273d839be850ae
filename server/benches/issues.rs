//! Issue list and search latency at scale, through the real router and
//! server functions, on a real encrypted database.
//!
//! ```text
//! cargo bench -p tftsr --bench issues            # 100,000 issues
//! TFTSR_BENCH_ISSUES=20000 cargo bench -p tftsr --bench issues
//! ```
//!
//! Prints the time to seed, the database size, and p50 / p99 / max latency of
//! `list_issues` (first page, a deep page, filtered) and of full-text searches
//! (rare and common terms, prefixes). Figures, not pass/fail: compare them
//! across changes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use http::{Request, header};
use http_body_util::BodyExt;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tftsr_core::tracker::plan_create;
use tftsr_core::{IssueDraft, IssueId, IssueStore, Timestamp};
use tftsr_server::secret::Secret;
use tftsr_server::security::{Policy, SESSION_COOKIE};
use tftsr_server::store::key::KeySource;
use tftsr_server::store::{DB_FILE, Database};

const SERVICES: &[&str] = &[
    "checkout",
    "payments",
    "search",
    "auth",
    "inventory",
    "billing",
    "gateway",
    "kafka",
    "postgres",
    "redis",
    "ingress",
    "scheduler",
    "ldap",
    "vpn",
    "backup",
    "dns",
];
const SYMPTOMS: &[&str] = &[
    "latency spike",
    "returns 502",
    "crash loop",
    "disk full",
    "replication lag",
    "OOM killed",
    "certificate expired",
    "timeouts",
    "packet loss",
    "high CPU",
    "deadlock",
    "connection refused",
];
const WORDS: &[&str] = &[
    "node", "pod", "cluster", "primary", "replica", "upstream", "queue", "consumer", "shard",
    "volume", "kernel", "driver", "firmware", "switch", "router", "load", "balancer", "cache",
    "index", "lock",
];
const SEVERITIES: &[&str] = &["critical", "high", "medium", "low"];
const DOMAINS: &[&str] = &[
    "linux", "windows", "network", "k8s", "db", "virt", "hw", "obs",
];

fn pick<'a>(rng: &mut StdRng, items: &'a [&'a str]) -> &'a str {
    items[rng.random_range(0..items.len())]
}

fn draft(rng: &mut StdRng, i: usize) -> IssueDraft {
    let description: Vec<&str> = (0..30).map(|_| pick(rng, WORDS)).collect();
    IssueDraft {
        title: format!(
            "{} {} on host-{:05}",
            pick(rng, SERVICES),
            pick(rng, SYMPTOMS),
            i % 10_000
        ),
        description: description.join(" "),
        severity: pick(rng, SEVERITIES).into(),
        status: ["open", "investigating", "resolved", "closed"][rng.random_range(0..4)].into(),
        domain: pick(rng, DOMAINS).into(),
        tags: format!("{},{}", pick(rng, SERVICES), pick(rng, WORDS)),
        ..Default::default()
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("TFTSR_BENCH_ISSUES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    // TFTSR_BENCH_DB_DIR keeps the seeded database between runs (seeding
    // 100,000 issues one transaction each takes minutes).
    let temp = tempfile::tempdir().expect("tempdir");
    let dir = std::env::var_os("TFTSR_BENCH_DB_DIR")
        .map_or_else(|| temp.path().to_owned(), std::path::PathBuf::from);
    std::fs::create_dir_all(&dir).expect("bench dir");
    let key = Secret::new("bench key".into());
    let path = dir.join(DB_FILE);
    let reuse = path.exists();
    let db = Arc::new(Database::open(&path, &key).expect("open"));
    let t0 = 1_700_000_000_000_i64;
    let existing = db
        .dashboard_stats(Timestamp::from_unix_millis(t0).expect("ts"))
        .expect("stats")
        .total as usize;
    if reuse && existing == n {
        println!("reusing {} with {n} issues", path.display());
    } else {
        assert_eq!(
            existing,
            0,
            "{} holds {existing} issues, not {n}; remove it",
            path.display()
        );
        let mut rng = StdRng::seed_from_u64(7);
        let start = Instant::now();
        for i in 0..n {
            let valid = draft(&mut rng, i).validate().expect("valid");
            let now = Timestamp::from_unix_millis(t0 + i as i64 * 60_000).expect("ts");
            let p = plan_create(valid, IssueId::new_at(now), now);
            db.insert_issue(&p.issue, &p.events, &p.audit)
                .expect("insert");
        }
        let seeded = start.elapsed();
        println!(
            "seeded {n} issues in {:.1} s ({:.0} inserts/s, each its own transaction with FTS, timeline and audit rows)",
            seeded.as_secs_f64(),
            n as f64 / seeded.as_secs_f64()
        );
    }
    println!(
        "database {:.1} MiB on disk",
        db.size_on_disk() as f64 / 1_048_576.0
    );

    let blob_dir = tempfile::tempdir().expect("tempdir");
    let services =
        tftsr_server::cli::services(db.clone(), KeySource::Env, blob_dir.path(), 1 << 30)
            .expect("services");
    let options = tftsr_server::web::leptos_options("target/site", ([127, 0, 0, 1], 3000).into());
    let policy = Arc::new(Policy::new(3000, &[], Secret::new("t".into())));
    let app = tftsr_server::web::router(services, options, policy);

    // A cursor deep in the list: the issue created half-way.
    let mid_ms = t0 + (n as i64 / 2) * 60_000;
    let mid = db
        .list_issues(&tftsr_core::IssueQuery {
            cursor: Some(tftsr_core::PageCursor {
                direction: tftsr_core::query::Direction::After,
                created_at: Timestamp::from_unix_millis(mid_ms).expect("ts"),
                id: IssueId::parse("ffffffff-ffff-7fff-bfff-ffffffffffff").expect("id"),
            }),
            ..Default::default()
        })
        .expect("list")
        .items[0]
        .clone();
    let deep_cursor = format!("a{}~{}", mid.created_at.unix_millis(), mid.id);

    let cases: Vec<(&str, String)> = vec![
        ("list: first page", "params[q]=".into()),
        (
            "list: page half-way down",
            format!("params[cursor]={deep_cursor}"),
        ),
        (
            "list: status=open & severity=critical",
            "params[status]=open&params[severity]=critical".into(),
        ),
        (
            "list: domain=hw, page half-way",
            format!("params[domain]=hw&params[cursor]={deep_cursor}"),
        ),
        ("search: common word \"node\"", "params[q]=node".into()),
        ("search: prefix \"repl\"", "params[q]=repl".into()),
        (
            "search: two terms \"postgres lag\"",
            "params[q]=postgres+lag".into(),
        ),
        ("search: rare \"host-04242\"", "params[q]=host-04242".into()),
        ("search: no match \"zzzzqq\"", "params[q]=zzzzqq".into()),
    ];
    let iterations: usize = std::env::var("TFTSR_BENCH_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    println!(
        "\n{:<42} {:>10} {:>10} {:>10}  (list_issues server function, {iterations} calls each)",
        "case", "p50", "p99", "max"
    );
    let mut totals = Vec::new();
    for (name, body) in cases {
        let mut samples = Vec::with_capacity(iterations);
        for i in 0..iterations + 5 {
            let req = Request::post("/api/list_issues")
                .header(header::HOST, "127.0.0.1:3000")
                .header(header::ORIGIN, "http://127.0.0.1:3000")
                .header(header::COOKIE, format!("{SESSION_COOKIE}=t"))
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::ACCEPT, "application/json")
                .body(Body::from(body.clone()))
                .expect("request");
            let t = Instant::now();
            let res = tower::ServiceExt::oneshot(app.clone(), req)
                .await
                .expect("response");
            assert!(res.status().is_success(), "{name}: {}", res.status());
            let bytes = res.into_body().collect().await.expect("body").to_bytes();
            let elapsed = t.elapsed();
            assert!(bytes.len() > 10);
            if i == 0 {
                let page: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
                totals.push(format!(
                    "{} ({}{} matches)",
                    name,
                    page["total"],
                    if page["total_capped"] == true {
                        "+"
                    } else {
                        ""
                    }
                ));
            }
            if i >= 5 {
                samples.push(elapsed); // the first calls warm the caches
            }
        }
        samples.sort();
        println!(
            "{name:<42} {:>10} {:>10} {:>10}",
            ms(percentile(&samples, 0.5)),
            ms(percentile(&samples, 0.99)),
            ms(samples[samples.len() - 1])
        );
    }
    println!("\nresult sizes: {}", totals.join("; "));
}
