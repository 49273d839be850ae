use leptos::prelude::*;

use crate::AppError;
use crate::wire::IssueDetail;

/// One issue with its timeline.
#[server(prefix = "/api", endpoint = "get_issue")]
pub async fn get_issue(id: String) -> Result<IssueDetail, AppError> {
    let id = super::super::parse_id(&id)?;
    crate::services::blocking(move |s| {
        let issue = s.tracker.get(id)?;
        let timeline = s.tracker.timeline(id)?;
        Ok(IssueDetail { issue, timeline })
    })
    .await
}
