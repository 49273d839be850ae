//! The egress gate over realistic incident logs: a fully redacted log is
//! clean to send; the original never is; keeping (rejecting) a finding
//! blocks until its value is accepted.

use std::path::PathBuf;

use tftsr_core::logs::{AcceptedValues, check_clean_to_send};
use tftsr_core::pii::{PiiScanner, PseudonymMap};

fn samples() -> Vec<(String, String)> {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/samples"));
    let mut out: Vec<(String, String)> = std::fs::read_dir(&dir)
        .expect("testdata/samples exists")
        .map(|entry| {
            let path = entry.expect("readable dir").path();
            let text = std::fs::read_to_string(&path).expect("sample is UTF-8");
            (path.display().to_string(), text)
        })
        .collect();
    out.sort();
    assert!(out.len() >= 3);
    out
}

#[test]
fn redacted_samples_are_clean_and_originals_are_not() {
    let scanner = PiiScanner::with_defaults().expect("defaults compile");
    for (name, text) in samples() {
        let spans = scanner.scan(&text);
        assert!(!spans.is_empty(), "{name} has planted PII");
        let blocked = check_clean_to_send(&text, &scanner, &AcceptedValues::new())
            .expect_err("an unredacted sample must be blocked");
        assert_eq!(blocked.total(), spans.len(), "{name}");

        let redacted = PseudonymMap::new().redact(&text, &spans);
        assert_eq!(
            check_clean_to_send(&redacted, &scanner, &AcceptedValues::new()),
            Ok(()),
            "{name}: redacted text must pass the gate"
        );
    }
}

#[test]
fn a_kept_value_passes_only_once_accepted() {
    let scanner = PiiScanner::with_defaults().expect("defaults compile");
    let (name, text) = samples().remove(0);
    let spans = scanner.scan(&text);
    let keep = spans[0];
    let value = keep.value(&text).expect("in bounds").to_owned();
    let redact: Vec<_> = spans
        .iter()
        .copied()
        .filter(|s| s.value(&text) != Some(value.as_str()))
        .collect();
    let partly = PseudonymMap::new().redact(&text, &redact);
    let err = check_clean_to_send(&partly, &scanner, &AcceptedValues::new())
        .expect_err("the kept value is still there");
    assert!(
        !err.to_string().contains(&value),
        "{name}: no value in errors"
    );
    let mut accepted = AcceptedValues::new();
    accepted.insert(keep.kind, value);
    assert_eq!(check_clean_to_send(&partly, &scanner, &accepted), Ok(()));
}
