//! Image attachments through the real router, encrypted blob store and
//! SQLCipher: type by content, limits, thumbnails, encryption at rest,
//! de-duplication, the clearance gate, metadata removal, removal.

mod common;

use std::path::Path;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::web::{HOST, ORIGIN, TOKEN, body_bytes, harness, multipart, send, upload_request_to};
use tftsr_app::services::Services;
use tftsr_core::IssueStore;
use tftsr_core::attachments::{AttachmentId, ImageType, MAX_IMAGE_BYTES};
use tftsr_server::security::SESSION_COOKIE;

use common::imagegen::{GPS_TEXT, SECRET_TEXT, contains, crc32, jpeg_with_exif, png_with_text};

/// Every byte of every file under `dir`.
fn files_under(dir: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else if let Ok(bytes) = std::fs::read(&path) {
            out.push((path, bytes));
        }
    }
    out
}

fn get(path: &str) -> Request<Body> {
    Request::get(path)
        .header(header::HOST, HOST)
        .header(header::COOKIE, format!("{SESSION_COOKIE}={TOKEN}"))
        .body(Body::empty())
        .expect("request")
}

async fn upload_images(
    h: &common::web::Harness,
    issue: &str,
    files: &[(&str, &[u8])],
) -> (StatusCode, serde_json::Value) {
    let res = send(
        &h.app,
        upload_request_to(
            &format!("/api/issues/{issue}/images"),
            multipart(files),
            true,
        ),
    )
    .await;
    let status = res.status();
    let json = serde_json::from_slice(&body_bytes(res).await).expect("JSON report");
    (status, json)
}

fn images_of(
    services: &Services,
    issue: tftsr_core::IssueId,
) -> Vec<tftsr_core::attachments::ImageAttachment> {
    services.images.list(issue).expect("list")
}

fn refusal(report: &serde_json::Value, name: &str) -> String {
    report["refused"]
        .as_array()
        .expect("refused")
        .iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("{name} not refused: {report}"))["message"]
        .as_str()
        .expect("message")
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn images_are_typed_by_content_stored_encrypted_and_served() {
    let h = harness();
    let issue = h.issue.to_string();
    let png = png_with_text(1200, 600);
    let jpeg = jpeg_with_exif(200, 100);
    // The names lie about the types.
    let (status, report) =
        upload_images(&h, &issue, &[("grafana.txt", &png), ("photo.png", &jpeg)]).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["uploaded"].as_array().map(Vec::len), Some(2));

    let list = images_of(&h.services, h.issue);
    assert_eq!(list.len(), 2);
    let (p, j) = (&list[0], &list[1]);
    assert_eq!(
        (p.image_type, p.width, p.height),
        (ImageType::Png, 1200, 600)
    );
    assert_eq!(
        (j.image_type, j.width, j.height),
        (ImageType::Jpeg, 200, 100)
    );
    assert_eq!(p.size_bytes, png.len() as u64);
    assert!(p.cleared_at.is_none() && j.cleared_at.is_none());
    assert_eq!(p.export_name(), "grafana.png");

    // The original comes back byte for byte, with its real type.
    let res = send(&h.app, get(&format!("/api/images/{}", p.id))).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()[header::CONTENT_TYPE], "image/png");
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert!(
        res.headers()[header::CONTENT_DISPOSITION]
            .to_str()
            .expect("ascii")
            .starts_with("inline;")
    );
    assert_eq!(body_bytes(res).await, png);

    // The thumbnail is a JPEG within 320 × 320 with the aspect ratio kept.
    let res = send(&h.app, get(&format!("/api/images/{}/thumb", p.id))).await;
    assert_eq!(res.headers()[header::CONTENT_TYPE], "image/jpeg");
    let thumb = image::load_from_memory(&body_bytes(res).await).expect("thumbnail decodes");
    assert_eq!((thumb.width(), thumb.height()), (320, 160));
    // Transparent pixels were put on white, not black.
    let corner = thumb.to_rgb8().get_pixel(0, 80).0;
    assert!(corner.iter().all(|c| *c > 200), "{corner:?}");
    // A small image keeps its size.
    let res = send(&h.app, get(&format!("/api/images/{}/thumb", j.id))).await;
    let small = image::load_from_memory(&body_bytes(res).await).expect("decodes");
    assert_eq!((small.width(), small.height()), (200, 100));

    // At rest, nothing of the images is readable.
    let stored = files_under(&h.t.dir.path().join("blobs"));
    assert!(stored.len() >= 4, "two images and two thumbnails");
    for (path, bytes) in &stored {
        assert!(!contains(bytes, SECRET_TEXT), "{path:?}");
        assert!(!contains(bytes, GPS_TEXT), "{path:?}");
        assert!(
            !contains(bytes, b"IHDR") && !contains(bytes, b"JFIF"),
            "{path:?}"
        );
    }

    // The same image again is the same attachment.
    let (status, report) = upload_images(&h, &issue, &[("again.png", &png)]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(report["uploaded"][0]["id"], p.id.to_string());
    assert_eq!(images_of(&h.services, h.issue).len(), 2);

    // Timeline and audit.
    let timeline = h.t.db.timeline(h.issue).expect("timeline");
    let attached: Vec<_> = timeline
        .iter()
        .filter(|e| e.event_type == "image_attached")
        .collect();
    assert_eq!(attached.len(), 2);
    assert!(attached[0].description.contains("1200 × 600"));
    let audit = h.t.db.recent_audit(50).expect("audit");
    let entry = audit
        .iter()
        .find(|a| a.action == "image_attached" && a.entity_id == p.id.to_string())
        .expect("audited");
    assert_eq!(entry.details["sha256"], p.sha256);
    assert_eq!(entry.details["type"], "image/png");

    // Unknown and malformed ids.
    let res = send(
        &h.app,
        get(&format!(
            "/api/images/{}",
            AttachmentId::new_at(p.uploaded_at)
        )),
    )
    .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = send(&h.app, get("/api/images/..%2F..%2Fetc")).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_images_are_refused_with_a_clear_reason_and_nothing_is_kept() {
    let h = harness();
    let issue = h.issue.to_string();
    let png = png_with_text(64, 64);
    // A PNG header announcing 20000 × 20000 pixels: refused from the header,
    // before anything is decoded.
    let mut bomb = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend_from_slice(&20_000u32.to_be_bytes());
    ihdr.extend_from_slice(&20_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
    bomb.extend_from_slice(&13u32.to_be_bytes());
    bomb.extend_from_slice(&ihdr);
    bomb.extend_from_slice(&crc32(&ihdr).to_be_bytes());
    // A little compressed data and the end, as a real file would have.
    for (kind, data) in [
        (&b"IDAT"[..], &[0x78, 0x9c, 0x03, 0x00][..]),
        (b"IEND", &[]),
    ] {
        let mut typed = kind.to_vec();
        typed.extend_from_slice(data);
        bomb.extend_from_slice(&(data.len() as u32).to_be_bytes());
        bomb.extend_from_slice(&typed);
        bomb.extend_from_slice(&crc32(&typed).to_be_bytes());
    }
    let svg =
        b"<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>";
    let too_big = {
        let mut b = png.clone();
        b.resize(MAX_IMAGE_BYTES as usize + 1, 0);
        b
    };
    let (status, report) = upload_images(
        &h,
        &issue,
        &[
            ("diagram.svg", svg),
            ("notes.png", b"2026-11-24 ERROR db timeout\n"),
            ("cut.png", &png[..png.len() / 2]),
            ("bomb.png", &bomb),
            ("empty.png", b""),
            ("huge.png", &too_big),
            ("scan.bmp", b"BM\x36\x00\x00\x00\x00\x00"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{report}");
    assert!(refusal(&report, "diagram.svg").contains("SVG is not accepted"));
    assert!(refusal(&report, "notes.png").contains("not an image"));
    assert!(refusal(&report, "cut.png").contains("damaged or incomplete"));
    assert!(refusal(&report, "bomb.png").contains("20000 × 20000"));
    assert_eq!(refusal(&report, "empty.png"), "The file is empty.");
    assert!(refusal(&report, "huge.png").contains("larger than the limit of 20 MiB"));
    assert!(refusal(&report, "scan.bmp").contains("BMP images are not accepted"));
    assert!(images_of(&h.services, h.issue).is_empty());
    let blobs: Vec<_> = files_under(&h.t.dir.path().join("blobs"))
        .into_iter()
        .filter(|(p, _)| !p.starts_with(h.t.dir.path().join("blobs/tmp")))
        .collect();
    assert!(blobs.is_empty(), "nothing stored: {blobs:?}");

    // A hostile name is only a display name.
    let (status, report) =
        upload_images(&h, &issue, &[("../../etc/\u{202e}gnp.exe.png", &png)]).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let list = images_of(&h.services, h.issue);
    assert_eq!(list[0].name, "gnp.exe.png");

    // An issue that does not exist.
    let (status, _) = upload_images(
        &h,
        "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
        &[("a.png", &png)],
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Declared bodies beyond the request limit stop at the gate.
    let req = Request::post(format!("/api/issues/{issue}/images"))
        .header(header::HOST, HOST)
        .header(header::ORIGIN, ORIGIN)
        .header(header::COOKIE, format!("{SESSION_COOKIE}={TOKEN}"))
        .header(header::CONTENT_LENGTH, 200 * 1024 * 1024)
        .header(header::CONTENT_TYPE, "multipart/form-data; boundary=x")
        .body(Body::empty())
        .expect("request");
    let res = send(&h.app, req).await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);

    // Without JavaScript the form comes back to the issue with the outcome.
    let res = send(
        &h.app,
        upload_request_to(
            &format!("/api/issues/{issue}/images"),
            multipart(&[("x.svg", svg)]),
            false,
        ),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let location = res.headers()[header::LOCATION].to_str().expect("ascii");
    assert!(location.starts_with(&format!(
        "/issues/{issue}?images_added=0&image_error=x%2Esvg"
    )));
    assert!(location.ends_with("#images"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_cleared_images_leave_and_they_leave_without_metadata() {
    let h = harness();
    let issue = h.issue.to_string();
    let png = png_with_text(300, 200);
    let jpeg = jpeg_with_exif(120, 80);
    upload_images(&h, &issue, &[("a.png", &png), ("b.jpg", &jpeg)]).await;
    let list = images_of(&h.services, h.issue);
    let ids: Vec<AttachmentId> = list.iter().map(|i| i.id).collect();

    let err = h.images.outgoing(h.issue, &ids).expect_err("not cleared");
    assert!(
        err.to_string().contains("“a.png” has not been checked"),
        "{err}"
    );

    h.services
        .images
        .set_cleared(h.issue, ids[0], true)
        .expect("clear");
    let err = h
        .images
        .outgoing(h.issue, &ids)
        .expect_err("one not cleared");
    assert!(err.to_string().contains("“b.jpg”"), "{err}");
    h.services
        .images
        .set_cleared(h.issue, ids[1], true)
        .expect("clear");

    let out = h.images.outgoing(h.issue, &ids).expect("cleared");
    assert_eq!(out.len(), 2);
    assert!(!contains(&out[0].bytes, SECRET_TEXT));
    assert!(!contains(&out[1].bytes, GPS_TEXT));
    // Pixels are untouched: the images still decode to the same size.
    for (o, original) in out.iter().zip(&list) {
        let img = image::load_from_memory(&o.bytes).expect("still an image");
        assert_eq!(
            (img.width(), img.height()),
            (original.width, original.height)
        );
    }
    assert_eq!(out[1].file_name, "b.jpg");

    // Withdrawn clearance closes the gate again.
    h.services
        .images
        .set_cleared(h.issue, ids[1], false)
        .expect("withdraw");
    assert!(h.images.outgoing(h.issue, &ids).is_err());

    // An image of another issue is not this issue's to send or clear.
    let other =
        h.t.tracker
            .create(&common::draft("Other", "low", "linux"))
            .expect("issue")
            .id;
    assert!(h.images.outgoing(other, &ids[..1]).is_err());
    assert!(h.services.images.set_cleared(other, ids[0], true).is_err());

    let audit = h.t.db.recent_audit(50).expect("audit");
    let cleared: Vec<_> = audit
        .iter()
        .filter(|a| a.action == "image_cleared")
        .collect();
    assert_eq!(cleared.len(), 3);
    assert!(cleared.iter().any(|a| a.details["cleared"] == false));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_an_image_removes_its_content_unless_shared() {
    let h = harness();
    let issue = h.issue.to_string();
    let png = png_with_text(80, 40);
    upload_images(&h, &issue, &[("a.png", &png)]).await;
    let other =
        h.t.tracker
            .create(&common::draft("Other", "low", "linux"))
            .expect("issue")
            .id;
    upload_images(&h, &other.to_string(), &[("same.png", &png)]).await;
    let mine = images_of(&h.services, h.issue)[0].id;
    let theirs = images_of(&h.services, other)[0].id;
    assert_ne!(mine, theirs);
    let count = || {
        files_under(&h.t.dir.path().join("blobs"))
            .into_iter()
            .filter(|(p, _)| !p.starts_with(h.t.dir.path().join("blobs/tmp")))
            .count()
    };
    assert_eq!(count(), 2, "one image and one thumbnail, stored once");

    h.services.images.delete(h.issue, mine).expect("delete");
    assert!(images_of(&h.services, h.issue).is_empty());
    let res = send(&h.app, get(&format!("/api/images/{mine}"))).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // The other issue still has it.
    let res = send(&h.app, get(&format!("/api/images/{theirs}"))).await;
    assert_eq!(body_bytes(res).await, png);
    assert_eq!(count(), 2);

    h.services.images.delete(other, theirs).expect("delete");
    assert_eq!(count(), 0, "the content goes with the last attachment");
    assert!(h.services.images.delete(other, theirs).is_err());
    let timeline = h.t.db.timeline(other).expect("timeline");
    assert!(timeline.iter().any(|e| e.event_type == "image_deleted"));
}
