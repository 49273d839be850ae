//! Streams about a gigabyte of realistic log text through the PII
//! [`StreamScanner`] in 64 KiB chunks and reports throughput, findings and
//! peak memory — the shape of a large upload scanned on the server.
//!
//! `cargo run --release -p tftsr-core --example scan_stream -- [GB]`
//! (default 1). The text is the mixed corpus of the `pii_scan` bench
//! (shared samples and LogHub excerpts) repeated; only one copy of it is
//! ever held, so the peak RSS shows what the stream itself needs.

use std::time::Instant;

use tftsr_core::pii::{PiiScanner, StreamLimits};

#[path = "../benches/mixed_corpus/mod.rs"]
mod mixed_corpus;

const CHUNK_BYTES: usize = 64 * 1024;

/// Peak resident set size, from `/proc/self/status` (Linux only).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() {
    let gigabytes: f64 = std::env::args()
        .nth(1)
        .and_then(|arg| arg.parse().ok())
        .unwrap_or(1.0);
    let total = (gigabytes * 1e9) as usize;
    let once = mixed_corpus::load_once();
    if once.is_empty() {
        eprintln!(
            "scan_stream: no corpus under {} (set TFTSR_SHARED_DIR)",
            mixed_corpus::shared_dir().display()
        );
        std::process::exit(1);
    }
    let scanner = match PiiScanner::with_defaults() {
        Ok(scanner) => scanner,
        Err(err) => {
            eprintln!("scan_stream: default scanner does not build: {err}");
            std::process::exit(1);
        }
    };
    let mut stream = scanner.stream(StreamLimits::default());
    let (mut findings, mut committed) = (0usize, 0usize);
    let started = Instant::now();
    for chunk in mixed_corpus::Chunks::new(&once, CHUNK_BYTES, total) {
        if let Some(segment) = stream.feed(chunk) {
            findings += segment.spans.len();
            committed += segment.text.len();
        }
    }
    if let Some(segment) = stream.finish() {
        findings += segment.spans.len();
        committed += segment.text.len();
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "scan_stream: {:.2} GB in {seconds:.1} s = {:.1} MB/s, {findings} findings",
        committed as f64 / 1e9,
        committed as f64 / 1e6 / seconds
    );
    match peak_rss_kib() {
        Some(kib) => println!("peak RSS (VmHWM): {:.1} MB", kib as f64 / 1024.0),
        None => println!("peak RSS: unavailable (no /proc/self/status)"),
    }
}
