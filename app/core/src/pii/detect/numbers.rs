//! Values made of digit groups: phone numbers, US Social Security numbers
//! and payment card numbers (PANs).
//!
//! They share one regex pass because digit-led patterns cannot be found by
//! jumping to a literal: the engine has to walk every byte, so each extra
//! pattern costs a full pass over the text.
//!
//! Logs are full of digit groups (timestamps, durations, ids, versions), so
//! every shape is validated beyond the regex:
//! * phones: international numbers start with `+` and a country code and
//!   have 8-15 digits; North-American ones need an area code and exchange
//!   starting with 2-9 and conventional separators;
//! * SSNs: an area, group and serial the SSA actually assigns (no 000, 666
//!   or 9xx area, no 00 group, no 0000 serial);
//! * cards: the Luhn check and a prefix some network issues at that length,
//!   so order ids and masked cards (`**** **** **** 1234`) stay out.

use std::ops::Range;

use regex::Regex;

use super::compile;
use super::keyed::KeyStarts;
use crate::pii::config::PiiConfigError;
use crate::pii::kind::PiiType;
use crate::pii::literal::Anchored;
use crate::pii::prefilter::{Prefilter, for_each_run};
use crate::pii::resolve::{Candidate, rank};
use crate::pii::text::{byte_at, byte_before, is_word_byte};

pub(crate) struct NumberDetector {
    international_phone: Regex,
    /// `ssn: 123-45-6789`, any letter case; tried only where
    /// [`KeyStarts`] found such a key.
    keyed_ssn: Anchored,
}

impl NumberDetector {
    pub(crate) fn new() -> Result<Self, PiiConfigError> {
        Ok(Self {
            international_phone: compile(
                "phone",
                "\\+[1-9][0-9]{0,2}(?:[ .-]?\\(?[0-9]{1,5}\\)?){1,7}",
            )?,
            // ASCII-case-insensitive, so that no lower-cased copy of the
            // text is needed (and `ſ` does not pass for `s`).
            keyed_ssn: Anchored::new(
                "ssn",
                "(?i-u:ssn|social[_ -]?security(?:[_ -]?(?:number|no))?)[\"']?[ \\t]*[:=][ \\t]*[\"']?([0-9]{3}[ -]?[0-9]{2}[ -]?[0-9]{4})",
            )?,
        })
    }

    /// Digit groups are searched only around the shapes `prefilter` found;
    /// see [`crate::pii::prefilter`].
    pub(crate) fn detect(
        &self,
        text: &str,
        prefilter: &Prefilter,
        keys: &KeyStarts,
        out: &mut Vec<Candidate>,
    ) {
        for_each_run(text, &prefilter.digit_groups, is_digit_group_byte, |run| {
            self.detect_digit_groups(text, run, out);
        });
        self.detect_international_phones(text, out);
        self.keyed_ssn
            .captures_at(text, keys.ssn.clone(), |base, caps| {
                let Some(value) = caps.get(1) else { return };
                let (start, end) = (base + value.start(), base + value.end());
                if number_bounded(text, start, end) && is_assignable_ssn(value.as_str()) {
                    out.push(Candidate::new(PiiType::Ssn, start, end, rank::SSN));
                }
            });
    }

    fn detect_digit_groups(&self, text: &str, range: Range<usize>, out: &mut Vec<Candidate>) {
        let base = range.start;
        let run = &text.as_bytes()[range];
        let mut from = 0;
        while let Some((match_start, match_end)) = next_digit_group(run, from) {
            from = match_end;
            let (start, end) = (base + match_start, base + match_end);
            // Only ASCII bytes are in a run, so this slices on char
            // boundaries.
            let found = &text[start..end];
            // The alternatives have different digit counts (an SSN 9, a
            // phone 10 or 11, a card at least 13).
            let digits = found.bytes().filter(u8::is_ascii_digit).count();
            if digits == 9 {
                if number_bounded(text, start, end) && is_assignable_ssn(found) {
                    out.push(Candidate::new(PiiType::Ssn, start, end, rank::SSN));
                }
            } else if digits < 13 {
                let starts_with_plus = found.starts_with('+');
                let after_plus_or_slash =
                    byte_before(text, start).is_some_and(|b| matches!(b, b'+' | b'/'));
                if (starts_with_plus || !after_plus_or_slash) && phone_bounded(text, start, end) {
                    out.push(Candidate::new(PiiType::Phone, start, end, rank::PHONE));
                }
            } else if number_bounded(text, start, end)
                && let Some((card_start, card_end)) = best_card_within(found)
            {
                out.push(Candidate::new(
                    PiiType::CreditCard,
                    start + card_start,
                    start + card_end,
                    rank::CREDIT_CARD,
                ));
            }
        }
    }

    fn detect_international_phones(&self, text: &str, out: &mut Vec<Candidate>) {
        for m in self.international_phone.find_iter(text) {
            let start = m.start();
            let mut end = m.end();
            let bytes = text.as_bytes();
            // The pattern may swallow a closing parenthesis that belongs to
            // the surrounding prose.
            let opens = bytes[start..end].iter().filter(|&&b| b == b'(').count();
            let closes = bytes[start..end].iter().filter(|&&b| b == b')').count();
            if closes > opens && bytes[end - 1] == b')' {
                end -= 1;
            }
            if bytes[end - 1] == b'(' {
                end -= 1;
            }
            let digits = bytes[start..end]
                .iter()
                .filter(|b| b.is_ascii_digit())
                .count();
            if (8..=15).contains(&digits) && phone_bounded(text, start, end) {
                out.push(Candidate::new(PiiType::Phone, start, end, rank::PHONE));
            }
        }
    }
}

/// SSN, North-American phone or card candidate, in that order of
/// preference at a given start, as one regex: the definition
/// [`next_digit_group`] implements (its tests hold it to this pattern).
/// The card is unbounded, so that a card next to other digits is seen
/// whole and can be picked out of the run.
#[cfg(test)]
const DIGIT_GROUPS_PATTERN: &str = concat!(
    "[0-9]{3}-[0-9]{2}-[0-9]{4}",
    "|(?:\\+?1[ .-]?)?(?:\\([2-9][0-9]{2}\\)[ .-]?|[2-9][0-9]{2}[.-])[2-9][0-9]{2}[.-][0-9]{4}",
    "|[0-9](?:[ -]?[0-9]){12,}",
);

/// The next match of [`DIGIT_GROUPS_PATTERN`] in `run` at or after `from`,
/// as `(start, end)`: the one `Regex::find_iter` would give, that is the
/// leftmost start and, there, the first alternative that matches, each
/// read as a backtracking engine would (optional parts taken when they
/// lead to a match).
///
/// Written out rather than left to the regex engine because logs are full
/// of long digit groups (timestamps, block ids) that the prefilter must
/// hand over, and a regex search costs a forward and a reverse pass plus
/// its set-up on each run; this costs a few byte comparisons.
fn next_digit_group(run: &[u8], from: usize) -> Option<(usize, usize)> {
    // A card that is too short from one start is too short from every
    // later start in the same joined digits: skip those.
    let mut no_card_before = 0;
    for start in from..run.len() {
        let rest = &run[start..];
        if let Some(len) = ssn_shape(rest).or_else(|| phone_shape(rest)) {
            return Some((start, start + len));
        }
        if start >= no_card_before {
            let (len, digits) = joined_digits(rest);
            if digits >= 13 {
                return Some((start, start + len));
            }
            no_card_before = start + len.max(1);
        }
    }
    None
}

/// `ddd-dd-dddd` at the start of `rest`.
fn ssn_shape(rest: &[u8]) -> Option<usize> {
    let shape = rest.get(..11)?;
    shape
        .iter()
        .enumerate()
        .all(|(i, &b)| {
            if i == 3 || i == 6 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        })
        .then_some(11)
}

/// A North-American number at the start of `rest`: an optional `+1` or
/// `1` and separator, an area code in parentheses (then an optional
/// separator) or followed by `.` or `-`, then `NXX-XXXX`. The options are
/// tried in the regex's order: each optional part first taken, then left.
fn phone_shape(rest: &[u8]) -> Option<usize> {
    let at = |i: usize| rest.get(i).copied();
    let is_separator = |i: usize| matches!(at(i), Some(b' ' | b'.' | b'-'));
    let mut prefixes = [0usize; 3];
    let mut count = 0;
    let mut push = |len: usize| {
        prefixes[count] = len;
        count += 1;
    };
    if at(0) == Some(b'+') && at(1) == Some(b'1') {
        if is_separator(2) {
            push(3);
        }
        push(2);
    } else if at(0) == Some(b'1') {
        if is_separator(1) {
            push(2);
        }
        push(1);
    }
    push(0);
    for &prefix in &prefixes[..count] {
        let area = rest.get(prefix..).unwrap_or_default();
        for area_len in area_code_lengths(area).into_iter().flatten() {
            if exchange_and_line(area.get(area_len..).unwrap_or_default()) {
                return Some(prefix + area_len + 8);
            }
        }
    }
    None
}

/// The lengths an area code at the start of `rest` can take, in the
/// regex's order: `(NXX)` with a separator, `(NXX)`, `NXX.` or `NXX-`.
fn area_code_lengths(rest: &[u8]) -> [Option<usize>; 2] {
    let nxx = |digits: &[u8]| matches!(digits, [b'2'..=b'9', b'0'..=b'9', b'0'..=b'9']);
    match rest {
        [b'(', a, b, c, b')', tail @ ..] if nxx(&[*a, *b, *c]) => {
            let separated = matches!(tail.first(), Some(b' ' | b'.' | b'-'));
            [separated.then_some(6), Some(5)]
        }
        [a, b, c, b'.' | b'-', ..] if nxx(&[*a, *b, *c]) => [Some(4), None],
        _ => [None, None],
    }
}

/// `NXX-XXXX` (or with a dot) at the start of `rest`.
fn exchange_and_line(rest: &[u8]) -> bool {
    matches!(
        rest,
        [
            b'2'..=b'9',
            b'0'..=b'9',
            b'0'..=b'9',
            b'.' | b'-',
            b'0'..=b'9',
            b'0'..=b'9',
            b'0'..=b'9',
            b'0'..=b'9',
            ..
        ]
    )
}

/// The digits joined by single spaces or dashes at the start of `rest`:
/// their length in bytes and how many digits they hold (0 and 0 when
/// `rest` does not start with a digit).
fn joined_digits(rest: &[u8]) -> (usize, usize) {
    if !rest.first().is_some_and(u8::is_ascii_digit) {
        return (0, 0);
    }
    let (mut len, mut digits) = (1, 1);
    loop {
        match rest.get(len..) {
            Some([b'0'..=b'9', ..]) => len += 1,
            Some([b' ' | b'-', b'0'..=b'9', ..]) => len += 2,
            _ => return (len, digits),
        }
        digits += 1;
    }
}

/// The bytes a match of [`next_digit_group`] is made of.
const fn is_digit_group_byte(b: u8) -> bool {
    b.is_ascii_digit() || matches!(b, b' ' | b'(' | b')' | b'+' | b'.' | b'-')
}

/// Neither glued to a word nor part of a longer dotted or dashed number.
fn phone_bounded(text: &str, start: usize, end: usize) -> bool {
    let before_ok =
        !byte_before(text, start).is_some_and(|b| is_word_byte(b) || matches!(b, b'.' | b'-'));
    let after_ok = match byte_at(text, end) {
        None => true,
        Some(b) if is_word_byte(b) => false,
        Some(b'.' | b'-' | b',' | b':') => {
            !byte_at(text, end + 1).is_some_and(|b| b.is_ascii_digit())
        }
        Some(_) => true,
    };
    before_ok && after_ok
}

/// Not glued to a word and not part of a longer dotted or dashed number.
fn number_bounded(text: &str, start: usize, end: usize) -> bool {
    let before_ok = !byte_before(text, start)
        .is_some_and(|b| is_word_byte(b) || matches!(b, b'.' | b'-' | b'+'));
    let after_ok = match byte_at(text, end) {
        None => true,
        Some(b) if is_word_byte(b) => false,
        Some(b'.' | b'-' | b',') => !byte_at(text, end + 1).is_some_and(|b| b.is_ascii_digit()),
        Some(_) => true,
    };
    before_ok && after_ok
}

/// The longest run of whole digit groups inside `candidate` that is a
/// plausible card number, as byte offsets into `candidate`. A candidate
/// may join a card to a neighbouring number ("4111… 123"), so sub-runs are
/// tried too.
fn best_card_within(candidate: &str) -> Option<(usize, usize)> {
    // (start, end, separator before the group)
    let mut groups: Vec<(usize, usize, Option<u8>)> = Vec::new();
    let bytes = candidate.as_bytes();
    let mut group_start = 0;
    let mut separator = None;
    for (i, &b) in bytes.iter().enumerate() {
        if !b.is_ascii_digit() {
            groups.push((group_start, i, separator));
            separator = Some(b);
            group_start = i + 1;
        }
    }
    groups.push((group_start, bytes.len(), separator));

    let mut best: Option<(usize, usize, usize)> = None; // (digits, start, end)
    for first in 0..groups.len() {
        let mut digits = 0;
        for last in first..groups.len() {
            let run = &groups[first..=last];
            digits += groups[last].1 - groups[last].0;
            if digits > 19 {
                break;
            }
            if digits < 13 || best.is_some_and(|(d, _, _)| d >= digits) {
                continue;
            }
            let separators_agree = run
                .windows(2)
                .all(|pair| pair[1].2 == run.get(1).and_then(|g| g.2));
            let grouped_like_a_card = run.len() == 1
                || (run[0].1 - run[0].0 == 4
                    && run.iter().all(|(s, e, _)| (3..=6).contains(&(e - s))));
            if !separators_agree || !grouped_like_a_card {
                continue;
            }
            let (start, end) = (run[0].0, run[run.len() - 1].1);
            let number: Vec<u8> = candidate.as_bytes()[start..end]
                .iter()
                .filter(|b| b.is_ascii_digit())
                .map(|b| b - b'0')
                .collect();
            if luhn_valid(&number) && issuer_accepts(&number) {
                best = Some((digits, start, end));
            }
        }
    }
    best.map(|(_, start, end)| (start, end))
}

fn luhn_valid(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Whether some card network issues numbers with this prefix and length.
fn issuer_accepts(digits: &[u8]) -> bool {
    let len = digits.len();
    let prefix = |n: usize| -> u32 {
        digits
            .iter()
            .take(n)
            .fold(0, |acc, &d| acc * 10 + u32::from(d))
    };
    let (p1, p2, p3, p4, p6) = (prefix(1), prefix(2), prefix(3), prefix(4), prefix(6));
    let visa = p1 == 4 && matches!(len, 13 | 16 | 19);
    let mastercard = ((51..=55).contains(&p2) || (2221..=2720).contains(&p4)) && len == 16;
    let amex = matches!(p2, 34 | 37) && len == 15;
    let discover =
        (p4 == 6011 || (644..=649).contains(&p3) || p2 == 65 || (622_126..=622_925).contains(&p6))
            && (16..=19).contains(&len);
    let diners =
        ((300..=305).contains(&p3) || matches!(p2, 36 | 38 | 39)) && (14..=19).contains(&len);
    let jcb = (3528..=3589).contains(&p4) && (16..=19).contains(&len);
    let unionpay = p2 == 62 && (16..=19).contains(&len);
    let mir = (2200..=2204).contains(&p4) && (16..=19).contains(&len);
    let maestro = (p2 == 50 || (56..=58).contains(&p2) || p1 == 6) && (13..=19).contains(&len);
    visa || mastercard || amex || discover || diners || jcb || unionpay || mir || maestro
}

/// The SSA never assigns area 000, 666 or 900-999, group 00 or serial 0000.
fn is_assignable_ssn(value: &str) -> bool {
    let digits: Vec<u32> = value
        .bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| u32::from(b - b'0'))
        .collect();
    if digits.len() != 9 {
        return false;
    }
    let area = digits[0] * 100 + digits[1] * 10 + digits[2];
    let group = digits[3] * 10 + digits[4];
    let serial = digits[5..].iter().fold(0, |acc, d| acc * 10 + d);
    area != 0 && area != 666 && area < 900 && group != 0 && serial != 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn written_out(run: &str) -> Vec<(usize, usize)> {
        super::super::every_match(run, next_digit_group)
    }

    fn by_regex(run: &str) -> Vec<(usize, usize)> {
        let regex = Regex::new(DIGIT_GROUPS_PATTERN).expect("test input is valid");
        regex.find_iter(run).map(|m| (m.start(), m.end())).collect()
    }

    #[test]
    fn written_out_matcher_is_the_regex() {
        for run in [
            "123-45-6789",
            "+1 (417) 555-0123",
            "+1(417) 555-0123",
            "+1-417-555-0123",
            "1.417.555.0123",
            "1 (417)555-0123",
            "(417) 555-0123",
            "(117) 555-0123",
            "417-155-0123",
            "+2 417-555-0123",
            "+14175550123",
            "4111 1111 1111 1111",
            "4111-1111-1111-1111 123",
            "1234 5678 901",
            "1  2345678901234",
            "- 1117838570 2005.06.03 ",
            "081109 203615 148 ",
            "123-45-67890123456789",
            "1-800-555-0102",
            "(((417) 555-0123)",
            "",
        ] {
            assert_eq!(written_out(run), by_regex(run), "{run:?}");
        }
    }

    /// Pieces of runs around the edges of the three shapes, and what joins
    /// them.
    const RUN_PIECES: &[&str] = &[
        "0", "1", "2", "9", "12", "45", "123", "417", "555", "117", "0123", "4111", "1111", "6789",
        "12345", "123456", "+", "+1", "(", ")", "(417)", "(117)",
    ];
    const RUN_JOINS: &[&str] = &["", "", "-", "-", " ", " ", ".", "  ", "+", "(", ")"];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]
        #[test]
        fn written_out_matcher_agrees_with_the_regex(
            pieces in prop::collection::vec(
                (prop::sample::select(RUN_PIECES), prop::sample::select(RUN_JOINS)),
                0..10,
            )
        ) {
            let run: String = pieces.iter().flat_map(|(piece, join)| [*piece, *join]).collect();
            prop_assert_eq!(written_out(&run), by_regex(&run));
        }
    }

    fn found(text: &str) -> Vec<(PiiType, &str)> {
        let detector = NumberDetector::new().expect("test input is valid");
        let mut out = Vec::new();
        detector.detect(
            text,
            &Prefilter::new(text),
            &KeyStarts::new(text, &Prefilter::new(text)),
            &mut out,
        );
        out.sort_by_key(|c| (c.start, c.end));
        out.dedup_by_key(|c| (c.start, c.end));
        out.iter()
            .map(|c| (c.kind, &text[c.start..c.end]))
            .collect()
    }

    #[test]
    fn cards() {
        for card in [
            "4111111111111111",
            "3477 789625 41143",
            "6011-7754-0979-6019",
            "36455134586068",
            "5459591667900222",
        ] {
            let text = format!("\"pan\": \"{card}\",");
            assert_eq!(found(&text), vec![(PiiType::CreditCard, card)], "{card}");
        }
        assert_eq!(
            found("card 4111111111111111 123"),
            vec![(PiiType::CreditCard, "4111111111111111")]
        );
        assert_eq!(
            found("ids 123-45-6789 4111111111111111 7"),
            vec![
                (PiiType::Ssn, "123-45-6789"),
                (PiiType::CreditCard, "4111111111111111")
            ]
        );
        assert!(found("card **** **** **** 1234").is_empty());
        assert!(found("4111111111111112").is_empty(), "Luhn-invalid");
        assert!(
            found("ts 1716543210123 ms").is_empty(),
            "no issuer starts with 1"
        );
        assert!(found("0000000100000A4A000000FC").is_empty());
    }

    #[test]
    fn ssns() {
        assert_eq!(
            found("\"ssn\": \"404-08-0494\""),
            vec![(PiiType::Ssn, "404-08-0494")]
        );
        assert_eq!(found("ssn=404080494"), vec![(PiiType::Ssn, "404080494")]);
        for invalid in [
            "000-12-3456",
            "666-12-3456",
            "912-12-3456",
            "123-00-4567",
            "123-45-0000",
        ] {
            assert!(found(invalid).is_empty(), "{invalid}");
        }
        assert!(found("v1.123-45-6789").is_empty());
    }

    #[test]
    fn phones() {
        for phone in [
            "+44 20 7946 0141",
            "+49 (0)89 7448091",
            "+55 11 94716-5537",
            "+81-3-8985-6676",
            "+15125550156",
            "+1 247 555 0172",
            "(417) 555-0123",
            "911.555.0176",
            "1-800-555-0102",
            "451-555-0153",
            "+33 1 71 60 53 88",
        ] {
            let text = format!("call \"{phone}\" now");
            assert_eq!(found(&text), vec![(PiiType::Phone, phone)], "{phone}");
        }
        for not_phone in [
            "[23/May/2024:09:12:45 +0000]",
            "took 1553.425ms",
            "ssl_earliest_cert_expiry=1724284804",
            "v3.8.1 build 2024.05.27",
            "ext. 2049",
            "S-1-5-21-3300000121-1117110685-625846177-4210",
            "2024-05-27 18:00:10",
        ] {
            assert!(
                !found(not_phone)
                    .iter()
                    .any(|(kind, _)| *kind == PiiType::Phone),
                "{not_phone}"
            );
        }
    }
}
