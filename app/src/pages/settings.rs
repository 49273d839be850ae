//! Settings: appearance, PII detection, AI providers, a link to the MCP
//! servers page, and where the data lives.

use leptos::prelude::*;
use leptos_meta::Title;
use tftsr_core::logs::PiiSettingsText;

use crate::api::settings::{SavePiiSettings, get_pii_settings};
use crate::components::states::{ErrorBox, Loading};

#[component]
pub fn SettingsPage() -> impl IntoView {
    view! {
        <Title text="Settings" />
        <header class="page-header"><h1>"Settings"</h1></header>
        <section class="card">
            <h2>"Appearance"</h2>
            <p>"Use the theme button at the bottom of the sidebar. Your choice is remembered in this browser; until you choose, TFTSR follows your system's light or dark setting."</p>
        </section>
        <PiiSettingsSection />
        <crate::components::providers::AiProvidersSection />
        <section class="card" aria-labelledby="mcp-heading">
            <h2 id="mcp-heading">"MCP servers"</h2>
            <p>"Let the assistant call tools on your monitoring, ticket and runbook servers during a triage: " <a href="/settings/mcp" data-testid="mcp-settings-link">"manage MCP servers"</a>"."</p>
        </section>
        <section class="card" aria-labelledby="integrations-heading" id="integrations">
            <h2 id="integrations-heading">"Integrations"</h2>
            <p>"Publish documents to Confluence and file incidents in ServiceNow or work items in Azure DevOps: " <a href="/settings/integrations" data-testid="integrations-link">"set up integrations"</a> "."</p>
        </section>
        <section class="card">
            <h2>"Data"</h2>
            <p>"Everything is stored in one encrypted database on this machine. See " <a href="/security">"Security"</a> " for the cipher, the key source and the audit log."</p>
        </section>
    }
}

/// The allowlist, custom patterns and internal domains, one per line.
#[component]
fn PiiSettingsSection() -> impl IntoView {
    let save = ServerAction::<SavePiiSettings>::new();
    let settings = Resource::new(move || save.version().get(), |_| get_pii_settings());
    let error = move || save.value().get().and_then(Result::err);
    let saved = move || matches!(save.value().get(), Some(Ok(())));
    view! {
        <section class="card" aria-labelledby="pii-heading" id="pii">
            <h2 id="pii-heading">"PII detection"</h2>
            <p class="hint">"Applies to logs scanned from now on. Values on the allowlist are never flagged; custom patterns flag what the built-in detectors cannot know, such as your ticket or customer ids."</p>
            <Transition fallback=|| view! { <Loading /> }>
                {move || Suspend::new(async move {
                    match settings.await {
                        Ok(current) => view! { <PiiSettingsForm current save /> }.into_any(),
                        Err(e) => view! { <ErrorBox error=e /> }.into_any(),
                    }
                })}
            </Transition>
            {move || error().map(|e| view! { <ErrorBox error=e /> })}
            <Show when=saved>
                <p class="saved" role="status">"Saved"</p>
            </Show>
        </section>
    }
}

#[component]
fn PiiSettingsForm(current: PiiSettingsText, save: ServerAction<SavePiiSettings>) -> impl IntoView {
    view! {
        <ActionForm action=save attr:class="form" attr:data-testid="pii-settings">
            <label>"Allowed values (one per line)"
                <textarea name="settings[allow_values]" rows="4" spellcheck="false">{current.allow_values}</textarea>
            </label>
            <label>"Allowed patterns (regular expressions matching the whole value)"
                <textarea name="settings[allow_patterns]" rows="3" spellcheck="false">{current.allow_patterns}</textarea>
            </label>
            <label>"Custom patterns: name | TYPE | regex"
                <textarea name="settings[custom_patterns]" rows="3" spellcheck="false"
                    placeholder="ticket | USERNAME | INC-[0-9]{6}">{current.custom_patterns}</textarea>
            </label>
            <label>"Internal domains (their hosts are your machines)"
                <textarea name="settings[internal_domains]" rows="2" spellcheck="false"
                    placeholder="acme-corp.com">{current.internal_domains}</textarea>
            </label>
            <div class="actions">
                <button type="submit" class="button primary" disabled=move || save.pending().get()>
                    {move || if save.pending().get() { "Saving…" } else { "Save PII settings" }}
                </button>
            </div>
        </ActionForm>
    }
}
