//! The egress gate: is a text clean to send?
//!
//! Every payload that leaves the machine (a prompt to an AI provider, a
//! tool call, a published document) goes through [`check_clean_to_send`]
//! first. It does not trust bookkeeping: it scans the exact bytes about to
//! leave. A text is clean when every finding in it is either a placeholder
//! written by redaction (`[EMAIL_2]`) or a value the engineer reviewed and
//! chose to keep ([`AcceptedValues`]). Anything else blocks the send, and
//! the error names what was found — by type and count, never by value, so
//! the refusal itself leaks nothing.

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::pii::{PiiScanner, PiiType};

/// Values reviewed and kept (rejected findings): they may leave.
#[derive(Clone, Debug, Default)]
pub struct AcceptedValues {
    values: HashSet<(PiiType, String)>,
}

impl AcceptedValues {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn insert(&mut self, kind: PiiType, value: impl Into<String>) {
        self.values.insert((kind, value.into()));
    }

    pub fn contains(&self, kind: PiiType, value: &str) -> bool {
        // A tuple lookup without allocating is not possible with std's
        // HashSet; the sets are small (reviewed values of one issue).
        self.values.contains(&(kind, value.to_owned()))
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

/// Why a text may not leave: unreviewed findings, counted by type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub struct NotClean {
    pub findings: BTreeMap<PiiType, usize>,
}

impl NotClean {
    pub fn total(&self) -> usize {
        self.findings.values().sum()
    }
}

impl fmt::Display for NotClean {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let listed: Vec<String> = self
            .findings
            .iter()
            .map(|(kind, n)| format!("{n} {kind}"))
            .collect();
        write!(
            f,
            "Not sent: the text contains {} finding(s) that were not reviewed ({}). \
             Review and redact the log first.",
            self.total(),
            listed.join(", ")
        )
    }
}

/// Whether `text` may leave the machine; if not, what blocks it.
pub fn check_clean_to_send(
    text: &str,
    scanner: &PiiScanner,
    accepted: &AcceptedValues,
) -> Result<(), NotClean> {
    let mut findings = BTreeMap::new();
    let placeholders = placeholder_ranges(text);
    for span in scanner.scan(text) {
        let Some(value) = span.value(text) else {
            continue;
        };
        if covered_by_placeholders(text, span.start, span.end, &placeholders)
            || accepted.contains(span.kind, value)
        {
            continue;
        }
        *findings.entry(span.kind).or_insert(0) += 1;
    }
    if findings.is_empty() {
        Ok(())
    } else {
        Err(NotClean { findings })
    }
}

/// Text coming *in* from outside (an MCP tool's result, a resource) made
/// safe to show the model: every finding that is not already a placeholder
/// and not an accepted value is replaced by the issue's pseudonym for it
/// (assigning new numbers in `map`, so the same host is the same
/// placeholder in the logs and in tool results). Returns the text and how
/// many findings were replaced; the result always passes
/// [`check_clean_to_send`] with the same scanner and accepted values.
pub fn redact_unreviewed(
    text: &str,
    scanner: &PiiScanner,
    accepted: &AcceptedValues,
    map: &mut crate::pii::PseudonymMap,
) -> (String, usize) {
    let placeholders = placeholder_ranges(text);
    let spans: Vec<_> = scanner
        .scan(text)
        .into_iter()
        .filter(|span| {
            span.value(text).is_some_and(|value| {
                !covered_by_placeholders(text, span.start, span.end, &placeholders)
                    && !accepted.contains(span.kind, value)
            })
        })
        .collect();
    let count = spans.len();
    if count == 0 {
        return (text.to_owned(), 0);
    }
    (crate::pii::redact(text, &spans, map), count)
}

/// The byte ranges of redaction placeholders (`[IPV4_1]`) in `text`.
fn placeholder_ranges(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(open) = text[from..].find('[').map(|i| from + i) {
        let after = &text[open + 1..];
        let end = after.find(']').filter(|&close| {
            after[..close]
                .rsplit_once('_')
                .is_some_and(|(kind, number)| {
                    PiiType::parse(kind).is_some()
                        && !number.is_empty()
                        && number.bytes().all(|b| b.is_ascii_digit())
                })
        });
        match end {
            Some(close) => {
                out.push((open, open + close + 2));
                from = open + close + 2;
            }
            None => from = open + 1,
        }
    }
    out
}

/// Whether a finding is made of placeholders: detectors see `[PASSWORD_1`
/// after `password=` or `[USERNAME_1]:[PASSWORD_2]` after `https://`.
/// Only separators may lie outside the placeholders.
fn covered_by_placeholders(
    text: &str,
    start: usize,
    end: usize,
    ranges: &[(usize, usize)],
) -> bool {
    const SEPARATORS: &[u8] = b":@/ ,;=";
    let first = ranges.partition_point(|&(_, e)| e <= start);
    let mut pos = start;
    let mut seen = false;
    for &(s, e) in &ranges[first..] {
        if s >= end {
            break;
        }
        if s > pos
            && !text.as_bytes()[pos..s]
                .iter()
                .all(|b| SEPARATORS.contains(b))
        {
            return false;
        }
        seen = true;
        pos = pos.max(e);
    }
    seen && (pos >= end
        || text.as_bytes()[pos..end]
            .iter()
            .all(|b| SEPARATORS.contains(b)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pii::PseudonymMap;

    #[test]
    fn placeholders_are_recognised() {
        let covered = |text: &str, start: usize, end: usize| {
            covered_by_placeholders(text, start, end, &placeholder_ranges(text))
        };
        assert!(covered("a [IPV4_1] b", 2, 10));
        assert!(covered("pw=[PASSWORD_1] x", 3, 14), "cut before ']'");
        assert!(covered("[USERNAME_12]:[PASSWORD_3]", 0, 26));
        assert!(!covered("[IPV4_] 1", 0, 7));
        assert!(!covered("[NOPE_1]", 0, 8));
        assert!(!covered("x[IPV4_1]", 0, 9));
        assert!(!covered("[IPV4_1]x", 0, 9));
        assert!(!covered("plain", 0, 5));
    }

    #[test]
    fn raw_pii_blocks_and_the_message_names_no_value() {
        let scanner = PiiScanner::with_defaults().expect("defaults compile");
        let text = "login failed for alice@example.com from 203.0.113.9 password=hunter2x";
        let err = check_clean_to_send(text, &scanner, &AcceptedValues::new())
            .expect_err("raw PII must block");
        assert_eq!(err.findings.get(&PiiType::Email), Some(&1));
        assert_eq!(err.findings.get(&PiiType::Password), Some(&1));
        let message = err.to_string();
        assert!(!message.contains("alice") && !message.contains("hunter2x"));
        assert!(message.contains("EMAIL"));
    }

    #[test]
    fn incoming_text_is_redacted_with_the_issue_pseudonyms() {
        let scanner = PiiScanner::with_defaults().expect("defaults compile");
        let mut map = PseudonymMap::new();
        // The logs already made 203.0.113.9 the first address.
        let first = map.placeholder_for(PiiType::Ipv4, "203.0.113.9");
        let mut accepted = AcceptedValues::new();
        accepted.insert(PiiType::Ipv4, "10.0.0.1");
        let text = "db 203.0.113.9 down; paged bob@example.org; gw 10.0.0.1; \
                    earlier [IPV4_1] and 198.51.100.7";
        let (out, n) = redact_unreviewed(text, &scanner, &accepted, &mut map);
        assert_eq!(n, 3, "{out}");
        assert!(out.contains(&format!("db {first} down")), "{out}");
        assert!(!out.contains("bob@example.org") && !out.contains("198.51.100.7"));
        assert!(out.contains("10.0.0.1"), "accepted values stay: {out}");
        assert!(
            out.contains("[IPV4_2]"),
            "a new address gets the next number: {out}"
        );
        check_clean_to_send(&out, &scanner, &accepted).expect("redacted text is clean");
        // Idempotent: the output has nothing left to replace.
        let (again, m) = redact_unreviewed(&out, &scanner, &accepted, &mut map);
        assert_eq!((again.as_str(), m), (out.as_str(), 0));
    }

    #[test]
    fn redacted_text_is_clean_and_accepted_values_pass() {
        let scanner = PiiScanner::with_defaults().expect("defaults compile");
        let text = "login failed for alice@example.com from 203.0.113.9 password=hunter2x";
        let spans = scanner.scan(text);
        let mut map = PseudonymMap::new();
        let redacted = map.redact(text, &spans);
        assert_eq!(
            check_clean_to_send(&redacted, &scanner, &AcceptedValues::new()),
            Ok(())
        );

        // Keep the e-mail, redact the rest: clean only once it is accepted.
        let kept: Vec<_> = spans
            .iter()
            .copied()
            .filter(|s| s.kind != PiiType::Email)
            .collect();
        let partly = PseudonymMap::new().redact(text, &kept);
        assert!(check_clean_to_send(&partly, &scanner, &AcceptedValues::new()).is_err());
        let mut accepted = AcceptedValues::new();
        accepted.insert(PiiType::Email, "alice@example.com");
        assert_eq!(check_clean_to_send(&partly, &scanner, &accepted), Ok(()));
    }
}
