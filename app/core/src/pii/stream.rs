//! Scanning text that arrives in chunks (an upload, a tailed log) in bounded
//! memory, with findings at absolute byte offsets.
//!
//! Every detector decides from the line of its match alone, except PEM
//! private keys, whose blocks may span lines. The stream therefore commits
//! text in whole lines: it keeps the unfinished last line (and any
//! private-key block whose end is still unknown) pending and scans the rest.
//! As long as lines stay under [`StreamLimits::max_pending_bytes`], the
//! spans are exactly those of a scan of the whole text, each reported once.
//!
//! A line longer than that is cut inside: the stream scans what it has,
//! commits only up to `overlap_bytes` before the end (so no finding near
//! the cut is split) and keeps `overlap_bytes` of committed text as context
//! for the next scan, dropping findings it already reported. That is the
//! price of bounded memory; such lines are rare in logs.
//!
//! The stream is pure: the caller reads the input and feeds `&str` chunks,
//! each of which must be valid UTF-8 on its own.

use super::kind::PiiSpan;
use super::pseudonym::{PseudonymMap, redact};
use super::scanner::PiiScanner;
use super::text::{floor_char_boundary, line_start};

/// Memory and batching bounds of a [`StreamScanner`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamLimits {
    /// Pending text is scanned once at least this much is uncommitted;
    /// larger batches mean fewer, cheaper scans. The default is the size of
    /// the pieces [`PiiScanner::scan`] hands its detectors, small enough
    /// for the processor's cache.
    pub batch_bytes: usize,
    /// Longest stretch of uncommitted text kept while waiting for a line
    /// break (or a private key's footer).
    pub max_pending_bytes: usize,
    /// Context kept around a cut inside an over-long line.
    pub overlap_bytes: usize,
}

impl Default for StreamLimits {
    fn default() -> Self {
        Self {
            batch_bytes: 256 * 1024,
            max_pending_bytes: 1024 * 1024,
            overlap_bytes: 4 * 1024,
        }
    }
}

/// A stretch of the input that has been scanned for good.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScannedSegment {
    /// Absolute byte offset of `text` in the whole input.
    pub offset: usize,
    pub text: String,
    /// Findings in `text`, with absolute offsets.
    pub spans: Vec<PiiSpan>,
}

impl ScannedSegment {
    /// The findings with offsets relative to `self.text`.
    pub fn relative_spans(&self) -> Vec<PiiSpan> {
        self.spans
            .iter()
            .map(|s| PiiSpan {
                start: s.start - self.offset,
                end: s.end - self.offset,
                ..*s
            })
            .collect()
    }

    /// The segment's text with its findings replaced by placeholders.
    pub fn redact(&self, map: &mut PseudonymMap) -> String {
        redact(&self.text, &self.relative_spans(), map)
    }
}

/// Scans a text fed in chunks; build one with [`PiiScanner::stream`].
#[derive(Debug)]
pub struct StreamScanner<'s> {
    scanner: &'s PiiScanner,
    limits: StreamLimits,
    /// Text not yet dropped: some already-committed context, then the
    /// uncommitted rest.
    pending: String,
    /// Absolute offset of `pending[0]`.
    pending_offset: usize,
    /// Absolute offset up to which text has been reported.
    committed: usize,
    /// Index in `pending` of its last line break, kept up to date as chunks
    /// arrive so that no feed searches the same text twice.
    last_newline: Option<usize>,
    /// A forced cut that found nothing to commit is not retried before
    /// `pending` reaches this length, so a long finding that keeps crossing
    /// the cut does not make every small feed rescan the whole buffer.
    forced_retry_len: usize,
    /// The longest chunk fed so far: a fresh `pending` buffer is made large
    /// enough to take the next one without growing (up to
    /// `max_pending_bytes`, so one huge chunk does not size every buffer).
    largest_chunk: usize,
}

impl<'s> StreamScanner<'s> {
    pub(crate) fn new(scanner: &'s PiiScanner, limits: StreamLimits) -> Self {
        let limits = StreamLimits {
            max_pending_bytes: limits
                .max_pending_bytes
                .max(limits.overlap_bytes.saturating_mul(2))
                .max(64),
            ..limits
        };
        Self {
            scanner,
            limits,
            pending: String::new(),
            pending_offset: 0,
            committed: 0,
            last_newline: None,
            forced_retry_len: 0,
            largest_chunk: 0,
        }
    }

    /// Adds the next chunk; returns what became final, if anything.
    pub fn feed(&mut self, chunk: &str) -> Option<ScannedSegment> {
        if let Some(newline) = memchr::memrchr(b'\n', chunk.as_bytes()) {
            self.last_newline = Some(self.pending.len() + newline);
        }
        self.largest_chunk = self.largest_chunk.max(chunk.len());
        self.pending.push_str(chunk);
        let mut output: Option<ScannedSegment> = None;
        loop {
            let committed_rel = self.committed - self.pending_offset;
            let uncommitted = self.pending.len() - committed_rel;
            if uncommitted == 0 || uncommitted < self.limits.batch_bytes {
                break;
            }
            let over_limit = uncommitted > self.limits.max_pending_bytes
                && self.pending.len() >= self.forced_retry_len;
            let step = match self.line_cut(committed_rel) {
                Some((cut, holds_key_header)) => Some(self.commit(cut, false, holds_key_header)),
                None if over_limit => {
                    let segment = self.forced_commit();
                    if segment.is_none() {
                        self.forced_retry_len =
                            self.pending.len() + self.limits.overlap_bytes.max(1);
                    }
                    segment
                }
                None => None,
            };
            match step {
                Some(segment) => merge_into(&mut output, segment),
                None => break,
            }
        }
        output
    }

    /// Scans whatever is left; the input is complete.
    pub fn finish(mut self) -> Option<ScannedSegment> {
        let committed_rel = self.committed - self.pending_offset;
        (self.pending.len() > committed_rel).then(|| self.commit(self.pending.len(), true, true))
    }

    /// Where to commit up to: just after the last line break, but before any
    /// private-key block whose end is still unknown; and whether the text to
    /// scan for it may hold a private-key header.
    fn line_cut(&self, committed_rel: usize) -> Option<(usize, bool)> {
        let last_newline = self
            .last_newline
            .filter(|&newline| newline >= committed_rel)?;
        let cut = last_newline + 1;
        let window_start = self.context_start(committed_rel);
        let headers = self.scanner.key_headers(&self.pending[window_start..cut]);
        let cut = match headers.hold_from {
            Some(hold_from) => line_start(&self.pending, window_start + hold_from),
            None => cut,
        };
        (cut > committed_rel).then_some((cut, headers.any))
    }

    /// Where a scan of the uncommitted text should start to see the context
    /// detectors need: the start of the current line, but no more than
    /// `overlap_bytes` back.
    fn context_start(&self, committed_rel: usize) -> usize {
        let floor = floor_char_boundary(
            &self.pending,
            committed_rel.saturating_sub(self.limits.overlap_bytes),
        );
        line_start(&self.pending, committed_rel).max(floor)
    }

    /// Scans up to `cut` (relative to `pending`) and reports everything
    /// before it. `at_end` means no more text will come; `may_hold_key_header`
    /// is false only when the text to scan is known to hold none.
    fn commit(&mut self, cut: usize, at_end: bool, may_hold_key_header: bool) -> ScannedSegment {
        let committed_rel = self.committed - self.pending_offset;
        let window_start = self.context_start(committed_rel);
        let spans = self
            .scanner
            .scan_knowing_key_headers(&self.pending[window_start..cut], may_hold_key_header);
        // A cut at a line start needs no context; keep some otherwise.
        let keep_from = if at_end || self.pending[..cut].ends_with('\n') {
            cut
        } else {
            floor_char_boundary(&self.pending, cut.saturating_sub(self.limits.overlap_bytes))
        };
        let spans = clip(
            &spans,
            window_start,
            committed_rel,
            cut,
            self.pending_offset,
        );
        let offset = self.committed;
        self.committed = self.pending_offset + cut;
        let text = if committed_rel == 0 && keep_from == cut {
            // The usual case: all of `pending` before the cut is reported and
            // none of it kept, so the segment takes the buffer itself.
            self.hand_over(cut)
        } else {
            let text = self.pending[committed_rel..cut].to_owned();
            self.drop_before(keep_from);
            text
        };
        ScannedSegment {
            offset,
            text,
            spans,
        }
    }

    /// Gives away `pending` up to `cut` without copying it: only the
    /// unfinished rest moves to a fresh buffer, made large enough for the
    /// next batch (but no larger than `max_pending_bytes`).
    fn hand_over(&mut self, cut: usize) -> String {
        let room = self
            .limits
            .batch_bytes
            .max(self.largest_chunk)
            .min(self.limits.max_pending_bytes);
        let mut rest = String::with_capacity((self.pending.len() - cut).max(1024) + room);
        rest.push_str(&self.pending[cut..]);
        self.pending.truncate(cut);
        let text = std::mem::replace(&mut self.pending, rest);
        self.shift_after_drop(cut);
        text
    }

    /// Commits part of an over-long line, keeping `overlap_bytes` at the end
    /// uncommitted so that nothing near the cut is split.
    fn forced_commit(&mut self) -> Option<ScannedSegment> {
        let committed_rel = self.committed - self.pending_offset;
        let window_start = self.context_start(committed_rel);
        let end = self.pending.len();
        let mut cut =
            floor_char_boundary(&self.pending, end.saturating_sub(self.limits.overlap_bytes));
        if cut <= committed_rel {
            return None;
        }
        let spans = self.scanner.scan(&self.pending[window_start..end]);
        // A finding that crosses the cut is kept whole for the next round,
        // unless that would leave nothing to commit while memory runs out.
        if let Some(crossing) = spans
            .iter()
            .map(|s| (s.start + window_start, s.end + window_start))
            .find(|&(start, end)| start < cut && end > cut)
        {
            let runaway = end - committed_rel > self.limits.max_pending_bytes.saturating_mul(2);
            if crossing.0 > committed_rel {
                cut = crossing.0;
            } else if !runaway {
                return None;
            }
        }
        let segment = self.segment(&spans, window_start, committed_rel, cut);
        self.committed = self.pending_offset + cut;
        let keep_from =
            floor_char_boundary(&self.pending, cut.saturating_sub(self.limits.overlap_bytes));
        let keep_from = keep_from.max(line_start(&self.pending, cut).min(cut));
        self.drop_before(keep_from.min(cut));
        Some(segment)
    }

    /// The text from `committed_rel` to `cut` (relative to `pending`) and
    /// the findings in it, from `spans` of a scan of the window at
    /// `window_start`.
    fn segment(
        &self,
        spans: &[PiiSpan],
        window_start: usize,
        committed_rel: usize,
        cut: usize,
    ) -> ScannedSegment {
        ScannedSegment {
            offset: self.committed,
            text: self.pending[committed_rel..cut].to_owned(),
            spans: clip(spans, window_start, committed_rel, cut, self.pending_offset),
        }
    }

    fn drop_before(&mut self, keep_from: usize) {
        if keep_from > 0 {
            self.pending.drain(..keep_from);
            self.shift_after_drop(keep_from);
        }
    }

    /// Moves the bookkeeping on after the first `dropped` bytes of
    /// `pending` have gone.
    fn shift_after_drop(&mut self, dropped: usize) {
        self.pending_offset += dropped;
        self.last_newline = self.last_newline.and_then(|n| n.checked_sub(dropped));
        self.forced_retry_len = self.forced_retry_len.saturating_sub(dropped);
    }
}

/// Moves `spans` (relative to a window at `window_start`) to absolute
/// offsets, keeping those that end inside `(from, to]` and clipping any that
/// started in text already reported.
fn clip(
    spans: &[PiiSpan],
    window_start: usize,
    from: usize,
    to: usize,
    pending_offset: usize,
) -> Vec<PiiSpan> {
    spans
        .iter()
        .filter_map(|s| {
            let start = (s.start + window_start).max(from);
            let end = (s.end + window_start).min(to);
            (start < end && s.end + window_start > from).then_some(PiiSpan {
                start: start + pending_offset,
                end: end + pending_offset,
                ..*s
            })
        })
        .collect()
}

fn merge_into(output: &mut Option<ScannedSegment>, next: ScannedSegment) {
    match output {
        Some(current) => {
            current.text.push_str(&next.text);
            current.spans.extend(next.spans);
        }
        None => *output = Some(next),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream_all(
        scanner: &PiiScanner,
        text: &str,
        chunk: usize,
        limits: StreamLimits,
    ) -> (Vec<PiiSpan>, String) {
        let mut stream = scanner.stream(limits);
        let mut spans = Vec::new();
        let mut rebuilt = String::new();
        let mut rest = text;
        while !rest.is_empty() {
            let mut take = chunk.min(rest.len());
            while !rest.is_char_boundary(take) {
                take += 1;
            }
            let (head, tail) = rest.split_at(take);
            if let Some(segment) = stream.feed(head) {
                assert_eq!(segment.offset, rebuilt.len());
                rebuilt.push_str(&segment.text);
                spans.extend(segment.spans);
            }
            rest = tail;
        }
        if let Some(segment) = stream.finish() {
            assert_eq!(segment.offset, rebuilt.len());
            rebuilt.push_str(&segment.text);
            spans.extend(segment.spans);
        }
        (spans, rebuilt)
    }

    const SAMPLE: &str = "May 21 01:58:03 pgdb-prod-03 sshd[1]: Accepted publickey for tomas_mensah from 10.8.0.120 port 5\n\
        {\"k\": \"-----BEGIN RSA PRIVATE KEY-----\\nMIIEowIBAAKCAQEA\\n-----END RSA PRIVATE KEY-----\"}\n\
        -----BEGIN PRIVATE KEY-----\nMIIEowIBAAKCAQEAvAb26tRI\nzJ2qRdVy3T673FnDQeEv\n-----END PRIVATE KEY-----\n\
        mail ops@example.org from 2001:db8::1 ✓ ünïcödé\n\
        Authorization: Bearer Ka6xGce7KPeceGEWWcFNOWy0nQHtKtlzN4mGfZjO";

    #[test]
    fn chunked_equals_whole_for_every_chunk_size() {
        let scanner = PiiScanner::with_defaults().expect("test input is valid");
        let whole = scanner.scan(SAMPLE);
        assert!(whole.len() >= 8, "{whole:?}");
        let limits = StreamLimits {
            batch_bytes: 0,
            ..StreamLimits::default()
        };
        for chunk in [1, 2, 3, 7, 16, 64, 1000] {
            let (spans, rebuilt) = stream_all(&scanner, SAMPLE, chunk, limits);
            assert_eq!(rebuilt, SAMPLE);
            assert_eq!(spans, whole, "chunk {chunk}");
        }
    }

    #[test]
    fn over_long_lines_are_cut_without_splitting_or_repeating() {
        let scanner = PiiScanner::with_defaults().expect("test input is valid");
        let line: String = (0..400)
            .map(|i| format!("client 10.0.{}.{} ok; ", i % 200, i % 250))
            .collect();
        let whole = scanner.scan(&line);
        let limits = StreamLimits {
            batch_bytes: 0,
            max_pending_bytes: 256,
            overlap_bytes: 64,
        };
        let (spans, rebuilt) = stream_all(&scanner, &line, 50, limits);
        assert_eq!(rebuilt, line);
        assert_eq!(spans, whole);
    }
}
