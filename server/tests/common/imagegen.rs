//! Real images for the tests, made with the `image` crate, with metadata
//! planted where real cameras and tools put it.

#![allow(dead_code)]

use std::io::Cursor;

pub const SECRET_TEXT: &[u8] = b"oncall alice.wong@example.com";
pub const GPS_TEXT: &[u8] = b"GPSLatitude 52.3702N";

pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A real PNG (gradient, with alpha) with a tEXt chunk holding an e-mail.
pub fn png_with_text(width: u32, height: u32) -> Vec<u8> {
    let img = image::RgbaImage::from_fn(width, height, |x, y| {
        image::Rgba([
            (x % 256) as u8,
            (y % 256) as u8,
            90,
            if x < 4 { 0 } else { 255 },
        ])
    });
    let mut png = Vec::new();
    image::DynamicImage::ImageRgba8(img)
        .write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
        .expect("encode png");
    // Insert after IHDR (8 signature + 25 IHDR bytes).
    let mut data = b"Comment\0".to_vec();
    data.extend_from_slice(SECRET_TEXT);
    let mut chunk = (data.len() as u32).to_be_bytes().to_vec();
    let mut typed = b"tEXt".to_vec();
    typed.extend_from_slice(&data);
    chunk.extend_from_slice(&typed);
    chunk.extend_from_slice(&crc32(&typed).to_be_bytes());
    let mut out = png[..33].to_vec();
    out.extend(chunk);
    out.extend_from_slice(&png[33..]);
    out
}

/// A real JPEG with an EXIF APP1 segment holding GPS text.
pub fn jpeg_with_exif(width: u32, height: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x * 3 % 256) as u8, 40, (y * 5 % 256) as u8])
    });
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 90)
        .encode_image(&img)
        .expect("encode jpeg");
    let mut exif = b"Exif\0\0".to_vec();
    exif.extend_from_slice(GPS_TEXT);
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xE1];
    out.extend_from_slice(&((exif.len() + 2) as u16).to_be_bytes());
    out.extend(exif);
    out.extend_from_slice(&jpeg[2..]);
    out
}

pub fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}
