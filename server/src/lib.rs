//! # tftsr (server)
//!
//! Everything that does IO: configuration, the SQLCipher store, the security
//! gate, the web server and the CLI. It implements `tftsr-core`'s ports and
//! hands the resulting services to the Leptos app as context. `main.rs` only
//! parses arguments and calls [`cli::run`].

pub mod attachments;
pub mod audit_export;
pub mod blobs;
pub mod cli;
pub mod clock;
pub mod config;
pub mod credentials;
pub mod documents;
pub mod export;
pub mod hardware;
pub mod integrations;
pub mod logs;
pub mod mcp;
pub mod ollama;
pub mod providers;
pub mod scan_cli;
pub mod secret;
pub mod security;
pub mod store;
pub mod system;
pub mod triage;
pub mod web;
