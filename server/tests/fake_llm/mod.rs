//! A scripted HTTP server on 127.0.0.1 that stands in for a model provider:
//! it records every request (method, path with query, headers, JSON body)
//! and answers each with the next scripted [`Reply`] — JSON, an SSE or
//! NDJSON stream sent in chunks, slow, cut off, redirected.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use serde_json::Value;

/// One request as the fake provider saw it.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    /// The path and query.
    pub uri: String,
    pub headers: HeaderMap,
    pub body: Option<Value>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn body(&self) -> &Value {
        self.body.as_ref().expect("a JSON body")
    }
}

/// What happens to the connection after the scripted chunks.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Ending {
    /// The body ends properly.
    Clean,
    /// The connection breaks (no end of the chunked body).
    Abort,
}

/// A scripted answer.
#[derive(Clone, Debug)]
pub struct Reply {
    status: StatusCode,
    headers: Vec<(HeaderName, HeaderValue)>,
    chunks: Vec<Bytes>,
    /// Before the status line.
    delay: Duration,
    /// Between chunks.
    chunk_delay: Duration,
    ending: Ending,
}

impl Reply {
    pub fn new(status: u16, content_type: &str, chunks: Vec<Bytes>) -> Self {
        Self {
            status: StatusCode::from_u16(status).expect("status"),
            headers: vec![(
                header::CONTENT_TYPE,
                HeaderValue::from_str(content_type).expect("type"),
            )],
            chunks,
            delay: Duration::ZERO,
            chunk_delay: Duration::ZERO,
            ending: Ending::Clean,
        }
    }

    pub fn json(status: u16, body: Value) -> Self {
        Self::new(
            status,
            "application/json",
            vec![Bytes::from(body.to_string())],
        )
    }

    pub fn raw(status: u16, content_type: &str, body: impl Into<Bytes>) -> Self {
        Self::new(status, content_type, vec![body.into()])
    }

    /// A stream sent as the given pieces.
    pub fn stream(content_type: &str, pieces: &[&str]) -> Self {
        Self::new(
            200,
            content_type,
            pieces.iter().map(|p| Bytes::from(p.to_string())).collect(),
        )
    }

    pub fn sse(pieces: &[&str]) -> Self {
        Self::stream("text/event-stream", pieces)
    }

    pub fn ndjson(pieces: &[&str]) -> Self {
        Self::stream("application/x-ndjson", pieces)
    }

    pub fn redirect(status: u16, location: &str) -> Self {
        Self::new(status, "text/plain", vec![]).header("location", location)
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((
            HeaderName::from_bytes(name.as_bytes()).expect("name"),
            HeaderValue::from_str(value).expect("value"),
        ));
        self
    }

    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    pub fn chunk_delay(mut self, delay: Duration) -> Self {
        self.chunk_delay = delay;
        self
    }

    pub fn abort(mut self) -> Self {
        self.ending = Ending::Abort;
        self
    }
}

struct Inner {
    replies: Mutex<VecDeque<Reply>>,
    seen: Mutex<Vec<Recorded>>,
}

/// A running fake provider. It stops when the test's runtime ends.
pub struct FakeServer {
    pub addr: SocketAddr,
    inner: Arc<Inner>,
}

impl FakeServer {
    pub async fn start(replies: Vec<Reply>) -> Self {
        let inner = Arc::new(Inner {
            replies: Mutex::new(replies.into()),
            seen: Mutex::new(Vec::new()),
        });
        let app = Router::new().fallback(handle).with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { addr, inner }
    }

    /// `http://127.0.0.1:<port>` followed by `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.inner.seen.lock().expect("lock").clone()
    }

    pub fn request(&self, n: usize) -> Recorded {
        let seen = self.requests();
        seen.get(n)
            .cloned()
            .unwrap_or_else(|| panic!("request {n} not received; got {}", seen.len()))
    }
}

async fn handle(State(inner): State<Arc<Inner>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, 16 * 1024 * 1024)
        .await
        .unwrap_or_default();
    let body = serde_json::from_slice(&bytes).ok();
    inner.seen.lock().expect("lock").push(Recorded {
        method: parts.method.to_string(),
        uri: parts
            .uri
            .path_and_query()
            .map(|p| p.to_string())
            .unwrap_or_default(),
        headers: parts.headers,
        body,
    });
    let reply = inner.replies.lock().expect("lock").pop_front();
    let Some(reply) = reply else {
        return Response::builder()
            .status(500)
            .body(Body::from("no scripted reply left"))
            .expect("response");
    };
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let Reply {
        status,
        headers,
        chunks,
        chunk_delay,
        ending,
        ..
    } = reply;
    let mut response = Response::builder().status(status);
    for (name, value) in headers {
        response = response.header(name, value);
    }
    // One piece, sent at once: a plain body with a Content-Length.
    if chunks.len() <= 1 && ending == Ending::Clean {
        let body = chunks.into_iter().next().unwrap_or_default();
        return response.body(Body::from(body)).expect("response");
    }
    let pieces = chunks.into_iter().map(Some).chain(std::iter::once(None));
    let stream =
        futures_util::stream::unfold((pieces, true), move |(mut pieces, first)| async move {
            let next = pieces.next()?;
            if !first && !chunk_delay.is_zero() {
                tokio::time::sleep(chunk_delay).await;
            }
            match next {
                Some(chunk) => Some((Ok::<Bytes, std::io::Error>(chunk), (pieces, false))),
                None if ending == Ending::Abort => {
                    // Let the pieces reach the client first: hyper drops
                    // what it has not flushed when the body fails.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    Some((
                        Err(std::io::Error::other("connection dropped")),
                        (pieces, false),
                    ))
                }
                None => None,
            }
        });
    response.body(Body::from_stream(stream)).expect("response")
}
