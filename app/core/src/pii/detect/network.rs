//! Network identifiers: IPv4, IPv6 and MAC addresses.
//!
//! The regexes only propose candidates; the decisions live in code, where
//! they can look at the neighbouring characters. That is how dotted version
//! numbers (`Chrome/124.0.0.0`, `api:3.8.1.67`, `10.0.19041.1`), OIDs,
//! clock times (`12:30:45`), SSH fingerprints and certificate serials are
//! told apart from addresses without giving up on real addresses in odd
//! places (`[10.0.0.1]:53`, `::ffff:10.1.2.3`, `fe80::1%eth0`).

use std::net::Ipv6Addr;
use std::ops::Range;

use regex::Regex;

use super::compile;
use crate::pii::config::PiiConfigError;
use crate::pii::kind::PiiType;
use crate::pii::prefilter::{Prefilter, for_each_run};
use crate::pii::resolve::{Candidate, rank};
use crate::pii::text::{byte_at, byte_before, is_word_byte, line_window, word_before};

#[cfg(test)]
const OCTET: &str = "(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";

pub(crate) struct NetworkDetector {
    /// [`RELEASE_PHRASES`], ignoring ASCII case.
    release_phrases: Regex,
}

/// IPv4 addresses and the dashed and dotted MAC notations, as one regex:
/// the definition [`next_dotted_or_dashed`] implements (its tests hold it
/// to this pattern).
#[cfg(test)]
fn dotted_or_dashed_pattern() -> String {
    format!(
        "[0-9A-Fa-f]{{2}}(?:-[0-9A-Fa-f]{{2}}){{5}}|[0-9A-Fa-f]{{4}}\\.[0-9A-Fa-f]{{4}}\\.[0-9A-Fa-f]{{4}}|{OCTET}(?:\\.{OCTET}){{3}}"
    )
}

/// The next match of [`dotted_or_dashed_pattern`] in `run` at or after
/// `from`, as `(start, end)`: the one `Regex::find_iter` would give, that
/// is the leftmost start and, there, the first alternative that matches
/// (a dashed MAC, a dotted MAC, a dotted quad).
///
/// Written out rather than left to the regex engine because the prefilter
/// hands over tens of thousands of short runs per megabyte of logs (every
/// dotted quad), and a regex search costs a forward and a reverse pass
/// plus its set-up on each; this costs a few byte comparisons.
fn next_dotted_or_dashed(run: &[u8], from: usize) -> Option<(usize, usize)> {
    (from..run.len()).find_map(|start| {
        let rest = &run[start..];
        dashed_mac(rest)
            .or_else(|| dotted_mac(rest))
            .or_else(|| dotted_quad(rest))
            .map(|len| (start, start + len))
    })
}

/// `hh-hh-hh-hh-hh-hh` at the start of `rest`.
fn dashed_mac(rest: &[u8]) -> Option<usize> {
    hex_groups(rest, 2, 6, b'-')
}

/// `hhhh.hhhh.hhhh` at the start of `rest`.
fn dotted_mac(rest: &[u8]) -> Option<usize> {
    hex_groups(rest, 4, 3, b'.')
}

/// `groups` groups of `width` hex digits joined by `separator`, at the
/// start of `rest`: their length.
fn hex_groups(rest: &[u8], width: usize, groups: usize, separator: u8) -> Option<usize> {
    let len = groups * (width + 1) - 1;
    rest.get(..len)?
        .iter()
        .enumerate()
        .all(|(i, &b)| {
            if i % (width + 1) == width {
                b == separator
            } else {
                b.is_ascii_hexdigit()
            }
        })
        .then_some(len)
}

/// `OCTET(\.OCTET){3}` at the start of `rest`, as the regex engine reads
/// it. Each of the first three octets must be followed by a dot, so it is
/// all the digits up to that dot; the last takes the first of
/// [`OCTET`]'s alternatives that fits, so `1.2.3.256` ends in `25` and
/// `1.2.3.1999` in `199`.
fn dotted_quad(rest: &[u8]) -> Option<usize> {
    let mut at = 0;
    for _ in 0..3 {
        let digits = leading_digits(&rest[at..]);
        if rest.get(at + digits) != Some(&b'.') || !is_octet(&rest[at..at + digits]) {
            return None;
        }
        at += digits + 1;
    }
    let last = &rest[at..];
    let digits = leading_digits(last);
    let len = if digits >= 3 && is_octet(&last[..3]) {
        3
    } else if digits >= 2 && last[0] != b'0' {
        2
    } else if digits >= 1 {
        1
    } else {
        return None;
    };
    Some(at + len)
}

/// How many ASCII digits `bytes` starts with, counting at most four.
fn leading_digits(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .take(4)
        .take_while(|b| b.is_ascii_digit())
        .count()
}

/// Whether `digits` (ASCII digits) is a whole match of [`OCTET`]: 0-255
/// without a leading zero.
fn is_octet(digits: &[u8]) -> bool {
    match *digits {
        [_] => true,
        [first, _] => first != b'0',
        [b'1', _, _] => true,
        [b'2', second, third] => second <= b'4' || (second == b'5' && third <= b'5'),
        _ => false,
    }
}

/// The bytes a match of [`next_dotted_or_dashed`] is made of.
const fn is_address_byte(b: u8) -> bool {
    b.is_ascii_hexdigit() || b == b'.' || b == b'-'
}

/// The bytes of a colon run: IPv6 addresses and colon MACs.
const fn is_colon_run_byte(b: u8) -> bool {
    b.is_ascii_hexdigit() || b == b'.' || b == b':'
}

impl NetworkDetector {
    pub(crate) fn new() -> Result<Self, PiiConfigError> {
        let phrases: Vec<String> = RELEASE_PHRASES.iter().map(|p| regex::escape(p)).collect();
        Ok(Self {
            release_phrases: compile("network", &format!("(?i-u:{})", phrases.join("|")))?,
        })
    }

    /// Looks for addresses only around the shapes `prefilter` found;
    /// see [`crate::pii::prefilter`].
    pub(crate) fn detect(&self, text: &str, prefilter: &Prefilter, out: &mut Vec<Candidate>) {
        for_each_run(text, &prefilter.address, is_address_byte, |run| {
            self.detect_addresses(text, run, out);
        });
        for_each_run(text, &prefilter.colon_run, is_colon_run_byte, |run| {
            detect_colon_run(text, run, out);
        });
    }

    fn detect_addresses(&self, text: &str, range: Range<usize>, out: &mut Vec<Candidate>) {
        let base = range.start;
        let run = &text.as_bytes()[range];
        let mut from = 0;
        while let Some((match_start, match_end)) = next_dotted_or_dashed(run, from) {
            from = match_end;
            let (start, end) = (base + match_start, base + match_end);
            // Only ASCII bytes are in a run, so this slices on char
            // boundaries.
            let value = &text[start..end];
            let is_mac = value.contains('-') || (value.len() == 14 && value.as_bytes()[4] == b'.');
            if is_mac {
                // Twelve decimal digits in groups are more likely a number.
                let all_decimal = value
                    .bytes()
                    .all(|b| b.is_ascii_digit() || b == b'-' || b == b'.');
                if mac_bounded(text, start, end) && !all_decimal {
                    out.push(Candidate::new(PiiType::MacAddress, start, end, rank::MAC));
                }
                continue;
            }
            if ipv4_bounded(text, start, end)
                && !is_network_address(text, value, end)
                && !looks_like_version_or_oid(text, start, value, &self.release_phrases)
            {
                out.push(Candidate::new(PiiType::Ipv4, start, end, rank::IPV4));
            }
        }
    }
}

/// A maximal run of hex digits, dots and colons with at least two colons
/// (whether it is an address is decided by parsing it). The run is what
/// `[0-9A-Fa-f.]*:[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*` would match, whole: the
/// first two groups stop at the first two colons and the last takes the
/// rest.
fn detect_colon_run(text: &str, run: Range<usize>, out: &mut Vec<Candidate>) {
    let bytes = text.as_bytes();
    if bytes[run.clone()].iter().filter(|&&b| b == b':').count() < 2 {
        return;
    }
    let start = run.start;
    let mut end = run.end;
    // A sentence may end right after an address; a single trailing colon is
    // a separator ("fe80::1: duplicate"), a double one is part of the
    // address ("2001:db8::").
    while end > start && bytes[end - 1] == b'.' {
        end -= 1;
    }
    if end >= start + 2 && bytes[end - 1] == b':' && bytes[end - 2] != b':' {
        end -= 1;
    }
    if byte_before(text, start).is_some_and(is_word_byte)
        || byte_at(text, end).is_some_and(|b| is_word_byte(b) || b == b'-')
    {
        return;
    }
    let run = &text[start..end];
    if is_colon_mac(run) {
        out.push(Candidate::new(PiiType::MacAddress, start, end, rank::MAC));
    } else if could_be_ipv6(run) && run.parse::<Ipv6Addr>().is_ok() {
        out.push(Candidate::new(PiiType::Ipv6, start, end, rank::IPV6));
    }
}

/// `00:1a:2b:3c:4d:5e`: exactly six two-digit hex groups.
fn is_colon_mac(run: &str) -> bool {
    run.len() == 17
        && run
            .split(':')
            .map(|group| group.len() == 2 && group.bytes().all(|b| b.is_ascii_hexdigit()))
            .filter(|ok| *ok)
            .count()
            == 6
}

/// Cheap rejections before parsing: clock times ("09:12:45") and other
/// short colon runs have neither `::` nor the seven colons of a full
/// address (six with an embedded IPv4 address).
fn could_be_ipv6(run: &str) -> bool {
    let colons = run.bytes().filter(|&b| b == b':').count();
    let has_hex = run.bytes().any(|b| b.is_ascii_hexdigit());
    has_hex && (run.contains("::") || colons == 7 || (colons == 6 && run.contains('.')))
}

/// Not part of a longer colon, dash or dot run, nor glued to a word.
fn mac_bounded(text: &str, start: usize, end: usize) -> bool {
    let before_ok = match byte_before(text, start) {
        None => true,
        Some(b) => !(is_word_byte(b) || b == b':' || b == b'-' || b == b'.'),
    };
    let after_ok = match byte_at(text, end) {
        None => true,
        Some(b) if is_word_byte(b) => false,
        Some(b':' | b'-' | b'.') => !byte_at(text, end + 1).is_some_and(|b| b.is_ascii_hexdigit()),
        Some(_) => true,
    };
    before_ok && after_ok
}

/// The dotted quad stands alone: not part of a longer dotted number
/// (`10.0.19041.1`, `1.3.6.1.4.1`) nor glued to a word.
fn ipv4_bounded(text: &str, start: usize, end: usize) -> bool {
    let before_ok = match byte_before(text, start) {
        None => true,
        Some(b) if is_word_byte(b) => false,
        Some(b'.') => !byte_before(text, start - 1).is_some_and(|b| b.is_ascii_digit()),
        Some(_) => true,
    };
    let after_ok = match byte_at(text, end) {
        None => true,
        Some(b) if is_word_byte(b) => false,
        Some(b'.') => !byte_at(text, end + 1).is_some_and(|b| b.is_ascii_digit()),
        Some(_) => true,
    };
    before_ok && after_ok
}

/// `10.30.8.0/22`: a CIDR block whose host bits are zero names a network,
/// not a machine.
fn is_network_address(text: &str, address: &str, end: usize) -> bool {
    if byte_at(text, end) != Some(b'/') {
        return false;
    }
    let digits: String = text[end + 1..]
        .bytes()
        .take_while(u8::is_ascii_digit)
        .take(3)
        .map(char::from)
        .collect();
    let Ok(prefix) = digits.parse::<u32>() else {
        return false;
    };
    let Ok(ip) = address.parse::<std::net::Ipv4Addr>() else {
        return false;
    };
    if prefix >= 32 {
        return false;
    }
    let host_mask = u32::MAX.checked_shr(prefix).unwrap_or(0);
    u32::from(ip) & host_mask == 0
}

/// Object identifier arcs that appear in certificates and SNMP output.
#[rustfmt::skip]
const OID_PREFIXES: &[&str] = &[
    "1.2.840.", "1.3.6.1", "1.3.14.", "1.3.132.", "2.5.4.", "2.5.29.", "2.16.840.", "2.23.",
];

/// Words that introduce an address; after them a dotted quad is an IP even
/// on a line about a deployment.
#[rustfmt::skip]
const ADDRESS_WORDS: &[&str] = &[
    "from", "to", "client", "server", "host", "ip", "addr", "address", "src", "dst", "source",
    "destination", "peer", "remote", "via", "nameserver", "gateway", "gw", "dns", "proxy",
    "upstream", "listen", "listening", "bind", "on", "at", "connect", "connecting", "connected",
    "trying", "resolved", "resolves", "banip", "ban", "unban", "for", "by",
];

/// Words after which a dotted number is a version or an object identifier.
const VERSION_WORDS: &[&str] = &[
    "v", "ver", "version", "release", "build", "firmware", "fw", "rev", "revision", "tag", "oid",
];

#[rustfmt::skip]
const RELEASE_PHRASES: &[&str] = &[
    "deploy", "rolled out", "rollout", "rollback", "roll back", "rolling back", "upgrade",
    "downgrade", "released", "release ", "installed", "installing", "bump",
];

fn looks_like_version_or_oid(
    text: &str,
    start: usize,
    value: &str,
    release_phrases: &Regex,
) -> bool {
    let bytes = text.as_bytes();
    let before = byte_before(text, start);
    // Product tokens: "Chrome/124.0.0.0", "Version/17.4.1.1" — but not
    // Java's "db01.prod.internal/10.0.4.7:5432" or "localhost/127.0.0.1:80".
    if before == Some(b'/') && start >= 2 && bytes[start - 2].is_ascii_alphabetic() {
        let product = word_before(text, start - 1, 64);
        let product = product
            .rsplit(['"', '\'', '(', '='])
            .next()
            .unwrap_or(product);
        let followed_by_port = byte_at(text, start + value.len()) == Some(b':')
            && byte_at(text, start + value.len() + 1).is_some_and(|b| b.is_ascii_digit());
        if !product.contains('.') && !followed_by_port {
            return true;
        }
    }
    // Image tags: "registry/app:3.8.1.67" (but not "tcp://host:…").
    if before == Some(b':') {
        let token = word_before(text, start - 1, 256);
        let token = token.rsplit(['"', '\'', '=', '(']).next().unwrap_or(token);
        if token.contains('/') && !token.contains("://") {
            return true;
        }
    }
    // In `"version": "1.2.3.4"` the key sits before the opening quote.
    let word_end = if matches!(before, Some(b'"' | b'\'')) {
        start - 1
    } else {
        start
    };
    // The last identifier of the preceding word: `{"version":` -> version.
    let word = word_before(text, word_end, 48)
        .trim_end_matches(|c: char| !c.is_ascii_alphanumeric())
        .rsplit(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .next()
        .unwrap_or("");
    let is_one_of = |words: &[&str]| words.iter().any(|w| w.eq_ignore_ascii_case(word));
    if is_one_of(VERSION_WORDS) {
        return true;
    }
    if OID_PREFIXES.iter().any(|prefix| value.starts_with(prefix)) {
        return true;
    }
    // On a line announcing a deployment, a dotted quad that no address word
    // introduces is the version being rolled out ("payments 8.14.0.3 rolled
    // out", "4.2.7.1 -> 4.2.8.0"). A quad opening the line is the client of
    // an access log.
    let introduced_as_address = matches!(
        before,
        None | Some(b'\n' | b'=' | b'[' | b'(' | b'@' | b',' | b'<' | b'"' | b'\'' | b'/' | b'{')
    ) || is_one_of(ADDRESS_WORDS);
    if introduced_as_address {
        return false;
    }
    release_phrases.is_match(line_window(text, start, 512))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn written_out(run: &str) -> Vec<(usize, usize)> {
        super::super::every_match(run, next_dotted_or_dashed)
    }

    fn by_regex(run: &str) -> Vec<(usize, usize)> {
        let regex = Regex::new(&dotted_or_dashed_pattern()).expect("test input is valid");
        regex.find_iter(run).map(|m| (m.start(), m.end())).collect()
    }

    #[test]
    fn written_out_matcher_is_the_regex() {
        for run in [
            "10.20.4.23",
            "1.2.3.256",
            "1.2.3.1999",
            "1.2.3.2999",
            "01.2.3.4",
            "1.02.3.4",
            "255.255.255.255",
            "256.1.1.1",
            "1.2.3.4.5.6.7.8.9",
            "10.0.19041.1",
            "00-1A-2B-3C-4D-5E",
            "00-1A-2B-3C-4D-5E-6F",
            "001a.2bf8.e8fb",
            "1111.2222.3333",
            "12-34-56-78-90-12.1.2.3.4",
            "a.b.c.d",
            "-1.2.3.4-",
            "1..2.3.4",
            "9.9.9.",
            "",
        ] {
            assert_eq!(written_out(run), by_regex(run), "{run:?}");
        }
    }

    /// Pieces of runs around every edge of the octet and MAC rules, and
    /// what joins them: random runs are then mostly quads, near quads and
    /// near MACs.
    const RUN_PIECES: &[&str] = &[
        "0", "1", "2", "5", "9", "00", "01", "10", "19", "25", "26", "99", "100", "199", "200",
        "249", "250", "255", "256", "259", "260", "299", "300", "999", "1000", "1999", "2559", "a",
        "F", "0a", "1A", "ab", "fe80", "1a2b", "e8fb", "abcd", "12345",
    ];
    const RUN_JOINS: &[&str] = &[".", ".", ".", ".", "-", "-", "", ".."];

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
        let detector = NetworkDetector::new().expect("test input is valid");
        let mut out = Vec::new();
        detector.detect(text, &Prefilter::new(text), &mut out);
        out.sort_by_key(|c| (c.start, c.end));
        out.iter()
            .map(|c| (c.kind, &text[c.start..c.end]))
            .collect()
    }

    #[test]
    fn ipv4_excludes_port_and_versions() {
        assert_eq!(
            found("dial tcp 10.20.4.23:5432: refused"),
            vec![(PiiType::Ipv4, "10.20.4.23")]
        );
        assert!(found("Windows 10.0.19041.1 build").is_empty());
        assert!(found("OID 1.3.6.1.4.1.311").is_empty());
        assert!(found("Chrome/124.0.0.0 Safari").is_empty());
        assert!(found(r#"{"version": "8.14.0.3"}"#).is_empty());
        assert_eq!(
            found("refused: db01/10.0.4.7:5432"),
            vec![(PiiType::Ipv4, "10.0.4.7")]
        );
        assert!(found("image harbor/api:3.8.1.67 pulled").is_empty());
        assert!(found("version: 5.1.3.0,").is_empty());
        assert!(found("deploy: session-cache 4.2.7.1 -> 4.2.8.0 (fix)").is_empty());
        assert_eq!(
            found("deploy to 10.1.2.3 done"),
            vec![(PiiType::Ipv4, "10.1.2.3")]
        );
        assert!(found("network 10.30.8.0/22: no free leases").is_empty());
        assert_eq!(
            found("addr 10.30.8.7/22 up"),
            vec![(PiiType::Ipv4, "10.30.8.7")]
        );
        assert_eq!(
            found("]...13.230.141.211["),
            vec![(PiiType::Ipv4, "13.230.141.211")]
        );
    }

    #[test]
    fn ipv6_forms() {
        assert_eq!(
            found("from fe80::1%eth0 x"),
            vec![(PiiType::Ipv6, "fe80::1")]
        );
        let mapped = found("Address: ::ffff:10.50.3.14");
        assert!(mapped.contains(&(PiiType::Ipv6, "::ffff:10.50.3.14")));
        assert_eq!(
            found("[2001:db8::1]:443"),
            vec![(PiiType::Ipv6, "2001:db8::1")]
        );
        assert_eq!(
            found("ns fd00:10:0:551a::53."),
            vec![(PiiType::Ipv6, "fd00:10:0:551a::53")]
        );
        assert!(found("at 12:30:45 UTC").is_empty());
        assert!(found("std::vector and Foo::bar").is_empty());
        assert!(found("MD5:ed:55:b1:db:1f:7d:e0:18:22:30:47:db:ac:9c:d7:0a").is_empty());
        assert!(found("error:0A000416:SSL routines::sslv3").is_empty());
    }

    #[test]
    fn mac_forms() {
        assert_eq!(
            found("from 00:50:56:4d:28:6C via"),
            vec![(PiiType::MacAddress, "00:50:56:4d:28:6C")]
        );
        assert_eq!(
            found("Host 001a.2bf8.e8fb in"),
            vec![(PiiType::MacAddress, "001a.2bf8.e8fb")]
        );
        assert_eq!(
            found("mac=00-1A-2B-3C-4D-5E;"),
            vec![(PiiType::MacAddress, "00-1A-2B-3C-4D-5E")]
        );
        assert!(found("db:7c:28:dc:53:81:c1:5b:68:31:f1:93").is_empty());
        assert_eq!(
            found("link 00:1a:2b:3c:4d:5e: up"),
            vec![(PiiType::MacAddress, "00:1a:2b:3c:4d:5e")]
        );
        assert!(found("serial 12-34-56-78-90-12 and 1234.5678.9012").is_empty());
    }
}
