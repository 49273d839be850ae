//! The PII settings as people edit them: one entry per line.
//!
//! [`PiiSettingsText`] is what the settings form shows and sends;
//! [`PiiSettingsText::parse`] turns it into a [`ScannerConfig`] (which the
//! scanner then validates: regexes compile, sizes and counts are bounded),
//! and [`PiiSettingsText::from_config`] goes back. Custom patterns are
//! written `name | TYPE | regex`; the regex is everything after the second
//! bar, so it may contain bars itself.

use serde::{Deserialize, Serialize};

use crate::pii::{CustomPattern, PiiType, ScannerConfig};

/// The settings form's fields, one entry per line.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PiiSettingsText {
    /// Exact values never reported.
    pub allow_values: String,
    /// Regexes that must match a whole finding for it to be dropped.
    pub allow_patterns: String,
    /// `name | TYPE | regex`.
    pub custom_patterns: String,
    /// DNS suffixes of the organisation's own machines.
    pub internal_domains: String,
}

/// A line of the form that could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("custom patterns, line {line}: {message}")]
pub struct SettingsLineError {
    pub line: usize,
    pub message: String,
}

fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

impl PiiSettingsText {
    /// Reads the form, keeping the parts of `base` it does not edit (the
    /// disabled types).
    pub fn parse(&self, base: &ScannerConfig) -> Result<ScannerConfig, SettingsLineError> {
        let mut config = base.clone();
        config.allowlist.values = lines(&self.allow_values);
        config.allowlist.patterns = lines(&self.allow_patterns);
        config.internal_domains = lines(&self.internal_domains);
        config.custom_patterns = self
            .custom_patterns
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| {
                let error = |message: &str| SettingsLineError {
                    line: i + 1,
                    message: message.to_owned(),
                };
                let mut parts = l.splitn(3, '|');
                let (Some(name), Some(kind), Some(regex)) =
                    (parts.next(), parts.next(), parts.next())
                else {
                    return Err(error("write it as `name | TYPE | regex`"));
                };
                let kind = PiiType::parse(kind.trim().to_ascii_uppercase().as_str())
                    .ok_or_else(|| error("the TYPE must be one of IPV4, EMAIL, … USERNAME"))?;
                Ok(CustomPattern {
                    name: name.trim().to_owned(),
                    regex: regex.trim().to_owned(),
                    reports_as: kind,
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(config)
    }

    /// The form for a configuration.
    pub fn from_config(config: &ScannerConfig) -> Self {
        Self {
            allow_values: config.allowlist.values.join("\n"),
            allow_patterns: config.allowlist.patterns.join("\n"),
            custom_patterns: config
                .custom_patterns
                .iter()
                .map(|p| format!("{} | {} | {}", p.name, p.reports_as, p.regex))
                .collect::<Vec<_>>()
                .join("\n"),
            internal_domains: config.internal_domains.join("\n"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pii::PiiScanner;

    #[test]
    fn round_trips_and_keeps_bars_in_regexes() {
        let text = PiiSettingsText {
            allow_values: "192.0.2.1\n\n  docs.example.com  \n".into(),
            allow_patterns: r"10\.0\.0\.\d+".into(),
            custom_patterns: "ticket | username | INC-[0-9]{4}|CHG-[0-9]{4}\n".into(),
            internal_domains: "acme-corp.com".into(),
        };
        let config = text.parse(&ScannerConfig::default()).expect("parses");
        assert_eq!(config.allowlist.values, ["192.0.2.1", "docs.example.com"]);
        assert_eq!(config.custom_patterns[0].regex, "INC-[0-9]{4}|CHG-[0-9]{4}");
        assert_eq!(config.custom_patterns[0].reports_as, PiiType::Username);
        let back = PiiSettingsText::from_config(&config);
        assert_eq!(back.parse(&ScannerConfig::default()), Ok(config.clone()));

        let scanner = PiiScanner::new(config).expect("valid");
        let spans = scanner.scan("see CHG-1234 from 192.0.2.1");
        assert_eq!(spans.len(), 1, "{spans:?}");
        assert_eq!(spans[0].kind, PiiType::Username);
    }

    #[test]
    fn bad_lines_are_named() {
        let text = PiiSettingsText {
            custom_patterns: "ok | EMAIL | x@y\nno bars here\n".into(),
            ..Default::default()
        };
        let err = text.parse(&ScannerConfig::default()).expect_err("line 2");
        assert_eq!(err.line, 2);
        let text = PiiSettingsText {
            custom_patterns: "n | NOT_A_TYPE | x".into(),
            ..Default::default()
        };
        assert!(text.parse(&ScannerConfig::default()).is_err());
    }
}
