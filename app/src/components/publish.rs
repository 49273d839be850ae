//! The document page's "Publish" panel: one button per enabled
//! integration, with its state while publishing, the error if it fails,
//! and a link to the published page, incident or work item.

use leptos::prelude::*;
use tftsr_core::doc::DocumentKind;
use tftsr_core::publish::Service;

use crate::api::images::list_images;
use crate::api::integrations::{PublishDocument, publish_targets};
use crate::components::states::ErrorBox;
use crate::wire::{PublicationView, PublishTarget};

fn button_label(target: &PublishTarget) -> String {
    match (target.service, &target.existing) {
        (Service::Confluence, Some(_)) => "Update the Confluence page".to_owned(),
        (Service::Confluence, None) => "Publish to Confluence".to_owned(),
        (service, _) => format!("Create {} {}", service.label(), service.item()),
    }
}

#[component]
fn PublishedLink(item: PublicationView) -> impl IntoView {
    let label = if item.remote_label.is_empty() {
        item.remote_id.clone()
    } else {
        item.remote_label.clone()
    };
    let version = item
        .remote_version
        .map(|v| format!(" · v{v}"))
        .unwrap_or_default();
    // Only http(s) links are made clickable.
    let url = item.remote_url.clone();
    let safe = url.starts_with("https://") || url.starts_with("http://");
    view! {
        <span class="published" data-testid=format!("published-{}", item.service.as_str())>
            {format!("{}: ", item.service.label())}
            {if safe {
                view! { <a href=url target="_blank" rel="noopener noreferrer">{label}</a> }.into_any()
            } else {
                view! { <span>{label}</span> }.into_any()
            }}
            <span class="muted">{format!("{version} · {}", item.published_at.short())}</span>
        </span>
    }
}

#[component]
pub fn PublishPanel(
    issue_id: String,
    kind: DocumentKind,
    /// True while the editor has text not saved yet: publishing sends the
    /// saved version, so it waits.
    #[prop(into)]
    unsaved: Signal<bool>,
) -> impl IntoView {
    let publish = ServerAction::<PublishDocument>::new();
    let issue_for_targets = issue_id.clone();
    let targets = Resource::new(
        move || publish.version().get(),
        move |_| publish_targets(issue_for_targets.clone(), kind.as_str().to_owned()),
    );
    let error = move || publish.value().get().and_then(Result::err);
    let done = move || publish.value().get().and_then(Result::ok);
    let issue_for_images = issue_id.clone();
    let images = Resource::new(|| (), move |_| list_images(issue_for_images.clone()));
    view! {
        <section class="card" aria-labelledby="publish-heading" data-testid="publish-panel">
            <h2 id="publish-heading">"Publish"</h2>
            <p class="hint">"Sends the saved version, after a check for unreviewed personal data; every send is in the audit log. Set services up in " <a href="/settings/integrations">"Settings → Integrations"</a> "."</p>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    images.await.ok().filter(|list| !list.is_empty()).map(|list| {
                        let cleared = list.iter().filter(|i| i.cleared_at.is_some()).count();
                        let waiting = list.len() - cleared;
                        view! {
                            <p class="hint" data-testid="publish-images">
                                {match cleared {
                                    0 => "No image is cleared to share, so none is attached.".to_owned(),
                                    1 => "1 cleared image is attached, without its metadata.".to_owned(),
                                    n => format!("{n} cleared images are attached, without their metadata."),
                                }}
                                {(waiting > 0).then(|| format!(" {waiting} not checked stay on this machine; clear them on the issue page to include them."))}
                            </p>
                        }
                    })
                })}
            </Transition>
            <Transition fallback=|| view! { <p class="muted">"…"</p> }>
                {move || {
                    let issue_id = issue_id.clone();
                    Suspend::new(async move {
                        match targets.await {
                            Ok(list) if list.is_empty() => view! {
                                <p class="empty-inline" data-testid="no-integrations">"No integration is enabled."</p>
                            }.into_any(),
                            Ok(list) => view! {
                                <ul class="publish-targets">
                                    {list.into_iter().map(|t| {
                                        let label = button_label(&t);
                                        let filed = t.service.tracks_issues() && t.existing.is_some();
                                        let (issue, service) = (issue_id.clone(), t.service.as_str());
                                        view! {
                                            <li>
                                                {(!filed).then(|| view! {
                                                    <ActionForm action=publish attr:class="inline-form">
                                                        <input type="hidden" name="issue_id" value=issue />
                                                        <input type="hidden" name="kind" value=kind.as_str() />
                                                        <input type="hidden" name="service" value=service />
                                                        <button type="submit" class="button" data-testid=format!("publish-{service}") disabled=move || publish.pending().get() || unsaved.get()
                                                            title=move || if unsaved.get() { "Waiting for the document to be saved" } else { "Sends the saved version" }>
                                                            {move || if publish.pending().get() { "Publishing…".to_owned() } else { label.clone() }}
                                                        </button>
                                                    </ActionForm>
                                                })}
                                                {t.existing.map(|item| view! { <PublishedLink item /> })}
                                            </li>
                                        }
                                    }).collect_view()}
                                </ul>
                            }.into_any(),
                            Err(e) => view! { <ErrorBox error=e /> }.into_any(),
                        }
                    })
                }}
            </Transition>
            {move || error().map(|e| view! { <ErrorBox error=e /> })}
            {move || done().map(|item| view! {
                <p class="saved" role="status">"Published. " <PublishedLink item /></p>
            })}
        </section>
    }
}
