//! The one outbound HTTP client every provider call goes through, with the
//! limits in one place: a connect timeout, an idle timeout between chunks
//! of a reply, an overall timeout for replies that are not streamed,
//! retries with exponential backoff (honouring `Retry-After`) for rate
//! limits, server errors and refused connections — only before a reply
//! starts, never halfway through a stream — a cap on the size of replies,
//! redirects followed only within the same host, and a `User-Agent`.
//!
//! Keys are attached here, marked sensitive so no header dump shows them,
//! and every error that leaves this module has the key scrubbed from it.

use std::error::Error as StdError;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use reqwest::Url;
use tftsr_core::ai::wire::{Auth, Dialect, Method, WireRequest};
use tftsr_core::ai::{ProviderError, ProviderErrorKind};

use crate::secret::Secret;

/// The client's limits. [`Default`] suits real providers; tests use short
/// ones.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// How long to wait for a TCP (and TLS) connection.
    pub connect_timeout: Duration,
    /// How long a reply may stay silent: before its headers, and between
    /// two chunks of its body. Generous by default, since a local model
    /// may take minutes to load before its first token.
    pub idle_timeout: Duration,
    /// The whole exchange, for replies that are not streamed.
    pub request_timeout: Duration,
    /// Extra attempts after a rate limit, a server error or a refused
    /// connection.
    pub max_retries: u32,
    /// The first backoff; each retry doubles it.
    pub backoff_base: Duration,
    /// The longest wait before a retry. When a provider asks for longer
    /// (`Retry-After`), the error is returned instead, with the wait in it.
    pub max_retry_wait: Duration,
    /// The largest reply that is not streamed (JSON replies, model lists).
    pub max_reply_bytes: usize,
    /// The largest streamed reply, counted over the whole stream.
    pub max_stream_bytes: usize,
    /// How many redirects to follow (same host only).
    pub max_redirects: usize,
    /// Whether to use the proxies named by `HTTPS_PROXY` and friends.
    pub use_env_proxy: bool,
    pub user_agent: String,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(300),
            request_timeout: Duration::from_secs(600),
            max_retries: 3,
            backoff_base: Duration::from_millis(500),
            max_retry_wait: Duration::from_secs(60),
            max_reply_bytes: 8 * 1024 * 1024,
            max_stream_bytes: 32 * 1024 * 1024,
            max_redirects: 3,
            use_env_proxy: true,
            user_agent: concat!("tftsr/", env!("CARGO_PKG_VERSION")).to_owned(),
        }
    }
}

/// The client could not be built (a TLS setup problem).
#[derive(Debug, thiserror::Error)]
#[error("could not set up the HTTP client for AI providers: {0}")]
pub struct ClientBuildError(String);

/// The hardened client. Cheap to clone; share one.
#[derive(Clone, Debug)]
pub struct HttpClient {
    inner: reqwest::Client,
    config: Arc<ClientConfig>,
}

/// A redirect to another host, refused so that a key is never sent there.
#[derive(Debug, thiserror::Error)]
#[error("redirected to another host ({to})")]
struct CrossHostRedirect {
    to: String,
}

#[derive(Debug, thiserror::Error)]
#[error("too many redirects")]
struct TooManyRedirects;

impl HttpClient {
    pub fn new(config: ClientConfig) -> Result<Self, ClientBuildError> {
        // reqwest is built without a default crypto provider (its default
        // needs cmake); use ring. An error means one is installed already.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let max_redirects = config.max_redirects;
        let redirects = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() > max_redirects {
                return attempt.error(TooManyRedirects);
            }
            let Some(first) = attempt.previous().first() else {
                return attempt.follow();
            };
            if same_site(first, attempt.url()) {
                attempt.follow()
            } else {
                let to = attempt.url().host_str().unwrap_or("?").to_owned();
                attempt.error(CrossHostRedirect { to })
            }
        });
        let mut builder = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .read_timeout(config.idle_timeout)
            .redirect(redirects)
            .referer(false)
            .user_agent(config.user_agent.clone())
            .tls_backend_rustls();
        if !config.use_env_proxy {
            builder = builder.no_proxy();
        }
        let inner = builder
            .build()
            .map_err(|e| ClientBuildError(error_chain(&e)))?;
        Ok(Self {
            inner,
            config: Arc::new(config),
        })
    }

    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The underlying client (TLS, connect and idle timeouts, same-host
    /// redirects only, user agent), for callers with their own wire format:
    /// the integrations.
    pub(crate) fn reqwest(&self) -> &reqwest::Client {
        &self.inner
    }

    /// Sends `wire` and returns the reply once it has a 2xx status,
    /// retrying as the config allows. An error reply is read (up to 64 KiB)
    /// and mapped by `dialect`.
    pub(crate) async fn send(
        &self,
        endpoint: &Endpoint,
        wire: &WireRequest,
        dialect: Dialect,
    ) -> Result<reqwest::Response, ProviderError> {
        let url = endpoint.url(&wire.path)?;
        let body = match &wire.body {
            Some(body) => Some(Bytes::from(serde_json::to_vec(body).map_err(|_| {
                ProviderError::new(
                    ProviderErrorKind::BadRequest,
                    format!("The request to {} could not be encoded.", endpoint.label),
                )
            })?)),
            None => None,
        };
        let mut attempt: u32 = 0;
        loop {
            let request = self.build(endpoint, wire, &url, body.clone())?;
            let sent = if wire.streaming {
                // No overall deadline for a stream; the headers must come
                // within the idle timeout all the same.
                match tokio::time::timeout(self.config.idle_timeout, request.send()).await {
                    Ok(sent) => sent,
                    Err(_) => return Err(self.timeout_error(endpoint)),
                }
            } else {
                request.send().await
            };
            let retry_wait = match sent {
                Ok(reply) if reply.status().is_success() => {
                    tracing::debug!(
                        provider = endpoint.label,
                        status = reply.status().as_u16(),
                        attempt,
                        "provider replied"
                    );
                    return Ok(reply);
                }
                Ok(reply) => {
                    let status = reply.status().as_u16();
                    let retry_after = retry_after(reply.headers());
                    let body = read_error_body(reply).await;
                    let error =
                        endpoint.scrub(dialect.error_from_reply(status, retry_after, &body));
                    tracing::warn!(provider = endpoint.label, status, attempt, kind = ?error.kind, "provider refused the request");
                    if attempt >= self.config.max_retries || !dialect.worth_retrying(status, &body)
                    {
                        return Err(error);
                    }
                    let asked = error.retry_after_ms.map(Duration::from_millis);
                    match self.wait_before_retry(attempt, asked) {
                        Some(wait) => wait,
                        None => return Err(error),
                    }
                }
                Err(e) => {
                    let error = self.transport_error(endpoint, &e);
                    tracing::warn!(provider = endpoint.label, attempt, kind = ?error.kind, cause = %error_chain(&e), "provider request failed");
                    if !e.is_connect() || attempt >= self.config.max_retries {
                        return Err(error);
                    }
                    match self.wait_before_retry(attempt, None) {
                        Some(wait) => wait,
                        None => return Err(error),
                    }
                }
            };
            tracing::info!(
                provider = endpoint.label,
                attempt,
                wait_ms = u64::try_from(retry_wait.as_millis()).unwrap_or(u64::MAX),
                "retrying provider request"
            );
            tokio::time::sleep(retry_wait).await;
            attempt += 1;
        }
    }

    /// Sends `wire` and reads the whole reply, up to
    /// [`ClientConfig::max_reply_bytes`].
    pub(crate) async fn fetch(
        &self,
        endpoint: &Endpoint,
        wire: &WireRequest,
        dialect: Dialect,
    ) -> Result<Vec<u8>, ProviderError> {
        let reply = self.send(endpoint, wire, dialect).await?;
        let mut body = ReplyBody::new(self, endpoint, reply, Some(self.config.max_reply_bytes))?;
        let mut out = Vec::new();
        while let Some(chunk) = body.next_chunk().await? {
            out.extend_from_slice(&chunk);
        }
        Ok(out)
    }

    /// Sends `wire` and returns its body to read chunk by chunk, capped at
    /// `cap` bytes in all (`None`: no total cap, for model downloads).
    pub(crate) async fn open_stream(
        &self,
        endpoint: &Endpoint,
        wire: &WireRequest,
        dialect: Dialect,
        cap: Option<usize>,
    ) -> Result<ReplyBody, ProviderError> {
        let reply = self.send(endpoint, wire, dialect).await?;
        ReplyBody::new(self, endpoint, reply, cap)
    }

    fn build(
        &self,
        endpoint: &Endpoint,
        wire: &WireRequest,
        url: &Url,
        body: Option<Bytes>,
    ) -> Result<reqwest::RequestBuilder, ProviderError> {
        let method = match wire.method {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Delete => reqwest::Method::DELETE,
        };
        let mut headers = HeaderMap::new();
        for (name, value) in &wire.headers {
            let name = HeaderName::from_static(name);
            let value = HeaderValue::from_str(value).map_err(|_| {
                ProviderError::new(
                    ProviderErrorKind::BadRequest,
                    format!("A header for {} could not be encoded.", endpoint.label),
                )
            })?;
            headers.insert(name, value);
        }
        if let Some(key) = endpoint.key.as_ref().filter(|k| !k.expose().is_empty()) {
            let (name, value) = match wire.auth {
                Auth::None => (None, None),
                Auth::Bearer => (
                    Some(header::AUTHORIZATION),
                    Some(format!("Bearer {}", key.expose())),
                ),
                Auth::Header(name) => (
                    Some(HeaderName::from_static(name)),
                    Some(key.expose().to_owned()),
                ),
            };
            if let (Some(name), Some(value)) = (name, value) {
                let mut value = HeaderValue::from_str(&value).map_err(|_| {
                    ProviderError::new(
                        ProviderErrorKind::Auth,
                        format!(
                            "The API key for {} has characters that cannot be sent; paste it again.",
                            endpoint.label
                        ),
                    )
                })?;
                value.set_sensitive(true);
                headers.insert(name, value);
            }
        }
        let mut request = self.inner.request(method, url.clone()).headers(headers);
        if let Some(body) = body {
            request = request
                .header(header::CONTENT_TYPE, "application/json")
                .body(body);
        }
        if !wire.streaming {
            request = request.timeout(self.config.request_timeout);
        }
        Ok(request)
    }

    /// The wait before retry number `attempt + 1`: what the provider asked
    /// for, else exponential backoff with a little jitter. `None` when the
    /// provider asked for longer than the config allows.
    fn wait_before_retry(&self, attempt: u32, asked: Option<Duration>) -> Option<Duration> {
        let cap = self.config.max_retry_wait;
        if let Some(asked) = asked {
            return (asked <= cap).then_some(asked);
        }
        let base = self
            .config
            .backoff_base
            .saturating_mul(2u32.saturating_pow(attempt));
        let jitter = base.mul_f64(rand::random::<f64>() * 0.25);
        Some(base.saturating_add(jitter).min(cap))
    }

    fn timeout_error(&self, endpoint: &Endpoint) -> ProviderError {
        ProviderError::new(
            ProviderErrorKind::Timeout,
            format!(
                "{} at {} did not answer in time. Try again; a local model may still be loading.",
                endpoint.label,
                endpoint.host()
            ),
        )
    }

    /// Maps a reqwest failure. The message names the host, never the URL's
    /// path or the request.
    fn transport_error(&self, endpoint: &Endpoint, error: &reqwest::Error) -> ProviderError {
        let host = endpoint.host();
        let label = endpoint.label;
        if let Some(redirect) = find_source::<CrossHostRedirect>(error) {
            return ProviderError::new(
                ProviderErrorKind::BadRequest,
                format!(
                    "{label} at {host} redirected to another host ({}); TFTSR does not follow \
                     that, so the key is never sent elsewhere. Put the final address in the \
                     provider's base URL.",
                    redirect.to
                ),
            );
        }
        if find_source::<TooManyRedirects>(error).is_some() || error.is_redirect() {
            return ProviderError::new(
                ProviderErrorKind::BadRequest,
                format!("{label} at {host} redirected too many times. Check the base URL."),
            );
        }
        if error.is_timeout() {
            return self.timeout_error(endpoint);
        }
        if error.is_connect() {
            return ProviderError::new(
                ProviderErrorKind::Unreachable,
                format!(
                    "Could not reach {host}: is it running? Check the base URL of {label} and \
                     the network ({}).",
                    root_cause(error)
                ),
            );
        }
        if error.is_body() || error.is_decode() {
            return ProviderError::new(
                ProviderErrorKind::Malformed,
                format!(
                    "The reply from {label} could not be read: the stream was cut off. Try again."
                ),
            );
        }
        ProviderError::new(
            ProviderErrorKind::Unreachable,
            format!(
                "The request to {label} at {host} failed ({}). Try again.",
                root_cause(error)
            ),
        )
    }
}

/// "300 ms", "5 s", "2 min".
fn human_duration(wait: Duration) -> String {
    let secs = wait.as_secs();
    if secs == 0 {
        format!("{} ms", wait.as_millis())
    } else if secs < 120 {
        format!("{secs} s")
    } else {
        format!("{} min", secs.div_ceil(60))
    }
}

/// Same host; a port change only for an upgrade from http to https; never
/// a downgrade to plain http.
fn same_site(from: &Url, to: &Url) -> bool {
    if from.host_str() != to.host_str() {
        return false;
    }
    match (from.scheme(), to.scheme()) {
        ("https", "https") | ("http", "http") => {
            from.port_or_known_default() == to.port_or_known_default()
        }
        ("http", "https") => true,
        _ => false,
    }
}

/// The `Retry-After` header: seconds, or an HTTP date.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    if let Ok(seconds) = value.parse::<f64>()
        && seconds.is_finite()
        && seconds >= 0.0
    {
        return Some(Duration::from_secs_f64(seconds.min(86_400.0)));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// Up to 64 KiB of an error reply; what can't be read is left out.
async fn read_error_body(mut reply: reqwest::Response) -> Vec<u8> {
    const MAX: usize = 64 * 1024;
    let mut out = Vec::new();
    while let Ok(Some(chunk)) = reply.chunk().await {
        let room = MAX - out.len();
        out.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if out.len() >= MAX {
            break;
        }
    }
    out
}

fn find_source<'a, T: StdError + 'static>(error: &'a (dyn StdError + 'static)) -> Option<&'a T> {
    let mut current: Option<&(dyn StdError + 'static)> = Some(error);
    while let Some(e) = current {
        if let Some(found) = e.downcast_ref::<T>() {
            return Some(found);
        }
        current = e.source();
    }
    None
}

/// The innermost cause ("Connection refused (os error 111)"), which names
/// no URL.
fn root_cause(error: &(dyn StdError + 'static)) -> String {
    let mut current = error;
    while let Some(next) = current.source() {
        current = next;
    }
    tftsr_core::ai::wire::quote_text(&current.to_string())
}

/// Every cause, for logs. reqwest's own message carries the URL, which
/// holds no secret (keys go in headers, base URLs may not carry
/// credentials).
fn error_chain(error: &(dyn StdError + 'static)) -> String {
    let mut parts = vec![error.to_string()];
    let mut current = error.source();
    while let Some(e) = current {
        parts.push(e.to_string());
        current = e.source();
    }
    parts.join(": ")
}

/// Where a provider lives, and its key.
pub(crate) struct Endpoint {
    pub(crate) label: &'static str,
    base: String,
    host: String,
    pub(crate) key: Option<Secret>,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("label", &self.label)
            .field("base", &self.base)
            .field("key", &self.key)
            .finish()
    }
}

impl Endpoint {
    /// Checks the base URL: http or https, a host, no credentials, query
    /// or fragment (credentials in a URL would end up in error messages).
    pub(crate) fn new(
        label: &'static str,
        base_url: &str,
        key: Option<Secret>,
    ) -> Result<Self, ProviderError> {
        let bad = |why: &str| {
            ProviderError::new(
                ProviderErrorKind::BadRequest,
                format!("The base URL of {label} {why}. Fix it in the provider's settings."),
            )
        };
        let trimmed = base_url.trim().trim_end_matches('/');
        let url = Url::parse(trimmed).map_err(|_| bad("is not a valid URL"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(bad("must start with http:// or https://"));
        }
        let Some(host) = url.host_str() else {
            return Err(bad("has no host"));
        };
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad(
                "may not hold credentials (put the key in the API key field)",
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(bad("may not have a query or a fragment"));
        }
        let host = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        };
        Ok(Self {
            label,
            base: url.as_str().trim_end_matches('/').to_owned(),
            host,
            key: key.filter(|k| !k.expose().is_empty()),
        })
    }

    /// `host[:port]`, for messages.
    pub(crate) fn host(&self) -> &str {
        &self.host
    }

    fn url(&self, path: &str) -> Result<Url, ProviderError> {
        Url::parse(&format!("{}{path}", self.base)).map_err(|_| {
            ProviderError::new(
                ProviderErrorKind::BadRequest,
                format!(
                    "The address for {} could not be built from its base URL.",
                    self.label
                ),
            )
        })
    }

    /// Removes the key from an error's message, should a provider have
    /// echoed it.
    pub(crate) fn scrub(&self, mut error: ProviderError) -> ProviderError {
        if let Some(key) = &self.key {
            let key = key.expose();
            if key.len() >= 4 && error.message.contains(key) {
                error.message = error.message.replace(key, "*****");
            }
        }
        error
    }
}

/// A reply's body, read chunk by chunk with the idle timeout and the size
/// cap applied.
pub(crate) struct ReplyBody {
    reply: reqwest::Response,
    idle: Duration,
    cap: Option<usize>,
    seen: usize,
    label: &'static str,
    host: String,
}

impl ReplyBody {
    fn new(
        client: &HttpClient,
        endpoint: &Endpoint,
        reply: reqwest::Response,
        cap: Option<usize>,
    ) -> Result<Self, ProviderError> {
        let body = Self {
            reply,
            idle: client.config.idle_timeout,
            cap,
            seen: 0,
            label: endpoint.label,
            host: endpoint.host.clone(),
        };
        if let (Some(cap), Some(length)) = (cap, body.reply.content_length())
            && length > u64::try_from(cap).unwrap_or(u64::MAX)
        {
            return Err(body.too_large(cap));
        }
        Ok(body)
    }

    fn too_large(&self, cap: usize) -> ProviderError {
        tracing::warn!(
            provider = self.label,
            cap,
            "provider reply over the size cap"
        );
        ProviderError::new(
            ProviderErrorKind::Malformed,
            format!(
                "The reply from {} at {} was larger than {} MiB and was refused.",
                self.label,
                self.host,
                cap.div_ceil(1024 * 1024)
            ),
        )
    }

    /// The next chunk, or `None` at the end of the body.
    pub(crate) async fn next_chunk(&mut self) -> Result<Option<Bytes>, ProviderError> {
        let chunk = match tokio::time::timeout(self.idle, self.reply.chunk()).await {
            Err(_) => return Err(self.stalled()),
            Ok(Err(e)) if e.is_timeout() => return Err(self.stalled()),
            Ok(Err(e)) => {
                tracing::warn!(provider = self.label, cause = %error_chain(&e), "provider reply broke off");
                return Err(ProviderError::new(
                    ProviderErrorKind::Malformed,
                    format!(
                        "The reply from {} could not be read: the stream was cut off. Try again.",
                        self.label
                    ),
                ));
            }
            Ok(Ok(chunk)) => chunk,
        };
        if let Some(chunk) = &chunk {
            self.seen = self.seen.saturating_add(chunk.len());
            if let Some(cap) = self.cap.filter(|cap| self.seen > *cap) {
                return Err(self.too_large(cap));
            }
        }
        Ok(chunk)
    }

    fn stalled(&self) -> ProviderError {
        ProviderError::new(
            ProviderErrorKind::Timeout,
            format!(
                "{} at {} stopped sending for {}. Try again.",
                self.label,
                self.host,
                human_duration(self.idle)
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).expect("url")
    }

    #[test]
    fn redirects_stay_on_the_same_host() {
        assert!(same_site(
            &url("https://api.x.com/v1"),
            &url("https://api.x.com/v2")
        ));
        assert!(same_site(
            &url("http://api.x.com/v1"),
            &url("https://api.x.com/v1")
        ));
        assert!(!same_site(
            &url("https://api.x.com/v1"),
            &url("http://api.x.com/v1")
        ));
        assert!(!same_site(
            &url("https://api.x.com/v1"),
            &url("https://evil.com/v1")
        ));
        assert!(!same_site(
            &url("http://127.0.0.1:1/v1"),
            &url("http://127.0.0.1:2/v1")
        ));
    }

    #[test]
    fn retry_after_takes_seconds_or_a_date() {
        let mut headers = HeaderMap::new();
        headers.insert(header::RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(7)));
        let later = SystemTime::now() + Duration::from_secs(30);
        let date = httpdate::fmt_http_date(later);
        headers.insert(
            header::RETRY_AFTER,
            HeaderValue::from_str(&date).expect("date"),
        );
        let wait = retry_after(&headers).expect("date");
        assert!(
            wait > Duration::from_secs(27) && wait <= Duration::from_secs(30),
            "{wait:?}"
        );
        headers.insert(
            header::RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&headers), Some(Duration::ZERO));
        headers.insert(header::RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&headers), None);
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let client = HttpClient::new(ClientConfig {
            backoff_base: Duration::from_millis(100),
            max_retry_wait: Duration::from_secs(1),
            ..ClientConfig::default()
        })
        .expect("client");
        let first = client.wait_before_retry(0, None).expect("wait");
        assert!(first >= Duration::from_millis(100) && first <= Duration::from_millis(125));
        let third = client.wait_before_retry(2, None).expect("wait");
        assert!(third >= Duration::from_millis(400) && third <= Duration::from_millis(500));
        assert_eq!(
            client.wait_before_retry(10, None),
            Some(Duration::from_secs(1))
        );
        assert_eq!(
            client.wait_before_retry(0, Some(Duration::from_secs(5))),
            None
        );
    }

    #[test]
    fn base_urls_with_credentials_are_refused() {
        for bad in [
            "ftp://x",
            "https://user:pw@host/v1",
            "https://host/v1?key=abc",
            "nonsense",
        ] {
            assert!(Endpoint::new("T", bad, None).is_err(), "{bad}");
        }
        let ok = Endpoint::new("T", "http://127.0.0.1:8080/v1/", None).expect("ok");
        assert_eq!(ok.host(), "127.0.0.1:8080");
        assert_eq!(
            ok.url("/models").expect("url").as_str(),
            "http://127.0.0.1:8080/v1/models"
        );
    }

    #[test]
    fn keys_are_scrubbed_from_messages() {
        let endpoint = Endpoint::new(
            "T",
            "https://api.x.com",
            Some(Secret::new("sk-test-SECRETKEY".into())),
        )
        .expect("ok");
        let error = ProviderError::new(ProviderErrorKind::Auth, "bad key sk-test-SECRETKEY given");
        assert_eq!(endpoint.scrub(error).message, "bad key ***** given");
        assert!(!format!("{endpoint:?}").contains("SECRETKEY"));
    }
}
