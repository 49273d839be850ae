//! A cheap first pass that tells, line by line, which of the costly
//! detector regexes could match at all.
//!
//! The digit- and punctuation-led patterns (IPv4, MAC, IPv6 colon runs,
//! SSN/phone/card digit groups, `DOMAIN\user`, syslog headers) have no
//! literal the regex engine can jump to, so a whole-text search walks every
//! byte of every line. One table-driven pass over the bytes instead records,
//! per line, a few shapes each of those patterns needs (three
//! digit-dot-digit steps for a dotted quad, five colons in a hex run for a
//! MAC or IPv6 address, …), and the detectors then run their regexes only
//! on the lines that have them.
//!
//! Why this changes no result: none of these regexes can match across a
//! line break (see [`crate::pii::detect`]), every feature is a *necessary*
//! condition for a match of its regex inside the line, and the lines given
//! to a regex are whole lines, so `^`, `$` and `\b` see the same neighbours
//! as in the whole text. Context checks keep reading the whole text, at
//! absolute offsets.

/// Features of one line, as bits.
pub(crate) mod feature {
    /// At least three `digit.digit` steps: a dotted quad may be here.
    pub const DOTTED_QUAD: u16 = 1 << 0;
    /// At least five `hex-hex` steps: `00-1A-2B-3C-4D-5E`.
    pub const DASHED_HEX: u16 = 1 << 1;
    /// At least two `hex.hex` steps: `001a.2bf8.e8fb`.
    pub const DOTTED_HEX: u16 = 1 << 2;
    /// `::`, or three colons each between hex digits, dots or colons (a
    /// MAC address or an IPv6 address without `::` has at least five in
    /// one run, three of them inside it).
    pub const COLON_RUN: u16 = 1 << 3;
    /// `-dd-dddd`, the inside of an SSN `ddd-dd-dddd`.
    pub const SSN_SHAPE: u16 = 1 << 4;
    /// `ddd-dddd` or `ddd.dddd`: the exchange and line number of a
    /// North-American phone number.
    pub const PHONE_SHAPE: u16 = 1 << 5;
    /// Thirteen digits joined by at most single spaces or dashes.
    pub const CARD_SHAPE: u16 = 1 << 6;
    /// A backslash (`DOMAIN\user`).
    pub const BACKSLASH: u16 = 1 << 7;
    /// The line starts the way a syslog header does.
    pub const SYSLOG_START: u16 = 1 << 8;

    /// Everything the network detector's address regex may need.
    pub const ADDRESS: u16 = DOTTED_QUAD | DASHED_HEX | DOTTED_HEX;
    /// Everything the SSN / phone / card regex may need.
    pub const DIGIT_GROUPS: u16 = SSN_SHAPE | PHONE_SHAPE | CARD_SHAPE;
}

/// Per-line features of a text; see the module documentation.
pub(crate) struct LineFeatures {
    /// Start of every line (after the previous `\n`), in order.
    starts: Vec<usize>,
    features: Vec<u16>,
    text_len: usize,
}

/// Byte classes of the pass, three bits each.
mod class {
    pub const OTHER: u8 = 0;
    pub const DIGIT: u8 = 1;
    /// `a-f`, `A-F`.
    pub const HEX_LETTER: u8 = 2;
    pub const DOT: u8 = 3;
    pub const DASH: u8 = 4;
    pub const COLON: u8 = 5;
    pub const SPACE: u8 = 6;
    pub const BACKSLASH: u8 = 7;
}

const CLASS: [u8; 256] = {
    let mut table = [class::OTHER; 256];
    let mut b = 0;
    while b < 256 {
        let byte = b as u8;
        table[b] = match byte {
            b'0'..=b'9' => class::DIGIT,
            b'a'..=b'f' | b'A'..=b'F' => class::HEX_LETTER,
            b'.' => class::DOT,
            b'-' => class::DASH,
            b':' => class::COLON,
            b' ' => class::SPACE,
            b'\\' => class::BACKSLASH,
            _ => class::OTHER,
        };
        b += 1;
    }
    table
};

/// Counters kept per line in the 16-bit lanes of one `u64`, so that each
/// byte costs one table lookup and one add: lane 0 counts `digit.digit`,
/// lane 1 `hex-hex`, lane 2 `hex.hex`, lane 3 colons inside a run of hex
/// digits, dots and colons (a `::` counts three at once).
const LANE: u32 = 16;
const LANE_LIMIT: usize = (1 << (LANE - 1)) - 1;

const fn is_hex(x: u8) -> bool {
    x == class::DIGIT || x == class::HEX_LETTER
}

const fn in_colon_run(x: u8) -> bool {
    is_hex(x) || x == class::DOT || x == class::COLON
}

/// The counter increments for a window of three classes (oldest in the
/// high bits).
static WINDOW3: [u64; 512] = {
    let mut table = [0u64; 512];
    let mut index = 0;
    while index < 512 {
        let (a, b, c) = (
            (index >> 6) as u8,
            ((index >> 3) & 7) as u8,
            (index & 7) as u8,
        );
        let mut add = 0u64;
        if a == class::DIGIT && b == class::DOT && c == class::DIGIT {
            add += 1;
        }
        if is_hex(a) && b == class::DASH && is_hex(c) {
            add += 1 << LANE;
        }
        if is_hex(a) && b == class::DOT && is_hex(c) {
            add += 1 << (2 * LANE);
        }
        if b == class::COLON && c == class::COLON {
            add += 3 << (3 * LANE);
        } else if b == class::COLON && in_colon_run(a) && in_colon_run(c) {
            add += 1 << (3 * LANE);
        }
        table[index] = add;
        index += 1;
    }
    table
};

/// Number shapes over a window of eight bytes, two bits each (digit, dash,
/// dot or other; oldest in the high bits): bit 0 `-dd-dddd` (inside an
/// SSN), bit 1 `ddd-dddd` or `ddd.dddd` (a phone's exchange and line).
static WINDOW8: [u8; 1 << 16] = {
    const D: u16 = 1;
    const DASH: u16 = 2;
    const DOT: u16 = 3;
    let ssn = [DASH, D, D, DASH, D, D, D, D];
    let phone_dash = [D, D, D, DASH, D, D, D, D];
    let phone_dot = [D, D, D, DOT, D, D, D, D];
    let mut table = [0u8; 1 << 16];
    let mut index = 0;
    while index < (1 << 16) {
        let mut shapes = 0u8;
        let mut matches = [true, true, true];
        let mut i = 0;
        while i < 8 {
            let got = ((index >> (2 * (7 - i))) & 3) as u16;
            matches[0] &= got == ssn[i];
            matches[1] &= got == phone_dash[i];
            matches[2] &= got == phone_dot[i];
            i += 1;
        }
        if matches[0] {
            shapes |= 1;
        }
        if matches[1] || matches[2] {
            shapes |= 2;
        }
        table[index] = shapes;
        index += 1;
    }
    table
};

/// Whether a chain of digits joined by single spaces or dashes goes on
/// over the last two classes: all ones if so, zero if it breaks.
static CHAIN_KEEP: [u32; 64] = {
    let mut table = [0u32; 64];
    let mut index = 0;
    while index < 64 {
        let (previous, current) = ((index >> 3) as u8, (index & 7) as u8);
        let joins = current == class::DIGIT
            || (previous == class::DIGIT && (current == class::SPACE || current == class::DASH));
        table[index] = if joins { u32::MAX } else { 0 };
        index += 1;
    }
    table
};

/// The two-bit number class of each three-bit class.
const NUMBER_CLASS: [u16; 8] = [0, 1, 0, 3, 2, 0, 0, 0];

impl LineFeatures {
    pub(crate) fn new(text: &str) -> Self {
        let bytes = text.as_bytes();
        let mut starts = Vec::with_capacity(bytes.len() / 64 + 1);
        let mut features = Vec::with_capacity(bytes.len() / 64 + 1);
        let mut line_start = 0;
        for line in text.split('\n') {
            starts.push(line_start);
            features.push(line_features(line.as_bytes()));
            line_start += line.len() + 1;
        }
        Self {
            starts,
            features,
            text_len: text.len(),
        }
    }

    /// Byte ranges of the text made of whole lines having any of the
    /// features in `mask`; adjacent lines are joined into one range. Each
    /// range ends at its last line's end (before its `\n`).
    pub(crate) fn ranges(&self, mask: u16) -> Ranges<'_> {
        Ranges {
            lines: self,
            mask,
            next: 0,
        }
    }

    /// Start of every line having any of the features in `mask`, in order.
    pub(crate) fn line_starts(&self, mask: u16) -> impl Iterator<Item = usize> + '_ {
        self.features
            .iter()
            .zip(&self.starts)
            .filter(move |&(features, _)| features & mask != 0)
            .map(|(_, &start)| start)
    }

    fn line_end(&self, index: usize) -> usize {
        self.starts
            .get(index + 1)
            .map_or(self.text_len, |next| next - 1)
    }
}

/// Iterator returned by [`LineFeatures::ranges`].
pub(crate) struct Ranges<'a> {
    lines: &'a LineFeatures,
    mask: u16,
    next: usize,
}

impl Iterator for Ranges<'_> {
    type Item = std::ops::Range<usize>;

    fn next(&mut self) -> Option<Self::Item> {
        let features = &self.lines.features;
        let first = self.next
            + features[self.next..]
                .iter()
                .position(|f| f & self.mask != 0)?;
        let after = features[first..]
            .iter()
            .position(|f| f & self.mask == 0)
            .map_or(features.len(), |n| first + n);
        self.next = after;
        Some(self.lines.starts[first]..self.lines.line_end(after - 1))
    }
}

/// The features of one line (without its `\n`).
fn line_features(line: &[u8]) -> u16 {
    use feature::*;
    // Counters could overflow their lanes on a line this long; such lines
    // (machine-written blobs) simply get every feature.
    if line.len() > LANE_LIMIT {
        return u16::MAX;
    }
    let mut window3 = 0usize;
    let mut window8 = 0usize;
    let mut counters = 0u64;
    let mut shapes = 0u8;
    // Digits of the current chain joined by single spaces or dashes.
    let mut chain = 0u32;
    let mut long_chain = false;
    for &b in line {
        let c = CLASS[usize::from(b)];
        window3 = ((window3 << 3) | usize::from(c)) & 511;
        counters += WINDOW3[window3];
        window8 = ((window8 << 2) | usize::from(NUMBER_CLASS[usize::from(c)])) & 0xffff;
        shapes |= WINDOW8[window8];
        chain = (chain + u32::from(c == class::DIGIT)) & CHAIN_KEEP[window3 & 63];
        long_chain |= chain >= 13;
    }
    let lane = |n: u32| (counters >> (n * LANE)) & 0xffff;
    let mut features = 0;
    if lane(0) >= 3 {
        features |= DOTTED_QUAD;
    }
    if lane(1) >= 5 {
        features |= DASHED_HEX;
    }
    if lane(2) >= 2 {
        features |= DOTTED_HEX;
    }
    if lane(3) >= 3 {
        features |= COLON_RUN;
    }
    if shapes & 1 != 0 {
        features |= SSN_SHAPE;
    }
    if shapes & 2 != 0 {
        features |= PHONE_SHAPE;
    }
    if long_chain {
        features |= CARD_SHAPE;
    }
    if line.contains(&b'\\') {
        features |= BACKSLASH;
    }
    if may_start_syslog_header(line) {
        features |= SYSLOG_START;
    }
    features
}

/// Whether `line` could start with one of the syslog headers the host
/// detector knows: after an optional `<PRI>`, `*` or `.` and `N: `, a
/// month (`May 21`), an ISO date (`2024-05-21T`) or RFC 5424's version.
fn may_start_syslog_header(line: &[u8]) -> bool {
    let mut rest = line;
    if let Some(after) = rest.strip_prefix(b"<") {
        let digits = after.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits > 0 && after.get(digits) == Some(&b'>') {
            rest = &after[digits + 1..];
            if rest.starts_with(b"1 ") {
                return true;
            }
        }
    }
    if let Some(after) = rest.strip_prefix(b"*").or_else(|| rest.strip_prefix(b".")) {
        rest = after;
    }
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits > 0 && rest[digits..].starts_with(b": ") {
        rest = &rest[digits + 2..];
    }
    let month = matches!(rest, [a, b, c, b' ', ..]
        if a.is_ascii_uppercase() && b.is_ascii_lowercase() && c.is_ascii_lowercase());
    let iso_date = rest.len() >= 11
        && rest[..4].iter().all(u8::is_ascii_digit)
        && rest[4] == b'-'
        && rest[10] == b'T';
    month || iso_date
}

#[cfg(test)]
mod tests {
    use super::*;

    fn features(line: &str) -> u16 {
        LineFeatures::new(line).features[0]
    }

    #[test]
    fn shapes_are_seen() {
        use feature::*;
        assert_ne!(features("from 10.20.4.23 port") & DOTTED_QUAD, 0);
        assert_eq!(features("version 1.2 at 12:30:45.123") & DOTTED_QUAD, 0);
        assert_ne!(features("mac=00-1A-2B-3C-4D-5E;") & DASHED_HEX, 0);
        assert_ne!(features("Host 001a.2bf8.e8fb in") & DOTTED_HEX, 0);
        assert_ne!(features("from fe80::1%eth0") & COLON_RUN, 0);
        assert_ne!(features("link 00:1a:2b:3c:4d:5e up") & COLON_RUN, 0);
        assert_eq!(
            features("May 21 01:58:03 host prog[1]: x: y") & COLON_RUN,
            0
        );
        assert_ne!(features("ssn 123-45-6789") & SSN_SHAPE, 0);
        assert_eq!(features("2024-05-21 01:58:03") & DIGIT_GROUPS, 0);
        assert_ne!(features("call (417) 555-0123") & PHONE_SHAPE, 0);
        assert_ne!(features("call 911.555.0176") & PHONE_SHAPE, 0);
        assert_ne!(features("pan 3477 789625 41143") & CARD_SHAPE, 0);
        assert_ne!(features("FABRIKAM\\alice") & BACKSLASH, 0);
        assert_ne!(features("May 21 01:58:03 h p[1]: x") & SYSLOG_START, 0);
        assert_ne!(features("<34>1 2003-10-11T22:14:15Z h") & SYSLOG_START, 0);
        assert_ne!(
            features("*12: Mar  1 00:00:01 UTC: sw: %X-5-Y") & SYSLOG_START,
            0
        );
        assert_eq!(features("- 1117838570 2005.06.03 R02") & SYSLOG_START, 0);
    }

    #[test]
    fn ranges_join_adjacent_lines() {
        let text = "a 1.2.3.4\nb 5.6.7.8\nnothing\nc 9.9.9.9";
        let lines = LineFeatures::new(text);
        let ranges: Vec<_> = lines.ranges(feature::DOTTED_QUAD).collect();
        assert_eq!(ranges, vec![0..19, 28..text.len()]);
        assert_eq!(&text[ranges[0].clone()], "a 1.2.3.4\nb 5.6.7.8");
    }
}
