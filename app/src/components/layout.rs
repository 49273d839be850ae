//! The frame around every page: sidebar navigation and the theme toggle.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::api::system::SetTheme;
use crate::routes::ThemeSignal;
use crate::wire::Theme;

#[component]
pub fn Layout(children: Children) -> impl IntoView {
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <div class="frame">
            <Sidebar />
            <main id="main" class="content" tabindex="-1">
                {children()}
            </main>
        </div>
    }
}

#[component]
fn Sidebar() -> impl IntoView {
    view! {
        <nav class="sidebar" aria-label="Main">
            <a class="brand" href="/">
                <img src="/icons/icon.svg" alt="" width="28" height="28" />
                <span>"TFTSR"</span>
            </a>
            <ul class="nav">
                <li><A href="/" exact=true>"Dashboard"</A></li>
                <li><A href="/issues">"Issues"</A></li>
                <li><A href="/issues/new">"New issue"</A></li>
                <li><A href="/ollama">"Local models"</A></li>
                <li><A href="/security">"Security"</A></li>
            </ul>
            <p class="nav-heading">"Settings"</p>
            <ul class="nav">
                <li><A href="/settings" exact=true>"General"</A></li>
                <li><A href="/settings/mcp">"MCP servers"</A></li>
                <li><A href="/settings/integrations">"Integrations"</A></li>
            </ul>
            <ThemeToggle />
        </nav>
    }
}

/// Switches between light and dark. Works without JavaScript (a form post
/// that sets a cookie) and, once hydrated, without a page load.
#[component]
fn ThemeToggle() -> impl IntoView {
    let ThemeSignal(theme) = expect_context::<ThemeSignal>();
    let set_theme = ServerAction::<SetTheme>::new();
    // With no choice yet the page follows the system; the toggle offers dark.
    let next = move || theme.get().unwrap_or(Theme::Light).other();

    Effect::new(move |_| {
        if let Some(t) = set_theme
            .value()
            .get()
            .and_then(Result::ok)
            .and_then(|c| Theme::parse(&c))
        {
            theme.set(Some(t));
            if let Some(html) = document().document_element() {
                let _ = html.set_attribute("data-theme", t.as_str());
            }
        }
    });

    view! {
        <ActionForm action=set_theme attr:class="theme-toggle">
            <input type="hidden" name="theme" value=move || next().as_str() />
            <button type="submit" data-testid="theme-toggle" aria-label=move || format!("Switch to {} theme", next().as_str())>
                {move || match next() {
                    Theme::Dark => "☾ Dark theme",
                    Theme::Light => "☀ Light theme",
                }}
            </button>
        </ActionForm>
    }
}
