//! Settings. Providers, MCP servers and integrations arrive with their
//! features; for now: appearance and where the data lives.

use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn SettingsPage() -> impl IntoView {
    view! {
        <Title text="Settings" />
        <header class="page-header"><h1>"Settings"</h1></header>
        <section class="card">
            <h2>"Appearance"</h2>
            <p>"Use the theme button at the bottom of the sidebar. Your choice is remembered in this browser; until you choose, TFTSR follows your system's light or dark setting."</p>
        </section>
        <section class="card">
            <h2>"AI assistant"</h2>
            <p>"The built-in offline analyst, cloud providers and Ollama are configured here once triage arrives. Nothing is sent anywhere today."</p>
        </section>
        <section class="card">
            <h2>"Data"</h2>
            <p>"Everything is stored in one encrypted database on this machine. See " <a href="/security">"Security"</a> " for the cipher, the key source and the audit log."</p>
        </section>
    }
}
