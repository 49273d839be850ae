//! What an upload is, and turning it into UTF-8.
//!
//! [`sniff`] looks at the first bytes of a file (after decompression, for
//! gzip) and decides: a compressed stream, text in one of the encodings
//! logs come in, or binary content that TFTSR refuses with a message saying
//! what it looks like. [`TextDecoder`] then converts the whole stream,
//! chunk by chunk, into UTF-8 in bounded memory; malformed sequences become
//! U+FFFD and are counted, so the UI can say how many were replaced.

use serde::{Deserialize, Serialize};

text_enum! {
    /// The character encodings TFTSR reads. `Windows1252` is the fallback
    /// for text that is not valid UTF-8 (it is what "Latin-1" means on the
    /// web: ISO-8859-1 plus printable characters in 0x80–0x9F).
    TextEncoding {
        Utf8 => "utf-8", "UTF-8";
        Utf16Le => "utf-16le", "UTF-16 (little-endian)";
        Utf16Be => "utf-16be", "UTF-16 (big-endian)";
        Windows1252 => "windows-1252", "Latin-1 (Windows-1252)";
    }
}

impl TextEncoding {
    fn encoding(self) -> &'static encoding_rs::Encoding {
        match self {
            TextEncoding::Utf8 => encoding_rs::UTF_8,
            TextEncoding::Utf16Le => encoding_rs::UTF_16LE,
            TextEncoding::Utf16Be => encoding_rs::UTF_16BE,
            TextEncoding::Windows1252 => encoding_rs::WINDOWS_1252,
        }
    }
}

/// Binary formats recognised by their magic bytes, so the refusal can say
/// what the file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BinaryKind {
    Zip,
    SevenZip,
    Xz,
    Bzip2,
    Zstd,
    Tar,
    Pdf,
    Png,
    Jpeg,
    Gif,
    Elf,
    WindowsExecutable,
    Sqlite,
    Evtx,
    Pcap,
    /// Control bytes where text would have none.
    Unknown,
}

impl BinaryKind {
    /// A sentence a person can act on.
    pub const fn advice(self) -> &'static str {
        match self {
            BinaryKind::Zip | BinaryKind::SevenZip | BinaryKind::Tar => {
                "This is an archive, not a log. Unpack it and upload the log files inside."
            }
            BinaryKind::Xz | BinaryKind::Bzip2 | BinaryKind::Zstd => {
                "This is compressed with a format TFTSR does not read. Decompress it, or \
                 recompress it with gzip, and upload again."
            }
            BinaryKind::Pdf => "This is a PDF document, not a log. Attach text logs only.",
            BinaryKind::Png | BinaryKind::Jpeg | BinaryKind::Gif => {
                "This is an image, not a log. Add it under Images on the issue page instead."
            }
            BinaryKind::Elf | BinaryKind::WindowsExecutable => {
                "This is a program, not a log. Attach text logs only."
            }
            BinaryKind::Sqlite => "This is a database file, not a log. Export the rows as text.",
            BinaryKind::Evtx => {
                "This is a binary Windows event log. Export it as text or XML (for example \
                 with `wevtutil qe` or Event Viewer's \"Save as\") and upload that."
            }
            BinaryKind::Pcap => {
                "This is a packet capture. Export it as text (for example `tshark -r FILE`) \
                 and upload that."
            }
            BinaryKind::Unknown => {
                "This file is binary, not text. TFTSR reads text logs (UTF-8, UTF-16 or \
                 Latin-1), optionally gzip-compressed."
            }
        }
    }
}

/// What the first bytes of a file say it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sniffed {
    /// A gzip stream: decompress, then sniff again.
    Gzip,
    Text(TextEncoding),
    Binary(BinaryKind),
}

const MAGICS: &[(&[u8], BinaryKind)] = &[
    (b"PK\x03\x04", BinaryKind::Zip),
    (b"PK\x05\x06", BinaryKind::Zip),
    (b"7z\xBC\xAF\x27\x1C", BinaryKind::SevenZip),
    (b"\xFD7zXZ\x00", BinaryKind::Xz),
    (b"BZh", BinaryKind::Bzip2),
    (b"\x28\xB5\x2F\xFD", BinaryKind::Zstd),
    (b"%PDF-", BinaryKind::Pdf),
    (b"\x89PNG\r\n\x1A\n", BinaryKind::Png),
    (b"\xFF\xD8\xFF", BinaryKind::Jpeg),
    (b"GIF87a", BinaryKind::Gif),
    (b"GIF89a", BinaryKind::Gif),
    (b"\x7FELF", BinaryKind::Elf),
    (b"SQLite format 3\x00", BinaryKind::Sqlite),
    (b"ElfFile\x00", BinaryKind::Evtx),
    (b"\xD4\xC3\xB2\xA1", BinaryKind::Pcap),
    (b"\xA1\xB2\xC3\xD4", BinaryKind::Pcap),
    (b"\x0A\x0D\x0D\x0A", BinaryKind::Pcap),
];

/// Decides what `head` (the first bytes of a file, at most a few KiB) is.
/// `complete` says that `head` is the whole file, so a multi-byte sequence
/// cut at its end is an error rather than the edge of the sample.
pub fn sniff(head: &[u8], complete: bool) -> Sniffed {
    if head.starts_with(&[0x1F, 0x8B]) {
        return Sniffed::Gzip;
    }
    if head.starts_with(b"\xEF\xBB\xBF") {
        return Sniffed::Text(TextEncoding::Utf8);
    }
    if head.starts_with(b"\xFF\xFE") {
        return Sniffed::Text(TextEncoding::Utf16Le);
    }
    if head.starts_with(b"\xFE\xFF") {
        return Sniffed::Text(TextEncoding::Utf16Be);
    }
    if let Some((_, kind)) = MAGICS.iter().find(|(magic, _)| head.starts_with(magic)) {
        return Sniffed::Binary(*kind);
    }
    if head.starts_with(b"MZ") && head.contains(&0) {
        return Sniffed::Binary(BinaryKind::WindowsExecutable);
    }
    if head.len() > 262 && &head[257..262] == b"ustar" {
        return Sniffed::Binary(BinaryKind::Tar);
    }
    if let Some(encoding) = utf16_without_bom(head) {
        return Sniffed::Text(encoding);
    }
    if head.contains(&0) || control_ratio_too_high(head) {
        return Sniffed::Binary(BinaryKind::Unknown);
    }
    match std::str::from_utf8(head) {
        Ok(_) => Sniffed::Text(TextEncoding::Utf8),
        // Only an incomplete sequence at the very end of a partial sample.
        Err(e) if !complete && e.error_len().is_none() => Sniffed::Text(TextEncoding::Utf8),
        Err(_) => Sniffed::Text(TextEncoding::Windows1252),
    }
}

/// UTF-16 written without a byte-order mark (some Windows tools do): mostly
/// ASCII, so every other byte is zero.
fn utf16_without_bom(head: &[u8]) -> Option<TextEncoding> {
    let pairs = head.len() / 2;
    if pairs < 8 {
        return None;
    }
    let (mut even_zero, mut odd_zero) = (0usize, 0usize);
    for pair in head.chunks_exact(2) {
        even_zero += usize::from(pair[0] == 0);
        odd_zero += usize::from(pair[1] == 0);
    }
    let mostly = |n: usize| n * 10 >= pairs * 7;
    let rarely = |n: usize| n * 20 <= pairs;
    if mostly(odd_zero) && rarely(even_zero) {
        Some(TextEncoding::Utf16Le)
    } else if mostly(even_zero) && rarely(odd_zero) {
        Some(TextEncoding::Utf16Be)
    } else {
        None
    }
}

/// More than 2% of bytes are control characters text does not use (tab,
/// line breaks, form feed and the escape of colour codes are fine).
fn control_ratio_too_high(head: &[u8]) -> bool {
    let controls = head
        .iter()
        .filter(|&&b| (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0C | 0x1B)) || b == 0x7F)
        .count();
    controls * 50 > head.len()
}

/// Converts a stream of bytes in one encoding to UTF-8, chunk by chunk.
pub struct TextDecoder {
    decoder: encoding_rs::Decoder,
    encoding: TextEncoding,
    replaced: u64,
}

impl std::fmt::Debug for TextDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextDecoder")
            .field("encoding", &self.encoding)
            .field("replaced", &self.replaced)
            .finish_non_exhaustive()
    }
}

impl TextDecoder {
    /// A decoder that drops a leading byte-order mark of `encoding`.
    pub fn new(encoding: TextEncoding) -> Self {
        Self {
            decoder: encoding.encoding().new_decoder_with_bom_removal(),
            encoding,
            replaced: 0,
        }
    }

    pub fn encoding(&self) -> TextEncoding {
        self.encoding
    }

    /// Malformed sequences replaced by U+FFFD so far.
    pub fn replaced(&self) -> u64 {
        self.replaced
    }

    /// Appends the UTF-8 of `bytes` to `out`. `last` marks the end of the
    /// stream, where an unfinished sequence counts as malformed.
    pub fn decode(&mut self, mut bytes: &[u8], last: bool, out: &mut String) {
        loop {
            let needed = self
                .decoder
                .max_utf8_buffer_length_without_replacement(bytes.len())
                .unwrap_or(bytes.len().saturating_mul(3).saturating_add(16));
            out.reserve(needed);
            let (result, read) = self
                .decoder
                .decode_to_string_without_replacement(bytes, out, last);
            bytes = &bytes[read..];
            match result {
                encoding_rs::DecoderResult::InputEmpty => return,
                encoding_rs::DecoderResult::OutputFull => {}
                encoding_rs::DecoderResult::Malformed(_, _) => {
                    self.replaced += 1;
                    out.push(char::REPLACEMENT_CHARACTER);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(encoding: TextEncoding, bytes: &[u8], chunk: usize) -> (String, u64) {
        let mut decoder = TextDecoder::new(encoding);
        let mut out = String::new();
        let mut pieces = bytes.chunks(chunk.max(1)).peekable();
        if pieces.peek().is_none() {
            decoder.decode(&[], true, &mut out);
        }
        while let Some(piece) = pieces.next() {
            decoder.decode(piece, pieces.peek().is_none(), &mut out);
        }
        (out, decoder.replaced())
    }

    #[test]
    fn plain_utf8_and_bom_are_text() {
        assert_eq!(
            sniff(b"Jan 1 host sshd[1]: ok\n", true),
            Sniffed::Text(TextEncoding::Utf8)
        );
        assert_eq!(
            sniff("\u{feff}héllo\n".as_bytes(), true),
            Sniffed::Text(TextEncoding::Utf8)
        );
        let (text, replaced) = decode_all(TextEncoding::Utf8, "\u{feff}héllo".as_bytes(), 1);
        assert_eq!((text.as_str(), replaced), ("héllo", 0));
    }

    #[test]
    fn utf8_cut_inside_a_character_is_still_utf8_when_partial() {
        let bytes = "ab€".as_bytes();
        let head = &bytes[..bytes.len() - 1];
        assert_eq!(sniff(head, false), Sniffed::Text(TextEncoding::Utf8));
        assert_eq!(sniff(head, true), Sniffed::Text(TextEncoding::Windows1252));
    }

    #[test]
    fn latin1_is_the_fallback_and_decodes_exactly() {
        let bytes = b"user=Jos\xE9 caf\xE9 \x80 ok\n";
        assert_eq!(sniff(bytes, true), Sniffed::Text(TextEncoding::Windows1252));
        let (text, replaced) = decode_all(TextEncoding::Windows1252, bytes, 3);
        assert_eq!(text, "user=José café € ok\n");
        assert_eq!(replaced, 0);
    }

    #[test]
    fn utf16_with_and_without_bom_in_any_chunking() {
        let text = "2026-01-01 Event 4625 user=ALICE ☃\r\n";
        let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        let le_bom = [&[0xFF, 0xFE][..], &le].concat();
        let be_bom = [&[0xFE, 0xFF][..], &be].concat();
        assert_eq!(sniff(&le_bom, true), Sniffed::Text(TextEncoding::Utf16Le));
        assert_eq!(sniff(&be_bom, true), Sniffed::Text(TextEncoding::Utf16Be));
        assert_eq!(sniff(&le, true), Sniffed::Text(TextEncoding::Utf16Le));
        assert_eq!(sniff(&be, true), Sniffed::Text(TextEncoding::Utf16Be));
        for chunk in [1, 3, 7, 1000] {
            assert_eq!(decode_all(TextEncoding::Utf16Le, &le_bom, chunk).0, text);
            assert_eq!(decode_all(TextEncoding::Utf16Be, &be_bom, chunk).0, text);
            assert_eq!(decode_all(TextEncoding::Utf16Le, &le, chunk).0, text);
        }
    }

    #[test]
    fn invalid_utf8_inside_a_utf8_file_is_replaced_and_counted() {
        let bytes = b"ok line\nbad \xFF\xFE byte\nend \xE2\x82";
        for chunk in [1, 2, 5, 100] {
            let (text, replaced) = decode_all(TextEncoding::Utf8, bytes, chunk);
            assert_eq!(text, "ok line\nbad \u{FFFD}\u{FFFD} byte\nend \u{FFFD}");
            assert_eq!(replaced, 3, "chunk {chunk}");
        }
    }

    #[test]
    fn binaries_are_named() {
        assert_eq!(
            sniff(b"PK\x03\x04\x14\x00rest", true),
            Sniffed::Binary(BinaryKind::Zip)
        );
        assert_eq!(
            sniff(b"\x7FELF\x02\x01\x01\x00", true),
            Sniffed::Binary(BinaryKind::Elf)
        );
        assert_eq!(
            sniff(b"\x89PNG\r\n\x1A\n\x00\x00", true),
            Sniffed::Binary(BinaryKind::Png)
        );
        assert_eq!(sniff(b"\x1F\x8B\x08\x00", true), Sniffed::Gzip);
        let noise: Vec<u8> = (0u8..=255).cycle().take(4096).collect();
        assert_eq!(sniff(&noise, true), Sniffed::Binary(BinaryKind::Unknown));
        let mut mostly_text = b"a normal line of text\n".repeat(20);
        mostly_text.extend_from_slice(b"\x01\x02\x03\x04\x05\x06\x07\x08\x0E\x0F\x10\x11");
        assert_eq!(
            sniff(&mostly_text, true),
            Sniffed::Binary(BinaryKind::Unknown)
        );
        assert!(!BinaryKind::Evtx.advice().is_empty());
    }

    #[test]
    fn colour_codes_and_tabs_are_text() {
        let line = b"\x1B[31mERROR\x1B[0m\tdisk full\r\n".repeat(10);
        assert_eq!(sniff(&line, true), Sniffed::Text(TextEncoding::Utf8));
    }

    #[test]
    fn empty_input_is_empty_text() {
        assert_eq!(sniff(b"", true), Sniffed::Text(TextEncoding::Utf8));
        assert_eq!(decode_all(TextEncoding::Utf8, b"", 4), (String::new(), 0));
    }

    #[test]
    fn encoding_spelling_round_trips() {
        for e in TextEncoding::ALL {
            assert_eq!(TextEncoding::parse(e.as_str()), Some(*e));
            let json = serde_json::to_string(e).expect("serialises");
            assert_eq!(json, format!("\"{}\"", e.as_str()));
        }
    }
}
