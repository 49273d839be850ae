//! The organisation's own machine names — only where the format makes them
//! unambiguous: the host field of syslog (BSD, ISO-timestamped, RFC 5424
//! and Cisco IOS), FQDNs under private suffixes (`.internal`, `.corp`,
//! `.lan`, `.local`, … plus configured internal domains), Windows event
//! fields (`Workstation Name:`), DHCP client names and `host=`/`node=`
//! values.
//!
//! Public domains, Kubernetes pod names and `*.svc.cluster.local` service
//! names are left alone: they are shared or ephemeral and redacting them
//! only destroys triage value. Once a line has named a machine, its other
//! mentions on that line (`… on pgdb-prod-03 (10.20.4.23)`, `svchost.exe
//! (SRV-APP95)`) are reported too; propagation never crosses lines so the
//! streaming scanner stays exact.

use regex::Regex;

use super::{compile, syslog};
use crate::pii::config::PiiConfigError;
use crate::pii::kind::PiiType;
use crate::pii::literal::Anchored;
use crate::pii::prefilter::{Prefilter, for_each_line};
use crate::pii::resolve::{Candidate, rank};
use crate::pii::text::{byte_at, byte_before, line_end, line_start};

/// DNS suffixes that are never delegated publicly.
#[rustfmt::skip]
const PRIVATE_SUFFIXES: &[&str] = &[
    "internal", "intranet", "intra", "corp", "lan", "local", "localdomain", "home.arpa", "private",
];

/// Longest line within which found machine names are looked for again.
const MAX_PROPAGATION_LINE: usize = 64 * 1024;

/// Windows event fields that name a machine (before their `:`).
const WINDOWS_FIELDS: &[&str] = &[
    "Workstation Name",
    "Computer Name",
    "Source Workstation",
    "ComputerName",
    "MachineName",
    "Machine Name",
    "Client Name",
    "Computer",
    "Workstation",
];

/// How a Kubernetes scheduler event names the node it assigns a pod to.
const ASSIGNED: &str = "Successfully assigned ";

/// Names of log levels, which some formats put where syslog puts the host.
const LEVEL_WORDS: &[&str] = &[
    "trace", "debug", "info", "notice", "warn", "warning", "error", "err", "crit", "critical",
    "alert", "emerg", "fatal", "severe",
];

/// A host field: letters, digits, dots, dashes, underscores.
fn host_token(name: &str) -> String {
    format!("(?P<{name}>[A-Za-z0-9][A-Za-z0-9._-]{{0,252}})")
}

pub(crate) struct HostDetector {
    /// A private DNS suffix; the labels before it are read backwards.
    private_suffix: Regex,
    /// Tried, anchored, only where one of [`WINDOWS_FIELDS`] ends at a
    /// `:` the prefilter found, and at each `Successfully assigned `.
    windows_field: Anchored,
    dhcp_client: Regex,
}

impl HostDetector {
    /// `internal_domains` are already normalised (lower case, no dots at
    /// either end).
    pub(crate) fn new(internal_domains: &[String]) -> Result<Self, PiiConfigError> {
        let mut suffixes: Vec<&str> = PRIVATE_SUFFIXES.to_vec();
        suffixes.extend(internal_domains.iter().map(String::as_str));
        // Longest first: the regex prefers earlier alternatives, and `.local`
        // must not cut `.localdomain` short.
        suffixes.sort_by_key(|s| std::cmp::Reverse(s.len()));
        let suffix_alternation = suffixes
            .iter()
            .map(|s| regex::escape(s))
            .collect::<Vec<_>>()
            .join("|");
        Ok(Self {
            // `.internal`, or a last label such as `example-internal`.
            private_suffix: compile(
                "hostname",
                &format!("(?i)\\.(?:{suffix_alternation})|-(?:internal|intranet|corp)"),
            )?,
            // Windows event fields, and the node a Kubernetes scheduler
            // event assigns a pod to.
            windows_field: Anchored::new(
                "hostname",
                &format!(
                    "(?:(?:{}):[ \\t]*|{ASSIGNED}[^ \\n]+ to ){}",
                    WINDOWS_FIELDS.join("|"),
                    host_token("host")
                ),
            )?,
            dhcp_client: compile(
                "hostname",
                &format!(
                    "(?:from|to|on) (?:[0-9A-Fa-f]{{2}}[:-]){{5}}[0-9A-Fa-f]{{2}} \\({}\\)",
                    host_token("host")
                ),
            )?,
        })
    }

    /// Syslog headers are looked for only on lines that start like one,
    /// DHCP clients only on lines with a MAC address; see
    /// [`crate::pii::prefilter`].
    pub(crate) fn detect(&self, text: &str, prefilter: &Prefilter, out: &mut Vec<Candidate>) {
        let mut found: Vec<(usize, usize)> = Vec::new();
        // A header starts a line, so it is read at the start of each line
        // that may hold one (see [`syslog`]).
        for &header_start in &prefilter.syslog_lines {
            let Some(header) = syslog::header(&text.as_bytes()[header_start..]) else {
                continue;
            };
            // A header is ASCII.
            let host = &text[header_start + header.host.start..header_start + header.host.end];
            let machine_like = host
                .bytes()
                .any(|b| b.is_ascii_digit() || b == b'-' || b == b'.');
            let accept = is_syslog_host(host) && (!header.needs_machine_look || machine_like);
            let start = header_start + header.host.start;
            push_if(text, start, start + host.len(), accept, &mut found);
        }
        for m in self.private_suffix.find_iter(text) {
            let start = labels_before(text, m.start());
            // A dashed suffix ("prod.example-internal") ends a label, so a
            // dot must come before it: "non-corp" alone is a word.
            let dashed = text.as_bytes()[m.start()] == b'-';
            let has_labels = start < m.start() && (!dashed || text[start..m.start()].contains('.'));
            let accept = has_labels && is_internal_fqdn(text, start, m.end());
            push_if(text, start, m.end(), accept, &mut found);
        }
        let mut push_named = |caps: regex::Captures<'_>, base: usize| {
            if let Some(host) = caps.name("host") {
                let name = host.as_str().trim_end_matches('.');
                let start = base + host.start();
                push_if(
                    text,
                    start,
                    start + name.len(),
                    is_named_host(name),
                    &mut found,
                );
            }
        };
        // Every match starts with a field name right before a `:` (after a
        // letter, so the prefilter lists it) or with `Successfully
        // assigned`; the pattern does not look behind its start (see
        // [`Anchored::find_at`]).
        let bytes = text.as_bytes();
        let mut field_starts: Vec<usize> =
            memchr::memmem::find_iter(bytes, ASSIGNED.as_bytes()).collect();
        for &separator in &prefilter.separators {
            // Every field name ends with `e`, `n` or `r`.
            if bytes[separator] != b':'
                || !matches!(
                    bytes.get(separator.wrapping_sub(1)),
                    Some(b'e' | b'n' | b'r')
                )
            {
                continue;
            }
            for field in WINDOWS_FIELDS {
                if bytes[..separator].ends_with(field.as_bytes()) {
                    field_starts.push(separator - field.len());
                }
            }
        }
        self.windows_field
            .captures_at(text, field_starts, |base, caps| push_named(caps, base));
        // Every match holds a MAC address, and none crosses a line.
        for_each_line(text, &prefilter.mac, |line| {
            for caps in self.dhcp_client.captures_iter(&text[line.clone()]) {
                push_named(caps, line.start);
            }
        });
        propagate_within_lines(text, &mut found);
        out.extend(
            found
                .into_iter()
                .map(|(start, end)| Candidate::new(PiiType::Hostname, start, end, rank::HOSTNAME)),
        );
    }
}

/// Start of the DNS labels that end at `dot` (the dot of a suffix).
fn labels_before(text: &str, dot: usize) -> usize {
    let bytes = text.as_bytes();
    let mut start = dot;
    while start > 0
        && (bytes[start - 1].is_ascii_alphanumeric() || matches!(bytes[start - 1], b'-' | b'.'))
    {
        start -= 1;
    }
    while start < dot && matches!(bytes[start], b'.' | b'-') {
        start += 1;
    }
    start
}

fn push_if(text: &str, start: usize, end: usize, accept: bool, found: &mut Vec<(usize, usize)>) {
    if accept && start < end && text.is_char_boundary(end) {
        found.push((start, end));
    }
}

fn is_ip_like(name: &str) -> bool {
    name.bytes().all(|b| b.is_ascii_digit() || b == b'.') || name.contains(':')
}

/// `billing-api-5c8dkv7cjq-x484m`, `coredns-5d78c9869d-2xkqp`: the names
/// Kubernetes generates for pods end in a random suffix (5 characters,
/// after an 8-10 character pod-template hash for Deployments) drawn from an
/// alphabet without vowels or easily confused digits. Pods come and go;
/// they are not the organisation's machines.
pub(crate) fn looks_like_pod_name(name: &str) -> bool {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let generated = |part: &str, lengths: std::ops::RangeInclusive<usize>| {
        lengths.contains(&part.len()) && part.bytes().all(|b| ALPHABET.contains(&b))
    };
    let mut parts = name.rsplit('-');
    let (Some(suffix), Some(previous)) = (parts.next(), parts.next()) else {
        return false;
    };
    if !generated(suffix, 5..=5) {
        return false;
    }
    // Deployment pods carry the pod-template hash too; for other pods a
    // digit in the suffix tells it from an ordinary word.
    (generated(previous, 8..=10) && parts.next().is_some())
        || suffix.bytes().any(|b| b.is_ascii_digit())
}

/// Whether `name` is one of `words`, ignoring ASCII case.
fn is_one_of(name: &str, words: &[&str]) -> bool {
    words.iter().any(|word| word.eq_ignore_ascii_case(name))
}

/// Whether `name` ends with `suffix`, ignoring ASCII case.
fn ends_with_ignore_case(name: &str, suffix: &str) -> bool {
    name.len() >= suffix.len()
        && name.as_bytes()[name.len() - suffix.len()..].eq_ignore_ascii_case(suffix.as_bytes())
}

fn is_syslog_host(name: &str) -> bool {
    !looks_like_pod_name(name)
        && !is_ip_like(name)
        && !is_one_of(name, LEVEL_WORDS)
        && !is_one_of(name, &["-", "localhost", "localhost.localdomain"])
}

/// A name given in a field that can only hold a machine name.
fn is_named_host(name: &str) -> bool {
    !name.is_empty()
        && !is_ip_like(name)
        && !looks_like_pod_name(name)
        && !is_one_of(name, &["-", "localhost", "unknown", "null", "none", "n/a"])
        && !ends_with_ignore_case(name, "cluster.local")
}

/// A machine name given as a value of a loosely named key (`host=`,
/// `node=`): accepted only when it looks like one (letters and digits, the
/// way machines are numbered), because such keys also hold service names.
pub(crate) fn acceptable_machine_name(name: &str) -> bool {
    is_named_host(name)
        && name.len() <= 253
        && name.bytes().any(|b| b.is_ascii_digit())
        && name.bytes().any(|b| b.is_ascii_alphabetic())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && !name.starts_with('-')
}

fn is_internal_fqdn(text: &str, start: usize, end: usize) -> bool {
    let before_ok = match byte_before(text, start) {
        None => true,
        // After `@` it is an e-mail's domain (the e-mail wins the overlap)
        // or a URL's host, which counts.
        Some(b) if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'%') => false,
        // A path component ("/etc/ssl/site.local"), unless it is a URL's host.
        Some(b'/') => start >= 2 && text.as_bytes()[start - 2] == b'/',
        Some(_) => true,
    };
    let after_ok = match byte_at(text, end) {
        None => true,
        Some(b) if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_') => false,
        Some(b'.') => !byte_at(text, end + 1).is_some_and(|b| b.is_ascii_alphanumeric()),
        Some(_) => true,
    };
    let name = &text[start..end];
    before_ok
        && after_ok
        && !ends_with_ignore_case(name, "cluster.local")
        && !name
            .as_bytes()
            .get(..9)
            .is_some_and(|head| head.eq_ignore_ascii_case(b"localhost"))
        && !name.eq_ignore_ascii_case("metadata.google.internal")
}

/// Reports the other mentions, on the same line, of machines already found
/// there: the full names and, for FQDNs, their first label when it is
/// distinctive (has a digit or a dash).
fn propagate_within_lines(text: &str, found: &mut Vec<(usize, usize)>) {
    found.sort_unstable();
    found.dedup();
    let mut extra = Vec::new();
    let mut index = 0;
    // Reused from line to line; a line names few machines.
    let mut names: Vec<&str> = Vec::new();
    while index < found.len() {
        let first_on_line = found[index].0;
        let line_finish = line_end(text, first_on_line);
        names.clear();
        while index < found.len() && found[index].0 < line_finish {
            let (start, end) = found[index];
            let name = &text[start..end];
            for candidate in [name, name.split('.').next().unwrap_or(name)] {
                let distinctive = candidate.len() >= 3
                    && candidate.bytes().any(|b| b.is_ascii_digit() || b == b'-');
                if distinctive && !names.contains(&candidate) {
                    names.push(candidate);
                }
            }
            index += 1;
        }
        // Machine-generated single-line blobs can be megabytes long; searching
        // them once per name would make the scan quadratic.
        if names.is_empty() {
            continue;
        }
        let line_begin = line_start(text, first_on_line);
        if line_finish - line_begin > MAX_PROPAGATION_LINE {
            continue;
        }
        let line = &text.as_bytes()[line_begin..line_finish];
        for name in &names {
            for offset in occurrences(line, name.as_bytes()) {
                let start = line_begin + offset;
                let end = start + name.len();
                let before_ok = !byte_before(text, start).is_some_and(|b| {
                    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'/' | b'@')
                });
                let after_ok = match byte_at(text, end) {
                    None => true,
                    Some(b) if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'@') => {
                        false
                    }
                    Some(b'.') => {
                        !byte_at(text, end + 1).is_some_and(|b| b.is_ascii_alphanumeric())
                    }
                    Some(_) => true,
                };
                if before_ok && after_ok {
                    extra.push((start, end));
                }
            }
        }
    }
    found.extend(extra);
}

/// Where `needle` (not empty) occurs in `haystack`, leftmost first and not
/// overlapping, as `str::match_indices` finds it; cheaper than it on short
/// lines, where building a substring searcher costs more than the search.
fn occurrences<'a>(haystack: &'a [u8], needle: &'a [u8]) -> impl Iterator<Item = usize> + 'a {
    let mut from = 0;
    std::iter::from_fn(move || {
        let (&first, _) = needle.split_first()?;
        while let Some(offset) = memchr::memchr(first, haystack.get(from..)?) {
            let at = from + offset;
            if haystack[at..].starts_with(needle) {
                from = at + needle.len();
                return Some(at);
            }
            from = at + 1;
        }
        None
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found_with(text: &str, domains: &[String]) -> Vec<String> {
        let detector = HostDetector::new(domains).expect("test input is valid");
        let mut out = Vec::new();
        detector.detect(text, &Prefilter::new(text), &mut out);
        out.sort_by_key(|c| (c.start, c.end));
        out.dedup_by_key(|c| (c.start, c.end));
        out.iter()
            .map(|c| text[c.start..c.end].to_owned())
            .collect()
    }

    fn found(text: &str) -> Vec<String> {
        found_with(text, &[])
    }

    #[test]
    fn syslog_host_fields() {
        assert_eq!(
            found("May 21 01:58:03 pgdb-prod-03 systemd[1]: Starting"),
            vec!["pgdb-prod-03"]
        );
        assert_eq!(
            found(
                "May 21 02:03:39 pgdb-prod-03 alert[544]: usage 82% on pgdb-prod-03 (10.20.4.23)"
            ),
            vec!["pgdb-prod-03", "pgdb-prod-03"]
        );
        assert_eq!(
            found("2024-05-21T02:00:59+00:00 web-7 kernel: x"),
            vec!["web-7"]
        );
        assert!(found("2024-05-28T10:04:02.796Z Syncing repository: acme/storefront").is_empty());
        assert!(found("2024-05-22T14:03:11.000Z argocd-server level=info msg=x").is_empty());
        assert!(found("2024-05-23T09:12:59.177Z systemd-resolved[401]: Using").is_empty());
        assert_eq!(
            found("May 29 07:57:05.858 UTC: sw-floor3-3: %SW_MATM-4-MACFLAP_NOTIF: Host"),
            vec!["sw-floor3-3"]
        );
        assert_eq!(
            found("<34>1 2003-10-11T22:14:15.003Z mymachine7 su - ID47 - x"),
            vec!["mymachine7"]
        );
    }

    #[test]
    fn internal_names() {
        assert_eq!(
            found("to ip-10-42-156-135.eu-central-1.compute.internal\""),
            vec!["ip-10-42-156-135.eu-central-1.compute.internal"]
        );
        assert!(found("host=billing-db.prod.svc.cluster.local pool=10").is_empty());
        assert!(found("https://api.acme-corp.com/v1 and /etc/site.local").is_empty());
        assert!(found("cp .env.local config.local.json").is_empty());
        assert_eq!(
            found(
                "| SRV-APP95.corp.fabrikam.local | The process svchost.exe (SRV-APP95) restarts computer SRV-APP95 on"
            ),
            vec!["SRV-APP95.corp.fabrikam.local", "SRV-APP95", "SRV-APP95"]
        );
        assert_eq!(
            found_with(
                "relay=smtp-relay.acme-corp.com[",
                &["acme-corp.com".to_owned()]
            ),
            vec!["smtp-relay.acme-corp.com"]
        );
    }

    #[test]
    fn pod_names_are_not_machines() {
        assert!(looks_like_pod_name("billing-api-5c8dkv7cjq-x484m"));
        assert!(looks_like_pod_name("coredns-5d78c9869d-2xkqp"));
        assert!(looks_like_pod_name("fluentd-x2x9k"));
        assert!(!looks_like_pod_name("sess-cache-06"));
        assert!(!looks_like_pod_name("printer-3DTMFC"));
        assert!(!looks_like_pod_name("ip-10-42-156-135"));
        assert!(!looks_like_pod_name("web-01"));
        assert_eq!(found("h.localdomain x"), vec!["h.localdomain"]);
        assert_eq!(
            found("to db01.prod.example-internal:5432"),
            vec!["db01.prod.example-internal"]
        );
        assert!(found("a non-corp, thread-local and my-internal tool").is_empty());
    }

    #[test]
    fn occurrences_are_those_of_match_indices() {
        for (haystack, needle) in [
            ("web-01 and web-01x web-01", "web-01"),
            ("aaaa", "aa"),
            ("ab-1ab-1ab-1", "ab-1ab-1"),
            ("", "x-1"),
            ("x-1", "x-1"),
        ] {
            let want: Vec<usize> = haystack.match_indices(needle).map(|(i, _)| i).collect();
            let got: Vec<usize> = occurrences(haystack.as_bytes(), needle.as_bytes()).collect();
            assert_eq!(got, want, "{needle} in {haystack}");
        }
    }

    #[test]
    fn fields_and_dhcp() {
        assert_eq!(
            found("Workstation Name: SRV-APP95 Source"),
            vec!["SRV-APP95"]
        );
        assert_eq!(found("Caller Computer Name: WS042 Security"), vec!["WS042"]);
        assert_eq!(
            found("DHCPOFFER on 10.30.9.168 to F4:5C:89:9D:18:C9 (printer-3DTMFC) via 10.30.8.1"),
            vec!["printer-3DTMFC"]
        );
    }
}
