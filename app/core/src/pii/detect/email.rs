//! E-mail addresses, plain (`ops@example.com`) and percent-encoded in URLs
//! (`ops%40example.com`).
//!
//! Strings of the same shape that are not mailboxes are skipped: the
//! `user:password@host` part of URLs, scp-style Git remotes, `ssh user@host`
//! logins, systemd template units (`postgresql@15-main.service`), asset
//! names (`logo@2x.png`) and package pins (`glob@7.2.3`, which has no
//! top-level domain anyway).

use regex::Regex;

use super::compile;
use crate::pii::config::PiiConfigError;
use crate::pii::kind::PiiType;
use crate::pii::prefilter::{Prefilter, for_each_run};
use crate::pii::resolve::{Candidate, rank};
use crate::pii::text::{byte_at, byte_before, is_word_byte, line_before};

const DOMAIN: &str = "(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)+[A-Za-z]{2,24}";

pub(crate) struct EmailDetector {
    /// No `%` in this local part: the engine then finds the rare `%40`
    /// first and reads backwards.
    percent_encoded: Regex,
}

/// A plain address, as a regex: the definition [`next_plain_address`]
/// implements (its tests hold it to this pattern).
#[cfg(test)]
fn plain_pattern() -> String {
    format!("[A-Za-z0-9._%+-]+@{DOMAIN}")
}

/// The next match of [`plain_pattern`] in `run` (bytes for which
/// [`is_plain_address_byte`] holds) at or after `from`, as `(start, end)`:
/// the one `Regex::find_iter` would give.
///
/// The local part cannot hold `@`, so a match uses the first `@` after its
/// start, and the leftmost start is where the stretch before that `@`
/// begins (or `from`); the domain is read as the regex reads it, see
/// [`domain_end`]. Written out because the prefilter hands over a run per
/// `@`, and a regex search costs a forward and a reverse pass plus its
/// set-up on each.
fn next_plain_address(run: &[u8], from: usize) -> Option<(usize, usize)> {
    let mut start = from;
    for at in memchr::memchr_iter(b'@', run.get(from..)?).map(|i| from + i) {
        if start < at
            && let Some(end) = domain_end(run, at + 1)
        {
            return Some((start, end));
        }
        start = at + 1;
    }
    None
}

/// Where [`DOMAIN`] ends when it starts at `from`: labels of letters,
/// digits and inner dashes (at most 63 bytes), each followed by a dot,
/// then a top-level domain of two to 24 letters. As many labels as there
/// are are taken first; when no top-level domain follows the last of
/// them, one label fewer, and so on (`b.example.com.x1` ends after `com`).
fn domain_end(bytes: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    loop {
        let len = bytes[at..]
            .iter()
            .take_while(|&&b| b.is_ascii_alphanumeric() || b == b'-')
            .count();
        let label = &bytes[at..at + len];
        let valid = (1..=63).contains(&len)
            && label[0] != b'-'
            && label[len - 1] != b'-'
            && bytes.get(at + len) == Some(&b'.');
        if !valid {
            break;
        }
        at += len + 1;
    }
    let tld_end = |start: usize| {
        let letters = bytes[start..]
            .iter()
            .take(24)
            .take_while(|b| b.is_ascii_alphabetic())
            .count();
        (letters >= 2).then_some(start + letters)
    };
    // `at` is just past the last label's dot; the labels hold no dots, so
    // each earlier dot ends one label fewer.
    let mut after_labels = at;
    while after_labels > from {
        if let Some(end) = tld_end(after_labels) {
            return Some(end);
        }
        after_labels =
            memchr::memrchr(b'.', &bytes[from..after_labels - 1]).map_or(from, |i| from + i + 1);
    }
    None
}

impl EmailDetector {
    pub(crate) fn new() -> Result<Self, PiiConfigError> {
        Ok(Self {
            percent_encoded: compile("email", &format!("[A-Za-z0-9._+-]+%40{DOMAIN}"))?,
        })
    }

    /// Plain addresses are looked for only in the run of the bytes they are
    /// made of around each `@` (see [`crate::pii::prefilter`]).
    pub(crate) fn detect(&self, text: &str, prefilter: &Prefilter, out: &mut Vec<Candidate>) {
        let mut found: Vec<(usize, usize)> = Vec::new();
        for_each_run(text, &prefilter.at_signs, is_plain_address_byte, |run| {
            let base = run.start;
            let run = &text.as_bytes()[run];
            let mut from = 0;
            while let Some((start, end)) = next_plain_address(run, from) {
                found.push((base + start, base + end));
                from = end;
            }
        });
        found.extend(
            self.percent_encoded
                .find_iter(text)
                .map(|m| (m.start(), m.end())),
        );
        for (m_start, m_end) in found {
            let (mut start, end) = (m_start, m_end);
            // Matches are ASCII.
            let value = &text[m_start..m_end];
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
    use proptest::prelude::*;

    fn written_out(run: &str) -> Vec<(usize, usize)> {
        super::super::every_match(run, next_plain_address)
    }

    static PLAIN: std::sync::LazyLock<Regex> =
        std::sync::LazyLock::new(|| Regex::new(&plain_pattern()).expect("test input is valid"));

    fn by_regex(run: &str) -> Vec<(usize, usize)> {
        PLAIN.find_iter(run).map(|m| (m.start(), m.end())).collect()
    }

    #[test]
    fn written_out_matcher_is_the_regex() {
        let long_label = "a".repeat(63);
        let too_long = "a".repeat(64);
        let many = "a.".repeat(12);
        for run in [
            "ops@example.com",
            "a@b.example.com.x1",
            "a@b.c",
            "a@b.co",
            "a@-b.com",
            "a@b-.com",
            "a@b..com",
            "a@@b.com",
            "@b.com",
            "a@b@c.org",
            "a@b.com.x@c.org",
            "x.y+z%41@mail-1.example.org.",
            &format!("a@{long_label}.com"),
            &format!("a@{too_long}.com"),
            &format!("a@{many}org"),
            &format!("a@{many}1"),
            "a@b.abcdefghijklmnopqrstuvwxyz",
            "",
        ] {
            assert_eq!(written_out(run), by_regex(run), "{run:?}");
        }
    }

    const RUN_PIECES: &[&str] = &[
        "a",
        "bob",
        "x1",
        "1",
        "-",
        "_",
        "%",
        "+",
        ".",
        ".",
        ".",
        "@",
        "@",
        "com",
        "org",
        "co",
        "uk",
        "x",
        "example",
        "mail-1",
        "-a",
        "a-",
        "..",
        "abcdefghijklmnopqrstuvwxy",
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]
        #[test]
        fn written_out_matcher_agrees_with_the_regex(
            pieces in prop::collection::vec(prop::sample::select(RUN_PIECES), 0..16)
        ) {
            let run = pieces.concat();
            prop_assert_eq!(written_out(&run), by_regex(&run));
        }
    }

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
