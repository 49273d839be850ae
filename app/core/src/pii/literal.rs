//! Running a regex only at the positions where a match could start.
//!
//! Some detector patterns begin with common words (`user`, `host`) that
//! the regex engine cannot use as a prefilter once they are
//! case-insensitive and many, so a plain search walks every byte with its
//! automaton. A detector that can list, more cheaply, every position where
//! a match may start (a superset) gives them to [`Anchored::find_at`],
//! which tries the pattern, anchored, at each.
//!
//! Why this changes no result: every match of the pattern starts at one of
//! the candidates (the caller's part), the pattern has no look-behind
//! (`\b`, `^`, `$`), so a match starting at `p` does not depend on the text
//! before `p`, and the candidates are tried in increasing order, each only
//! if it is not inside the previous match — which is exactly how
//! `Regex::find_iter` walks the text: the leftmost start, then the first
//! match at that start by the pattern's priorities.

use regex::Regex;

use super::config::PiiConfigError;
use super::detect::compile;

pub(crate) struct Anchored {
    regex: Regex,
}

impl Anchored {
    /// `pattern` must not look behind its start nor match the empty
    /// string.
    pub(crate) fn new(detector: &'static str, pattern: &str) -> Result<Self, PiiConfigError> {
        Ok(Self {
            regex: compile(detector, &format!("^(?:{pattern})"))?,
        })
    }

    /// The matches `Regex::find_iter(text)` would give for the pattern, as
    /// `(start, end)` in order, provided every match starts at one of
    /// `candidates` (char boundaries, in any order, duplicates allowed).
    pub(crate) fn find_at(
        &self,
        text: &str,
        mut candidates: Vec<usize>,
        found: impl FnMut(usize, usize),
    ) {
        candidates.sort_unstable();
        candidates.dedup();
        self.find_at_sorted(text, &candidates, found);
    }

    /// [`Anchored::find_at`] for `candidates` already in increasing order.
    pub(crate) fn find_at_sorted(
        &self,
        text: &str,
        candidates: &[usize],
        mut found: impl FnMut(usize, usize),
    ) {
        let mut resume = 0;
        for &start in candidates {
            if start < resume {
                continue;
            }
            let Some(rest) = text.get(start..) else {
                continue;
            };
            if let Some(m) = self.regex.find(rest) {
                resume = start + m.end();
                found(start, resume);
            }
        }
    }
}

impl Anchored {
    /// [`Anchored::find_at`] with the match's capture groups, relative to
    /// `text[start..]` (`start` is the first argument of `found`).
    pub(crate) fn captures_at(
        &self,
        text: &str,
        mut candidates: Vec<usize>,
        mut found: impl FnMut(usize, regex::Captures<'_>),
    ) {
        candidates.sort_unstable();
        candidates.dedup();
        let mut resume = 0;
        for start in candidates {
            if start < resume {
                continue;
            }
            let Some(rest) = text.get(start..) else {
                continue;
            };
            if let Some(caps) = self.regex.captures(rest) {
                resume = start + caps.get(0).map_or(0, |m| m.end());
                found(start, caps);
            }
        }
    }
}

/// Calls `found` with the index of every `a` or `b` byte in `bytes`, in
/// order. Eight bytes at a time: cheaper than `memchr2` when the bytes are
/// frequent (a `:` every few dozen bytes of a log).
pub(crate) fn for_each_byte2(bytes: &[u8], a: u8, b: u8, mut found: impl FnMut(usize)) {
    const LOW: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    const ONES: u64 = 0x0101_0101_0101_0101;
    // High bit set in each byte of `v` that is zero, and only there.
    let zero_bytes = |v: u64| !(((v & LOW) + LOW) | v) & HIGH;
    let (splat_a, splat_b) = (ONES * u64::from(a), ONES * u64::from(b));
    let mut chunks = bytes.chunks_exact(8);
    let mut base = 0;
    for chunk in chunks.by_ref() {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let word = u64::from_le_bytes(word);
        let mut hits = zero_bytes(word ^ splat_a) | zero_bytes(word ^ splat_b);
        while hits != 0 {
            found(base + (hits.trailing_zeros() / 8) as usize);
            hits &= hits - 1;
        }
        base += 8;
    }
    for (offset, &byte) in chunks.remainder().iter().enumerate() {
        if byte == a || byte == b {
            found(base + offset);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_byte_of_two() {
        let text = "a:b=c::==é:0123456789=abcdefgh:";
        let mut got = Vec::new();
        for_each_byte2(text.as_bytes(), b':', b'=', |i| got.push(i));
        let want: Vec<usize> = text
            .bytes()
            .enumerate()
            .filter(|&(_, b)| b == b':' || b == b'=')
            .map(|(i, _)| i)
            .collect();
        assert_eq!(got, want);
        let bytes: Vec<u8> = (0..=255u8).chain(0..=255u8).collect();
        for start in 0..9 {
            let mut got = Vec::new();
            for_each_byte2(&bytes[start..], 0x3a, 0xba, |i| got.push(i));
            let want: Vec<usize> = bytes[start..]
                .iter()
                .enumerate()
                .filter(|&(_, &b)| b == 0x3a || b == 0xba)
                .map(|(i, _)| i)
                .collect();
            assert_eq!(got, want);
        }
    }

    #[test]
    fn agrees_with_find_iter() {
        let pattern = "(?i-u)(?:host|token|ok)[a-z]*=[0-9]+";
        let anchored = Anchored::new("test", pattern).expect("test input is valid");
        let plain = Regex::new(pattern).expect("test input is valid");
        for text in [
            "hostoken=1 x TOKEN=22 hostok=3 ok=",
            "okok=1okay=2",
            "host=ſ token=9",
        ] {
            let mut got = Vec::new();
            // Every position is a superset of the match starts.
            let all = (0..text.len())
                .filter(|&i| text.is_char_boundary(i))
                .collect();
            anchored.find_at(text, all, |s, e| got.push((s, e)));
            let want: Vec<_> = plain
                .find_iter(text)
                .map(|m| (m.start(), m.end()))
                .collect();
            assert_eq!(got, want, "{text}");
        }
    }
}
