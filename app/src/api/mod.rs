//! Server functions, one per file, grouped by area. Each is a short adapter
//! over a use case in `tftsr-core`.

pub mod documents;
pub mod images;
pub mod integrations;
pub mod issues;
pub mod logs;
pub mod mcp;
pub mod ollama;
pub mod providers;
pub mod settings;
pub mod system;
pub mod triage;

/// Parses an issue id from the wire.
#[cfg(feature = "ssr")]
pub(crate) fn parse_id(text: &str) -> Result<tftsr_core::IssueId, crate::AppError> {
    tftsr_core::IssueId::parse(text.trim())
        .ok_or_else(|| crate::AppError::BadRequest("That is not a valid issue id.".into()))
}
