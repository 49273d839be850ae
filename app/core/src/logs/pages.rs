//! Pages: a log is viewed a page at a time.
//!
//! While a file streams through the scanner, [`PageBreaker`] records where
//! each page starts and ends (byte offsets into the decoded UTF-8 text and
//! the first line number). A page ends at a line break once it holds
//! [`PAGE_LINES`] lines or [`PAGE_BYTES`] bytes; a single line longer than
//! [`PAGE_MAX_BYTES`] is cut inside, on a character boundary, so no page is
//! ever unbounded. The viewer then reads one page's bytes from the
//! encrypted blob and its findings from the database, whatever the file's
//! size.
//!
//! [`LineCounter`] turns byte offsets into 1-based line numbers for
//! findings reported in order.

use serde::{Deserialize, Serialize};

/// Lines per page.
pub const PAGE_LINES: u32 = 200;
/// A page ends at the first line break after this many bytes.
pub const PAGE_BYTES: u64 = 48 * 1024;
/// No page is longer than this; a longer line is cut inside.
pub const PAGE_MAX_BYTES: u64 = 256 * 1024;

/// Where one page sits in the text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageInfo {
    /// Byte offset of the page's first byte.
    pub start: u64,
    /// Byte offset just past its last byte.
    pub end: u64,
    /// 1-based number of the page's first line.
    pub first_line: u64,
    /// Lines that start on this page.
    pub lines: u32,
}

/// Records page boundaries of a text fed in chunks.
#[derive(Debug, Clone)]
pub struct PageBreaker {
    pages: Vec<PageInfo>,
    current: PageInfo,
    /// Whether the byte before the current position was a line break (or
    /// the text's start), i.e. a line starts here.
    at_line_start: bool,
    /// Whether the current page continues a line cut at the previous one.
    starts_mid_line: bool,
}

impl Default for PageBreaker {
    fn default() -> Self {
        Self::new()
    }
}

impl PageBreaker {
    pub fn new() -> Self {
        Self {
            pages: Vec::new(),
            current: PageInfo {
                start: 0,
                end: 0,
                first_line: 1,
                lines: 0,
            },
            at_line_start: true,
            starts_mid_line: false,
        }
    }

    /// Pages completed so far.
    pub fn pages(&self) -> &[PageInfo] {
        &self.pages
    }

    /// Takes the pages completed so far (the breaker keeps counting).
    pub fn take_pages(&mut self) -> Vec<PageInfo> {
        std::mem::take(&mut self.pages)
    }

    /// Accounts for the next chunk of text.
    pub fn feed(&mut self, text: &str) {
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if self.at_line_start {
                self.current.lines += 1;
                self.at_line_start = false;
            }
            let room = usize::try_from(PAGE_MAX_BYTES - (self.current.end - self.current.start))
                .unwrap_or(usize::MAX);
            let rest = &bytes[i..];
            match memchr_newline(&rest[..rest.len().min(room)]) {
                Some(n) => {
                    i += n + 1;
                    self.current.end += (n + 1) as u64;
                    self.at_line_start = true;
                    if self.current.lines >= PAGE_LINES
                        || self.current.end - self.current.start >= PAGE_BYTES
                    {
                        self.close(false);
                    }
                }
                None if rest.len() < room => {
                    self.current.end += rest.len() as u64;
                    i = bytes.len();
                }
                None => {
                    // An over-long line: cut it on a char boundary.
                    let mut cut = room;
                    while cut > 0 && !text.is_char_boundary(i + cut) {
                        cut -= 1;
                    }
                    if cut == 0 {
                        // Unreachable for room >= 4, kept as a guard.
                        cut = rest.len().min(room.max(1));
                    }
                    i += cut;
                    self.current.end += cut as u64;
                    self.close(true);
                }
            }
        }
    }

    fn close(&mut self, mid_line: bool) {
        let done = self.current;
        // The line of the page's last byte. A page that continues a cut line
        // did not count that line among those starting on it.
        let last_line = done.first_line + u64::from(done.lines)
            - u64::from(!self.starts_mid_line && done.lines > 0);
        self.pages.push(done);
        self.current = PageInfo {
            start: done.end,
            end: done.end,
            first_line: if mid_line { last_line } else { last_line + 1 },
            lines: 0,
        };
        self.starts_mid_line = mid_line;
    }

    /// Completes the last page and returns the pages recorded since the last
    /// [`PageBreaker::take_pages`]. An empty text has one empty page.
    pub fn finish(mut self) -> Vec<PageInfo> {
        let seen_any = self.current.end > 0 || self.current.start > 0;
        if self.current.end > self.current.start || !seen_any {
            let last = self.current;
            self.pages.push(last);
        }
        self.pages
    }
}

fn memchr_newline(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b == b'\n')
}

/// Maps increasing byte offsets to 1-based line numbers, text fed in order.
#[derive(Debug, Clone)]
pub struct LineCounter {
    /// Bytes of text accounted for.
    pos: u64,
    /// Line breaks before `pos`.
    breaks: u64,
}

impl Default for LineCounter {
    fn default() -> Self {
        Self::new()
    }
}

impl LineCounter {
    pub fn new() -> Self {
        Self { pos: 0, breaks: 0 }
    }

    /// The line of byte `offset`, where `text` starts at absolute offset
    /// `text_offset` and contains `offset`. Offsets must not decrease
    /// between calls; a smaller one answers with the current line.
    pub fn line_at(&mut self, text: &str, text_offset: u64, offset: u64) -> u64 {
        if offset > self.pos {
            let from = usize::try_from(self.pos.saturating_sub(text_offset)).unwrap_or(0);
            let to = usize::try_from(offset - text_offset)
                .unwrap_or(usize::MAX)
                .min(text.len());
            if let Some(slice) = text.as_bytes().get(from.min(to)..to) {
                self.breaks += slice.iter().filter(|&&b| b == b'\n').count() as u64;
            }
            self.pos = offset;
        }
        self.breaks + 1
    }

    /// Accounts for the rest of a segment that ends at `end`.
    pub fn skip_to(&mut self, text: &str, text_offset: u64, end: u64) {
        self.line_at(text, text_offset, end);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pages_of(text: &str, chunk: usize) -> Vec<PageInfo> {
        let mut breaker = PageBreaker::new();
        let mut rest = text;
        while !rest.is_empty() {
            let mut cut = chunk.min(rest.len());
            while !rest.is_char_boundary(cut) {
                cut += 1;
            }
            breaker.feed(&rest[..cut]);
            rest = &rest[cut..];
        }
        breaker.finish()
    }

    fn check_cover(text: &str, pages: &[PageInfo]) {
        assert_eq!(pages.first().map(|p| p.start), Some(0));
        assert_eq!(pages.last().map(|p| p.end), Some(text.len() as u64));
        for pair in pages.windows(2) {
            assert_eq!(pair[0].end, pair[1].start);
        }
        for page in pages {
            assert!(page.end - page.start <= PAGE_MAX_BYTES);
            let s = usize::try_from(page.start).expect("fits");
            let e = usize::try_from(page.end).expect("fits");
            assert!(text.get(s..e).is_some(), "page on char boundaries");
            let before = text[..s].matches('\n').count() as u64;
            assert_eq!(page.first_line, before + 1, "first line of page at {s}");
        }
    }

    #[test]
    fn pages_hold_at_most_page_lines_and_end_on_line_breaks() {
        let text: String = (1..=1000).map(|n| format!("line {n}\n")).collect();
        for chunk in [1, 7, 100, 1 << 20] {
            let pages = pages_of(&text, chunk);
            check_cover(&text, &pages);
            assert_eq!(pages.len(), 5, "chunk {chunk}");
            assert!(pages.iter().all(|p| p.lines == PAGE_LINES));
            assert_eq!(pages[1].first_line, 201);
        }
    }

    #[test]
    fn long_pages_end_by_size_and_unterminated_last_line_counts() {
        let line = format!("{}\n", "x".repeat(1000));
        let mut text = line.repeat(120);
        text.push_str("tail without newline");
        let pages = pages_of(&text, 4096);
        check_cover(&text, &pages);
        assert!(pages.len() >= 3);
        let total: u64 = pages.iter().map(|p| u64::from(p.lines)).sum();
        assert_eq!(total, 121);
    }

    #[test]
    fn an_over_long_line_is_cut_on_char_boundaries() {
        let text = format!("first\n{}\nlast\n", "é".repeat(300_000));
        let pages = pages_of(&text, 10_000);
        check_cover(&text, &pages);
        assert!(pages.len() >= 4, "the 600 kB line spans three pages");
        assert_eq!(pages[1].first_line, 2);
        assert_eq!(pages[2].first_line, 2, "the cut line continues");
        assert_eq!(pages[3].first_line, 3, "the line after it");
        let total: u64 = pages.iter().map(|p| u64::from(p.lines)).sum();
        assert_eq!(total, 3);
    }

    #[test]
    fn empty_text_has_one_empty_page() {
        let pages = PageBreaker::new().finish();
        assert_eq!(
            pages,
            vec![PageInfo {
                start: 0,
                end: 0,
                first_line: 1,
                lines: 0
            }]
        );
    }

    #[test]
    fn line_counter_counts_across_segments() {
        let a = "one\ntwo\n";
        let b = "three\nfour";
        let mut counter = LineCounter::new();
        assert_eq!(counter.line_at(a, 0, 0), 1);
        assert_eq!(counter.line_at(a, 0, 5), 2);
        counter.skip_to(a, 0, a.len() as u64);
        assert_eq!(counter.line_at(b, 8, 8), 3);
        assert_eq!(counter.line_at(b, 8, 15), 4);
        assert_eq!(counter.line_at(b, 8, 14), 4, "never goes back");
    }
}
