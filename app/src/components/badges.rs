//! Small labels for severity and status.

use leptos::prelude::*;
use tftsr_core::{IssueStatus, Severity};

#[component]
pub fn SeverityBadge(severity: Severity) -> impl IntoView {
    view! { <span class=format!("badge sev-{}", severity.as_str())>{severity.label()}</span> }
}

#[component]
pub fn StatusBadge(status: IssueStatus) -> impl IntoView {
    view! { <span class=format!("badge status-{}", status.as_str())>{status.label()}</span> }
}
