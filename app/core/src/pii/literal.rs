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

#[cfg(test)]
mod tests {
    use super::*;

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
