//! The document editor: an RCA or post-mortem as Markdown on one side and
//! its sanitised preview on the other, saved automatically a moment after
//! typing stops, with a visible saved state, earlier versions to look at and
//! restore, a section redrafted from TFTSR's data, and exports.
//!
//! Without JavaScript the editor is a plain form: "Save" posts the text.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use tftsr_core::doc::export::ExportFormat;
use tftsr_core::doc::{DocumentKind, render_html};

use crate::AppError;
use crate::api::documents::{
    AiRedraftSection, GenerateDocument, RedraftSection, RestoreVersion, SaveDocument,
    document_version, get_document, save_document,
};
use crate::components::logs::later;
use crate::components::states::{ErrorBox, Loading};
use crate::wire::{DocumentView, VersionContent};

/// How long typing must pause before the text is saved.
const AUTOSAVE_MS: u64 = 1_000;

#[derive(Clone, Copy)]
struct Actions {
    generate: ServerAction<GenerateDocument>,
    save: ServerAction<SaveDocument>,
    redraft: ServerAction<RedraftSection>,
    ai: ServerAction<AiRedraftSection>,
    restore: ServerAction<RestoreVersion>,
}

/// Where the editor's text stands.
#[derive(Clone, Debug, PartialEq)]
enum SaveState {
    Saved(String),
    Dirty,
    Saving,
    Failed(String),
}

impl SaveState {
    fn key(&self) -> &'static str {
        match self {
            Self::Saved(_) => "saved",
            Self::Dirty => "dirty",
            Self::Saving => "saving",
            Self::Failed(_) => "error",
        }
    }
}

pub fn export_href(issue: &str, kind: DocumentKind, format: ExportFormat) -> String {
    format!("/api/export/{issue}/{}/{}", kind.as_str(), format.as_str())
}

#[component]
pub fn DocumentPage() -> impl IntoView {
    let params = use_params_map();
    let issue_id = Memo::new(move |_| params.with(|p| p.get("id").unwrap_or_default()));
    let kind = Memo::new(move |_| params.with(|p| p.get("kind").unwrap_or_default()));
    let actions = Actions {
        generate: ServerAction::new(),
        save: ServerAction::new(),
        redraft: ServerAction::new(),
        ai: ServerAction::new(),
        restore: ServerAction::new(),
    };
    let document = Resource::new(
        move || {
            (
                issue_id.get(),
                kind.get(),
                actions.generate.version().get()
                    + actions.redraft.version().get()
                    + actions.ai.version().get()
                    + actions.restore.version().get()
                    + actions.save.version().get(),
            )
        },
        |(issue, kind, _)| get_document(issue, kind),
    );
    let error = move || {
        [
            actions.generate.value().get().and_then(Result::err),
            actions.redraft.value().get().and_then(Result::err),
            actions.ai.value().get().and_then(Result::err),
            actions.restore.value().get().and_then(Result::err),
            actions.save.value().get().and_then(Result::err),
        ]
        .into_iter()
        .flatten()
        .next()
    };
    view! {
        <Title text="Document" />
        {move || error().map(|e| view! { <ErrorBox error=e /> })}
        <Transition fallback=|| view! { <Loading label="Loading the document…" /> }>
            {move || Suspend::new(async move {
                match document.await {
                    Ok(doc) => view! { <Editor doc actions /> }.into_any(),
                    Err(AppError::NotFound(message)) => view! {
                        <NotDrafted issue_id=issue_id.get_untracked() kind=kind.get_untracked() message actions />
                    }.into_any(),
                    Err(e) => view! { <ErrorBox error=e /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn NotDrafted(issue_id: String, kind: String, message: String, actions: Actions) -> impl IntoView {
    let label = DocumentKind::parse(&kind).map_or("Document", DocumentKind::label);
    view! {
        <header class="page-header">
            <p class="breadcrumb"><a href=format!("/issues/{issue_id}")>"← Back to the issue"</a></p>
            <h1>{label}</h1>
        </header>
        <div class="empty" data-testid="not-drafted">
            <h2>{message}</h2>
            <p>"TFTSR drafts it from the issue, the 5 Whys and their evidence, the timeline, the redacted log lines the whys cite and the action items. Sections it has no data for say what to write."</p>
            <ActionForm action=actions.generate>
                <input type="hidden" name="issue_id" value=issue_id />
                <input type="hidden" name="kind" value=kind />
                <button type="submit" class="button primary" data-testid="generate-document" disabled=move || actions.generate.pending().get()>
                    {move || if actions.generate.pending().get() { "Drafting…" } else { "Draft it now" }}
                </button>
            </ActionForm>
        </div>
    }
}

#[component]
fn Editor(doc: DocumentView, actions: Actions) -> impl IntoView {
    let DocumentView {
        issue_id,
        issue_title,
        kind,
        title,
        content,
        version,
        updated_at,
        versions,
        exports,
        ..
    } = doc;
    let text = RwSignal::new(content);
    let base = RwSignal::new(version);
    let state = RwSignal::new(SaveState::Saved(updated_at.short()));
    let generation = StoredValue::new(0u64);
    let preview = Memo::new(move |_| text.with(|t| render_html(t)));
    let viewing: RwSignal<Option<Result<VersionContent, AppError>>> = RwSignal::new(None);

    let save_now = {
        let issue_id = issue_id.clone();
        move || {
            let (issue, body, at) = (issue_id.clone(), text.get_untracked(), base.get_untracked());
            state.set(SaveState::Saving);
            leptos::task::spawn_local(async move {
                match save_document(issue, kind.as_str().to_owned(), body, at).await {
                    Ok(saved) => {
                        base.set(saved.version);
                        // Typing during the save leaves the text dirty.
                        if state.get_untracked() == SaveState::Saving {
                            state.set(SaveState::Saved(saved.updated_at.short()));
                        }
                    }
                    Err(e) => state.set(SaveState::Failed(e.to_string())),
                }
            });
        }
    };
    let on_input = move |ev: leptos::ev::Event| {
        text.set(event_target_value(&ev));
        state.set(SaveState::Dirty);
        let mine = generation.with_value(|g| g + 1);
        generation.set_value(mine);
        let save_now = save_now.clone();
        later(
            move || {
                if generation.get_value() == mine {
                    save_now();
                }
            },
            AUTOSAVE_MS,
        );
    };
    let status = move || match state.get() {
        SaveState::Saved(at) => format!("Saved · {at}"),
        SaveState::Dirty => "Unsaved changes…".to_owned(),
        SaveState::Saving => "Saving…".to_owned(),
        SaveState::Failed(e) => format!("Not saved: {e}"),
    };
    let kind_str = kind.as_str().to_owned();
    let (id_a, id_b, id_c) = (issue_id.clone(), issue_id.clone(), issue_id.clone());
    let (kind_a, kind_b) = (kind_str.clone(), kind_str.clone());
    let (id_d, kind_d) = (issue_id.clone(), kind_str.clone());
    let id_publish = issue_id.clone();
    view! {
        <header class="page-header">
            <p class="breadcrumb"><a href=format!("/issues/{issue_id}")>{format!("← {issue_title}")}</a></p>
            <h1 data-testid="document-title">{title}</h1>
            <p class="muted">{kind.label()} " · " <span class="save-state" data-testid="save-state" data-state=move || state.get().key() role="status" aria-live="polite">{status}</span></p>
        </header>
        <div class="doc-toolbar">
            <nav class="exports" aria-label="Export">
                "Export: "
                {ExportFormat::ALL.iter().map(|f| view! {
                    <a class="button" href=export_href(&issue_id, kind, *f) download="" data-testid=format!("export-{}", f.as_str()) rel="external">{f.label()}</a>
                }).collect_view()}
            </nav>
            <ActionForm action=actions.redraft attr:class="inline-form">
                <input type="hidden" name="issue_id" value=id_a />
                <input type="hidden" name="kind" value=kind_a />
                <input type="hidden" name="base_version" value=move || base.get() />
                <label>"Section to redraft "
                    <select name="section" data-testid="redraft-section">
                        {kind.sections().iter().map(|s| view! { <option value=s.as_str()>{s.heading()}</option> }).collect_view()}
                    </select>
                </label>
                <button type="submit" class="button" data-testid="redraft" title="Replace this section with a fresh draft from the issue's data; the rest stays as you wrote it">"Redraft from data"</button>
            </ActionForm>
            <ActionForm action=actions.ai attr:class="inline-form">
                <input type="hidden" name="issue_id" value=id_d />
                <input type="hidden" name="kind" value=kind_d />
                <input type="hidden" name="base_version" value=move || base.get() />
                <label>"Section for the AI "
                    <select name="section" data-testid="ai-section">
                        {kind.sections().iter().map(|s| view! { <option value=s.as_str()>{s.heading()}</option> }).collect_view()}
                    </select>
                </label>
                <button type="submit" class="button" data-testid="ai-draft" disabled=move || actions.ai.pending().get()
                    title="Ask the issue's AI provider to write this section from the document; the document passes the PII check first and the send is audited">
                    {move || if actions.ai.pending().get() { "Drafting…" } else { "Draft with AI" }}
                </button>
            </ActionForm>
        </div>
        <ActionForm action=actions.save attr:class="doc-editor">
            <input type="hidden" name="issue_id" value=id_b />
            <input type="hidden" name="kind" value=kind_b />
            <input type="hidden" name="base_version" value=move || base.get() />
            <div class="doc-panes">
                <label class="doc-source">
                    <span class="visually-hidden">"Markdown"</span>
                    <textarea name="content" spellcheck="true" data-testid="doc-source" prop:value=move || text.get() on:input=on_input>{text.get_untracked()}</textarea>
                </label>
                <article class="doc-preview markdown" data-testid="doc-preview" aria-label="Preview" inner_html=move || preview.get()></article>
            </div>
            <button type="submit" class="button primary" data-testid="save-document">"Save"</button>
        </ActionForm>
        <crate::components::publish::PublishPanel issue_id=id_publish kind
            unsaved=Signal::derive(move || matches!(state.get(), SaveState::Dirty | SaveState::Saving)) />
        <section class="card" aria-labelledby="history-heading">
            <h2 id="history-heading">"History"</h2>
            <p class="hint">"A version is kept when the document is drafted, redrafted or restored, and every five minutes of editing."</p>
            <ol class="versions" data-testid="versions">
                {versions.into_iter().map(|v| {
                    let (issue, kind) = (id_c.clone(), kind_str.clone());
                    let (issue2, kind2, vid2) = (id_c.clone(), kind_str.clone(), v.id.clone());
                    let vid = v.id.clone();
                    view! {
                        <li data-testid="version">
                            <span>{format!("v{} · {} · {} · {} bytes", v.version, v.reason, v.saved_at.short(), v.bytes)}</span>
                            <button type="button" class="button" data-testid="view-version" on:click=move |_| {
                                let (issue, kind, vid) = (issue.clone(), kind.clone(), vid.clone());
                                leptos::task::spawn_local(async move {
                                    viewing.set(Some(document_version(issue, kind, vid).await));
                                });
                            }>"View"</button>
                            <ActionForm action=actions.restore>
                                <input type="hidden" name="issue_id" value=issue2 />
                                <input type="hidden" name="kind" value=kind2 />
                                <input type="hidden" name="version_id" value=vid2 />
                                <button type="submit" class="button" data-testid="restore-version">"Restore"</button>
                            </ActionForm>
                        </li>
                    }
                }).collect_view()}
            </ol>
            {move || viewing.get().map(|v| match v {
                Ok(v) => view! {
                    <div class="version-view" data-testid="version-view">
                        <p><strong>{v.title.clone()}</strong> " " <button type="button" class="button" on:click=move |_| viewing.set(None)>"Close"</button></p>
                        <article class="doc-preview markdown" inner_html=render_html(&v.content)></article>
                    </div>
                }.into_any(),
                Err(e) => view! { <ErrorBox error=e /> }.into_any(),
            })}
        </section>
        <section class="card" aria-labelledby="exports-heading">
            <h2 id="exports-heading">"Exports"</h2>
            {if exports.is_empty() {
                view! { <p class="empty-inline">"Not exported yet."</p> }.into_any()
            } else {
                view! {
                    <table class="table" data-testid="exports">
                        <thead><tr><th scope="col">"When"</th><th scope="col">"Format"</th><th scope="col">"Version"</th><th scope="col">"Size"</th><th scope="col">"SHA-256"</th><th scope="col">"To"</th></tr></thead>
                        <tbody>
                            {exports.into_iter().map(|e| view! {
                                <tr>
                                    <td>{e.exported_at.short()}</td>
                                    <td>{e.format}</td>
                                    <td>{format!("v{}", e.version)}</td>
                                    <td>{format!("{} bytes", e.size_bytes)}</td>
                                    <td class="mono details" title=e.sha256.clone()>{e.sha256.chars().take(12).collect::<String>()}</td>
                                    <td>{e.destination}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </section>
    }
}
