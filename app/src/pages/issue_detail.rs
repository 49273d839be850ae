//! One issue: its fields (editable), status, timeline, and deletion.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use tftsr_core::{Issue, IssueDraft, IssueStatus, TimelineEvent};

use crate::api::issues::{DeleteIssue, SetIssueStatus, UpdateIssue, get_issue};
use crate::components::activity::IssueActivity;
use crate::components::badges::{SeverityBadge, StatusBadge};
use crate::components::issue_form::IssueFields;
use crate::components::logs::LogsSection;
use crate::components::states::{ErrorBox, Loading};
use crate::wire::IssueDetail;

#[component]
pub fn IssueDetailPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").unwrap_or_default()));
    let update = ServerAction::<UpdateIssue>::new();
    let set_status = ServerAction::<SetIssueStatus>::new();
    let delete = ServerAction::<DeleteIssue>::new();
    // Refetch after every successful write.
    let detail = Resource::new(
        move || (id.get(), update.version().get(), set_status.version().get()),
        |(id, _, _)| get_issue(id),
    );
    view! {
        <Transition fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(d) => view! { <Detail detail=d update set_status delete /> }.into_any(),
                    Err(e) => view! {
                        <Title text="Issue" />
                        <ErrorBox error=e />
                        <p><a href="/issues">"Back to the issues"</a></p>
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Detail(
    detail: IssueDetail,
    update: ServerAction<UpdateIssue>,
    set_status: ServerAction<SetIssueStatus>,
    delete: ServerAction<DeleteIssue>,
) -> impl IntoView {
    let IssueDetail { issue, timeline } = detail;
    let activity = IssueActivity::provide();
    view! {
        <Title text=issue.title.clone() />
        <header class="page-header">
            <div>
                <p class="breadcrumb"><a href="/issues">"Issues"</a></p>
                <h1 data-testid="issue-title">{issue.title.clone()}</h1>
                <div class="meta">
                    <SeverityBadge severity=issue.severity />
                    <span data-testid="issue-status"><StatusBadge status=issue.status /></span>
                    <span class="domain">{issue.domain.label()}</span>
                    <span>"Filed " <time datetime=issue.created_at.to_string()>{issue.created_at.short()}</time></span>
                    {issue.resolved_at.map(|t| view! {
                        <span data-testid="resolved-at">"Resolved " <time datetime=t.to_string()>{t.short()}</time></span>
                    })}
                </div>
            </div>
            <a class="button primary" href=format!("/issues/{}/triage", issue.id) data-testid="open-triage">
                "Triage: 5 Whys"
            </a>
        </header>
        <div class="detail-grid">
            <div>
                <StatusActions issue=issue.clone() action=set_status />
                <LogsSection issue_id=issue.id.to_string() />
                <crate::components::images::ImagesSection issue_id=issue.id.to_string() />
                <crate::components::documents::DocumentsCard issue_id=issue.id.to_string() />
                <EditForm issue=issue.clone() action=update />
                <DeleteIssueForm id=issue.id.to_string() action=delete />
            </div>
            <Timeline issue_id=issue.id.to_string() events=timeline activity />
        </div>
    }
}

#[component]
fn StatusActions(issue: Issue, action: ServerAction<SetIssueStatus>) -> impl IntoView {
    let id = issue.id.to_string();
    let error = move || action.value().get().and_then(Result::err);
    view! {
        <section class="card" aria-labelledby="status-heading">
            <h2 id="status-heading">"Status"</h2>
            {move || error().map(|e| view! { <ErrorBox error=e /> })}
            <div class="status-buttons">
                {IssueStatus::ALL
                    .iter()
                    .filter(|s| **s != issue.status)
                    .map(|s| {
                        let label = match s {
                            IssueStatus::Open => "Reopen",
                            IssueStatus::Investigating => "Start investigating",
                            IssueStatus::Resolved => "Mark resolved",
                            IssueStatus::Closed => "Close",
                        };
                        let id = id.clone();
                        view! {
                            <ActionForm action=action>
                                <input type="hidden" name="id" value=id />
                                <input type="hidden" name="status" value=s.as_str() />
                                <button type="submit" class="button" disabled=move || action.pending().get()>{label}</button>
                            </ActionForm>
                        }
                    })
                    .collect_view()}
            </div>
        </section>
    }
}

#[component]
fn EditForm(issue: Issue, action: ServerAction<UpdateIssue>) -> impl IntoView {
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    let saved = move || matches!(action.value().get(), Some(Ok(_)));
    view! {
        <section class="card" aria-labelledby="edit-heading">
            <h2 id="edit-heading">"Details"</h2>
            <ActionForm action=action attr:class="form">
                <input type="hidden" name="id" value=issue.id.to_string() />
                <input type="hidden" name="seen" value=issue.updated_at.to_string() />
                {move || error.get().map(|e| view! { <ErrorBox error=e /> })}
                <IssueFields draft=IssueDraft::from_issue(&issue) error=error with_status=true />
                <div class="actions">
                    <button type="submit" class="button primary" disabled=move || action.pending().get()>
                        {move || if action.pending().get() { "Saving…" } else { "Save changes" }}
                    </button>
                    <Show when=saved>
                        <span class="saved" role="status">"Saved"</span>
                    </Show>
                </div>
            </ActionForm>
        </section>
    }
}

/// Deletion asks first. `<details>` keeps the confirmation working without
/// JavaScript and by keyboard.
#[component]
fn DeleteIssueForm(id: String, action: ServerAction<DeleteIssue>) -> impl IntoView {
    let error = move || action.value().get().and_then(Result::err);
    view! {
        <section class="card danger-zone">
            <details>
                <summary class="button danger">"Delete issue…"</summary>
                <p>"This deletes the issue and its timeline. The audit log keeps a record that it existed. This cannot be undone."</p>
                {move || error().map(|e| view! { <ErrorBox error=e /> })}
                <ActionForm action=action>
                    <input type="hidden" name="id" value=id.clone() />
                    <button type="submit" class="button danger" data-testid="confirm-delete">"Yes, delete it"</button>
                </ActionForm>
            </details>
        </section>
    }
}

/// The issue's events, newest first; read again (in the browser) after
/// each change a section of the page records.
#[component]
fn Timeline(
    issue_id: String,
    events: Vec<TimelineEvent>,
    activity: IssueActivity,
) -> impl IntoView {
    let events = RwSignal::new(events);
    let issue_id = StoredValue::new(issue_id);
    Effect::watch(
        move || activity.get(),
        move |&asked_at, _, _| {
            let id = issue_id.get_value();
            leptos::task::spawn_local(async move {
                // A failed read keeps what is shown, and so does a read
                // overtaken by a later change (its own read will answer); the
                // next change or a reload tries again.
                if let Ok(detail) = get_issue(id).await
                    && activity.get_untracked() == asked_at
                {
                    events.set(detail.timeline);
                }
            });
        },
        false,
    );
    view! {
        <section class="card" aria-labelledby="timeline-heading">
            <h2 id="timeline-heading">"Timeline"</h2>
            <ol class="timeline" data-testid="timeline">
                {move || events
                    .get()
                    .into_iter()
                    .map(|e| view! {
                        <li class=format!("event event-{}", e.event_type)>
                            <time datetime=e.created_at.to_string()>{e.created_at.short()}</time>
                            <strong>{e.label()}</strong>
                            <span>{e.description}</span>
                        </li>
                    })
                    .collect_view()}
            </ol>
        </section>
    }
}
