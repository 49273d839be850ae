//! Settings → Integrations: Confluence, ServiceNow and Azure DevOps, one
//! form each. Tokens are write-only: the page says whether one is stored
//! and lets it be replaced or removed, never shows it. "Test connection"
//! makes one cheap authenticated request with the saved settings.

use leptos::prelude::*;
use leptos_meta::Title;
use tftsr_core::publish::Service;

use crate::api::integrations::{SaveIntegration, TestIntegration, list_integrations};
use crate::components::states::{ErrorBox, Loading};
use crate::wire::IntegrationView;

#[derive(Clone, Copy)]
struct Actions {
    save: ServerAction<SaveIntegration>,
    test: ServerAction<TestIntegration>,
}

#[component]
pub fn IntegrationsPage() -> impl IntoView {
    let list = Resource::new(|| (), |_| list_integrations());
    view! {
        <Title text="Integrations" />
        <header class="page-header">
            <p class="breadcrumb"><a href="/settings">"← Settings"</a></p>
            <h1>"Integrations"</h1>
            <p class="hint">"Publish RCAs and post-mortems to Confluence, and file incidents in ServiceNow or work items in Azure DevOps. Everything sent is checked for unreviewed personal data first and written to the audit log before it leaves. Tokens are stored encrypted and never shown again."</p>
        </header>
        <Transition fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(list) => list.into_iter().map(|i| view! { <IntegrationCard current=i /> }).collect_view().into_any(),
                    Err(e) => view! { <ErrorBox error=e /> }.into_any(),
                }
            })}
        </Transition>
    }
}

fn hint(service: Service) -> &'static str {
    match service {
        Service::Confluence => {
            "Pages are created in the space in storage format, and updated when you publish again. Cloud: the address is https://your-site.atlassian.net/wiki, the user name your Atlassian e-mail and the token an API token. Server/Data Center: leave the user name empty to send a personal access token as Bearer."
        }
        Service::ServiceNow => {
            "Creates an incident through the Table API (urgency and impact from the issue's severity, the issue id as correlation id). Basic auth: a user with the itil role and its password."
        }
        Service::AzureDevOps => {
            "Creates a work item (Bug by default) with the document as its description and the issue id in its tags. The address is your organization, e.g. https://dev.azure.com/acme; the token a personal access token with Work Items (read & write)."
        }
    }
}

#[component]
fn IntegrationCard(current: IntegrationView) -> impl IntoView {
    // Each card has its own actions, so errors and results show where
    // they belong.
    let actions = Actions {
        save: ServerAction::<SaveIntegration>::new(),
        test: ServerAction::<TestIntegration>::new(),
    };
    let service = current.service;
    let key = service.as_str();
    let id = move |name: &str| format!("{key}-{name}");
    let latest = move || actions.save.value().get().and_then(Result::ok);
    let (initial_token, initial_enabled) = (current.token_set, current.enabled);
    let token_set = move || latest().map_or(initial_token, |v| v.token_set);
    let enabled = move || latest().map_or(initial_enabled, |v| v.enabled);
    let configured_now = current.updated_at.is_some();
    let configured = move || configured_now || latest().is_some();
    let error_for = move |name: &'static str| {
        move || {
            actions
                .save
                .value()
                .get()
                .and_then(Result::err)
                .and_then(|e| e.field(name))
                .map(|m| view! { <span class="field-error" role="alert" id=format!("{key}-{name}-error")>{m}</span> })
        }
    };
    let other_error = move || {
        actions
            .save
            .value()
            .get()
            .and_then(Result::err)
            .filter(|e| !matches!(e, crate::AppError::Invalid(_)))
            .map(|e| view! { <ErrorBox error=e /> })
    };
    let saved = move || matches!(actions.save.value().get(), Some(Ok(_)));
    // Once saved, the typed token is stored: empty the field, so a later
    // save of other settings keeps it instead of storing it again.
    let token_ref = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if saved()
            && let Some(input) = token_ref.get()
        {
            input.set_value("");
        }
    });
    let test_result = move || {
        actions.test.value().get().map(|r| match r {
            Ok(t) => {
                let class = if t.ok() { "alert alert-ok" } else { "alert alert-error" };
                view! {
                    <div class=class role="status" data-testid=format!("{key}-test-result") data-outcome=t.outcome.as_str()>
                        <strong>{format!("{}. ", t.outcome.label())}</strong>
                        {t.message.clone()}{format!(" ({} ms)", t.elapsed_ms)}
                    </div>
                }.into_any()
            }
            Err(e) => view! { <ErrorBox error=e /> }.into_any(),
        })
    };
    view! {
        <section class="card" aria-labelledby=id("heading") id=key data-testid=format!("integration-{key}")>
            <h2 id=id("heading")>{service.label()}
                {move || enabled().then(|| view! { " " <span class="badge ok">"enabled"</span> })}
            </h2>
            <p class="hint">{hint(service)}</p>
            <ActionForm action=actions.save attr:class="provider-form" attr:novalidate="">
                <input type="hidden" name="form[service]" value=key />
                <label for=id("base_url")>"Address"
                    <input id=id("base_url") name="form[base_url]" type="url" required=true
                        value=current.base_url.clone() data-testid=format!("{key}-base-url")
                        placeholder=match service {
                            Service::Confluence => "https://your-site.atlassian.net/wiki",
                            Service::ServiceNow => "https://your-instance.service-now.com",
                            Service::AzureDevOps => "https://dev.azure.com/your-org",
                        } />
                    {error_for("base_url")}
                </label>
                {(service == Service::Confluence).then(|| view! {
                    <label for=id("space_key")>"Space key"
                        <input id=id("space_key") name="form[space_key]" required=true value=current.space_key.clone() data-testid=format!("{key}-space-key") placeholder="OPS" />
                        {error_for("space_key")}
                    </label>
                })}
                {(service == Service::AzureDevOps).then(|| view! {
                    <label for=id("project")>"Project"
                        <input id=id("project") name="form[project]" required=true value=current.project.clone() data-testid=format!("{key}-project") />
                        {error_for("project")}
                    </label>
                    <label for=id("work_item_type")>"Work item type"
                        <input id=id("work_item_type") name="form[work_item_type]" value=current.work_item_type.clone() placeholder="Bug" data-testid=format!("{key}-work-item-type") />
                        {error_for("work_item_type")}
                    </label>
                })}
                {(service != Service::AzureDevOps).then(|| view! {
                    <label for=id("username")>{if service == Service::Confluence { "User name (empty for a personal access token)" } else { "User name" }}
                        <input id=id("username") name="form[username]" autocomplete="off" value=current.username.clone() data-testid=format!("{key}-username") />
                        {error_for("username")}
                    </label>
                })}
                <label for=id("token")>
                    <span data-testid=format!("{key}-token-state")>{move || if token_set() { "Token: stored (set). Type a new one to replace it." } else { "Token (not set)" }}</span>
                    <input node_ref=token_ref id=id("token") name="form[token]" type="password" autocomplete="new-password" data-testid=format!("{key}-token") />
                    {error_for("token")}
                </label>
                <div class="checks">
                    {move || token_set().then(|| view! {
                        <label class="check"><input type="checkbox" name="form[clear_token]" value="1" data-testid=format!("{key}-clear-token") />"Remove the stored token"</label>
                    })}
                    {service.tracks_issues().then(|| view! {
                        <label class="check"><input type="checkbox" name="form[auto_create_on_resolve]" value="1" checked=current.auto_create_on_resolve data-testid=format!("{key}-auto") />
                            {format!("Create the {} when an issue is resolved", service.item())}</label>
                        {error_for("auto_create_on_resolve")}
                    })}
                    <label class="check"><input type="checkbox" name="form[enabled]" value="1" checked=current.enabled data-testid=format!("{key}-enabled") />"Enabled"</label>
                </div>
                <div class="actions">
                    <button type="submit" class="button primary" data-testid=format!("{key}-save") disabled=move || actions.save.pending().get()>
                        {move || if actions.save.pending().get() { "Saving…" } else { "Save" }}
                    </button>
                </div>
            </ActionForm>
            {other_error}
            <Show when=saved><p class="saved" role="status">"Saved"</p></Show>
            {move || configured().then(|| view! {
                <ActionForm action=actions.test attr:class="inline-form">
                    <input type="hidden" name="service" value=key />
                    <button type="submit" class="button" data-testid=format!("{key}-test") disabled=move || actions.test.pending().get()>
                        {move || if actions.test.pending().get() { "Testing…" } else { "Test connection" }}
                    </button>
                </ActionForm>
            })}
            {test_result}
        </section>
    }
}
