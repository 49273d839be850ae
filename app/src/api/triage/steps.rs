use leptos::prelude::*;

use crate::AppError;

#[cfg(feature = "ssr")]
fn parse_order(order: &str) -> Result<u8, AppError> {
    order
        .trim()
        .parse::<u8>()
        .ok()
        .filter(|n| (1..=tftsr_core::triage::WHY_LEVELS).contains(n))
        .ok_or_else(|| AppError::BadRequest("A why-step is numbered 1 to 5.".into()))
}

/// Rewrites a recorded why-step.
#[server(prefix = "/api", endpoint = "edit_why_step")]
pub async fn edit_why_step(
    issue_id: String,
    order: String,
    question: String,
    answer: String,
) -> Result<(), AppError> {
    let issue = crate::api::parse_id(&issue_id)?;
    let order = parse_order(&order)?;
    crate::services::blocking(move |s| s.triage.edit_step(issue, order, question, answer)).await
}

/// Drops a why-step and the later ones, and asks its question again.
#[server(prefix = "/api", endpoint = "redo_why_step")]
pub async fn redo_why_step(issue_id: String, order: String) -> Result<(), AppError> {
    let issue = crate::api::parse_id(&issue_id)?;
    let order = parse_order(&order)?;
    crate::services::blocking(move |s| s.triage.redo_from(issue, order)).await
}

/// Names the root cause.
#[server(prefix = "/api", endpoint = "conclude_triage")]
pub async fn conclude_triage(issue_id: String, root_cause: String) -> Result<(), AppError> {
    let issue = crate::api::parse_id(&issue_id)?;
    crate::services::blocking(move |s| s.triage.conclude(issue, root_cause)).await
}
