//! What an operator can tune without touching the detectors: values that are
//! never reported (the allowlist), extra patterns of their own, the
//! organisation's internal DNS domains and the types to skip.
//!
//! Everything here is plain data (serde) so the server can store it per
//! workspace; [`crate::pii::PiiScanner::new`] validates and compiles it once.
//! Operator-supplied regexes are untrusted input: they are length-capped and
//! compiled with size limits, and every failure is a [`PiiConfigError`].

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::kind::PiiType;

/// Longest accepted operator pattern, in bytes of regex source.
pub const MAX_PATTERN_BYTES: usize = 1024;

/// Most custom patterns (or allowlist patterns) one configuration may hold;
/// each one costs a pass over the text.
pub const MAX_PATTERNS: usize = 64;

/// Compiled-program budget per operator pattern, so that a short pattern
/// such as `\w{1000}{1000}` cannot exhaust memory.
pub(crate) const PATTERN_SIZE_LIMIT: usize = 1 << 20;

/// Tuning for one [`crate::pii::PiiScanner`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ScannerConfig {
    pub allowlist: Allowlist,
    pub custom_patterns: Vec<CustomPattern>,
    /// DNS suffixes (such as `acme-corp.com`) whose hosts count as the
    /// organisation's own machines, on top of the private suffixes
    /// (`.internal`, `.corp`, `.lan`, `.local`, …) that always do.
    pub internal_domains: Vec<String>,
    /// Types the scanner does not report at all.
    pub disabled_types: BTreeSet<PiiType>,
}

/// Findings that are never reported, such as a public status-page address
/// or a well-known test card number.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Allowlist {
    /// Exact values, compared with the finding's text.
    pub values: Vec<String>,
    /// Regexes that must match the whole finding text.
    pub patterns: Vec<String>,
}

/// An operator-defined detector, such as an internal ticket token format.
///
/// Findings are reported as ordinary [`crate::pii::PiiSpan`]s of type
/// `reports_as`, with [`crate::pii::PiiSpan::custom`] naming the pattern, so
/// redaction numbering and type-based policies treat them like built-in
/// findings. If the regex has a capture group named `value`, only that
/// group is reported (for example `emp_id=(?P<value>E[0-9]{6})`).
/// Matches never span lines: each line is searched on its own.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomPattern {
    pub name: String,
    pub regex: String,
    pub reports_as: PiiType,
}

/// The configuration cannot be compiled into a scanner.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PiiConfigError {
    #[error("a custom pattern has an empty name")]
    EmptyPatternName,
    #[error("custom pattern name {0:?} is used twice")]
    DuplicatePatternName(String),
    #[error("{what} {name:?} is {len} bytes long; the limit is {max}")]
    PatternTooLong {
        what: PatternRole,
        name: String,
        len: usize,
        max: usize,
    },
    #[error("{what} {name:?} does not compile: {reason}")]
    InvalidPattern {
        what: PatternRole,
        name: String,
        reason: String,
    },
    #[error("custom pattern {0:?} matches the empty string")]
    MatchesEmpty(String),
    #[error("too many {what}s: {count}; the limit is {max}")]
    TooManyPatterns {
        what: PatternRole,
        count: usize,
        max: usize,
    },
    #[error("internal domain {0:?} is not a DNS suffix")]
    InvalidInternalDomain(String),
    /// A built-in detector failed to compile: a bug in this crate, never a
    /// configuration mistake.
    #[error("built-in {detector} detector does not compile: {reason}")]
    BuiltinPattern {
        detector: &'static str,
        reason: String,
    },
}

/// Which configuration list a rejected pattern came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatternRole {
    CustomPattern,
    AllowlistPattern,
}

impl std::fmt::Display for PatternRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PatternRole::CustomPattern => "custom pattern",
            PatternRole::AllowlistPattern => "allowlist pattern",
        })
    }
}

/// Compiles one operator regex under the length and size limits.
pub(crate) fn compile_operator_regex(
    what: PatternRole,
    name: &str,
    source: &str,
) -> Result<regex::Regex, PiiConfigError> {
    if source.len() > MAX_PATTERN_BYTES {
        return Err(PiiConfigError::PatternTooLong {
            what,
            name: name.to_owned(),
            len: source.len(),
            max: MAX_PATTERN_BYTES,
        });
    }
    regex::RegexBuilder::new(source)
        .size_limit(PATTERN_SIZE_LIMIT)
        .dfa_size_limit(PATTERN_SIZE_LIMIT)
        .build()
        .map_err(|err| PiiConfigError::InvalidPattern {
            what,
            name: name.to_owned(),
            reason: err.to_string(),
        })
}

/// Compiles an already validated allowlist pattern so that it must match a
/// whole value.
pub(crate) fn compile_anchored(source: &str) -> Result<regex::Regex, PiiConfigError> {
    regex::RegexBuilder::new(&format!("^(?:{source})$"))
        .size_limit(PATTERN_SIZE_LIMIT)
        .dfa_size_limit(PATTERN_SIZE_LIMIT)
        .build()
        .map_err(|err| PiiConfigError::InvalidPattern {
            what: PatternRole::AllowlistPattern,
            name: source.to_owned(),
            reason: err.to_string(),
        })
}

/// Lower-cased, dot-trimmed suffix, or an error when it cannot be a domain.
pub(crate) fn normalise_internal_domain(domain: &str) -> Result<String, PiiConfigError> {
    let trimmed = domain.trim().trim_matches('.').to_ascii_lowercase();
    let valid = !trimmed.is_empty()
        && trimmed.len() <= 253
        && trimmed.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    if valid {
        Ok(trimmed)
    } else {
        Err(PiiConfigError::InvalidInternalDomain(domain.to_owned()))
    }
}
