//! The HTML shell, the app root and its routes.

use leptos::prelude::*;
use leptos_meta::{Link, Meta, MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{SsrMode, path};

use crate::components::layout::Layout;
use crate::pages::{
    dashboard::DashboardPage, documents::DocumentPage, integrations::IntegrationsPage,
    issue_detail::IssueDetailPage, issues_list::IssuesPage, log_review::LogReviewPage,
    mcp::McpServersPage, new_issue::NewIssuePage, not_found::NotFound, ollama::OllamaPage,
    security::SecurityPage, settings::SettingsPage, timeline::TimelinePage, triage::TriagePage,
};
use crate::wire::Theme;

/// The theme chosen in this browser, if any (the cookie).
#[derive(Clone, Copy)]
pub struct ThemeSignal(pub RwSignal<Option<Theme>>);

/// The theme the server sees in the request's cookie.
fn request_theme() -> Option<Theme> {
    #[cfg(feature = "ssr")]
    {
        use_context::<http::request::Parts>()
            .and_then(|parts| {
                parts
                    .headers
                    .get(http::header::COOKIE)?
                    .to_str()
                    .ok()
                    .map(str::to_owned)
            })
            .and_then(|cookie| Theme::from_cookie_header(&cookie))
    }
    #[cfg(not(feature = "ssr"))]
    {
        document()
            .document_element()
            .and_then(|html| html.get_attribute("data-theme"))
            .and_then(|t| Theme::parse(&t))
    }
}

/// Hands the security middleware's CSP nonce to Leptos, so its inline
/// hydration script carries it.
fn provide_csp_nonce() {
    #[cfg(feature = "ssr")]
    if let Some(nonce) = use_context::<http::request::Parts>()
        .and_then(|p| p.extensions.get::<crate::services::CspNonce>().cloned())
    {
        provide_context(leptos::nonce::Nonce::from_value(nonce.0));
    }
}

/// The document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    provide_csp_nonce();
    let theme = request_theme().map(Theme::as_str);
    view! {
        <!DOCTYPE html>
        <html lang="en" data-theme=theme>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <HydrationScripts options />
                <MetaTags />
                <script src="/register-sw.js" defer></script>
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    provide_context(ThemeSignal(RwSignal::new(request_theme())));

    view! {
        <Stylesheet id="leptos" href="/pkg/tftsr.css" />
        <Link rel="manifest" href="/manifest.webmanifest" />
        <Link rel="icon" href="/favicon.ico" />
        <Meta name="theme-color" content="#0f766e" />
        <Meta name="description" content="TFTSR: incident triage to root cause and post-mortem, without leaking secrets." />
        <Title formatter=|page: String| if page.is_empty() { "TFTSR".to_owned() } else { format!("{page} · TFTSR") } />
        <Router>
            <Layout>
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=DashboardPage ssr=SsrMode::Async />
                    <Route path=path!("/issues") view=IssuesPage ssr=SsrMode::Async />
                    <Route path=path!("/issues/new") view=NewIssuePage ssr=SsrMode::Async />
                    <Route path=path!("/issues/:id") view=IssueDetailPage ssr=SsrMode::Async />
                    <Route path=path!("/issues/:id/logs/:file") view=LogReviewPage ssr=SsrMode::Async />
                    <Route path=path!("/issues/:id/triage") view=TriagePage ssr=SsrMode::Async />
                    <Route path=path!("/issues/:id/timeline") view=TimelinePage ssr=SsrMode::Async />
                    <Route path=path!("/issues/:id/documents/:kind") view=DocumentPage ssr=SsrMode::Async />
                    <Route path=path!("/settings") view=SettingsPage ssr=SsrMode::Async />
                    <Route path=path!("/settings/mcp") view=McpServersPage ssr=SsrMode::Async />
                    <Route path=path!("/settings/integrations") view=IntegrationsPage ssr=SsrMode::Async />
                    <Route path=path!("/ollama") view=OllamaPage ssr=SsrMode::Async />
                    <Route path=path!("/security") view=SecurityPage ssr=SsrMode::Async />
                </Routes>
            </Layout>
        </Router>
    }
}
