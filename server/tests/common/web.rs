//! A router over a real encrypted database and blob store, and helpers to
//! upload logs through it and wait for their scan.

#![allow(dead_code)]

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response, StatusCode, header};
use http_body_util::BodyExt;
use tftsr_app::services::{LogService, Services};
use tftsr_core::IssueId;
use tftsr_core::logs::{LogFileId, LogFileSummary, LogState};
use tftsr_server::logs::Logs;
use tftsr_server::secret::Secret;
use tftsr_server::security::{Policy, SESSION_COOKIE};
use tftsr_server::store::key::KeySource;

use super::{TestDb, draft};

pub const PORT: u16 = 4322;
pub const HOST: &str = "127.0.0.1:4322";
pub const ORIGIN: &str = "http://127.0.0.1:4322";
pub const TOKEN: &str = "test-token-logs-0123456789";
pub const BOUNDARY: &str = "----tftsr-test-boundary-7d1f";

pub const SAMPLE: &str =
    include_str!("../../../app/core/testdata/samples/07_sshd_bruteforce_lockout.log");

pub struct Harness {
    pub t: TestDb,
    pub app: Router,
    pub logs: Arc<Logs>,
    pub images: Arc<tftsr_server::attachments::Images>,
    pub services: Services,
    pub issue: IssueId,
}

pub fn harness_with_limit(max_upload: u64) -> Harness {
    let t = TestDb::new();
    let parts = tftsr_server::cli::services(t.db.clone(), KeySource::Env, t.dir.path(), max_upload)
        .expect("services");
    let (services, logs, images) = (
        parts.services.clone(),
        parts.logs.clone(),
        parts.images.clone(),
    );
    let options = tftsr_server::web::leptos_options("target/site", ([127, 0, 0, 1], PORT).into());
    let policy =
        Arc::new(Policy::new(PORT, &[], Secret::new(TOKEN.into())).with_max_upload(max_upload));
    let app = tftsr_server::web::router(parts, options, policy);
    let issue = t
        .tracker
        .create(&draft("Brute force on bastion", "high", "linux"))
        .expect("issue")
        .id;
    Harness {
        t,
        app,
        logs,
        images,
        services,
        issue,
    }
}

pub fn harness() -> Harness {
    harness_with_limit(64 * 1024 * 1024)
}

pub fn multipart(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, bytes) in files {
        write!(
            body,
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .expect("write");
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    write!(body, "--{BOUNDARY}--\r\n").expect("write");
    body
}

pub fn upload_request(issue: &str, body: Vec<u8>, json: bool) -> Request<Body> {
    upload_request_to(&format!("/api/issues/{issue}/logs"), body, json)
}

/// A signed-in multipart POST of `body` to `path`.
pub fn upload_request_to(path: &str, body: Vec<u8>, json: bool) -> Request<Body> {
    let mut b = Request::post(path)
        .header(header::HOST, HOST)
        .header(header::ORIGIN, ORIGIN)
        .header(header::COOKIE, format!("{SESSION_COOKIE}={TOKEN}"))
        .header(header::CONTENT_LENGTH, body.len())
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={BOUNDARY}"),
        );
    if json {
        b = b.header(header::ACCEPT, "application/json");
    }
    b.body(Body::from(body)).expect("request")
}

pub async fn send(app: &Router, req: Request<Body>) -> Response<Body> {
    tower::ServiceExt::oneshot(app.clone(), req)
        .await
        .expect("infallible")
}

pub async fn body_bytes(res: Response<Body>) -> Vec<u8> {
    res.into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes()
        .to_vec()
}

pub async fn upload(h: &Harness, files: &[(&str, &[u8])]) -> (StatusCode, serde_json::Value) {
    let res = send(
        &h.app,
        upload_request(&h.issue.to_string(), multipart(files), true),
    )
    .await;
    let status = res.status();
    let json = serde_json::from_slice(&body_bytes(res).await).expect("JSON report");
    (status, json)
}

pub fn uploaded_ids(report: &serde_json::Value) -> Vec<LogFileId> {
    report["uploaded"]
        .as_array()
        .expect("uploaded list")
        .iter()
        .map(|u| LogFileId::parse(u["id"].as_str().expect("id")).expect("uuid"))
        .collect()
}

/// Waits for the background scan (polling the state, not timing it).
pub async fn scanned(logs: &Arc<Logs>, id: LogFileId) -> LogFileSummary {
    for _ in 0..600 {
        let logs = logs.clone();
        let file = tokio::task::spawn_blocking(move || logs.get(id))
            .await
            .expect("join")
            .expect("file");
        if file.state != LogState::Scanning {
            return file;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("scan did not finish");
}

pub async fn blocking<T: Send + 'static>(
    logs: &Arc<Logs>,
    f: impl FnOnce(&Logs) -> T + Send + 'static,
) -> T {
    let logs = logs.clone();
    tokio::task::spawn_blocking(move || f(&logs))
        .await
        .expect("join")
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(data).expect("compress");
    enc.finish().expect("compress")
}
