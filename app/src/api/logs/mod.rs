//! Log files: listing, review and redaction. The upload itself is a plain
//! streaming HTTP route on the server (`POST /api/issues/{id}/logs`).

mod add_manual_redaction;
mod allow_finding;
mod apply_redaction;
mod decide_findings;
mod delete_log;
mod list_logs;
mod log_page;
mod log_review;
mod reopen_review;

pub use add_manual_redaction::*;
pub use allow_finding::*;
pub use apply_redaction::*;
pub use decide_findings::*;
pub use delete_log::*;
pub use list_logs::*;
pub use log_page::*;
pub use log_review::*;
pub use reopen_review::*;

/// Parses a log file id from the wire.
#[cfg(feature = "ssr")]
pub(crate) fn parse_file_id(text: &str) -> Result<tftsr_core::logs::LogFileId, crate::AppError> {
    tftsr_core::logs::LogFileId::parse(text.trim())
        .ok_or_else(|| crate::AppError::BadRequest("That is not a valid log file id.".into()))
}
