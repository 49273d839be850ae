//! The syslog line headers the host detector reads the machine name from,
//! recognised by a small hand-written parser.
//!
//! Four shapes, tried in this order at the start of a line:
//! * BSD: `<PRI>May 21 01:58:03 host prog[42]:`;
//! * ISO-timestamped: `<PRI>2024-05-21T01:58:03.123+00:00 host prog[42]:`;
//! * RFC 5424: `<34>1 2003-10-11T22:14:15.003Z host ` (up to the space
//!   after the host);
//! * Cisco IOS: `*12: May 29 07:57:05.858 UTC: host: %FAC-5-MNEMONIC`.
//!
//! [`header`] is the anchored regex [`HEADER_PATTERN`] (in the tests)
//! written out: it matches exactly where the regex does and ends where the
//! regex's match ends, which its tests check on generated lines; it also
//! tells where the host field is, as the regex's capture group would. Each part
//! of the pattern can only be read one way (every optional or repeated part
//! is followed by a byte it cannot hold), so the parser never backtracks.
//! The prefilter hands over thousands of lines per megabyte of logs, and a
//! regex search costs its set-up on each; this costs a walk over the bytes.

use std::ops::Range;

/// `[A-Za-z0-9][A-Za-z0-9._-]{0,252}`: a host field.
#[cfg(test)]
const HOST: &str = "[A-Za-z0-9][A-Za-z0-9._-]{0,252}";

/// The four header shapes as one anchored regex: the definition
/// [`header`] implements.
#[cfg(test)]
fn header_pattern() -> String {
    [
        format!(
            "(?:<[0-9]{{1,3}}>)?[A-Z][a-z]{{2}} {{1,2}}[0-9]{{1,2}} [0-9]{{2}}:[0-9]{{2}}:[0-9]{{2}}(?:\\.[0-9]+)? {HOST} [A-Za-z0-9_./()-]+(?:\\[[0-9]+\\])?:"
        ),
        format!(
            "(?:<[0-9]{{1,3}}>)?[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}T[0-9:.]+(?:Z|[+-][0-9]{{2}}:?[0-9]{{2}})? {HOST} [A-Za-z0-9_./-]+(?:\\[[0-9]+\\])?:"
        ),
        format!("<[0-9]{{1,3}}>1 [^ \\n]+ {HOST} "),
        format!(
            "[*.]?(?:[0-9]+: )?[A-Z][a-z]{{2}} {{1,2}}[0-9]{{1,2}}(?: [0-9]{{4}})? [0-9]{{2}}:[0-9]{{2}}:[0-9]{{2}}(?:\\.[0-9]+)?(?: [A-Z]{{2,5}})?: {HOST}: %[A-Z0-9_]+-[0-7]-[A-Z0-9_]+"
        ),
    ]
    .join("|")
}

/// A syslog header at the start of a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Header {
    /// Its length: where [`HEADER_PATTERN`]'s match ends.
    pub(crate) len: usize,
    /// Where its host field lies.
    pub(crate) host: Range<usize>,
    /// An ISO-timestamped header without a `[pid]`: a line such as
    /// `2024-…Z Syncing repository: x` has the same shape, so the host
    /// field counts only if it looks like a machine's name.
    pub(crate) needs_machine_look: bool,
}

/// The syslog header `line` starts with (`line` may go on past its line),
/// if it starts with one.
pub(crate) fn header(line: &[u8]) -> Option<Header> {
    bsd(line)
        .or_else(|| iso(line))
        .or_else(|| rfc5424(line))
        .or_else(|| cisco(line))
}

/// A position in the line being read; each step moves it past what it
/// recognised or says it could not.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, at: 0 }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    /// One byte for which `class` holds.
    fn one(&mut self, class: impl Fn(u8) -> bool) -> bool {
        let ok = self.peek().is_some_and(class);
        self.at += usize::from(ok);
        ok
    }

    /// `literal`, byte for byte.
    fn literal(&mut self, literal: &[u8]) -> bool {
        let ok = self.bytes[self.at..].starts_with(literal);
        if ok {
            self.at += literal.len();
        }
        ok
    }

    /// As many bytes of `class` as there are, up to `max`; at least `min`.
    /// (Only where the byte after the run cannot be of `class`, or where
    /// `max` more of them would make the pattern fail as well.)
    fn many(&mut self, class: impl Fn(u8) -> bool, min: usize, max: usize) -> bool {
        let count = self.bytes[self.at..]
            .iter()
            .take(max)
            .take_while(|&&b| class(b))
            .count();
        self.at += count;
        count >= min
    }

    /// `n` ASCII digits.
    fn digits(&mut self, n: usize) -> bool {
        self.many(|b| b.is_ascii_digit(), n, n)
    }

    /// `<PRI>`, when the line starts with one: `<`, one to three digits
    /// and `>`. A fourth digit fails the whole header (the pattern has no
    /// other way to read a `<`).
    fn priority(&mut self) -> Option<bool> {
        if self.peek() != Some(b'<') {
            return Some(false);
        }
        let ok =
            self.literal(b"<") && self.many(|b| b.is_ascii_digit(), 1, 3) && self.literal(b">");
        ok.then_some(true)
    }

    /// `HH:MM:SS`, then an optional `.fraction`.
    fn clock(&mut self) -> bool {
        let clock = self.digits(2)
            && self.literal(b":")
            && self.digits(2)
            && self.literal(b":")
            && self.digits(2);
        clock && (!self.literal(b".") || self.many(|b| b.is_ascii_digit(), 1, usize::MAX))
    }

    /// `Mon DD`: a month's name, one or two spaces, one or two digits.
    fn month_day(&mut self) -> bool {
        self.one(|b| b.is_ascii_uppercase())
            && self.many(|b| b.is_ascii_lowercase(), 2, 2)
            && self.many(|b| b == b' ', 1, 2)
            && self.many(|b| b.is_ascii_digit(), 1, 2)
    }

    /// A host field: at most 253 bytes, and the byte after it must not be
    /// one (the pattern then needs a separator it cannot hold).
    fn host(&mut self) -> Option<Range<usize>> {
        let start = self.at;
        let ok = self.one(|b| b.is_ascii_alphanumeric())
            && self.many(is_host_byte, 0, 252)
            && !self.peek().is_some_and(is_host_byte);
        ok.then_some(start..self.at)
    }

    /// `program:` or `program[pid]:`, the program made of `class`.
    fn program(&mut self, class: impl Fn(u8) -> bool) -> bool {
        if !self.many(class, 1, usize::MAX) {
            return false;
        }
        if self.peek() == Some(b'[') {
            self.literal(b"[")
                && self.many(|b| b.is_ascii_digit(), 1, usize::MAX)
                && self.literal(b"]")
                && self.literal(b":")
        } else {
            self.literal(b":")
        }
    }
}

const fn is_host_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-')
}

/// `<PRI>May 21 01:58:03 host prog[42]:`
fn bsd(line: &[u8]) -> Option<Header> {
    let mut c = Cursor::new(line);
    c.priority()?;
    if !(c.month_day() && c.literal(b" ") && c.clock() && c.literal(b" ")) {
        return None;
    }
    let host = c.host()?;
    let ok = c.literal(b" ") && c.program(|b| b.is_ascii_alphanumeric() || b"_./()-".contains(&b));
    ok.then_some(Header {
        len: c.at,
        host,
        needs_machine_look: false,
    })
}

/// `<PRI>2024-05-21T01:58:03.123+00:00 host prog[42]:`
fn iso(line: &[u8]) -> Option<Header> {
    let mut c = Cursor::new(line);
    c.priority()?;
    let date = c.digits(4)
        && c.literal(b"-")
        && c.digits(2)
        && c.literal(b"-")
        && c.digits(2)
        && c.literal(b"T")
        && c.many(
            |b| b.is_ascii_digit() || b == b':' || b == b'.',
            1,
            usize::MAX,
        );
    if !date {
        return None;
    }
    // The zone: `Z`, or `+HH:MM` / `+HHMM`.
    match c.peek() {
        Some(b'Z') => c.at += 1,
        Some(b'+' | b'-') => {
            c.at += 1;
            let zone = c.digits(2) && {
                c.literal(b":");
                c.digits(2)
            };
            if !zone {
                return None;
            }
        }
        _ => {}
    }
    if !c.literal(b" ") {
        return None;
    }
    let host = c.host()?;
    let ok = c.literal(b" ") && c.program(|b| b.is_ascii_alphanumeric() || b"_./-".contains(&b));
    ok.then(|| Header {
        len: c.at,
        host,
        needs_machine_look: !line[..c.at].ends_with(b"]:"),
    })
}

/// `<34>1 2003-10-11T22:14:15.003Z host ` (the match ends after the
/// space that follows the host).
fn rfc5424(line: &[u8]) -> Option<Header> {
    let mut c = Cursor::new(line);
    let timestamp = c.priority() == Some(true)
        && c.literal(b"1 ")
        && c.many(|b| b != b' ' && b != b'\n', 1, usize::MAX)
        && c.literal(b" ");
    if !timestamp {
        return None;
    }
    let host = c.host()?;
    c.literal(b" ").then_some(Header {
        len: c.at,
        host,
        needs_machine_look: false,
    })
}

/// `*12: May 29 07:57:05.858 UTC: host: %FAC-5-MNEMONIC`
fn cisco(line: &[u8]) -> Option<Header> {
    let mut c = Cursor::new(line);
    c.one(|b| b == b'*' || b == b'.');
    // A sequence number, `12: `, when the digits are followed by `: `.
    let digits = c.bytes[c.at..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    if digits > 0 && c.bytes[c.at + digits..].starts_with(b": ") {
        c.at += digits + 2;
    }
    if !c.month_day() {
        return None;
    }
    // An optional year, ` 2024`, when four digits and no more follow.
    let year = c.bytes[c.at..].starts_with(b" ")
        && c.bytes.len() >= c.at + 5
        && c.bytes[c.at + 1..c.at + 5].iter().all(u8::is_ascii_digit);
    if year {
        c.at += 5;
    }
    if !(c.literal(b" ") && c.clock()) {
        return None;
    }
    // An optional zone, ` UTC`: two to five capitals, then `:`.
    if c.peek() == Some(b' ') {
        let capitals = c.bytes[c.at + 1..]
            .iter()
            .take_while(|b| b.is_ascii_uppercase())
            .count();
        if (2..=5).contains(&capitals) {
            c.at += 1 + capitals;
        } else {
            return None;
        }
    }
    if !c.literal(b": ") {
        return None;
    }
    let host = c.host()?;
    let ok = c.literal(b": %")
        && c.many(is_mnemonic_byte, 1, usize::MAX)
        && c.literal(b"-")
        && c.one(|b| (b'0'..=b'7').contains(&b))
        && c.literal(b"-")
        && c.many(is_mnemonic_byte, 1, usize::MAX);
    ok.then_some(Header {
        len: c.at,
        host,
        needs_machine_look: false,
    })
}

const fn is_mnemonic_byte(b: u8) -> bool {
    b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use regex::Regex;

    static HEADER: std::sync::LazyLock<Regex> = std::sync::LazyLock::new(|| {
        Regex::new(&format!("^(?:{})", header_pattern())).expect("test input is valid")
    });

    fn header_len(line: &[u8]) -> Option<usize> {
        header(line).map(|h| h.len)
    }

    fn by_regex(line: &str) -> Option<usize> {
        HEADER.find(line).map(|m| m.end())
    }

    #[test]
    fn headers_of_every_shape() {
        for (line, header) in [
            (
                "May 21 01:58:03 pgdb-prod-03 sshd[1]: x",
                "May 21 01:58:03 pgdb-prod-03 sshd[1]:",
            ),
            (
                "<13>May  1 01:58:03.123 web-7 sshd(pam_unix)[42]: y",
                "<13>May  1 01:58:03.123 web-7 sshd(pam_unix)[42]:",
            ),
            (
                "2024-05-21T02:00:59+00:00 web-7 kernel: x",
                "2024-05-21T02:00:59+00:00 web-7 kernel:",
            ),
            (
                "<34>1 2003-10-11T22:14:15.003Z mymachine7 su - ID47",
                "<34>1 2003-10-11T22:14:15.003Z mymachine7 ",
            ),
            (
                "*12: May 29 07:57:05.858 UTC: sw-floor3-3: %SW_MATM-4-MACFLAP_NOTIF: Host",
                "*12: May 29 07:57:05.858 UTC: sw-floor3-3: %SW_MATM-4-MACFLAP_NOTIF",
            ),
        ] {
            assert_eq!(header_len(line.as_bytes()), Some(header.len()), "{line}");
            assert_eq!(by_regex(line), Some(header.len()), "{line}");
            let found = super::header(line.as_bytes()).map(|h| (h.host, h.needs_machine_look));
            assert_eq!(found, host_by_reference(line), "{line}");
        }
        for line in [
            "May 21 01:58:03 host prog[1]x: no",
            "<1234>May 21 01:58:03 host prog: no",
            "May 21 01:58:03. host prog: no",
            "2024-05-21T02:00:59+0 web-7 kernel: no",
            "- 1117838570 2005.06.03 R02-M1-N0",
            "",
        ] {
            assert_eq!(header_len(line.as_bytes()), None, "{line}");
            assert_eq!(by_regex(line), None, "{line}");
        }
    }

    /// Pieces of header-like lines around every choice the pattern makes.
    const PREFIXES: &[&str] = &[
        "", "", "<34>", "<1>", "<1234>", "<>", "*", ".", "12: ", "*12: ", "12:", "<34>1 ", "<34>1",
        "1 ",
    ];
    const DATES: &[&str] = &[
        "May 21",
        "May  1",
        "May   1",
        "May 123",
        "Mar 1 2024",
        "Mar 1 20245",
        "Mar 1 202",
        "may 21",
        "MAY 21",
        "2024-05-21T",
        "2024-05-21T01:58:03.123Z",
        "2024-05-21T01:58:03",
        "2024-05-21T01:58:03+00:00",
        "2024-05-21T01:58:03+0000",
        "2024-05-21T01:58:03+0",
        "2024-05-21T01:58:03-08:0",
        "2003-10-11T22:14:15.003Z",
        "2024-5-21T1",
        "x",
    ];
    const CLOCKS: &[&str] = &[
        " 01:58:03",
        " 01:58:03.858",
        " 01:58:03.",
        " 1:58:03",
        "",
        " 07:57:05.858 UTC",
        " 07:57:05 ABCDEF",
        " 07:57:05 U",
        " 07:57:05 CEST",
    ];
    const HOSTS: &[&str] = &[
        " pgdb-prod-03",
        " web-7",
        " -",
        " h.local",
        " _x",
        " UTC",
        ": sw-floor3-3",
        ":",
        " a_b.c-d",
        "  x",
        "",
        ": ",
        " é",
    ];
    const TAILS: &[&str] = &[
        " sshd[1]:",
        " systemd:",
        " kernel:",
        ": %SW_MATM-4-MACFLAP_NOTIF:",
        ": %X-9-Y",
        ": %X-5-",
        ": %X_1-5-Y_2 z",
        " prog(pam)[12]:",
        " prog[12]x:",
        " su - ID47",
        " ",
        " app[]:",
        " a/b.c-d:",
        " (x):",
        "",
        "\nMay 21 01:58:03 h p:",
    ];

    /// Where the host field sits in a header, as the host detector first
    /// read it from the regex's match: the reference for [`Header::host`].
    struct HostField {
        offset: usize,
        len: usize,
        /// An ISO-timestamped line without `[pid]` is syslog only if the field
        /// looks like a machine name.
        needs_machine_look: bool,
    }

    fn host_in_header(header: &str) -> Option<HostField> {
        // The field just before byte `end`, delimited by a space.
        let field_ending_at = |end: usize, needs_machine_look: bool| {
            let len = header[..end].rsplit(' ').next()?.len();
            Some(HostField {
                offset: end - len,
                len,
                needs_machine_look,
            })
        };
        // Cisco IOS: "… UTC: host: %FACILITY-5-MNEMONIC". (Headers are short:
        // a plain backward walk is cheaper than building a substring searcher.)
        if let Some(percent) = header.as_bytes().windows(3).rposition(|w| w == b": %") {
            return field_ending_at(percent, false);
        }
        // RFC 5424: "<34>1 timestamp host " (ends with the space after the host)
        if header.ends_with(' ') {
            return field_ending_at(header.len() - 1, false);
        }
        // BSD and ISO: "timestamp host program[pid]:"
        let program_start = header.rfind(' ')?;
        let first = header.split(' ').next().unwrap_or("");
        let iso = first.contains('T') && first.bytes().filter(|&b| b == b'-').count() >= 2;
        field_ending_at(program_start, iso && !header.ends_with("]:"))
    }

    /// The header's host field and look check, as [`host_in_header`]
    /// reads them from the matched text.
    fn host_by_reference(line: &str) -> Option<(Range<usize>, bool)> {
        let len = by_regex(line)?;
        let field = host_in_header(&line[..len])?;
        Some((
            field.offset..field.offset + field.len,
            field.needs_machine_look,
        ))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]
        #[test]
        fn header_len_is_the_regex(
            prefix in prop::sample::select(PREFIXES),
            date in prop::sample::select(DATES),
            clock in prop::sample::select(CLOCKS),
            host in prop::sample::select(HOSTS),
            tail in prop::sample::select(TAILS),
        ) {
            let line = format!("{prefix}{date}{clock}{host}{tail}");
            prop_assert_eq!(header_len(line.as_bytes()), by_regex(&line), "{:?}", line);
            let found = header(line.as_bytes()).map(|h| (h.host, h.needs_machine_look));
            prop_assert_eq!(found, host_by_reference(&line), "{:?}", line);
        }

        #[test]
        fn header_len_is_the_regex_on_long_hosts(length in 250usize..258) {
            let line = format!("May 21 01:58:03 {} prog: x", "h".repeat(length));
            prop_assert_eq!(header_len(line.as_bytes()), by_regex(&line));
        }
    }
}
