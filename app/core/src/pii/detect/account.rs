//! Login names, found where log formats put them: sshd and PAM messages,
//! sudo records, home directories, Windows `DOMAIN\user` and Security-log
//! fields, PostgreSQL's `user@db` line prefix, `--user` flags.
//!
//! Well-known system and dictionary accounts (`root`, `postgres`, `admin`,
//! `ubuntu`, `pi`, …) are never reported: they identify no person, and
//! brute-force logs are full of them, so masking them would hide the very
//! pattern an incident responder is looking for.

use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, MatchKind};
use regex::Regex;

use super::compile;
use crate::pii::config::PiiConfigError;
use crate::pii::kind::PiiType;
use crate::pii::literal::Anchored;
use crate::pii::prefilter::{Prefilter, for_each_run};
use crate::pii::resolve::{Candidate, rank};
use crate::pii::text::{byte_at, byte_before, is_word_byte};

/// Accounts that come with an operating system, a package or a cloud image,
/// plus the names brute-force dictionaries try first.
#[rustfmt::skip]
const SYSTEM_ACCOUNTS: &[&str] = &[
    "root", "admin", "administrator", "administrators", "postgres", "mysql", "oracle", "nobody",
    "nogroup", "daemon", "bin", "sys", "sync", "games", "man", "lp", "mail", "news", "uucp",
    "proxy", "www-data", "www", "backup", "list", "irc", "gnats", "syslog", "messagebus", "sshd",
    "ntp", "chrony", "ubuntu", "debian", "centos", "fedora", "ec2-user", "azureuser", "cloud-user",
    "opc", "vagrant", "pi", "test", "tester", "testuser", "test1", "guest", "user", "user1",
    "support", "git", "ftp", "ftpuser", "anonymous", "system", "localsystem", "service", "apache",
    "nginx", "httpd", "tomcat", "jenkins", "docker", "redis", "elasticsearch", "kibana", "mongodb",
    "mongo", "postfix", "dovecot", "named", "bind", "mssql", "sa", "dba", "operator", "halt",
    "shutdown", "adm", "ansible", "deploy", "hadoop", "zabbix", "nagios", "prometheus", "grafana",
    "ldap", "openldap", "squid", "rpc", "rpcuser", "nfsnobody", "dbus", "polkitd", "tss", "avahi",
    "_apt", "uuidd", "tcpdump", "landscape", "pollinate", "lxd", "default", "defaultaccount",
    "wdagutilityaccount", "krbtgt", "public", "everyone", "alpine", "info", "webmaster",
    "postmaster", "hostmaster", "nt authority", "local service", "network service",
    "systemd-network", "systemd-resolve", "systemd-timesync",
    // Fixed logins that carry a token as the password in Git and registry URLs.
    "x-access-token", "x-oauth-basic", "x-token-auth", "oauth2", "oauth2accesstoken",
    "gitlab-ci-token", "token", "__token__", "aws",
    // CI runners' own accounts.
    "runner", "gitlab-runner", "buildkite-agent", "circleci",
];

/// Words that follow "user" in prose, not names.
#[rustfmt::skip]
const NOT_NAMES: &[&str] = &[
    "unknown", "name", "names", "account", "accounts", "agent", "from", "for", "the", "a", "an",
    "is", "was", "not", "none", "null", "nil", "invalid", "authentication", "login", "logon",
    "session", "with", "by", "on", "in", "to", "of", "and", "or", "id", "uid", "users", "password",
    "true", "false", "undefined", "has", "had", "does", "did", "cannot", "can", "may", "must",
    "should", "request", "requested", "data", "input", "interface", "mode", "profile", "group",
    "this", "that", "at", "as", "via", "domain", "security", "logon_id", "nt", "interaction",
    "action", "actions", "confirmation", "approval", "consent", "selection", "review", "feedback",
    "management", "creation", "deletion", "lookup", "sessions", "settings", "preferences",
    "details", "info", "information", "roles", "role", "permissions", "access", "logins", "query",
    "queries", "registration", "activity", "defined", "specified", "provided", "supplied", "space",
    "namespace", "context", "code", "list", "database", "table", "home", "directory", "quota",
    "limit", "process", "processes", "instance",
];

/// [`SYSTEM_ACCOUNTS`] and [`NOT_NAMES`], sorted for binary search: logs
/// name thousands of accounts per megabyte.
static EXCLUDED_NAMES: LazyLock<Vec<&'static [u8]>> = LazyLock::new(|| {
    let mut names: Vec<&'static [u8]> = SYSTEM_ACCOUNTS
        .iter()
        .chain(NOT_NAMES)
        .map(|name| name.as_bytes())
        .collect();
    names.sort_unstable();
    names
});

/// `ssh`, looked for before each `@` (built once: building a searcher
/// costs more than searching the short stretch before an `@`).
static SSH: LazyLock<memchr::memmem::Finder<'static>> =
    LazyLock::new(|| memchr::memmem::Finder::new(b"ssh"));

/// Whether `name` could be a person's or a service's own login.
pub(crate) fn acceptable_username(name: &str) -> bool {
    const MAX_LEN: usize = 64;
    let bytes = name.as_bytes();
    let well_formed = !bytes.is_empty()
        && bytes.len() <= MAX_LEN
        && (bytes[0].is_ascii_alphabetic() || bytes[0] == b'_')
        && bytes
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b'$'));
    if !well_formed {
        return false;
    }
    let mut buffer = [0u8; MAX_LEN];
    let lower = &mut buffer[..bytes.len()];
    lower.copy_from_slice(bytes);
    lower.make_ascii_lowercase();
    EXCLUDED_NAMES.binary_search(&&*lower).is_err()
}

pub(crate) struct AccountDetector {
    /// All the formats in one alternation, tried, anchored, only where a
    /// format may start: derived from its literals by
    /// [`literal_format_starts`], [`word_format_starts`] and
    /// [`as_format_starts`], and every `ssh` before an `@`.
    formats: Anchored,
    /// Literals of which every match of `formats` holds one, besides the
    /// `ssh` of `ssh name@host` and the words the prefilter finds in any
    /// case (`user`, `su to`, ` as`; see [`Prefilter::user_words`]). Plain
    /// strings, so an Aho-Corasick searcher reports them without the
    /// confirming automaton pass a regex makes at each.
    format_literals: AhoCorasick,
    home_directory: Regex,
    /// Tried at each `@` only.
    postgres_prefix: Anchored,
    domain_user: Regex,
}

const NAME: &str = "([A-Za-z_][A-Za-z0-9_.$-]{0,63})";

/// See [`AccountDetector::format_literals`]; [`literal_format_starts`]
/// turns a match into where its format starts.
const FORMAT_LITERALS: &[&str] = &[
    "Accepted ",
    "Failed ",
    "Postponed ",
    "pam_",
    "role \"",
    "sudo",
    "Name:",
    "Subject:",
    "Target:",
    "(to ",
    "CRON[",
];

/// All the formats in one alternation (see [`AccountDetector::formats`]).
///
/// [`name_in_match`] reads the name from a match by how each format ends;
/// a format added here must keep what it relies on.
fn format_alternation() -> String {
    // One alternation instead of a pass per format: every alternative
    // starts with a literal, so the engine jumps between them. `@NAME@`
    // marks where each format puts the name.
    let formats = [
        // sshd: "Accepted publickey for bob from", "Failed password for invalid user x from"
        "(?:Accepted|Failed|Postponed) [a-z0-9/-]+ for (?:invalid user )?@NAME@ from ",
        "[Ii]nvalid user @NAME@",
        // "session opened for user bob(uid=…)", "New session 3 of user bob."
        "(?i-u:for|of|from|by) (?i-u:user)[ \\t]+['\"]?@NAME@",
        // PAM modules: "pam_faillock(sshd:auth): user bob is locked", "… user=bob"
        "pam_[a-z_]+\\([^)\\n]*\\):[^\\n]*?[ \\t]user[ =]['\"]?@NAME@",
        // PostgreSQL and MySQL quote the role: `for user "app"`, `role "app"`.
        "(?:user|role) \"@NAME@\"",
        // sudo: "sudo[12]:    bob : TTY=pts/0 ; PWD=…"
        "sudo(?:\\[[0-9]+\\])?:[ \\t]+@NAME@[ \\t]+:",
        // Windows Security log fields.
        "(?:Account Name|User Name|Subject|Target|User):[ \\t]*@NAME@",
        // Connection strings: "User Id=svc;".
        "(?i-u:user[ _]?id)[ \\t]*=[ \\t]*@NAME@",
        // Command-line flags and shells.
        "--user(?:name)?[= ]['\"]?@NAME@",
        "(?i-u:logged in as|log ?on as|login as|running as|run as|su to|switched to user)[ \\t]+['\"]?@NAME@",
        "ssh[ \\t]+(?:-[A-Za-z][ \\t]+(?:[^ \\t\\n]+[ \\t]+)?)*@NAME@@",
        // su: "su[1100]: (to root) alice on pts/0"
        "su(?:\\[[0-9]+\\])?: \\(to [^)\\n]*\\) @NAME@ on ",
        // cron: "CRON[123]: (alice) CMD (…)"
        "CRON\\[[0-9]+\\]:[ \\t]+\\(@NAME@\\)",
    ];
    formats
        .iter()
        .map(|f| f.replace("@NAME@", NAME))
        .collect::<Vec<_>>()
        .join("|")
}

impl AccountDetector {
    pub(crate) fn new() -> Result<Self, PiiConfigError> {
        Ok(Self {
            formats: Anchored::new("username", &format_alternation())?,
            format_literals: AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostFirst)
                .build(FORMAT_LITERALS)
                .map_err(|err| PiiConfigError::BuiltinPattern {
                    detector: "username",
                    reason: err.to_string(),
                })?,
            // Home directories on Unix, macOS and Windows.
            home_directory: compile(
                "username",
                &format!("(?:/home/|/Users/|:\\\\{{1,2}}Users\\\\{{1,2}}){NAME}"),
            )?,
            // PostgreSQL's `%u@%d` log_line_prefix ("[2024] app_rw@orders
            // LOG:"); found from its `@` and the name read backwards, since a
            // pattern that starts with the name would be tried at every word.
            postgres_prefix: Anchored::new(
                "username",
                "@[A-Za-z0-9_-]+[ \\t]+(?:LOG|ERROR|FATAL|PANIC|WARNING|DETAIL|STATEMENT|HINT|NOTICE|INFO|DEBUG[0-9]?):",
            )?,
            domain_user: compile(
                "username",
                "([A-Z][A-Z0-9-]{0,14})\\\\{1,2}([A-Za-z_][A-Za-z0-9_.$-]{0,63})",
            )?,
        })
    }

    pub(crate) fn detect(&self, text: &str, prefilter: &Prefilter, out: &mut Vec<Candidate>) {
        // The formats are many and partly case-insensitive, which leaves the
        // engine no literal to jump to; so the alternation is tried,
        // anchored, only where one of their literals says a format may
        // start. None looks behind its start nor crosses a line, so this
        // finds what a search of the whole text would (see
        // [`Anchored::find_at`]).
        let bytes = text.as_bytes();
        let mut starts = Vec::new();
        for m in self.format_literals.find_iter(text) {
            literal_format_starts(bytes, m.start(), &mut starts);
        }
        for &at in &prefilter.user_words {
            word_format_starts(bytes, at, &mut starts);
        }
        for &at in &prefilter.as_words {
            as_format_starts(bytes, at, &mut starts);
        }
        // `ssh name@host`: every `ssh` before an `@` on its line.
        let mut searched = 0;
        for &at in &prefilter.at_signs {
            let line_start = memchr::memrchr(b'\n', &bytes[..at]).map_or(0, |i| i + 1);
            let from = line_start.max(searched);
            starts.extend(SSH.find_iter(&bytes[from..at]).map(|i| from + i));
            searched = at;
        }
        self.formats.find_at(text, starts, |start, end| {
            let (name_start, name_end) = name_in_match(bytes, start, end);
            let followed_by_at = byte_at(text, name_end) == Some(b'@') && end > name_end;
            push_name(text, name_start, name_end, followed_by_at, out);
        });
        for caps in self.home_directory.captures_iter(text) {
            let Some(name) = caps.get(1) else { continue };
            if acceptable_username(name.as_str())
                && !matches!(name.as_str(), "Public" | "Default" | "All Users" | "Shared")
            {
                out.push(Candidate::new(
                    PiiType::Username,
                    name.start(),
                    name.end(),
                    rank::USERNAME,
                ));
            }
        }

        let mut prefixes = Vec::new();
        self.postgres_prefix
            .find_at_sorted(text, &prefilter.at_signs, |at, _| prefixes.push(at));
        for at in prefixes {
            let mut start = at;
            while start > 0
                && (bytes[start - 1].is_ascii_alphanumeric()
                    || matches!(bytes[start - 1], b'_' | b'.' | b'-' | b'$'))
            {
                start -= 1;
            }
            let introduced = matches!(
                byte_before(text, start),
                None | Some(b' ' | b'\t' | b'[' | b'\n')
            );
            if introduced && start < at {
                push_name(text, start, at, true, out);
            }
        }
        // `DOMAIN\user` has no letter to jump to, but needs a backslash; it
        // is looked for only in the run of the bytes it is made of around
        // each (see [`crate::pii::prefilter`]).
        for_each_run(text, &prefilter.backslashes, is_domain_user_byte, |run| {
            let base = run.start;
            for caps in self.domain_user.captures_iter(&text[run]) {
                let (Some(whole), Some(domain), Some(name)) =
                    (caps.get(0), caps.get(1), caps.get(2))
                else {
                    continue;
                };
                let start = base + whole.start();
                if !acceptable_windows_domain(text, start, domain.as_str(), name.as_str()) {
                    continue;
                }
                push_name(text, base + name.start(), base + name.end(), false, out);
            }
        });
    }
}

/// Where the name lies in `bytes[start..end]`, a match of
/// [`format_alternation`]: read from the match by how its format ends,
/// which is much cheaper than asking the engine for the capture group (a
/// bounded backtracker run per match).
///
/// Every format puts the name right after a byte a name cannot hold, so the
/// name is the run of name bytes that ends where the name ends; and every
/// format either ends with the name or with a suffix that its first bytes
/// tell (the formats that start alike end alike):
/// sshd's ` from `, sudo's blanks and `:`, ssh's `@`, su's ` on `, cron's
/// `)`, the closing quote of `user "…"` and `role "…"`.
fn name_in_match(bytes: &[u8], start: usize, end: usize) -> (usize, usize) {
    let found = &bytes[start..end];
    let suffix = if [&b"Accepted "[..], b"Failed ", b"Postponed "]
        .iter()
        .any(|word| found.starts_with(word))
    {
        b" from ".len()
    } else if found.starts_with(b"sudo") {
        let before_colon = &found[..found.len().saturating_sub(1)];
        1 + before_colon
            .iter()
            .rev()
            .take_while(|&&b| matches!(b, b' ' | b'\t'))
            .count()
    } else if [&b"ssh"[..], b"CRON[", b"user \"", b"role \""]
        .iter()
        .any(|word| found.starts_with(word))
    {
        1
    } else if found.starts_with(b"su[") || found.starts_with(b"su:") {
        b" on ".len()
    } else {
        0
    };
    let name_end = end.saturating_sub(suffix).max(start);
    let mut name_start = name_end;
    while name_start > start && is_name_byte(bytes[name_start - 1]) {
        name_start -= 1;
    }
    (name_start, name_end)
}

/// The bytes of [`NAME`].
const fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'$' | b'-')
}

/// Whether `bytes[..end]` ends with `word`, ignoring ASCII case.
fn ends_with_ignore_case(bytes: &[u8], end: usize, word: &[u8]) -> bool {
    end >= word.len() && bytes[end - word.len()..end].eq_ignore_ascii_case(word)
}

/// Where a format may start, given a match of `format_literals` at `at`:
/// at the literal itself, except for the Windows `… Name:` fields and
/// su's `su[pid]: (to …)`, whose literal comes later.
fn literal_format_starts(bytes: &[u8], at: usize, starts: &mut Vec<usize>) {
    if bytes[at..].starts_with(b"Name:") {
        // "Account Name:", "User Name:".
        for field in [&b"Account "[..], b"User "] {
            if bytes[..at].ends_with(field) {
                starts.push(at - field.len());
            }
        }
    } else if bytes[at..].starts_with(b"(to ") {
        // "su: (to root)" or "su[1100]: (to root)": read back over ": ",
        // an optional "[digits]" and "su".
        let Some(mut before) = at.checked_sub(2).filter(|&i| &bytes[i..at] == b": ") else {
            return;
        };
        if before > 0 && bytes[before - 1] == b']' {
            let digits_end = before - 1;
            let mut digits_start = digits_end;
            while digits_start > 0 && bytes[digits_start - 1].is_ascii_digit() {
                digits_start -= 1;
            }
            if digits_start == digits_end || digits_start == 0 || bytes[digits_start - 1] != b'[' {
                return;
            }
            before = digits_start - 1;
        }
        if let Some(start) = before.checked_sub(2) {
            starts.push(start);
        }
    } else {
        starts.push(at);
    }
}

/// Where a format may start, given a match of `user` or `su to` (any
/// case) at `at`.
fn word_format_starts(bytes: &[u8], at: usize, starts: &mut Vec<usize>) {
    if !bytes[at..]
        .get(..4)
        .is_some_and(|w| w.eq_ignore_ascii_case(b"user"))
    {
        // "su to" opens its format.
        starts.push(at);
        return;
    }
    // `user "NAME"`, `User: NAME`, `user id = NAME` open with the word…
    let after = &bytes[at + 4..];
    let word = &bytes[at..at + 4];
    let quoted = word == b"user" && after.starts_with(b" \"");
    let field = word == b"User" && after.starts_with(b":");
    let id = [&b"id"[..], b" id", b"_id"].iter().any(|id| {
        after
            .get(..id.len())
            .is_some_and(|a| a.eq_ignore_ascii_case(id))
    });
    if quoted || field || id {
        starts.push(at);
    }
    // …the others put a few words before it.
    for prefix in [&b"for "[..], b"of ", b"from ", b"by ", b"switched to "] {
        if ends_with_ignore_case(bytes, at, prefix) {
            starts.push(at - prefix.len());
        }
    }
    if bytes[..at].ends_with(b"--") {
        starts.push(at - 2);
    }
    if bytes[..at].ends_with(b"Invalid ") || bytes[..at].ends_with(b"invalid ") {
        starts.push(at - b"invalid ".len());
    }
}

/// Where a format may start, given a match of ` as` (any case) at `at`:
/// `logged in as`, `log on as`, `logon as`, `login as`, `running as`,
/// `run as`.
fn as_format_starts(bytes: &[u8], at: usize, starts: &mut Vec<usize>) {
    for prefix in [
        &b"logged in"[..],
        b"log on",
        b"logon",
        b"login",
        b"running",
        b"run",
    ] {
        if ends_with_ignore_case(bytes, at, prefix) {
            starts.push(at - prefix.len());
        }
    }
}

/// The bytes a match of `domain_user` is made of.
const fn is_domain_user_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'$' | b'-' | b'\\')
}

/// Reports `text[start..end]` unless it is not a name after all.
/// `followed_by_at` says the rule itself expects `name@…` (PostgreSQL's
/// prefix, `ssh name@host`); otherwise a following `@` makes it an
/// e-mail's local part and a following `\` a Windows domain.
fn push_name(
    text: &str,
    start: usize,
    mut end: usize,
    followed_by_at: bool,
    out: &mut Vec<Candidate>,
) {
    // A sentence may end right after a name ("session 3 of user bob.").
    while end > start && matches!(text.as_bytes()[end - 1], b'.' | b'-') {
        end -= 1;
    }
    match byte_at(text, end) {
        Some(b'@') if !followed_by_at => return,
        Some(b'\\') => return,
        _ => {}
    }
    // `CN = api.example.com`, `user = …`: a key, not a name; nor is a
    // label such as "Subject: Re: outage".
    let rest = text[end..].trim_start_matches([' ', '\t']);
    if (rest.starts_with('=') && !rest.starts_with("==")) || text[end..].starts_with(':') {
        return;
    }
    let name = &text[start..end];
    if acceptable_username(name) {
        out.push(Candidate::new(
            PiiType::Username,
            start,
            end,
            rank::USERNAME,
        ));
    }
}

/// `FABRIKAM\alice`, but not `NT AUTHORITY\SYSTEM`, registry hives, or a
/// JSON escape such as `ERROR\nStack`.
fn acceptable_windows_domain(text: &str, start: usize, domain: &str, name: &str) -> bool {
    if byte_before(text, start).is_some_and(|b| is_word_byte(b) || b == b'\\') {
        return false;
    }
    if domain.ends_with('-')
        || matches!(
            domain,
            "AUTHORITY"
                | "SERVICE"
                | "BUILTIN"
                | "NT"
                | "WORKGROUP"
                | "HKLM"
                | "HKCU"
                | "HKU"
                | "HKCR"
        )
        || domain.starts_with("HKEY")
    {
        return false;
    }
    let escape_like = matches!(name.as_bytes().first(), Some(b'n' | b'r' | b't'))
        && name
            .as_bytes()
            .get(1)
            .is_some_and(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    !escape_like
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<&str> {
        let detector = AccountDetector::new().expect("test input is valid");
        let mut out = Vec::new();
        detector.detect(text, &Prefilter::new(text), &mut out);
        out.sort_by_key(|c| (c.start, c.end));
        out.dedup_by_key(|c| (c.start, c.end));
        out.iter().map(|c| &text[c.start..c.end]).collect()
    }

    #[test]
    fn sshd_and_pam() {
        assert_eq!(
            found("sshd[1]: Accepted publickey for tomas_mensah from 10.8.0.120 port 1"),
            vec!["tomas_mensah"]
        );
        assert_eq!(
            found("sshd[1]: Failed password for invalid user guest from 1.2.3.4"),
            Vec::<&str>::new()
        );
        assert_eq!(
            found("Invalid user okowalski2 from 1.2.3.4"),
            vec!["okowalski2"]
        );
        assert_eq!(
            found("session opened for user sybil(uid=1004) by (uid=0)"),
            vec!["sybil"]
        );
        assert_eq!(
            found("New session 87 of user tomas_mensah."),
            vec!["tomas_mensah"]
        );
        assert_eq!(
            found("pam_faillock(sshd:auth): user okowalski is locked"),
            vec!["okowalski"]
        );
        assert_eq!(
            found("Disconnected from user j.jensen 10.8.0.1 port 2"),
            vec!["j.jensen"]
        );
    }

    #[test]
    fn sudo_home_and_windows() {
        assert_eq!(
            found("sudo[4677]: tomas_mensah : TTY=pts/1 ; PWD=/home/tomas_mensah ; USER=root ;"),
            vec!["tomas_mensah", "tomas_mensah"]
        );
        assert_eq!(
            found("log on as FABRIKAM\\svc_fsync with"),
            vec!["svc_fsync"]
        );
        assert_eq!(
            found("Login failed for user 'FABRIKAM\\svc_fsync'."),
            vec!["svc_fsync"]
        );
        assert_eq!(
            found("Account Name: svc_fsync Account Domain: X"),
            vec!["svc_fsync"]
        );
        assert_eq!(
            found("Subject: walter Target: svc_fsync (DC"),
            vec!["walter", "svc_fsync"]
        );
        assert_eq!(
            found("on behalf of user NT AUTHORITY\\SYSTEM for"),
            Vec::<&str>::new()
        );
        assert_eq!(found("\"ERROR\\nStack trace\""), Vec::<&str>::new());
        assert_eq!(found("C:\\Users\\jdoe\\AppData"), vec!["jdoe"]);
    }

    #[test]
    fn name_read_from_match_is_the_capture_group() {
        let groups = Regex::new(&format_alternation()).expect("test input is valid");
        let corpus = include_str!("../../../testdata/pii/corpus.txt");
        let mut lines: Vec<String> = corpus.lines().map(str::to_owned).collect();
        lines.extend(
            [
                "sshd[1]: Failed password for invalid user guest from 1.2.3.4",
                "sudo[4677]: tomas_mensah \t : TTY=pts/1 ; USER=root",
                "sudo:   bob :",
                "su[1100]: (to root) alice on pts/0",
                "su: (to root) al.ice- on pts/0",
                "SU TO bob.x; Switched To User 'carol'",
                "CRON[1]: (alice) CMD (x)",
                "ssh -i key.pem -p 22 bob@db01 and ssh  x@y",
                "Accepted publickey for tomas_mensah from 10.8.0.120 port 1",
                "Postponed keyboard-interactive/pam for invalid user x$ from",
                "pam_unix(sshd:auth): check user=bob-1. user \"eve\"",
                "User Id = svc_fsync;user_id=x Account Name:\tjoe",
            ]
            .map(str::to_owned),
        );
        let mut checked = 0;
        for line in &lines {
            for caps in groups.captures_iter(line) {
                let (Some(whole), Some(name)) = (caps.get(0), caps.iter().skip(1).flatten().next())
                else {
                    continue;
                };
                assert_eq!(
                    name_in_match(line.as_bytes(), whole.start(), whole.end()),
                    (name.start(), name.end()),
                    "{line}"
                );
                checked += 1;
            }
        }
        assert!(checked > 20, "{checked}");
    }

    #[test]
    fn other_formats() {
        assert_eq!(
            found("[2024] app_rw@orders LOG:  connection"),
            vec!["app_rw"]
        );
        assert_eq!(
            found("faillock --user okowalski --reset"),
            vec!["okowalski"]
        );
        assert_eq!(found("CRON[1]: (postgres) CMD (x)"), Vec::<&str>::new());
        assert_eq!(found("CRON[1]: (alice) CMD (x)"), vec!["alice"]);
        assert_eq!(found("ssh -i key.pem bob@db01"), vec!["bob"]);
        assert_eq!(found("User Id=svc_fsync;Password=x"), vec!["svc_fsync"]);
        assert_eq!(found("mail for user@example.com"), Vec::<&str>::new());
        assert_eq!(
            found("entry for host \"10.0.0.1\", user \"reporting\", db"),
            vec!["reporting"]
        );
    }
}
