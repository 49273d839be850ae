//! PEM private keys, reported whole from `-----BEGIN … PRIVATE KEY-----` to
//! the matching `-----END … PRIVATE KEY-----`, whether the block spans real
//! lines or sits JSON-escaped on one (`\n`, or `\\n` when escaped twice).
//!
//! This is the only detector whose findings may span lines. The block is
//! *resolved* once its footer or a character that cannot belong to a key
//! body shows up; [`PrivateKeyDetector::key_headers`] lets the streaming scanner
//! hold back an unresolved block until then, so it reports exactly what a
//! whole-text scan reports. A block cut off before its footer (a truncated
//! log) still gets its header and the base64 lines that follow.

use regex::Regex;

use super::compile;
use crate::pii::config::PiiConfigError;
use crate::pii::kind::PiiType;
use crate::pii::resolve::{Candidate, rank};
use crate::pii::text::{floor_char_boundary, line_start};

/// How far past the header a footer is looked for. Real keys are a few KiB.
pub(crate) const MAX_BODY_BYTES: usize = 64 * 1024;

/// Longer than any footer line, to find one that starts at the body's end.
const FOOTER_MAX_BYTES: usize = 128;

const MARKER: &str = "(?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----";

pub(crate) struct PrivateKeyDetector {
    header: Regex,
    footer: Regex,
}

/// Characters of a key body: base64, line breaks (real or escaped) and the
/// `Proc-Type: 4,ENCRYPTED` / `DEK-Info: AES-128-CBC,…` headers.
const fn is_body_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'+' | b'/' | b'=' | b'\\' | b':' | b',' | b'-' | b'.' | b' ' | b'\t' | b'\r' | b'\n'
        )
}

/// Characters of the base64 part alone (for blocks cut short).
const fn is_base64_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'\\' | b'\r' | b'\n')
}

impl PrivateKeyDetector {
    pub(crate) fn new() -> Result<Self, PiiConfigError> {
        Ok(Self {
            header: compile("private_key", &format!("-----BEGIN {MARKER}"))?,
            footer: compile("private_key", &format!("-----END {MARKER}"))?,
        })
    }

    pub(crate) fn detect(&self, text: &str, out: &mut Vec<Candidate>) {
        let mut resume = 0;
        for header in self.header.find_iter(text) {
            if header.start() < resume {
                continue;
            }
            let end = self.block_end(text, header.end());
            out.push(Candidate::new(
                PiiType::PrivateKey,
                header.start(),
                end,
                rank::PRIVATE_KEY,
            ));
            resume = end;
        }
    }

    /// Where the block whose header ends at `body_start` ends.
    fn block_end(&self, text: &str, body_start: usize) -> usize {
        let bytes = text.as_bytes();
        let limit = text.len().min(body_start + MAX_BODY_BYTES);
        let body_len = bytes[body_start..limit]
            .iter()
            .position(|&b| !is_body_byte(b))
            .unwrap_or(limit - body_start);
        let body_end = body_start + body_len;
        // The footer starts with '-', a body byte, so it lies inside the run
        // of body bytes or right after it.
        let window_end = floor_char_boundary(text, body_end + FOOTER_MAX_BYTES);
        if let Some(footer) = self.footer.find(&text[body_start..window_end])
            && body_start + footer.start() <= body_end
        {
            return body_start + footer.end();
        }
        truncated_end(text, body_start)
    }

    /// Where a streaming scanner must hold `text` back from, if a
    /// private-key block in it is not resolved yet (more text could still
    /// change where it ends), and whether `text` holds a header at all.
    ///
    /// The blocks are walked as [`PrivateKeyDetector::detect`] walks them.
    /// The first unresolved one is the one that matters: everything after
    /// its header is body text, later headers included. Text is held back
    /// from the start of its line, or from the start of the line of an
    /// earlier block that reaches into that line (a cut there would split
    /// that block, and its body lines after the cut would go unreported).
    pub(crate) fn key_headers(&self, text: &str) -> KeyHeaders {
        let bytes = text.as_bytes();
        let mut any = false;
        let mut resolved_blocks: Vec<(usize, usize)> = Vec::new();
        let mut resume = 0;
        for header in self.header.find_iter(text) {
            any = true;
            if header.start() < resume {
                continue;
            }
            let body = &bytes[header.end()..];
            let resolved = body.len() >= MAX_BODY_BYTES
                || body.iter().any(|&b| !is_body_byte(b))
                || self.footer.is_match(&text[header.end()..]);
            if !resolved {
                let mut hold_from = line_start(text, header.start());
                for &(start, end) in resolved_blocks.iter().rev() {
                    if end <= hold_from {
                        break;
                    }
                    hold_from = line_start(text, start);
                }
                return KeyHeaders {
                    hold_from: Some(hold_from),
                    any,
                };
            }
            let end = self.block_end(text, header.end());
            resolved_blocks.push((header.start(), end));
            resume = end;
        }
        KeyHeaders {
            hold_from: None,
            any,
        }
    }
}

/// What [`PrivateKeyDetector::key_headers`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct KeyHeaders {
    /// A line start: the text from there on must wait for more input.
    pub(crate) hold_from: Option<usize>,
    /// Whether the text holds any private-key header.
    pub(crate) any: bool,
}

/// End of a block that has no footer: the base64 run after the header,
/// without a last line that turned out to be something else.
fn truncated_end(text: &str, body_start: usize) -> usize {
    let bytes = text.as_bytes();
    let limit = text.len().min(body_start + MAX_BODY_BYTES);
    let run = bytes[body_start..limit]
        .iter()
        .position(|&b| !is_base64_byte(b))
        .unwrap_or(limit - body_start);
    let mut end = body_start + run;
    let stopped_mid_line = end < text.len() && bytes[end] != b'\n';
    if stopped_mid_line
        && let Some(newline) = bytes[body_start..end].iter().rposition(|&b| b == b'\n')
    {
        end = body_start + newline;
    }
    while end > body_start && matches!(bytes[end - 1], b'\n' | b'\r') {
        end -= 1;
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<&str> {
        let detector = PrivateKeyDetector::new().expect("test input is valid");
        let mut out = Vec::new();
        detector.detect(text, &mut out);
        out.iter().map(|c| &text[c.start..c.end]).collect()
    }

    const MULTILINE: &str =
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\nabc+/=\n-----END RSA PRIVATE KEY-----";

    #[test]
    fn whole_blocks() {
        let text = format!("key:\n{MULTILINE}\nnext line");
        assert_eq!(found(&text), vec![MULTILINE]);
        let escaped =
            r#"{"k": "-----BEGIN PRIVATE KEY-----\nMIIE\nabc=\n-----END PRIVATE KEY-----"}"#;
        let begin = escaped.find("-----BEGIN").expect("test input is valid");
        assert_eq!(found(escaped), vec![&escaped[begin..escaped.len() - 2]]);
        let twice = r#"-----BEGIN EC PRIVATE KEY-----\\nMIIE\\n-----END EC PRIVATE KEY-----"#;
        assert_eq!(found(twice), vec![twice]);
    }

    #[test]
    fn truncated_block_keeps_its_base64_lines() {
        let text =
            "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk\nAAAAB3\n2024-05-01 next event";
        assert_eq!(
            found(text),
            vec!["-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk\nAAAAB3"]
        );
    }

    #[test]
    fn public_keys_are_not_reported() {
        assert!(found("-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----").is_empty());
    }

    #[test]
    fn resolution_for_streaming() {
        let detector = PrivateKeyDetector::new().expect("test input is valid");
        let headers = |hold_from, any| KeyHeaders { hold_from, any };
        assert_eq!(
            detector.key_headers("x\n-----BEGIN RSA PRIVATE KEY-----\nMIIE\n"),
            headers(Some(2), true)
        );
        assert_eq!(
            detector.key_headers(&format!("{MULTILINE}\n")),
            headers(None, true)
        );
        assert_eq!(
            detector.key_headers("-----BEGIN RSA PRIVATE KEY-----\nMIIE\n{\"a\": 1}\n"),
            headers(None, true)
        );
        assert_eq!(
            detector.key_headers("-----BEGIN PUBLIC KEY-----\nMIIB\n-----BEGINNING\n"),
            headers(None, false)
        );
        // An unresolved header on the footer line of a resolved block: the
        // whole block waits, or a cut at that line would split it.
        let glued = "-----BEGIN RSA PRIVATE KEY-----\n\
                     -----END RSA PRIVATE KEY-----=-----BEGIN RSA PRIVATE KEY-----\n";
        assert_eq!(detector.key_headers(glued), headers(Some(0), true));
        let apart = "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\n\
                     x -----BEGIN RSA PRIVATE KEY-----\n";
        let second_line = apart.find("x -----").expect("test input is valid");
        assert_eq!(
            detector.key_headers(apart),
            headers(Some(second_line), true)
        );
    }
}
