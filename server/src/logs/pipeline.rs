//! Bytes in, scanned UTF-8 out: the streaming path every log takes, shared
//! by the server's background scan and the `tftsr scan` / `redact` commands.
//!
//! The input is read in 64 KiB chunks: gzip is decompressed on the fly, the
//! first bytes decide the encoding (or refuse binary content), the text is
//! decoded to UTF-8 and fed to the core's [`StreamScanner`], and every
//! committed segment goes to a sink with its findings and their line
//! numbers. Memory stays bounded by the scanner's limits, whatever the
//! input's size.

use std::io::{self, BufRead, BufReader, Read};

use tftsr_core::logs::{
    BinaryKind, LineCounter, Sniffed, TextDecoder, TextEncoding, limits, sniff,
};
use tftsr_core::pii::{PiiScanner, PiiSpan, ScannedSegment, StreamLimits};

const READ_BYTES: usize = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("{}", .0.advice())]
    Binary(BinaryKind),
    #[error("the decompressed text is larger than the limit of {0}")]
    TooLarge(String),
    #[error("the gzip data is damaged or incomplete")]
    BadGzip,
    #[error("cannot read the input: {0}")]
    Io(io::Error),
    #[error(transparent)]
    Sink(Box<dyn std::error::Error + Send + Sync>),
}

/// What decoding found out about the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decoded {
    pub encoding: TextEncoding,
    pub compressed: bool,
    /// Malformed sequences replaced by U+FFFD.
    pub replaced: u64,
    /// Bytes of UTF-8 text produced.
    pub text_bytes: u64,
    /// Lines (a last line without a line break counts).
    pub lines: u64,
}

/// A finding with its 1-based line number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineSpan {
    pub span: PiiSpan,
    pub line: u64,
}

/// Reads as much as fits in `buf`, stopping early only at the end.
fn fill(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

fn gzip_error(e: io::Error) -> PipelineError {
    match e.kind() {
        io::ErrorKind::InvalidData | io::ErrorKind::InvalidInput | io::ErrorKind::UnexpectedEof => {
            PipelineError::BadGzip
        }
        _ => PipelineError::Io(e),
    }
}

/// A consumer of committed segments and their located findings.
type Sink<'a> = dyn FnMut(&ScannedSegment, &[LineSpan]) -> Result<(), PipelineError> + 'a;

/// Locates `segment`'s findings on their lines and hands both to `sink`.
fn emit(
    segment: &ScannedSegment,
    lines: &mut LineCounter,
    sink: &mut Sink<'_>,
) -> Result<(), PipelineError> {
    let offset = segment.offset as u64;
    let located: Vec<LineSpan> = segment
        .spans
        .iter()
        .map(|span| LineSpan {
            span: *span,
            line: lines.line_at(&segment.text, offset, span.start as u64),
        })
        .collect();
    lines.skip_to(&segment.text, offset, offset + segment.text.len() as u64);
    sink(segment, &located)
}

/// Decodes and scans `input`; each committed segment goes to `sink` with
/// its findings (absolute byte offsets into the decoded text) and their
/// lines. `max_text` bounds the decoded size (a gzip bomb stops there).
pub fn decode_and_scan<R: Read>(
    input: R,
    scanner: &PiiScanner,
    max_text: u64,
    mut sink: impl FnMut(&ScannedSegment, &[LineSpan]) -> Result<(), PipelineError>,
) -> Result<Decoded, PipelineError> {
    let mut buffered = BufReader::with_capacity(READ_BYTES, input);
    let compressed = buffered
        .fill_buf()
        .map_err(PipelineError::Io)?
        .starts_with(&[0x1F, 0x8B]);
    let mut reader: Box<dyn Read> = if compressed {
        Box::new(flate2::read::MultiGzDecoder::new(buffered))
    } else {
        Box::new(buffered)
    };
    let io_error = if compressed {
        gzip_error
    } else {
        PipelineError::Io
    };

    let mut head = vec![0u8; limits::SNIFF_BYTES];
    let head_len = fill(&mut reader, &mut head).map_err(io_error)?;
    head.truncate(head_len);
    let encoding = match sniff(&head, head_len < limits::SNIFF_BYTES) {
        Sniffed::Text(encoding) => encoding,
        Sniffed::Binary(kind) => return Err(PipelineError::Binary(kind)),
        // gzip inside gzip: refuse rather than unpack layers.
        Sniffed::Gzip => return Err(PipelineError::Binary(BinaryKind::Unknown)),
    };

    let mut decoder = TextDecoder::new(encoding);
    let mut stream = scanner.stream(StreamLimits::default());
    let mut lines = LineCounter::new();
    let mut text = String::with_capacity(READ_BYTES * 2);
    let mut text_bytes = 0u64;
    let mut newlines = 0u64;
    let mut last_byte = None;
    let mut chunk = vec![0u8; READ_BYTES];
    let mut pending = head;

    loop {
        let done = pending.is_empty();
        text.clear();
        decoder.decode(&pending, done, &mut text);
        text_bytes += text.len() as u64;
        if text_bytes > max_text {
            return Err(PipelineError::TooLarge(tftsr_core::logs::human_bytes(
                max_text,
            )));
        }
        newlines += text.bytes().filter(|&b| b == b'\n').count() as u64;
        if let Some(&b) = text.as_bytes().last() {
            last_byte = Some(b);
        }
        if !text.is_empty()
            && let Some(segment) = stream.feed(&text)
        {
            emit(&segment, &mut lines, &mut sink)?;
        }
        if done {
            break;
        }
        let n = fill(&mut reader, &mut chunk).map_err(io_error)?;
        pending.clear();
        pending.extend_from_slice(&chunk[..n]);
    }
    if let Some(segment) = stream.finish() {
        emit(&segment, &mut lines, &mut sink)?;
    }
    let lines_total = newlines + u64::from(last_byte.is_some_and(|b| b != b'\n'));
    Ok(Decoded {
        encoding,
        compressed,
        replaced: decoder.replaced(),
        text_bytes,
        lines: lines_total,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn scan_all(input: &[u8]) -> Result<(Decoded, String, Vec<LineSpan>), PipelineError> {
        let scanner = PiiScanner::with_defaults().expect("defaults compile");
        let mut text = String::new();
        let mut spans = Vec::new();
        let decoded = decode_and_scan(input, &scanner, 1 << 30, |segment, located| {
            assert_eq!(segment.offset, text.len(), "segments are contiguous");
            text.push_str(&segment.text);
            spans.extend_from_slice(located);
            Ok(())
        })?;
        Ok((decoded, text, spans))
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(data).expect("compress");
        enc.finish().expect("compress")
    }

    const LOG: &str = "Jan 1 web1 sshd[1]: Accepted password for alice from 203.0.113.7\n\
                       Jan 1 web1 app: mail bob@example.org failed\n";

    #[test]
    fn plain_gzip_and_utf16_give_the_same_text_and_findings() {
        let (plain, text, spans) = scan_all(LOG.as_bytes()).expect("scans");
        assert_eq!(text, LOG);
        assert_eq!((plain.lines, plain.compressed), (2, false));
        assert!(
            spans
                .iter()
                .any(|s| s.line == 2 && &text[s.span.start..s.span.end] == "bob@example.org")
        );
        assert!(
            spans
                .iter()
                .any(|s| s.line == 1 && &text[s.span.start..s.span.end] == "203.0.113.7")
        );

        let (gz, gz_text, gz_spans) = scan_all(&gzip(LOG.as_bytes())).expect("scans");
        assert!(gz.compressed);
        assert_eq!((gz_text, gz_spans), (text.clone(), spans.clone()));

        let utf16: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain(LOG.encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        let (u, u_text, u_spans) = scan_all(&utf16).expect("scans");
        assert_eq!(u.encoding, TextEncoding::Utf16Le);
        assert_eq!((u_text, u_spans), (text, spans));
    }

    #[test]
    fn binary_bad_gzip_and_bombs_are_refused() {
        assert!(matches!(
            scan_all(b"PK\x03\x04 zip file"),
            Err(PipelineError::Binary(BinaryKind::Zip))
        ));
        let mut broken = gzip(LOG.as_bytes());
        broken.truncate(broken.len() / 2);
        assert!(matches!(scan_all(&broken), Err(PipelineError::BadGzip)));

        let scanner = PiiScanner::with_defaults().expect("defaults compile");
        let bomb = gzip(&vec![b'a'; 4 << 20]);
        let result = decode_and_scan(&bomb[..], &scanner, 1 << 20, |_, _| Ok(()));
        assert!(matches!(result, Err(PipelineError::TooLarge(_))));
    }

    #[test]
    fn lines_count_across_many_chunks() {
        let body: String = (1..=50_000)
            .map(|n| format!("line {n} from 10.1.{}.{}\n", n % 250, n % 200))
            .collect();
        let (decoded, text, spans) = scan_all(body.as_bytes()).expect("scans");
        assert_eq!(decoded.lines, 50_000);
        assert_eq!(text.len(), body.len());
        for s in spans.iter().step_by(997) {
            let expected = body[..s.span.start].matches('\n').count() as u64 + 1;
            assert_eq!(s.line, expected);
        }
    }
}
