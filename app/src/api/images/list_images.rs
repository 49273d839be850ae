use leptos::prelude::*;
use tftsr_core::attachments::ImageAttachment;

use crate::AppError;

/// The images of an issue, oldest first.
#[server(prefix = "/api", endpoint = "list_images")]
pub async fn list_images(issue_id: String) -> Result<Vec<ImageAttachment>, AppError> {
    let issue = crate::api::parse_id(&issue_id)?;
    crate::services::blocking(move |s| s.images.list(issue)).await
}
