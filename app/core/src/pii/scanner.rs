//! [`PiiScanner`]: the compiled detector set and the one entry point that
//! turns text into findings.
//!
//! Building a scanner compiles every regex (built-in and operator-defined)
//! once; scanning is then a pure function of the text, safe to share
//! between threads and deterministic: the same text always yields the
//! same spans in the same order.

use std::collections::{BTreeSet, HashSet};

use regex::Regex;

use super::config::{
    CustomPattern, MAX_PATTERNS, PatternRole, PiiConfigError, ScannerConfig, compile_anchored,
    compile_operator_regex, normalise_internal_domain,
};
use super::detect::BuiltinDetectors;
use super::detect::private_key::{KeyHeaders, MAX_BODY_BYTES};
use super::kind::{CustomPatternId, PiiSpan, PiiType};
use super::resolve::{Candidate, rank, resolve};
use super::stream::{StreamLimits, StreamScanner};

/// Finds PII and secrets in text. Build once, scan many times.
pub struct PiiScanner {
    builtin: BuiltinDetectors,
    custom: Vec<CompiledPattern>,
    allowed_values: HashSet<String>,
    allowed_patterns: Vec<Regex>,
    disabled: BTreeSet<PiiType>,
    config: ScannerConfig,
}

struct CompiledPattern {
    id: CustomPatternId,
    regex: Regex,
    reports_as: PiiType,
    /// Index of the `value` capture group, when the pattern has one.
    value_group: Option<usize>,
}

impl std::fmt::Debug for PiiScanner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PiiScanner")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl PiiScanner {
    /// Validates `config` and compiles every detector.
    pub fn new(mut config: ScannerConfig) -> Result<Self, PiiConfigError> {
        config.internal_domains = config
            .internal_domains
            .iter()
            .map(|domain| normalise_internal_domain(domain))
            .collect::<Result<_, _>>()?;
        let builtin = BuiltinDetectors::new(&config.internal_domains)?;
        let custom = compile_custom_patterns(&config.custom_patterns)?;

        if config.allowlist.patterns.len() > MAX_PATTERNS {
            return Err(PiiConfigError::TooManyPatterns {
                what: PatternRole::AllowlistPattern,
                count: config.allowlist.patterns.len(),
                max: MAX_PATTERNS,
            });
        }
        let allowed_patterns = config
            .allowlist
            .patterns
            .iter()
            .map(|pattern| {
                // Checked on its own first, so that a pattern such as "a)|(b"
                // cannot escape the anchoring group below.
                compile_operator_regex(PatternRole::AllowlistPattern, pattern, pattern)?;
                // Anchored so that "10\.0\.0\.1" cannot allow "110.0.0.15".
                compile_anchored(pattern)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            builtin,
            custom,
            allowed_values: config.allowlist.values.iter().cloned().collect(),
            allowed_patterns,
            disabled: config.disabled_types.clone(),
            config,
        })
    }

    /// A scanner with the default configuration.
    pub fn with_defaults() -> Result<Self, PiiConfigError> {
        Self::new(ScannerConfig::default())
    }

    /// The configuration the scanner was built from (internal domains
    /// normalised).
    pub fn config(&self) -> &ScannerConfig {
        &self.config
    }

    /// The name of the custom pattern behind a finding.
    pub fn custom_pattern_name(&self, id: CustomPatternId) -> Option<&str> {
        self.config
            .custom_patterns
            .get(usize::from(id.0))
            .map(|p| p.name.as_str())
    }

    /// Every finding in `text`: sorted by start, non-overlapping, with byte
    /// offsets on char boundaries.
    ///
    /// Long texts are scanned in pieces of whole lines small enough to stay
    /// in the processor's cache while every detector passes over them. That
    /// changes no finding: every detector decides from the line of its
    /// match alone (which is also what lets [`StreamScanner`] agree with
    /// this), except private keys, and no piece ends near one.
    pub fn scan(&self, text: &str) -> Vec<PiiSpan> {
        if text.len() <= 2 * CHUNK_BYTES {
            return self.scan_lines(text);
        }
        let mut spans = Vec::new();
        let mut start = 0;
        while start < text.len() {
            let (end, holds_key_header) = chunk_end(text, start);
            spans.extend(
                self.scan_piece(&text[start..end], holds_key_header)
                    .into_iter()
                    .map(|span| PiiSpan {
                        start: span.start + start,
                        end: span.end + start,
                        ..span
                    }),
            );
            start = end;
        }
        spans
    }

    /// [`PiiScanner::scan`] of a text made of whole lines (or of all the
    /// text), in one piece.
    fn scan_lines(&self, text: &str) -> Vec<PiiSpan> {
        self.scan_piece(text, true)
    }

    /// [`PiiScanner::scan_lines`], told whether `text` may hold a
    /// private-key header: when it is known not to, the private-key
    /// detector's own search for one is skipped.
    fn scan_piece(&self, text: &str, may_hold_key_header: bool) -> Vec<PiiSpan> {
        let mut candidates = Vec::new();
        let enabled = |kind: PiiType| {
            (may_hold_key_header || kind != PiiType::PrivateKey) && !self.disabled.contains(&kind)
        };
        self.builtin.detect(text, enabled, &mut candidates);
        self.detect_custom(text, &mut candidates);
        // Most configurations allow nothing; then no candidate needs the
        // (hashing) allowlist lookup.
        if !self.allowed_values.is_empty() || !self.allowed_patterns.is_empty() {
            candidates.retain(|c| {
                text.get(c.start..c.end)
                    .is_some_and(|value| !self.is_allowed(value))
            });
        }
        resolve(text, candidates)
    }

    /// Whether the allowlist exempts `value`.
    pub fn is_allowed(&self, value: &str) -> bool {
        self.allowed_values.contains(value)
            || self.allowed_patterns.iter().any(|p| p.is_match(value))
    }

    /// A scanner for text that arrives in chunks; see [`StreamScanner`].
    pub fn stream(&self, limits: StreamLimits) -> StreamScanner<'_> {
        StreamScanner::new(self, limits)
    }

    /// The first private-key block in `text` whose end depends on text not
    /// seen yet, and whether `text` holds any private-key header.
    pub(crate) fn key_headers(&self, text: &str) -> KeyHeaders {
        if self.disabled.contains(&PiiType::PrivateKey) {
            return KeyHeaders {
                hold_from: None,
                any: false,
            };
        }
        self.builtin.private_key.key_headers(text)
    }

    /// [`PiiScanner::scan`], told whether `text` may hold a private-key
    /// header (see [`PiiScanner::key_headers`]).
    pub(crate) fn scan_knowing_key_headers(
        &self,
        text: &str,
        may_hold_key_header: bool,
    ) -> Vec<PiiSpan> {
        if text.len() <= 2 * CHUNK_BYTES {
            self.scan_piece(text, may_hold_key_header)
        } else {
            self.scan(text)
        }
    }

    fn detect_custom(&self, text: &str, out: &mut Vec<Candidate>) {
        let custom = self
            .custom
            .iter()
            .filter(|p| !self.disabled.contains(&p.reports_as));
        for pattern in custom {
            let mut line_start = 0;
            // Line by line, so that no operator pattern can match across a
            // line break and break the streaming scanner's guarantee.
            for line in text.split('\n') {
                for caps in pattern.regex.captures_iter(line) {
                    let found = match pattern.value_group {
                        Some(group) => caps.get(group),
                        None => caps.get(0),
                    };
                    if let Some(found) = found.filter(|m| !m.is_empty()) {
                        out.push(Candidate {
                            kind: pattern.reports_as,
                            start: line_start + found.start(),
                            end: line_start + found.end(),
                            rank: rank::CUSTOM,
                            custom: Some(pattern.id),
                        });
                    }
                }
                line_start += line.len() + 1;
            }
        }
    }
}

/// About how much text [`PiiScanner::scan`] hands the detectors at once.
const CHUNK_BYTES: usize = 256 * 1024;

/// Where the piece of `text` that starts at `start` (a line start) ends:
/// at a line start about [`CHUNK_BYTES`] further, or at the end of the
/// text; and whether the piece holds a private-key header. A private-key
/// block may span lines, and its end depends on up to [`MAX_BODY_BYTES`]
/// after its header; so the piece goes on that far past every header it
/// holds.
fn chunk_end(text: &str, start: usize) -> (usize, bool) {
    // Every header the private-key detector reads has a space after `BEGIN`.
    const HEADER: &[u8] = b"-----BEGIN ";
    let bytes = text.as_bytes();
    let next_line = |from: usize| {
        memchr::memchr(b'\n', bytes.get(from..).unwrap_or_default())
            .map_or(bytes.len(), |newline| from + newline + 1)
    };
    let mut end = next_line(start + CHUNK_BYTES).min(bytes.len());
    let mut searched = start;
    let mut holds_header = false;
    // `end` is a line start (or the text's end), so no header straddles it.
    while let Some(offset) = memchr::memmem::find(&bytes[searched..end], HEADER) {
        holds_header = true;
        let header = searched + offset;
        // The block's body starts on the header's line and is read for at
        // most `MAX_BODY_BYTES`, plus a footer line.
        let header_line_end = next_line(header);
        end = end
            .max(next_line(header_line_end + MAX_BODY_BYTES + 1024))
            .min(bytes.len());
        searched = header + 1;
    }
    (end, holds_header)
}

fn compile_custom_patterns(
    patterns: &[CustomPattern],
) -> Result<Vec<CompiledPattern>, PiiConfigError> {
    if patterns.len() > MAX_PATTERNS {
        return Err(PiiConfigError::TooManyPatterns {
            what: PatternRole::CustomPattern,
            count: patterns.len(),
            max: MAX_PATTERNS,
        });
    }
    let mut names = HashSet::new();
    let mut compiled = Vec::with_capacity(patterns.len());
    for (index, pattern) in patterns.iter().enumerate() {
        let name = pattern.name.trim();
        if name.is_empty() {
            return Err(PiiConfigError::EmptyPatternName);
        }
        if !names.insert(name.to_owned()) {
            return Err(PiiConfigError::DuplicatePatternName(name.to_owned()));
        }
        let regex = compile_operator_regex(PatternRole::CustomPattern, name, &pattern.regex)?;
        if regex.is_match("") {
            return Err(PiiConfigError::MatchesEmpty(name.to_owned()));
        }
        let value_group = regex
            .capture_names()
            .position(|group| group == Some("value"));
        // MAX_PATTERNS keeps the index far below u16::MAX.
        let id = CustomPatternId(u16::try_from(index).unwrap_or(u16::MAX));
        compiled.push(CompiledPattern {
            id,
            regex,
            reports_as: pattern.reports_as,
            value_group,
        });
    }
    Ok(compiled)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pii::config::{Allowlist, MAX_PATTERN_BYTES};

    fn custom(name: &str, regex: &str, reports_as: PiiType) -> CustomPattern {
        CustomPattern {
            name: name.to_owned(),
            regex: regex.to_owned(),
            reports_as,
        }
    }

    #[test]
    fn pieces_change_no_finding() {
        let scanner = PiiScanner::with_defaults().expect("test input is valid");
        let line = "May 21 01:58:03 pgdb-prod-03 sshd[1]: Accepted publickey for tomas_mensah \
                    from 10.8.0.120 port 5 mail ops@example.org\n";
        let key = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\nabc+/=\n\
                   -----END RSA PRIVATE KEY-----\n";
        let mut text = String::new();
        let mut index = 0;
        while text.len() < 6 * CHUNK_BYTES {
            text.push_str(line);
            if index % 997 == 0 {
                text.push_str(key);
            }
            if index % 1999 == 5 {
                // A block without footer whose body runs on for many lines.
                text.push_str("-----BEGIN PRIVATE KEY-----\n");
                text.push_str(&"QUJDRA==\n".repeat(2000 + index % 7));
            }
            index += 1;
        }
        let whole = scanner.scan_lines(&text);
        assert!(whole.len() > 10_000);
        assert_eq!(scanner.scan(&text), whole);
    }

    #[test]
    fn custom_patterns_report_their_declared_type() {
        let scanner = PiiScanner::new(ScannerConfig {
            custom_patterns: vec![custom(
                "employee id",
                "emp=(?P<value>E[0-9]{6})",
                PiiType::Username,
            )],
            ..ScannerConfig::default()
        })
        .expect("test input is valid");
        let text = "login ok emp=E123456 done";
        let spans = scanner.scan(text);
        assert_eq!(spans.len(), 1);
        assert_eq!(spans[0].value(text), Some("E123456"));
        assert_eq!(spans[0].kind, PiiType::Username);
        let id = spans[0].custom.expect("test input is valid");
        assert_eq!(scanner.custom_pattern_name(id), Some("employee id"));
    }

    #[test]
    fn bad_custom_patterns_are_rejected() {
        let build = |patterns: Vec<CustomPattern>| {
            PiiScanner::new(ScannerConfig {
                custom_patterns: patterns,
                ..ScannerConfig::default()
            })
        };
        assert!(matches!(
            build(vec![custom("broken", "(unclosed", PiiType::ApiKey)]),
            Err(PiiConfigError::InvalidPattern { .. })
        ));
        let long = "a".repeat(MAX_PATTERN_BYTES + 1);
        assert!(matches!(
            build(vec![custom("long", &long, PiiType::ApiKey)]),
            Err(PiiConfigError::PatternTooLong { .. })
        ));
        assert!(matches!(
            build(vec![custom("huge", "[a-z]{1000}{1000}", PiiType::ApiKey)]),
            Err(PiiConfigError::InvalidPattern { .. })
        ));
        assert!(matches!(
            build(vec![custom("empty", "x*", PiiType::ApiKey)]),
            Err(PiiConfigError::MatchesEmpty(_))
        ));
        assert!(matches!(
            build(vec![custom(" ", "x", PiiType::ApiKey)]),
            Err(PiiConfigError::EmptyPatternName)
        ));
        assert!(matches!(
            build(vec![
                custom("a", "x", PiiType::ApiKey),
                custom("a", "y", PiiType::ApiKey)
            ]),
            Err(PiiConfigError::DuplicatePatternName(_))
        ));
    }

    #[test]
    fn allowlist_values_and_patterns() {
        let scanner = PiiScanner::new(ScannerConfig {
            allowlist: Allowlist {
                values: vec!["10.0.0.2".to_owned()],
                patterns: vec![r"[a-z]+@example\.com".to_owned()],
            },
            ..ScannerConfig::default()
        })
        .expect("test input is valid");
        let text = "dns 10.0.0.2 and 10.0.0.3, mail ops@example.com and ops@example.org";
        let values: Vec<&str> = scanner
            .scan(text)
            .iter()
            .filter_map(|s| s.value(text))
            .collect();
        assert_eq!(values, vec!["10.0.0.3", "ops@example.org"]);
        let broken = PiiScanner::new(ScannerConfig {
            allowlist: Allowlist {
                values: vec![],
                patterns: vec!["(".to_owned()],
            },
            ..ScannerConfig::default()
        });
        assert!(matches!(broken, Err(PiiConfigError::InvalidPattern { .. })));
    }

    #[test]
    fn disabled_types_and_internal_domains() {
        let scanner = PiiScanner::new(ScannerConfig {
            internal_domains: vec![".Acme-Corp.com.".to_owned()],
            disabled_types: [PiiType::Ipv4].into_iter().collect(),
            ..ScannerConfig::default()
        })
        .expect("test input is valid");
        let text = "relay=smtp-relay.acme-corp.com[10.20.1.25]";
        let spans = scanner.scan(text);
        assert_eq!(spans, vec![PiiSpan::new(PiiType::Hostname, 6, 30)]);
        assert!(
            PiiScanner::new(ScannerConfig {
                internal_domains: vec!["not a domain".to_owned()],
                ..ScannerConfig::default()
            })
            .is_err()
        );
    }
}
