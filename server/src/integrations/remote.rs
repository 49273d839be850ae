//! Moving a [`OutboundRequest`] over HTTP: the token attached (Basic or
//! Bearer, marked sensitive), a deadline, a cap on the reply, and every
//! failure turned into a [`RemoteError`] whose message names the host and
//! never the token (it is scrubbed, should a remote echo it).

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::header::{self, HeaderValue};
use serde_json::Value;
use tftsr_core::publish::config::AuthScheme;
use tftsr_core::publish::remote::error_from_reply;
use tftsr_core::publish::{
    FileUpload, HttpMethod, OutboundRequest, RemoteError, RemoteErrorKind, Service,
    ValidIntegration,
};
use zeroize::Zeroizing;

use crate::providers::HttpClient;
use crate::secret::Secret;

/// The largest reply read (page JSON carries the page body).
pub const REPLY_MAX: usize = 4 * 1024 * 1024;
/// The most of an error reply read.
const ERROR_REPLY_MAX: usize = 64 * 1024;

/// One configured service with its token, ready to send.
pub struct Remote<'a> {
    pub client: &'a HttpClient,
    pub config: &'a ValidIntegration,
    pub token: &'a Secret,
    pub timeout: Duration,
}

impl Remote<'_> {
    fn service(&self) -> Service {
        self.config.service
    }

    /// `host[:port]` of the base URL, for messages.
    pub fn host(&self) -> String {
        reqwest::Url::parse(&self.config.base_url)
            .ok()
            .and_then(|u| {
                u.host_str().map(|h| match u.port() {
                    Some(p) => format!("{h}:{p}"),
                    None => h.to_owned(),
                })
            })
            .unwrap_or_else(|| "?".to_owned())
    }

    fn authorization(&self) -> Result<HeaderValue, RemoteError> {
        let value = Zeroizing::new(match self.config.auth_scheme() {
            AuthScheme::Bearer => format!("Bearer {}", self.token.expose()),
            AuthScheme::Basic => {
                let pair = Zeroizing::new(format!(
                    "{}:{}",
                    self.config.basic_user(),
                    self.token.expose()
                ));
                format!("Basic {}", STANDARD.encode(pair.as_bytes()))
            }
        });
        let mut header = HeaderValue::from_str(&value).map_err(|_| {
            RemoteError::new(
                RemoteErrorKind::Auth,
                format!(
                    "The user name or token for {} has characters that cannot be sent; enter them again.",
                    self.service().label()
                ),
            )
        })?;
        header.set_sensitive(true);
        Ok(header)
    }

    /// Replaces the token (and its Basic form) in a message.
    pub fn scrub(&self, mut error: RemoteError) -> RemoteError {
        let token = self.token.expose();
        if token.len() >= 4 {
            error.message = error.message.replace(token, "*****");
            let basic = STANDARD.encode(format!("{}:{token}", self.config.basic_user()));
            error.message = error.message.replace(&basic, "*****");
        }
        error
    }

    /// Sends the request; a 2xx reply's JSON, or the error. `what` names
    /// what was asked for, for a 404's message.
    pub async fn send(&self, request: &OutboundRequest, what: &str) -> Result<Value, RemoteError> {
        let body = match &request.body {
            Some(body) => Some((
                request.content_type.to_owned(),
                serde_json::to_vec(body).map_err(|_| {
                    RemoteError::new(
                        RemoteErrorKind::Rejected,
                        format!(
                            "The request to {} could not be encoded.",
                            self.service().label()
                        ),
                    )
                })?,
            )),
            None => None,
        };
        self.send_inner(request.method, &request.path, body, &[], what)
            .await
            .map_err(|e| self.scrub(e))
    }

    /// Sends a file (`bytes`) as `upload` describes: as the body, or as the
    /// one part of a `multipart/form-data` body.
    pub async fn upload(
        &self,
        upload: &FileUpload,
        bytes: Vec<u8>,
        what: &str,
    ) -> Result<Value, RemoteError> {
        let body = match upload.multipart_field {
            Some(field) => {
                let boundary = format!("tftsr-{}", hex::encode(rand::random::<[u8; 12]>()));
                let name: String = upload
                    .file_name
                    .chars()
                    .map(|c| {
                        if matches!(c, '"' | '\\' | '\r' | '\n') {
                            '_'
                        } else {
                            c
                        }
                    })
                    .collect();
                let mut body = format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{name}\"\r\nContent-Type: {}\r\n\r\n",
                    upload.content_type
                )
                .into_bytes();
                body.extend_from_slice(&bytes);
                body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
                (format!("multipart/form-data; boundary={boundary}"), body)
            }
            None => (upload.content_type.to_owned(), bytes),
        };
        self.send_inner(
            upload.method,
            &upload.path,
            Some(body),
            upload.headers,
            what,
        )
        .await
        .map_err(|e| self.scrub(e))
    }

    async fn send_inner(
        &self,
        method: HttpMethod,
        path: &str,
        body: Option<(String, Vec<u8>)>,
        headers: &[(&str, &str)],
        what: &str,
    ) -> Result<Value, RemoteError> {
        let service = self.service();
        let label = service.label();
        let host = self.host();
        let url =
            reqwest::Url::parse(&format!("{}{}", self.config.base_url, path)).map_err(|_| {
                RemoteError::new(
                    RemoteErrorKind::Rejected,
                    format!("The address for {label} could not be built; check its base URL."),
                )
            })?;
        let method = match method {
            HttpMethod::Get => reqwest::Method::GET,
            HttpMethod::Post => reqwest::Method::POST,
            HttpMethod::Put => reqwest::Method::PUT,
        };
        let mut builder = self
            .client
            .reqwest()
            .request(method, url)
            .timeout(self.timeout)
            .header(header::AUTHORIZATION, self.authorization()?)
            .header(header::ACCEPT, "application/json");
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        if let Some((content_type, bytes)) = body {
            builder = builder
                .header(header::CONTENT_TYPE, content_type)
                .body(bytes);
        }
        let reply = builder.send().await.map_err(|e| {
            tracing::warn!(service = service.as_str(), %host, timeout = e.is_timeout(), connect = e.is_connect(), "integration request failed");
            if e.is_timeout() {
                RemoteError::new(
                    RemoteErrorKind::Timeout,
                    format!(
                        "{label} at {host} did not answer within {} s. Try again later.",
                        self.timeout.as_secs().max(1)
                    ),
                )
            } else if e.is_redirect() {
                RemoteError::new(
                    RemoteErrorKind::Rejected,
                    format!("{label} at {host} redirected elsewhere; TFTSR does not follow that with your token. Put the final address in the settings."),
                )
            } else {
                RemoteError::new(
                    RemoteErrorKind::Unreachable,
                    format!("Could not reach {label} at {host}. Check the address and the network."),
                )
            }
        })?;
        let status = reply.status().as_u16();
        let success = reply.status().is_success();
        let cap = if success { REPLY_MAX } else { ERROR_REPLY_MAX };
        let body = read_capped(reply, cap).await.map_err(|kind| match kind {
            RemoteErrorKind::Timeout => RemoteError::new(
                kind,
                format!("{label} at {host} stopped answering. Try again later."),
            ),
            _ => RemoteError::new(
                RemoteErrorKind::Malformed,
                format!("The reply from {label} at {host} was cut off or too large."),
            ),
        });
        if !success {
            tracing::warn!(service = service.as_str(), %host, status, "integration refused the request");
            let body = body.unwrap_or_default();
            return Err(error_from_reply(service, status, &body, what));
        }
        let body = body?;
        tracing::info!(service = service.as_str(), %host, status, bytes = body.len(), "integration replied");
        serde_json::from_slice(&body).map_err(|_| RemoteError::malformed(service, "not JSON"))
    }
}

/// Reads at most `cap` bytes of the body; `Malformed` beyond, `Timeout` if
/// it stalls past the request's deadline.
async fn read_capped(mut reply: reqwest::Response, cap: usize) -> Result<Vec<u8>, RemoteErrorKind> {
    if reply
        .content_length()
        .is_some_and(|n| n > u64::try_from(cap).unwrap_or(u64::MAX))
    {
        return Err(RemoteErrorKind::Malformed);
    }
    let mut out = Vec::new();
    loop {
        match reply.chunk().await {
            Ok(Some(chunk)) => {
                if out.len() + chunk.len() > cap {
                    return Err(RemoteErrorKind::Malformed);
                }
                out.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(out),
            Err(e) if e.is_timeout() => return Err(RemoteErrorKind::Timeout),
            Err(_) => return Err(RemoteErrorKind::Malformed),
        }
    }
}
