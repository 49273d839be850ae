//! The built-in detectors, one module per family of data. Each proposes
//! [`Candidate`]s with a rank; [`crate::pii::resolve`] settles overlaps.
//!
//! Conventions every detector keeps, because the scanner's guarantees
//! depend on them:
//! * regexes are compiled once, in [`BuiltinDetectors::new`], and never
//!   match across a line break (only [`private_key`] spans lines, on
//!   purpose, and tells the streaming scanner about it);
//! * context checks look only inside the line of the match;
//! * all character classes are ASCII (`[0-9]`, not `\d`) so a stray
//!   non-Latin digit never becomes an address, and so the regex engine can
//!   stay on its fast DFA path.

pub(crate) mod account;
pub(crate) mod email;
pub(crate) mod host;
pub(crate) mod keyed;
pub(crate) mod network;
pub(crate) mod numbers;
pub(crate) mod private_key;
pub(crate) mod secrets;
pub(crate) mod syslog;

use regex::Regex;

use super::config::PiiConfigError;
use super::kind::PiiType;
use super::prefilter::Prefilter;
use super::resolve::Candidate;

/// Compiles a built-in pattern. A failure is a bug in this crate, reported
/// as an error rather than a panic so a scanner is never half-built.
pub(crate) fn compile(detector: &'static str, pattern: &str) -> Result<Regex, PiiConfigError> {
    regex::RegexBuilder::new(pattern)
        .size_limit(1 << 23)
        .dfa_size_limit(1 << 23)
        .build()
        .map_err(|err| PiiConfigError::BuiltinPattern {
            detector,
            reason: err.to_string(),
        })
}

/// Splits a key such as `AWS_SECRET_ACCESS_KEY`, `x-api-key` or
/// `dbPassword` into lower-case words.
pub(crate) fn key_words(key: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut previous_lower = false;
    for c in key.chars() {
        if !c.is_ascii_alphanumeric() {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            previous_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && previous_lower && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
        previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        current.push(c.to_ascii_lowercase());
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// Every match a written-out matcher (`next(run, from)`, the next match at
/// or after `from`) finds in `run`, in order, as `Regex::find_iter` walks:
/// for holding the matcher to the regex it stands for.
#[cfg(test)]
pub(crate) fn every_match(
    run: &str,
    next: impl Fn(&[u8], usize) -> Option<(usize, usize)>,
) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some((start, end)) = next(run.as_bytes(), from) {
        found.push((start, end));
        from = end;
    }
    found
}

/// All built-in detectors, compiled.
pub(crate) struct BuiltinDetectors {
    network: network::NetworkDetector,
    email: email::EmailDetector,
    numbers: numbers::NumberDetector,
    secrets: secrets::SecretDetector,
    keyed: keyed::KeyedValueDetector,
    account: account::AccountDetector,
    host: host::HostDetector,
    pub(crate) private_key: private_key::PrivateKeyDetector,
}

impl BuiltinDetectors {
    pub(crate) fn new(internal_domains: &[String]) -> Result<Self, PiiConfigError> {
        Ok(Self {
            network: network::NetworkDetector::new()?,
            email: email::EmailDetector::new()?,
            numbers: numbers::NumberDetector::new()?,
            secrets: secrets::SecretDetector::new()?,
            keyed: keyed::KeyedValueDetector::new()?,
            account: account::AccountDetector::new()?,
            host: host::HostDetector::new(internal_domains)?,
            private_key: private_key::PrivateKeyDetector::new()?,
        })
    }

    /// Runs every detector whose types are not disabled.
    pub(crate) fn detect(
        &self,
        text: &str,
        enabled: impl Fn(PiiType) -> bool,
        out: &mut Vec<Candidate>,
    ) {
        let start = out.len();
        let prefilter = Prefilter::new(text);
        self.network.detect(text, &prefilter, out);
        self.email.detect(text, &prefilter, out);
        let keys = keyed::KeyStarts::new(text, &prefilter);
        self.numbers.detect(text, &prefilter, &keys, out);
        self.secrets.detect(text, &keys, out);
        self.keyed.detect(text, &keys, out);
        self.account.detect(text, &prefilter, out);
        if enabled(PiiType::Hostname) {
            self.host.detect(text, &prefilter, out);
        }
        if enabled(PiiType::PrivateKey) {
            self.private_key.detect(text, out);
        }
        // Dropping disabled types after the fact keeps each detector simple;
        // only the two that are costly on their own are skipped up front.
        let mut index = start;
        while index < out.len() {
            if enabled(out[index].kind) {
                index += 1;
            } else {
                out.swap_remove(index);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_words_split_every_style() {
        assert_eq!(
            key_words("AWS_SECRET_ACCESS_KEY"),
            ["aws", "secret", "access", "key"]
        );
        assert_eq!(key_words("x-api-key"), ["x", "api", "key"]);
        assert_eq!(key_words("dbPassword"), ["db", "password"]);
        assert_eq!(key_words("PGPASSWORD"), ["pgpassword"]);
        assert_eq!(key_words("\"user.name\""), ["user", "name"]);
    }
}
