//! Filing a new issue.

use leptos::prelude::*;
use leptos_meta::Title;
use tftsr_core::IssueDraft;

use crate::api::issues::CreateIssue;
use crate::components::issue_form::IssueFields;
use crate::components::states::ErrorBox;

#[component]
pub fn NewIssuePage() -> impl IntoView {
    let create = ServerAction::<CreateIssue>::new();
    let error = Signal::derive(move || create.value().get().and_then(Result::err));
    view! {
        <Title text="New issue" />
        <header class="page-header"><h1>"New issue"</h1></header>
        <ActionForm action=create attr:class="card form" attr:novalidate=false>
            {move || error.get().map(|e| view! { <ErrorBox error=e /> })}
            <IssueFields draft=IssueDraft::default() error=error />
            <div class="actions">
                <button type="submit" class="button primary" disabled=move || create.pending().get()>
                    {move || if create.pending().get() { "Filing…" } else { "File issue" }}
                </button>
                <a class="button ghost" href="/issues">"Cancel"</a>
            </div>
        </ActionForm>
    }
}
