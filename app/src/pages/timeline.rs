//! An issue's whole timeline: every event in order, with its details (the
//! metadata each event carries, such as a file's hash or an export's
//! format and size). The post-mortem's timeline section is built from the
//! same events.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use tftsr_core::TimelineEvent;

use crate::api::issues::get_issue;
use crate::components::states::{EmptyState, ErrorBox, Loading};

#[component]
pub fn TimelinePage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").unwrap_or_default()));
    let detail = Resource::new(move || id.get(), get_issue);
    view! {
        <Title text="Timeline" />
        <Transition fallback=|| view! { <Loading label="Loading the timeline…" /> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(d) => view! {
                        <header class="page-header">
                            <p class="breadcrumb"><a href=format!("/issues/{}", d.issue.id)>{format!("← {}", d.issue.title)}</a></p>
                            <h1>"Timeline"</h1>
                            <p class="muted">{format!("{} events, oldest first", d.timeline.len())}</p>
                        </header>
                        <FullTimeline events=d.timeline />
                    }.into_any(),
                    Err(e) => view! { <ErrorBox error=e /> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// A metadata value as one line of text.
fn value_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => "—".to_owned(),
        other => other.to_string(),
    }
}

#[component]
fn FullTimeline(events: Vec<TimelineEvent>) -> impl IntoView {
    if events.is_empty() {
        return view! { <EmptyState title="Nothing has happened yet">"Events appear here as the issue is worked: uploads, redactions, the 5 Whys, documents and their exports."</EmptyState> }.into_any();
    }
    view! {
        <ol class="timeline full" data-testid="full-timeline">
            {events.into_iter().map(|e| {
                let details: Vec<(String, String)> = e
                    .metadata
                    .as_object()
                    .map(|m| m.iter().map(|(k, v)| (k.replace('_', " "), value_text(v))).collect())
                    .unwrap_or_default();
                view! {
                    <li class=format!("event event-{}", e.event_type) data-testid="timeline-event" data-type=e.event_type.clone()>
                        <time datetime=e.created_at.to_string()>{e.created_at.to_string()}</time>
                        <strong>{e.label()}</strong>
                        <span>{e.description.clone()}</span>
                        {(!details.is_empty()).then(|| view! {
                            <dl class="facts event-details">
                                {details.into_iter().map(|(k, v)| view! { <dt>{k}</dt><dd class="mono details">{v}</dd> }).collect_view()}
                            </dl>
                        })}
                    </li>
                }
            }).collect_view()}
        </ol>
    }
    .into_any()
}
