//! A cheap first pass that finds the few places where the costly,
//! digit- and punctuation-led detector regexes could match at all.
//!
//! IPv4, MAC and IPv6 addresses, SSN/phone/card digit groups, `DOMAIN\user`
//! and syslog headers have no literal the regex engine can jump to, so a
//! search over the whole text walks every byte with its automaton, once per
//! regex. This pass instead turns each 64-byte block into a few bit masks
//! (digits, `:`, `.`, `-`, spaces) and combines them with shifts into the
//! shapes each pattern needs (three `digit.digit` steps two to four bytes
//! apart for a dotted quad, five colons at most five bytes apart for a MAC
//! or IPv6 address, …). It records the *positions* of those shapes; the
//! detectors then run their regex only on a short window around each.
//!
//! Why this changes no result: each shape is a *necessary* part of every
//! match the detectors report, and each window is a maximal run of the bytes
//! the regex can match (see [`for_each_run`]) or a whole line (see
//! [`for_each_line`]). The regexes have no look-around, so a match never
//! depends on text outside it, and no match can cross a byte it cannot
//! match or a line break: searching each window finds exactly the matches a
//! search over the whole text finds there. Context checks keep reading the
//! whole text, at absolute offsets.

use std::ops::Range;

use wide::u8x16;

/// Positions of the shapes the costly detectors need, each list in
/// increasing order.
pub(crate) struct Prefilter {
    /// A dotted quad (the first of three `digit.digit` dots), a dotted-hex
    /// MAC (two dots five bytes apart) or a dashed MAC (five dashes three
    /// bytes apart).
    pub(crate) address: Vec<usize>,
    /// `::`, or the first of five colons each at most five bytes after the
    /// previous one: an IPv6 address or a colon MAC address.
    pub(crate) colon_run: Vec<usize>,
    /// The first of five `:` or `-` three bytes apart: a MAC address.
    pub(crate) mac: Vec<usize>,
    /// `ddd-dd-dddd` (SSN), `ddd-dddd` or `ddd.dddd` (a phone's exchange
    /// and line), or thirteen bytes of digits joined by single spaces or
    /// dashes (a card).
    pub(crate) digit_groups: Vec<usize>,
    /// Start of every line that may begin with a syslog header.
    pub(crate) syslog_lines: Vec<usize>,
    /// Every backslash (`DOMAIN\user`).
    pub(crate) backslashes: Vec<usize>,
    /// Every `@` (e-mail addresses, `ssh name@host`, PostgreSQL's
    /// `user@db` prefix).
    pub(crate) at_signs: Vec<usize>,
    /// Every `:` and `=` right after a letter, a quote, a backslash or a
    /// blank: where a key such as `password` or `Authorization` may end
    /// (see [`crate::pii::detect::keyed::KeyStarts`]).
    pub(crate) separators: Vec<usize>,
    /// Every `user` and `su to`, in any ASCII case: where the account
    /// formats that name a user may be anchored (see
    /// [`crate::pii::detect::account`]).
    pub(crate) user_words: Vec<usize>,
    /// Every ` as`, in any ASCII case (`logged in as`, `running as`, …).
    pub(crate) as_words: Vec<usize>,
}

impl Prefilter {
    pub(crate) fn new(text: &str) -> Self {
        let bytes = text.as_bytes();
        let mut found = Self {
            address: Vec::new(),
            colon_run: Vec::new(),
            mac: Vec::new(),
            digit_groups: Vec::new(),
            syslog_lines: Vec::new(),
            backslashes: memchr::memchr_iter(b'\\', bytes).collect(),
            at_signs: memchr::memchr_iter(b'@', bytes).collect(),
            separators: Vec::new(),
            user_words: Vec::new(),
            as_words: Vec::new(),
        };
        found.find_shapes(bytes);
        found
    }

    /// Records `start` (a line start) when the line may begin with a syslog
    /// header. The check reads a few bytes from the line's start (more than
    /// the line holds only ever lets more lines through).
    fn push_syslog_line(&mut self, bytes: &[u8], start: usize) {
        let Some(&first) = bytes.get(start) else {
            return;
        };
        if SYSLOG_LEAD[usize::from(first)]
            && may_start_syslog_header(&bytes[start..bytes.len().min(start + 64)])
        {
            self.syslog_lines.push(start);
        }
    }

    /// Records, backwards, the `user`, `su to` and ` as` that start in the
    /// block at `base`: `us`, `su ` and ` as` from the planes, the rest of
    /// the first two read from the bytes.
    fn push_words(&mut self, bytes: &[u8], base: usize, current: &Planes, next: &Planes) {
        let u_after = ahead(current.letter_u, next.letter_u, 1);
        let s_after = ahead(current.letter_s, next.letter_s, 1);
        let space_after2 = ahead(current.space, next.space, 2);
        let mut words = (current.letter_u & s_after) | (current.letter_s & u_after & space_after2);
        let rest_is = |at: usize, rest: &[u8]| {
            bytes
                .get(at..at + rest.len())
                .is_some_and(|found| found.eq_ignore_ascii_case(rest))
        };
        while words != 0 {
            let bit = 63 - words.leading_zeros();
            words &= !(1 << bit);
            let position = base + bit as usize;
            // A `u` here is `us…`, an `s` is `su …`.
            let word = if bytes[position] | 0x20 == b'u' {
                rest_is(position + 2, b"er")
            } else {
                rest_is(position + 3, b"to")
            };
            if word {
                self.user_words.push(position);
            }
        }
        push_bits_backwards(
            &mut self.as_words,
            base,
            current.space
                & ahead(current.letter_a, next.letter_a, 1)
                & ahead(current.letter_s, next.letter_s, 2),
        );
    }

    /// Walks the blocks from the last to the first, so that what a block's
    /// shapes need from the block after it (its planes, and the partial
    /// shapes worked out there, see [`After`]) is known when the block is
    /// reached: every step is then 64-bit arithmetic, a funnel shift
    /// joining two blocks, where looking ahead from the first block would
    /// take 128-bit words. The positions are collected backwards and put
    /// in order at the end.
    fn find_shapes(&mut self, bytes: &[u8]) {
        let blocks = bytes.len().div_ceil(BLOCK);
        let planes_of = |index: usize| {
            bytes
                .get(index * BLOCK..bytes.len().min((index + 1) * BLOCK))
                .map(Planes::of)
                .unwrap_or_default()
        };
        let mut next = Planes::default();
        let mut after = After::default();
        let mut current = match blocks.checked_sub(1) {
            Some(last) => planes_of(last),
            None => return,
        };
        for index in (0..blocks).rev() {
            let previous = match index.checked_sub(1) {
                Some(before) => planes_of(before),
                None => Planes::default(),
            };
            let base = index * BLOCK;
            let (shapes, partial) = Shapes::find(&previous, &current, &next, &after);
            push_bits_backwards(&mut self.address, base, shapes.address);
            push_bits_backwards(&mut self.colon_run, base, shapes.colon_run);
            push_bits_backwards(&mut self.mac, base, shapes.mac);
            push_bits_backwards(&mut self.digit_groups, base, shapes.digit_groups);
            // Few bytes are `:` or `=`: the byte before each is looked up
            // rather than classified with the rest, once those after a
            // digit (the colons of clock times) are set aside.
            let mut separators =
                (current.colon | current.equals) & !behind(current.digit, previous.digit, 1);
            while separators != 0 {
                let bit = 63 - separators.leading_zeros();
                separators &= !(1 << bit);
                let position = base + bit as usize;
                if position > 0 && KEY_END[usize::from(bytes[position - 1])] {
                    self.separators.push(position);
                }
            }
            self.push_words(bytes, base, &current, &next);
            // Line starts, from the line breaks.
            let mut newlines = current.newline;
            while newlines != 0 {
                let bit = 63 - newlines.leading_zeros();
                newlines &= !(1 << bit);
                self.push_syslog_line(bytes, base + bit as usize + 1);
            }
            next = current;
            current = previous;
            after = partial;
        }
        self.push_syslog_line(bytes, 0);
        for positions in [
            &mut self.address,
            &mut self.colon_run,
            &mut self.mac,
            &mut self.digit_groups,
            &mut self.separators,
            &mut self.syslog_lines,
            &mut self.user_words,
            &mut self.as_words,
        ] {
            positions.reverse();
        }
    }
}

const BLOCK: usize = 64;

/// One bit per byte of a block (bit `i` is byte `i`) for each byte class
/// the shapes are made of.
#[derive(Clone, Copy, Default)]
struct Planes {
    digit: u64,
    colon: u64,
    dot: u64,
    dash: u64,
    space: u64,
    equals: u64,
    newline: u64,
    /// The letters `u`, `s` and `a`, either case.
    letter_u: u64,
    letter_s: u64,
    letter_a: u64,
}

/// The bytes a line with a syslog header can start with (see
/// [`may_start_syslog_header`]): `<`, `*`, `.`, a digit or a capital.
static SYSLOG_LEAD: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 256 {
        let b = byte as u8;
        table[byte] =
            b.is_ascii_digit() || b.is_ascii_uppercase() || matches!(b, b'<' | b'*' | b'.');
        byte += 1;
    }
    table
};

/// The bytes a key can end with, before its `:` or `=`: a letter, a quote,
/// a backslash, a space or a tab.
static KEY_END: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 256 {
        let b = byte as u8;
        table[byte] = b.is_ascii_alphabetic() || matches!(b, b'"' | b'\'' | b'\\' | b' ' | b'\t');
        byte += 1;
    }
    table
};

impl Planes {
    /// The planes of up to 64 bytes; missing bytes belong to no class.
    ///
    /// Sixteen bytes at a time: each class is one or two vector
    /// comparisons, and a comparison's result becomes sixteen bits of its
    /// plane at once (`to_bitmask`, the SSE2 `movemask`; `wide` falls back
    /// to plain code where no vector unit is known, as in the browser).
    fn of(block: &[u8]) -> Self {
        // The last block of a text is padded with zero bytes, which belong
        // to no class.
        let mut padded = [0u8; BLOCK];
        let block: &[u8; BLOCK] = match block.try_into() {
            Ok(full) => full,
            Err(_) => {
                let len = block.len().min(BLOCK);
                padded[..len].copy_from_slice(&block[..len]);
                &padded
            }
        };
        let mut planes = Self::default();
        for (index, lane) in block.chunks_exact(16).enumerate() {
            let mut lane_bytes = [0u8; 16];
            lane_bytes.copy_from_slice(lane);
            let v = u8x16::new(lane_bytes);
            let shift = 16 * index;
            let bits = |mask: u8x16| u64::from(mask.to_bitmask()) << shift;
            let equal = |b: u8| v.simd_eq(u8x16::splat(b));
            // `x - low <= high - low` (wrapping), as `min(x, span) == x`.
            let within = |low: u8, high: u8| {
                let offset = v - u8x16::splat(low);
                offset.min(u8x16::splat(high - low)).simd_eq(offset)
            };
            planes.digit |= bits(within(b'0', b'9'));
            planes.colon |= bits(equal(b':'));
            planes.dot |= bits(equal(b'.'));
            planes.dash |= bits(equal(b'-'));
            planes.space |= bits(equal(b' '));
            planes.equals |= bits(equal(b'='));
            planes.newline |= bits(equal(b'\n'));
            // ASCII letters differ from their capitals in bit 5 only.
            let folded = v | u8x16::splat(0x20);
            planes.letter_u |= bits(folded.simd_eq(u8x16::splat(b'u')));
            planes.letter_s |= bits(folded.simd_eq(u8x16::splat(b's')));
            planes.letter_a |= bits(folded.simd_eq(u8x16::splat(b'a')));
        }
        planes
    }
}

/// The shapes starting in one block, as bits.
struct Shapes {
    address: u64,
    colon_run: u64,
    mac: u64,
    digit_groups: u64,
}

/// Partial shapes of a block that the shapes of the block before it are
/// built from (each shape looks at most twenty bytes ahead, so only the
/// first bits of these ever matter there).
#[derive(Clone, Copy, Default)]
struct After {
    /// `digit.digit`.
    digit_dot: u64,
    /// `digit.digit` with another two to four bytes after it.
    dotted_pair: u64,
    /// Four digits follow.
    digits_after4: u64,
    /// Colons with one, two and three more colons after them, each at most
    /// five bytes after the one before.
    colon_chain: [u64; 3],
    /// Digits, and single spaces or dashes between two digits.
    joined: u64,
    /// Two and four joined bytes in a row.
    joined_run2: u64,
    joined_run4: u64,
}

/// Bit `i` of the result is bit `i + k` of `current` followed by `next`:
/// the byte `k` ahead (`0 < k < 64`).
fn ahead(current: u64, next: u64, k: u32) -> u64 {
    (current >> k) | (next << (64 - k))
}

/// Bit `i` of the result is bit `i - k` of `previous` followed by
/// `current`: the byte `k` before (`0 < k < 64`).
fn behind(current: u64, previous: u64, k: u32) -> u64 {
    (current << k) | (previous >> (64 - k))
}

/// Bits with set bits three, six, nine and twelve bytes after them.
fn every_third(current: u64, next: u64) -> u64 {
    // Two in a row are common (the dashes of a date, the colons of a
    // time); five are rare, so most blocks stop early.
    let mut bits = current & ahead(current, next, 3);
    for k in [6, 9, 12] {
        if bits == 0 {
            break;
        }
        bits &= ahead(current, next, k);
    }
    bits
}

impl Shapes {
    /// The shapes starting in `current`, and its partial shapes for the
    /// block before it. Every shape spans less than a block, so the block
    /// before and the block after (with `after`, its partial shapes) are
    /// all the context needed.
    fn find(previous: &Planes, current: &Planes, next: &Planes, after: &After) -> (Self, After) {
        let digit_before = |k: u32| behind(current.digit, previous.digit, k);
        let digit_ahead = |k: u32| ahead(current.digit, next.digit, k);
        let mut partial = After {
            digits_after4: digit_ahead(1) & digit_ahead(2) & digit_ahead(3) & digit_ahead(4),
            ..After::default()
        };
        // Every shape but the card starts with a separator in this block.
        let mut address = 0;
        let mut digit_groups = 0;
        if current.dot | current.dash != 0 {
            // `digit.digit`, and three of them two to four bytes apart.
            let near = |x: u64, x_next: u64| {
                ahead(x, x_next, 2) | ahead(x, x_next, 3) | ahead(x, x_next, 4)
            };
            partial.digit_dot = current.dot & digit_before(1) & digit_ahead(1);
            if partial.digit_dot != 0 {
                partial.dotted_pair = partial.digit_dot & near(partial.digit_dot, after.digit_dot);
                address = partial.digit_dot & near(partial.dotted_pair, after.dotted_pair);
            }
            // A dotted-hex MAC (`001a.2bf8.e8fb`), a dashed one.
            address |= current.dot & ahead(current.dot, next.dot, 5);
            address |= every_third(current.dash, next.dash);
            let digits_before3 = digit_before(1) & digit_before(2) & digit_before(3);
            let phone = (current.dot | current.dash) & digits_before3 & partial.digits_after4;
            let ssn = current.dash
                & ahead(current.dash, next.dash, 3)
                & digits_before3
                & digit_ahead(1)
                & digit_ahead(2)
                & ahead(partial.digits_after4, after.digits_after4, 3);
            digit_groups |= phone | ssn;
        }
        let mut mac = 0;
        if current.colon | current.dash != 0 {
            mac = every_third(current.colon | current.dash, next.colon | next.dash);
        }
        let mut colon_run = 0;
        if current.colon != 0 {
            let colon = current.colon;
            let close = |x: u64, x_next: u64| (1..=5).fold(0, |near, k| near | ahead(x, x_next, k));
            colon_run = colon & ahead(colon, next.colon, 1);
            let mut chain = colon & close(colon, next.colon);
            for (level, chain_after) in after.colon_chain.iter().enumerate() {
                partial.colon_chain[level] = chain;
                // A chain that stops here, and does not go on from the
                // next block's first bytes, goes no further: the usual case
                // (the two colons of a time of day).
                if chain == 0 && chain_after & 0x1f == 0 {
                    break;
                }
                chain = colon & close(chain, *chain_after);
            }
            colon_run |= chain;
        }
        let shapes = Self {
            address,
            colon_run,
            mac,
            digit_groups: digit_groups | card_starts(previous, current, next, after, &mut partial),
        };
        (shapes, partial)
    }
}

/// Where, in `current`, a run of digits joined by single spaces or dashes
/// starts that holds at least thirteen digits (or goes on past `next`);
/// records the joined runs in `partial`.
fn card_starts(
    previous: &Planes,
    current: &Planes,
    next: &Planes,
    after: &After,
    partial: &mut After,
) -> u64 {
    if current.digit == 0 {
        return 0;
    }
    let joiner = current.space | current.dash;
    let joined = current.digit
        | (joiner & behind(current.digit, previous.digit, 1) & ahead(current.digit, next.digit, 1));
    // Thirteen joined bytes in a row, found by doubling.
    let run2 = joined & ahead(joined, after.joined, 1);
    let run4 = run2 & ahead(run2, after.joined_run2, 2);
    let run8 = run4 & ahead(run4, after.joined_run4, 4);
    let run13 = run8 & ahead(run4, after.joined_run4, 8) & ahead(joined, after.joined, 12);
    *partial = After {
        joined,
        joined_run2: run2,
        joined_run4: run4,
        ..*partial
    };
    let mut starts = run13 & !(run13 << 1);
    if starts == 0 {
        return 0;
    }
    // The runs are measured over this block and the next; one that reaches
    // the end of the next is taken. (The next block's last byte is read as
    // if nothing followed, so that a run never depends on a third block.)
    let digit = u128::from(current.digit) | u128::from(next.digit) << 64;
    let next_joined = (after.joined & !(1 << 63)) | (next.digit & (1 << 63));
    let joined = u128::from(joined) | u128::from(next_joined) << 64;
    let mut card = 0;
    while starts != 0 {
        let start = starts.trailing_zeros();
        starts &= starts - 1;
        let len = (!(joined >> start)).trailing_zeros();
        if start + len >= 128 {
            card |= 1 << start;
            continue;
        }
        let whole_run = (1u128 << len) - 1;
        if ((digit >> start) & whole_run).count_ones() >= 13 {
            card |= 1 << start;
        }
    }
    card
}

/// Pushes the positions of `bits` in decreasing order.
fn push_bits_backwards(positions: &mut Vec<usize>, base: usize, mut bits: u64) {
    while bits != 0 {
        let bit = 63 - bits.leading_zeros();
        bits &= !(1 << bit);
        positions.push(base + bit as usize);
    }
}

/// Calls `scan` with the maximal run of bytes `in_run` around each of
/// `positions` (in increasing order), once per run.
///
/// A regex that has no look-around and whose matches hold only bytes
/// `in_run` finds, searched on each run, exactly the matches it finds
/// in the whole text inside those runs: no match crosses a byte outside
/// the run. (A `\b` at a run's edge sees the same as in the whole text when
/// every word byte is `in_run`.)
pub(crate) fn for_each_run(
    text: &str,
    positions: &[usize],
    in_run: impl Fn(u8) -> bool,
    mut scan: impl FnMut(Range<usize>),
) {
    let bytes = text.as_bytes();
    let mut covered = 0;
    for &position in positions {
        if position < covered || position >= bytes.len() {
            continue;
        }
        let mut start = position;
        while start > 0 && in_run(bytes[start - 1]) {
            start -= 1;
        }
        let mut end = position;
        while end < bytes.len() && in_run(bytes[end]) {
            end += 1;
        }
        covered = end.max(position + 1);
        if start < end {
            scan(start..end);
        }
    }
}

/// Calls `scan` with each distinct line (without its `\n`) that contains
/// one of `positions` (in increasing order).
pub(crate) fn for_each_line(text: &str, positions: &[usize], mut scan: impl FnMut(Range<usize>)) {
    let bytes = text.as_bytes();
    let mut covered = 0;
    for &position in positions {
        if position < covered || position > bytes.len() {
            continue;
        }
        let start = memchr::memrchr(b'\n', &bytes[..position]).map_or(0, |i| i + 1);
        let end = memchr::memchr(b'\n', &bytes[position..]).map_or(bytes.len(), |i| position + i);
        covered = end + 1;
        scan(start..end);
    }
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
    use proptest::prelude::*;

    /// The shapes as first written: looking ahead from the first block,
    /// on 128-bit words. [`Prefilter::find_shapes`] must find exactly the
    /// same positions.
    mod reference {
        use super::super::Planes;

        /// Every shape spans less than a block, so the block before and the
        /// block after are all the context needed. Work is done on 128 bits,
        /// the block and the next one, so that `x >> k` reads `k` bytes ahead.
        fn shapes(previous: &Planes, current: &Planes, next: &Planes) -> [u64; 4] {
            let join = |current: u64, next: u64| u128::from(current) | u128::from(next) << 64;
            let digit = join(current.digit, next.digit);
            let colon = join(current.colon, next.colon);
            let dot = join(current.dot, next.dot);
            let dash = join(current.dash, next.dash);
            // A digit `k` bytes before.
            let digit_before = |k: u32| (digit << k) | u128::from(previous.digit >> (64 - k));
            let every_third = |x: u128| x & (x >> 3) & (x >> 6) & (x >> 9) & (x >> 12);
            // Every shape but the card starts with a separator in this block,
            // and most need several: counting them first skips most of the work.
            let mut address = 0;
            let mut digit_groups = 0;
            if current.dot | current.dash != 0 {
                // `digit.digit`, and three of them two to four bytes apart.
                let digit_dot = dot & digit_before(1) & (digit >> 1);
                if at_least(digit_dot, 3) {
                    let near = |x: u128| (x >> 2) | (x >> 3) | (x >> 4);
                    address |= digit_dot & near(digit_dot & near(digit_dot));
                }
                address |= dot & (dot >> 5);
                if at_least(dash, 5) {
                    address |= every_third(dash);
                }
                let digits_before3 = digit_before(1) & digit_before(2) & digit_before(3);
                let digits_after4 = (digit >> 1) & (digit >> 2) & (digit >> 3) & (digit >> 4);
                let phone = (dot | dash) & digits_before3 & digits_after4;
                let ssn = dash
                    & (dash >> 3)
                    & digits_before3
                    & (digit >> 1)
                    & (digit >> 2)
                    & (digits_after4 >> 3);
                digit_groups |= phone | ssn;
            }
            let mut mac = 0;
            if current.colon | current.dash != 0 && at_least(colon | dash, 5) {
                mac = every_third(colon | dash);
            }
            let mut colon_run = 0;
            if current.colon != 0 {
                colon_run = colon & (colon >> 1);
                if at_least(colon, 5) {
                    let close = |x: u128| (x >> 1) | (x >> 2) | (x >> 3) | (x >> 4) | (x >> 5);
                    let mut chain = colon;
                    for _ in 0..4 {
                        chain = colon & close(chain);
                    }
                    colon_run |= chain;
                }
            }
            // The low half is this block; `as` keeps exactly that.
            [
                address as u64,
                colon_run as u64,
                mac as u64,
                digit_groups as u64 | card_starts(previous, current, next),
            ]
        }

        /// Whether `x` has at least `k` bits set: `k - 1` times the lowest set bit
        /// is cleared. Cheaper than counting them where the processor has no
        /// population-count instruction (the portable x86_64 build has none).
        fn at_least(mut x: u128, k: u32) -> bool {
            for _ in 1..k {
                x &= x.wrapping_sub(1);
            }
            x != 0
        }

        /// Where, in `current`, a run of digits joined by single spaces or dashes
        /// starts that holds at least thirteen digits (or goes on past `next`).
        fn card_starts(previous: &Planes, current: &Planes, next: &Planes) -> u64 {
            if current.digit == 0 {
                return 0;
            }
            let join = |current: u64, next: u64| u128::from(current) | u128::from(next) << 64;
            let digit = join(current.digit, next.digit);
            let joiner = join(current.space | current.dash, next.space | next.dash);
            let digit_before = (digit << 1) | u128::from(previous.digit >> 63);
            let joined = digit | (joiner & digit_before & (digit >> 1));
            // Thirteen joined bytes in a row, found by doubling.
            let run2 = joined & (joined >> 1);
            let run4 = run2 & (run2 >> 2);
            let run8 = run4 & (run4 >> 4);
            let run13 = run8 & (run4 >> 8) & (joined >> 12);
            let mut starts = (run13 & !(run13 << 1)) as u64;
            let mut card = 0;
            while starts != 0 {
                let start = starts.trailing_zeros();
                starts &= starts - 1;
                let len = (!(joined >> start)).trailing_zeros();
                if start + len >= 128 {
                    card |= 1 << start;
                    continue;
                }
                let whole_run = (1u128 << len) - 1;
                if ((digit >> start) & whole_run).count_ones() >= 13 {
                    card |= 1 << start;
                }
            }
            card
        }

        /// `[address, colon_run, mac, digit_groups, separators]`.
        pub(super) fn positions(bytes: &[u8]) -> [Vec<usize>; 5] {
            let mut found: [Vec<usize>; 5] = Default::default();
            let mut blocks = bytes.chunks(64);
            let mut previous = Planes::default();
            let mut current = blocks.next().map(Planes::of).unwrap_or_default();
            let mut base = 0;
            while base < bytes.len() {
                let next = blocks.next().map(Planes::of).unwrap_or_default();
                let shapes = shapes(&previous, &current, &next);
                for (list, mut bits) in found.iter_mut().zip(shapes) {
                    while bits != 0 {
                        list.push(base + bits.trailing_zeros() as usize);
                        bits &= bits - 1;
                    }
                }
                for i in 0..64 {
                    let position = base + i;
                    if (current.colon | current.equals) >> i & 1 == 1
                        && position > 0
                        && super::super::KEY_END[usize::from(bytes[position - 1])]
                    {
                        found[4].push(position);
                    }
                }
                previous = current;
                current = next;
                base += 64;
            }
            found
        }
    }

    fn positions(text: &str) -> [Vec<usize>; 8] {
        let found = Prefilter::new(text);
        [
            found.address,
            found.colon_run,
            found.mac,
            found.digit_groups,
            found.separators,
            found.syslog_lines,
            found.user_words,
            found.as_words,
        ]
    }

    /// [`positions`] as first found: the shapes of [`reference`], and the
    /// syslog lines from every line start.
    fn reference_positions(text: &str) -> [Vec<usize>; 8] {
        let bytes = text.as_bytes();
        let [address, colon_run, mac, digit_groups, separators] = reference::positions(bytes);
        let syslog_lines = std::iter::once(0)
            .chain(memchr::memchr_iter(b'\n', bytes).map(|i| i + 1))
            .filter(|&start| may_start_syslog_header(&bytes[start..bytes.len().min(start + 64)]))
            .collect();
        let starts = |pattern: &str| -> Vec<usize> {
            regex::Regex::new(pattern)
                .expect("test input is valid")
                .find_iter(text)
                .map(|m| m.start())
                .collect()
        };
        [
            address,
            colon_run,
            mac,
            digit_groups,
            separators,
            syslog_lines,
            starts("(?i-u)user|su to"),
            starts("(?i-u) as"),
        ]
    }

    #[test]
    fn shapes_are_those_of_the_reference_on_the_corpus() {
        let corpus = include_str!("../../testdata/pii/corpus.txt");
        assert_eq!(positions(corpus), reference_positions(corpus));
        // Every alignment of the text to the blocks.
        for skip in 1..64 {
            let text = &corpus[skip..];
            assert_eq!(positions(text), reference_positions(text), "{skip}");
        }
    }

    /// Pieces around the words the prefilter finds in any case, and the
    /// near misses of each.
    const WORD_PIECES: &[&str] = &[
        "user", "USER", "uSeR", "use", "us", "u", "s", "su to", "SU TO", "su t", "su tO", "su",
        "su  to", " as", " AS", " aS", " a", "as", " ", "x", "\n", "é", "users",
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]
        // Texts dense in the bytes the shapes are made of, long enough to
        // span several blocks.
        #[test]
        fn shapes_are_those_of_the_reference(
            text in "[0-9:.\\- =axM<*\nuUsSeErRtToOA]{0,400}"
        ) {
            prop_assert_eq!(positions(&text), reference_positions(&text));
        }

        #[test]
        fn words_are_those_of_the_reference(
            pieces in prop::collection::vec(prop::sample::select(WORD_PIECES), 0..60)
        ) {
            let text = pieces.concat();
            prop_assert_eq!(positions(&text), reference_positions(&text));
        }

        #[test]
        fn shapes_are_those_of_the_reference_on_digit_runs(
            text in "([0-9]{1,20}[ .:-]{0,2}){0,40}"
        ) {
            prop_assert_eq!(positions(&text), reference_positions(&text));
        }
    }

    /// The byte-at-a-time definition of [`Planes::of`].
    fn planes_one_byte_at_a_time(block: &[u8]) -> Planes {
        let mut planes = Planes::default();
        for (i, &b) in block.iter().enumerate() {
            let bit = 1u64 << i;
            let set = |plane: &mut u64, yes: bool| {
                if yes {
                    *plane |= bit;
                }
            };
            set(&mut planes.digit, b.is_ascii_digit());
            set(&mut planes.colon, b == b':');
            set(&mut planes.dot, b == b'.');
            set(&mut planes.dash, b == b'-');
            set(&mut planes.space, b == b' ');
            set(&mut planes.equals, b == b'=');
            set(&mut planes.newline, b == b'\n');
            set(&mut planes.letter_u, b.eq_ignore_ascii_case(&b'u'));
            set(&mut planes.letter_s, b.eq_ignore_ascii_case(&b's'));
            set(&mut planes.letter_a, b.eq_ignore_ascii_case(&b'a'));
        }
        planes
    }

    #[test]
    fn planes_classify_every_byte() {
        let all: Vec<u8> = (0..=255).collect();
        let mut inputs: Vec<&[u8]> = all.chunks(BLOCK).collect();
        inputs.extend(all.rchunks(BLOCK - 5));
        inputs.push(b"May 21 01:58:03 a=b \"c\" 'd' \\e\tf ~ @[`{");
        inputs.push(b"");
        for block in inputs {
            let (got, want) = (Planes::of(block), planes_one_byte_at_a_time(block));
            let pairs = [
                (got.digit, want.digit),
                (got.colon, want.colon),
                (got.dot, want.dot),
                (got.dash, want.dash),
                (got.space, want.space),
                (got.equals, want.equals),
                (got.newline, want.newline),
                (got.letter_u, want.letter_u),
                (got.letter_s, want.letter_s),
                (got.letter_a, want.letter_a),
            ];
            for (index, (got, want)) in pairs.into_iter().enumerate() {
                assert_eq!(got, want, "plane {index} of {block:?}");
            }
        }
    }

    #[test]
    fn shapes_are_found() {
        let at =
            |text: &str, pick: fn(&Prefilter) -> &Vec<usize>| pick(&Prefilter::new(text)).clone();
        assert_eq!(at("from 10.20.4.23 port", |p| &p.address), vec![7]);
        assert!(at("version 1.2 at 12:30:45.123", |p| &p.address).is_empty());
        assert_eq!(at("mac=00-1A-2B-3C-4D-5E;", |p| &p.address), vec![6]);
        assert_eq!(at("Host 001a.2bf8.e8fb in", |p| &p.address), vec![9]);
        assert_eq!(at("from fe80::1%eth0", |p| &p.colon_run), vec![9]);
        assert_eq!(at("link 00:1a:2b:3c:4d:5e up", |p| &p.colon_run), vec![7]);
        assert_eq!(at("link 00:1a:2b:3c:4d:5e up", |p| &p.mac), vec![7]);
        assert!(at("May 21 01:58:03 host prog[1]: x: y", |p| &p.colon_run).is_empty());
        assert_eq!(at("ssn 123-45-6789", |p| &p.digit_groups), vec![7]);
        assert!(at("2024-05-21 01:58:03", |p| &p.digit_groups).is_empty());
        assert_eq!(at("call (417) 555-0123", |p| &p.digit_groups), vec![14]);
        assert_eq!(at("call 911.555.0176", |p| &p.digit_groups), vec![12]);
        assert_eq!(at("pan 3477 789625 41143", |p| &p.digit_groups), vec![4]);
        assert_eq!(at("FABRIKAM\\alice", |p| &p.backslashes), vec![8]);
        let syslog = "May 21 01:58:03 h p[1]: x\n<34>1 2003-10-11T22:14:15Z h\n\
                      *12: Mar  1 00:00:01 UTC: sw: %X-5-Y\n- 1117838570 2005.06.03 R02";
        assert_eq!(at(syslog, |p| &p.syslog_lines), vec![0, 26, 55]);
    }

    #[test]
    fn separators_follow_what_a_key_ends_with() {
        let text = "a:1 b=2 \"c\":3 'd'=4 e\\:5 f :6 g\t=7 9:8 ]=9 :10 -=11 é:12";
        let separators: Vec<&str> = Prefilter::new(text)
            .separators
            .iter()
            .map(|&i| &text[i - 1..=i])
            .collect();
        assert_eq!(
            separators,
            ["a:", "b=", "\":", "'=", "\\:", " :", "\t=", " :"]
        );
        // Across blocks and at the very start.
        for pad in 60..68 {
            let text = format!("={}key=value", "x".repeat(pad));
            assert_eq!(Prefilter::new(&text).separators, vec![pad + 4], "{pad}");
        }
    }

    #[test]
    fn shapes_across_blocks() {
        for pad in 50..70 {
            let text = format!("{}10.20.4.23 and 4111 1111 1111 1111", "x".repeat(pad));
            let found = Prefilter::new(&text);
            assert_eq!(found.address, vec![pad + 2], "{pad}");
            assert_eq!(found.digit_groups, vec![pad + 15], "{pad}");
        }
    }

    #[test]
    fn runs_and_lines() {
        let text = "a 10.0.0.1-x b\nc 1.2.3.4";
        let mut runs = Vec::new();
        for_each_run(
            text,
            &[4, 6, 19],
            |b| b.is_ascii_digit() || b == b'.',
            |r| runs.push(r),
        );
        assert_eq!(runs, vec![2..10, 17..24]);
        let mut lines = Vec::new();
        for_each_line(text, &[0, 5, 15, 20], |r| lines.push(r));
        assert_eq!(lines, vec![0..14, 15..24]);
    }
}
