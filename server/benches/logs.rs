//! Log ingestion and review at size, through the real services (encrypted
//! spool, decode, scan, encrypted blob, SQLCipher): prints figures.
//!
//! ```sh
//! cargo bench -p tftsr --bench logs                    # 100 MB of mixed logs
//! TFTSR_BENCH_LOG_MB=20 cargo bench -p tftsr --bench logs
//! ```
//!
//! The text is the sample incident logs and the public loghub logs
//! (`../shared/`), repeated; without them, a synthetic log.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tftsr_app::services::LogService;
use tftsr_app::wire::PageAt;
use tftsr_core::logs::{LogFileId, LogState};
use tftsr_core::{Clock, IssueDraft, IssueTracker};
use tftsr_server::clock::SystemClock;
use tftsr_server::secret::Secret;
use tftsr_server::store::key::KeySource;
use tftsr_server::store::logs::NewLogFile;
use tftsr_server::store::{DB_FILE, Database};

fn corpus() -> Vec<u8> {
    let shared = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared");
    let mut text = Vec::new();
    for dir in ["samples", "loghub"] {
        if let Ok(entries) = std::fs::read_dir(shared.join(dir)) {
            let mut paths: Vec<_> = entries.flatten().map(|e| e.path()).collect();
            paths.sort();
            for p in paths {
                if p.extension().is_some_and(|e| e == "log") {
                    text.extend(std::fs::read(&p).unwrap_or_default());
                }
            }
        }
    }
    if text.is_empty() {
        for n in 0..20_000 {
            text.extend(
                format!(
                    "2026-01-01T00:00:{:02}Z web{} app: user=u{n} from 10.0.{}.{} ok\n",
                    n % 60,
                    n % 7,
                    n % 250,
                    n % 200
                )
                .as_bytes(),
            );
        }
    }
    text
}

fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

fn main() {
    let mb: usize = std::env::var("TFTSR_BENCH_LOG_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let db = Arc::new(
        Database::open(&dir.path().join(DB_FILE), &Secret::new("bench key".into())).expect("db"),
    );
    let parts = tftsr_server::cli::services(db.clone(), KeySource::Env, dir.path(), 4 << 30)
        .expect("services");
    let logs = parts.logs.clone();
    let tracker = IssueTracker::new(db.clone(), Arc::new(SystemClock));
    let issue = tracker
        .create(&IssueDraft {
            title: "bench".into(),
            severity: "high".into(),
            domain: "linux".into(),
            ..Default::default()
        })
        .expect("issue")
        .id;

    let unit = corpus();
    let target = mb * 1024 * 1024;
    println!(
        "log: {mb} MiB from a {:.1} MiB mix of sample and loghub logs, repeated",
        unit.len() as f64 / 1_048_576.0
    );

    // Upload: encrypting spool, as the route does.
    let started = Instant::now();
    let mut spool = logs.blobs().spool().expect("spool");
    let mut written = 0;
    while written < target {
        let take = unit.len().min(target - written);
        spool.write(&unit[..take]).expect("write");
        written += take;
    }
    let spool = spool.finish().expect("finish");
    let upload = started.elapsed();
    let id = LogFileId::new_at(SystemClock.now());
    db.insert_log_file(
        &NewLogFile {
            id,
            issue_id: issue,
            name: "bench.log".into(),
            size_bytes: spool.size,
            mime_type: "text/plain".into(),
            sha256: spool.sha256.clone(),
            compressed: false,
        },
        SystemClock.now(),
    )
    .expect("insert");

    // Scan in the background, as after an upload.
    let started = Instant::now();
    rt.block_on(async {
        logs.spawn_scan(id, spool);
        loop {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let logs = logs.clone();
            let file = tokio::task::spawn_blocking(move || logs.get(id))
                .await
                .expect("join")
                .expect("file");
            if file.state != LogState::Scanning {
                assert_eq!(file.state, LogState::Review, "{:?}", file.error);
                break;
            }
        }
    });
    let scan = started.elapsed();
    let file = logs.get(id).expect("file");
    let mib = file.size_bytes as f64 / 1_048_576.0;
    println!(
        "upload (encrypting spool): {:.0} MiB/s",
        mib / upload.as_secs_f64()
    );
    println!(
        "scan to review (decode, detect, encrypted blob, {} findings into SQLCipher): {:.1} s = {:.1} MiB/s; {} pages, {} lines",
        file.findings.total(),
        scan.as_secs_f64(),
        mib / scan.as_secs_f64(),
        file.page_count,
        file.line_count.unwrap_or(0)
    );

    println!("peak RSS after upload and scan: {:.0} MiB", rss_mib());
    let mut first = Vec::new();
    let mut middle = Vec::new();
    let mut groups = Vec::new();
    for _ in 0..15 {
        let t = Instant::now();
        logs.page(id, PageAt::Page(0)).expect("page");
        first.push(t.elapsed());
        let t = Instant::now();
        logs.page(id, PageAt::Page(file.page_count / 2))
            .expect("page");
        middle.push(t.elapsed());
        let t = Instant::now();
        logs.groups(id).expect("groups");
        groups.push(t.elapsed());
    }
    let t = Instant::now();
    logs.page(id, PageAt::Line(file.line_count.unwrap_or(1) * 3 / 4))
        .expect("page");
    let by_line = t.elapsed();
    println!(
        "viewer page: first {:.1} ms, middle {:.1} ms, by line {:.1} ms (p50 of 15)",
        median(first).as_secs_f64() * 1e3,
        median(middle).as_secs_f64() * 1e3,
        by_line.as_secs_f64() * 1e3
    );
    println!(
        "findings grouped by type and value: {:.0} ms (p50 of 15)",
        median(groups).as_secs_f64() * 1e3
    );

    println!("peak RSS after paging and grouping: {:.0} MiB", rss_mib());
    let t = Instant::now();
    let n = logs
        .decide(
            id,
            tftsr_core::logs::DecisionScope::AllPending,
            tftsr_core::logs::Decision::Approved,
        )
        .expect("decide");
    println!(
        "approve all {n} pending findings: {:.1} s; peak RSS {:.0} MiB",
        t.elapsed().as_secs_f64(),
        rss_mib()
    );
    let t = Instant::now();
    logs.apply(id).expect("apply");
    println!(
        "apply (redacted copy written, encrypted): {:.1} s",
        t.elapsed().as_secs_f64()
    );
    println!("peak RSS after apply: {:.0} MiB", rss_mib());
    let db_size = db.size_on_disk() as f64 / 1_048_576.0;
    println!("database on disk: {db_size:.0} MiB");
}
