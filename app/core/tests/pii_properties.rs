//! Properties of the scanner, redaction and streaming that must hold for
//! any input: arbitrary Unicode, and log-like text assembled from
//! fragments that exercise every detector and their boundaries.

use std::sync::OnceLock;

use proptest::prelude::*;
use tftsr_core::pii::{PiiScanner, PiiSpan, PseudonymMap, StreamLimits, redact, reidentify};

fn scanner() -> &'static PiiScanner {
    static SCANNER: OnceLock<PiiScanner> = OnceLock::new();
    SCANNER.get_or_init(|| PiiScanner::with_defaults().expect("default scanner builds"))
}

fn assert_well_formed(text: &str, spans: &[PiiSpan]) -> Result<(), TestCaseError> {
    for span in spans {
        prop_assert!(span.start < span.end, "empty span {span:?}");
        prop_assert!(
            span.end <= text.len(),
            "span {span:?} past the end ({})",
            text.len()
        );
        prop_assert!(
            text.is_char_boundary(span.start) && text.is_char_boundary(span.end),
            "{span:?} splits a char"
        );
    }
    for pair in spans.windows(2) {
        prop_assert!(
            pair[0].end <= pair[1].start,
            "unsorted or overlapping: {:?} {:?}",
            pair[0],
            pair[1]
        );
    }
    Ok(())
}

/// Pieces of log lines: values of every type, look-alikes, keys and noise.
fn fragment() -> impl Strategy<Value = String> {
    let octet = 0u16..=300;
    prop_oneof![
        (octet.clone(), octet.clone(), octet.clone(), octet)
            .prop_map(|(a, b, c, d)| format!("{a}.{b}.{c}.{d}")),
        prop::collection::vec(0u16..=0xffff, 2..9).prop_map(|groups| {
            groups
                .iter()
                .map(|g| format!("{g:x}"))
                .collect::<Vec<_>>()
                .join(":")
        }),
        Just("::1".to_owned()),
        Just("fe80::1%eth0".to_owned()),
        "[a-z]{1,8}(\\.[a-z]{1,5})?@[a-z]{2,8}\\.(com|org|internal|png)".prop_map(|s| s),
        "\\+[1-9][0-9]{1,2} [0-9]{2,4} [0-9]{3,4} [0-9]{3,4}".prop_map(|s| s),
        "\\([2-9][0-9]{2}\\) 555-01[0-9]{2}".prop_map(|s| s),
        "[0-9]{3}-[0-9]{2}-[0-9]{4}".prop_map(|s| s),
        "4[0-9]{15}|5[1-5][0-9]{14}|3[47][0-9]{13}".prop_map(|s| s),
        "([0-9a-f]{2}:){5}[0-9a-f]{2}".prop_map(|s| s),
        Just("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln".to_owned()),
        "AKIA[A-Z0-9]{16}|ghp_[A-Za-z0-9]{36}|sk-[A-Za-z0-9]{24}".prop_map(|s| s),
        "(password|api_key|token|user|host|ssn)(=|: |=\")".prop_map(|s| s),
        "[A-Za-z0-9+/]{8,40}".prop_map(|s| s),
        Just("-----BEGIN RSA PRIVATE KEY-----".to_owned()),
        Just("-----END RSA PRIVATE KEY-----".to_owned()),
        Just("\\n".to_owned()),
        Just("May 21 01:58:03 web-01 sshd[1]: ".to_owned()),
        Just("Accepted password for ".to_owned()),
        Just("Authorization: Bearer ".to_owned()),
        Just("?token=".to_owned()),
        Just("https://".to_owned()),
        "[a-z]{1,10}(-[a-z0-9]{1,6}){0,3}(\\.(corp|lan|internal|local))?".prop_map(|s| s),
        "\\PC{0,12}".prop_map(|s| s),
    ]
}

fn separator() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        " ", " ", " ", "\n", "=", ": ", "\"", ", ", "/", "@", ".", "\\", "(", ")", "[", "]", "\t",
        "",
    ])
}

fn log_like_text() -> impl Strategy<Value = String> {
    prop::collection::vec((fragment(), separator()), 0..24).prop_map(|parts| {
        parts
            .into_iter()
            .map(|(fragment, sep)| fragment + sep)
            .collect()
    })
}

/// How often `needle` occurs in `text` outside every span.
fn occurrences_outside(text: &str, spans: &[PiiSpan], needle: &str) -> usize {
    text.match_indices(needle)
        .filter(|(i, _)| {
            !spans
                .iter()
                .any(|s| s.start < i + needle.len() && *i < s.end)
        })
        .count()
}

/// The spans a stream reports, and its segments' texts put back together.
fn stream_spans(text: &str, chunk: usize, limits: StreamLimits) -> (Vec<PiiSpan>, String) {
    let mut stream = scanner().stream(limits);
    let mut spans = Vec::new();
    let mut rebuilt = String::new();
    let mut rest = text;
    while !rest.is_empty() {
        let mut take = chunk.min(rest.len());
        while !rest.is_char_boundary(take) {
            take += 1;
        }
        let (head, tail) = rest.split_at(take);
        if let Some(segment) = stream.feed(head) {
            assert_eq!(segment.offset, rebuilt.len(), "segments are contiguous");
            rebuilt.push_str(&segment.text);
            spans.extend(segment.spans);
        }
        rest = tail;
    }
    if let Some(segment) = stream.finish() {
        assert_eq!(segment.offset, rebuilt.len(), "segments are contiguous");
        rebuilt.push_str(&segment.text);
        spans.extend(segment.spans);
    }
    (spans, rebuilt)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics_and_spans_are_well_formed(text in "\\PC{0,300}") {
        let spans = scanner().scan(&text);
        assert_well_formed(&text, &spans)?;
    }

    #[test]
    fn arbitrary_bytes_as_lossy_text(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let text = String::from_utf8_lossy(&bytes);
        let spans = scanner().scan(&text);
        assert_well_formed(&text, &spans)?;
    }

    #[test]
    fn log_like_text_spans_are_well_formed(text in log_like_text()) {
        let spans = scanner().scan(&text);
        assert_well_formed(&text, &spans)?;
    }

    #[test]
    fn redaction_removes_every_reported_value(text in log_like_text()) {
        let spans = scanner().scan(&text);
        let mut map = PseudonymMap::new();
        let redacted = redact(&text, &spans, &mut map);
        for span in &spans {
            let value = &text[span.start..span.end];
            if value.chars().count() >= 4 {
                let left = redacted.matches(value).count();
                let legitimate = occurrences_outside(&text, &spans, value);
                prop_assert!(
                    left <= legitimate,
                    "{} value {value:?} survived redaction: {redacted:?}", span.kind
                );
            }
        }
        prop_assert_eq!(reidentify(&redacted, &map), text);
    }

    #[test]
    fn chunked_scanning_matches_whole_scanning(
        text in log_like_text(),
        chunk in 1usize..80,
        batch in prop_oneof![Just(0usize), 1usize..200],
    ) {
        let whole = scanner().scan(&text);
        let limits = StreamLimits { batch_bytes: batch, ..StreamLimits::default() };
        let (spans, rebuilt) = stream_spans(&text, chunk, limits);
        prop_assert_eq!(spans, whole);
        prop_assert_eq!(rebuilt, text);
    }

    #[test]
    fn scanning_is_deterministic(text in log_like_text()) {
        prop_assert_eq!(scanner().scan(&text), scanner().scan(&text));
    }
}

/// A single very long line (a JSON blob, a minified payload) is scanned
/// whole: four times the text gives exactly four times the findings.
#[test]
fn huge_single_line_findings_scale_exactly() {
    // One very long line: every repeat of the unit is found, none twice, none
    // lost at chunk or window edges. (How the time scales is measured by the
    // `pii_scan` bench, not asserted here: timed tests are flaky on a shared
    // machine.)
    let unit =
        "client 10.0.3.7 user=kpatel2 host=web-01 ops@example.org srv-9.corp deploy 1.2.3.4 ";
    let small = scanner().scan(&unit.repeat(1_500)).len();
    let large = scanner().scan(&unit.repeat(6_000)).len();
    assert!(small > 0);
    assert_eq!(large, small * 4);
}
