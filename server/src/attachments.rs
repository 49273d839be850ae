//! Image attachments: checked by content, decoded once to prove they are
//! images and to draw a thumbnail, stored encrypted and content-addressed
//! next to the log blobs, served back only to the signed-in browser, and
//! sent elsewhere only when cleared and without their metadata.
//!
//! Routes: `POST /api/issues/{id}/images` (multipart `files`, several at
//! once; works without JavaScript), `GET /api/images/{id}` (the original)
//! and `GET /api/images/{id}/thumb` (a JPEG of at most 320 pixels a side).

use std::io::{Cursor, Read};
use std::sync::{Arc, Mutex};

use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use image::{DynamicImage, ImageFormat, ImageReader, Limits};
use tftsr_app::AppError;
use tftsr_app::wire::{RefusedFile, UploadReport, UploadedFile};
use tftsr_core::attachments::{
    AttachmentId, ImageAttachment, ImageRefusal, ImageType, MAX_IMAGE_BYTES, MAX_IMAGES_PER_ISSUE,
    THUMB_SIDE, check_dimensions, classify, images_clear_to_send, strip_metadata, thumb_size,
};
use tftsr_core::logs::display_name;
use tftsr_core::{Clock, IssueId, StoreErrorKind};

use crate::blobs::{BlobError, BlobStore};
use crate::logs::upload::{UploadTarget, content_disposition, upload_reply};
use crate::store::Database;
use crate::store::attachments::{Inserted, NewImage};

/// JPEG quality of thumbnails.
const THUMB_QUALITY: u8 = 82;
/// The most memory a decoder may allocate (a 40-megapixel RGBA image is
/// 160 MiB; 16-bit channels double that).
const DECODE_ALLOC_BYTES: u64 = 512 * 1024 * 1024;
/// The most files one upload request may hold.
const MAX_FILES_PER_UPLOAD: usize = 20;

const TARGET: UploadTarget = UploadTarget {
    anchor: "images",
    count: "images_added",
    error: "image_error",
};

/// Why an image was not added.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("{0}")]
    Refused(#[from] ImageRefusal),
    #[error("{0}")]
    Limit(String),
    #[error("{0}")]
    Store(#[from] tftsr_core::StoreError),
    #[error("{0}")]
    Blob(#[from] BlobError),
}

impl From<ImageError> for AppError {
    fn from(e: ImageError) -> Self {
        match e {
            ImageError::Refused(r) => AppError::BadRequest(r.to_string()),
            ImageError::Limit(m) => AppError::Conflict(m),
            ImageError::Store(s) => AppError::from(s),
            ImageError::Blob(b) => blob_error(b),
        }
    }
}

fn blob_error(e: BlobError) -> AppError {
    tracing::error!(error = %e, "image blob");
    match e {
        BlobError::DiskFull => AppError::Unavailable(e.to_string()),
        BlobError::Missing(_) | BlobError::Damaged(_) => AppError::Unavailable(e.to_string()),
        BlobError::Io(_) => AppError::Unavailable(
            "The image could not be read or written; see the server log.".into(),
        ),
    }
}

/// What adding one image did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Added {
    pub id: AttachmentId,
    /// False when the issue already had the same image.
    pub new: bool,
}

/// An image ready to leave: metadata removed, with the name to give it.
#[derive(Clone, Debug)]
pub struct OutgoingImage {
    pub image: ImageAttachment,
    pub file_name: String,
    pub bytes: Vec<u8>,
}

/// The image attachments of every issue.
pub struct Images {
    db: Arc<Database>,
    blobs: BlobStore,
    clock: Arc<dyn Clock>,
    /// One image is decoded and stored at a time: decoding is memory-heavy,
    /// and a blob written by one upload must not be removed under another
    /// that found the same content.
    adding: Mutex<()>,
}

impl Images {
    pub fn new(db: Arc<Database>, blobs: BlobStore, clock: Arc<dyn Clock>) -> Self {
        let images = Self {
            db,
            blobs,
            clock,
            adding: Mutex::new(()),
        };
        // Images of issues deleted since the last run.
        images.collect_garbage();
        images
    }

    /// Removes image blobs no attachment uses any more.
    fn collect_garbage(&self) {
        match self.db.collect_unused_image_blobs() {
            Ok(unused) => {
                for sha in unused {
                    if let Err(e) = self.blobs.remove(&sha) {
                        tracing::warn!(error = %e, "could not remove an unused image blob");
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "could not collect unused image blobs"),
        }
    }

    /// Checks, decodes, thumbnails and stores one image for `issue`.
    /// Blocking: call it on the blocking pool.
    pub fn add(&self, issue: IssueId, raw_name: &str, bytes: &[u8]) -> Result<Added, ImageError> {
        if bytes.len() as u64 > MAX_IMAGE_BYTES {
            return Err(ImageRefusal::TooLarge.into());
        }
        let kind = classify(&bytes[..bytes.len().min(512)])?;
        let _one_at_a_time = self.adding.lock().unwrap_or_else(|p| p.into_inner());
        if self.db.images(issue)?.len() >= MAX_IMAGES_PER_ISSUE as usize {
            return Err(ImageError::Limit(format!(
                "This issue already has {MAX_IMAGES_PER_ISSUE} images, the most it can hold; remove some first."
            )));
        }
        let (width, height, thumb) = thumbnail(kind, bytes)?;

        let mut writer = self.blobs.writer()?;
        writer.write(bytes)?;
        let original = self.blobs.commit(writer)?;
        let mut writer = self.blobs.writer()?;
        writer.write(&thumb)?;
        let small = self.blobs.commit(writer)?;

        let id = AttachmentId::new_at(self.clock.now());
        let record = NewImage {
            id,
            issue_id: issue,
            name: display_name(raw_name),
            image_type: kind,
            size_bytes: bytes.len() as u64,
            width,
            height,
            sha256: original.sha256.clone(),
            thumb_sha256: small.sha256.clone(),
            thumb_size: small.size,
        };
        match self.db.insert_image(&record, self.clock.now()) {
            Ok(Inserted::New) => Ok(Added { id, new: true }),
            Ok(Inserted::AlreadyAttached(id)) => Ok(Added { id, new: false }),
            Err(e) => {
                // Nothing refers to blobs this call created.
                for blob in [&original, &small] {
                    if blob.new
                        && let Err(e) = self.blobs.remove(&blob.sha256)
                    {
                        tracing::warn!(error = %e, "could not remove an orphaned image blob");
                    }
                }
                Err(e.into())
            }
        }
    }

    pub fn list(&self, issue: IssueId) -> Result<Vec<ImageAttachment>, AppError> {
        Ok(self.db.images(issue)?)
    }

    /// An image and its bytes (the original, or the thumbnail).
    pub fn content(
        &self,
        id: AttachmentId,
        thumb: bool,
    ) -> Result<(ImageAttachment, Vec<u8>), AppError> {
        let (image, thumb_sha) = self.db.image(id)?;
        let sha = if thumb {
            thumb_sha
        } else {
            image.sha256.clone()
        };
        let mut reader = self.blobs.reader(&sha).map_err(blob_error)?;
        let mut bytes = Vec::with_capacity(usize::try_from(reader.len()).unwrap_or(0));
        reader
            .read_to_end(&mut bytes)
            .map_err(|e| blob_error(BlobError::Io(e)))?;
        Ok((image, bytes))
    }

    pub fn set_cleared(
        &self,
        issue: IssueId,
        id: AttachmentId,
        cleared: bool,
    ) -> Result<ImageAttachment, AppError> {
        Ok(self
            .db
            .set_image_cleared(issue, id, cleared, self.clock.now())?)
    }

    pub fn delete(&self, issue: IssueId, id: AttachmentId) -> Result<(), AppError> {
        self.db.delete_image(issue, id, self.clock.now())?;
        self.collect_garbage();
        Ok(())
    }

    /// The images `ids` of `issue`, ready to leave the machine: every one
    /// must be cleared (the gate), and each is sent without metadata.
    pub fn outgoing(
        &self,
        issue: IssueId,
        ids: &[AttachmentId],
    ) -> Result<Vec<OutgoingImage>, AppError> {
        let mut images = Vec::with_capacity(ids.len());
        for id in ids {
            let (image, _) = self.db.image(*id).map_err(|e| {
                if e.kind() == StoreErrorKind::NotFound {
                    AppError::NotFound("One of the chosen images no longer exists.".into())
                } else {
                    AppError::from(e)
                }
            })?;
            images.push(image);
        }
        images_clear_to_send(issue, &images).map_err(|e| AppError::Conflict(e.to_string()))?;
        let mut out = Vec::with_capacity(images.len());
        for image in images {
            let (image, bytes) = self.content(image.id, false)?;
            let bytes = strip_metadata(image.image_type, &bytes)
                .map_err(|e| AppError::Conflict(format!("Not sent: “{}”: {e}.", image.name)))?;
            out.push(OutgoingImage {
                file_name: image.export_name(),
                image,
                bytes,
            });
        }
        Ok(out)
    }
}

fn format_of(kind: ImageType) -> ImageFormat {
    match kind {
        ImageType::Png => ImageFormat::Png,
        ImageType::Jpeg => ImageFormat::Jpeg,
        ImageType::Gif => ImageFormat::Gif,
        ImageType::Webp => ImageFormat::WebP,
    }
}

fn reader(kind: ImageType, bytes: &[u8]) -> ImageReader<Cursor<&[u8]>> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format_of(kind));
    let mut limits = Limits::default();
    limits.max_image_width = Some(tftsr_core::attachments::MAX_IMAGE_SIDE);
    limits.max_image_height = Some(tftsr_core::attachments::MAX_IMAGE_SIDE);
    limits.max_alloc = Some(DECODE_ALLOC_BYTES);
    reader.limits(limits);
    reader
}

/// Decodes the image (which proves it is one) and draws its thumbnail:
/// `(width, height, JPEG bytes)`. The dimensions are checked from the
/// header before any pixel is decoded.
pub fn thumbnail(kind: ImageType, bytes: &[u8]) -> Result<(u32, u32, Vec<u8>), ImageRefusal> {
    // The header alone (no pixels), read without the limits so a refusal
    // can say how large the image claims to be.
    let mut header = ImageReader::with_format(Cursor::new(bytes), format_of(kind));
    header.no_limits();
    let (width, height) = header.into_dimensions().map_err(|e| refusal(&e))?;
    check_dimensions(width, height)?;
    let decoded = reader(kind, bytes).decode().map_err(|e| refusal(&e))?;
    let (tw, th) = thumb_size(width, height, THUMB_SIDE);
    let small = if (tw, th) == (width, height) {
        decoded
    } else {
        decoded.thumbnail_exact(tw, th)
    };
    let rgb = on_white(&small);
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, THUMB_QUALITY)
        .encode_image(&rgb)
        .map_err(|e| {
            tracing::warn!(error = %e, "thumbnail encoding");
            ImageRefusal::Damaged
        })?;
    Ok((width, height, out))
}

fn refusal(e: &image::ImageError) -> ImageRefusal {
    tracing::debug!(error = %e, "image refused by the decoder");
    ImageRefusal::Damaged
}

/// Flattens transparency onto white (JPEG has no alpha).
fn on_white(image: &DynamicImage) -> DynamicImage {
    let mut rgba = image.to_rgba8();
    for p in rgba.pixels_mut() {
        let a = u16::from(p[3]);
        for c in 0..3 {
            let v = (u16::from(p[c]) * a + 255 * (255 - a)) / 255;
            p[c] = u8::try_from(v).unwrap_or(u8::MAX);
        }
    }
    DynamicImage::ImageRgba8(rgba).to_rgb8().into()
}

/// `POST /api/issues/{id}/images`, multipart with one or more `files`.
pub async fn upload(
    State(images): State<Arc<Images>>,
    Path(issue): Path<String>,
    headers: HeaderMap,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let refuse = |status: StatusCode, message: String| {
        let report = UploadReport {
            uploaded: Vec::new(),
            refused: vec![RefusedFile {
                name: "upload".into(),
                message,
            }],
        };
        upload_reply(&headers, &issue, status, &report, TARGET)
    };
    let Some(issue_id) = IssueId::parse(&issue) else {
        return refuse(StatusCode::BAD_REQUEST, "That is not an issue id.".into());
    };
    let Ok(mut multipart) = multipart else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "Send the images as a multipart form.".into(),
        );
    };
    let mut report = UploadReport::default();
    loop {
        let mut field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) => {
                let message = if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    format!(
                        "The upload is larger than the limit of {}; send fewer images at once.",
                        tftsr_core::logs::human_bytes(
                            tftsr_core::attachments::MAX_IMAGE_REQUEST_BYTES
                        )
                    )
                } else {
                    "The upload was interrupted; the unfinished image was not kept.".into()
                };
                report.refused.push(RefusedFile {
                    name: "upload".into(),
                    message,
                });
                return upload_reply(&headers, &issue, e.status(), &report, TARGET);
            }
        };
        if field.name() != Some("files") {
            continue;
        }
        let name = display_name(field.file_name().unwrap_or_default());
        if report.uploaded.len() + report.refused.len() >= MAX_FILES_PER_UPLOAD {
            report.refused.push(RefusedFile {
                name,
                message: format!("At most {MAX_FILES_PER_UPLOAD} images per upload."),
            });
            continue;
        }
        // Images are small enough to hold: read it, stopping at the limit.
        let mut bytes = Vec::new();
        let mut refused = None;
        loop {
            match field.chunk().await {
                Ok(Some(chunk)) => {
                    if (bytes.len() + chunk.len()) as u64 > MAX_IMAGE_BYTES {
                        refused = Some(ImageRefusal::TooLarge.to_string());
                        bytes = Vec::new();
                        // Drain the rest of this part without keeping it.
                        while let Ok(Some(_)) = field.chunk().await {}
                        break;
                    }
                    bytes.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => {
                    report.refused.push(RefusedFile {
                        name,
                        message: "The upload was interrupted; the unfinished image was not kept."
                            .into(),
                    });
                    return upload_reply(&headers, &issue, e.status(), &report, TARGET);
                }
            }
        }
        if let Some(message) = refused {
            report.refused.push(RefusedFile { name, message });
            continue;
        }
        let worker = images.clone();
        let raw_name = name.clone();
        let added =
            tokio::task::spawn_blocking(move || worker.add(issue_id, &raw_name, &bytes)).await;
        match added {
            Ok(Ok(added)) => report.uploaded.push(UploadedFile {
                id: added.id.to_string(),
                name,
            }),
            Ok(Err(ImageError::Store(e))) if e.kind() == StoreErrorKind::NotFound => {
                return refuse(StatusCode::NOT_FOUND, e.message().to_owned());
            }
            Ok(Err(e @ (ImageError::Refused(_) | ImageError::Limit(_)))) => {
                report.refused.push(RefusedFile {
                    name,
                    message: e.to_string(),
                });
            }
            Ok(Err(e)) => {
                let status = match &e {
                    ImageError::Blob(BlobError::DiskFull) => StatusCode::INSUFFICIENT_STORAGE,
                    _ => StatusCode::SERVICE_UNAVAILABLE,
                };
                let message = AppError::from(e).to_string();
                report.refused.push(RefusedFile { name, message });
                return upload_reply(&headers, &issue, status, &report, TARGET);
            }
            Err(_) => {
                report.refused.push(RefusedFile {
                    name,
                    message: "The image could not be stored; see the server log.".into(),
                });
                return upload_reply(
                    &headers,
                    &issue,
                    StatusCode::INTERNAL_SERVER_ERROR,
                    &report,
                    TARGET,
                );
            }
        }
    }
    if report.uploaded.is_empty() && report.refused.is_empty() {
        return refuse(StatusCode::BAD_REQUEST, "Choose at least one image.".into());
    }
    let status = if report.uploaded.is_empty() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    upload_reply(&headers, &issue, status, &report, TARGET)
}

/// `GET /api/images/{id}`: the original image.
pub async fn original(State(images): State<Arc<Images>>, Path(id): Path<String>) -> Response {
    serve(images, &id, false).await
}

/// `GET /api/images/{id}/thumb`: its thumbnail (JPEG).
pub async fn thumb(State(images): State<Arc<Images>>, Path(id): Path<String>) -> Response {
    serve(images, &id, true).await
}

async fn serve(images: Arc<Images>, id: &str, thumb: bool) -> Response {
    let Some(id) = AttachmentId::parse(id) else {
        return (StatusCode::BAD_REQUEST, "That is not an image id.\n").into_response();
    };
    let loaded = tokio::task::spawn_blocking(move || images.content(id, thumb)).await;
    let (image, bytes) = match loaded {
        Ok(Ok(pair)) => pair,
        Ok(Err(AppError::NotFound(m))) => return (StatusCode::NOT_FOUND, m).into_response(),
        Ok(Err(e)) => return (StatusCode::SERVICE_UNAVAILABLE, e.to_string()).into_response(),
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    let mime = if thumb {
        "image/jpeg"
    } else {
        image.image_type.as_str()
    };
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    // An id always names the same bytes.
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=31536000, immutable"),
    );
    if let Some(v) = content_disposition("inline", &image.export_name()) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    res
}

impl tftsr_app::services::ImageService for Images {
    fn list(&self, issue: IssueId) -> Result<Vec<ImageAttachment>, AppError> {
        Images::list(self, issue)
    }

    fn set_cleared(
        &self,
        issue: IssueId,
        id: AttachmentId,
        cleared: bool,
    ) -> Result<ImageAttachment, AppError> {
        Images::set_cleared(self, issue, id, cleared)
    }

    fn delete(&self, issue: IssueId, id: AttachmentId) -> Result<(), AppError> {
        Images::delete(self, issue, id)
    }
}
