//! Images attached to an issue: listing, clearing to leave the machine,
//! removal. Upload and viewing are plain HTTP routes on the server
//! (`POST /api/issues/{id}/images`, `GET /api/images/{id}[/thumb]`).

mod clear_image;
mod delete_image;
mod list_images;

pub use clear_image::*;
pub use delete_image::*;
pub use list_images::*;

/// Parses an attachment id from the wire.
#[cfg(feature = "ssr")]
pub(crate) fn parse_image_id(
    text: &str,
) -> Result<tftsr_core::attachments::AttachmentId, crate::AppError> {
    tftsr_core::attachments::AttachmentId::parse(text.trim())
        .ok_or_else(|| crate::AppError::BadRequest("That is not a valid image id.".into()))
}
