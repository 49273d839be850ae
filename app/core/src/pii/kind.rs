//! What a finding is: its type and where it sits in the scanned text.
//!
//! [`PiiType`]'s spelling (`IPV4`, `CREDIT_CARD`, …) is shared with the
//! sample manifest, the wire format, the placeholders written by redaction
//! (`[IPV4_1]`) and the UI, so [`PiiType::as_str`] is its single source.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The kinds of personal data and secrets the scanner reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum PiiType {
    #[serde(rename = "IPV4")]
    Ipv4,
    #[serde(rename = "IPV6")]
    Ipv6,
    #[serde(rename = "EMAIL")]
    Email,
    #[serde(rename = "PHONE")]
    Phone,
    #[serde(rename = "SSN")]
    Ssn,
    #[serde(rename = "CREDIT_CARD")]
    CreditCard,
    #[serde(rename = "MAC_ADDRESS")]
    MacAddress,
    #[serde(rename = "JWT")]
    Jwt,
    #[serde(rename = "BEARER_TOKEN")]
    BearerToken,
    #[serde(rename = "API_KEY")]
    ApiKey,
    #[serde(rename = "PASSWORD")]
    Password,
    #[serde(rename = "URL_TOKEN")]
    UrlToken,
    #[serde(rename = "PRIVATE_KEY")]
    PrivateKey,
    #[serde(rename = "HOSTNAME")]
    Hostname,
    #[serde(rename = "USERNAME")]
    Username,
}

impl PiiType {
    /// Every type, in a stable order.
    pub const ALL: &'static [PiiType] = &[
        PiiType::Ipv4,
        PiiType::Ipv6,
        PiiType::Email,
        PiiType::Phone,
        PiiType::Ssn,
        PiiType::CreditCard,
        PiiType::MacAddress,
        PiiType::Jwt,
        PiiType::BearerToken,
        PiiType::ApiKey,
        PiiType::Password,
        PiiType::UrlToken,
        PiiType::PrivateKey,
        PiiType::Hostname,
        PiiType::Username,
    ];

    /// The stored and wire spelling, also used inside placeholders.
    pub const fn as_str(self) -> &'static str {
        match self {
            PiiType::Ipv4 => "IPV4",
            PiiType::Ipv6 => "IPV6",
            PiiType::Email => "EMAIL",
            PiiType::Phone => "PHONE",
            PiiType::Ssn => "SSN",
            PiiType::CreditCard => "CREDIT_CARD",
            PiiType::MacAddress => "MAC_ADDRESS",
            PiiType::Jwt => "JWT",
            PiiType::BearerToken => "BEARER_TOKEN",
            PiiType::ApiKey => "API_KEY",
            PiiType::Password => "PASSWORD",
            PiiType::UrlToken => "URL_TOKEN",
            PiiType::PrivateKey => "PRIVATE_KEY",
            PiiType::Hostname => "HOSTNAME",
            PiiType::Username => "USERNAME",
        }
    }

    /// The inverse of [`PiiType::as_str`].
    pub fn parse(text: &str) -> Option<Self> {
        PiiType::ALL
            .iter()
            .copied()
            .find(|kind| kind.as_str() == text)
    }

    /// Secrets grant access by themselves; the other types identify people
    /// or machines. Callers use this to decide, for instance, that secrets
    /// are always redacted while addresses may be kept for triage.
    pub const fn is_secret(self) -> bool {
        matches!(
            self,
            PiiType::Jwt
                | PiiType::BearerToken
                | PiiType::ApiKey
                | PiiType::Password
                | PiiType::UrlToken
                | PiiType::PrivateKey
        )
    }
}

impl fmt::Display for PiiType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text was not one of the [`PiiType`] spellings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown PII type {0:?}")]
pub struct UnknownPiiType(pub String);

impl FromStr for PiiType {
    type Err = UnknownPiiType;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        PiiType::parse(text).ok_or_else(|| UnknownPiiType(text.to_owned()))
    }
}

/// Which custom pattern of the scanner's configuration produced a finding:
/// its index in [`crate::pii::ScannerConfig::custom_patterns`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CustomPatternId(pub u16);

/// One finding: `text[start..end]` is a value of type `kind`.
///
/// Offsets are byte offsets into the scanned `&str` (end exclusive) and
/// always fall on char boundaries, so slicing with them never panics.
/// `custom` is set when an operator-defined pattern, rather than a built-in
/// detector, produced the finding; such findings still carry the built-in
/// `kind` the pattern declared, so redaction, policies and numbering need
/// no special case for them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PiiSpan {
    pub kind: PiiType,
    pub start: usize,
    pub end: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom: Option<CustomPatternId>,
}

impl PiiSpan {
    /// A finding of a built-in detector.
    pub const fn new(kind: PiiType, start: usize, end: usize) -> Self {
        Self {
            kind,
            start,
            end,
            custom: None,
        }
    }

    pub const fn len(&self) -> usize {
        self.end.saturating_sub(self.start)
    }

    pub const fn is_empty(&self) -> bool {
        self.end <= self.start
    }

    /// The finding's text, or `None` if the span does not fit `text`.
    pub fn value<'t>(&self, text: &'t str) -> Option<&'t str> {
        text.get(self.start..self.end)
    }

    /// Whether the two spans share at least one byte.
    pub const fn overlaps(&self, other: &PiiSpan) -> bool {
        self.start < other.end && other.start < self.end
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_spelling_is_as_str() {
        for kind in PiiType::ALL {
            let json = serde_json::to_string(kind).expect("test input is valid");
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
            let back: PiiType = serde_json::from_str(&json).expect("test input is valid");
            assert_eq!(back, *kind);
            assert_eq!(
                kind.as_str()
                    .parse::<PiiType>()
                    .expect("test input is valid"),
                *kind
            );
        }
        assert!("CUSTOM".parse::<PiiType>().is_err());
    }

    #[test]
    fn span_serialises_without_custom_when_built_in() {
        let json = serde_json::to_string(&PiiSpan::new(PiiType::Email, 3, 9))
            .expect("test input is valid");
        assert_eq!(json, r#"{"kind":"EMAIL","start":3,"end":9}"#);
        let back: PiiSpan = serde_json::from_str(&json).expect("test input is valid");
        assert_eq!(back, PiiSpan::new(PiiType::Email, 3, 9));
    }
}
