//! The fields of an issue, shared by the new-issue and edit forms. Field
//! names follow the server functions' `draft` argument (`draft[title]` …).

use leptos::prelude::*;
use tftsr_core::issue::limits;
use tftsr_core::{Domain, IssueDraft, IssueStatus, Severity};

use crate::AppError;

/// The form's error, as a signal the fields read their messages from.
pub type FormError = Signal<Option<AppError>>;

fn field_error(error: FormError, name: &'static str) -> impl Fn() -> Option<String> + Copy {
    move || error.get().and_then(|e| e.field(name))
}

#[component]
fn FieldMessage(error: FormError, name: &'static str) -> impl IntoView {
    let message = field_error(error, name);
    view! {
        <Show when=move || message().is_some()>
            <p class="field-error" id=format!("{name}-error")>{message}</p>
        </Show>
    }
}

#[component]
fn Choice<T: Copy + Send + Sync + 'static>(
    name: &'static str,
    label: &'static str,
    options: &'static [T],
    selected: String,
    text: fn(T) -> (&'static str, &'static str),
    error: FormError,
) -> impl IntoView {
    let invalid = field_error(error, name);
    view! {
        <label class="field">
            <span>{label}</span>
            <select name=format!("draft[{name}]") required aria-invalid=move || invalid().is_some().to_string()>
                {options
                    .iter()
                    .map(|o| {
                        let (value, text) = text(*o);
                        view! { <option value=value selected=selected == value>{text}</option> }
                    })
                    .collect_view()}
            </select>
            <FieldMessage error name />
        </label>
    }
}

/// The editable fields of an issue. `with_status` adds the status select
/// (the new-issue form files everything as open).
#[component]
pub fn IssueFields(
    draft: IssueDraft,
    error: FormError,
    #[prop(default = false)] with_status: bool,
) -> impl IntoView {
    let title_len = RwSignal::new(draft.title.chars().count());
    let title_invalid = field_error(error, "title");
    let severity = if draft.severity.is_empty() {
        "medium".to_owned()
    } else {
        draft.severity.clone()
    };
    view! {
        <label class="field">
            <span>"Title"</span>
            <input
                name="draft[title]"
                type="text"
                required
                maxlength=limits::TITLE_MAX
                value=draft.title.clone()
                placeholder="e.g. Checkout API returns 502 for EU customers"
                aria-invalid=move || title_invalid().is_some().to_string()
                on:input=move |ev| title_len.set(event_target_value(&ev).chars().count())
            />
            <small class="counter" data-testid="title-counter">{move || format!("{}/{}", title_len.get(), limits::TITLE_MAX)}</small>
            <FieldMessage error name="title" />
        </label>
        <div class="field-row">
            <Choice name="severity" label="Severity" options=Severity::ALL selected=severity
                text=|s: Severity| (s.as_str(), s.label()) error />
            <Choice name="domain" label="Domain" options=Domain::ALL selected=draft.domain.clone()
                text=|d: Domain| (d.as_str(), d.label()) error />
            {with_status.then(|| view! {
                <Choice name="status" label="Status" options=IssueStatus::ALL selected=draft.status.clone()
                    text=|s: IssueStatus| (s.as_str(), s.label()) error />
            })}
        </div>
        <label class="field">
            <span>"Description"</span>
            <textarea name="draft[description]" rows="6" maxlength=limits::DESCRIPTION_MAX
                placeholder="What is happening, since when, who is affected?">{draft.description.clone()}</textarea>
            <FieldMessage error name="description" />
        </label>
        <div class="field-row">
            <label class="field">
                <span>"Category"</span>
                <input name="draft[category]" type="text" maxlength=limits::SHORT_FIELD_MAX value=draft.category.clone()
                    placeholder="e.g. storage" />
                <FieldMessage error name="category" />
            </label>
            <label class="field">
                <span>"Source"</span>
                <input name="draft[source]" type="text" maxlength=limits::SHORT_FIELD_MAX value=draft.source.clone()
                    placeholder="e.g. PagerDuty alert" />
                <FieldMessage error name="source" />
            </label>
            <label class="field">
                <span>"Assigned to"</span>
                <input name="draft[assigned_to]" type="text" maxlength=limits::SHORT_FIELD_MAX value=draft.assigned_to.clone() />
                <FieldMessage error name="assigned_to" />
            </label>
        </div>
        <label class="field">
            <span>"Tags"</span>
            <input name="draft[tags]" type="text" value=draft.tags.clone() placeholder="comma-separated, e.g. postgres, disk" />
            <FieldMessage error name="tags" />
        </label>
    }
}
