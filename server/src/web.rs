//! The axum application: Leptos routes and server functions behind the
//! security gate. Built by [`router`] so tests can drive it without a socket.

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, file_and_error_handler_with_context, generate_route_list};
use tftsr_app::{App, shell};

use crate::cli::AppParts;
use crate::security::{self, Policy};

/// Leptos' options for a server on `addr` serving the site in `site_root`.
pub fn leptos_options(site_root: &str, addr: std::net::SocketAddr) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name("tftsr")
        .site_root(site_root)
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .env(leptos::config::Env::PROD)
        .build()
}

pub fn router(parts: AppParts, options: LeptosOptions, policy: Arc<Policy>) -> Router {
    let AppParts {
        services,
        logs,
        images,
        ..
    } = parts;
    let routes = generate_route_list(App);
    // The log routes stream bytes, so they are plain axum handlers; the
    // security gate caps the upload at the configured size instead of the
    // usual 1 MiB, and axum's own default limit is lifted for it.
    let log_routes = Router::new()
        .route(
            "/api/issues/{id}/logs",
            post(crate::logs::upload::upload).layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/api/logs/{id}/redacted",
            get(crate::logs::upload::download_redacted),
        )
        .with_state(logs);
    let image_routes = Router::new()
        .route(
            "/api/issues/{id}/images",
            post(crate::attachments::upload).layer(DefaultBodyLimit::disable()),
        )
        .route("/api/images/{id}", get(crate::attachments::original))
        .route("/api/images/{id}/thumb", get(crate::attachments::thumb))
        .with_state(images);
    let document_routes = Router::new()
        .route(
            "/api/export/{issue}/{kind}/{format}",
            get(crate::documents::download),
        )
        .with_state(services.documents.clone());
    let audit_routes = Router::new()
        .route("/api/audit/export", get(crate::audit_export::export))
        .with_state(services.system.clone());
    let context = move || provide_context(services.clone());
    let app_shell = {
        let options = options.clone();
        move || shell(options.clone())
    };
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .merge(log_routes)
        .merge(image_routes)
        .merge(document_routes)
        .merge(audit_routes)
        .leptos_routes_with_context(&options, routes, context.clone(), app_shell)
        .fallback(file_and_error_handler_with_context(context, shell))
        .layer(axum::middleware::from_fn_with_state(
            policy,
            security::guard,
        ))
        .with_state(options)
}
