//! The issue page's documents card (draft or open the RCA and the
//! post-mortem) and its action items (add, change status, remove), and the
//! dashboard's list of open action items across issues.

use leptos::prelude::*;
use tftsr_core::doc::action::limits;
use tftsr_core::doc::{ActionItem, ActionStatus, DocumentKind};

use crate::api::documents::{
    DeleteActionItem, GenerateDocument, SaveActionItem, get_documents, open_action_items,
};
use crate::components::activity::record_changes;
use crate::components::states::{ErrorBox, Loading};
use crate::wire::DocumentsView;

#[derive(Clone, Copy)]
struct Actions {
    generate: ServerAction<GenerateDocument>,
    save: ServerAction<SaveActionItem>,
    delete: ServerAction<DeleteActionItem>,
}

#[component]
pub fn DocumentsCard(issue_id: String) -> impl IntoView {
    let actions = Actions {
        generate: ServerAction::new(),
        save: ServerAction::new(),
        delete: ServerAction::new(),
    };
    record_changes(move || {
        actions.generate.version().get()
            + actions.save.version().get()
            + actions.delete.version().get()
    });
    let id = issue_id.clone();
    let overview = Resource::new(
        move || actions.save.version().get() + actions.delete.version().get(),
        move |_| get_documents(id.clone()),
    );
    let error = move || {
        [
            actions.generate.value().get().and_then(Result::err),
            actions.delete.value().get().and_then(Result::err),
        ]
        .into_iter()
        .flatten()
        .next()
    };
    view! {
        <section class="card" aria-labelledby="documents-heading" data-testid="documents">
            <h2 id="documents-heading">"Documents"</h2>
            {move || error().map(|e| view! { <ErrorBox error=e /> })}
            <Transition fallback=|| view! { <Loading /> }>
                {move || Suspend::new(async move {
                    match overview.await {
                        Ok(v) => view! { <Overview view=v actions /> }.into_any(),
                        Err(e) => view! { <ErrorBox error=e /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn Overview(view: DocumentsView, actions: Actions) -> impl IntoView {
    let DocumentsView {
        issue_id,
        documents,
        action_items,
        ..
    } = view;
    let id_form = issue_id.clone();
    view! {
        <ul class="doc-list">
            {DocumentKind::ALL.iter().map(|kind| {
                let existing = documents.iter().find(|d| d.kind == *kind).cloned();
                let href = format!("/issues/{issue_id}/documents/{}", kind.as_str());
                let issue = issue_id.clone();
                view! {
                    <li data-testid=format!("doc-{}", kind.as_str())>
                        <strong>{kind.label()}</strong>
                        {match existing {
                            Some(d) => view! {
                                <a class="button" href=href data-testid="open-document">"Open"</a>
                                <span class="muted">{format!("v{} · edited {}", d.version, d.updated_at.short())}</span>
                            }.into_any(),
                            None => view! {
                                <ActionForm action=actions.generate>
                                    <input type="hidden" name="issue_id" value=issue />
                                    <input type="hidden" name="kind" value=kind.as_str() />
                                    <button type="submit" class="button" data-testid="draft-document">{format!("Draft the {}", kind.label().to_lowercase())}</button>
                                </ActionForm>
                            }.into_any(),
                        }}
                    </li>
                }
            }).collect_view()}
        </ul>
        <p><a href=format!("/issues/{issue_id}/timeline")>"Full timeline with details"</a></p>
        <h3>"Action items"</h3>
        {if action_items.is_empty() {
            view! { <p class="empty-inline" data-testid="no-action-items">"No action items yet. Add the follow-up work the root cause calls for; they appear in the documents and on the dashboard."</p> }.into_any()
        } else {
            view! {
                <table class="table" data-testid="action-items">
                    <thead><tr><th scope="col">"Action"</th><th scope="col">"Owner"</th><th scope="col">"Due"</th><th scope="col">"Status"</th><th scope="col"><span class="visually-hidden">"Remove"</span></th></tr></thead>
                    <tbody>
                        {action_items.into_iter().map(|item| view! { <ActionRow item issue_id=issue_id.clone() actions /> }).collect_view()}
                    </tbody>
                </table>
            }.into_any()
        }}
        <ActionItemForm issue_id=id_form actions />
    }
}

#[component]
fn ActionRow(item: ActionItem, issue_id: String, actions: Actions) -> impl IntoView {
    let (issue_a, issue_b) = (issue_id.clone(), issue_id);
    let (id_a, id_b) = (item.id.clone(), item.id.clone());
    let status = item.status;
    let due = item.due_text();
    let owner = if item.owner.is_empty() {
        "—".to_owned()
    } else {
        item.owner.clone()
    };
    view! {
        <tr data-testid="action-item" data-status=status.as_str()>
            <td>{item.description.clone()}</td>
            <td>{owner}</td>
            <td>{due.clone()}</td>
            <td>
                <ActionForm action=actions.save attr:class="inline-form">
                    <input type="hidden" name="issue_id" value=issue_a />
                    <input type="hidden" name="form[id]" value=id_a />
                    <input type="hidden" name="form[description]" value=item.description.clone() />
                    <input type="hidden" name="form[owner]" value=item.owner.clone() />
                    <input type="hidden" name="form[due]" value=due />
                    <select name="form[status]" aria-label="Status" data-testid="action-status">
                        {ActionStatus::ALL.iter().map(|s| view! { <option value=s.as_str() selected=*s == status>{s.label()}</option> }).collect_view()}
                    </select>
                    <button type="submit" class="button" data-testid="action-status-save">"Set"</button>
                </ActionForm>
            </td>
            <td>
                <ActionForm action=actions.delete>
                    <input type="hidden" name="issue_id" value=issue_b />
                    <input type="hidden" name="id" value=id_b />
                    <button type="submit" class="button danger" aria-label="Remove this action item">"Remove"</button>
                </ActionForm>
            </td>
        </tr>
    }
}

#[component]
fn ActionItemForm(issue_id: String, actions: Actions) -> impl IntoView {
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
        <ActionForm action=actions.save attr:class="action-form" attr:data-testid="action-form">
            <input type="hidden" name="issue_id" value=issue_id />
            <input type="hidden" name="form[id]" value="" />
            <label for="action-description">"New action item"
                <input id="action-description" name="form[description]" required=true maxlength=limits::DESCRIPTION_MAX.to_string() data-testid="action-description" />
                {error_for("description")}
            </label>
            <label for="action-owner">"Owner"
                <input id="action-owner" name="form[owner]" maxlength=limits::OWNER_MAX.to_string() data-testid="action-owner" />
                {error_for("owner")}
            </label>
            <label for="action-due">"Due"
                <input id="action-due" name="form[due]" type="date" data-testid="action-due" />
                {error_for("due")}
            </label>
            <input type="hidden" name="form[status]" value="open" />
            <button type="submit" class="button primary" data-testid="add-action">"Add"</button>
        </ActionForm>
    }
}

/// The dashboard's open action items, those due first.
#[component]
pub fn OpenActionItems() -> impl IntoView {
    let items = Resource::new(|| (), |_| open_action_items());
    view! {
        <section class="card" aria-labelledby="open-actions-heading" data-testid="open-action-items">
            <h2 id="open-actions-heading">"Open action items"</h2>
            <Transition fallback=|| view! { <Loading /> }>
                {move || Suspend::new(async move {
                    match items.await {
                        Ok(list) if list.is_empty() => view! { <p class="empty-inline">"Nothing open. Action items added on an issue show here until they are done."</p> }.into_any(),
                        Ok(list) => view! {
                            <ul class="plain">
                                {list.into_iter().map(|o| view! {
                                    <li data-testid="open-action">
                                        <a href=format!("/issues/{}", o.item.issue_id)>{o.item.description.clone()}</a>
                                        <span class="muted">{format!(" · {} · {}{}", o.issue_title, o.item.status.label(),
                                            if o.item.owner.is_empty() { String::new() } else { format!(" · {}", o.item.owner) })}</span>
                                        {o.item.due.map(|_| view! { <span class="badge warn">{format!("due {}", o.item.due_text())}</span> })}
                                    </li>
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(e) => view! { <ErrorBox error=e /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}
