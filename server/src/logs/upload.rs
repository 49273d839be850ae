//! The HTTP routes that move log bytes: the streaming multipart upload
//! (`POST /api/issues/{id}/logs`) and the download of a redacted copy
//! (`GET /api/logs/{id}/redacted`).
//!
//! An upload never sits in memory or in clear on disk: each file part is
//! encrypted into a spool chunk by chunk as it arrives, hashed on the way,
//! and checked against the size limit; its first bytes are sniffed so that
//! a binary file is refused at once. Browsers posting the plain form (no
//! JavaScript) are redirected back to the issue with the outcome in the
//! query; scripts asking for JSON get a JSON report.

use std::io::Read;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tftsr_app::wire::{RefusedFile as Refused, UploadReport, UploadedFile as Uploaded};
use tftsr_core::IssueId;
use tftsr_core::logs::{LogFileId, Sniffed, display_name, limits, sniff};

use super::Logs;
use crate::blobs::BlobError;
use crate::store::logs::NewLogFile;
use tftsr_core::logs::human_bytes;

fn too_large(logs: &Logs) -> String {
    format!(
        "The upload is larger than the limit of {}.",
        human_bytes(logs.max_upload())
    )
}

pub(crate) fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"))
}

/// Where a plain (no JavaScript) upload form is sent back to: the issue's
/// section `anchor`, with the count and the first refusal in the query
/// under `count` and `error`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct UploadTarget {
    pub anchor: &'static str,
    pub count: &'static str,
    pub error: &'static str,
}

const LOG_TARGET: UploadTarget = UploadTarget {
    anchor: "logs",
    count: "uploaded",
    error: "upload_error",
};

fn reply(headers: &HeaderMap, issue: &str, status: StatusCode, report: &UploadReport) -> Response {
    upload_reply(headers, issue, status, report, LOG_TARGET)
}

/// The answer to an upload: JSON for scripts, a redirect back to the issue
/// for the plain form.
pub(crate) fn upload_reply(
    headers: &HeaderMap,
    issue: &str,
    status: StatusCode,
    report: &UploadReport,
    target: UploadTarget,
) -> Response {
    if wants_json(headers) {
        return (status, axum::Json(report)).into_response();
    }
    let mut query = format!("{}={}", target.count, report.uploaded.len());
    if let Some(first) = report.refused.first() {
        let message = format!("{}: {}", first.name, first.message);
        query.push('&');
        query.push_str(target.error);
        query.push('=');
        query.push_str(
            &percent_encoding::utf8_percent_encode(&message, percent_encoding::NON_ALPHANUMERIC)
                .to_string(),
        );
    }
    // Only a real issue id goes into the link; anything else goes back to
    // the list.
    let location = match IssueId::parse(issue) {
        Some(id) => format!("/issues/{id}?{query}#{}", target.anchor),
        None => "/issues".to_owned(),
    };
    let mut res = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res
}

/// A `Content-Disposition` value for `name` (`inline` or `attachment`):
/// an ASCII fallback and the exact UTF-8 name.
pub(crate) fn content_disposition(kind: &str, name: &str) -> Option<HeaderValue> {
    let value = format!(
        "{kind}; filename=\"{}\"; filename*=UTF-8''{}",
        name.replace(
            |c: char| !c.is_ascii_alphanumeric() && !".-_".contains(c),
            "_"
        ),
        percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC)
    );
    HeaderValue::from_str(&value).ok()
}

fn fail(
    headers: &HeaderMap,
    issue: &str,
    status: StatusCode,
    name: &str,
    message: String,
) -> Response {
    let report = UploadReport {
        uploaded: Vec::new(),
        refused: vec![Refused {
            name: name.to_owned(),
            message,
        }],
    };
    reply(headers, issue, status, &report)
}

/// `POST /api/issues/{id}/logs`, multipart with one or more `files` parts.
pub async fn upload(
    State(logs): State<Arc<Logs>>,
    Path(issue): Path<String>,
    headers: HeaderMap,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let Some(issue_id) = IssueId::parse(&issue) else {
        return fail(
            &headers,
            &issue,
            StatusCode::BAD_REQUEST,
            "upload",
            "That is not an issue id.".to_owned(),
        );
    };
    let mut multipart = match multipart {
        Ok(m) => m,
        Err(_) => {
            return fail(
                &headers,
                &issue,
                StatusCode::BAD_REQUEST,
                "upload",
                "Send the files as a multipart form.".to_owned(),
            );
        }
    };
    let mut report = UploadReport::default();
    let mut received = 0u64;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) => {
                let status = e.status();
                let message = if status == StatusCode::PAYLOAD_TOO_LARGE {
                    too_large(&logs)
                } else {
                    "The upload was interrupted; nothing of the unfinished file was kept."
                        .to_owned()
                };
                report.refused.push(Refused {
                    name: "upload".to_owned(),
                    message,
                });
                return reply(&headers, &issue, status, &report);
            }
        };
        if field.name() != Some("files") {
            continue;
        }
        let name = display_name(field.file_name().unwrap_or_default());
        if report.uploaded.len() + report.refused.len() >= limits::MAX_FILES_PER_UPLOAD {
            report.refused.push(Refused {
                name,
                message: format!("At most {} files per upload.", limits::MAX_FILES_PER_UPLOAD),
            });
            continue;
        }
        match receive(&logs, issue_id, &name, field, &mut received).await {
            Ok(id) => report.uploaded.push(Uploaded {
                id: id.to_string(),
                name,
            }),
            Err(Outcome::Refused(message)) => report.refused.push(Refused { name, message }),
            Err(Outcome::Fatal(status, message)) => {
                report.refused.push(Refused { name, message });
                return reply(&headers, &issue, status, &report);
            }
        }
    }
    if report.uploaded.is_empty() && report.refused.is_empty() {
        report.refused.push(Refused {
            name: "upload".to_owned(),
            message: "Choose at least one file.".to_owned(),
        });
        return reply(&headers, &issue, StatusCode::BAD_REQUEST, &report);
    }
    let status = if report.uploaded.is_empty() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    reply(&headers, &issue, status, &report)
}

enum Outcome {
    /// This file is refused; carry on with the others.
    Refused(String),
    /// The request cannot go on.
    Fatal(StatusCode, String),
}

fn blob_outcome(e: BlobError) -> Outcome {
    tracing::error!(error = %e, "spooling an upload");
    match e {
        BlobError::DiskFull => Outcome::Fatal(StatusCode::INSUFFICIENT_STORAGE, e.to_string()),
        _ => Outcome::Fatal(
            StatusCode::INTERNAL_SERVER_ERROR,
            "The upload could not be stored; see the server log.".to_owned(),
        ),
    }
}

async fn receive(
    logs: &Arc<Logs>,
    issue: IssueId,
    name: &str,
    mut field: axum::extract::multipart::Field<'_>,
    received: &mut u64,
) -> Result<LogFileId, Outcome> {
    let mime = field
        .content_type()
        .filter(|m| m.len() < 100)
        .unwrap_or("application/octet-stream")
        .to_owned();
    let mut spool = logs.blobs().spool().map_err(blob_outcome)?;
    let mut head: Vec<u8> = Vec::with_capacity(limits::SNIFF_BYTES);
    let mut sniffed = false;
    loop {
        let chunk = match field.chunk().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(e) => {
                let status = e.status();
                return Err(Outcome::Fatal(
                    status,
                    if status == StatusCode::PAYLOAD_TOO_LARGE {
                        too_large(logs)
                    } else {
                        "The upload was interrupted; nothing of it was kept.".to_owned()
                    },
                ));
            }
        };
        *received += chunk.len() as u64;
        if *received > logs.max_upload() {
            return Err(Outcome::Fatal(
                StatusCode::PAYLOAD_TOO_LARGE,
                too_large(logs),
            ));
        }
        if !sniffed {
            let take = (limits::SNIFF_BYTES - head.len()).min(chunk.len());
            head.extend_from_slice(&chunk[..take]);
            if head.len() == limits::SNIFF_BYTES {
                sniffed = true;
                if let Sniffed::Binary(kind) = sniff(&head, false) {
                    return Err(Outcome::Refused(kind.advice().to_owned()));
                }
            }
        }
        spool.write(&chunk).map_err(blob_outcome)?;
    }
    if !sniffed && let Sniffed::Binary(kind) = sniff(&head, true) {
        return Err(Outcome::Refused(kind.advice().to_owned()));
    }
    let spool = spool.finish().map_err(blob_outcome)?;
    let id = LogFileId::new_at(logs.clock.now());
    let file = NewLogFile {
        id,
        issue_id: issue,
        name: name.to_owned(),
        size_bytes: spool.size,
        mime_type: mime,
        sha256: spool.sha256.clone(),
        compressed: head.starts_with(&[0x1F, 0x8B]),
    };
    let logs2 = logs.clone();
    let now = logs.clock.now();
    let inserted = tokio::task::spawn_blocking(move || logs2.db().insert_log_file(&file, now))
        .await
        .map_err(|_| {
            Outcome::Fatal(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The upload could not be recorded.".to_owned(),
            )
        })?;
    match inserted {
        Ok(()) => {}
        Err(e) if e.kind() == tftsr_core::StoreErrorKind::NotFound => {
            return Err(Outcome::Fatal(
                StatusCode::NOT_FOUND,
                e.message().to_owned(),
            ));
        }
        Err(e) => {
            return Err(Outcome::Fatal(
                StatusCode::SERVICE_UNAVAILABLE,
                e.message().to_owned(),
            ));
        }
    }
    logs.spawn_scan(id, spool);
    Ok(id)
}

/// `GET /api/logs/{id}/redacted`: the redacted copy as a text download.
pub async fn download_redacted(State(logs): State<Arc<Logs>>, Path(id): Path<String>) -> Response {
    let Some(file) = LogFileId::parse(&id) else {
        return (StatusCode::BAD_REQUEST, "That is not a log file id.\n").into_response();
    };
    let logs2 = logs.clone();
    let opened = tokio::task::spawn_blocking(move || logs2.redacted_reader(file)).await;
    let (summary, reader) = match opened {
        Ok(Ok(pair)) => pair,
        Ok(Err(e)) => {
            let status = match e {
                tftsr_app::AppError::NotFound(_) => StatusCode::NOT_FOUND,
                tftsr_app::AppError::Conflict(_) => StatusCode::CONFLICT,
                _ => StatusCode::SERVICE_UNAVAILABLE,
            };
            return (status, format!("{e}\n")).into_response();
        }
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    let length = reader.len();
    // Decrypt chunk by chunk on the blocking pool, sending as we go.
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    tokio::task::spawn_blocking(move || {
        let mut reader = reader;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    if tx.blocking_send(Ok(buf[..n].to_vec())).is_err() {
                        break;
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "reading a redacted blob");
                    let _ = tx.blocking_send(Err(e));
                    break;
                }
            }
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    let download = format!("{}.redacted.txt", summary.name);
    let mut res = Response::new(Body::from_stream(stream));
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    if let Some(v) = content_disposition("attachment", &download) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    if let Ok(v) = HeaderValue::from_str(&length.to_string()) {
        h.insert(header::CONTENT_LENGTH, v);
    }
    res
}
