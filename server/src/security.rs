//! The gate in front of everything the server answers.
//!
//! * **Host allowlist**: a page on another site that rebinds its DNS name to
//!   127.0.0.1 still sends its own name in `Host`; we refuse it.
//! * **Origin / Sec-Fetch-Site**: a state-changing request, and every server
//!   function call, must come from our own origin. Browsers set these headers
//!   and pages can't forge them.
//! * **Access token**: a per-install secret. The start-up link carries it
//!   once in the query; we trade it for an `HttpOnly; SameSite=Strict` cookie
//!   and redirect to the clean URL, so it does not linger in history.
//! * **Headers**: a strict Content-Security-Policy with a per-response nonce
//!   for Leptos' hydration script, and the usual hardening headers.
//!
//! A request that fails a check gets a short reason and 4xx; it never reaches
//! a handler, so nothing changes.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use tftsr_app::services::CspNonce;

use crate::secret::Secret;

pub const SESSION_COOKIE: &str = "tftsr_session";
/// The largest request body accepted (forms and server-function calls).
/// File uploads get their own streaming route with their own limit.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
const TOKEN_PARAM: &str = "token";

/// Paths anyone on the allowed hosts may fetch: compiled assets and PWA
/// files, which hold no data.
const PUBLIC_PREFIXES: &[&str] = &["/pkg/", "/icons/"];
const PUBLIC_PATHS: &[&str] = &[
    "/favicon.ico",
    "/manifest.webmanifest",
    "/sw.js",
    "/register-sw.js",
    "/offline.html",
    "/healthz",
    "/robots.txt",
];

/// What the gate checks against.
#[derive(Debug)]
pub struct Policy {
    hosts: Vec<String>,
    origins: Vec<String>,
    token: Secret,
    /// Largest log upload body; every other request is capped at
    /// [`MAX_BODY_BYTES`].
    max_upload: u64,
}

/// Room for multipart headers and boundaries around the files of an upload.
const UPLOAD_OVERHEAD: u64 = 1024 * 1024;

/// Whether `path` is the streaming log upload route.
pub fn is_upload_path(method: &Method, path: &str) -> bool {
    upload_route(method, path, "/logs")
}

/// Whether `path` is the image upload route.
pub fn is_image_upload_path(method: &Method, path: &str) -> bool {
    upload_route(method, path, "/images")
}

fn upload_route(method: &Method, path: &str, suffix: &str) -> bool {
    *method == Method::POST
        && path
            .strip_prefix("/api/issues/")
            .and_then(|rest| rest.strip_suffix(suffix))
            .is_some_and(|id| !id.is_empty() && !id.contains('/'))
}

impl Policy {
    /// The policy for a server listening on `port`; `extra_hosts` are
    /// additional names (without port) it answers to.
    pub fn new(port: u16, extra_hosts: &[String], token: Secret) -> Self {
        let mut names: Vec<String> = vec!["127.0.0.1".into(), "localhost".into(), "[::1]".into()];
        names.extend(
            extra_hosts
                .iter()
                .map(|h| h.trim().to_ascii_lowercase())
                .filter(|h| !h.is_empty()),
        );
        let hosts: Vec<String> = names.iter().map(|n| format!("{n}:{port}")).collect();
        let origins = hosts.iter().map(|h| format!("http://{h}")).collect();
        Self {
            hosts,
            origins,
            token,
            max_upload: tftsr_core::logs::limits::DEFAULT_MAX_UPLOAD_BYTES,
        }
    }

    /// Sets the largest accepted log upload, in bytes.
    pub fn with_max_upload(mut self, bytes: u64) -> Self {
        self.max_upload = bytes;
        self
    }

    pub fn max_upload(&self) -> u64 {
        self.max_upload
    }

    pub fn token(&self) -> &Secret {
        &self.token
    }

    fn host_allowed(&self, host: &str) -> bool {
        let host = host.to_ascii_lowercase();
        self.hosts.contains(&host)
    }

    fn origin_allowed(&self, origin: &str) -> bool {
        self.origins.iter().any(|o| o.eq_ignore_ascii_case(origin))
    }
}

fn refuse(status: StatusCode, reason: &str) -> Response {
    tracing::warn!(%status, reason, "request refused");
    let mut res = (status, format!("{reason}\n")).into_response();
    harden(res.headers_mut(), None);
    res
}

fn is_public(path: &str) -> bool {
    PUBLIC_PATHS.contains(&path) || PUBLIC_PREFIXES.iter().any(|p| path.starts_with(p))
}

fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v)
}

/// Splits the token out of a query string; returns it and the remaining query.
fn take_token(query: &str) -> (Option<String>, String) {
    let mut token = None;
    let rest: Vec<&str> = query
        .split('&')
        .filter(|pair| match pair.split_once('=') {
            Some((TOKEN_PARAM, v)) => {
                token = Some(
                    percent_encoding::percent_decode_str(v)
                        .decode_utf8_lossy()
                        .into_owned(),
                );
                false
            }
            _ => !pair.is_empty(),
        })
        .collect();
    (token, rest.join("&"))
}

fn needs_same_origin(method: &Method, path: &str) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) || path.starts_with("/api/")
}

/// Content-Security-Policy for a page whose inline scripts carry `nonce`.
fn csp(nonce: Option<&str>) -> String {
    let script = match nonce {
        Some(n) => format!("script-src 'self' 'nonce-{n}' 'wasm-unsafe-eval'"),
        None => "script-src 'self' 'wasm-unsafe-eval'".to_owned(),
    };
    format!(
        "default-src 'none'; {script}; style-src 'self'; img-src 'self' data: blob:; font-src 'self'; \
         connect-src 'self'; manifest-src 'self'; worker-src 'self'; form-action 'self'; \
         frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    )
}

fn harden(headers: &mut HeaderMap, nonce: Option<&str>) {
    let set = |headers: &mut HeaderMap, name: header::HeaderName, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.insert(name, v);
        }
    };
    set(headers, header::CONTENT_SECURITY_POLICY, &csp(nonce));
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, header::X_FRAME_OPTIONS, "DENY");
    // Not `no-referrer`: under it Chromium sends `Origin: null` with plain
    // form posts, which the same-origin check must refuse. `same-origin` sends
    // nothing to other sites, which is what matters.
    set(headers, header::REFERRER_POLICY, "same-origin");
    set(
        headers,
        header::HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    );
    set(
        headers,
        header::HeaderName::from_static("cross-origin-resource-policy"),
        "same-origin",
    );
    set(
        headers,
        header::HeaderName::from_static("permissions-policy"),
        "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    );
}

/// The axum middleware.
pub async fn guard(State(policy): State<Arc<Policy>>, req: Request, next: Next) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| req.uri().authority().map(|a| a.as_str().to_owned()));
    match host {
        Some(h) if policy.host_allowed(&h) => {}
        Some(_) => return refuse(StatusCode::FORBIDDEN, "Host not allowed."),
        None => return refuse(StatusCode::BAD_REQUEST, "Missing Host header."),
    }

    let path = req.uri().path().to_owned();
    if needs_same_origin(req.method(), &path) {
        let headers = req.headers();
        if let Some(origin) = headers.get(header::ORIGIN) {
            let ok = origin.to_str().is_ok_and(|o| policy.origin_allowed(o));
            if !ok {
                return refuse(StatusCode::FORBIDDEN, "Cross-origin request refused.");
            }
        }
        if let Some(site) = headers.get("sec-fetch-site")
            && !matches!(site.to_str(), Ok("same-origin" | "none"))
        {
            return refuse(StatusCode::FORBIDDEN, "Cross-site request refused.");
        }
    }

    if !is_public(&path) {
        if let Some(query) = req.uri().query() {
            let (token, rest) = take_token(query);
            if let Some(token) = token {
                let token = Secret::new(token);
                if !policy.token.matches(token.expose()) {
                    return refuse(
                        StatusCode::UNAUTHORIZED,
                        "Invalid access token. Use the link printed when TFTSR started.",
                    );
                }
                let location = if rest.is_empty() {
                    path.clone()
                } else {
                    format!("{path}?{rest}")
                };
                let cookie = format!(
                    "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age=2592000",
                    policy.token.expose()
                );
                let mut res = Response::builder()
                    .status(StatusCode::SEE_OTHER)
                    .body(Body::empty())
                    .unwrap_or_default();
                if let (Ok(loc), Ok(c)) = (
                    HeaderValue::from_str(&location),
                    HeaderValue::from_str(&cookie),
                ) {
                    res.headers_mut().insert(header::LOCATION, loc);
                    res.headers_mut().insert(header::SET_COOKIE, c);
                }
                harden(res.headers_mut(), None);
                res.headers_mut()
                    .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                return res;
            }
        }
        let authorised =
            cookie_value(req.headers(), SESSION_COOKIE).is_some_and(|v| policy.token.matches(v));
        if !authorised {
            return refuse(
                StatusCode::UNAUTHORIZED,
                "Not signed in. Open the link TFTSR printed when it started (it contains your access token).",
            );
        }
    }

    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let (limit, too_large) = if is_upload_path(req.method(), &path) {
        (
            usize::try_from(policy.max_upload.saturating_add(UPLOAD_OVERHEAD))
                .unwrap_or(usize::MAX),
            format!(
                "The upload is larger than the limit of {}.",
                tftsr_core::logs::human_bytes(policy.max_upload)
            ),
        )
    } else if is_image_upload_path(req.method(), &path) {
        let images = tftsr_core::attachments::MAX_IMAGE_REQUEST_BYTES;
        (
            usize::try_from(images.saturating_add(UPLOAD_OVERHEAD)).unwrap_or(usize::MAX),
            format!(
                "The upload is larger than the limit of {}; send fewer images at once.",
                tftsr_core::logs::human_bytes(images)
            ),
        )
    } else {
        (MAX_BODY_BYTES, "Request too large.".to_owned())
    };
    if declared.is_some_and(|n| n > limit as u64) {
        return refuse(StatusCode::PAYLOAD_TOO_LARGE, &too_large);
    }
    // Bodies without a length (chunked) are cut off at the same size.
    let mut req = req.map(|body| Body::new(http_body_util::Limited::new(body, limit)));

    let nonce = hex::encode(rand::random::<[u8; 16]>());
    req.extensions_mut().insert(CspNonce(nonce.clone()));
    let mut res = next.run(req).await;
    let headers = res.headers_mut();
    harden(headers, Some(&nonce));
    if !path.starts_with("/pkg/") && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_is_taken_out_of_the_query() {
        assert_eq!(take_token("token=abc"), (Some("abc".into()), String::new()));
        assert_eq!(
            take_token("q=x&token=a%2Fb&s=1"),
            (Some("a/b".into()), "q=x&s=1".into())
        );
        assert_eq!(take_token("q=x"), (None, "q=x".into()));
    }

    #[test]
    fn hosts_include_port() {
        let p = Policy::new(8080, &["Box.Local".into()], Secret::new("t".into()));
        assert!(p.host_allowed("127.0.0.1:8080"));
        assert!(p.host_allowed("LOCALHOST:8080"));
        assert!(p.host_allowed("box.local:8080"));
        assert!(!p.host_allowed("127.0.0.1:8081"));
        assert!(!p.host_allowed("evil.example:8080"));
        assert!(p.origin_allowed("http://localhost:8080"));
        assert!(!p.origin_allowed("http://localhost:8080.evil.example"));
    }
}
