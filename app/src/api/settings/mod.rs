//! Settings that are not tied to one issue.

mod pii_settings;

pub use pii_settings::*;
