//! E-mail addresses, plain (`ops@example.com`) and percent-encoded in URLs
//! (`ops%40example.com`).
//!
//! Strings of the same shape that are not mailboxes are skipped: the
//! `user:password@host` part of URLs, scp-style Git remotes, `ssh user@host`
//! logins, systemd template units (`postgresql@15-main.service`), asset
//! names (`logo@2x.png`) and package pins (`glob@7.2.3`, which has no
//! top-level domain anyway).

use regex::{Match, Regex};

use super::compile;
use crate::pii::config::PiiConfigError;
use crate::pii::kind::PiiType;
use crate::pii::prefilter::{Prefilter, for_each_run};
use crate::pii::resolve::{Candidate, rank};
use crate::pii::text::{byte_at, byte_before, is_word_byte, line_before};

const DOMAIN: &str = "(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)+[A-Za-z]{2,24}";

pub(crate) struct EmailDetector {
    /// Two patterns rather than `(?:@|%40)`: each has a single rare inner
    /// literal, which lets the regex engine jump from one `@` to the next
    /// instead of walking every byte.
    plain: Regex,
    percent_encoded: Regex,
}

impl EmailDetector {
    pub(crate) fn new() -> Result<Self, PiiConfigError> {
        Ok(Self {
            plain: compile("email", &format!("[A-Za-z0-9._%+-]+@{DOMAIN}"))?,
            // No `%` in this local part: the engine then finds the rare
            // `%40` first and reads backwards.
            percent_encoded: compile("email", &format!("[A-Za-z0-9._+-]+%40{DOMAIN}"))?,
        })
    }

    /// Plain addresses are looked for only in the run of the bytes they are
    /// made of around each `@` (see [`crate::pii::prefilter`]).
    pub(crate) fn detect(&self, text: &str, prefilter: &Prefilter, out: &mut Vec<Candidate>) {
        let mut found: Vec<(usize, Match<'_>)> = Vec::new();
        for_each_run(text, &prefilter.at_signs, is_plain_address_byte, |run| {
            let base = run.start;
            found.extend(self.plain.find_iter(&text[run]).map(|m| (base, m)));
        });
        found.extend(self.percent_encoded.find_iter(text).map(|m| (0, m)));
        for (base, m) in found {
            let (m_start, m_end) = (base + m.start(), base + m.end());
            let (mut start, end) = (m_start, m_end);
            let value = m.as_str();
            let (at, domain) = match value.find('@') {
                Some(at) => (at, &value[at + 1..]),
                None => {
                    let at = value.find("%40").unwrap_or(0);
                    (at, value.get(at + 3..).unwrap_or(""))
                }
            };
            // "q%3Dbob%40x.org": the escape before the match is the URL's.
            if byte_before(text, start) == Some(b'%')
                && value.as_bytes().iter().take(2).all(u8::is_ascii_hexdigit)
            {
                start += 2;
            }
            // Percent-escapes other than `%2B` ('+') belong to the URL around
            // the address ("q%3Dbob%40x.org"), not to its local part.
            let local = &value[..at];
            if let Some(cut) = last_foreign_escape(local) {
                start = start.max(m_start + cut);
            }
            while start < end && matches!(text.as_bytes()[start], b'.' | b'%' | b'+' | b'-') {
                start += 1;
            }
            if start >= m_start + at {
                continue;
            }
            if byte_at(text, end).is_some_and(|b| is_word_byte(b) || b == b'-') {
                continue;
            }
            // scp-style remotes ("git@github.com:org/repo") are not mailboxes.
            if byte_at(text, end) == Some(b':')
                && byte_at(text, end + 1)
                    .is_some_and(|b| b.is_ascii_alphabetic() || b == b'/' || b == b'~')
            {
                continue;
            }
            if is_url_userinfo(text, start)
                || is_systemd_instance(value)
                || is_remote_login(text, start)
                || is_file_name(text, start, domain)
            {
                continue;
            }
            out.push(Candidate::new(PiiType::Email, start, end, rank::EMAIL));
        }
    }
}

/// The bytes a plain address (and its surroundings the pattern could take
/// in) is made of.
const fn is_plain_address_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'%' | b'+' | b'-' | b'@')
}

/// `ssh deploy@bastion01.example.internal`: a login at a host, not a mailbox.
fn is_remote_login(text: &str, start: usize) -> bool {
    #[rustfmt::skip]
    const REMOTE_SHELLS: &[&str] = &[
        "ssh", "scp", "sftp", "rsync", "mosh", "ssh-copy-id", "autossh",
    ];
    line_before(text, start, 256)
        .split(|c: char| c.is_whitespace() || c == ';' || c == '|' || c == '&')
        .any(|word| REMOTE_SHELLS.contains(&word))
}

/// `/static/logo@2x.png`: an asset, named the way image densities are.
fn is_file_name(text: &str, start: usize, domain: &str) -> bool {
    const FILE_EXTENSIONS: &[&str] = &[
        "png", "jpg", "jpeg", "gif", "svg", "webp", "ico", "css", "js", "mjs", "json", "html",
        "htm", "xml", "txt", "log", "pdf", "woff", "woff2", "ttf", "map", "mp4", "webm", "yaml",
        "yml", "toml", "lock", "jar", "war", "tgz", "gz", "tar",
    ];
    let extension = domain.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
    let first_label = domain.split('.').next().unwrap_or("");
    let density = first_label
        .strip_suffix('x')
        .is_some_and(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()));
    byte_before(text, start) == Some(b'/')
        || density
        || FILE_EXTENSIONS.contains(&extension.as_str())
}

/// `postgresql@15-main.service`: a systemd template unit's instance.
fn is_systemd_instance(value: &str) -> bool {
    #[rustfmt::skip]
    const UNIT_SUFFIXES: &[&str] = &[
        ".service", ".socket", ".timer", ".target", ".mount", ".automount", ".slice", ".scope",
        ".swap", ".device", ".path",
    ];
    UNIT_SUFFIXES.iter().any(|suffix| value.ends_with(suffix))
}

/// Offset just past the last `%XX` escape in `local` that is not `%2B`.
fn last_foreign_escape(local: &str) -> Option<usize> {
    let bytes = local.as_bytes();
    let mut cut = None;
    for i in 0..bytes.len().saturating_sub(2) {
        if bytes[i] == b'%' && bytes[i + 1].is_ascii_hexdigit() && bytes[i + 2].is_ascii_hexdigit()
        {
            let is_plus = bytes[i + 1] == b'2' && bytes[i + 2].eq_ignore_ascii_case(&b'b');
            if !is_plus {
                cut = Some(i + 3);
            }
        }
    }
    cut
}

/// `scheme://user:pass@host`: the part before `@` is a login, reported by
/// the URL-credentials rule, not an e-mail address.
fn is_url_userinfo(text: &str, start: usize) -> bool {
    let bytes = text.as_bytes();
    let floor = start.saturating_sub(256);
    let mut token_start = start;
    while token_start > floor
        && !matches!(
            bytes[token_start - 1],
            b' ' | b'\t' | b'\n' | b'"' | b'\'' | b'<' | b'('
        )
    {
        token_start -= 1;
    }
    let Some(prefix) = text.get(token_start..start) else {
        return false;
    };
    match prefix.rfind("://") {
        Some(scheme_end) => !prefix[scheme_end + 3..].contains(['/', '?', '#', '&', '=']),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<(PiiType, &str)> {
        let detector = EmailDetector::new().expect("test input is valid");
        let mut out = Vec::new();
        detector.detect(text, &Prefilter::new(text), &mut out);
        out.sort_by_key(|c| (c.start, c.end));
        out.dedup_by_key(|c| (c.start, c.end));
        out.iter()
            .map(|c| (c.kind, &text[c.start..c.end]))
            .collect()
    }

    #[test]
    fn emails() {
        assert_eq!(
            found("to=<noreply@acme-corp.com>,"),
            vec![(PiiType::Email, "noreply@acme-corp.com")]
        );
        assert_eq!(
            found("?email=rupert420%40fabrikam.co.uk HTTP"),
            vec![(PiiType::Email, "rupert420%40fabrikam.co.uk")]
        );
        assert_eq!(
            found("q=x%3Dbob%40x.org&"),
            vec![(PiiType::Email, "bob%40x.org")]
        );
        assert!(found("npm WARN deprecated glob@7.2.3: gone").is_empty());
        assert!(found("postgresql://svc:pw@db.example.com:5432/x").is_empty());
        assert!(found("git@github.com:acme/repo.git").is_empty());
        assert!(found("$ ssh -p 2222 deploy@bastion.example.com").is_empty());
        assert!(found("systemd[1]: postgresql@15-main.service: Failed").is_empty());
        assert!(found("GET /static/logo@2x.png and icon@3x.webp").is_empty());
        assert_eq!(
            found("https://x.io/?to=a.b+c@example.org"),
            vec![(PiiType::Email, "a.b+c@example.org")]
        );
    }
}
