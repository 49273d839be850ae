//! Image attachments: screenshots and photos on an issue.
//!
//! Images cannot be scanned for personal data the way text is, so they get
//! a different rule: an image may leave the machine only after the
//! engineer has looked at it and said it shows nothing that must stay
//! (it is *cleared*), and what leaves is the image without its metadata
//! (EXIF with GPS and camera serials, XMP, text chunks, comments).
//!
//! This module holds the pure parts: recognising a type by its bytes (never
//! by the name), the size limits, the thumbnail box, the metadata removal
//! for PNG, JPEG and WebP, and the gate that says whether an image may be
//! sent. Decoding and storage live in the server.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::Timestamp;
use crate::issue::IssueId;

/// The largest image accepted, per file.
pub const MAX_IMAGE_BYTES: u64 = 20 * 1024 * 1024;
/// The most pixels an image may have (a decompression bomb has many).
pub const MAX_IMAGE_PIXELS: u64 = 40_000_000;
/// The longest side accepted, in pixels.
pub const MAX_IMAGE_SIDE: u32 = 16_384;
/// The longest side of a thumbnail, in pixels.
pub const THUMB_SIDE: u32 = 320;
/// The largest upload request for images (several files at once).
pub const MAX_IMAGE_REQUEST_BYTES: u64 = 64 * 1024 * 1024;
/// The most images one issue holds.
pub const MAX_IMAGES_PER_ISSUE: u32 = 200;

text_enum! {
    /// The image formats TFTSR stores. SVG is not one of them: it is a
    /// document that can carry scripts.
    ImageType {
        Png => "image/png", "PNG";
        Jpeg => "image/jpeg", "JPEG";
        Gif => "image/gif", "GIF";
        Webp => "image/webp", "WebP";
    }
}

impl ImageType {
    /// Recognises the format from the first bytes of the file.
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(Self::Png)
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Self::Jpeg)
        } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
            Some(Self::Gif)
        } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            Some(Self::Webp)
        } else {
            None
        }
    }

    /// The usual file extension, for names given to other systems.
    pub const fn extension(self) -> &'static str {
        match self {
            Self::Png => "png",
            Self::Jpeg => "jpg",
            Self::Gif => "gif",
            Self::Webp => "webp",
        }
    }
}

/// Why an upload is not accepted as an image; the message is for the
/// person who chose the file.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ImageRefusal {
    #[error("The file is empty.")]
    Empty,
    #[error(
        "The image is larger than the limit of {}.",
        crate::logs::human_bytes(MAX_IMAGE_BYTES)
    )]
    TooLarge,
    #[error(
        "SVG is not accepted: it is a document that can carry scripts and links. Export it as PNG."
    )]
    Svg,
    #[error("{0} images are not accepted; save it as PNG or JPEG.")]
    Unsupported(&'static str),
    #[error("This is not an image TFTSR accepts (PNG, JPEG, GIF or WebP), whatever its name says.")]
    NotAnImage,
    #[error(
        "The image is too large: {width} × {height} pixels (at most {} per side and {} megapixels).",
        MAX_IMAGE_SIDE,
        MAX_IMAGE_PIXELS / 1_000_000
    )]
    TooManyPixels { width: u32, height: u32 },
    #[error("The image is damaged or incomplete and cannot be read.")]
    Damaged,
}

/// Recognises the type of an upload from its first bytes, saying what it
/// is when it is a format TFTSR refuses.
pub fn classify(head: &[u8]) -> Result<ImageType, ImageRefusal> {
    if head.is_empty() {
        return Err(ImageRefusal::Empty);
    }
    if let Some(kind) = ImageType::sniff(head) {
        return Ok(kind);
    }
    let text = String::from_utf8_lossy(&head[..head.len().min(512)]).to_ascii_lowercase();
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with("<svg") || (trimmed.starts_with("<?xml") && text.contains("<svg")) {
        return Err(ImageRefusal::Svg);
    }
    let other = if head.starts_with(b"BM") {
        Some("BMP")
    } else if head.starts_with(b"II*\0") || head.starts_with(b"MM\0*") {
        Some("TIFF")
    } else if head.len() >= 12
        && &head[4..8] == b"ftyp"
        && matches!(
            &head[8..12],
            b"heic" | b"heix" | b"mif1" | b"msf1" | b"hevc"
        )
    {
        Some("HEIC")
    } else if head.len() >= 12 && &head[4..8] == b"ftyp" && &head[8..12] == b"avif" {
        Some("AVIF")
    } else if head.starts_with(b"%PDF") {
        Some("PDF")
    } else {
        None
    };
    Err(other.map_or(ImageRefusal::NotAnImage, ImageRefusal::Unsupported))
}

/// Checks decoded dimensions against the limits.
pub fn check_dimensions(width: u32, height: u32) -> Result<(), ImageRefusal> {
    if width == 0 || height == 0 {
        return Err(ImageRefusal::Damaged);
    }
    if width > MAX_IMAGE_SIDE
        || height > MAX_IMAGE_SIDE
        || u64::from(width) * u64::from(height) > MAX_IMAGE_PIXELS
    {
        return Err(ImageRefusal::TooManyPixels { width, height });
    }
    Ok(())
}

/// The size of a thumbnail of a `width` × `height` image whose longest side
/// is at most `side`, keeping the aspect ratio; small images keep their
/// size. Neither side is ever 0.
pub fn thumb_size(width: u32, height: u32, side: u32) -> (u32, u32) {
    let (w, h, side) = (u64::from(width), u64::from(height), u64::from(side.max(1)));
    if w <= side && h <= side {
        return (width.max(1), height.max(1));
    }
    let (tw, th) = if w >= h {
        (side, (h * side + w / 2) / w)
    } else {
        ((w * side + h / 2) / h, side)
    };
    // Both are at most `side`, a u32.
    (
        u32::try_from(tw.max(1)).unwrap_or(1),
        u32::try_from(th.max(1)).unwrap_or(1),
    )
}

/// A UUID v7 naming one attachment.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AttachmentId(uuid::Uuid);

impl AttachmentId {
    pub fn new_at(now: Timestamp) -> Self {
        Self(crate::issue::uuid_v7_at(now))
    }

    pub fn parse(text: &str) -> Option<Self> {
        uuid::Uuid::try_parse(text).ok().map(Self)
    }
}

impl fmt::Display for AttachmentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

impl fmt::Debug for AttachmentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AttachmentId({})", self.0.hyphenated())
    }
}

/// An image attached to an issue, as listed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageAttachment {
    pub id: AttachmentId,
    pub issue_id: IssueId,
    /// The display name (never a path).
    pub name: String,
    pub image_type: ImageType,
    pub size_bytes: u64,
    pub width: u32,
    pub height: u32,
    /// SHA-256 of the original bytes.
    pub sha256: String,
    pub uploaded_at: Timestamp,
    /// When the engineer confirmed that the image shows nothing that must
    /// stay on this machine; until then it cannot be sent anywhere.
    pub cleared_at: Option<Timestamp>,
}

impl ImageAttachment {
    /// The name to give the image elsewhere: the display name with the
    /// extension of its real type.
    pub fn export_name(&self) -> String {
        let ext = self.image_type.extension();
        let stem = match self.name.rsplit_once('.') {
            Some((stem, ext))
                if !stem.is_empty()
                    && ext.len() <= 5
                    && ext.chars().all(|c| c.is_ascii_alphanumeric()) =>
            {
                stem
            }
            _ => self.name.as_str(),
        };
        let safe: String = stem
            .chars()
            .map(|c| {
                if c.is_alphanumeric() || matches!(c, '-' | '_' | ' ') {
                    c
                } else {
                    '_'
                }
            })
            .take(80)
            .collect();
        let safe = safe.trim_matches(|c| c == '_' || c == ' ');
        if safe.is_empty() {
            format!("image-{}.{ext}", &self.sha256[..self.sha256.len().min(8)])
        } else {
            format!("{safe}.{ext}")
        }
    }
}

/// Why an image may not leave the machine.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ImageGateError {
    #[error(
        "Not sent: the image “{0}” has not been checked. Images cannot be scanned for personal \
         data; open it, make sure it shows nothing that must stay here, and confirm."
    )]
    NotCleared(String),
    #[error("Not sent: the image “{0}” belongs to another issue.")]
    OtherIssue(String),
}

/// The one place that decides whether images may be sent with something
/// for `issue`: every one must belong to the issue and be cleared.
pub fn images_clear_to_send(
    issue: IssueId,
    images: &[ImageAttachment],
) -> Result<(), ImageGateError> {
    for image in images {
        if image.issue_id != issue {
            return Err(ImageGateError::OtherIssue(image.name.clone()));
        }
        if image.cleared_at.is_none() {
            return Err(ImageGateError::NotCleared(image.name.clone()));
        }
    }
    Ok(())
}

/// Why metadata could not be removed: the file's structure is not what its
/// type says.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the {0} file's structure is damaged; its metadata cannot be removed safely")]
pub struct StripError(pub &'static str);

/// The image without the metadata that can identify people, places or
/// devices: EXIF (GPS, serial numbers), XMP, IPTC, ICC-free text chunks and
/// comments. Pixels are untouched (no re-encoding). GIF has no standard
/// place for such data beyond comments, which are removed too.
pub fn strip_metadata(kind: ImageType, bytes: &[u8]) -> Result<Vec<u8>, StripError> {
    match kind {
        ImageType::Png => strip_png(bytes),
        ImageType::Jpeg => strip_jpeg(bytes),
        ImageType::Webp => strip_webp(bytes),
        ImageType::Gif => strip_gif(bytes),
    }
}

fn be32(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at + 4)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

fn le32(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at + 4)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// PNG: keeps every chunk except text (`tEXt`, `zTXt`, `iTXt`), EXIF
/// (`eXIf`) and the modification time (`tIME`).
fn strip_png(bytes: &[u8]) -> Result<Vec<u8>, StripError> {
    const BAD: StripError = StripError("PNG");
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(bytes.get(..8).ok_or(BAD)?);
    let mut at = 8;
    loop {
        let len = usize::try_from(be32(bytes, at).ok_or(BAD)?).map_err(|_| BAD)?;
        let end = at
            .checked_add(12)
            .and_then(|n| n.checked_add(len))
            .ok_or(BAD)?;
        let chunk = bytes.get(at..end).ok_or(BAD)?;
        let kind = &chunk[4..8];
        if !matches!(kind, b"tEXt" | b"zTXt" | b"iTXt" | b"eXIf" | b"tIME") {
            out.extend_from_slice(chunk);
        }
        at = end;
        if kind == b"IEND" {
            return Ok(out);
        }
    }
}

/// JPEG: keeps the frame, tables and scan data, and APP0 (JFIF) and APP14
/// (Adobe colour transform) which decoders need; drops APP1–APP13 and
/// APP15 (EXIF, XMP, IPTC, maker notes) and comments.
fn strip_jpeg(bytes: &[u8]) -> Result<Vec<u8>, StripError> {
    const BAD: StripError = StripError("JPEG");
    if !bytes.starts_with(&[0xFF, 0xD8]) {
        return Err(BAD);
    }
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(&[0xFF, 0xD8]);
    let mut at = 2;
    loop {
        // Markers may be padded with 0xFF fill bytes.
        while bytes.get(at) == Some(&0xFF) && bytes.get(at + 1) == Some(&0xFF) {
            at += 1;
        }
        if bytes.get(at) != Some(&0xFF) {
            return Err(BAD);
        }
        let marker = *bytes.get(at + 1).ok_or(BAD)?;
        match marker {
            // Start of scan: everything from here (entropy-coded data, any
            // further scans, EOI) is image data; copy the rest as it is.
            0xDA => {
                out.extend_from_slice(&bytes[at..]);
                return Ok(out);
            }
            0xD9 => {
                out.extend_from_slice(&[0xFF, 0xD9]);
                return Ok(out);
            }
            // Markers without a length.
            0x01 | 0xD0..=0xD7 => {
                out.extend_from_slice(&bytes[at..at + 2]);
                at += 2;
            }
            _ => {
                let hi = *bytes.get(at + 2).ok_or(BAD)?;
                let lo = *bytes.get(at + 3).ok_or(BAD)?;
                let len = usize::from(u16::from_be_bytes([hi, lo]));
                if len < 2 {
                    return Err(BAD);
                }
                let end = at + 2 + len;
                let segment = bytes.get(at..end).ok_or(BAD)?;
                let drop = matches!(marker, 0xE1..=0xED | 0xEF | 0xFE);
                if !drop {
                    out.extend_from_slice(segment);
                }
                at = end;
            }
        }
    }
}

/// WebP: drops the `EXIF` and `XMP ` chunks of an extended file and clears
/// their flags in the `VP8X` header; the RIFF size is rewritten.
fn strip_webp(bytes: &[u8]) -> Result<Vec<u8>, StripError> {
    const BAD: StripError = StripError("WebP");
    if bytes.len() < 12 || &bytes[..4] != b"RIFF" || &bytes[8..12] != b"WEBP" {
        return Err(BAD);
    }
    let riff_end = usize::try_from(le32(bytes, 4).ok_or(BAD)?)
        .map_err(|_| BAD)?
        .checked_add(8)
        .ok_or(BAD)?;
    // A file shorter than its RIFF header says is truncated.
    let body = bytes.get(12..riff_end).ok_or(BAD)?;
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(b"RIFF\0\0\0\0WEBP");
    let mut at = 0;
    while at < body.len() {
        let size = usize::try_from(le32(body, at + 4).ok_or(BAD)?).map_err(|_| BAD)?;
        let padded = size + (size & 1);
        let end = at
            .checked_add(8)
            .and_then(|n| n.checked_add(padded))
            .ok_or(BAD)?;
        // Only the final chunk's padding byte may be missing.
        let end = if end == body.len() + 1 && size % 2 == 1 {
            body.len()
        } else {
            end
        };
        let chunk = body.get(at..end).ok_or(BAD)?;
        let fourcc = body.get(at..at + 4).ok_or(BAD)?;
        match fourcc {
            b"EXIF" | b"XMP " => {}
            b"VP8X" => {
                let start = out.len();
                out.extend_from_slice(chunk);
                // Flags byte: bit 3 EXIF, bit 2 XMP.
                if let Some(flags) = out.get_mut(start + 8) {
                    *flags &= !0b0000_1100;
                }
            }
            _ => out.extend_from_slice(chunk),
        }
        at = end;
    }
    let riff_size = u32::try_from(out.len() - 8).map_err(|_| BAD)?;
    out[4..8].copy_from_slice(&riff_size.to_le_bytes());
    Ok(out)
}

/// GIF: drops comment extensions (0x21 0xFE) and keeps everything else.
fn strip_gif(bytes: &[u8]) -> Result<Vec<u8>, StripError> {
    const BAD: StripError = StripError("GIF");
    if bytes.len() < 13 {
        return Err(BAD);
    }
    let mut out = Vec::with_capacity(bytes.len());
    let flags = bytes[10];
    let mut at = 13;
    if flags & 0x80 != 0 {
        at += 3 * (1usize << ((flags & 0x07) + 1));
    }
    out.extend_from_slice(bytes.get(..at).ok_or(BAD)?);
    // Skips a chain of data sub-blocks starting at `at`, returning the
    // position after the terminator.
    let sub_blocks = |mut at: usize| -> Result<usize, StripError> {
        loop {
            let n = usize::from(*bytes.get(at).ok_or(BAD)?);
            at += 1;
            if n == 0 {
                return Ok(at);
            }
            at += n;
        }
    };
    loop {
        match *bytes.get(at).ok_or(BAD)? {
            0x3B => {
                out.push(0x3B);
                return Ok(out);
            }
            0x21 => {
                let label = *bytes.get(at + 1).ok_or(BAD)?;
                let end = sub_blocks(at + 2)?;
                if label != 0xFE {
                    out.extend_from_slice(bytes.get(at..end).ok_or(BAD)?);
                }
                at = end;
            }
            0x2C => {
                let packed = *bytes.get(at + 9).ok_or(BAD)?;
                let mut end = at + 10;
                if packed & 0x80 != 0 {
                    end += 3 * (1usize << ((packed & 0x07) + 1));
                }
                // LZW minimum code size, then the data sub-blocks.
                let end = sub_blocks(end + 1)?;
                out.extend_from_slice(bytes.get(at..end).ok_or(BAD)?);
                at = end;
            }
            _ => return Err(BAD),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut c = (data.len() as u32).to_be_bytes().to_vec();
        c.extend_from_slice(kind);
        c.extend_from_slice(data);
        c.extend_from_slice(&[0, 0, 0, 0]); // CRC is not checked here
        c
    }

    fn png_with_text() -> Vec<u8> {
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        png.extend(png_chunk(b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0]));
        png.extend(png_chunk(b"tEXt", b"Author\0alice@example.com"));
        png.extend(png_chunk(b"eXIf", b"MM\0*GPS 52.37N"));
        png.extend(png_chunk(b"IDAT", b"pixels"));
        png.extend(png_chunk(b"iTXt", b"Comment\0\0\0\0\0host db-7"));
        png.extend(png_chunk(b"IEND", b""));
        png
    }

    fn contains(hay: &[u8], needle: &[u8]) -> bool {
        hay.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn types_are_recognised_by_content_not_name() {
        assert_eq!(ImageType::sniff(&png_with_text()), Some(ImageType::Png));
        assert_eq!(
            ImageType::sniff(&[0xFF, 0xD8, 0xFF, 0xE0]),
            Some(ImageType::Jpeg)
        );
        assert_eq!(ImageType::sniff(b"GIF89a\x01\0"), Some(ImageType::Gif));
        assert_eq!(
            ImageType::sniff(b"RIFF\x10\0\0\0WEBPVP8 "),
            Some(ImageType::Webp)
        );
        assert_eq!(ImageType::sniff(b"RIFF\x10\0\0\0WAVEfmt "), None);
        assert_eq!(classify(b""), Err(ImageRefusal::Empty));
        assert_eq!(
            classify(b"  <?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\">"),
            Err(ImageRefusal::Svg)
        );
        assert_eq!(classify(b"<svg onload=alert(1)>"), Err(ImageRefusal::Svg));
        assert_eq!(
            classify(b"BM\x36\0\0\0"),
            Err(ImageRefusal::Unsupported("BMP"))
        );
        assert_eq!(
            classify(b"\0\0\0\x18ftypheic\0\0\0\0"),
            Err(ImageRefusal::Unsupported("HEIC"))
        );
        assert_eq!(classify(b"%PDF-1.7"), Err(ImageRefusal::Unsupported("PDF")));
        assert_eq!(
            classify(b"2026-11-24 ERROR db timeout"),
            Err(ImageRefusal::NotAnImage)
        );
        assert_eq!(
            ImageType::parse("image/jpeg").map(ImageType::extension),
            Some("jpg")
        );
    }

    #[test]
    fn dimensions_are_limited() {
        assert_eq!(check_dimensions(1920, 1080), Ok(()));
        assert_eq!(check_dimensions(0, 10), Err(ImageRefusal::Damaged));
        assert!(matches!(
            check_dimensions(16_385, 10),
            Err(ImageRefusal::TooManyPixels { .. })
        ));
        // Within the side limit, over the pixel limit.
        assert!(check_dimensions(10_000, 10_000).is_err());
        assert!(
            ImageRefusal::TooManyPixels {
                width: 20000,
                height: 20000
            }
            .to_string()
            .contains("20000 × 20000")
        );
    }

    #[test]
    fn thumbnails_keep_the_aspect_ratio() {
        assert_eq!(thumb_size(1920, 1080, 320), (320, 180));
        assert_eq!(thumb_size(1080, 1920, 320), (180, 320));
        assert_eq!(thumb_size(100, 50, 320), (100, 50));
        assert_eq!(thumb_size(16_000, 1, 320), (320, 1));
        assert_eq!(thumb_size(320, 320, 320), (320, 320));
        assert_eq!(thumb_size(u32::MAX, u32::MAX / 2, 320), (320, 160));
    }

    #[test]
    fn png_text_exif_and_time_chunks_are_removed() {
        let png = png_with_text();
        let out = strip_metadata(ImageType::Png, &png).expect("strips");
        assert!(!contains(&out, b"alice@example.com"));
        assert!(!contains(&out, b"GPS"));
        assert!(!contains(&out, b"db-7"));
        assert!(
            contains(&out, b"IHDR")
                && contains(&out, b"pixels")
                && out.ends_with(&png_chunk(b"IEND", b""))
        );
        // Truncated input is an error, not a panic or a partial image.
        assert_eq!(
            strip_metadata(ImageType::Png, &png[..png.len() - 6]),
            Err(StripError("PNG"))
        );
        let mut huge = b"\x89PNG\r\n\x1a\n".to_vec();
        huge.extend_from_slice(&[0xFF, 0xFF, 0xFF, 0xFF]);
        huge.extend_from_slice(b"IHDR");
        assert!(strip_metadata(ImageType::Png, &huge).is_err());
    }

    fn jpeg_segment(marker: u8, data: &[u8]) -> Vec<u8> {
        let mut s = vec![0xFF, marker];
        s.extend_from_slice(&((data.len() + 2) as u16).to_be_bytes());
        s.extend_from_slice(data);
        s
    }

    #[test]
    fn jpeg_exif_xmp_and_comments_are_removed() {
        let mut jpeg = vec![0xFF, 0xD8];
        jpeg.extend(jpeg_segment(0xE0, b"JFIF\0\x01\x02"));
        jpeg.extend(jpeg_segment(0xE1, b"Exif\0\0GPSLatitude 52.37"));
        jpeg.extend(jpeg_segment(
            0xE1,
            b"http://ns.adobe.com/xap/1.0/\0<x:creator>alice</x:creator>",
        ));
        jpeg.extend(jpeg_segment(0xED, b"Photoshop 3.0\0IPTC byline bob"));
        jpeg.extend(jpeg_segment(0xFE, b"taken on host db-7"));
        jpeg.extend(jpeg_segment(0xEE, b"Adobe\0\x64"));
        jpeg.extend(jpeg_segment(0xDB, &[0; 65]));
        jpeg.extend(jpeg_segment(0xC0, &[8, 0, 1, 0, 1, 1, 1, 0x11, 0]));
        jpeg.extend(jpeg_segment(0xDA, &[1, 1, 0, 0, 0x3F, 0]));
        jpeg.extend_from_slice(&[0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD9]);
        let out = strip_metadata(ImageType::Jpeg, &jpeg).expect("strips");
        for gone in [&b"GPSLatitude"[..], b"alice", b"bob", b"db-7"] {
            assert!(!contains(&out, gone), "{}", String::from_utf8_lossy(gone));
        }
        assert!(contains(&out, b"JFIF") && contains(&out, b"Adobe"));
        assert!(out.ends_with(&[0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD9]));
        assert!(strip_metadata(ImageType::Jpeg, &jpeg[..20]).is_err());
        assert!(strip_metadata(ImageType::Jpeg, b"\xFF\xD8\xFF\xE1\x00\x01").is_err());
    }

    #[test]
    fn webp_exif_and_xmp_chunks_are_removed_and_sizes_fixed() {
        let chunk = |fourcc: &[u8; 4], data: &[u8]| {
            let mut c = fourcc.to_vec();
            c.extend_from_slice(&(data.len() as u32).to_le_bytes());
            c.extend_from_slice(data);
            if data.len() % 2 == 1 {
                c.push(0);
            }
            c
        };
        let mut body = b"WEBP".to_vec();
        body.extend(chunk(b"VP8X", &[0b0000_1100, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
        body.extend(chunk(b"VP8L", b"pixels!"));
        body.extend(chunk(b"EXIF", b"GPS 52.37N"));
        body.extend(chunk(b"XMP ", b"<creator>alice</creator>"));
        let mut webp = b"RIFF".to_vec();
        webp.extend_from_slice(&(body.len() as u32).to_le_bytes());
        webp.extend(body);
        let out = strip_metadata(ImageType::Webp, &webp).expect("strips");
        assert!(!contains(&out, b"GPS") && !contains(&out, b"alice"));
        assert!(contains(&out, b"pixels!"));
        assert_eq!(le32(&out, 4), Some((out.len() - 8) as u32));
        assert_eq!(
            out[20] & 0b1100,
            0,
            "the VP8X flags no longer announce EXIF/XMP"
        );
        assert!(strip_metadata(ImageType::Webp, &webp[..30]).is_err());
    }

    #[test]
    fn gif_comments_are_removed() {
        let mut gif = b"GIF89a\x01\0\x01\0\x80\0\0".to_vec();
        gif.extend_from_slice(&[0, 0, 0, 255, 255, 255]); // 2-colour table
        gif.extend_from_slice(b"\x21\xFE\x0Aalice@corp\0"); // comment
        gif.extend_from_slice(b"\x21\xF9\x04\0\0\0\0\0"); // graphic control
        gif.extend_from_slice(b"\x2C\0\0\0\0\x01\0\x01\0\0\x02\x02\x44\x01\0");
        gif.push(0x3B);
        let out = strip_metadata(ImageType::Gif, &gif).expect("strips");
        assert!(!contains(&out, b"alice"));
        assert_eq!(out.len(), gif.len() - 14, "the 14-byte comment block");
        assert!(contains(&out, b"\x21\xF9") && out.ends_with(&[0x3B]));
        assert!(strip_metadata(ImageType::Gif, &gif[..gif.len() - 3]).is_err());
    }

    fn image(issue: IssueId, name: &str, cleared: bool) -> ImageAttachment {
        let now = Timestamp::parse("2026-11-24T01:00:00.000Z").expect("time");
        ImageAttachment {
            id: AttachmentId::new_at(now),
            issue_id: issue,
            name: name.into(),
            image_type: ImageType::Png,
            size_bytes: 10,
            width: 1,
            height: 1,
            sha256: "ab".repeat(32),
            uploaded_at: now,
            cleared_at: cleared.then_some(now),
        }
    }

    #[test]
    fn only_cleared_images_of_the_issue_may_leave() {
        let now = Timestamp::parse("2026-11-24T01:00:00.000Z").expect("time");
        let issue = IssueId::new_at(now);
        let other = IssueId::new_at(now);
        assert_eq!(images_clear_to_send(issue, &[]), Ok(()));
        assert_eq!(
            images_clear_to_send(issue, &[image(issue, "a.png", true)]),
            Ok(())
        );
        let err = images_clear_to_send(
            issue,
            &[
                image(issue, "a.png", true),
                image(issue, "grafana.png", false),
            ],
        )
        .expect_err("refused");
        assert_eq!(err, ImageGateError::NotCleared("grafana.png".into()));
        assert!(err.to_string().contains("has not been checked"));
        assert_eq!(
            images_clear_to_send(issue, &[image(other, "x.png", true)]),
            Err(ImageGateError::OtherIssue("x.png".into()))
        );
    }

    #[test]
    fn export_names_carry_the_real_extension() {
        let now = Timestamp::parse("2026-11-24T01:00:00.000Z").expect("time");
        let issue = IssueId::new_at(now);
        let mut a = image(issue, "Screenshot 2026-11-24.jpg", true);
        assert_eq!(a.export_name(), "Screenshot 2026-11-24.png");
        a.name = "../../etc/<passwd>".into();
        assert_eq!(a.export_name(), "etc__passwd.png");
        a.name = "…".into();
        assert_eq!(a.export_name(), "image-abababab.png");
        a.name = ".".into();
        assert_eq!(a.export_name(), "image-abababab.png");
    }
}
