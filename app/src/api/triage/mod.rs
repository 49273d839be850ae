//! The 5-Whys triage of an issue: the conversation, its why-steps, and
//! sending a message (through the PII gate, on the server).

mod conversation;
mod steps;

pub use conversation::*;
pub use steps::*;

/// Parses an optional provider id from the wire ("" means the default).
#[cfg(feature = "ssr")]
pub(crate) fn parse_provider(
    text: Option<String>,
) -> Result<Option<tftsr_core::ai::ProviderId>, crate::AppError> {
    match text.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) => tftsr_core::ai::ProviderId::parse(t)
            .map(Some)
            .ok_or_else(|| crate::AppError::BadRequest("That is not a valid provider id.".into())),
    }
}
