//! What a large log costs the triage: the digest's speed and size, and the
//! size of the prompt built from it for a few context sizes.
//!
//! `cargo bench -p tftsr-core --bench triage_prompt`; the realistic corpus
//! (samples and LogHub excerpts) is repeated to `TFTSR_BENCH_MB` megabytes
//! (default 100), with a running counter spliced into each copy so that
//! numbers, ids and times vary as they do in a real log.

use std::time::Instant;

use tftsr_core::triage::{DigestBuilder, LogDigest, PromptInput, Triage, build_prompt};
use tftsr_core::{Domain, Severity};

#[path = "mixed_corpus/mod.rs"]
mod mixed_corpus;

fn main() {
    let mb: usize = std::env::var("TFTSR_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let corpus = mixed_corpus::load_once();
    let target = mb * 1_000_000;
    let mut text = String::with_capacity(target + corpus.len());
    let mut copy = 0u64;
    while text.len() < target {
        copy += 1;
        for line in corpus.lines() {
            text.push_str(line);
            text.push_str(&format!(" seq={copy}\n"));
        }
    }

    let started = Instant::now();
    let mut builder = DigestBuilder::new("big.log");
    for line in text.lines() {
        builder.push_line(line);
    }
    let file = builder.finish();
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "digest: {:.1} MB in {:.2} s = {:.1} MB/s; {} lines, {} templates ({} lines beyond the template cap)",
        text.len() as f64 / 1e6,
        elapsed,
        text.len() as f64 / 1e6 / elapsed,
        file.lines,
        file.templates.len(),
        file.uncounted_lines,
    );
    let digest = LogDigest { files: vec![file] };
    let triage = Triage::new("Checkout returns 500s");
    for context in [8_192u32, 32_000, 128_000, 200_000] {
        let started = Instant::now();
        let built = build_prompt(&PromptInput {
            domain: Domain::Linux,
            severity: Severity::High,
            title: "Checkout returns 500s",
            description: "Errors since 08:00 UTC.",
            digest: &digest,
            triage: &triage,
            history: &[],
            context_tokens: context,
        });
        let bytes: usize = built.messages.iter().map(|m| m.content.len()).sum();
        println!(
            "prompt for a {context}-token context: {bytes} bytes (~{} tokens, {} of them log evidence bytes), reply budget {} tokens, built in {:.1} ms",
            built.estimated_tokens,
            built.evidence_bytes,
            built.reply_tokens,
            started.elapsed().as_secs_f64() * 1e3,
        );
    }
}
