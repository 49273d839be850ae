//! Redaction with consistent pseudonyms: every distinct value of a type gets
//! a numbered placeholder (`[IPV4_1]`, `[EMAIL_2]`) that stays the same
//! across calls, so the several logs attached to one issue keep sharing
//! numbering and the redacted text stays readable for triage ("the resolver
//! `[IPV4_3]` times out") without revealing the value.
//!
//! The [`PseudonymMap`] is plain serde data so the server can store it
//! (encrypted) with the issue and [`reidentify`] placeholders later for
//! people allowed to see the originals. Values are compared after a
//! per-type normalisation (case of e-mails and host names, IPv6
//! compression, digit grouping of phone and card numbers), so two spellings
//! of the same address share one placeholder; re-identification returns the
//! spelling seen first.

use std::collections::{BTreeMap, HashMap};
use std::net::Ipv6Addr;

use serde::{Deserialize, Serialize};

use super::kind::{PiiSpan, PiiType};

/// Placeholder numbering per type, value by value.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "PseudonymTable", into = "PseudonymTable")]
pub struct PseudonymMap {
    /// `values[kind][n - 1]` is the value behind `[KIND_n]`.
    values: BTreeMap<PiiType, Vec<String>>,
    /// Normalised value -> placeholder number, rebuilt after deserialising.
    numbers: HashMap<(PiiType, String), usize>,
}

/// The stored form: for each type, its values in placeholder order.
#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
struct PseudonymTable(BTreeMap<PiiType, Vec<String>>);

impl From<PseudonymTable> for PseudonymMap {
    fn from(table: PseudonymTable) -> Self {
        let mut map = PseudonymMap::default();
        for (kind, values) in table.0 {
            for value in values {
                map.assign(kind, &value);
            }
        }
        map
    }
}

impl From<PseudonymMap> for PseudonymTable {
    fn from(map: PseudonymMap) -> Self {
        PseudonymTable(map.values)
    }
}

impl PseudonymMap {
    pub fn new() -> Self {
        Self::default()
    }

    /// The placeholder for `value`, assigning the next number of its type
    /// the first time the value is seen.
    pub fn placeholder_for(&mut self, kind: PiiType, value: &str) -> String {
        placeholder(kind, self.assign(kind, value))
    }

    fn assign(&mut self, kind: PiiType, value: &str) -> usize {
        let key = (kind, normalise(kind, value));
        if let Some(&number) = self.numbers.get(&key) {
            return number;
        }
        let values = self.values.entry(kind).or_default();
        values.push(value.to_owned());
        let number = values.len();
        self.numbers.insert(key, number);
        number
    }

    /// The value behind `[KIND_number]`, if this map assigned it.
    pub fn value_of(&self, kind: PiiType, number: usize) -> Option<&str> {
        let index = number.checked_sub(1)?;
        self.values.get(&kind)?.get(index).map(String::as_str)
    }

    /// Values of one type, in placeholder order.
    pub fn values(&self, kind: PiiType) -> &[String] {
        self.values.get(&kind).map_or(&[], Vec::as_slice)
    }

    /// How many values have a placeholder.
    pub fn len(&self) -> usize {
        self.values.values().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// See [`redact`].
    pub fn redact(&mut self, text: &str, spans: &[PiiSpan]) -> String {
        redact(text, spans, self)
    }

    /// See [`reidentify`].
    pub fn reidentify(&self, text: &str) -> String {
        reidentify(text, self)
    }
}

/// `[KIND_n]`.
pub fn placeholder(kind: PiiType, number: usize) -> String {
    format!("[{}_{number}]", kind.as_str())
}

/// Replaces every span of `text` by its placeholder, assigning new numbers
/// in `map` as needed.
///
/// `spans` are expected as [`crate::pii::PiiScanner::scan`] returns them.
/// Spans that do not fit `text` (out of bounds, off a char boundary) are
/// skipped; overlapping spans are tolerated and never leave a byte of
/// either value in the output.
pub fn redact(text: &str, spans: &[PiiSpan], map: &mut PseudonymMap) -> String {
    let mut ordered: Vec<&PiiSpan> = spans
        .iter()
        .filter(|s| s.start < s.end && text.get(s.start..s.end).is_some())
        .collect();
    ordered.sort_by_key(|s| (s.start, std::cmp::Reverse(s.end)));

    let mut out = String::with_capacity(text.len());
    let mut cursor = 0;
    for span in ordered {
        if span.end <= cursor {
            continue;
        }
        if span.start > cursor {
            out.push_str(&text[cursor..span.start]);
        }
        let value = &text[span.start..span.end];
        out.push_str(&map.placeholder_for(span.kind, value));
        cursor = span.end;
    }
    out.push_str(&text[cursor..]);
    out
}

/// Puts the original values back in place of the placeholders `map`
/// assigned; other bracketed text is left as it is.
pub fn reidentify(text: &str, map: &PseudonymMap) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        out.push_str(&rest[..open]);
        let candidate = &rest[open..];
        match parse_placeholder(candidate)
            .and_then(|(kind, number, len)| Some((map.value_of(kind, number)?, len)))
        {
            Some((value, len)) => {
                out.push_str(value);
                rest = &candidate[len..];
            }
            None => {
                out.push('[');
                rest = &candidate[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Parses `[KIND_n]` at the start of `text`: the type, the number and the
/// placeholder's length in bytes.
fn parse_placeholder(text: &str) -> Option<(PiiType, usize, usize)> {
    // The longest placeholder, `[PRIVATE_KEY_<20 digits>]`, is well under 48.
    let close = text.bytes().take(48).position(|b| b == b']')?;
    let (kind, number) = text.get(1..close)?.rsplit_once('_')?;
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((PiiType::parse(kind)?, number.parse().ok()?, close + 1))
}

/// The identity of a value for numbering purposes.
fn normalise(kind: PiiType, value: &str) -> String {
    match kind {
        PiiType::Ipv6 => value
            .parse::<Ipv6Addr>()
            .map_or_else(|_| value.to_ascii_lowercase(), |ip| ip.to_string()),
        PiiType::Email => value.replace("%40", "@").to_ascii_lowercase(),
        PiiType::Hostname => value.to_ascii_lowercase(),
        PiiType::MacAddress => value
            .chars()
            .filter(char::is_ascii_hexdigit)
            .map(|c| c.to_ascii_lowercase())
            .collect(),
        PiiType::Phone | PiiType::CreditCard | PiiType::Ssn => {
            value.chars().filter(char::is_ascii_digit).collect()
        }
        _ => value.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(kind: PiiType, text: &str, value: &str) -> PiiSpan {
        let start = text.find(value).expect("test input is valid");
        PiiSpan::new(kind, start, start + value.len())
    }

    #[test]
    fn same_value_same_placeholder_across_calls() {
        let mut map = PseudonymMap::new();
        let first = "dns 10.0.0.2 then 10.0.0.3";
        let spans = vec![
            span(PiiType::Ipv4, first, "10.0.0.2"),
            span(PiiType::Ipv4, first, "10.0.0.3"),
        ];
        assert_eq!(
            redact(first, &spans, &mut map),
            "dns [IPV4_1] then [IPV4_2]"
        );
        let second = "retry 10.0.0.3 via FE80::1 and fe80::1";
        let spans = vec![
            span(PiiType::Ipv4, second, "10.0.0.3"),
            span(PiiType::Ipv6, second, "FE80::1"),
            span(PiiType::Ipv6, second, "fe80::1"),
        ];
        assert_eq!(
            map.redact(second, &spans),
            "retry [IPV4_2] via [IPV6_1] and [IPV6_1]"
        );
        assert_eq!(
            map.reidentify("[IPV6_1] [IPV4_1] [IPV4_9] [NOPE_1] [x"),
            "FE80::1 10.0.0.2 [IPV4_9] [NOPE_1] [x"
        );
    }

    #[test]
    fn map_round_trips_through_json() {
        let mut map = PseudonymMap::new();
        map.placeholder_for(PiiType::Email, "Ops@Example.com");
        map.placeholder_for(PiiType::MacAddress, "00:1A:2B:3C:4D:5E");
        let json = serde_json::to_string(&map).expect("test input is valid");
        assert_eq!(
            json,
            r#"{"EMAIL":["Ops@Example.com"],"MAC_ADDRESS":["00:1A:2B:3C:4D:5E"]}"#
        );
        let mut back: PseudonymMap = serde_json::from_str(&json).expect("test input is valid");
        assert_eq!(back, map);
        assert_eq!(
            back.placeholder_for(PiiType::Email, "ops@example.com"),
            "[EMAIL_1]"
        );
        assert_eq!(
            back.placeholder_for(PiiType::MacAddress, "001a.2b3c.4d5e"),
            "[MAC_ADDRESS_1]"
        );
        assert_eq!(back.len(), 2);
    }

    #[test]
    fn tolerates_bad_and_overlapping_spans() {
        let mut map = PseudonymMap::new();
        let text = "abc é secret";
        let spans = vec![
            PiiSpan::new(PiiType::Password, 7, 13),
            PiiSpan::new(PiiType::ApiKey, 9, 13),
            PiiSpan::new(PiiType::Email, 4, 5),
            PiiSpan::new(PiiType::Email, 11, 99),
        ];
        assert_eq!(redact(text, &spans, &mut map), "abc é [PASSWORD_1]");
    }
}
