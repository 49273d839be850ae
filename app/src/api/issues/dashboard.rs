use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use tftsr_core::{DashboardStats, IssueSummary};

use crate::AppError;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Dashboard {
    pub stats: DashboardStats,
    pub recent: Vec<IssueSummary>,
}

/// The dashboard's figures and the most recent issues.
#[server(prefix = "/api", endpoint = "get_dashboard")]
pub async fn get_dashboard() -> Result<Dashboard, AppError> {
    crate::services::blocking(|s| {
        let stats = s.tracker.stats()?;
        let recent = s
            .tracker
            .list(&tftsr_core::IssueQuery {
                limit: 8,
                ..Default::default()
            })?
            .items;
        Ok(Dashboard { stats, recent })
    })
    .await
}
