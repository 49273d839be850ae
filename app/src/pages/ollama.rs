//! Local models: what this machine has (CPU, RAM, GPUs), which model sizes
//! fit it, and the models of an Ollama server — list, pull with a live
//! progress bar, cancel, delete.
//!
//! Pulls run on the server; while one is under way the page polls its
//! progress. Without JavaScript the forms still work and the page shows the
//! progress as of its last load.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;
use tftsr_core::ai::ModelInfo;
use tftsr_core::ai::sizing::{Fit, Hardware, Recommendation, format_bytes};

use crate::api::ollama::{
    CancelPull, DeleteModel, PullModel, model_pulls, ollama_hardware, ollama_models, ollama_servers,
};
use crate::components::logs::later;
use crate::components::states::{ErrorBox, Loading};
use crate::wire::{HardwareReport, OllamaServer, PullState};

#[derive(Clone, Copy)]
struct Actions {
    pull: ServerAction<PullModel>,
    cancel: ServerAction<CancelPull>,
    delete: ServerAction<DeleteModel>,
}

#[component]
pub fn OllamaPage() -> impl IntoView {
    let query = use_query_map();
    let server = Memo::new(move |_| query.with(|q| q.get("server").unwrap_or_default()));
    let actions = Actions {
        pull: ServerAction::new(),
        cancel: ServerAction::new(),
        delete: ServerAction::new(),
    };
    let hardware = Resource::new(|| (), |_| ollama_hardware());
    let servers = Resource::new(|| (), |_| ollama_servers());
    let tick = RwSignal::new(0u32);
    let pulls = Resource::new(
        move || {
            (
                server.get(),
                tick.get(),
                actions.pull.version().get() + actions.cancel.version().get(),
            )
        },
        |(server, _, _)| model_pulls(server),
    );
    // Finished pulls change the list of installed models.
    let finished = Memo::new(move |_| match pulls.get() {
        Some(Ok(list)) => list.iter().filter(|p| p.done && p.error.is_none()).count(),
        _ => 0,
    });
    let models = Resource::new(
        move || (server.get(), actions.delete.version().get(), finished.get()),
        |(server, _, _)| ollama_models(server),
    );
    Effect::new(move |_| {
        let running = matches!(pulls.get(), Some(Ok(ref list)) if list.iter().any(|p| !p.done));
        if running || actions.pull.pending().get() {
            later(move || tick.update(|t| *t += 1), 500);
        }
    });
    let error = move || {
        [
            actions.pull.value().get().and_then(Result::err),
            actions.cancel.value().get().and_then(Result::err),
            actions.delete.value().get().and_then(Result::err),
        ]
        .into_iter()
        .flatten()
        .next()
    };

    view! {
        <Title text="Local models" />
        <header class="page-header">
            <h1>"Local models"</h1>
            <p class="muted">"Run a model on this machine with Ollama: nothing you triage leaves it."</p>
        </header>
        <Transition fallback=|| view! { <Loading label="Reading this machine…" /> }>
            {move || Suspend::new(async move {
                match hardware.await {
                    Ok(report) => view! { <MachineCard report /> }.into_any(),
                    Err(e) => view! { <ErrorBox error=e /> }.into_any(),
                }
            })}
        </Transition>
        <section class="card" aria-labelledby="models-heading">
            <h2 id="models-heading">"Models"</h2>
            <Transition fallback=|| view! { <Loading /> }>
                {move || Suspend::new(async move {
                    match servers.await {
                        Ok(list) => view! { <ServerPicker servers=list current=server.get_untracked() /> }.into_any(),
                        Err(e) => view! { <ErrorBox error=e /> }.into_any(),
                    }
                })}
            </Transition>
            {move || error().map(|e| view! { <ErrorBox error=e /> })}
            <PullForm server=server actions />
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match pulls.await {
                        Ok(list) if list.is_empty() => ().into_any(),
                        Ok(list) => view! { <PullList pulls=list server=server.get_untracked() actions /> }.into_any(),
                        Err(e) => view! { <ErrorBox error=e /> }.into_any(),
                    }
                })}
            </Transition>
            <Transition fallback=|| view! { <Loading label="Asking Ollama for its models…" /> }>
                {move || Suspend::new(async move {
                    match models.await {
                        Ok(list) => view! { <ModelList models=list server=server.get_untracked() actions /> }.into_any(),
                        Err(e) => view! {
                            <div data-testid="ollama-error">
                                <ErrorBox error=e />
                                <p class="hint">"Install Ollama from ollama.com and start it (" <code>"ollama serve"</code> "), or add your Ollama server under " <a href="/settings#ai">"Settings → AI providers"</a> " with its base URL."</p>
                            </div>
                        }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn MachineCard(report: HardwareReport) -> impl IntoView {
    let HardwareReport {
        hardware,
        context_tokens,
        recommendations,
    } = report;
    view! {
        <section class="card" aria-labelledby="machine-heading" data-testid="machine">
            <h2 id="machine-heading">"This machine"</h2>
            <HardwareFacts hardware />
            <h3>"Model sizes that fit"</h3>
            <p class="hint">{format!("For conversations of {context_tokens} tokens of context, with Ollama's default 4-bit quantisation. Estimates: a model's page on ollama.com gives its exact download size.")}</p>
            <div class="table-scroll">
                <table class="table" data-testid="recommendations">
                    <thead><tr><th scope="col">"Size"</th><th scope="col">"For example"</th><th scope="col">"Download"</th><th scope="col">"Memory"</th><th scope="col">"Where it runs"</th></tr></thead>
                    <tbody>
                        {recommendations.into_iter().map(|r| view! { <RecommendationRow r /> }).collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
    }
}

#[component]
fn HardwareFacts(hardware: Hardware) -> impl IntoView {
    let ram = match (hardware.ram_total, hardware.ram_available) {
        (Some(t), Some(a)) => format!("{} ({} free now)", format_bytes(t), format_bytes(a)),
        (Some(t), None) => format_bytes(t),
        _ => "unknown".to_owned(),
    };
    let cpu = format!(
        "{} · {} threads",
        hardware
            .cpu_model
            .clone()
            .unwrap_or_else(|| "Unknown CPU".to_owned()),
        hardware.cpu_threads
    );
    view! {
        <dl class="facts">
            <dt>"CPU"</dt><dd data-testid="hw-cpu">{cpu}</dd>
            <dt>"RAM"</dt><dd data-testid="hw-ram">{ram}</dd>
            <dt>"GPU"</dt>
            <dd data-testid="hw-gpu">
                {if hardware.gpus.is_empty() {
                    view! { "None found" }.into_any()
                } else {
                    view! {
                        <ul class="plain">
                            {hardware.gpus.into_iter().map(|g| {
                                let memory = g.vram_total.map(|v| format!(" · {}", format_bytes(v))).unwrap_or_default();
                                let usable = if g.vendor.accelerates() { "" } else { " (not used by Ollama)" };
                                view! { <li>{format!("{}{memory}{usable}", g.name)}</li> }
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            </dd>
        </dl>
        {(!hardware.notes.is_empty()).then(|| view! {
            <ul class="hint" data-testid="hw-notes">
                {hardware.notes.into_iter().map(|n| view! { <li>{n}</li> }).collect_view()}
            </ul>
        })}
    }
}

#[component]
fn RecommendationRow(r: Recommendation) -> impl IntoView {
    let badge = match r.fit {
        Fit::Gpu => "badge ok",
        Fit::Partial | Fit::Cpu => "badge warn",
        Fit::TooBig => "badge muted",
    };
    view! {
        <tr data-testid="recommendation" data-fit=r.fit.as_str() data-recommended=r.recommended.to_string() class:recommended=r.recommended>
            <th scope="row">
                {r.label.clone()}
                {r.recommended.then(|| view! { " " <span class="badge ok" data-testid="suggested">"Suggested"</span> })}
            </th>
            <td>{r.examples.iter().map(|e| view! { <code class="model-name">{e.clone()}</code>" " }).collect_view()}</td>
            <td>{format_bytes(r.download_bytes)}</td>
            <td>{format_bytes(r.memory_needed)}</td>
            <td><span class=badge>{r.fit.label()}</span><br /><span class="muted small">{r.reason.clone()}</span></td>
        </tr>
    }
}

#[component]
fn ServerPicker(servers: Vec<OllamaServer>, current: String) -> impl IntoView {
    let only = servers.len() == 1;
    let shown = servers
        .iter()
        .find(|s| s.provider_id == current)
        .or(servers.first())
        .cloned();
    view! {
        {shown.map(|s| view! {
            <p data-testid="ollama-server">"Server: " <strong>{s.name}</strong> " " <span class="mono muted">{s.base_url}</span>
                {(!s.model.is_empty()).then(|| view! { " · triage model " <code>{s.model}</code> })}
            </p>
        })}
        {(!only).then(|| view! {
            <Form method="GET" action="/ollama" attr:class="inline-form">
                <label>"Ollama server "
                    <select name="server" data-testid="ollama-server-select">
                        {servers.into_iter().map(|s| {
                            let selected = s.provider_id == current;
                            view! { <option value=s.provider_id.clone() selected=selected>{format!("{} ({})", s.name, s.base_url)}</option> }
                        }).collect_view()}
                    </select>
                </label>
                <button type="submit" class="button">"Show"</button>
            </Form>
        })}
    }
}

#[component]
fn PullForm(server: Memo<String>, actions: Actions) -> impl IntoView {
    let examples: Vec<&'static str> = tftsr_core::ai::sizing::MODEL_CLASSES
        .iter()
        .flat_map(|c| c.examples.iter().copied())
        .collect();
    view! {
        <ActionForm action=actions.pull attr:class="inline-form" attr:data-testid="pull-form">
            <input type="hidden" name="server" value=move || server.get() />
            <label for="pull-model">"Pull a model "
                <input id="pull-model" name="model" required=true maxlength="200" list="model-examples"
                    placeholder="llama3.2:3b" autocomplete="off" data-testid="pull-model" />
            </label>
            <datalist id="model-examples">
                {examples.into_iter().map(|e| view! { <option value=e></option> }).collect_view()}
            </datalist>
            <button type="submit" class="button primary" data-testid="pull-button" disabled=move || actions.pull.pending().get()>
                {move || if actions.pull.pending().get() { "Starting…" } else { "Pull" }}
            </button>
        </ActionForm>
    }
}

#[component]
fn PullList(pulls: Vec<PullState>, server: String, actions: Actions) -> impl IntoView {
    view! {
        <ul class="pull-list" data-testid="pulls">
            {pulls.into_iter().map(|p| {
                let percent = p.percent();
                let state = if p.error.is_some() { "failed" } else if p.done { "done" } else { "running" };
                let detail = if p.total > 0 {
                    format!("{} of {}", format_bytes(p.completed), format_bytes(p.total))
                } else {
                    String::new()
                };
                let server = server.clone();
                let model = p.model.clone();
                view! {
                    <li data-testid="pull" data-state=state data-model=p.model.clone()>
                        <strong class="mono">{p.model.clone()}</strong>
                        {match (&p.error, p.done) {
                            (Some(e), _) => view! { <span class="field-error" role="alert">{e.clone()}</span> }.into_any(),
                            (None, true) => view! { <span class="badge ok">"Pulled"</span> }.into_any(),
                            (None, false) => view! {
                                <span class="progress-line">
                                    <progress max="100" value=percent.unwrap_or(0) aria-label=format!("Pulling {}", p.model)
                                        data-testid="pull-progress"></progress>
                                    <span class="muted small" data-testid="pull-status">
                                        {format!("{}{}{}", p.status, percent.map(|v| format!(" · {v}%")).unwrap_or_default(),
                                            if detail.is_empty() { String::new() } else { format!(" · {detail}") })}
                                    </span>
                                </span>
                                <ActionForm action=actions.cancel>
                                    <input type="hidden" name="server" value=server />
                                    <input type="hidden" name="model" value=model />
                                    <button type="submit" class="button" data-testid="cancel-pull">"Cancel"</button>
                                </ActionForm>
                            }.into_any(),
                        }}
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}

#[component]
fn ModelList(models: Vec<ModelInfo>, server: String, actions: Actions) -> impl IntoView {
    if models.is_empty() {
        return view! {
            <p class="empty-inline" data-testid="no-models">"No models on this server yet. Pull one above: the suggested size is a good start."</p>
        }
        .into_any();
    }
    view! {
        <table class="table" data-testid="models">
            <thead><tr><th scope="col">"Model"</th><th scope="col">"Size"</th><th scope="col"><span class="visually-hidden">"Actions"</span></th></tr></thead>
            <tbody>
                {models.into_iter().map(|m| {
                    let server = server.clone();
                    let name = m.name.clone();
                    view! {
                        <tr data-testid="model" data-model=m.name.clone()>
                            <td class="mono">{m.name.clone()}</td>
                            <td>{m.size_bytes.map(format_bytes).unwrap_or_default()}</td>
                            <td>
                                <details class="confirm">
                                    <summary class="button danger" data-testid="delete-model">"Delete"</summary>
                                    <ActionForm action=actions.delete>
                                        <input type="hidden" name="server" value=server />
                                        <input type="hidden" name="model" value=name.clone() />
                                        <button type="submit" class="button danger" data-testid="confirm-delete-model">{format!("Delete {name} from the server")}</button>
                                    </ActionForm>
                                </details>
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}
