//! PEM private keys, reported whole from `-----BEGIN … PRIVATE KEY-----` to
//! the matching `-----END … PRIVATE KEY-----`, whether the block spans real
//! lines or sits JSON-escaped on one (`\n`, or `\\n` when escaped twice).
//!
//! This is the only detector whose findings may span lines. The block is
//! *resolved* once its footer or a character that cannot belong to a key
//! body shows up; [`unresolved_block_start`] lets the streaming scanner
//! hold back an unresolved block until then, so it reports exactly what a
//! whole-text scan reports. A block cut off before its footer (a truncated
//! log) still gets its header and the base64 lines that follow.

use regex::Regex;

use super::compile;
use crate::pii::config::PiiConfigError;
use crate::pii::kind::PiiType;
use crate::pii::resolve::{Candidate, rank};
use crate::pii::text::floor_char_boundary;

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

    /// Start of the last private-key block in `text` that is not resolved
    /// yet: more text could still change where it ends.
    ///
    /// The first such block is the one that matters: everything after an
    /// unresolved header is body text, later headers included.
    pub(crate) fn unresolved_block_start(&self, text: &str) -> Option<usize> {
        let bytes = text.as_bytes();
        self.header.find_iter(text).find_map(|header| {
            let body = &bytes[header.end()..];
            let resolved = body.len() >= MAX_BODY_BYTES
                || body.iter().any(|&b| !is_body_byte(b))
                || self.footer.is_match(&text[header.end()..]);
            (!resolved).then_some(header.start())
        })
    }
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
        assert_eq!(
            detector.unresolved_block_start("x\n-----BEGIN RSA PRIVATE KEY-----\nMIIE\n"),
            Some(2)
        );
        assert_eq!(
            detector.unresolved_block_start(&format!("{MULTILINE}\n")),
            None
        );
        assert_eq!(
            detector.unresolved_block_start("-----BEGIN RSA PRIVATE KEY-----\nMIIE\n{\"a\": 1}\n"),
            None
        );
    }
}
