use leptos::prelude::*;

use crate::AppError;

/// Records the engineer's confirmation that an image shows nothing that
/// must stay on this machine (`cleared`), or withdraws it; only cleared
/// images can be sent anywhere. The form must carry the acknowledgement
/// checkbox: clearing without it is refused.
#[server(prefix = "/api", endpoint = "clear_image")]
pub async fn clear_image(
    issue_id: String,
    image_id: String,
    cleared: bool,
    #[server(default)] acknowledged: Option<String>,
) -> Result<(), AppError> {
    let issue = crate::api::parse_id(&issue_id)?;
    let image = super::parse_image_id(&image_id)?;
    if cleared && acknowledged.as_deref() != Some("on") {
        return Err(AppError::Invalid(vec![crate::error::FieldError {
            field: "acknowledged".into(),
            message: "Tick the box to confirm you checked the image.".into(),
        }]));
    }
    crate::services::blocking(move |s| s.images.set_cleared(issue, image, cleared)).await?;
    leptos_axum::redirect(&format!("/issues/{issue}#images"));
    Ok(())
}
