use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use tftsr_core::query::PAGE_SIZE_DEFAULT;
use tftsr_core::{Domain, IssueFilter, IssuePage, IssueQuery, IssueStatus, PageCursor, Severity};

use crate::AppError;

/// The issue list's URL parameters, as text: unknown values are ignored
/// rather than failing the page.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default)]
pub struct ListParams {
    pub q: String,
    pub status: String,
    pub severity: String,
    pub domain: String,
    pub cursor: String,
    pub limit: Option<u32>,
}

impl ListParams {
    pub fn to_query(&self) -> IssueQuery {
        let text = self.q.trim();
        IssueQuery {
            filter: IssueFilter {
                status: IssueStatus::parse(&self.status),
                severity: Severity::parse(&self.severity),
                domain: Domain::parse(&self.domain),
                text: (!text.is_empty()).then(|| text.to_owned()),
            },
            cursor: PageCursor::parse(&self.cursor),
            limit: self.limit.unwrap_or(PAGE_SIZE_DEFAULT),
        }
    }

    /// Whether any filter or search is active.
    pub fn is_filtered(&self) -> bool {
        let f = self.to_query().filter;
        f != IssueFilter::default()
    }
}

/// A page of issues, newest first, filtered and searched.
#[server(prefix = "/api", endpoint = "list_issues")]
pub async fn list_issues(params: ListParams) -> Result<IssuePage, AppError> {
    let query = params.to_query();
    crate::services::blocking(move |s| Ok(s.tracker.list(&query)?)).await
}
