//! # PII and secret detection, and consistent redaction
//!
//! Incident logs carry personal data (addresses, e-mails, phone numbers,
//! card numbers, login names, machine names) and secrets (passwords, API
//! keys, tokens, private keys). Before a log is stored, shown or sent to an
//! assistant, TFTSR finds those values and replaces each with a numbered
//! placeholder that is the same wherever the value recurs, so the redacted
//! log still tells the story ("`[IPV4_2]` stopped answering").
//!
//! The module is pure (no IO, no threads) and builds for
//! `wasm32-unknown-unknown`, so the browser can preview exactly what the
//! server will redact.
//!
//! * [`PiiScanner`] — built once from a [`ScannerConfig`]; [`PiiScanner::scan`]
//!   returns sorted, non-overlapping [`PiiSpan`]s (byte offsets on char
//!   boundaries). On overlap the most specific evidence wins: a private-key
//!   block, then a JWT, a vendor API key, a bearer token, a password.
//! * [`PseudonymMap`], [`redact`], [`reidentify`] — placeholders
//!   (`[EMAIL_3]`), stable across calls and serialisable.
//! * [`StreamScanner`] — the same findings for text fed in chunks, in
//!   bounded memory.
//!
//! Detection favours evidence over guessing: types without a tell-tale
//! format (host and user names) are reported only where a log format puts
//! them (the syslog host field, `Accepted password for <user>`, …), and
//! look-alikes such as version numbers, OIDs, UUIDs, hashes, masked values
//! and system accounts are deliberately left alone.

mod config;
mod detect;
mod kind;
mod literal;
mod prefilter;
mod pseudonym;
mod resolve;
mod scanner;
mod stream;
mod text;

pub use config::{
    Allowlist, CustomPattern, MAX_PATTERN_BYTES, MAX_PATTERNS, PatternRole, PiiConfigError,
    ScannerConfig,
};
pub use kind::{CustomPatternId, PiiSpan, PiiType, UnknownPiiType};
pub use pseudonym::{PseudonymMap, placeholder, redact, reidentify};
pub use scanner::PiiScanner;
pub use stream::{ScannedSegment, StreamLimits, StreamScanner};
