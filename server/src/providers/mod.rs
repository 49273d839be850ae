//! The AI providers, over HTTP: one hardened client ([`HttpClient`], limits
//! in [`ClientConfig`]), the [`ChatProvider`](tftsr_core::ai::ChatProvider)
//! port implemented for every remote kind ([`HttpProvider`]), and the model
//! store of an Ollama server ([`OllamaAdmin`]).
//!
//! Each provider's wire format (request bodies, stream decoding, error
//! mapping) is pure code in `tftsr_core::ai::wire`; this module adds the
//! sockets and the keys. Keys are [`Secret`](crate::secret::Secret)s: sent
//! only in headers marked sensitive, never logged, and scrubbed from any
//! error message. Logs name the provider, model, status and timings, never
//! a prompt or a reply.
//!
//! ```no_run
//! # async fn demo() -> Result<(), tftsr_core::ai::ProviderError> {
//! use futures_util::StreamExt;
//! use tftsr_core::ai::{ChatEvent, ChatMessage, ChatProvider, ChatRequest, ProviderKind};
//! use tftsr_server::providers::{ClientConfig, HttpClient, HttpProvider};
//! use tftsr_server::secret::Secret;
//!
//! let client = HttpClient::new(ClientConfig::default()).expect("TLS set up");
//! let provider = HttpProvider::with_client(
//!     client,
//!     ProviderKind::Anthropic,
//!     "https://api.anthropic.com",
//!     Some("claude-sonnet-4-5".into()),
//!     Some(Secret::new("sk-ant-...".into())),
//! )?;
//! let request = ChatRequest {
//!     model: String::new(), // the provider's model
//!     messages: vec![ChatMessage::system("You find root causes."), ChatMessage::user("Why?")],
//!     tools: vec![],
//!     temperature: None,
//!     max_tokens: None,
//! };
//! let mut stream = provider.chat(request).await?;
//! while let Some(event) = stream.next().await {
//!     match event? {
//!         ChatEvent::Text { delta } => print!("{delta}"),
//!         ChatEvent::ToolCall { call } => println!("tool: {}", call.name),
//!         ChatEvent::Usage { .. } => {}
//!         ChatEvent::Done { reason } => println!("\n({})", reason.label()),
//!     }
//! }
//! # Ok(())
//! # }
//! ```

mod client;
mod http;
mod ollama;

pub use client::{ClientBuildError, ClientConfig, HttpClient};
pub use http::HttpProvider;
pub use ollama::{OllamaAdmin, PullStream};
pub use tftsr_core::ai::wire::ollama::PullProgress;
