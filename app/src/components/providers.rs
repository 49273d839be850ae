//! Settings → AI providers: the built-in analyst and the models people add
//! (OpenAI-compatible, Mistral, Anthropic, Gemini, Ollama). Keys are
//! write-only: the page shows their last four characters at most.

use leptos::prelude::*;
use tftsr_core::ai::{ProviderKind, ProviderSettings};

use crate::api::providers::{
    DeleteProvider, MakeDefaultProvider, SaveProvider, TestProvider, list_providers,
};
use crate::components::states::{ErrorBox, Loading};

#[derive(Clone, Copy)]
struct Actions {
    save: ServerAction<SaveProvider>,
    delete: ServerAction<DeleteProvider>,
    default: ServerAction<MakeDefaultProvider>,
    test: ServerAction<TestProvider>,
}

#[component]
pub fn AiProvidersSection() -> impl IntoView {
    let actions = Actions {
        save: ServerAction::new(),
        delete: ServerAction::new(),
        default: ServerAction::new(),
        test: ServerAction::new(),
    };
    let providers = Resource::new(
        move || {
            actions.save.version().get()
                + actions.delete.version().get()
                + actions.default.version().get()
        },
        |_| list_providers(),
    );
    let error = move || {
        [
            actions.save.value().get().and_then(Result::err),
            actions.delete.value().get().and_then(Result::err),
            actions.default.value().get().and_then(Result::err),
            actions.test.value().get().and_then(Result::err),
        ]
        .into_iter()
        .flatten()
        .next()
    };
    view! {
        <section class="card" aria-labelledby="ai-heading" id="ai">
            <h2 id="ai-heading">"AI providers"</h2>
            <p class="hint">"The default provider answers in new triages. The built-in analyst works offline and sends nothing anywhere. For any other provider, every message is checked for unreviewed personal data first, and each send is written to the audit log."</p>
            {move || error().map(|e| view! { <ErrorBox error=e /> })}
            {move || actions.test.value().get().and_then(Result::ok).map(|t| {
                let class = if t.ok { "alert alert-ok" } else { "alert alert-error" };
                view! {
                    <div class=class role="status" data-testid="provider-test">
                        <strong>{if t.ok { "Connection works. " } else { "Connection failed. " }}</strong>
                        {t.message}{format!(" ({} ms)", t.elapsed_ms)}
                        {(!t.models.is_empty()).then(|| view! { <p>"Models: " {t.models.join(", ")}</p> })}
                    </div>
                }
            })}
            <Transition fallback=|| view! { <Loading /> }>
                {move || Suspend::new(async move {
                    match providers.await {
                        Ok(list) => view! {
                            <ul class="provider-list" data-testid="providers">
                                {list.into_iter().map(|p| view! { <ProviderRow provider=p actions /> }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(e) => view! { <ErrorBox error=e /> }.into_any(),
                    }
                })}
            </Transition>
            <details class="add-provider">
                <summary class="button" data-testid="add-provider">"Add a provider"</summary>
                <ProviderForm provider=None actions />
            </details>
        </section>
    }
}

#[component]
fn ProviderRow(provider: ProviderSettings, actions: Actions) -> impl IntoView {
    let id = provider.id.to_string();
    let (id_default, id_test, id_delete) = (id.clone(), id.clone(), id.clone());
    let builtin = provider.kind == ProviderKind::Builtin;
    view! {
        <li data-testid="provider" data-kind=provider.kind.as_str()>
            <strong>{provider.name.clone()}</strong>
            <span class="muted">{provider.kind.label()}</span>
            {(!provider.model.is_empty()).then(|| view! { <span class="mono">{provider.model.clone()}</span> })}
            {(!provider.base_url.is_empty()).then(|| view! { <span class="mono muted">{provider.base_url.clone()}</span> })}
            {provider.key_hint.clone().map(|h| view! { <span class="mono" title="The key's last four characters">{format!("key …{h}")}</span> })}
            {provider.is_default.then(|| view! { <span class="badge ok" data-testid="default-provider">"default"</span> })}
            {(!provider.is_default).then(|| view! {
                <ActionForm action=actions.default>
                    <input type="hidden" name="id" value=id_default />
                    <button type="submit" class="button" data-testid="make-default">"Make default"</button>
                </ActionForm>
            })}
            <ActionForm action=actions.test>
                <input type="hidden" name="id" value=id_test />
                <button type="submit" class="button" data-testid="test-provider" disabled=move || actions.test.pending().get()>
                    {move || if actions.test.pending().get() { "Testing…" } else { "Test" }}
                </button>
            </ActionForm>
            {(!builtin).then(|| {
                let provider = provider.clone();
                view! {
                    <details>
                        <summary class="button">"Edit"</summary>
                        <ProviderForm provider=Some(provider) actions />
                    </details>
                    <ActionForm action=actions.delete>
                        <input type="hidden" name="id" value=id_delete />
                        <button type="submit" class="button danger">"Delete"</button>
                    </ActionForm>
                }
            })}
        </li>
    }
}

#[component]
fn ProviderForm(provider: Option<ProviderSettings>, actions: Actions) -> impl IntoView {
    let prefix = provider
        .as_ref()
        .map(|p| p.id.to_string())
        .unwrap_or_else(|| "new".to_owned());
    let field = move |name: &str| format!("provider-{prefix}-{name}");
    let id = provider
        .as_ref()
        .map(|p| p.id.to_string())
        .unwrap_or_default();
    let kind = provider
        .as_ref()
        .map(|p| p.kind)
        .unwrap_or(ProviderKind::OpenAi);
    let has_key = provider.as_ref().is_some_and(|p| p.key_hint.is_some());
    let error_for = move |name: &'static str| {
        move || {
            actions
                .save
                .value()
                .get()
                .and_then(Result::err)
                .and_then(|e| e.field(name))
                .map(|m| view! { <span class="field-error" role="alert">{m}</span> })
        }
    };
    view! {
        <ActionForm action=actions.save attr:class="provider-form">
            <input type="hidden" name="form[id]" value=id />
            <label for=field("name")>"Name"
                <input id=field("name") name="form[name]" required=true maxlength="80"
                    value=provider.as_ref().map(|p| p.name.clone()).unwrap_or_default() data-testid="provider-name" />
                {error_for("name")}
            </label>
            <label for=field("kind")>"API"
                <select id=field("kind") name="form[kind]" data-testid="provider-kind">
                    {ProviderKind::ALL.iter().filter(|k| k.is_remote()).map(|k| view! {
                        <option value=k.as_str() selected=*k == kind>{k.label()}</option>
                    }).collect_view()}
                </select>
                {error_for("kind")}
            </label>
            <label for=field("base_url")>"Base URL"
                <input id=field("base_url") name="form[base_url]" type="url" placeholder="default for the API"
                    value=provider.as_ref().map(|p| p.base_url.clone()).unwrap_or_default() data-testid="provider-url" />
                {error_for("base_url")}
            </label>
            <label for=field("model")>"Model"
                <input id=field("model") name="form[model]" required=true
                    value=provider.as_ref().map(|p| p.model.clone()).unwrap_or_default() data-testid="provider-model" />
                {error_for("model")}
            </label>
            <label for=field("api_key")>{if has_key { "API key (leave empty to keep the stored one)" } else { "API key" }}
                <input id=field("api_key") name="form[api_key]" type="password" autocomplete="off" data-testid="provider-key" />
                {error_for("api_key")}
            </label>
            {has_key.then(|| view! {
                <label><input type="checkbox" name="form[clear_key]" value="1" />" Remove the stored key"</label>
            })}
            <label for=field("context")>"Context size (tokens)"
                <input id=field("context") name="form[context_tokens]" inputmode="numeric" placeholder="default for the API"
                    value=provider.as_ref().map(|p| p.context_tokens.to_string()).unwrap_or_default() />
                {error_for("context_tokens")}
            </label>
            <div>
                <button type="submit" class="button primary" data-testid="save-provider" disabled=move || actions.save.pending().get()>
                    {move || if actions.save.pending().get() { "Saving…" } else { "Save provider" }}
                </button>
            </div>
        </ActionForm>
    }
}
