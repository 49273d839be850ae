//! # tftsr-app
//!
//! The UI and the API contract of TFTSR: Leptos components and pages, the
//! router, and the `#[server]` functions. Server functions are thin adapters:
//! they take the services from context, call one use case in `tftsr-core`,
//! and map the result to a wire type and any error to an [`AppError`] that
//! carries only a safe message.
//!
//! Server-only code is behind `#[cfg(feature = "ssr")]`, gathered in
//! [`services`]; everything else compiles for the browser too.

// Leptos view types nest deeply; pages with many sections exceed the default.
#![recursion_limit = "256"]

pub mod api;
pub mod components;
pub mod error;
pub mod pages;
pub mod routes;
#[cfg(feature = "ssr")]
pub mod services;
pub mod wire;

pub use error::AppError;
pub use routes::{App, shell};
