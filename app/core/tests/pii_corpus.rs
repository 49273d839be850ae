//! The labelled corpus in `testdata/pii/corpus.txt`: for every case the
//! scanner must report exactly the expected (type, value) pairs — all of
//! them, and nothing else. Hard negatives expect nothing.
//!
//! The file format is described at its top. Failures are collected and
//! reported together, so one run shows every case that regressed.

use std::collections::BTreeMap;

use tftsr_core::pii::{PiiScanner, PiiType};

const CORPUS: &str = include_str!("../testdata/pii/corpus.txt");

struct Case {
    line: usize,
    format: String,
    text: String,
    expected: Vec<(PiiType, String)>,
}

fn parse_corpus(source: &str) -> Vec<Case> {
    let mut cases: Vec<Case> = Vec::new();
    let mut format = String::from("unspecified");
    for (index, raw) in source.lines().enumerate() {
        let line_number = index + 1;
        if raw.trim().is_empty() || raw.starts_with('#') {
            continue;
        }
        if let Some(name) = raw.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
            format = name.to_owned();
        } else if let Some(text) = raw.strip_prefix("> ") {
            cases.push(Case {
                line: line_number,
                format: format.clone(),
                text: text.to_owned(),
                expected: Vec::new(),
            });
        } else if let Some(rest) = raw.strip_prefix('|') {
            let case = cases.last_mut().expect("a '|' line continues a case");
            case.text.push('\n');
            case.text.push_str(rest.strip_prefix(' ').unwrap_or(rest));
        } else if let Some(expectation) = raw.strip_prefix("= ") {
            let (kind, value) = expectation.split_once(' ').expect("'= TYPE value'");
            let kind: PiiType = kind.parse().expect("a known PII type");
            // Multi-line values are written on one line with `\n` escapes.
            let value = if kind == PiiType::PrivateKey
                && !cases.last().is_some_and(|c| c.text.contains(value))
            {
                value.replace("\\n", "\n")
            } else {
                value.to_owned()
            };
            cases
                .last_mut()
                .expect("an expectation follows a case")
                .expected
                .push((kind, value));
        } else {
            panic!("corpus line {line_number} is not understood: {raw}");
        }
    }
    cases
}

#[test]
fn corpus_cases_find_exactly_what_is_labelled() {
    let cases = parse_corpus(CORPUS);
    let scanner = PiiScanner::with_defaults().expect("default scanner builds");
    let mut failures = Vec::new();
    let mut per_format: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for case in &cases {
        let mut found: Vec<(PiiType, String)> = scanner
            .scan(&case.text)
            .iter()
            .map(|span| (span.kind, case.text[span.start..span.end].to_owned()))
            .collect();
        let mut expected = case.expected.clone();
        found.sort();
        expected.sort();
        let entry = per_format.entry(case.format.as_str()).or_default();
        entry.0 += 1;
        if found == expected {
            entry.1 += 1;
        } else {
            failures.push(format!(
                "line {} [{}]: {}\n    expected {:?}\n    found    {:?}",
                case.line, case.format, case.text, expected, found
            ));
        }
    }
    for (format, (total, passed)) in &per_format {
        eprintln!("{format:<10} {passed}/{total}");
    }
    let negatives = cases.iter().filter(|c| c.expected.is_empty()).count();
    eprintln!("{} cases, {} hard negatives", cases.len(), negatives);
    assert!(
        cases.len() >= 150,
        "the corpus should keep at least 150 cases"
    );
    assert!(
        failures.is_empty(),
        "{} corpus cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn corpus_covers_every_type_and_format() {
    let cases = parse_corpus(CORPUS);
    for kind in PiiType::ALL {
        assert!(
            cases
                .iter()
                .any(|c| c.expected.iter().any(|(k, _)| k == kind)),
            "no positive case for {kind}"
        );
    }
    for format in [
        "syslog", "nginx", "json", "k8s", "windows", "java", "sshd", "http", "env",
    ] {
        assert!(
            cases.iter().any(|c| c.format == format),
            "no case in format {format}"
        );
    }
}

/// Per-type precision and recall over the whole corpus, counting each
/// (type, value) finding of a case once per occurrence. Printed as a table
/// (`cargo test --test pii_corpus -- --nocapture`); both must stay at or
/// above 0.97 for every type.
#[test]
fn corpus_precision_and_recall_per_type() {
    const FLOOR: f64 = 0.97;
    let cases = parse_corpus(CORPUS);
    let scanner = PiiScanner::with_defaults().expect("default scanner builds");
    // (true positives, false positives, false negatives) per type.
    let mut counts: BTreeMap<PiiType, (usize, usize, usize)> = BTreeMap::new();
    for case in &cases {
        let mut expected = case.expected.clone();
        for span in scanner.scan(&case.text) {
            let found = (span.kind, case.text[span.start..span.end].to_owned());
            let entry = counts.entry(span.kind).or_default();
            match expected.iter().position(|e| *e == found) {
                Some(index) => {
                    expected.swap_remove(index);
                    entry.0 += 1;
                }
                None => entry.1 += 1,
            }
        }
        for (kind, _) in expected {
            counts.entry(kind).or_default().2 += 1;
        }
    }
    let ratio = |hits: usize, total: usize| {
        if total == 0 {
            1.0
        } else {
            hits as f64 / total as f64
        }
    };
    eprintln!(
        "{:<13} {:>5} {:>5} {:>5} {:>9} {:>7}",
        "type", "tp", "fp", "fn", "precision", "recall"
    );
    let mut below = Vec::new();
    for kind in PiiType::ALL {
        let (tp, fp, missed) = counts.get(kind).copied().unwrap_or_default();
        let precision = ratio(tp, tp + fp);
        let recall = ratio(tp, tp + missed);
        eprintln!(
            "{:<13} {tp:>5} {fp:>5} {missed:>5} {precision:>9.3} {recall:>7.3}",
            kind.as_str()
        );
        if precision < FLOOR || recall < FLOOR {
            below.push(format!(
                "{kind}: precision {precision:.3}, recall {recall:.3}"
            ));
        }
        assert!(tp > 0, "no true positive for {kind}");
    }
    assert!(
        below.is_empty(),
        "types below {FLOOR}: {}",
        below.join("; ")
    );
}
