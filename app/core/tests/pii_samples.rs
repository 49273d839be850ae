//! The scanner against the shared sample incidents and their manifest of
//! planted PII (`shared/samples/pii_manifest.json`): recall per type, no
//! decoy touched, redaction removes every planted value and keeps every
//! decoy, and chunked scanning agrees with whole-text scanning.
//!
//! Manifest columns are code points within a 1-based line; the scanner
//! speaks byte offsets into the whole file, so spans are converted here.
//! Set `PII_SAMPLES_VERBOSE=1` to print every miss and every finding the
//! manifest does not list.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::Value;
use tftsr_core::pii::{PiiScanner, PiiSpan, PiiType, PseudonymMap, StreamLimits, redact};

const FILES: [&str; 10] = [
    "01_linux_db_disk_full.log",
    "02_k8s_crashloop_bad_config.log",
    "03_dns_resolution_timeouts.log",
    "04_expired_tls_certificate.log",
    "05_memory_leak_oom_kill.log",
    "06_windows_service_after_patch.log",
    "07_sshd_bruteforce_lockout.log",
    "08_payment_api_5xx_pci_leak.log",
    "09_ci_pipeline_secret_leak.log",
    "10_network_mac_flap_dhcp.log",
];

fn samples_dir() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/samples"
    ))
}

fn verbose() -> bool {
    std::env::var_os("PII_SAMPLES_VERBOSE").is_some()
}

/// A manifest entry located in the file's bytes.
struct Planted {
    line: usize,
    start: usize,
    end: usize,
    /// The PII type for spans, the decoy kind for decoys.
    label: String,
    value: String,
}

struct Sample {
    name: &'static str,
    text: String,
    line_starts: Vec<usize>,
    spans: Vec<Planted>,
    decoys: Vec<Planted>,
}

fn load_samples() -> Option<Vec<Sample>> {
    let dir = samples_dir();
    let manifest_text = std::fs::read_to_string(dir.join("pii_manifest.json")).ok()?;
    let manifest: Value = serde_json::from_str(&manifest_text).expect("manifest is JSON");
    let samples = FILES
        .iter()
        .map(|name| {
            let text = std::fs::read_to_string(dir.join(name)).expect("sample is readable UTF-8");
            let mut line_starts = vec![0];
            line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
            let entry = &manifest[*name];
            let locate = |item: &Value, label_key: &str| -> Planted {
                let line =
                    usize::try_from(item["line"].as_u64().expect("line")).expect("line fits");
                let line_start = line_starts[line - 1];
                let line_text = text[line_start..].split('\n').next().expect("line exists");
                let byte_at = |column: u64| -> usize {
                    let column = usize::try_from(column).expect("column fits");
                    line_text
                        .char_indices()
                        .nth(column)
                        .map_or(line_text.len(), |(i, _)| i)
                        + line_start
                };
                let planted = Planted {
                    line,
                    start: byte_at(item["start"].as_u64().expect("start")),
                    end: byte_at(item["end"].as_u64().expect("end")),
                    label: item[label_key].as_str().expect("label").to_owned(),
                    value: item["value"].as_str().expect("value").to_owned(),
                };
                assert_eq!(
                    &text[planted.start..planted.end],
                    planted.value,
                    "{name}:{line} manifest offsets"
                );
                planted
            };
            let spans = entry["spans"]
                .as_array()
                .expect("spans")
                .iter()
                .map(|s| locate(s, "type"))
                .collect();
            let decoys = entry["decoys"]
                .as_array()
                .expect("decoys")
                .iter()
                .map(|d| locate(d, "kind"))
                .collect();
            Sample {
                name,
                text,
                line_starts,
                spans,
                decoys,
            }
        })
        .collect();
    Some(samples)
}

fn line_of(sample: &Sample, offset: usize) -> usize {
    sample.line_starts.partition_point(|&start| start <= offset)
}

#[derive(Default)]
struct Tally {
    planted: usize,
    found: usize,
    reported: usize,
    correct: usize,
}

#[test]
fn samples_recall_precision_and_decoys() {
    let Some(samples) = load_samples() else {
        eprintln!(
            "shared samples not found at {}; skipping",
            samples_dir().display()
        );
        return;
    };
    let scanner = PiiScanner::with_defaults().expect("default scanner builds");
    let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
    let mut decoys_touched = 0;
    let mut covered_by_any = 0;
    let mut planted_total = 0;

    for sample in &samples {
        let spans = scanner.scan(&sample.text);
        for planted in &sample.spans {
            let tally = tallies.entry(planted.label.clone()).or_default();
            tally.planted += 1;
            planted_total += 1;
            let same_type = spans.iter().any(|s| {
                s.kind.as_str() == planted.label && s.start <= planted.start && s.end >= planted.end
            });
            let any = covered(&spans, planted.start, planted.end);
            if same_type {
                tally.found += 1;
            }
            if any {
                covered_by_any += 1;
            }
            if !same_type && verbose() {
                let got: Vec<String> = spans
                    .iter()
                    .filter(|s| s.start < planted.end && planted.start < s.end)
                    .map(|s| format!("{}:{:?}", s.kind, &sample.text[s.start..s.end]))
                    .collect();
                eprintln!(
                    "MISS {} {}:{} {} {:?} got {:?}",
                    planted.label, sample.name, planted.line, planted.start, planted.value, got
                );
            }
        }
        for span in &spans {
            let tally = tallies.entry(span.kind.as_str().to_owned()).or_default();
            tally.reported += 1;
            let matches_manifest = sample
                .spans
                .iter()
                .any(|p| p.label == span.kind.as_str() && p.start < span.end && span.start < p.end);
            if matches_manifest {
                tally.correct += 1;
            } else if verbose() {
                eprintln!(
                    "EXTRA {} {}:{} {:?}",
                    span.kind,
                    sample.name,
                    line_of(sample, span.start),
                    &sample.text[span.start..span.end]
                );
            }
        }
        for decoy in &sample.decoys {
            let touching: Vec<&PiiSpan> = spans
                .iter()
                .filter(|s| s.start < decoy.end && decoy.start < s.end)
                .collect();
            if !touching.is_empty() {
                decoys_touched += 1;
                eprintln!(
                    "DECOY TOUCHED {} {}:{} {:?} by {:?}",
                    decoy.label,
                    sample.name,
                    decoy.line,
                    decoy.value,
                    touching
                        .iter()
                        .map(|s| (s.kind, &sample.text[s.start..s.end]))
                        .collect::<Vec<_>>()
                );
            }
        }
    }

    let mut planted_found = 0;
    eprintln!(
        "{:<14} {:>8} {:>8} {:>8} {:>9} {:>9}",
        "type", "planted", "found", "recall", "reported", "precision"
    );
    for (kind, tally) in &tallies {
        planted_found += tally.found;
        eprintln!(
            "{:<14} {:>8} {:>8} {:>8.3} {:>9} {:>9.3}",
            kind,
            tally.planted,
            tally.found,
            ratio(tally.found, tally.planted),
            tally.reported,
            ratio(tally.correct, tally.reported)
        );
    }
    let recall = ratio(planted_found, planted_total);
    eprintln!(
        "overall recall {recall:.4} ({planted_found}/{planted_total}), covered by any finding {covered_by_any}, decoys touched {decoys_touched}"
    );
    assert_eq!(decoys_touched, 0, "no decoy may be touched");
    assert!(recall >= 0.99, "overall recall {recall:.4} below the floor");
    for (kind, tally) in &tallies {
        if tally.planted > 0 {
            assert!(
                ratio(tally.found, tally.planted) >= 0.95,
                "{kind} recall too low"
            );
        }
    }
    let all_types: Vec<&str> = PiiType::ALL.iter().map(|k| k.as_str()).collect();
    assert!(tallies.keys().all(|k| all_types.contains(&k.as_str())));
}

fn covered(spans: &[PiiSpan], start: usize, end: usize) -> bool {
    // Adjacent findings together may cover a value.
    let mut position = start;
    for span in spans {
        if span.start <= position && span.end > position {
            position = span.end;
        }
        if position >= end {
            return true;
        }
    }
    position >= end
}

fn ratio(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        1.0
    } else {
        part as f64 / whole as f64
    }
}

#[test]
fn redaction_removes_planted_values_and_keeps_decoys() {
    let Some(samples) = load_samples() else {
        return;
    };
    let scanner = PiiScanner::with_defaults().expect("default scanner builds");
    // One map for all files: the logs share numbering.
    let mut map = PseudonymMap::new();
    for sample in &samples {
        let spans = scanner.scan(&sample.text);
        let redacted = redact(&sample.text, &spans, &mut map);
        let original_lines: Vec<&str> = sample.text.split('\n').collect();
        let redacted_lines: Vec<&str> = redacted.split('\n').collect();
        assert_eq!(
            original_lines.len(),
            redacted_lines.len(),
            "{}: lines kept",
            sample.name
        );
        for planted in &sample.spans {
            let line = redacted_lines[planted.line - 1];
            // A value may legitimately remain where the same text occurs
            // outside every planted span of the line (e.g. a name quoted in
            // prose the manifest does not list).
            let unplanted_occurrences = original_lines[planted.line - 1]
                .match_indices(planted.value.as_str())
                .filter(|(i, _)| {
                    let start = sample.line_starts[planted.line - 1] + i;
                    !sample
                        .spans
                        .iter()
                        .any(|p| p.start <= start && p.end >= start + planted.value.len())
                })
                .count();
            let remaining = line.matches(planted.value.as_str()).count();
            assert!(
                remaining <= unplanted_occurrences,
                "{}:{} planted {} {:?} survived redaction: {line}",
                sample.name,
                planted.line,
                planted.label,
                planted.value
            );
        }
        for decoy in &sample.decoys {
            let line = redacted_lines[decoy.line - 1];
            assert!(
                line.contains(decoy.value.as_str()),
                "{}:{} decoy {} {:?} was altered: {line}",
                sample.name,
                decoy.line,
                decoy.label,
                decoy.value
            );
        }
        // Placeholders lead back to the original text.
        assert_eq!(
            map.reidentify(&redacted),
            sample.text,
            "{}: reidentify",
            sample.name
        );
    }
}

#[test]
fn chunked_scanning_matches_whole_scanning_on_samples() {
    let Some(samples) = load_samples() else {
        return;
    };
    let scanner = PiiScanner::with_defaults().expect("default scanner builds");
    for sample in &samples {
        let whole = scanner.scan(&sample.text);
        // (chunk size, batch, longest pending stretch, overlap): the last
        // two force cuts inside the samples' longest lines (up to 720 bytes).
        let configurations = [
            (64, 0, 1 << 20, 4096),
            (1000, 0, 1 << 20, 4096),
            (4096, 16 * 1024, 1 << 20, 4096),
            (64, 300, 1 << 20, 4096),
            (37, 0, 512, 200),
            (64, 0, 600, 256),
        ];
        for (chunk, batch, max_pending, overlap) in configurations {
            let limits = StreamLimits {
                batch_bytes: batch,
                max_pending_bytes: max_pending,
                overlap_bytes: overlap,
            };
            let mut stream = scanner.stream(limits);
            let mut spans = Vec::new();
            let mut rebuilt = String::new();
            let mut rest = sample.text.as_str();
            while !rest.is_empty() {
                let mut take = chunk.min(rest.len());
                while !rest.is_char_boundary(take) {
                    take += 1;
                }
                let (head, tail) = rest.split_at(take);
                if let Some(segment) = stream.feed(head) {
                    rebuilt.push_str(&segment.text);
                    spans.extend(segment.spans);
                }
                rest = tail;
            }
            if let Some(segment) = stream.finish() {
                rebuilt.push_str(&segment.text);
                spans.extend(segment.spans);
            }
            assert_eq!(rebuilt, sample.text, "{} chunk {chunk}", sample.name);
            assert_eq!(
                spans, whole,
                "{} chunk {chunk} batch {batch} max {max_pending}",
                sample.name
            );
        }
    }
}
