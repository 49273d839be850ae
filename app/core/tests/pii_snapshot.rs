//! A byte-exact record of the scanner's output on the benchmark corpus
//! and on `testdata/pii/corpus.txt`, for checking that a performance
//! change alters no finding. Not part of the normal run:
//!
//! `TFTSR_PII_SNAPSHOT=/tmp/spans.txt cargo test --release -p tftsr-core
//! --test pii_snapshot -- --ignored` writes the record when the file does
//! not exist and compares against it when it does.

use std::fmt::Write as _;

use tftsr_core::pii::{PiiScanner, ScannerConfig, StreamLimits};

#[path = "../benches/mixed_corpus/mod.rs"]
mod mixed_corpus;

const CORPUS: &str = include_str!("../testdata/pii/corpus.txt");

fn record(out: &mut String, label: &str, text: &str, scanner: &PiiScanner) {
    for span in scanner.scan(text) {
        let _ = writeln!(
            out,
            "{label}\t{:?}\t{}\t{}\t{:?}",
            span.kind, span.start, span.end, span.custom
        );
    }
}

#[test]
#[ignore = "manual: compares against a snapshot file named by TFTSR_PII_SNAPSHOT"]
fn spans_match_snapshot() {
    let Some(path) = std::env::var_os("TFTSR_PII_SNAPSHOT") else {
        return;
    };
    let scanner = PiiScanner::with_defaults().expect("default scanner builds");
    let mut out = String::new();
    let corpus = mixed_corpus::load_once();
    record(&mut out, "mixed", &corpus, &scanner);
    for (index, line) in corpus.lines().enumerate() {
        record(&mut out, &format!("mixed-line-{index}"), line, &scanner);
    }
    let mut stream = scanner.stream(StreamLimits::default());
    for chunk in mixed_corpus::Chunks::new(&corpus, 65_536, corpus.len()) {
        if let Some(segment) = stream.feed(chunk) {
            for span in segment.spans {
                let _ = writeln!(out, "stream\t{span:?}");
            }
        }
    }
    if let Some(segment) = stream.finish() {
        for span in segment.spans {
            let _ = writeln!(out, "stream\t{span:?}");
        }
    }
    record(&mut out, "corpus-file", CORPUS, &scanner);
    let internal = PiiScanner::new(ScannerConfig {
        internal_domains: vec!["acme-corp.com".to_owned(), "example.org".to_owned()],
        ..ScannerConfig::default()
    })
    .expect("scanner with internal domains builds");
    record(&mut out, "internal-mixed", &corpus, &internal);
    record(&mut out, "internal-corpus-file", CORPUS, &internal);
    for (index, line) in CORPUS.lines().enumerate() {
        record(&mut out, &format!("corpus-line-{index}"), line, &scanner);
    }
    match std::fs::read_to_string(&path) {
        Ok(expected) => {
            if expected != out {
                let first = expected.lines().zip(out.lines()).position(|(a, b)| a != b);
                let actual_path = format!("{}.actual", std::path::Path::new(&path).display());
                std::fs::write(&actual_path, &out).expect("write actual");
                panic!(
                    "spans differ (first differing line {first:?}; {} vs {} lines); see {actual_path}",
                    expected.lines().count(),
                    out.lines().count()
                );
            }
        }
        Err(_) => std::fs::write(&path, &out).expect("write snapshot"),
    }
}
