use leptos::prelude::*;
use tftsr_core::{Issue, IssueDraft};

use crate::AppError;

/// Saves an edit made on the version last updated at `seen`; if someone
/// changed the issue in between, the edit is refused, not merged blindly.
#[server(prefix = "/api", endpoint = "update_issue")]
pub async fn update_issue(id: String, seen: String, draft: IssueDraft) -> Result<Issue, AppError> {
    let id = super::super::parse_id(&id)?;
    let seen = tftsr_core::Timestamp::parse(&seen)
        .map_err(|_| AppError::BadRequest("The form is out of date; reload the page.".into()))?;
    let issue = crate::services::blocking(move |s| Ok(s.tracker.update(id, &draft, seen)?)).await?;
    crate::api::integrations::after_status_change(&issue);
    Ok(issue)
}
