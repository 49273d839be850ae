//! The `scan` fuzz target's checks: arbitrary bytes, read as lossy UTF-8,
//! must scan without panicking into sorted, non-overlapping, in-bounds
//! spans on char boundaries; redaction must put a placeholder, never the
//! value, at every span; and a [`StreamScanner`] fed the text in arbitrary
//! chunks (cut on char boundaries, chosen from the input itself) must
//! report exactly the spans of a whole-text scan.
//!
//! [`StreamScanner`]: tftsr_core::pii::StreamScanner

use tftsr_core::pii::{PiiScanner, PiiSpan, PseudonymMap, StreamLimits, redact};

/// Inputs longer than this are cut: the checks are about shapes, and a
/// short input keeps each execution fast.
pub const MAX_INPUT: usize = 64 * 1024;

/// Runs every check on `data`; panics on the first violation.
pub fn check_scan(scanner: &PiiScanner, data: &[u8]) {
    let data = &data[..data.len().min(MAX_INPUT)];
    let text = String::from_utf8_lossy(data);
    let spans = scanner.scan(&text);
    check_well_formed(&text, &spans);
    check_redaction(&text, &spans);
    // Lines longer than the stream's pending limit are cut inside, where
    // the stream may legitimately differ; with this limit none is.
    let limits = StreamLimits {
        batch_bytes: 0,
        max_pending_bytes: 2 * MAX_INPUT,
        overlap_bytes: 4 * 1024,
    };
    let streamed = stream_in_chunks(scanner, &text, data, limits);
    assert_eq!(streamed, spans, "stream and scan disagree on {text:?}");
}

fn check_well_formed(text: &str, spans: &[PiiSpan]) {
    for span in spans {
        assert!(span.start < span.end, "empty span {span:?}");
        assert!(span.end <= text.len(), "span {span:?} out of bounds");
        assert!(
            text.is_char_boundary(span.start) && text.is_char_boundary(span.end),
            "span {span:?} off a char boundary"
        );
    }
    for pair in spans.windows(2) {
        assert!(
            pair[0].end <= pair[1].start,
            "unsorted or overlapping: {:?} {:?}",
            pair[0],
            pair[1]
        );
    }
}

/// The redacted text is the original with each span replaced by its
/// placeholder; no span's value stays at its place.
fn check_redaction(text: &str, spans: &[PiiSpan]) {
    let mut map = PseudonymMap::new();
    let redacted = redact(text, spans, &mut map);
    let mut expected = String::with_capacity(redacted.len());
    let mut cursor = 0;
    for span in spans {
        let value = &text[span.start..span.end];
        let placeholder = map.placeholder_for(span.kind, value);
        assert_ne!(placeholder, value, "placeholder equals the value");
        expected.push_str(&text[cursor..span.start]);
        expected.push_str(&placeholder);
        cursor = span.end;
    }
    expected.push_str(&text[cursor..]);
    assert_eq!(redacted, expected, "redaction left a value in place");
}

/// Feeds `text` in chunks whose sizes (1 to 64 bytes, moved forward to a
/// char boundary) come from a generator seeded by the input.
fn stream_in_chunks(
    scanner: &PiiScanner,
    text: &str,
    data: &[u8],
    limits: StreamLimits,
) -> Vec<PiiSpan> {
    let mut seed = data
        .iter()
        .take(8)
        .fold(0x9e37_79b9_7f4a_7c15_u64, |acc, &b| {
            (acc ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        })
        | 1;
    let mut next_size = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        usize::try_from(seed % 64).unwrap_or(0) + 1
    };
    let mut stream = scanner.stream(limits);
    let mut spans = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let mut take = next_size().min(rest.len());
        while !rest.is_char_boundary(take) {
            take += 1;
        }
        let (head, tail) = rest.split_at(take);
        if let Some(segment) = stream.feed(head) {
            spans.extend(segment.spans);
        }
        rest = tail;
    }
    if let Some(segment) = stream.finish() {
        spans.extend(segment.spans);
    }
    spans
}
