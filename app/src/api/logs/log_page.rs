use leptos::prelude::*;
use tftsr_core::logs::LogPage;

use crate::AppError;

/// One page of a log: by page number (0-based), or the page holding `line`.
#[server(prefix = "/api", endpoint = "get_log_page")]
pub async fn get_log_page(
    file_id: String,
    page: Option<u32>,
    line: Option<u64>,
) -> Result<LogPage, AppError> {
    use crate::wire::PageAt;
    let file = super::parse_file_id(&file_id)?;
    let at = match (line, page) {
        (Some(line), _) => PageAt::Line(line.max(1)),
        (None, page) => PageAt::Page(page.unwrap_or(0)),
    };
    crate::services::blocking(move |s| s.logs.page(file, at)).await
}
