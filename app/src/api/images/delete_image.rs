use leptos::prelude::*;

use crate::AppError;

/// Removes an image from an issue (its content too, unless another issue
/// has the same image); then returns to the issue.
#[server(prefix = "/api", endpoint = "delete_image")]
pub async fn delete_image(issue_id: String, image_id: String) -> Result<(), AppError> {
    let issue = crate::api::parse_id(&issue_id)?;
    let image = super::parse_image_id(&image_id)?;
    crate::services::blocking(move |s| s.images.delete(issue, image)).await?;
    leptos_axum::redirect(&format!("/issues/{issue}#images"));
    Ok(())
}
