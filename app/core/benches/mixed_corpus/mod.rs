//! The realistic mixed log corpus the PII benchmarks and the streaming
//! example run on: the shared incident samples (the files named by
//! `shared/samples/pii_manifest.json`) followed by the LogHub `*_2k.log`
//! excerpts, one after the other.
//!
//! Shared by `benches/pii_scan.rs` and `examples/scan_stream.rs` through a
//! `#[path]` module, so both measure the same text.

// Each user takes what it needs.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// `shared/` next to the workspace, unless `TFTSR_SHARED_DIR` says
/// otherwise.
pub fn shared_dir() -> PathBuf {
    std::env::var_os("TFTSR_SHARED_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
        PathBuf::from,
    )
}

/// The corpus once, each file ending with a line break. Missing files are
/// skipped; an empty result means no corpus was found.
pub fn load_once() -> String {
    let shared = shared_dir();
    let mut files: Vec<PathBuf> = Vec::new();
    let samples = shared.join("samples");
    let manifest = std::fs::read_to_string(samples.join("pii_manifest.json"))
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok());
    match manifest.as_ref().and_then(serde_json::Value::as_object) {
        Some(entries) => files.extend(entries.keys().map(|name| samples.join(name))),
        None => files.extend(sorted_files(&samples, ".log")),
    }
    files.extend(sorted_files(&shared.join("loghub"), "_2k.log"));
    let mut corpus = String::new();
    for file in files {
        let Ok(bytes) = std::fs::read(&file) else {
            continue;
        };
        corpus.push_str(&String::from_utf8_lossy(&bytes));
        if !corpus.ends_with('\n') {
            corpus.push('\n');
        }
    }
    corpus
}

fn sorted_files(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| {
            path.file_name()
                .and_then(|name| name.to_str())
                .is_some_and(|name| name.ends_with(suffix))
        })
        .collect();
    files.sort();
    files
}

/// The corpus repeated until it is at least `bytes` long.
pub fn repeated(once: &str, bytes: usize) -> String {
    let mut text = String::with_capacity(bytes + once.len());
    while text.len() < bytes && !once.is_empty() {
        text.push_str(once);
    }
    text
}

/// `total` bytes of log text in chunks of about `chunk` bytes (cut on
/// char boundaries), cycling through `once`: a stream of any length that
/// never holds more than `once` in memory.
pub struct Chunks<'a> {
    once: &'a str,
    position: usize,
    chunk: usize,
    remaining: usize,
}

impl<'a> Chunks<'a> {
    pub fn new(once: &'a str, chunk: usize, total: usize) -> Self {
        Self {
            once,
            position: 0,
            chunk: chunk.max(4),
            remaining: if once.is_empty() { 0 } else { total },
        }
    }
}

impl<'a> Iterator for Chunks<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        if self.remaining == 0 {
            return None;
        }
        if self.position >= self.once.len() {
            self.position = 0;
        }
        let want = self.chunk.min(self.remaining);
        let mut end = (self.position + want).min(self.once.len());
        while !self.once.is_char_boundary(end) {
            end += 1;
        }
        let chunk = &self.once[self.position..end];
        self.position = end;
        self.remaining = self.remaining.saturating_sub(chunk.len());
        Some(chunk)
    }
}
