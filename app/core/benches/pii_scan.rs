//! Throughput of the PII engine on realistic mixed logs, in MB/s:
//!
//! * `scan`     — [`PiiScanner::scan`] over the whole text at once;
//! * `stream`   — a [`StreamScanner`] fed 64 KiB chunks;
//! * `baseline` — one big regex alternation of the plain patterns for the
//!   same types, `Regex::find_iter` over the same text, no validation and
//!   no context checks. It is what a naive redactor costs, and a yardstick
//!   for how much the detectors' evidence checks add.
//!
//! `cargo bench -p tftsr-core --bench pii_scan`; the corpus (samples and
//! LogHub excerpts, see `mixed_corpus`) is repeated to `TFTSR_BENCH_MB`
//! megabytes (default 64), and each figure is the best of
//! `TFTSR_BENCH_RUNS` runs (default 3).

use std::hint::black_box;
use std::time::{Duration, Instant};

use regex::Regex;
use tftsr_core::pii::{PiiScanner, StreamLimits};

#[path = "mixed_corpus/mod.rs"]
mod mixed_corpus;

const CHUNK_BYTES: usize = 64 * 1024;

/// Plain patterns for the types the scanner reports, without validators.
const BASELINE_PATTERNS: &[&str] = &[
    // IPv4
    r"\b(?:[0-9]{1,3}\.){3}[0-9]{1,3}\b",
    // IPv6-ish
    r"\b(?:[0-9A-Fa-f]{1,4}:){2,7}[0-9A-Fa-f]{1,4}\b|::(?:[0-9A-Fa-f]{1,4}:)*[0-9A-Fa-f]{1,4}",
    // e-mail
    r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,24}",
    // phone
    r"\+[1-9][0-9]{0,2}[ .-]?[0-9]{2,4}[ .-]?[0-9]{3,4}[ .-]?[0-9]{3,4}|\(?[2-9][0-9]{2}\)?[ .-][2-9][0-9]{2}[.-][0-9]{4}",
    // SSN
    r"\b[0-9]{3}-[0-9]{2}-[0-9]{4}\b",
    // payment card
    r"\b(?:[0-9][ -]?){13,19}\b",
    // MAC
    r"\b(?:[0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}\b",
    // JWT
    r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*",
    // bearer
    r"(?i)bearer[ \t]+[A-Za-z0-9._~+/=-]{8,}",
    // vendor API key prefixes
    r"(?:AKIA|ASIA)[A-Z0-9]{16}|gh[pousr]_[A-Za-z0-9]{36,}|glpat-[A-Za-z0-9_-]{20,}|xox[abpors]-[A-Za-z0-9-]{10,}|[sr]k_(?:live|test)_[A-Za-z0-9]{16,}|sk-[A-Za-z0-9_-]{20,}|AIza[0-9A-Za-z_-]{35}|npm_[A-Za-z0-9]{36}",
    // password=
    r#"(?i)(?:password|passwd|pwd|secret|token|api_?key)["']?[ \t]*[:=][ \t]*["']?[^\s"',;&]+"#,
    // URL token
    r"(?i)[?&][A-Za-z0-9_.-]*(?:token|sig|signature|key|secret|session|code|auth)=[^&\s]+",
    // URL credentials
    r"[A-Za-z][A-Za-z0-9+.-]{1,20}://[^\s/?#@:]*:[^\s/?#@]*@",
    // PEM header
    r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----",
];

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or(default)
}

/// Runs `work` `runs` times; returns the best time and the last result.
fn best_of(runs: usize, mut work: impl FnMut() -> usize) -> (Duration, usize) {
    let mut best = Duration::MAX;
    let mut result = 0;
    for _ in 0..runs.max(1) {
        let started = Instant::now();
        result = black_box(work());
        best = best.min(started.elapsed());
    }
    (best, result)
}

fn report(name: &str, bytes: usize, (elapsed, findings): (Duration, usize)) {
    let mb = bytes as f64 / 1_000_000.0;
    println!(
        "{name:<9} {:>8.1} MB/s  ({mb:.1} MB in {:.3} s, {findings} findings)",
        mb / elapsed.as_secs_f64(),
        elapsed.as_secs_f64()
    );
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not, and
    // then a quick smoke run is enough.
    let benching = std::env::args().any(|arg| arg == "--bench");
    let megabytes = if benching {
        env_number("TFTSR_BENCH_MB", 64)
    } else {
        1
    };
    let runs = if benching {
        env_number("TFTSR_BENCH_RUNS", 3)
    } else {
        1
    };
    let once = mixed_corpus::load_once();
    if once.is_empty() {
        println!(
            "pii_scan: no corpus under {} (set TFTSR_SHARED_DIR); nothing to measure",
            mixed_corpus::shared_dir().display()
        );
        return;
    }
    let text = mixed_corpus::repeated(&once, megabytes * 1_000_000);
    let scanner = match PiiScanner::with_defaults() {
        Ok(scanner) => scanner,
        Err(err) => {
            eprintln!("pii_scan: default scanner does not build: {err}");
            std::process::exit(1);
        }
    };
    let baseline = match Regex::new(&BASELINE_PATTERNS.join("|")) {
        Ok(regex) => regex,
        Err(err) => {
            eprintln!("pii_scan: baseline regex does not build: {err}");
            std::process::exit(1);
        }
    };
    println!(
        "pii_scan: mixed corpus {} bytes repeated to {:.1} MB, best of {runs}",
        once.len(),
        text.len() as f64 / 1_000_000.0
    );

    report(
        "scan",
        text.len(),
        best_of(runs, || scanner.scan(&text).len()),
    );
    report(
        "stream",
        text.len(),
        best_of(runs, || {
            let mut stream = scanner.stream(StreamLimits::default());
            let mut findings = 0;
            for chunk in mixed_corpus::Chunks::new(&text, CHUNK_BYTES, text.len()) {
                if let Some(segment) = stream.feed(chunk) {
                    findings += segment.spans.len();
                }
            }
            findings + stream.finish().map_or(0, |segment| segment.spans.len())
        }),
    );
    report(
        "baseline",
        text.len(),
        best_of(runs, || baseline.find_iter(&text).count()),
    );
}
